"""Consent flows in a real browser: no tracker request before consent or after a refusal.

Each test places a fresh browser context (``cookiegate_demo_place``), browses the demo under uvicorn and
judges by what Chromium actually requested (every third-party request is recorded and stubbed by the
harness in ``conftest.py``) and which cookies it holds — not by the HTML the gateway wrote.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Locator, Response, expect

from cookiegate.policy._categories import ADS, ANALYTICS, NECESSARY, SOCIAL

from .conftest import (
    CONSENT_COOKIE,
    HOSTILE_SCRIPT_VARIANTS,
    HOSTILE_VARIANTS,
    TRACKING,
    UNGATED_HOSTILE_PATH,
    UNKNOWN,
    NewVisitor,
    RecordedRequest,
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
    """The banner's submit button for ``action`` (``accept_all``, ``reject_all`` …), not the close "×"."""
    return visitor.page.locator(f'{BANNER} button[name="action"][value="{action}"]:not(.cg-close)')


def choose(visitor: Visitor, action: str) -> Response:
    """Click a banner button; the plain form posts, and the gateway's 303 lands on a page without banner."""
    button = banner_button(visitor, action)
    expect(button).to_be_visible()
    landed = visitor.click_and_wait(button)
    assert landed.status == 200, f"{action} landed on a {landed.status}"
    expect(visitor.page.locator(BANNER)).to_be_hidden()
    return landed


def choose_in_place(visitor: Visitor, action: str) -> None:
    """Click a banner button whose choice changes nothing on the page (a refusal before anything ran):
    with JavaScript the banner posts in the background and goes away without reloading the page."""
    button = banner_button(visitor, action)
    expect(button).to_be_visible()
    button.click()
    expect(visitor.page.locator(BANNER)).to_have_count(0)
    visitor.page.wait_for_load_state("networkidle")
    visitor.check_harness()


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


def variant_of(request: RecordedRequest) -> str:
    """The hostile variant a request came from (its ``cgv`` query parameter), ``"?"`` for none."""
    return parse_qs(urlsplit(request.url).query).get("cgv", ["?"])[0]


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
    choose_in_place(visitor, "reject_all")

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

    visitor.click_and_wait(visitor.page.locator("#cookiegate-settings"))
    withdraw = visitor.page.locator('button[name="action"][value="withdraw"]')
    expect(withdraw).to_be_visible()
    mark = visitor.mark()
    visitor.click_and_wait(withdraw)

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
    landed = choose(visitor, "reject_all")
    post = landed.request.redirected_from
    assert post is not None and post.method == "POST", "Reject all did not post the form"
    post_response = post.response()
    assert post_response is not None and post_response.status == 303, "the consent POST must answer 303"
    assert visitor.page.url == visitor.url("/pricing"), (
        f"303 should return to /pricing, not {visitor.page.url}"
    )
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
    # Cookies no vendor claims (the site's own ``kactuce_session``) are the site's business, not a tag's.
    cookies = [c for c in visitor.cookies() if c.category not in allowed | {NECESSARY, UNKNOWN}]
    assert not cookies, f"cookies outside the allowed {sorted(allowed)}:\n" + format_cookies(cookies)
    # The other way round: the demo carries tags of every tracking category, so each allowed one must
    # actually have run — a gateway that over-blocks is inconsistent with its own answer too.
    fired = {r.category for r in visitor.requests}
    missing = (allowed & TRACKING) - fired
    assert not missing, f"allowed but never fired: {sorted(missing)}\n{visitor.describe()}"
    assert {ANALYTICS, ADS, SOCIAL} & allowed, f"a notice regime with nothing allowed: {state!r}"


def assert_no_refused_variant(visitor: Visitor, allowed: frozenset[str], when: str) -> None:
    """No request of the hostile page's reached a category outside ``allowed``."""
    leaks = [r for r in visitor.requests if r.category not in allowed]
    leaked = sorted({variant_of(r) for r in leaks})
    assert not leaks, f"hostile variants fetched {when}: {leaked}\n" + format_requests(leaks)


