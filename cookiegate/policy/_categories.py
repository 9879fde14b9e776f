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


#: What a third-party reference that no registry or catalogue entry claims is decided by: never a category a
#: visitor is asked about (no purpose was disclosed for it), so a consent to every category does not cover it.
UNCLASSIFIED: Final = "unclassified"


def is_category(name: str) -> bool:
    """True when ``name`` is one of :data:`CATEGORIES`."""
    return name in CATEGORIES
