"""Unclassified third parties through the whole gateway (issue 19): pages, ``Link``/``Refresh`` headers, the
preview header and the counters, the site's own hosts from the configuration and the request; cookies nobody
claims classified by the (site's copy of the) Open Cookie Database; the CSP of the vendors the site uses."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware
from cookiegate.policy._cookie_database import CSV_NAME, CookieDatabaseError, bundled_directory

from .helpers import IP, client, fetches, make_config

pytestmark = pytest.mark.anyio

X = "px.invented.example"
PAGE = (
    "<!doctype html><html><head><title>t</title>"
    f'<link rel=preload as=script href="https://{X}/l.js"></head><body>'
    f'<img src="https://{X}/p.gif" alt=""><img src="http://testserver/own.png" alt="">'
    '<img src="https://media.kactuce.com/pot.jpg" alt=""><img src="https://cdn.kactuce-static.net/a.png" alt="">'
    '<iframe src="https://www.youtube.com/embed/x"></iframe>'
    f'<script>fetch("https://{X}/collect")</script>'
    '<script type="application/ld+json">{"url": "https://www.invented-partner.example/"}</script>'
    "</body></html>"
)
AD_COOKIE = "_dcid"  # the Open Cookie Database's (Google Ads, Marketing); no catalogue entry names it


def site() -> Starlette:
    async def page(request: Request) -> Response:
        response = HTMLResponse(PAGE, headers={"link": f"<https://{X}/h.js>; rel=preload; as=script, </own.css>; "
                                                       "rel=preload; as=style"})
        response.set_cookie(AD_COOKIE, "1")
        response.set_cookie("kactuce_session", "s")
        return response

    async def refresh(request: Request) -> Response:
        return HTMLResponse("<p>moving</p>", headers={"refresh": f"0; url=https://{X}/landing"})

    return Starlette(routes=[Route("/", page), Route("/refresh", refresh)])


def gateway(tmp_path: Path, **overrides: Any) -> CookieGateMiddleware:
    config = make_config(tmp_path, cookie_domain="kactuce.com", csp_allow=("https://cdn.kactuce-static.net",),
                         **overrides)
    return CookieGateMiddleware(site(), config=config)


def kactuce(app: Any, ip: str) -> httpx.AsyncClient:
    """A client of the site at www.kactuce.com (the consent cookie is set for kactuce.com)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 51000))
    return httpx.AsyncClient(transport=transport, base_url="http://www.kactuce.com")


async def _accept_all(c: Any) -> None:
    r = await c.post("/cookiegate/consent", data={"action": "accept_all", "next": "/"},
                     headers={"origin": str(c.base_url).rstrip("/")})
    assert r.status_code == 303


async def test_accept_all_in_an_opt_in_region_leaves_unclassified_third_parties_blocked(tmp_path: Path) -> None:
    async with kactuce(gateway(tmp_path), IP["FR"]) as c:
        await _accept_all(c)
        r = await c.get("/")
    html = r.text
    assert not fetches(html, X) and 'src="https://www.youtube.com/embed/x"' in html
    # The site's own hosts: cookie_domain's subdomains, csp_allow's.
    for own in ("https://media.kactuce.com/pot.jpg", "https://cdn.kactuce-static.net/a.png"):
        assert f'<img src="{own}" alt="">' in html
    assert '<script type="application/ld+json">' in html  # structured data only mentions a host
    assert r.headers["link"] == "</own.css>; rel=preload; as=style"
    assert any(h.startswith(f"{AD_COOKIE}=") for h in r.headers.get_list("set-cookie"))  # ads were accepted


async def test_before_any_choice_the_unclassified_host_and_the_databases_ad_cookie_are_refused(tmp_path: Path) -> None:
    async with client(gateway(tmp_path), IP["FR"]) as c:
        r = await c.get("/")
        moved = await c.get("/refresh")
    assert not fetches(r.text, X)
    # The request's own host (testserver) is the page's own too.
    assert '<img src="http://testserver/own.png" alt="">' in r.text
    names = [h.split("=")[0] for h in r.headers.get_list("set-cookie")]
    assert AD_COOKIE not in names and "kactuce_session" in names
    assert "refresh" not in moved.headers


