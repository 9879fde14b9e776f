"""Choices per vendor through the gateway, and ``window.cookiegate``: the consent endpoint, the cookie, the
record, the decision and the state written into the page all carry them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware

from .helpers import IP, ORIGIN, PAGE, client, make_config

pytestmark = pytest.mark.anyio

#: Hotjar and Microsoft Clarity: two analytics vendors on one page.
TWO_ANALYTICS = PAGE.replace(
    "</head>",
    '<script src="https://static.hotjar.com/c/hotjar-1.js?sv=6"></script>'
    '<script src="https://www.clarity.ms/tag/abcdef"></script></head>',
)


def gated(tmp_path: Path, **overrides: Any) -> CookieGateMiddleware:
    async def home(request: Request) -> Response:
        return HTMLResponse(TWO_ANALYTICS)

    return CookieGateMiddleware(Starlette(routes=[Route("/", home)]), config=make_config(tmp_path, **overrides))


async def seen(app: CookieGateMiddleware, c: Any) -> None:
    """A page view, and the list of what the site uses brought up to date (as every minute)."""
    await c.get("/")
    await app.gateway.site_vendors.refresh(None)


def page_state(html: str) -> dict[str, Any]:
    """The state ``window.cookiegate`` is created with, as written into the page's head."""
    found = re.search(r"\(window,document,(\{.*?\}),\"/cookiegate/\",\"[^\"]*\",\"[^\"]*\"\)</script>", html)
    assert found, "no window.cookiegate in the page"
    state: dict[str, Any] = json.loads(found.group(1))
    return state


async def test_a_form_that_shows_vendors_saves_the_ticked_ones_and_refuses_the_others(tmp_path: Path) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        await seen(app, c)
        posted = await c.post(
            "/cookiegate/consent",
            data={"action": "save", "vendor": "hotjar", "vendors_shown": "hotjar microsoft-clarity", "next": "/"},
            headers=ORIGIN,
        )
        assert posted.status_code == 303
        state = (await c.get("/cookiegate/consent")).json()
        html = (await c.get("/")).text
        consent_id = state["consent_id"]
    records = await app.gateway.store.records_for(consent_id)
    await app.gateway.shutdown()
    # Analytics stays off; Hotjar alone is allowed by name.
    assert state["allowed"] == ["necessary"] and state["vendors"] == {"on": ["hotjar"], "off": []}
    assert records[-1]["vendors"] == {"hotjar": True} and records[-1]["categories"]["analytics"] is False
    written = page_state(html)
    assert written["vendors"]["hotjar"] is True and written["vendors"]["microsoft-clarity"] is False
    assert written["categories"]["analytics"] is False


async def test_a_category_allowed_with_one_vendor_refused_keeps_that_vendor_off(tmp_path: Path) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        await seen(app, c)
        r = await c.post(
            "/cookiegate/consent",
            json={"action": "save", "categories": {"analytics": True}, "vendors": {"microsoft-clarity": False,
                                                                                 "hotjar": True}},
            headers=ORIGIN,
        )
    await app.gateway.shutdown()
    data = r.json()
    assert data["allowed"] == ["analytics", "necessary"] and data["vendors"] == {"on": [], "off": ["microsoft-clarity"]}
    assert data["state"]["vendors"] == {"google-analytics": True, "hotjar": True, "microsoft-clarity": False,
                                        "meta-pixel": False, "youtube": False}


