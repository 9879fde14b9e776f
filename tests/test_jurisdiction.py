from __future__ import annotations

import pytest

from cookiegate.policy._jurisdiction import Jurisdiction
from cookiegate.policy._location import Location


def loc(country: str | None, sub: str | None = None, in_eu: bool = False) -> Location:
    return Location(country=country, subdivision=sub, in_eu=in_eu)


@pytest.mark.parametrize(
    ("location", "key", "kind"),
    [
        (loc("FR", "FR-IDF", True), "FR", "opt-in"),
        (loc("DE", "DE-BY", True), "DE", "opt-in"),
        (loc("IS"), "IS", "opt-in"),
        (loc("LI"), "LI", "opt-in"),
        (loc("NO"), "NO", "opt-in"),
        (loc("GB", "GB-ENG"), "GB", "opt-in"),
        (loc("CH"), "CH", "opt-in"),
        *[(loc("US", f"US-{s}"), f"US-{s}", "opt-out") for s in "CA CO CT TX OR MT DE NJ NH MN MD NE".split()],
        (loc("US", "US-NY"), "default", "notice"),
        (loc("US"), "default", "notice"),
        (loc("AU", "AU-NSW"), "AU", "australia"),
        (loc("CA", "CA-QC"), "CA-QC", "opt-in"),
        (loc("CA", "CA-ON"), "default", "notice"),
        (loc("BR", "BR-SP"), "BR", "opt-in"),
        (loc("JP"), "default", "notice"),
        (loc("XK", in_eu=True), "XK", "opt-in"),
        (Location.unknown(), "unknown", "opt-in"),
    ],
)
def test_builtin_regime_table(location: Location, key: str, kind: str) -> None:
    regime = Jurisdiction().regime_for(location)
    assert (regime.key, regime.kind) == (key, kind)


def test_every_row_is_overridable_and_subdivision_beats_country() -> None:
    j = Jurisdiction({"US-VA": "opt-out", "JP": "opt-in", "default": "opt-in", "unknown": "notice", "FR": "notice"})
    assert j.regime_for(loc("US", "US-VA")).kind == "opt-out"
    assert j.regime_for(loc("JP")).kind == "opt-in"
    assert j.regime_for(loc("IN")).kind == "opt-in"
    assert j.regime_for(Location.unknown()).kind == "notice"
    assert j.regime_for(loc("FR", "FR-IDF", True)).kind == "notice"


@pytest.mark.parametrize(
    ("kind", "defaults"),
    [
        ("opt-in", {"functional": False, "analytics": False, "ads": False, "social": False}),
        ("australia", {"functional": True, "analytics": True, "ads": False, "social": False}),
        ("opt-out", {"functional": True, "analytics": True, "ads": True, "social": True}),
        ("notice", {"functional": True, "analytics": True, "ads": True, "social": True}),
    ],
)
def test_regime_defaults_per_category(kind: str, defaults: dict[str, bool]) -> None:
    from cookiegate.policy._jurisdiction import Regime

    regime = Regime("x", kind)  # type: ignore[arg-type]
    assert {c: regime.default_allows(c) for c in defaults} == defaults
