"""``python -m cookiegate.cli``."""

import sys

from . import main

sys.exit(main())
