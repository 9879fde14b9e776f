"""The marketer's view in theory: which tag fires for which visitor, and why.

Everything here reads the same objects the gateway blocks with (the :class:`~cookiegate.catalog.TagRegistry`
and its Consent Mode view, the :class:`~cookiegate.policy.Jurisdiction`, :func:`~cookiegate.policy.decide`
and :meth:`~cookiegate.policy.Permissions.fires`), so the table cannot drift from what the gateway does.
Plain Python, no ASGI: used by ``cookiegate tags``, the admin dashboard and the admin preview. Text and JSON
rendering for the command line lives in ``cli/_tags``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ._catalog import TagRegistry, Vendor
from ._categories import NECESSARY, OPTIONAL_CATEGORIES
from ._consent import Choice
from ._consent_mode import ConsentModeClassifier
from ._decision import Decision, UnclassifiedMode, decide
from ._iso3166 import UnknownCodeError, country_code, subdivision_code
from ._jurisdiction import EU_MEMBERS, REGIME_KINDS, Jurisdiction, RegimeKind
from ._location import Location
from ._outcomes import UNCLASSIFIED

#: Consent states a visitor can be in: no choice yet, everything accepted, everything refused.
CONSENT_NONE: Final = "none"
CONSENT_ACCEPT: Final = "accept"
CONSENT_REJECT: Final = "reject"
#: The columns of the matrix, per regime: (consent state, GPC).
MATRIX_STATES: Final[tuple[tuple[str, bool], ...]] = (
    (CONSENT_NONE, False),
    (CONSENT_NONE, True),
    (CONSENT_REJECT, False),
    (CONSENT_ACCEPT, False),
    (CONSENT_ACCEPT, True),
)
#: A place that shows each regime kind with the built-in table (the matrix names the place it used).
EXAMPLE_PLACES: Final[dict[RegimeKind, tuple[str, str | None]]] = {
    "opt-in": ("FR", None),
    "australia": ("AU", None),
    "opt-out": ("US", "US-CA"),
    "notice": ("JP", None),
}


class ConsentSpecError(ValueError):
    """A consent state that is not ``none``, ``accept``, ``reject`` or a list of optional categories."""


def location_for(country: str | None, state: str | None = None) -> Location:
    """A coarse location for ``--country FR`` / ``--state US-CA`` (``--state CA`` with ``--country US``).

    Codes that are not ISO 3166 are refused with a hint (``UK``: did you mean GB?)."""
    try:
        code = country_code(country) if country and country.strip() else None
        subdivision = state.strip().upper() if state and state.strip() else None
        if subdivision and "-" not in subdivision:
            if code is None:
                raise ConsentSpecError(
                    f"state {state!r}: give the country too (--country US) or write US-{subdivision}"
                )
            subdivision = f"{code}-{subdivision}"
        if subdivision:
            subdivision = subdivision_code(subdivision)
            if code is None:
                code = subdivision.split("-", 1)[0]
            elif not subdivision.startswith(code + "-"):
                raise ConsentSpecError(f"state {subdivision!r} is not in country {code}")
    except UnknownCodeError as exc:
        raise ConsentSpecError(str(exc)) from None
    return Location(country=code, in_eu=code in EU_MEMBERS, subdivision=subdivision)


def parse_consent(spec: str) -> str | frozenset[str]:
    """``none`` / ``accept`` / ``reject``, or the set of categories granted (``"analytics,ads"``)."""
    value = spec.strip().lower()
    if value in (CONSENT_NONE, CONSENT_ACCEPT, CONSENT_REJECT):
        return value
    granted = frozenset(c.strip() for c in value.split(",") if c.strip())
    unknown = sorted(granted - set(OPTIONAL_CATEGORIES) - {NECESSARY})
    if not granted or unknown:
        raise ConsentSpecError(
            f"consent {spec!r}: expected none, accept, reject or categories from {', '.join(OPTIONAL_CATEGORIES)}"
        )
    return granted - {NECESSARY}


def choice_for(
    consent: str | frozenset[str], *, regime_key: str, regime_kind: str, policy_revision: str = "1"
) -> Choice | None:
    """The stored choice a visitor in ``consent`` state would carry (``None`` for no choice yet)."""
    if consent == CONSENT_NONE:
        return None
    if consent == CONSENT_ACCEPT:
        categories, action = dict.fromkeys(OPTIONAL_CATEGORIES, True), "accept_all"
    elif consent == CONSENT_REJECT:
        categories, action = dict.fromkeys(OPTIONAL_CATEGORIES, False), "reject_all"
    else:
        categories, action = {c: c in consent for c in OPTIONAL_CATEGORIES}, "save"
    return Choice(
        consent_id="preview",
        categories=categories,
        policy_revision=policy_revision,
        regime_key=regime_key,
        regime_kind=regime_kind,
        action=action,
        issued_at=0,
    )


def decision_for(
    jurisdiction: Jurisdiction,
    location: Location,
    consent: str | frozenset[str] = CONSENT_NONE,
    *,
    gpc: bool = False,
    policy_revision: str = "1",
    unclassified: UnclassifiedMode = "block",
) -> Decision:
    """The decision the gateway makes for a visitor at ``location`` in ``consent`` state (``unclassified``: the
    site's ``unclassified`` setting, as the gateway passes it)."""
    regime = jurisdiction.regime_for(location)
    choice = choice_for(consent, regime_key=regime.key, regime_kind=regime.kind, policy_revision=policy_revision)
    return decide(location=location, regime=regime, choice=choice, gpc=gpc, unclassified=unclassified)


#: Why an unclassified third party is blocked or let through, as the views say it.
UNCLASSIFIED_BLOCKED: Final = "no purpose disclosed: blocked until classified"
UNCLASSIFIED_LET_THROUGH: Final = "let through for this visitor (no consent asked, or unclassified = ads)"
#: The reason shown for Google's tags that load in Consent Mode's denied state.
CONSENT_MODE_DENIED: Final = "Consent Mode advanced: loads with storage denied (cookieless pings)"


@dataclass(frozen=True, slots=True)
class TagRow:
    """One tag for one visitor: does it fire, and why."""

    tag_id: str
    vendor: str
    category: str
    fires: bool
    reason: str
    #: ``"denied"`` for a tag that loads only because Consent Mode "advanced" lets it (no cookies, pings).
    consent_mode: str | None = None


Classifier = TagRegistry | ConsentModeClassifier


def tag_row(vendor: Vendor, decision: Decision, classifier: Classifier | None = None) -> TagRow:
    """Whether ``vendor``'s tags fire under ``decision``, by the gate's own rule: the classifier's view of the
    vendor (Consent Mode "advanced" lets Google's tags load) and :meth:`Permissions.fires`."""
    permissions = decision.permissions
    seen = classifier.view(vendor) if isinstance(classifier, ConsentModeClassifier) else vendor
    fires = permissions.fires(vendor.id, seen.category)
    consent_mode = None
    if vendor.id in permissions.vendors_on:
        reason = "allowed by name"
    elif vendor.id in permissions.vendors_off:
        reason = "refused by name"
    elif fires and not permissions.fires(vendor.id, vendor.category):
        reason, consent_mode = CONSENT_MODE_DENIED, "denied"
    else:
        reason = decision.reasons.get(vendor.category, "regime default")
    return TagRow(vendor.id, vendor.name, vendor.category, fires, reason, consent_mode)


def tag_rows(registry: TagRegistry, decision: Decision, classifier: Classifier | None = None) -> list[TagRow]:
    """Every tag of the registry (site tags first, then the catalog) under ``decision``."""
    return [tag_row(v, decision, classifier) for v in registry.vendors]


def unclassified_row(decision: Decision) -> TagRow:
    """What a third party that no registry or catalogue entry claims gets under ``decision``."""
    fires = decision.permissions.unclassified
    return TagRow(
        UNCLASSIFIED, "Unclassified third parties", UNCLASSIFIED, fires,
        UNCLASSIFIED_LET_THROUGH if fires else UNCLASSIFIED_BLOCKED,
    )  # fmt: skip


#: How the matrix heads each consent state (the GPC variant sits right after the state it modifies).
STATE_LABELS: Final[dict[tuple[str, bool], str]] = {
    (CONSENT_NONE, False): "none",
    (CONSENT_NONE, True): "+GPC",
    (CONSENT_REJECT, False): "reject",
    (CONSENT_ACCEPT, False): "accept",
    (CONSENT_ACCEPT, True): "+GPC",
}


@dataclass(frozen=True, slots=True)
class MatrixColumn:
    """One column of the matrix: a regime kind (shown by an example place), a consent state, GPC or not."""

    kind: str
    place: str
    consent: str
    gpc: bool

    @property
    def label(self) -> str:
        """Full name: ``opt-in none``, ``opt-out none+GPC``."""
        return f"{self.kind} {self.consent}{'+GPC' if self.gpc else ''}"

    @property
    def state(self) -> str:
        """The consent state as the second header row shows it, under its regime: ``none``, ``+GPC``."""
        return STATE_LABELS.get((self.consent, self.gpc), self.label)


@dataclass(frozen=True, slots=True)
class Matrix:
    """Tags × (regime, consent state): ``cells[i][j]`` is the decision for tag ``i`` in column ``j``."""

    columns: tuple[MatrixColumn, ...]
    tags: tuple[Vendor, ...]
    cells: tuple[tuple[TagRow, ...], ...]
    #: Per column, what unclassified third parties get.
    unclassified: tuple[TagRow, ...] = ()

    @property
    def groups(self) -> list[tuple[str, str, int]]:
        """``(kind, place, number of columns)`` for each run of columns of one regime (the first header row)."""
        out: list[tuple[str, str, int]] = []
        for column in self.columns:
            if out and out[-1][:2] == (column.kind, column.place):
                out[-1] = (column.kind, column.place, out[-1][2] + 1)
            else:
                out.append((column.kind, column.place, 1))
        return out


def build_matrix(
    registry: TagRegistry,
    jurisdiction: Jurisdiction,
    *,
    kinds: Sequence[str] = REGIME_KINDS,
    policy_revision: str = "1",
    classifier: Classifier | None = None,
    unclassified: UnclassifiedMode = "block",
) -> Matrix:
    """The full matrix, one example place per regime kind; operator overrides are honoured.

    If an override moved the example place to another kind (``FR = "notice"``), the column is labelled with
    the kind the place now has, so the matrix shows what visitors there actually get.
    """
    columns: list[MatrixColumn] = []
    decisions: list[Decision] = []
    for kind in kinds:
        country, subdivision = EXAMPLE_PLACES[kind]  # type: ignore[index]
        location = location_for(country, subdivision)
        for consent, gpc in MATRIX_STATES:
            decision = decision_for(
                jurisdiction, location, consent, gpc=gpc, policy_revision=policy_revision, unclassified=unclassified
            )
            columns.append(
                MatrixColumn(kind=decision.regime.kind, place=subdivision or country, consent=consent, gpc=gpc)
            )
            decisions.append(decision)
    cells = tuple(tuple(row) for row in zip(*(tag_rows(registry, d, classifier) for d in decisions), strict=True))
    return Matrix(
        columns=tuple(columns),
        tags=registry.vendors,
        cells=cells,
        unclassified=tuple(unclassified_row(d) for d in decisions),
    )


__all__ = [
    "CONSENT_ACCEPT",
    "CONSENT_NONE",
    "CONSENT_REJECT",
    "ConsentSpecError",
    "Matrix",
    "MatrixColumn",
    "TagRow",
    "tag_row",
    "unclassified_row",
    "build_matrix",
    "choice_for",
    "decision_for",
    "location_for",
    "parse_consent",
    "tag_rows",
]
