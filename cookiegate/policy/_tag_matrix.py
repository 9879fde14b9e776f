"""The marketer's view in theory: which tag fires for which visitor, and why.

Everything here reads the same objects the gateway blocks with (the :class:`~cookiegate.catalog.TagRegistry`,
the :class:`~cookiegate.policy.Jurisdiction` and :func:`~cookiegate.policy.decide`), so the table
cannot drift from what the gateway does. Plain Python, no ASGI: used by ``cookiegate tags``, the admin
dashboard and the admin preview.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ..catalog import TagRegistry, Vendor
from ._categories import NECESSARY, OPTIONAL_CATEGORIES
from ._consent import Choice
from ._decision import Decision, decide
from ._iso3166 import UnknownCodeError, country_code, subdivision_code
from ._jurisdiction import EU_MEMBERS, REGIME_KINDS, Jurisdiction, RegimeKind
from ._location import Location

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
) -> Decision:
    """The decision the gateway makes for a visitor at ``location`` in ``consent`` state."""
    regime = jurisdiction.regime_for(location)
    choice = choice_for(consent, regime_key=regime.key, regime_kind=regime.kind, policy_revision=policy_revision)
    return decide(location=location, regime=regime, choice=choice, gpc=gpc)


@dataclass(frozen=True, slots=True)
class TagRow:
    """One tag for one visitor: does it fire, and why."""

    tag_id: str
    vendor: str
    category: str
    fires: bool
    reason: str


def tag_rows(registry: TagRegistry, decision: Decision) -> list[TagRow]:
    """Every tag of the registry (site tags first, then the catalog) under ``decision``."""
    return [
        TagRow(
            tag_id=v.id,
            vendor=v.name,
            category=v.category,
            fires=decision.allows(v.category),
            reason=decision.reasons.get(v.category, "regime default"),
        )
        for v in registry.vendors
    ]


@dataclass(frozen=True, slots=True)
class MatrixColumn:
    """One column of the matrix: a regime kind (shown by an example place), a consent state, GPC or not."""

    kind: str
    place: str
    consent: str
    gpc: bool

    @property
    def label(self) -> str:
        """Short header: ``opt-in none``, ``opt-out none+GPC``."""
        return f"{self.kind} {self.consent}{'+GPC' if self.gpc else ''}"


@dataclass(frozen=True, slots=True)
class Matrix:
    """Tags × (regime, consent state): ``cells[i][j]`` is the decision for tag ``i`` in column ``j``."""

    columns: tuple[MatrixColumn, ...]
    tags: tuple[Vendor, ...]
    cells: tuple[tuple[TagRow, ...], ...]


def build_matrix(
    registry: TagRegistry,
    jurisdiction: Jurisdiction,
    *,
    kinds: Sequence[str] = REGIME_KINDS,
    policy_revision: str = "1",
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
            decision = decision_for(jurisdiction, location, consent, gpc=gpc, policy_revision=policy_revision)
            columns.append(
                MatrixColumn(kind=decision.regime.kind, place=subdivision or country, consent=consent, gpc=gpc)
            )
            decisions.append(decision)
    cells = tuple(tuple(row) for row in zip(*(tag_rows(registry, d) for d in decisions), strict=True))
    return Matrix(columns=tuple(columns), tags=registry.vendors, cells=cells)


# ------------------------------------------------------------------------------------------------------
# Text rendering (the CLI)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def format_tag_rows(decision: Decision, rows: Sequence[TagRow]) -> str:
    """The ``cookiegate tags --country …`` table, with a header line naming the place and regime."""
    where = decision.location.subdivision or decision.location.country or "unknown location"
    chosen = "no choice yet" if decision.choice is None else f"choice: {decision.choice.action}"
    head = (
        f"{where}: regime {decision.regime.kind} (row {decision.regime.key}); {chosen}; "
        f"GPC {'on' if decision.gpc else 'off'}; allowed: {', '.join(sorted(decision.allowed))}"
    )
    table = _table(
        ("TAG", "VENDOR", "CATEGORY", "FIRES", "REASON"),
        [(r.tag_id, r.vendor, r.category, "yes" if r.fires else "no", r.reason) for r in rows],
    )
    return head + "\n\n" + table


def format_matrix(matrix: Matrix) -> str:
    """The full matrix as text: ``Y`` fires, ``.`` blocked; a legend names each column."""
    legend = [f"  c{i + 1:<2} {col.label:<24} (as a visitor from {col.place})" for i, col in enumerate(matrix.columns)]
    header = ("TAG", "CATEGORY", *(f"c{i + 1}" for i in range(len(matrix.columns))))
    rows = [
        (tag.id, tag.category, *("Y" if cell.fires else "." for cell in cells))
        for tag, cells in zip(matrix.tags, matrix.cells, strict=True)
    ]
    return "columns (Y = fires, . = blocked):\n" + "\n".join(legend) + "\n\n" + _table(header, rows)


__all__ = [
    "CONSENT_ACCEPT",
    "CONSENT_NONE",
    "CONSENT_REJECT",
    "ConsentSpecError",
    "Matrix",
    "MatrixColumn",
    "TagRow",
    "build_matrix",
    "choice_for",
    "decision_for",
    "format_matrix",
    "format_tag_rows",
    "location_for",
    "parse_consent",
    "tag_rows",
]
