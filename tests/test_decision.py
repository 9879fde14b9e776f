from __future__ import annotations

import time

import pytest

from cookiegate.policy._consent import Choice
from cookiegate.policy._decision import decide, strictest
from cookiegate.policy._jurisdiction import Regime, RegimeKind
from cookiegate.policy._location import Location

OPT = ("functional", "analytics", "ads", "social")


def ch(action: str, allowed: set[str], kind: str = "opt-in") -> Choice:
    return Choice(
        consent_id="abcdefghijklmnop",
        categories={c: c in allowed for c in OPT},
        policy_revision="1",
        regime_key="x",
        regime_kind=kind,
        action=action,
        issued_at=int(time.time()),
    )


def allowed(kind: RegimeKind, choice: Choice | None = None, gpc: bool = False, bot: bool = False) -> set[str]:
    d = decide(location=Location.unknown(), regime=Regime("x", kind), choice=choice, gpc=gpc, is_bot=bot)
    assert "necessary" in d.allowed
    return set(d.allowed) - {"necessary"}


ALL = set(OPT)


@pytest.mark.parametrize(
    ("kind", "choice", "gpc", "expected"),
    [
        ("opt-in", None, False, set()),
        ("opt-in", ch("accept_all", ALL), False, ALL),
        ("opt-in", ch("reject_all", set()), False, set()),
        ("opt-in", ch("save", {"analytics"}), False, {"analytics"}),
        ("opt-in", ch("accept_all", ALL), True, ALL),  # explicit consent in the EU stands
        # An acknowledged US notice does not become consent after travelling to the EU.
        ("opt-in", ch("acknowledge", ALL, "notice"), False, set()),
        ("opt-out", None, False, ALL),
        ("opt-out", None, True, {"functional", "analytics"}),
        ("opt-out", ch("accept_all", ALL), True, {"functional", "analytics"}),  # GPC is binding in US states
        ("opt-out", ch("opt_out", {"functional", "analytics"}), False, {"functional", "analytics"}),
        ("australia", None, False, {"functional", "analytics"}),
        ("australia", ch("accept_all", ALL), False, ALL),
        ("australia", ch("save", {"ads"}), False, {"ads"}),
        ("notice", None, False, ALL),
        ("notice", None, True, {"functional", "analytics"}),
        ("notice", ch("accept_all", ALL, "notice"), True, ALL),
        ("notice", ch("reject_all", set(), "notice"), False, set()),
    ],
)
def test_decision_table(kind: RegimeKind, choice: Choice | None, gpc: bool, expected: set[str]) -> None:
    assert allowed(kind, choice, gpc) == expected


@pytest.mark.parametrize("kind", ["opt-in", "opt-out", "australia", "notice"])
def test_bots_get_nothing_and_no_banner(kind: RegimeKind) -> None:
    d = decide(location=Location.unknown(), regime=Regime("x", kind), choice=None, is_bot=True)
    assert d.allowed == {"necessary"} and not d.needs_banner


def test_banner_needed_until_a_choice_exists() -> None:
    regime = Regime("FR", "opt-in")
    assert decide(location=Location.unknown(), regime=regime, choice=None).needs_banner
    assert not decide(location=Location.unknown(), regime=regime, choice=ch("reject_all", set())).needs_banner


def test_strictest_allows_only_necessary_and_explains_why() -> None:
    d = strictest()
    assert d.allowed == {"necessary"} and d.regime.kind == "opt-in"
    assert set(d.reasons.values()) == {"necessary", "fail-safe"}
    assert d.as_dict()["categories"] == {"necessary": True, **dict.fromkeys(OPT, False)}


# -- vendors chosen by name ----------------------------------------------------------------------------

CATEGORY_OF = {"hotjar": "analytics", "microsoft-clarity": "analytics", "meta-pixel": "ads", "youtube": "social"}


def by_name(action: str, allowed: set[str], vendors: dict[str, bool], kind: str = "opt-in") -> Choice:
    return Choice(
        consent_id="abcdefghijklmnop",
        categories={c: c in allowed for c in OPT},
        policy_revision="1",
        regime_key="x",
        regime_kind=kind,
        action=action,
        issued_at=int(time.time()),
        vendors=vendors,
    )


@pytest.mark.parametrize(
    ("kind", "choice", "gpc", "fires", "refused"),
    [
        # Hotjar alone: Hotjar fires, Microsoft Clarity (same category) does not.
        ("opt-in", by_name("save", set(), {"hotjar": True}), False, {"hotjar"}, {"microsoft-clarity"}),
        # Analytics but not Clarity.
        ("opt-in", by_name("save", {"analytics"}, {"microsoft-clarity": False}), False, {"hotjar"},
         {"microsoft-clarity"}),
        # Behind opt-in, an acknowledged notice grants no vendor either.
        ("opt-in", by_name("acknowledge", set(), {"hotjar": True}, "notice"), False, set(), {"hotjar"}),
        # GPC is binding in the US opt-out states, for a vendor allowed by name too.
        ("opt-out", by_name("save", {"analytics"}, {"meta-pixel": True}), True, {"hotjar"}, {"meta-pixel"}),
        # In a notice region an explicit grant by name overrides GPC, as a category grant does.
        ("notice", by_name("allow", {"analytics"}, {"youtube": True}, "notice"), True, {"youtube"}, {"meta-pixel"}),
        # A vendor the registry does not know is left to its category.
        ("opt-in", by_name("save", set(), {"unknown-vendor": True}), False, set(), {"hotjar"}),
    ],
)
def test_a_vendor_chosen_by_name_fires_or_not_whatever_its_category(
    kind: RegimeKind, choice: Choice, gpc: bool, fires: set[str], refused: set[str]
) -> None:
    d = decide(location=Location.unknown(), regime=Regime("x", kind), choice=choice, gpc=gpc,
               vendor_categories=CATEGORY_OF)
    assert {v for v in CATEGORY_OF if d.allows_vendor(v, CATEGORY_OF[v])} >= fires
    assert not {v for v in refused if d.allows_vendor(v, CATEGORY_OF.get(v, "analytics"))}
    assert "unknown-vendor" not in d.permissions.vendors_on


def test_bots_get_no_vendor_either() -> None:
    choice = by_name("save", set(), {"hotjar": True})
    d = decide(location=Location.unknown(), regime=Regime("x", "notice"), choice=choice, is_bot=True,
               vendor_categories=CATEGORY_OF)
    assert not d.allows_vendor("hotjar", "analytics") and not d.permissions.vendors_on


def test_the_json_view_names_the_vendors_chosen_by_name() -> None:
    d = decide(location=Location.unknown(), regime=Regime("x", "opt-in"),
               choice=by_name("save", {"analytics"}, {"hotjar": True, "microsoft-clarity": False}),
               vendor_categories=CATEGORY_OF)
    # Hotjar's "yes" is its category's: nothing by name. Clarity's "no" is one.
    assert d.as_dict()["vendors"] == {"on": [], "off": ["microsoft-clarity"]}
