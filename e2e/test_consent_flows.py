"""Consent flows in a real browser: no tracker request before consent or after a refusal.

Each test places a fresh browser context (``cookiegate_demo_place``), browses the demo under uvicorn and
judges by what Chromium actually requested (every third-party request is recorded and stubbed by the
harness in ``conftest.py``) and which cookies it holds — not by the HTML the gateway wrote.
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from playwright.sync_api import Locator, expect

from cookiegate.categories import ADS, ANALYTICS, NECESSARY, SOCIAL

from .conftest import (
    CONSENT_COOKIE,
    TRACKING,
    NewVisitor,
    SeenCookie,
    Visitor,
    format_cookies,
    format_requests,
)

pytestmark = pytest.mark.e2e

#: The demo pages: between them they carry GTM, GA4, Meta Pixel, Hotjar, Clarity, LinkedIn, TikTok,
#: YouTube, Vimeo, the X timeline and the Facebook page plugin.
PAGES: Final = ("/", "/pricing", "/blog/launch", "/community")

BANNER: Final = "#cookiegate-banner"
#: Cookies the demo (server-set ``_ga`` on ``/``) or the stubbed vendor scripts set once tags run.
TRACKER_COOKIE_NAMES: Final = frozenset({"_ga", "_fbp"})
#: Hosts the demo's <noscript> fallbacks point at: only fetched when JavaScript is off.
NOSCRIPT_PIXEL_HOSTS: Final = frozenset(
    {"www.facebook.com", "www.googletagmanager.com", "px.ads.linkedin.com"}
)


def banner_button(visitor: Visitor, action: str) -> Locator:
    """The banner's submit button for ``action`` (``accept_all``, ``reject_all`` …)."""
    return visitor.page.locator(f'{BANNER} button[name="action"][value="{action}"]')


def choose(visitor: Visitor, action: str) -> None:
    """Click a banner button and wait until whatever page load it causes has gone quiet."""
    button = banner_button(visitor, action)
    expect(button).to_be_visible()
    button.click()
    visitor.settle()
    expect(visitor.page.locator(BANNER)).to_be_hidden()


def allowed_categories(state: dict[str, Any]) -> frozenset[str]:
    """The ``allowed`` categories of a ``GET /cookiegate/consent`` answer."""
    allowed = state.get("allowed")
    assert isinstance(allowed, list), f"consent state has no 'allowed' list: {state!r}"
    return frozenset(str(c) for c in allowed)


def assert_regime(state: dict[str, Any], *, country: str, name: str) -> None:
    """The visitor was placed where the test meant: otherwise a 'nothing fired' result would prove nothing."""
    location = state.get("location") or {}
    regime = state.get("regime") or {}
    assert location.get("country") == country, f"visitor not placed in {country}: {state!r}"
    assert regime.get("name") == name, f"expected the {name} regime for {country}: {state!r}"


def tracker_cookies(visitor: Visitor) -> list[SeenCookie]:
    """Cookies of a tracking category, plus the known tracker names whatever the registry says."""
    return [c for c in visitor.cookies() if c.category in TRACKING or c.name in TRACKER_COOKIE_NAMES]


