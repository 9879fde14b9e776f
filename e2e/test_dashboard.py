"""The admin dashboard in real Chromium: off without a token, guarded by it, charts and leak reports."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from e2e.conftest import PLACE_COOKIE, serve
from tests.fixtures.leaky_site import ADMIN_TOKEN

pytestmark = pytest.mark.e2e

DASHBOARD = "/cookiegate/admin"


@pytest.fixture(scope="module")
def admin_url() -> Iterator[str]:
    with serve("tests.fixtures.leaky_site:demo_admin_factory") as url:
        yield url


def test_dashboard_is_not_found_when_no_admin_token_is_configured(browser: Browser, server_url: str) -> None:
    context = browser.new_context(http_credentials={"username": "admin", "password": ADMIN_TOKEN})
    try:
        response = context.new_page().goto(server_url + DASHBOARD)
        assert response is not None and response.status == 404
    finally:
        context.close()


def test_dashboard_refuses_a_wrong_token(browser: Browser, admin_url: str) -> None:
    context = browser.new_context(http_credentials={"username": "admin", "password": "not-the-token-" + "y" * 30})
    try:
        response = context.new_page().goto(admin_url + DASHBOARD)
        assert response is not None and response.status == 401
        assert "basic" in response.headers.get("www-authenticate", "").lower()
    finally:
        context.close()


def _record_consents(browser: Browser, base: str) -> None:
    """Real consent POSTs from visitors placed in three regimes (the demo's visit-as cookie)."""
    for place, action in (("FR", "accept_all"), ("DE", "reject_all"), ("FR", "reject_all"), ("AU", "accept_all")):
        context = browser.new_context()
        try:
            context.add_cookies([{"name": PLACE_COOKIE, "value": place, "url": base + "/"}])
            response = context.request.post(
                base + "/cookiegate/consent",
                form={"action": action, "next": "/"},
                headers={"Origin": base},
                max_redirects=0,
            )
            assert response.status == 303, f"{place} {action}: {response.status} {response.text()}"
        finally:
            context.close()


def test_dashboard_draws_consent_charts_and_lists_a_posted_csp_report(browser: Browser, admin_url: str) -> None:
    _record_consents(browser, admin_url)
    context = browser.new_context(http_credentials={"username": "admin", "password": ADMIN_TOKEN})
    try:
        report = {
            "csp-report": {
                "document-uri": admin_url + "/pricing?utm=1",
                "blocked-uri": "https://evil-tracker.example/pixel.gif",
                "violated-directive": "img-src",
            }
        }
        posted = context.request.post(
            admin_url + "/cookiegate/csp-report",
            data=json.dumps(report),
            headers={"Content-Type": "application/csp-report"},
        )
        assert posted.status == 204
        page = context.new_page()
        response = page.goto(admin_url + DASHBOARD)
        assert response is not None and response.status == 200
        # Charts: one per regime row with decisions (FR, DE, AU), drawn with visible bars.
        charts = page.locator('.charts[data-by="regime"] svg.chart')
        expect(charts).to_have_count(3)
        titles = {charts.nth(i).get_attribute("aria-label") for i in range(3)}
        assert titles == {"regime FR", "regime DE", "regime AU"}
        bar = page.locator('.charts[data-by="regime"] svg.chart rect.bar').first
        box = bar.bounding_box()
        assert box is not None and box["height"] > 10 and box["width"] > 1
        # The CSP report, grouped by host with its page.
        row = page.locator("#leak-table tr", has=page.locator("td.leak-host", has_text="evil-tracker.example"))
        expect(row).to_have_count(1)
        expect(row).to_contain_text("/pricing (1)")
        expect(row).to_contain_text("img-src")
        # The tag matrix and the lint result are there too.
        expect(page.locator("#matrix-table tr")).not_to_have_count(0)
        expect(page.locator("#lint-result")).to_contain_text("No violations")
    finally:
        context.close()


#: How each name cell lays out: the number of line boxes its text takes, and whether the page scrolls sideways.
_LAYOUT = """() => {
  const lines = (el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    return range.getClientRects().length;
  };
  const table = document.querySelector('#matrix-table');
  return {
    viewport: window.innerWidth,
    pageWidth: document.documentElement.scrollWidth,
    tableRight: table.getBoundingClientRect().right,
    wrapped: [...document.querySelectorAll('#matrix-table .name, #tag-counts-table .name')]
      .filter((el) => lines(el) > 1).map((el) => el.textContent),
    names: document.querySelectorAll('#matrix-table .name').length,
    headers: [...document.querySelectorAll('#matrix-table thead tr:last-child th')].map((th) => th.textContent),
  };
}"""


def test_the_tag_matrix_fits_1200_px_without_breaking_a_name(browser: Browser, admin_url: str) -> None:
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, http_credentials={"username": "admin", "password": ADMIN_TOKEN}
    )
    try:
        page = context.new_page()
        # A page view first, so the fired/blocked table has vendor names to lay out too.
        page.goto(admin_url + "/")
        response = page.goto(admin_url + DASHBOARD)
        assert response is not None and response.status == 200
        layout = page.evaluate(_LAYOUT)
        assert layout["names"] > 10
        assert layout["pageWidth"] <= layout["viewport"] == 1200, layout
        assert layout["tableRight"] <= layout["viewport"], layout
        assert layout["wrapped"] == [], layout
        assert layout["headers"] == ["none", "+GPC", "reject", "accept", "+GPC"] * 4
    finally:
        context.close()


def test_the_fired_blocked_table_sorts_by_a_column_and_groups_countries_under_their_vendor(
    browser: Browser, admin_url: str
) -> None:
    context = browser.new_context(http_credentials={"username": "admin", "password": ADMIN_TOKEN})
    try:
        page = context.new_page()
        for place in ("FR", "DE"):
            context.add_cookies([{"name": PLACE_COOKIE, "value": place, "url": admin_url + "/"}])
            page.goto(admin_url + "/")
        page.goto(admin_url + DASHBOARD)
        page.click('#tag-counts-table thead a:has-text("Vendor")')
        expect(page.locator('#tag-counts-table th[aria-sort="ascending"]')).to_have_text("Vendor ▲")
        names = page.locator("#tag-counts-table tr.vendor-total th.name").all_text_contents()
        assert names == sorted(names, key=str.lower) and len(names) > 3
        # The visitors' countries sit under their vendor.
        countries = page.locator("#tag-counts-table tbody.vendor").first.locator("tr.country td:nth-child(3)")
        assert {"FR", "DE"} <= set(countries.all_text_contents())
    finally:
        context.close()