async def test_where_no_consent_is_asked_the_unclassified_host_loads(tmp_path: Path) -> None:
    async with client(gateway(tmp_path), IP["JP"]) as c:  # notice regime
        r = await c.get("/")
    assert fetches(r.text, X) and r.headers["link"].startswith(f"<https://{X}/h.js>")


async def test_unclassified_as_ads_follows_the_ads_choice(tmp_path: Path) -> None:
    app = gateway(tmp_path, unclassified="ads")
    async with kactuce(app, IP["FR"]) as c:
        before = await c.get("/")
        await _accept_all(c)
        after = await c.get("/")
    assert not fetches(before.text, X) and fetches(after.text, X)


async def test_every_tag_is_counted_under_its_outcome_key_and_the_preview_names_unclassified_hosts(
    tmp_path: Path,
) -> None:
    token = "t" * 40
    app = gateway(tmp_path, admin_token=token)
    async with kactuce(app, IP["FR"]) as c:
        await _accept_all(c)
        await c.get("/")
        preview = await c.get("/", headers={"cookiegate-preview": "country=FR; consent=accept",
                                            "authorization": f"Bearer {token}"})
    header = preview.headers["cookiegate-decision"]
    assert f"unclassified:{X}=blocked" in header and "youtube=fired" in header
    assert header.endswith("unclassified=blocked")
    counted = {(row.subject, row.outcome): row.count for row in app.gateway.counters.pending() if row.kind == "tag"}
    # One view counted (the preview is not): the preload, the pixel and the loader of the host, YouTube, and the
    # image on testserver, a host that is not this site's (the request went to www.kactuce.com).
    assert counted == {(f"unclassified:{X}", "blocked"): 3, ("youtube", "fired"): 1,
                       ("unclassified:testserver", "blocked"): 1}


async def test_the_pages_an_unclassified_host_appears_on_are_counted_and_its_first_sighting_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = gateway(tmp_path)
    with caplog.at_level("WARNING", logger="cookiegate"):
        async with kactuce(app, IP["FR"]) as c:
            for _ in range(3):
                await c.get("/?utm_source=x")
    pages = {(row.subject, row.outcome): row.count for row in app.gateway.counters.pending() if row.kind == "page"}
    assert pages[(f"unclassified:{X}", "/")] == 3  # the path, without its query
    sightings = [r.getMessage() for r in caplog.records if f"third party {X} first seen" in r.getMessage()]
    assert len(sightings) == 1 and "first seen on /" in sightings[0]
    await app.gateway.shutdown()


async def test_a_vendor_seen_on_the_sites_pages_joins_its_csp(tmp_path: Path) -> None:
    async def page(request: Request) -> Response:
        return HTMLResponse('<img src="https://alb.reddit.com/rp.gif?id=1" alt="">')

    app = CookieGateMiddleware(Starlette(routes=[Route("/", page)]), config=make_config(tmp_path))
    async with client(app, IP["FR"]) as c:
        await _accept_all(c)
        first = await c.get("/")
        second = await c.get("/")
    assert "reddit" not in first.headers["content-security-policy-report-only"]
    assert " *.redditstatic.com" in second.headers["content-security-policy-report-only"]


async def test_the_gateway_classifies_cookies_with_the_sites_copy_of_the_database(tmp_path: Path) -> None:
    copy = tmp_path / "ocd"
    copy.mkdir()
    text = (bundled_directory() / CSV_NAME).read_text("utf-8")
    # The site's newer copy files the cookie under Analytics instead of Marketing.
    lines = [line.replace(",Marketing,", ",Analytics,") if f",{AD_COOKIE}," in line else line
             for line in text.splitlines(keepends=True)]
    (copy / CSV_NAME).write_text("".join(lines), "utf-8")
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, cookie_database=str(copy)))
    assert app.gateway.registry.category_for_cookie(AD_COOKIE) == "analytics"
    assert CookieGateMiddleware(site(), config=make_config(tmp_path)).gateway.registry.category_for_cookie(
        AD_COOKIE) == "ads"


def test_a_missing_database_copy_stops_start_up_naming_the_command(tmp_path: Path) -> None:
    with pytest.raises(CookieDatabaseError, match="update-cookies"):
        CookieGateMiddleware(site(), config=make_config(tmp_path, cookie_database=str(tmp_path / "nowhere")))
    shutil.rmtree(tmp_path / "nowhere", ignore_errors=True)