def test_eu_first_visit_fires_no_tracker_and_sets_no_tracker_cookie_before_consent(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor("FR")
    for path in PAGES:
        visitor.goto(path)
        expect(visitor.page.locator(BANNER)).to_be_visible()
        # The gateway holds back trackers, not the site: first-party scripts still run.
        expect(visitor.page.locator("html")).to_have_attribute("data-site-js", "ready")

    state = visitor.consent_state()
    assert_regime(state, country="FR", name="opt-in")
    allowed = allowed_categories(state)
    assert not allowed & TRACKING, f"opt-in regime allows {allowed} before any choice"

    leaks = visitor.requests_of(TRACKING)
    assert not leaks, "tracker requests before consent:\n" + format_requests(leaks)
    # A third-party request the registry cannot name is no better: nothing but what is allowed may leave.
    unexpected = [r for r in visitor.requests if r.category not in allowed]
    assert not unexpected, (
        "third-party requests outside " + f"{sorted(allowed)}:\n" + format_requests(unexpected)
    )
    cookies = tracker_cookies(visitor)
    assert not cookies, (
        "tracker cookies before consent (incl. the demo's server-set _ga):\n" + format_cookies(cookies)
    )


def test_eu_reject_all_hides_the_banner_and_keeps_every_page_free_of_trackers(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/")
    choose(visitor, "reject_all")

    consent = [c for c in visitor.context.cookies() if c.get("name") == CONSENT_COOKIE]
    assert len(consent) == 1, f"expected one {CONSENT_COOKIE} cookie:\n{visitor.describe()}"
    assert consent[0].get("httpOnly") is True, f"{CONSENT_COOKIE} must be HttpOnly: {consent[0]!r}"
    assert consent[0].get("sameSite") == "Lax", f"{CONSENT_COOKIE} must be SameSite=Lax: {consent[0]!r}"

    visitor.reload()
    expect(visitor.page.locator(BANNER)).to_be_hidden()
    for path in PAGES:
        visitor.goto(path)
        expect(visitor.page.locator(BANNER)).to_be_hidden()
        expect(visitor.page.locator("#cookiegate-settings")).to_be_visible()

    state = visitor.consent_state()
    assert_regime(state, country="FR", name="opt-in")
    assert state.get("chosen") is True, f"the refusal was not stored: {state!r}"
    assert allowed_categories(state) == {NECESSARY}, f"reject all must leave only necessary: {state!r}"

    leaks = visitor.requests_of(TRACKING)
    assert not leaks, "tracker requests after Reject all:\n" + format_requests(leaks)
    unexpected = [r for r in visitor.requests if r.category != NECESSARY]
    assert not unexpected, "third-party requests after Reject all:\n" + format_requests(unexpected)
    cookies = tracker_cookies(visitor)
    assert not cookies, "tracker cookies after Reject all:\n" + format_cookies(cookies)


def test_eu_accept_all_lets_the_tags_and_the_youtube_embed_load(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/")
    assert not visitor.requests_of(TRACKING), "precondition: nothing fires before the choice"

    mark = visitor.mark()
    choose(visitor, "accept_all")
    # The page the visitor lands on after accepting already runs the tags, without another click.
    hosts = {r.host for r in visitor.requests_since(mark)}
    expected = {"www.googletagmanager.com", "connect.facebook.net", "static.hotjar.com", "snap.licdn.com"}
    assert expected <= hosts, f"missing after Accept all: {sorted(expected - hosts)}\n{visitor.describe()}"
    categories = {r.category for r in visitor.requests_since(mark)}
    assert {ANALYTICS, ADS} <= categories, f"analytics and ads should fire:\n{visitor.describe()}"
    assert {"_ga", "_fbp"} <= {c.name for c in visitor.cookies()}, visitor.describe()

    mark = visitor.mark()
    visitor.goto("/blog/launch")
    youtube = [r for r in visitor.requests_since(mark) if r.host == "www.youtube.com"]
    assert any(r.resource_type == "document" for r in youtube), (
        "the YouTube iframe was not loaded after Accept all:\n"
        + format_requests(visitor.requests_since(mark))
    )
    frame = visitor.page.frame_locator('iframe[src*="youtube.com/embed"]')
    expect(frame.locator("body")).to_contain_text("third-party frame stub")
    assert not visitor.page.locator(".cookiegate-placeholder").count(), "placeholders left after Accept all"

    state = visitor.consent_state()
    assert allowed_categories(state) >= TRACKING, f"accept all must allow every category: {state!r}"


def test_california_visitor_with_gpc_gets_no_ads_and_sees_gpc_honoured(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("US-CA", headers={"Sec-GPC": "1"})
    visitor.goto("/")
    expect(visitor.page.locator("#cookiegate-gpc-honoured")).to_be_visible()
    for path in PAGES[1:]:
        visitor.goto(path)

    state = visitor.consent_state()
    assert_regime(state, country="US", name="opt-out")
    assert state.get("gpc") is True, f"the gateway did not see Sec-GPC: {state!r}"
    allowed = allowed_categories(state)
    assert ADS not in allowed, f"GPC must refuse ads in California: {state!r}"

    ads = visitor.requests_of({ADS})
    assert not ads, "ads requests despite GPC:\n" + format_requests(ads)
    outside = [r for r in visitor.requests if r.category not in allowed]
    assert not outside, f"requests outside the allowed {sorted(allowed)}:\n" + format_requests(outside)
    ad_cookies = visitor.cookies_of({ADS}) + [c for c in visitor.cookies() if c.name == "_fbp"]
    assert not ad_cookies, "ads cookies despite GPC:\n" + format_cookies(ad_cookies)


def test_withdrawing_consent_stops_the_tags_and_expires_their_cookies(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/")
    choose(visitor, "accept_all")
    # Precondition: the tags ran and left their cookies, so there is something to withdraw.
    assert visitor.requests_of(TRACKING), "precondition: tags fire after Accept all\n" + visitor.describe()
    assert {"_ga", "_fbp"} <= {c.name for c in visitor.cookies()}, visitor.describe()

    visitor.page.locator("#cookiegate-settings").click()
    visitor.settle()
    withdraw = visitor.page.locator('button[name="action"][value="withdraw"]')
    expect(withdraw).to_be_visible()
    mark = visitor.mark()
    withdraw.click()
    visitor.settle()

    cookies = tracker_cookies(visitor)
    assert not cookies, "tracker cookies survive the withdrawal:\n" + format_cookies(cookies)
    for path in PAGES:
        visitor.goto(path)
    leaks = visitor.requests_of(TRACKING, mark)
    assert not leaks, "tracker requests after withdrawal:\n" + format_requests(leaks)
    cookies = tracker_cookies(visitor)
    assert not cookies, "tracker cookies back after withdrawal:\n" + format_cookies(cookies)
    state = visitor.consent_state()
    assert not allowed_categories(state) & TRACKING, f"withdrawal must refuse tracking again: {state!r}"


def test_without_javascript_the_banner_form_works_and_noscript_pixels_stay_unrequested(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor("FR", javascript=False)
    for path in PAGES:
        visitor.goto(path)
        expect(visitor.page.locator(BANNER)).to_be_visible()
    pixels = [r for r in visitor.requests if r.host in NOSCRIPT_PIXEL_HOSTS]
    assert not pixels, "noscript pixels requested before consent:\n" + format_requests(pixels)
    leaks = visitor.requests_of(TRACKING)
    assert not leaks, "tracker requests before consent (JS off):\n" + format_requests(leaks)

    visitor.goto("/pricing")
    with visitor.page.expect_navigation() as navigation:
        banner_button(visitor, "reject_all").click()
    landed = navigation.value
    assert landed is not None and landed.status == 200, "the form post did not land on a page"
    post = landed.request.redirected_from
    assert post is not None and post.method == "POST", "Reject all did not post the form"
    post_response = post.response()
    assert post_response is not None and post_response.status == 303, "the consent POST must answer 303"
    assert visitor.page.url == visitor.url("/pricing"), (
        f"303 should return to /pricing, not {visitor.page.url}"
    )
    visitor.settle()
    expect(visitor.page.locator(BANNER)).to_be_hidden()
    assert visitor.has_cookie(CONSENT_COOKIE), visitor.describe()

    mark = visitor.mark()
    for path in PAGES:
        visitor.goto(path)
        expect(visitor.page.locator(BANNER)).to_be_hidden()
    after = visitor.requests_since(mark)
    pixels = [r for r in after if r.host in NOSCRIPT_PIXEL_HOSTS]
    assert not pixels, "noscript pixels requested after Reject all:\n" + format_requests(pixels)
    leaks = [r for r in after if r.category in TRACKING]
    assert not leaks, "tracker requests after Reject all (JS off):\n" + format_requests(leaks)


def test_japan_notice_regime_fires_exactly_what_the_consent_endpoint_allows(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("JP")
    for path in PAGES:
        visitor.goto(path)

    state = visitor.consent_state()
    assert_regime(state, country="JP", name="notice")
    allowed = allowed_categories(state)

    outside = [r for r in visitor.requests if r.category not in allowed]
    assert not outside, f"requests outside the allowed {sorted(allowed)}:\n" + format_requests(outside)
    cookies = [c for c in visitor.cookies() if c.category not in allowed | {NECESSARY}]
    assert not cookies, f"cookies outside the allowed {sorted(allowed)}:\n" + format_cookies(cookies)
    # The other way round: the demo carries tags of every tracking category, so each allowed one must
    # actually have run — a gateway that over-blocks is inconsistent with its own answer too.
    fired = {r.category for r in visitor.requests}
    missing = (allowed & TRACKING) - fired
    assert not missing, f"allowed but never fired: {sorted(missing)}\n{visitor.describe()}"
    assert {ANALYTICS, ADS, SOCIAL} & allowed, f"a notice regime with nothing allowed: {state!r}"
