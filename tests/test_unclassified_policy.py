"""Unclassified third parties in the pure policy: who may load them (per regime, per ``unclassified`` mode), which
hosts are the site's own, and the CSP that lists the vendors a site uses (issue 19)."""

from __future__ import annotations

import pytest

from cookiegate.policy._catalog import TagRegistry
from cookiegate.policy._categories import ADS, ANALYTICS, FUNCTIONAL, NECESSARY, OPTIONAL_CATEGORIES, SOCIAL
from cookiegate.policy._consent import Choice
from cookiegate.policy._csp import CspBuilder
from cookiegate.policy._csp_listing import HOST_BUDGET, sources_length
from cookiegate.policy._decision import Permissions, decide, strictest
from cookiegate.policy._jurisdiction import Regime
from cookiegate.policy._location import Location
from cookiegate.policy._site import SiteHosts, request_host, source_host

EVERYTHING = frozenset(OPTIONAL_CATEGORIES)


def _choice(categories: frozenset[str], kind: str) -> Choice:
    return Choice(consent_id="c", categories={c: c in categories for c in OPTIONAL_CATEGORIES},
                  policy_revision="1", regime_key="X", regime_kind=kind, action="save", issued_at=1)


# (regime kind, what the visitor granted (None: no choice yet), gpc, mode, unclassified loads)
CASES = [
    ("opt-in", None, False, "block", False),
    ("opt-in", EVERYTHING, False, "block", False),  # "Accept all" covers no purpose that was never disclosed
    ("opt-in", EVERYTHING, False, "ads", True),
    ("opt-in", frozenset({ANALYTICS, SOCIAL}), False, "ads", False),
    ("australia", None, False, "block", False),  # ads and social need consent there
    ("australia", EVERYTHING, False, "block", False),
    ("opt-out", None, False, "block", True),  # nothing needs consent before it fires
    ("opt-out", None, True, "block", False),  # GPC refused ads and social: a refusal might be its purpose
    ("opt-out", None, True, "ads", False),
    ("notice", None, False, "block", True),
    ("notice", None, False, "ads", True),
    ("notice", frozenset({FUNCTIONAL}), False, "block", False),  # the visitor refused something
]


@pytest.mark.parametrize(("kind", "granted", "gpc", "mode", "loads"), CASES)
def test_who_may_load_an_unclassified_third_party(
    kind: str, granted: frozenset[str] | None, gpc: bool, mode: str, loads: bool
) -> None:
    regime = Regime("X", kind)  # type: ignore[arg-type]
    choice = None if granted is None else _choice(granted, kind)
    decision = decide(location=Location(country="FR", in_eu=True), regime=regime, choice=choice, gpc=gpc,
                      unclassified=mode)  # type: ignore[arg-type]
    assert decision.permissions.unclassified is loads
    assert decision.permissions.fires(None, "unclassified") is loads


def test_bots_and_the_fail_safe_load_no_unclassified_third_party() -> None:
    notice = Regime("default", "notice")
    assert not decide(location=Location.unknown(), regime=notice, choice=None, is_bot=True).permissions.unclassified
    assert not strictest().permissions.unclassified


def test_unclassified_is_not_a_category_a_consent_to_every_category_grants() -> None:
    permissions = Permissions(frozenset({NECESSARY, *OPTIONAL_CATEGORIES}))
    assert not permissions.fires(None, "unclassified") and not permissions.everything
    assert Permissions(frozenset({NECESSARY, *OPTIONAL_CATEGORIES}), unclassified=True).everything


# -- the site's own hosts --------------------------------------------------------------------------------

SITE = SiteHosts.of("kactuce.com", ["https://cdn.kactuce-static.net", "*.kactuce.io", "'self'", "https:", "data:",
                                    "*", "https://Fonts.Example.org:443/path"])


