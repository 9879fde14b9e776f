"""Which consent regime applies where: a built-in table, every row overridable in config.

Plain Python, no ASGI: a :class:`Location` goes in, a :class:`Regime` comes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from ._categories import ADS, OPTIONAL_CATEGORIES, SOCIAL
from ._iso3166 import UnknownCodeError, country_code, subdivision_code
from ._location import Location

RegimeKind = Literal["opt-in", "opt-out", "australia", "notice"]

#: Every regime kind, strictest first.
REGIME_KINDS: Final[tuple[RegimeKind, ...]] = ("opt-in", "australia", "opt-out", "notice")

EU_MEMBERS: Final = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
EEA_NON_EU: Final = frozenset({"IS", "LI", "NO"})
#: US states with a comprehensive privacy law that requires honouring a universal opt-out (GPC).
US_OPT_OUT_STATES: Final = frozenset(f"US-{s}" for s in "CA CO CT TX OR MT DE NJ NH MN MD NE IA IN TN KY RI".split())

#: The built-in table. Keys are a subdivision (``US-CA``), a country (``FR``), ``default`` or ``unknown``.
BUILTIN_REGIMES: Final[Mapping[str, RegimeKind]] = {
    **{c: "opt-in" for c in EU_MEMBERS | EEA_NON_EU | {"GB", "CH"}},
    **{s: "opt-out" for s in US_OPT_OUT_STATES},
    "AU": "australia",
    "CA-QC": "opt-in",
    "BR": "opt-in",
    "default": "notice",
    "unknown": "opt-in",
}

# What each kind means, per optional category. ``opt_in``: refused until the visitor says yes.
# ``gpc_refuses``: refused whenever the browser sends Global Privacy Control. In the US regimes the
# GPC/"Do Not Sell or Share" opt-out covers ads and social widgets, because both share personal data with
# third parties for cross-context behavioural advertising.
_OPT_IN: Final[dict[RegimeKind, frozenset[str]]] = {
    "opt-in": frozenset(OPTIONAL_CATEGORIES),
    # The privacy policy promises Australian visitors that nothing is shared for third parties' direct
    # marketing unless they choose so: ads and social widgets are opt-in; analytics is a notice.
    "australia": frozenset({ADS, SOCIAL}),
    "opt-out": frozenset(),
    "notice": frozenset(),
}
_GPC_REFUSES: Final[dict[RegimeKind, frozenset[str]]] = {
    "opt-in": frozenset(),
    "australia": frozenset({ADS, SOCIAL}),
    "opt-out": frozenset({ADS, SOCIAL}),
    "notice": frozenset({ADS, SOCIAL}),
}
#: What the "Do Not Sell or Share" control refuses in opt-out regimes.
SALE_SHARE_CATEGORIES: Final = frozenset({ADS, SOCIAL})


@dataclass(frozen=True, slots=True)
class Regime:
    """A consent regime: what needs consent and which signals are binding, at one place."""

    #: The table row that matched (``"FR"``, ``"US-CA"``, ``"default"``, ``"unknown"``).
    key: str
    kind: RegimeKind

    @property
    def name(self) -> str:
        """The regime kind, as shown to people (``"opt-in"``)."""
        return self.kind

    @property
    def opt_in(self) -> frozenset[str]:
        """Categories refused until the visitor explicitly allows them."""
        return _OPT_IN[self.kind]

    @property
    def gpc_refuses(self) -> frozenset[str]:
        """Categories a Global Privacy Control signal refuses in this regime."""
        return _GPC_REFUSES[self.kind]

    def default_allows(self, category: str) -> bool:
        """Whether ``category`` is on before the visitor has chosen anything."""
        return category in OPTIONAL_CATEGORIES and category not in self.opt_in


#: The strictest regime, used for unknown locations and whenever something fails.
STRICTEST: Final = Regime("unknown", "opt-in")


def validate_regime_table(table: Mapping[str, str]) -> dict[str, RegimeKind]:
    """Check an operator's overrides; raise ``ValueError`` naming the bad row."""
    out: dict[str, RegimeKind] = {}
    for key, kind in table.items():
        if kind not in REGIME_KINDS:
            raise ValueError(f"regimes.{key}: unknown regime {kind!r}; expected one of {', '.join(REGIME_KINDS)}")
        if key not in ("default", "unknown"):
            if key != key.upper():
                raise ValueError(f"regimes.{key}: write codes in upper case ({key.upper()})")
            try:
                subdivision_code(key) if "-" in key else country_code(key)
            except UnknownCodeError as exc:
                raise ValueError(
                    f"regimes.{key}: {exc} (keys are an ISO 3166 country, a subdivision, 'default' or 'unknown')"
                ) from None
        out[key] = kind  # narrowed to RegimeKind by the membership test above
    return out


class Jurisdiction:
    """Resolves a location to its regime with the built-in table plus the operator's overrides."""

    __slots__ = ("_table",)

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self._table: dict[str, RegimeKind] = dict(BUILTIN_REGIMES)
        self._table.update(validate_regime_table(overrides or {}))

    def regime_for(self, location: Location) -> Regime:
        """The most specific row wins: subdivision, then country, then ``default``; no country → ``unknown``."""
        if location.country is None:
            return Regime("unknown", self._table["unknown"])
        if location.subdivision and location.subdivision in self._table:
            return Regime(location.subdivision, self._table[location.subdivision])
        if location.country in self._table:
            return Regime(location.country, self._table[location.country])
        if location.in_eu:
            # A database that knows a new member before this table does still gets the EU treatment.
            return Regime(location.country, "opt-in")
        return Regime("default", self._table["default"])


__all__ = ["BUILTIN_REGIMES", "Jurisdiction", "REGIME_KINDS", "Regime", "RegimeKind", "STRICTEST"]
