"""The tag matrix, table-driven for every regime: which category fires for whom, and why."""

from __future__ import annotations

import pytest

from cookiegate.cli._main import main
from cookiegate.cli._tags import format_tag_rows
from cookiegate.policy._catalog import TagRegistry, Vendor
from cookiegate.policy._jurisdiction import Jurisdiction
from cookiegate.policy._tag_matrix import (
    ConsentSpecError,
    build_matrix,
    decision_for,
    location_for,
    parse_consent,
    tag_rows,
    unclassified_row,
)

F, AN, AD, SO = "functional", "analytics", "ads", "social"
ALL = frozenset({F, AN, AD, SO})
NONE: frozenset[str] = frozenset()
REGISTRY = TagRegistry.builtin([Vendor(id="site-heatmap", name="Heatmap", category=AN, url_patterns=("/hm.js",))])

# (country, state, consent, gpc) -> (regime kind, optional categories that fire, reason for a refused "ads")
MATRIX = [
    # opt-in (EU/EEA, UK, CH, Québec, Brazil, unknown): nothing before a choice, GPC adds nothing to consent.
    ("FR", None, "none", False, "opt-in", NONE, "regime default"),
    ("FR", None, "none", True, "opt-in", NONE, "regime default"),
    ("FR", None, "reject", False, "opt-in", NONE, "stored choice"),
    ("FR", None, "accept", False, "opt-in", ALL, None),
    ("FR", None, "accept", True, "opt-in", ALL, None),
    ("DE", None, "analytics", False, "opt-in", frozenset({AN}), "stored choice"),
    ("GB", None, "none", False, "opt-in", NONE, "regime default"),
    ("CA", "CA-QC", "none", False, "opt-in", NONE, "regime default"),
    ("BR", None, "none", False, "opt-in", NONE, "regime default"),
    (None, None, "none", False, "opt-in", NONE, "regime default"),
    # Australia: ads and social opt-in, analytics a notice; GPC refuses what it covers.
    ("AU", None, "none", False, "australia", frozenset({F, AN}), "regime default"),
    ("AU", None, "none", True, "australia", frozenset({F, AN}), "regime default"),
    ("AU", None, "reject", False, "australia", NONE, "stored choice"),
    ("AU", None, "accept", False, "australia", ALL, None),
    ("AU", None, "accept", True, "australia", ALL, None),
    # US opt-out states: on by default, GPC is binding for ads and social even after "accept".
    ("US", "CA", "none", False, "opt-out", ALL, None),
    ("US", "US-CA", "none", True, "opt-out", frozenset({F, AN}), "GPC"),
    ("US", "US-CO", "reject", False, "opt-out", NONE, "stored choice"),
    ("US", "US-CA", "accept", True, "opt-out", frozenset({F, AN}), "GPC"),
    ("US", "US-CA", "analytics,ads", False, "opt-out", frozenset({AN, AD}), None),
    # Notice elsewhere: on by default, GPC honoured as the default, an explicit choice overrides it.
    ("JP", None, "none", False, "notice", ALL, None),
    ("JP", None, "none", True, "notice", frozenset({F, AN}), "GPC"),
    ("JP", None, "reject", False, "notice", NONE, "stored choice"),
    ("JP", None, "accept", True, "notice", ALL, None),
    ("US", "US-NY", "none", False, "notice", ALL, None),
]


@pytest.mark.parametrize(("country", "state", "consent", "gpc", "kind", "fires", "ads_reason"), MATRIX)
def test_matrix_row_fires_exactly_the_allowed_categories_with_the_reason(
    country: str | None,
    state: str | None,
    consent: str,
    gpc: bool,
    kind: str,
    fires: frozenset[str],
    ads_reason: str | None,
) -> None:
    decision = decision_for(Jurisdiction(), location_for(country, state), parse_consent(consent), gpc=gpc)
    assert decision.regime.kind == kind
    rows = tag_rows(REGISTRY, decision)
    assert [r.tag_id for r in rows] == [v.id for v in REGISTRY.vendors]
    for row in rows:
        # necessary vendors (payment, bot protection, CDNs: the catalogue has them now) fire in every regime
        assert row.fires == (row.category in fires or row.category == "necessary"), row
    by_category = {r.category: r for r in rows}
    if ads_reason is not None:
        assert not by_category[AD].fires and by_category[AD].reason == ads_reason
    if consent not in ("none",) and by_category[AN].fires:
        assert by_category[AN].reason == "stored choice"


