"""What the visitor sees is what runs, in real Chromium: the first layer's size on a phone, the panel ticked as
the regime runs, GPC said once, the confirmation after a refusal, and the cookie statement on a phone."""

from __future__ import annotations

from typing import Final

import pytest
from playwright.sync_api import Page, expect

from .conftest import PLACE_COOKIE, NewVisitor, Visitor
from .test_banner import BANNER, VIEWPORTS
from .test_reconsent import old_revision_cookie

pytestmark = pytest.mark.e2e

#: Every bundled language; German is the longest.
LANGUAGES: Final = ("en", "de", "fr", "es", "it", "nl", "pl", "pt", "pt-BR")
#: Every first layer: variant -> (place, extra headers, with a cookie from an older policy revision).
FIRST_LAYERS: Final[dict[str, tuple[str, dict[str, str], bool]]] = {
    "opt-in": ("FR", {}, False),
    "opt-in+reconsent": ("FR", {}, True),
    "opt-out": ("US-CA", {}, False),
    "opt-out+gpc": ("US-CA", {"Sec-GPC": "1"}, False),
    "australia": ("AU", {}, False),
    "notice": ("JP", {}, False),
    "notice+gpc": ("JP", {"Sec-GPC": "1"}, False),
}
#: The largest share of a 360×740 screen the first layer may cover.
MAX_SHARE: Final = 0.35


