"""The banner in real Chromium: every variant on desktop and mobile, light and dark, axe-core, equal prominence,
keyboard, no JS.

Screenshots of every variant × viewport (and the dark theme on a phone) are written to ``docs/screenshots/``
(docs/banner.md shows them).
"""

from __future__ import annotations

from typing import Any, Final

import pytest
from playwright.sync_api import Page, expect

from .conftest import CONSENT_COOKIE, ROOT, NewVisitor, Visitor

BANNER: Final = "#cookiegate-banner"
SCREENSHOTS: Final = ROOT / "docs" / "screenshots"
AXE: Final = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS: Final = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 360, "height": 740}}
#: variant → (demo place, extra headers)
VARIANTS: Final[dict[str, tuple[str, dict[str, str]]]] = {
    "opt-in": ("FR", {}),
    "opt-out": ("US-CA", {}),
    "opt-out-gpc": ("US-CA", {"Sec-GPC": "1"}),
    "australia": ("AU", {}),
    "notice": ("JP", {}),
}
THEMES: Final = ("light", "dark")


def axe_source() -> str:
    """axe-core from ``npm ci``; missing is a failure (as a missing Chromium is), never a silent pass."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} not found: run `npm ci` in the repository (axe-core is a devDependency)", pytrace=False)
    return AXE.read_text("utf-8")


def serious_violations(page: Page, context: Any = None) -> list[str]:
    page.evaluate(axe_source())
    result = page.evaluate(
        """async (ctx) => {
            const r = await axe.run(ctx || document, {runOnly: {type: "tag",
                values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}});
            return r.violations.map(v => ({id: v.id, impact: v.impact,
                nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}));
        }""",
        context,
    )
    return [f"{v['impact']}: {v['id']} at {v['nodes']}" for v in result if v["impact"] in ("serious", "critical")]


def open_variant(
    new_visitor: NewVisitor, variant: str, viewport: str, *, javascript: bool = True, theme: str = "light"
) -> Visitor:
    place, headers = VARIANTS[variant]
    visitor = new_visitor(place, headers=headers, javascript=javascript)
    visitor.page.set_viewport_size(VIEWPORTS[viewport])
    visitor.page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
    visitor.goto("/")
    expect(visitor.page.locator(BANNER)).to_be_visible()
    assert visitor.page.locator(BANNER).get_attribute("data-variant") == variant.removesuffix("-gpc")
    return visitor


def choice_buttons(page: Page) -> list[dict[str, Any]]:
    """Tag, font size, colours and box of each first-layer choice, as rendered."""
    result: list[dict[str, Any]] = page.eval_on_selector_all(
        f"{BANNER} .cg-form > .cg-buttons > .cg-btn",
        """els => els.map(e => { const s = getComputedStyle(e), r = e.getBoundingClientRect();
            return {tag: e.tagName, text: e.textContent.trim(), font: s.fontSize, weight: s.fontWeight,
                    color: s.color, bg: s.backgroundColor, width: r.width, height: r.height}; })""",
    )
    return result


def _luminance(css: str) -> float:
    r, g, b = (int(x) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(fg: str, bg: str) -> float:
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_variant_is_accessible_equal_ticked_as_it_runs_and_fits_the_screen(
    new_visitor: NewVisitor, variant: str, viewport: str, theme: str
) -> None:
    visitor = open_variant(new_visitor, variant, viewport, theme=theme)
    page = visitor.page
    if theme == "light" or viewport == "mobile":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        suffix = "" if theme == "light" else "-dark"
        page.screenshot(path=str(SCREENSHOTS / f"{variant}-{viewport}{suffix}.png"))

    buttons = choice_buttons(page)
    assert len(buttons) >= 2, buttons
    first = buttons[0]
    for b in buttons:
        # Equal prominence: same element, font, weight and colours; contrast well above AA.
        assert (b["tag"], b["font"], b["weight"], b["color"], b["bg"]) == (
            first["tag"], first["font"], first["weight"], first["color"], first["bg"],
        ), f"{b['text']!r} differs from {first['text']!r}: {buttons}"  # fmt: skip
        assert contrast(b["color"], b["bg"]) >= 4.5, b
        assert b["height"] >= 44 and b["width"] >= 44, b  # a comfortable target (WCAG 2.5.8 asks for 24 px)
    # Ticked: what runs now, as the gateway decided it (nothing before a choice in opt-in regions).
    ticked = page.eval_on_selector_all(
        f"{BANNER} input[name=category]:checked", "els => els.map(e => e.value).sort()"
    )
    allowed = sorted(set(visitor.consent_state()["allowed"]) - {"necessary"})
    assert ticked == allowed, (ticked, allowed)
    if variant == "opt-in":
        assert not page.locator(f"{BANNER} input[type=checkbox]:checked:not([disabled])").count(), "pre-ticked"
    no_hscroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_hscroll, f"horizontal scroll at {viewport}"
    box = page.locator(BANNER).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[viewport]["width"]

    if variant in ("opt-in", "australia"):
        # Focus moves into the dialog, onto its heading: the ring is there, not around the whole banner.
        focused = page.evaluate("document.activeElement && document.activeElement.id")
        assert focused == "cookiegate-title", "focus must move to the banner's heading when a choice is required"
        assert page.evaluate(
            "getComputedStyle(document.getElementById('cookiegate-banner')).outlineStyle"
        ) == "none"
    violations = serious_violations(page, {"include": [[BANNER], ["#cookiegate-settings"]]})
    assert not violations, f"axe-core on the banner ({theme}):\n" + "\n".join(violations)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("path", ["/cookiegate/settings", "/cookiegate/cookies"])
def test_the_gateway_pages_are_axe_clean_and_fit_a_phone(new_visitor: NewVisitor, path: str, theme: str) -> None:
    visitor = new_visitor("FR")
    visitor.page.set_viewport_size(VIEWPORTS["mobile"])
    visitor.page.emulate_media(color_scheme=theme)  # type: ignore[arg-type]
    visitor.goto("/blog/launch")  # vendors seen on the site, listed by the statement
    visitor.goto(path)
    assert visitor.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    violations = serious_violations(visitor.page)
    assert not violations, f"axe-core on {path}:\n" + "\n".join(violations)


def tab_to(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has focus (keyboard only, no clicks)."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{selector} not reachable with Tab")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_keyboard_only_customize_save_then_withdraw(new_visitor: NewVisitor, javascript: bool) -> None:
    visitor = new_visitor("FR", javascript=javascript)
    visitor.goto("/")
    page = visitor.page
    if not javascript:
        page.locator("body").focus()
    tab_to(page, f"{BANNER} [data-cg-customize]")
    if javascript:
        page.keyboard.press("Enter")  # opens the panel in place, focus on the first category
        expect(page.locator("#cookiegate-customize")).to_be_visible()
        tab_to(page, 'input[value="analytics"]')
        page.keyboard.press("Space")
        tab_to(page, f'{BANNER} button[value="save"]')
        with page.expect_navigation(wait_until="networkidle"):
            page.keyboard.press("Enter")  # more granted: the page reloads to start analytics
    else:
        with page.expect_navigation(wait_until="networkidle"):
            page.keyboard.press("Enter")  # the settings page
        tab_to(page, 'input[value="analytics"]')
        page.keyboard.press("Space")
        tab_to(page, 'button[value="save"]')
        with page.expect_navigation(wait_until="networkidle"):
            page.keyboard.press("Enter")
    state = visitor.consent_state()
    assert state["allowed"] == ["analytics", "necessary"], state
    expect(page.locator(BANNER)).to_have_count(0)

    tab_to(page, "#cookiegate-settings")
    with page.expect_navigation(wait_until="networkidle"):
        page.keyboard.press("Enter")
    tab_to(page, 'button[value="withdraw"]')
    with page.expect_navigation(wait_until="networkidle"):
        page.keyboard.press("Enter")
    assert visitor.consent_state()["allowed"] == ["necessary"]


@pytest.mark.parametrize(
    ("variant", "action", "allowed_after"),
    [
        ("opt-in", "reject_all", ["necessary"]),
        ("opt-in", "accept_all", ["ads", "analytics", "functional", "necessary", "social"]),
        ("opt-out", "opt_out", ["analytics", "functional", "necessary"]),
        ("opt-out-gpc", "acknowledge", ["analytics", "functional", "necessary"]),
        ("australia", "accept_all", ["ads", "analytics", "functional", "necessary", "social"]),
        ("notice", "acknowledge", ["analytics", "functional", "necessary"]),
    ],
)
def test_keyboard_only_first_layer_choice_in_every_variant(
    new_visitor: NewVisitor, variant: str, action: str, allowed_after: list[str]
) -> None:
    visitor = open_variant(new_visitor, variant, "desktop")
    page = visitor.page
    tab_to(page, f'{BANNER} button[value="{action}"]:not(.cg-close)')
    page.keyboard.press("Enter")
    expect(page.locator(BANNER)).to_have_count(0)
    page.wait_for_load_state("networkidle")
    state = visitor.consent_state()
    assert state["chosen"] is True
    if variant == "notice":
        # JP visitors without GPC: OK keeps the notice defaults, which include ads and social.
        assert set(allowed_after) <= set(state["allowed"]), state
    else:
        assert state["allowed"] == allowed_after, state
    expect(page.locator("#cookiegate-settings")).to_be_visible()


def test_escape_closes_the_opt_in_banner_as_a_refusal(new_visitor: NewVisitor) -> None:
    visitor = open_variant(new_visitor, "opt-in", "mobile")
    visitor.page.evaluate("window.cgStillHere = true")
    visitor.page.keyboard.press("Escape")
    expect(visitor.page.locator(BANNER)).to_have_count(0)
    # Nothing to start or stop: the page stayed (no reload, no flash).
    assert visitor.page.evaluate("window.cgStillHere === true"), "the page was reloaded"
    expect(visitor.page.locator("#cookiegate-status")).not_to_be_empty()  # announced to screen readers
    state = visitor.consent_state()
    assert state["chosen"] is True and state["allowed"] == ["necessary"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_without_javascript_every_variant_works_as_plain_forms(new_visitor: NewVisitor, variant: str) -> None:
    visitor = open_variant(new_visitor, variant, "mobile", javascript=False)
    page = visitor.page
    # Customize/Manage without JS: the settings page, which comes back to the page after saving.
    visitor.click_and_wait(page.locator(f"{BANNER} [data-cg-customize]"))
    assert "/cookiegate/settings" in page.url
    visitor.click_and_wait(page.locator('button[value="reject_all"]'))
    assert page.url == visitor.url("/")
    assert visitor.has_cookie(CONSENT_COOKIE)
    expect(page.locator(BANNER)).to_have_count(0)


def test_the_language_switcher_changes_the_banner_language_without_javascript(new_visitor: NewVisitor) -> None:
    visitor = new_visitor("FR", javascript=False, headers={"Accept-Language": "de-DE,de;q=0.9"})
    visitor.goto("/pricing")
    page = visitor.page
    expect(page.locator(BANNER)).to_have_attribute("lang", "de")
    expect(page.locator(f'{BANNER} button[value="reject_all"]:not(.cg-close)')).to_have_text("Alle ablehnen")
    page.locator(f"{BANNER} .cg-lang summary").click()
    visitor.click_and_wait(page.locator(f'{BANNER} .cg-lang button[value="pl"]'))
    assert page.url == visitor.url("/pricing")
    expect(page.locator(BANNER)).to_have_attribute("lang", "pl")
    expect(page.get_by_role("button", name="Odrzuć wszystkie", exact=True)).to_be_visible()
