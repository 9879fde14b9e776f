"""What the site's own code builds with, in real Chromium: ``window.cookiegate`` before any script runs, the
events and callbacks, the markup convention, choices per vendor, and an embed's "Load this once" and
"Always allow <vendor>"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import pytest
from playwright.sync_api import expect

from .conftest import CONSENT_COOKIE, ROOT, NewVisitor, serve
from .test_banner import BANNER

pytestmark = pytest.mark.e2e


#: The recipe docs/javascript.md shows: the site's own analytics, loaded only once analytics is allowed.
RECIPE: Final = (ROOT / "docs" / "examples" / "own_analytics.html").read_text("utf-8")
#: A site page: its first script reads the choice, it listens for the events, then the recipe, then markup the
#: gateway runs itself.
API_PAGE: Final = (
    """<!doctype html><html lang="en"><head>
<script>window.firstSeen = window.cookiegate ? cookiegate.choice() : null;</script>
<title>The site's own JavaScript</title></head><body><h1>API</h1>
<script>
window.events = []; window.callbacks = [];
document.addEventListener("cookiegate:consent", function (e) { events.push(["consent", e.detail]); });
document.addEventListener("cookiegate:change", function (e) { events.push(["change", e.detail]); });
cookiegate.onChange(function (choice) { callbacks.push(choice); });
</script>
"""
    + RECIPE
    + """<script type="text/plain" data-category="analytics">window.markupRan = true;</script>
</body></html>"""
)


def api_app_factory() -> Any:
    """:data:`API_PAGE` at ``/api`` behind the gateway (demo defaults), and the site's own analytics script."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from cookiegate import Config, CookieGateMiddleware
    from cookiegate.demo.visit_as import VisitAs

    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(API_PAGE)

    async def analytics(request: Any) -> Response:
        return Response("window.ownAnalytics = true;", media_type="text/javascript")

    site = Starlette(routes=[Route("/api", page), Route("/static/analytics.js", analytics)])
    return VisitAs(CookieGateMiddleware(site, config=Config.demo()))


@pytest.fixture(scope="module")
def api_server_url() -> Iterator[str]:
    with serve("e2e.test_site_javascript:api_app_factory") as url:
        yield url


def test_window_cookiegate_is_there_before_any_script_and_events_follow_each_choice(
    new_visitor: NewVisitor, api_server_url: str
) -> None:
    visitor = new_visitor("FR", server=api_server_url)
    visitor.goto("/api")
    page = visitor.page
    first = page.evaluate("window.firstSeen")
    assert first is not None, "window.cookiegate must exist before the page's first script"
    assert first == page.evaluate("cookiegate.choice()")
    assert first["regime"] == "opt-in" and first["chosen"] is False and first["categories"]["analytics"] is False
    assert page.evaluate("[window.analyticsLoading, window.markupRan]") == [None, None]

    # Reject all: a choice saved (cookiegate:consent), nothing that runs changed (no cookiegate:change).
    page.locator(f'{BANNER} button[value="reject_all"]').first.click()
    expect(page.locator(BANNER)).to_have_count(0)
    events = page.evaluate("events.map(e => e[0])")
    assert events == ["consent"], events
    assert page.evaluate("cookiegate.choice().chosen") is True

    # Reopen the choices from the site's own code, and allow analytics; the recipe keeps the page itself.
    page.evaluate("cookiegate.showSettings()")
    expect(page.locator("#cookiegate-customize")).to_be_visible()
    expect(page.locator(f"{BANNER} input[name=category][value=analytics]")).not_to_be_checked()
    page.locator(f"{BANNER} input[name=category][value=analytics]").check()
    page.locator(f'{BANNER} button[value="save"]').click()
    expect(page.locator(BANNER)).to_have_count(0)
    page.wait_for_function("window.ownAnalytics === true")  # the recipe: the site's own analytics, now
    assert page.evaluate("events.map(e => e[0])") == ["consent", "consent", "change"]
    detail = page.evaluate("events[2][1]")
    assert detail == page.evaluate("events[1][1]") == page.evaluate("callbacks[0]") == page.evaluate(
        "cookiegate.choice()"
    )
    assert detail["categories"]["analytics"] is True and page.evaluate("cookiegate.allowed('analytics')") is True
    assert page.evaluate("cookiegate.allowed('ads')") is False

    # The markup convention: on the next page the gateway itself runs the site's analytics-only script.
    visitor.reload()
    assert page.evaluate("window.markupRan") is True
    assert page.evaluate("window.firstSeen.categories.analytics") is True