@pytest.mark.parametrize(
    "path",
    ["/hostile", "/hostile/chunked", "/hostile/utf16", "/hostile/utf16/chunked"],
    ids=["whole", "tiny-chunks", "utf16-bom", "utf16-charset-tiny-chunks"],
)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_eu_first_visit_fetches_no_hostile_tag_variant(
    new_visitor: NewVisitor, hostile_server_url: str, path: str, javascript: bool
) -> None:
    visitor = new_visitor("FR", javascript=javascript, server=hostile_server_url)
    visitor.goto(path)
    # The page arrived whole (a rewriter that drops or garbles the tail would hide tags by accident).
    expect(visitor.page.locator("#hostile-end")).to_have_text("end · ünïcödé · 漢字")
    expect(visitor.page.locator(BANNER)).to_be_visible()
    state = visitor.consent_state()
    assert_regime(state, country="FR", name="opt-in")

    # Every variant, <style> CSS (url(), @import) included, is the rewriter's job even with a report-only CSP.
    assert_no_refused_variant(visitor, allowed_categories(state), "before consent")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_eu_first_visit_with_enforced_csp_fetches_no_hostile_variant_at_all(
    new_visitor: NewVisitor, hostile_enforced_csp_server_url: str, javascript: bool
) -> None:
    # Defence in depth: with the CSP enforced as well, still nothing of a refused category is fetched.
    visitor = new_visitor("FR", javascript=javascript, server=hostile_enforced_csp_server_url)
    response = visitor.goto("/hostile")
    assert "content-security-policy" in response.headers, f"no enforced CSP: {response.headers}"
    expect(visitor.page.locator("#hostile-end")).to_have_text("end · ünïcödé · 漢字")
    assert_no_refused_variant(visitor, allowed_categories(visitor.consent_state()), "despite the enforced CSP")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_eu_first_visit_fetches_no_hostile_variant_of_a_page_sent_without_a_content_type(
    new_visitor: NewVisitor, hostile_server_url: str, javascript: bool
) -> None:
    # Chromium sniffs a page with no Content-Type and renders it as HTML (the ungated control below fetches
    # every variant). The gateway does not rewrite what it cannot know to be HTML: it sends an enforced CSP
    # that admits only the allowed vendors' hosts, and nothing refused is fetched.
    visitor = new_visitor("FR", javascript=javascript, server=hostile_server_url)
    response = visitor.goto("/hostile/sniffed")
    assert "content-type" not in response.headers and "content-security-policy" in response.headers
    expect(visitor.page.locator("#hostile-end")).to_have_text("end · ünïcödé · 漢字")  # rendered as HTML
    assert_no_refused_variant(visitor, allowed_categories(visitor.consent_state()), "from the sniffed page")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_link_headers_preload_nothing_refused_for_an_eu_first_visit_and_everything_ungated(
    new_visitor: NewVisitor, hostile_server_url: str, javascript: bool
) -> None:
    # Chromium preloads from a page's Link header before it reads any markup: the control shows it does.
    link_variants = {"link-preload-script", "link-preload-image"} if javascript else {"link-preload-image"}
    control = new_visitor("FR", javascript=javascript, server=hostile_server_url)
    control.goto(UNGATED_HOSTILE_PATH + "/linked")
    fetched = {variant_of(r) for r in control.requests}
    assert link_variants <= fetched, f"Chromium did not preload from the Link header: {sorted(fetched)}"

    visitor = new_visitor("FR", javascript=javascript, server=hostile_server_url)
    response = visitor.goto("/hostile/linked")
    assert "link" not in response.headers, f"the vendors' links were sent: {response.headers.get('link')}"
    expect(visitor.page.locator("#hostile-end")).to_have_text("end · ünïcödé · 漢字")
    assert_no_refused_variant(visitor, allowed_categories(visitor.consent_state()), "from the Link header")


@pytest.mark.parametrize(
    "path",
    [UNGATED_HOSTILE_PATH, UNGATED_HOSTILE_PATH + "/utf16", UNGATED_HOSTILE_PATH + "/sniffed"],
    ids=["utf8", "utf16", "no-content-type"],
)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_chromium_fetches_every_hostile_variant_when_the_gateway_is_bypassed(
    new_visitor: NewVisitor, hostile_server_url: str, javascript: bool, path: str
) -> None:
    # The control for the two tests above: if Chromium stopped fetching a variant, its absence behind the
    # gateway would prove nothing, and this test says so.
    visitor = new_visitor("FR", javascript=javascript, server=hostile_server_url)
    visitor.goto(path)
    expect(visitor.page.locator("#hostile-end")).to_have_text("end · ünïcödé · 漢字")  # read as UTF-16 too
    fetched = {variant_of(r) for r in visitor.requests}
    expected = {name for name, _ in HOSTILE_VARIANTS}
    if not javascript:
        expected -= HOSTILE_SCRIPT_VARIANTS
    assert expected <= fetched, f"variants Chromium did not fetch ungated: {sorted(expected - fetched)}"
    unnamed = [r for r in visitor.requests if r.category in (UNKNOWN, NECESSARY)]
    assert not unnamed, "the registry does not classify these variants:\n" + format_requests(unnamed)
