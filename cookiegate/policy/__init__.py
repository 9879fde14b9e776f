"""The pure policy: where a visitor is, which regime applies, what they chose, and what may fire.

No ASGI and no I/O: every function here is tested with tables of inputs and outputs.
"""

from __future__ import annotations

from ._categories import CATEGORIES as CATEGORIES
from ._categories import OPTIONAL_CATEGORIES as OPTIONAL_CATEGORIES
from ._consent import Choice as Choice
from ._consent import ConsentCodec as ConsentCodec
from ._decision import Decision as Decision
from ._decision import Permissions as Permissions
from ._decision import decide as decide
from ._decision import strictest as strictest
from ._jurisdiction import Jurisdiction as Jurisdiction
from ._jurisdiction import Regime as Regime
from ._location import Location as Location
from ._site import SiteHosts as SiteHosts
from ._suggestions import Suggestion as Suggestion
from ._suggestions import suggest_category as suggest_category

__all__ = [
    "CATEGORIES",
    "OPTIONAL_CATEGORIES",
    "Choice",
    "ConsentCodec",
    "Decision",
    "Jurisdiction",
    "Location",
    "Permissions",
    "Regime",
    "SiteHosts",
    "Suggestion",
    "decide",
    "strictest",
    "suggest_category",
]