@pytest.mark.parametrize(("host", "own"), [
    ("kactuce.com", True),
    ("www.kactuce.com", True),
    ("a.b.kactuce.com", True),
    ("kactuce.com.evil.example", False),
    ("notkactuce.com", False),
    ("cdn.kactuce-static.net", True),
    ("x.cdn.kactuce-static.net", False),  # an exact source names no subdomain
    ("kactuce-static.net", False),
    ("eu.kactuce.io", True),
    ("kactuce.io", False),  # *.kactuce.io covers subdomains only, as CSP reads it
    ("fonts.example.org", True),
    ("example.org", False),
])
def test_the_site_owns_cookie_domain_its_subdomains_and_the_hosts_csp_allow_names(host: str, own: bool) -> None:
    assert SITE.owns(host) is own


def test_sources_naming_no_host_add_nothing() -> None:
    assert SiteHosts.of(None, ["'self'", "https:", "*", "data:", "'unsafe-inline'", "'nonce-abc'"]) == SiteHosts()
    assert source_host("https://*.Kactuce.COM/x") == ("kactuce.com", True)


@pytest.mark.parametrize(("value", "host"), [
    ("www.kactuce.com", "www.kactuce.com"),
    ("WWW.Kactuce.com:8443", "www.kactuce.com"),
    ("127.0.0.1:8000", "127.0.0.1"),
    ("[::1]:8000", "[::1]"),
    ("www.kactuce.com.", "www.kactuce.com"),
    ("", ""),
    (None, ""),
])
def test_the_request_host_is_read_from_the_host_header(value: str | None, host: str) -> None:
    assert request_host(value) == host


# -- the CSP lists what the site uses -------------------------------------------------------------------------


def _policy(registry: TagRegistry) -> str:
    builder = CspBuilder(allow=("https://cdn.kactuce.com",), report_uri="/cookiegate/csp-report",
                         hosts_for=registry.hosts_for_categories, version=lambda: registry.csp.version)
    return builder.policy({NECESSARY, *OPTIONAL_CATEGORIES})


def test_a_vendor_seen_on_a_page_joins_the_csp_of_whoever_allows_its_category() -> None:
    registry = TagRegistry.builtin()
    builder = CspBuilder(allow=(), report_uri="/r", hosts_for=registry.hosts_for_categories,
                         version=lambda: registry.csp.version)
    before = builder.policy({NECESSARY, ADS})
    assert "redditstatic.com" not in before
    assert registry.csp.see((("reddit-pixel", False), ("unclassified:px.invented.example", False), ("-", True)))
    after = builder.policy({NECESSARY, ADS})
    assert " *.redditstatic.com" in after
    assert "redditstatic.com" not in builder.policy({NECESSARY, ANALYTICS})
    # The same page again changes nothing; unknown keys are ignored.
    outcomes = (("reddit-pixel", True),)
    registry.csp.see(outcomes)
    assert not registry.csp.see(outcomes)


def test_seeing_the_whole_catalogue_keeps_the_policy_within_a_proxys_header_buffer() -> None:
    registry = TagRegistry.builtin()
    registry.csp.see(tuple((v.id, True) for v in registry.vendors))
    hosts = registry.hosts_for_categories({NECESSARY, *OPTIONAL_CATEGORIES})
    assert sources_length(hosts) <= HOST_BUDGET
    assert len(_policy(registry)) < 3072
    # What does not fit is named (and reported by a report-only policy), never listed past the budget.
    assert registry.csp.left_out and set(registry.csp.left_out).isdisjoint(registry.csp.listed)
    assert registry.csp.listed[0] == registry.vendors[0].id  # the first vendor a page showed


def test_a_vendor_the_site_shows_takes_the_place_of_a_common_one_it_does_not_use() -> None:
    registry = TagRegistry.builtin()
    defaults = set(registry.csp.listed)
    assert "youtube" in defaults
    shown = [v.id for v in registry.vendors if not v.csp_default][:40]
    registry.csp.see(tuple((i, False) for i in shown))
    assert set(shown[:5]) <= set(registry.csp.listed)
    assert defaults - set(registry.csp.listed)  # some common vendor the site never showed made room


def test_a_site_tag_is_listed_whatever_the_budget() -> None:
    registry = TagRegistry.builtin()
    stripe = registry.vendor("stripe")
    assert stripe is not None
    site = TagRegistry.builtin([stripe])
    site.csp.see(tuple((v.id, True) for v in site.vendors))
    assert "stripe" in site.csp.listed and "js.stripe.com" in site.hosts_for_categories([NECESSARY])
