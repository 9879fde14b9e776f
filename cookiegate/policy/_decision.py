"""The decision: which categories may fire for this request, and why.

``Decision = f(Regime, Choice, signals)``: plain Python, tested with tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ._categories import ADS, CATEGORIES, NECESSARY, OPTIONAL_CATEGORIES, UNCLASSIFIED
from ._consent import Choice
from ._jurisdiction import STRICTEST, Regime
from ._location import Location

# Reasons, as the marketer's view and the debug log show them.
REASON_NECESSARY = "necessary"
REASON_DEFAULT = "regime default"
REASON_CHOICE = "stored choice"
REASON_GPC = "GPC"
REASON_BOT = "bot"
REASON_FAILSAFE = "fail-safe"

#: What an unclassified third party is treated as (``Config.unclassified``): blocked wherever consent is asked,
#: or as the strictest category a site discloses (ads).
UnclassifiedMode = Literal["block", "ads"]
UNCLASSIFIED_MODES: Final[tuple[UnclassifiedMode, ...]] = ("block", "ads")


@dataclass(frozen=True, slots=True)
class Permissions:
    """What may fire, as the gate applies it to each tag: hashable, so what a page became can be remembered
    per set of permissions.

    A vendor fires when the visitor allowed it by name, or allowed its category and did not refuse it by
    name. A third party nobody classified fires only where no consent is asked for (``unclassified``).
    """

    categories: frozenset[str]
    #: Vendor ids allowed although their category is not.
    vendors_on: frozenset[str] = frozenset()
    #: Vendor ids refused although their category is allowed.
    vendors_off: frozenset[str] = frozenset()
    #: Whether third parties that no registry or catalogue entry claims may load.
    unclassified: bool = False
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Permissions key the page, settings, head and banner memos, each asked on every page: hashed once.
        object.__setattr__(self, "_hash", hash((self.categories, self.vendors_on, self.vendors_off, self.unclassified)))

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Permissions], tuple[frozenset[str], frozenset[str], frozenset[str], bool]]:
        # A string's hash differs from process to process: an unpickled copy hashes itself again.
        return Permissions, (self.categories, self.vendors_on, self.vendors_off, self.unclassified)

    def fires(self, vendor_id: str | None, category: str) -> bool:
        """Whether a tag of ``vendor_id`` may fire; None: explicit site markup naming only a category, or, with
        the category ``unclassified``, a third party nobody classified."""
        if vendor_id is not None:
            if vendor_id in self.vendors_on:
                return True
            if vendor_id in self.vendors_off:
                return False
        elif category == UNCLASSIFIED:
            return self.unclassified
        return category in self.categories

    @property
    def everything(self) -> bool:
        """Whether nothing at all can be refused: every category, no vendor refused, unclassified allowed."""
        return self.unclassified and not self.vendors_off and self.categories.issuperset(CATEGORIES)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Which categories fire for one request, with the facts that led there."""

    location: Location
    regime: Regime
    #: The visitor's valid stored choice, or ``None``.
    choice: Choice | None
    gpc: bool = False
    is_bot: bool = False
    allowed: frozenset[str]
    #: Per category, why it is on or off (``regime default``, ``stored choice``, ``GPC``, ``bot`` …).
    reasons: Mapping[str, str] = field(default_factory=dict)
    #: What the gate applies to each tag (see :class:`Permissions`).
    permissions: Permissions

    def allows(self, category: str) -> bool:
        """Whether tags and cookies of ``category`` may fire for this request."""
        return category in self.allowed

    def allows_vendor(self, vendor_id: str, category: str) -> bool:
        """Whether a tag of ``vendor_id`` (in ``category``) may fire: what the gate applies to it."""
        return self.permissions.fires(vendor_id, category)

    @property
    def needs_banner(self) -> bool:
        """True when the visitor should be asked (or told): a person who has not chosen yet."""
        return self.choice is None and not self.is_bot

    @property
    def consent_id(self) -> str | None:
        """The visitor's consent id, once they have chosen."""
        return self.choice.consent_id if self.choice else None

    def as_dict(self) -> dict[str, Any]:
        """JSON view for ``GET {prefix}consent`` and single-page apps."""
        return {
            "location": self.location.as_dict(),
            "regime": {"key": self.regime.key, "name": self.regime.name},
            "consent_id": self.consent_id,
            "policy_revision": self.choice.policy_revision if self.choice else None,
            "chosen": self.choice is not None,
            "gpc": self.gpc,
            "categories": {c: c in self.allowed for c in (NECESSARY, *OPTIONAL_CATEGORIES)},
            "allowed": sorted(self.allowed),
            "vendors": {
                "on": sorted(self.permissions.vendors_on),
                "off": sorted(self.permissions.vendors_off),
            },
            "reasons": dict(self.reasons),
            "needs_banner": self.needs_banner,
        }


