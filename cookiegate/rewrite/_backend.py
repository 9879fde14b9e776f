"""Which skip scan this process runs: the C speedup (``_speedups``) or its Python specification (``_scan``).

Chosen here and nowhere else, as markupsafe and msgpack choose theirs: ``COOKIEGATE_PURE_PYTHON=1`` switches
the C off, and a build made from another version of the source (another ``API`` or other name tables) is
refused, so a stale build can never answer for the specification.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Container
from types import ModuleType
from typing import Final

from . import _scan

#: The speedup's API version this package was written against.
SCAN_API: Final = 11


def load_speedups() -> ModuleType | None:
    """The C speedup, unless it is missing, stale or switched off (``COOKIEGATE_PURE_PYTHON=1``)."""
    if os.environ.get("COOKIEGATE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        speedups = importlib.import_module(__package__ + "._speedups")
    except ImportError:
        return None
    if getattr(speedups, "API", None) != SCAN_API or getattr(speedups, "NAMES", None) != _scan.NAME_TABLES:
        return None
    return speedups


_speedups = load_speedups()
#: ``"c"`` (the speedup) or ``"python"``.
SCAN_BACKEND: Final = "c" if _speedups is not None else "python"
#: Where the skip scan stops (``_scan.skip``).
skip: Callable[[bytes, int, Container[bytes] | None], int] = _scan.skip if _speedups is None else _speedups.skip
#: Whether bytes hold the site's consent markup (``_scan.has_explicit_markup``).
has_explicit_markup: Callable[[bytes], bool] = (
    _scan.has_explicit_markup if _speedups is None else _speedups.has_explicit_markup
)
