"""The consent categories cookiegate knows, in display order."""

from __future__ import annotations

from typing import Final

NECESSARY: Final = "necessary"
FUNCTIONAL: Final = "functional"
ANALYTICS: Final = "analytics"
ADS: Final = "ads"
SOCIAL: Final = "social"

#: Every category, ``necessary`` first. ``necessary`` is always on and cannot be refused.
CATEGORIES: Final[tuple[str, ...]] = (NECESSARY, FUNCTIONAL, ANALYTICS, ADS, SOCIAL)

#: The categories a visitor can choose about.
OPTIONAL_CATEGORIES: Final[tuple[str, ...]] = CATEGORIES[1:]


def is_category(name: str) -> bool:
    """True when ``name`` is one of :data:`CATEGORIES`."""
    return name in CATEGORIES
