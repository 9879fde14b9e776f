"""The choices as the visitor sees them: every category with its vendors, ticked as they run now.

Derived from the decision that gates the page, never worked out again: a box is ticked when what it stands
for fires for this visitor (the regime's default before a choice, the stored choice after one), and a
category Global Privacy Control turned off says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .._site_vendors import SiteUsage
from ..policy._categories import OPTIONAL_CATEGORIES
from ..policy._decision import REASON_GPC, Decision


@dataclass(frozen=True, slots=True)
class VendorRow:
    """One vendor's toggle."""

    id: str
    name: str
    on: bool


@dataclass(frozen=True, slots=True)
class CategoryRow:
    """One category's toggle, with its vendors' (the category's box is the sum of theirs)."""

    category: str
    on: bool
    #: Off because of the browser's Global Privacy Control signal.
    gpc: bool
    vendors: tuple[VendorRow, ...]


def choice_rows(decision: Decision, usage: SiteUsage) -> tuple[CategoryRow, ...]:
    """The optional categories in display order, each with the site's vendors in it."""
    return tuple(
        CategoryRow(
            category=category,
            on=decision.allows(category),
            gpc=decision.reasons.get(category) == REASON_GPC,
            vendors=tuple(
                VendorRow(u.vendor.id, u.vendor.name, decision.allows_vendor(u.vendor.id, category))
                for u in usage.in_category(category)
            ),
        )
        for category in OPTIONAL_CATEGORIES
    )


_NONE: Final[frozenset[str]] = frozenset()


def gpc_refused(decision: Decision) -> frozenset[str]:
    """The categories Global Privacy Control turned off for this visitor."""
    if not decision.gpc:
        return _NONE  # only a decision made with the signal gives it as a reason (the head and banner ask)
    return frozenset(c for c, why in decision.reasons.items() if why == REASON_GPC)