def test_a_change_nobody_handles_reloads_the_page_so_the_gateway_starts_what_was_allowed(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/")
    page = visitor.page
    mark = visitor.mark()
    with page.expect_navigation(wait_until="networkidle"):
        page.locator(f'{BANNER} button[value="accept_all"]').click()
    assert visitor.requests_of({"analytics"}, mark), "analytics must start after Accept all"
    assert page.evaluate("cookiegate.allowed('analytics') && cookiegate.choice().chosen") is True


def test_allowing_hotjar_alone_loads_hotjar_and_not_microsoft_clarity(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/")  # Hotjar and Clarity are on the home page: now seen, so listed by vendor
    page = visitor.page
    visitor.goto("/cookiegate/settings?next=/")
    category = page.locator("input[name=category][value=analytics]")
    page.locator(".cg-cat", has=category).locator("summary").click()
    page.locator("input[name=vendor][value=hotjar]").check()
    expect(category).not_to_be_checked()  # the category's box is the sum of its vendors'
    assert category.evaluate("e => e.indeterminate") is True
    mark = visitor.mark()
    visitor.click_and_wait(page.locator('button[value="save"]'))
    state = visitor.consent_state()
    assert state["vendors"]["on"] == ["hotjar"] and "analytics" not in state["allowed"], state
    vendors = {r.vendor for r in visitor.requests_since(mark)}
    assert "hotjar" in vendors, visitor.describe()
    assert "microsoft-clarity" not in vendors, visitor.describe()


def test_load_this_once_shows_the_embed_for_this_page_view_only(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/blog/launch")
    page = visitor.page
    youtube = page.locator('.cookiegate-placeholder[data-cookiegate-vendor="youtube"]')
    expect(youtube).to_contain_text("Content from YouTube")
    expect(youtube.locator("button[type=submit]")).to_have_text("Always allow YouTube embeds")
    mark = visitor.mark()
    with page.expect_request(lambda r: "youtube.com/embed" in r.url):
        youtube.locator("[data-cg-once]").click()
    expect(youtube).to_have_count(0)
    page.wait_for_load_state("networkidle")
    loaded = {r.vendor for r in visitor.requests_since(mark)}
    assert loaded == {"youtube"}, visitor.describe()  # Vimeo, next to it, stays blocked
    assert not visitor.has_cookie(CONSENT_COOKIE)  # nothing stored
    mark = visitor.mark()
    visitor.reload()
    assert not visitor.requests_of({"social"}, mark), "once means once"
    expect(page.locator('.cookiegate-placeholder[data-cookiegate-vendor="youtube"]')).to_be_visible()


def test_always_allow_an_embeds_vendor_grants_that_vendor_and_not_its_whole_category(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/blog/launch")
    page = visitor.page
    mark = visitor.mark()
    visitor.click_and_wait(
        page.locator('.cookiegate-placeholder[data-cookiegate-vendor="youtube"] button[type=submit]')
    )
    loaded = {r.vendor for r in visitor.requests_since(mark)}
    assert "youtube" in loaded and "vimeo" not in loaded, visitor.describe()
    expect(page.locator('.cookiegate-placeholder[data-cookiegate-vendor="vimeo"]')).to_be_visible()