def choice_applies(choice: Choice, regime: Regime, category: str) -> bool:
    """Whether ``choice`` may decide ``category`` under ``regime``.

    A category the regime puts behind opt-in is only granted by an affirmative act; an acknowledged
    notice from a visitor who has since travelled into an opt-in region does not count as consent.
    A refusal always counts.
    """
    if not choice.allows(category):
        return True
    return category not in regime.opt_in or choice.explicit


def unclassified_fires(
    regime: Regime, allowed: frozenset[str], mode: UnclassifiedMode = "block", refused_vendors: bool = False
) -> bool:
    """Whether a third party nobody classified may load. ``block``: only where the regime asks no consent before
    any category fires and the visitor refused nothing, no category and no vendor (no purpose was disclosed for
    it, so no consent covers it, and any refusal might be its purpose). ``ads``: whenever the strictest
    category, ads, is allowed."""
    if mode == "ads":
        return ADS in allowed
    return not regime.opt_in and allowed.issuperset(OPTIONAL_CATEGORIES) and not refused_vendors


def _gpc_binds(regime: Regime, category: str, gpc: bool, explicit_grant: bool) -> bool:
    """Whether GPC refuses ``category`` despite a grant: it is binding in the US opt-out states; elsewhere it
    is honoured as the default, and only an explicit later choice on this site overrides it."""
    return (
        gpc
        and category in regime.gpc_refuses
        and not (explicit_grant and regime.kind in ("notice", "australia"))
    )


def decide(
    *,
    location: Location,
    regime: Regime,
    choice: Choice | None,
    gpc: bool = False,
    is_bot: bool = False,
    unclassified: UnclassifiedMode = "block",
    vendor_categories: Mapping[str, str] | None = None,
) -> Decision:
    """Combine the regime, the stored choice and the signals into the allowed categories (and, by
    ``unclassified``, what third parties nobody classified get: :func:`unclassified_fires`).

    ``vendor_categories`` (vendor id: category, from the tag registry) lets the visitor's choices of vendors
    by name count; a vendor it does not know is left to its category (there is no tag to apply it to).
    """
    allowed = {NECESSARY}
    reasons = {NECESSARY: REASON_NECESSARY}
    for category in OPTIONAL_CATEGORIES:
        if is_bot:
            # Crawlers get the page without trackers: nothing consented, nothing to measure.
            on, why = False, REASON_BOT
        elif choice is not None and choice_applies(choice, regime, category):
            on, why = choice.allows(category), REASON_CHOICE
        else:
            on, why = regime.default_allows(category), REASON_DEFAULT
        if on and _gpc_binds(
            regime, category, gpc, choice is not None and choice.explicit and choice.allows(category)
        ):
            on, why = False, REASON_GPC
        if on:
            allowed.add(category)
        reasons[category] = why
    vendors_on: set[str] = set()
    vendors_off: set[str] = set()
    if choice is not None and choice.vendors and vendor_categories and not is_bot:
        for vendor_id, on in choice.vendors.items():
            of = vendor_categories.get(vendor_id)
            if of is None or of not in OPTIONAL_CATEGORIES:
                continue
            if not on:
                if of in allowed:
                    vendors_off.add(vendor_id)
            elif (
                of not in allowed
                # Behind opt-in, a vendor too is granted only by an affirmative act.
                and (of not in regime.opt_in or choice.explicit)
                and not _gpc_binds(regime, of, gpc, choice.explicit)
            ):
                vendors_on.add(vendor_id)
    return Decision(
        location=location,
        regime=regime,
        choice=choice,
        gpc=gpc,
        is_bot=is_bot,
        allowed=frozenset(allowed),
        reasons=reasons,
        permissions=Permissions(
            frozenset(allowed),
            frozenset(vendors_on),
            frozenset(vendors_off),
            unclassified=unclassified_fires(regime, frozenset(allowed), unclassified, bool(vendors_off)),
        ),
    )


def strictest(location: Location | None = None) -> Decision:
    """The fail-closed decision: nothing but ``necessary``, for when anything goes wrong."""
    return Decision(
        location=location or Location.unknown(),
        regime=STRICTEST,
        choice=None,
        allowed=frozenset({NECESSARY}),
        reasons={c: REASON_FAILSAFE for c in OPTIONAL_CATEGORIES} | {NECESSARY: REASON_NECESSARY},
        permissions=Permissions(frozenset({NECESSARY})),
    )