def test_full_matrix_has_every_regime_kind_and_consent_state_and_matches_single_decisions() -> None:
    matrix = build_matrix(REGISTRY, Jurisdiction())
    kinds = {c.kind for c in matrix.columns}
    assert kinds == {"opt-in", "australia", "opt-out", "notice"}
    assert {(c.consent, c.gpc) for c in matrix.columns if c.kind == "opt-out"} == {
        ("none", False), ("none", True), ("reject", False), ("accept", False), ("accept", True)
    }
    assert len(matrix.cells) == len(REGISTRY.vendors)
    for j, column in enumerate(matrix.columns):
        country, _, sub = column.place.partition("-")
        single = decision_for(Jurisdiction(), location_for(country, column.place if sub else None), column.consent,
                              gpc=column.gpc)
        assert [cells[j].fires for cells in matrix.cells] == [single.allows(v.category) for v in REGISTRY.vendors]


def test_matrix_follows_operator_overrides() -> None:
    matrix = build_matrix(REGISTRY, Jurisdiction({"FR": "notice"}))
    first = matrix.columns[0]
    assert first.place == "FR" and first.kind == "notice"
    assert all(cells[0].fires for cells in matrix.cells)


@pytest.mark.parametrize(
    ("country", "state", "expected"),
    [("fr", None, ("FR", None, True)), ("US", "ca", ("US", "US-CA", False)), (None, "US-TX", ("US", "US-TX", False))],
)
def test_location_from_flags(country: str | None, state: str | None, expected: tuple[str, str | None, bool]) -> None:
    loc = location_for(country, state)
    assert (loc.country, loc.subdivision, loc.in_eu) == expected


@pytest.mark.parametrize(
    ("country", "state"), [("FRA", None), (None, "CA"), ("FR", "US-CA"), ("1X", None)]
)
def test_bad_location_flags_are_refused(country: str | None, state: str | None) -> None:
    with pytest.raises(ConsentSpecError):
        location_for(country, state)


@pytest.mark.parametrize("spec", ["", "marketing", "analytics,tracking", ","])
def test_bad_consent_states_are_refused(spec: str) -> None:
    with pytest.raises(ConsentSpecError):
        parse_consent(spec)


def test_table_names_place_regime_and_reasons() -> None:
    decision = decision_for(Jurisdiction(), location_for("US", "CA"), "none", gpc=True)
    text = format_tag_rows(decision, tag_rows(REGISTRY, decision), unclassified_row(decision))
    assert "US-CA: regime opt-out" in text and "GPC on" in text
    meta = next(line for line in text.splitlines() if line.startswith("meta-pixel "))
    assert meta.split()[-2:] == ["no", "GPC"]


def test_tags_command_prints_the_table_or_the_matrix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", "--country", "FR", "--consent", "analytics"]) == 0
    out = capsys.readouterr().out
    ga = next(line for line in out.splitlines() if line.startswith("google-analytics "))
    assert ga.split()[-3:] == ["yes", "stored", "choice"]
    assert main(["tags"]) == 0
    out = capsys.readouterr().out.splitlines()
    # Readable headers: the regime and its place over each group of consent states, no c1…c20 legend.
    groups = next(line for line in out if "opt-in (FR)" in line)
    assert [g for g in ("opt-in (FR)", "australia (AU)", "opt-out (US-CA)", "notice (JP)") if g in groups] == [
        "opt-in (FR)", "australia (AU)", "opt-out (US-CA)", "notice (JP)"
    ]
    states = next(line for line in out if line.startswith("TAG "))
    assert states.split()[2:] == ["none", "+GPC", "reject", "accept", "+GPC"] * 4
    assert not any(line.lstrip().startswith("c1 ") for line in out)
    assert main(["tags", "--country", "FRANCE"]) == 2