def test_the_first_layer_covers_at_most_35_percent_of_a_phone_in_every_variant_and_language(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor(None)
    page, context = visitor.page, visitor.context
    page.set_viewport_size(VIEWPORTS["mobile"])
    too_big = []
    for variant, (place, headers, reconsent) in FIRST_LAYERS.items():
        for lang in LANGUAGES:
            context.clear_cookies()
            cookies = [{"name": PLACE_COOKIE, "value": place, "url": visitor.url("/")}]
            if reconsent:
                cookies.append({"name": "cookiegate_consent", "value": old_revision_cookie(), "url": visitor.url("/")})
            context.add_cookies(cookies)  # type: ignore[arg-type]
            page.set_extra_http_headers({"Accept-Language": lang, **headers})
            page.goto(visitor.url("/pricing"), wait_until="load")  # layout only: no need to wait for the network
            banner = page.locator(BANNER)
            expect(banner).to_have_attribute("lang", lang)
            measured = page.evaluate(
                """() => { const b = document.getElementById('cookiegate-banner'), r = b.getBoundingClientRect();
                    const inside = [...b.querySelectorAll('.cg-form > .cg-buttons > .cg-btn, .cg-lang')]
                        .every(e => { const q = e.getBoundingClientRect();
                                      return q.top >= r.top && q.bottom <= r.bottom && q.right <= r.right; });
                    return {height: r.height, scrolls: b.scrollHeight > b.clientHeight + 1, inside}; }"""
            )
            share = measured["height"] / VIEWPORTS["mobile"]["height"]
            if share > MAX_SHARE or measured["scrolls"] or not measured["inside"]:
                too_big.append(f"{variant} {lang}: {share:.0%} {measured}")
    assert not too_big, "first layers over 35 % of 360×740, scrolled or clipped:\n" + "\n".join(too_big)


def ticked(page: Page, scope: str) -> list[str]:
    """The category boxes ticked under ``scope``."""
    found: list[str] = page.eval_on_selector_all(
        f"{scope} input[name=category]:checked", "els => els.map(e => e.value).sort()"
    )
    return found


def test_in_california_the_panel_and_settings_show_what_runs_and_save_keeps_it(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("US-CA")
    visitor.goto("/")
    page = visitor.page
    running = ["ads", "analytics", "functional", "social"]
    page.locator(f"{BANNER} [data-cg-customize]").click()
    expect(page.locator("#cookiegate-customize")).to_be_visible()
    assert ticked(page, BANNER) == running
    # Every vendor of a running category is ticked too.
    assert not page.locator(f"{BANNER} input[name=vendor]:not(:checked)").count()
    visitor.goto("/cookiegate/settings?next=/")
    assert ticked(page, "#cookiegate-settings-form") == running
    expect(page.locator("#cookiegate-current-choice")).to_contain_text("Analytics: On")

    # Save without touching anything: nothing is opted out of what was shown ticked.
    visitor.goto("/")
    page.locator(f"{BANNER} [data-cg-customize]").click()
    page.evaluate("window.cgStillHere = true")
    page.locator(f'{BANNER} button[value="save"]').click()
    expect(page.locator(BANNER)).to_have_count(0)
    assert page.evaluate("window.cgStillHere === true"), "nothing that runs changed: the page must stay"
    state = visitor.consent_state()
    assert state["chosen"] and state["allowed"] == ["ads", "analytics", "functional", "necessary", "social"], state


def test_in_california_with_gpc_the_opt_out_is_said_once_as_applied(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("US-CA", headers={"Sec-GPC": "1"})
    visitor.goto("/")
    page = visitor.page
    banner = page.locator(BANNER)
    text = banner.locator("#cookiegate-desc").inner_text()
    assert "Global Privacy Control signal is applied" in text and "do not sell or share" in text
    # Said once; no contradictory "may count as selling" text and no button to do what is already done.
    assert banner.inner_text().count("Global Privacy Control") == 1
    assert "may count as selling" not in banner.inner_text()
    expect(banner.locator('button[value="opt_out"]')).to_have_count(0)
    expect(banner.locator("[data-cg-customize]")).to_be_visible()  # the way to the choices stays
    banner.locator("[data-cg-customize]").click()
    assert ticked(page, BANNER) == ["analytics", "functional"]
    expect(banner.locator(".cg-note")).to_have_count(2)  # ads and social: off, by Global Privacy Control


def confirmation(page: Page) -> str:
    box = page.locator(".cg-toast")
    expect(box).to_be_visible()
    return box.inner_text()


def test_reject_shows_a_visible_confirmation_that_can_be_dismissed(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/")
    page = visitor.page
    page.locator(f'{BANNER} button[value="reject_all"]').first.click()
    expect(page.locator(BANNER)).to_have_count(0)
    assert "only strictly necessary cookies" in confirmation(page)
    expect(page.locator("#cookiegate-status")).not_to_be_empty()  # and said to screen readers
    page.locator(".cg-toast .cg-close").click()
    expect(page.locator(".cg-toast")).to_have_count(0)


def test_withdraw_on_the_settings_page_is_confirmed_back_on_the_page(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR")
    visitor.goto("/pricing")
    page = visitor.page
    with page.expect_navigation(wait_until="networkidle"):
        page.locator(f'{BANNER} button[value="accept_all"]').click()  # more runs: a fresh page
    visitor.click_and_wait(page.locator("#cookiegate-settings"))
    expect(page.locator("#cookiegate-withdraw-hint")).to_be_visible()
    expect(page.locator('button[value="reject_all"]')).to_have_count(0)  # one refusal, not two
    visitor.click_and_wait(page.locator('button[value="withdraw"]'))
    assert page.url == visitor.url("/pricing")
    assert "Consent withdrawn" in confirmation(page)
    assert visitor.consent_state()["allowed"] == ["necessary"]
    visitor.reload()
    expect(page.locator(".cg-toast")).to_have_count(0)  # once


def _seen(visitor: Visitor) -> None:
    """Visit the demo's pages, so the gateway has seen their vendors (the statement lists what it saw)."""
    for path in ("/", "/pricing", "/blog/launch", "/community"):
        visitor.goto(path)


def test_the_statement_on_a_phone_is_a_list_of_cards_with_no_word_broken_and_no_horizontal_scroll(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor("DE", headers={"Accept-Language": "de"})
    page = visitor.page
    page.set_viewport_size(VIEWPORTS["mobile"])
    _seen(visitor)
    visitor.goto("/cookiegate/cookies")
    expect(page.locator("table")).to_have_count(0)
    cards = page.locator(".cg-card")
    assert cards.count() >= 8, cards.count()
    expect(page.locator(".cg-card", has_text="Hotjar")).to_contain_text("Zuletzt gesehen")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "horizontal scroll"
    broken = page.evaluate(
        """() => { const out = [], walk = document.createTreeWalker(document.querySelector('main'), 4);
            for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                const re = /\\S+/g; let m;
                while ((m = re.exec(n.data))) {
                    const top = i => { const r = document.createRange();
                        r.setStart(n, m.index + i); r.setEnd(n, m.index + i + 1);
                        return Math.round(r.getBoundingClientRect().top); };
                    // A word goes to the next line only after a hyphen, or after the separators of a
                    // cookie name or a host (_ . : /), never between two letters.
                    for (let i = 1; i < m[0].length; i++)
                        if (top(i) > top(i - 1) && !'-_.:/'.includes(m[0][i - 1])) { out.push(m[0]); break; }
                } }
            return out; }"""
    )
    assert not broken, f"words broken across lines: {broken}"