async def test_always_allow_from_a_placeholder_grants_that_vendor_alone(tmp_path: Path) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        await c.get("/")
        r = await c.post(
            "/cookiegate/consent", data={"action": "allow", "vendor": "youtube", "next": "/"}, headers=ORIGIN
        )
        state = (await c.get("/cookiegate/consent")).json()
    await app.gateway.shutdown()
    assert r.status_code == 303
    assert state["allowed"] == ["necessary"] and state["vendors"]["on"] == ["youtube"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "save", "vendors": {"no-such-vendor": True}}, "unknown vendor"),
        ({"action": "save", "vendors": {"hotjar": "yes"}}, "vendors.hotjar must be true or false"),
        ({"action": "save", "vendors": ["hotjar"]}, "vendors must be an object"),
        ({"action": "allow"}, "allow needs a category or a vendor"),
    ],
)
async def test_bad_vendor_choices_are_refused_and_change_nothing(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        r = await c.post("/cookiegate/consent", json=body, headers=ORIGIN)
    await app.gateway.shutdown()
    assert r.status_code == 400 and message in r.text and "set-cookie" not in r.headers


async def test_accepting_all_or_withdrawing_clears_the_choices_by_name(tmp_path: Path) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        await c.post("/cookiegate/consent", json={"action": "save", "vendors": {"hotjar": True}}, headers=ORIGIN)
        accepted = (await c.post("/cookiegate/consent", json={"action": "accept_all"}, headers=ORIGIN)).json()
        withdrawn = (await c.post("/cookiegate/consent", json={"action": "withdraw"}, headers=ORIGIN)).json()
    await app.gateway.shutdown()
    assert accepted["vendors"] == {"on": [], "off": []} and "analytics" in accepted["allowed"]
    assert withdrawn["vendors"] == {"on": [], "off": []} and withdrawn["allowed"] == ["necessary"]


@pytest.mark.parametrize(
    ("place", "headers", "expected"),
    [
        ("FR", {}, {"regime": "opt-in", "gpc": False, "chosen": False, "analytics": False, "ads": False}),
        ("US-CA", {}, {"regime": "opt-out", "gpc": False, "chosen": False, "analytics": True, "ads": True}),
        ("US-CA", {"sec-gpc": "1"}, {"regime": "opt-out", "gpc": True, "chosen": False, "analytics": True,
                                     "ads": False}),
    ],
)
async def test_window_cookiegate_is_written_into_the_head_from_the_decision_that_gates_the_page(
    tmp_path: Path, place: str, headers: dict[str, str], expected: dict[str, Any]
) -> None:
    app = gated(tmp_path, policy_revision="2026-11")
    async with client(app, IP[place]) as c:
        html = (await c.get("/", headers=headers)).text
        decision = (await c.get("/cookiegate/consent", headers=headers)).json()
    await app.gateway.shutdown()
    state = page_state(html)
    # Before any of the page's own scripts: right after <head>.
    assert html.index("data-cookiegate-api") < html.index("googletagmanager.com")
    assert state["policyRevision"] == "2026-11"
    assert {k: state[k] for k in ("regime", "gpc", "chosen")} == {k: expected[k] for k in ("regime", "gpc", "chosen")}
    assert state["categories"]["analytics"] is expected["analytics"] and state["categories"]["ads"] is expected["ads"]
    assert state == decision["state"]  # the same state the JSON view gives, from the same decision
    assert "<style data-cookiegate>" in html and 'rel="stylesheet"' not in html.split("</head>")[0].split(
        "data-cookiegate-api"
    )[0]  # the first layer's styles are inline: nothing to fetch before the first paint


async def test_a_visitor_who_has_chosen_gets_the_banner_styles_as_a_file_kept_for_good_and_the_banner_inline(
    tmp_path: Path,
) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        first = (await c.get("/")).text
        rest = await c.get(first_frame_urls(first)[1])
        await c.post("/cookiegate/consent", json={"action": "reject_all"}, headers=ORIGIN)
        later = (await c.get("/")).text
        linked = re.search(r'<link rel="stylesheet" href="([^"]+)" data-cookiegate>', later.split("</head>")[0])
        assert linked is not None, later[:2000]
        css = await c.get(linked.group(1))
    await app.gateway.shutdown()
    inline = re.search(r"<style data-cookiegate>(.*?)</style>", first.split("</head>")[0], re.DOTALL)
    assert inline is not None and 'rel="stylesheet"' not in first.split("</head>")[0]  # nothing to fetch first
    assert "<style data-cookiegate>" not in later and first_frame_urls(later)[1] == ""
    for served in (css, rest):
        assert served.status_code == 200 and served.headers["content-type"] == "text/css; charset=utf-8"
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    # The same styles, only delivered otherwise: the first layer's inline and the rest after the first frame, or
    # both parts as one file.
    assert css.text == inline.group(1) + "\n" + rest.text and ".cg-toast{" in rest.text
    assert ".cg-toast{" not in inline.group(1)


def first_frame_urls(html: str) -> tuple[str, str]:
    """What ``window.cookiegate`` fetches after the first frame: the banner's script and the rest of its styles."""
    found = re.search(r',"(/cookiegate/assets/[^"]*|)","(/cookiegate/assets/[^"]*|)"\)</script>', html)
    assert found, "no window.cookiegate in the page"
    return found.group(1), found.group(2)


async def test_the_styles_inlined_for_the_first_paint_cover_every_class_the_first_layer_shows(
    tmp_path: Path,
) -> None:
    # What only the banner's script shows (the choices, the toast) may wait for the first frame; anything the
    # first layer draws may not, or it would be drawn unstyled and then move.
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        html = (await c.get("/")).text
    await app.gateway.shutdown()
    inline = re.search(r"<style data-cookiegate>(.*?)</style>", html, re.DOTALL)
    assert inline is not None
    start = html.index('<div id="cookiegate-banner"')
    banner = html[start : html.index('<i class="cg-end"', start)]
    shown = re.sub(r'<div id="cookiegate-customize" class="cg-panel" hidden>.*?</fieldset>', "", banner, flags=re.S)
    assert shown != banner  # the folded choices were cut out
    classes = {c for found in re.findall(r'class="([^"]+)"', shown) for c in found.split()}
    # The page after the banner: the settings link, the status line, the placeholders of refused embeds.
    classes |= {c for found in re.findall(r'class="([^"]+)"', html[html.index('id="cookiegate-settings"') - 40 :])
                for c in found.split() if c.startswith(("cg-", "cookiegate-"))}  # fmt: skip
    assert {"cg-banner", "cg-btn", "cg-foot", "cg-lang", "cg-settings"} <= classes
    missing = sorted(c for c in classes if not re.search(r"\." + re.escape(c) + r"(?![\w-])", inline.group(1)))
    assert not missing, missing


async def test_the_banner_route_gives_the_banner_as_the_visitors_decision_shows_it(tmp_path: Path) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        await c.post("/cookiegate/consent", json={"action": "save", "categories": {"analytics": True}},
                     headers=ORIGIN)
        fragment = (await c.get("/cookiegate/banner?next=/pricing")).text
    await app.gateway.shutdown()
    assert fragment.startswith('<div id="cookiegate-banner"') and "data-required" not in fragment
    assert re.search(r'name="category" value="analytics" data-cg-category checked', fragment)
    assert 'name="next" value="/pricing"' in fragment
