"""The gateway end to end through ASGI, with the client IP chosen from the project's own geo database."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from cookiegate import CookieGateMiddleware

from .helpers import IP, ORIGIN, PAGE, client, fetches, make_config

pytestmark = pytest.mark.anyio


def site() -> Starlette:
    async def home(request: Request) -> Response:
        resp = HTMLResponse(PAGE, headers={"etag": '"abc"', "cache-control": "public, max-age=60"})
        resp.set_cookie("_ga", "GA1.1.1.1", max_age=100)
        resp.set_cookie("kactuce_session", "s1")
        return resp

    async def api(request: Request) -> Response:
        resp = JSONResponse({"ok": True})
        return resp

    async def api_cookie(request: Request) -> Response:
        resp = JSONResponse({"ok": True})
        resp.set_cookie("_fbp", "fb.1.2")
        resp.set_cookie("prefs", "dark")
        return resp

    async def stream(request: Request) -> Response:
        async def gen() -> Any:
            half = len(PAGE) // 2
            for piece in (PAGE[:100], PAGE[100:half], PAGE[half:]):
                yield piece.encode()

        return StreamingResponse(gen(), media_type="text/html")

    async def whoami(request: Request) -> Response:
        gate = request.scope["cookiegate"]
        return JSONResponse(
            {
                "country": gate.location.country,
                "regime": gate.regime.kind,
                "analytics": gate.decision.allows("analytics"),
            }
        )

    async def head_html(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def no_content(request: Request) -> Response:
        return Response(status_code=204, media_type="text/html")

    async def events(request: Request) -> Response:
        return PlainTextResponse(
            "data: <script src=https://www.googletagmanager.com/gtm.js></script>\n\n", media_type="text/event-stream"
        )

    async def gz(request: Request) -> Response:
        return Response(b"\x1f\x8bnot-really", headers={"content-encoding": "gzip"}, media_type="text/html")

    return Starlette(
        routes=[
            Route("/", home),
            Route("/api", api),
            Route("/api/cookie", api_cookie),
            Route("/stream", stream),
            Route("/whoami", whoami),
            Route("/page", head_html, methods=["GET", "HEAD"]),
            Route("/nc", no_content),
            Route("/events", events),
            Route("/gz", gz),
        ]
    )


@pytest.fixture
def app(tmp_path: Path) -> CookieGateMiddleware:
    return CookieGateMiddleware(site(), config=make_config(tmp_path))


async def test_eu_first_visit_neutralizes_trackers_and_shows_the_banner(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.get("/")
    html = r.text
    assert r.status_code == 200
    assert 'id="cookiegate-banner"' in html and 'value="reject_all"' in html
    assert not fetches(html, "www.googletagmanager.com")
    assert not fetches(html, "www.youtube.com") and "cookiegate-placeholder" in html
    assert not fetches(html, "www.facebook.com/tr")
    assert '<script src="/static/app.js"></script><img src="/static/logo.png" alt="Kactuce">' in html
    assert "café" in html
    assert int(r.headers["content-length"]) == len(r.content)
    assert "etag" not in r.headers
    assert r.headers["cache-control"].startswith("private") and "public" not in r.headers["cache-control"]
    assert "Cookie" in r.headers["vary"] and "Sec-GPC" in r.headers["vary"]
    assert "report-uri /cookiegate/csp-report" in r.headers["content-security-policy-report-only"]
    cookies = r.headers.get_list("set-cookie")
    assert any(c.startswith("kactuce_session=") for c in cookies)
    assert not any(c.startswith("_ga=") for c in cookies)


async def test_a_page_served_again_carries_each_visitors_own_banner_language_and_return_path(
    tmp_path: Path,
) -> None:
    from cookiegate.rewrite import Limits
    from cookiegate.rewrite._memo import memos_for

    shared = CookieGateMiddleware(site(), config=make_config(tmp_path))
    seen = {}
    for lang, path in (("fr", "/?from=paris"), ("de", "/?from=berlin"), ("fr", "/?from=paris")):
        async with client(shared, IP["FR"]) as c:
            seen[lang, path] = await c.get(path, headers={"accept-language": lang})
    memos = memos_for(shared.gateway.classifier, Limits())
    assert memos is not None and memos.pages  # the page was remembered, so the later views replayed it
    # A gateway of its own (its own registry, nothing remembered) rewrites the page from scratch.
    alone = CookieGateMiddleware(site(), config=make_config(tmp_path / "alone"))
    (tmp_path / "alone").mkdir()
    for (lang, path), response in seen.items():
        async with client(alone, IP["FR"]) as c:
            fresh = await c.get(path, headers={"accept-language": lang})
        assert response.content == fresh.content
        assert response.headers["content-length"] == str(len(fresh.content))
    french, german = seen["fr", "/?from=paris"].text, seen["de", "/?from=berlin"].text
    assert 'data-reconsent' not in french and re.search(r'id="cookiegate-banner"[^>]* lang="fr">', french)
    assert re.search(r'id="cookiegate-banner"[^>]* lang="de">', german)
    assert "from=berlin" in german and "from=paris" not in german
    assert german.count("cookiegate-placeholder") == french.count("cookiegate-placeholder") > 0


async def test_accept_all_then_trackers_pass_untouched(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.post("/cookiegate/consent", data={"action": "accept_all", "next": "/"}, headers=ORIGIN)
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "cookiegate_consent=" in r.headers["set-cookie"]
        page = await c.get("/")
    assert 'id="cookiegate-banner"' not in page.text
    assert 'src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"' in page.text
    assert 'src="https://www.youtube.com/embed/dQw4w9WgXcQ"' in page.text
    assert any(h.startswith("_ga=") for h in page.headers.get_list("set-cookie"))
    assert 'id="cookiegate-settings"' in page.text


async def test_reject_all_keeps_blocking_and_records_the_decision(app: CookieGateMiddleware, tmp_path: Path) -> None:
    async with client(
        app, IP["FR"], headers={"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36"}
    ) as c:
        r = await c.post("/cookiegate/consent", data={"action": "reject_all", "next": "/pricing?x=1"}, headers=ORIGIN)
        assert r.status_code == 303 and r.headers["location"] == "/pricing?x=1"
        page = await c.get("/")
        state = (await c.get("/cookiegate/consent")).json()
    assert not fetches(page.text, "www.googletagmanager.com")
    assert 'id="cookiegate-banner"' not in page.text
    assert state["chosen"] and state["allowed"] == ["necessary"]
    rows = await app.gateway.store.records_for(state["consent_id"])
    assert len(rows) == 1
    rec = rows[0]
    assert rec["action"] == "reject_all" and rec["country"] == "FR" and rec["city"] == "Paris"
    assert rec["subdivision"] == "FR-IDF" and rec["path"] == "/pricing"
    assert rec["ip"] == "85.0.1.0/24" and rec["consent_id"] == state["consent_id"]
    assert "48.8" not in json.dumps(rec) and "75001" not in json.dumps(rec)


async def test_json_response_without_cookies_is_untouched_and_decides_nothing(
    app: CookieGateMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any) -> Any:
        raise AssertionError("geo looked up for a JSON response")

    monkeypatch.setattr(app.gateway.geo, "lookup", boom)
    monkeypatch.setattr(app.gateway.geo, "lookup_via", boom)
    async with client(app, IP["FR"]) as c:
        r = await c.get("/api")
    assert r.json() == {"ok": True}
    assert "vary" not in r.headers and "content-security-policy-report-only" not in r.headers


async def test_non_html_set_cookie_of_refused_category_is_dropped(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.get("/api/cookie")
    names = [h.split("=")[0] for h in r.headers.get_list("set-cookie")]
    assert names == ["prefs"]
    # Per-visitor cookies: no shared cache may reuse this response for someone else.
    assert r.headers["cache-control"].startswith("private") and "Cookie" in r.headers["vary"]


async def test_california_with_gpc_gets_no_ads_but_analytics(app: CookieGateMiddleware) -> None:
    async with client(app, IP["US-CA"], headers={"sec-gpc": "1"}) as c:
        r = await c.get("/")
        state = (await c.get("/cookiegate/consent")).json()
    assert state["regime"]["name"] == "opt-out"
    assert state["categories"]["ads"] is False and state["categories"]["analytics"] is True
    assert state["reasons"]["ads"] == "GPC"
    assert 'src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"' in r.text
    assert not fetches(r.text, "www.facebook.com/tr")
    assert 'id="cookiegate-gpc-honoured"' in r.text


async def test_spoofed_forwarded_for_from_untrusted_peer_changes_nothing(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"], headers={"x-forwarded-for": IP["JP"], "forwarded": f"for={IP['JP']}"}) as c:
        state = (await c.get("/cookiegate/consent")).json()
    assert state["location"]["country"] == "FR" and state["regime"]["name"] == "opt-in"


async def test_forwarded_for_from_trusted_proxy_is_walked(tmp_path: Path) -> None:
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, trusted_proxies=("10.0.0.0/8",)))
    async with client(app, "10.0.0.5", headers={"x-forwarded-for": f"{IP['FR']}, {IP['JP']}, 10.0.0.9"}) as c:
        state = (await c.get("/cookiegate/consent")).json()
    assert state["location"]["country"] == "JP" and state["regime"]["name"] == "notice"


async def test_a_remembered_place_follows_the_peer_and_every_forwarding_header(tmp_path: Path) -> None:
    # Places are remembered under the peer and forwarding headers (not under the walked address): each
    # request below differs from one before it in one of those only, and must be placed anew.
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, trusted_proxies=("10.0.0.0/8",)))
    cases = [
        ("10.1.1.1", [("x-forwarded-for", IP["FR"])], "FR"),
        ("10.1.1.1", [("x-forwarded-for", IP["FR"])], "FR"),
        ("10.1.1.1", [("x-forwarded-for", IP["JP"])], "JP"),
        ("10.1.1.1", [("X-Forwarded-For", f"{IP['DE']}, 10.2.2.2")], "DE"),
        ("10.1.1.1", [("x-forwarded-for", IP["DE"]), ("x-forwarded-for", IP["JP"])], "JP"),
        ("10.1.1.1", [("forwarded", f"for={IP['GB']}")], "GB"),
        ("10.1.1.1", [("forwarded", f"for={IP['GB']}"), ("x-forwarded-for", IP["BR"])], "BR"),
        (IP["AU"], [("x-forwarded-for", IP["FR"])], "AU"),  # not a trusted peer: its header is ignored
        (IP["AU"], [("x-forwarded-for", IP["JP"])], "AU"),
        ("10.1.1.1", [], None),  # the proxy itself: a private address, placed nowhere
        (IP["US-CA"], [], "US"),
    ]
    for peer, headers, country in cases * 2:
        async with client(app, peer, headers=headers) as c:
            state = (await c.get("/cookiegate/consent")).json()
        assert state["location"]["country"] == country, (peer, headers)


async def test_app_sees_the_decision_in_scope(app: CookieGateMiddleware) -> None:
    async with client(app, IP["US-NY"]) as c:
        assert (await c.get("/whoami")).json() == {"country": "US", "regime": "notice", "analytics": True}
    async with client(app, IP["private"]) as c:
        assert (await c.get("/whoami")).json() == {"country": None, "regime": "opt-in", "analytics": False}


async def raw_get(app: Any, path: str, ip: str) -> list[dict[str, Any]]:
    """Drive the app with a hand-built scope and collect every message it sends (no client buffering)."""
    messages: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": (ip, 5000),
        "server": ("testserver", 80),
    }

    sent_request = False
    done = anyio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # like a server: the client "disconnects" once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        messages.append(dict(message))
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send)
    return messages


async def test_a_page_sent_without_a_length_has_its_headers_forwarded_before_its_body_exists(tmp_path: Path) -> None:
    # Time to first byte stays the app's own: nothing about the body is needed for the headers.
    body_may_come = anyio.Event()

    async def slow_page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"etag", b'"v1"')]})
        await body_may_come.wait()  # a renderer still working on the page
        await send({"type": "http.response.body", "body": PAGE.encode(), "more_body": False})

    starts: list[dict[str, Any]] = []
    gated = _Spy(CookieGateMiddleware(slow_page, config=make_config(tmp_path)), starts)

    async def release_once_the_start_is_out() -> None:
        while not starts:
            await anyio.sleep(0.001)
        body_may_come.set()

    with anyio.fail_after(5):  # a gate holding the headers until the body exists never lets the body come
        async with anyio.create_task_group() as tg:
            tg.start_soon(release_once_the_start_is_out)
            messages = await raw_get(gated, "/", IP["FR"])
    start, body = messages[0], b"".join(m.get("body", b"") for m in messages[1:])
    headers = dict(start["headers"])
    assert b"content-length" not in headers and b"etag" not in headers  # framed as the app framed it
    assert b"cookiegate-banner" in body and not fetches(body.decode(), "www.googletagmanager.com")


class _Spy:
    """Records every http.response.start the wrapped app sends, the moment it is sent."""

    def __init__(self, app: Any, starts: list[dict[str, Any]]) -> None:
        self.app, self.starts = app, starts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def spy(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.starts.append(message)
            await send(message)

        await self.app(scope, receive, spy)


async def test_streamed_html_is_rewritten_and_keeps_streaming(app: CookieGateMiddleware) -> None:
    messages = await raw_get(app, "/stream", IP["DE"])
    start, bodies = messages[0], [m for m in messages[1:] if m["type"] == "http.response.body"]
    body = b"".join(m["body"] for m in bodies)
    assert len([m for m in bodies if m["body"]]) > 1
    assert b"content-length" not in dict(start["headers"])
    assert not fetches(body.decode(), "www.googletagmanager.com") and b"cookiegate-banner" in body


@pytest.mark.parametrize("path", ["/nc", "/events", "/gz"])
async def test_bodies_that_must_not_be_rewritten_pass_untouched(app: CookieGateMiddleware, path: str) -> None:
    gated = await raw_get(app, path, IP["FR"])
    plain = await raw_get(site(), path, IP["FR"])
    assert [m.get("body") for m in gated] == [m.get("body") for m in plain]


async def test_compressed_html_gets_an_enforced_csp_instead_of_a_rewrite(app: CookieGateMiddleware) -> None:
    start = (await raw_get(app, "/gz", IP["FR"]))[0]
    policy = dict(start["headers"])[b"content-security-policy"].decode()
    assert "googletagmanager" not in policy and policy.startswith("default-src 'self'")


async def test_head_of_html_page_has_no_stale_length_and_no_body(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.head("/page")
    assert r.content == b"" and "content-length" not in r.headers and "Cookie" in r.headers["vary"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"origin": "https://evil.example"}, 403),
        ({}, 403),
        ({"origin": "null"}, 403),
        ({"referer": "https://evil.example/x"}, 403),
        ({"referer": "http://testserver/pricing"}, 303),
        ({"origin": "http://testserver", "sec-fetch-site": "cross-site"}, 403),
    ],
)
async def test_consent_post_requires_same_site_origin(
    app: CookieGateMiddleware, headers: dict[str, str], status: int
) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.post("/cookiegate/consent", data={"action": "accept_all"}, headers=headers)
    assert r.status_code == status
    if status == 403:
        assert "set-cookie" not in r.headers


@pytest.mark.parametrize(
    ("next_value", "location"),
    [
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("javascript:alert(1)", "/"),
        ("/pricing#faq", "/pricing#faq"),
    ],
)
async def test_next_only_redirects_to_a_same_origin_path(
    app: CookieGateMiddleware, next_value: str, location: str
) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.post("/cookiegate/consent", data={"action": "reject_all", "next": next_value}, headers=ORIGIN)
    assert r.status_code == 303 and r.headers["location"] == location


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"action": "save", "categories": {"necessary": False}}, 400),
        ({"action": "save", "categories": {"telemetry": True}}, 400),
        ({"action": "save", "categories": {"analytics": "yes"}}, 400),
        ({"action": 3}, 400),
        ({"action": "launch"}, 400),
        ({"action": "save", "categories": {"analytics": True}, "extra": 1}, 400),
        ({"action": "save", "categories": {"analytics": True}}, 200),
    ],
)
async def test_json_consent_validates_types_and_categories(
    app: CookieGateMiddleware, body: dict[str, Any], status: int
) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.post("/cookiegate/consent", json=body, headers=ORIGIN)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["categories"] == {
            "necessary": True,
            "functional": False,
            "analytics": True,
            "ads": False,
            "social": False,
        }


async def test_oversized_and_malformed_bodies_are_refused(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        big = await c.post(
            "/cookiegate/consent",
            content=b"action=save&" + b"x" * 20000,
            headers={**ORIGIN, "content-type": "application/x-www-form-urlencoded"},
        )
        bad_json = await c.post(
            "/cookiegate/consent", content=b"{not json", headers={**ORIGIN, "content-type": "application/json"}
        )
        xml = await c.post("/cookiegate/consent", content=b"<a/>", headers={**ORIGIN, "content-type": "text/xml"})
    assert (big.status_code, bad_json.status_code, xml.status_code) == (413, 400, 415)


async def test_withdrawal_expires_cookies_of_withdrawn_categories(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        await c.post("/cookiegate/consent", data={"action": "accept_all"}, headers=ORIGIN)
        c.cookies.set("_ga", "GA1.1.1.1")
        c.cookies.set("_fbp", "fb.1")
        c.cookies.set("kactuce_session", "s1")
        r = await c.post("/cookiegate/consent", data={"action": "withdraw"}, headers=ORIGIN)
    expired = [h for h in r.headers.get_list("set-cookie") if "Max-Age=0" in h]
    names = {h.split("=")[0] for h in expired}
    assert {"_ga", "_fbp"} <= names and "kactuce_session" not in names


async def test_a_grant_that_cannot_be_recorded_is_not_relied_on(app: CookieGateMiddleware) -> None:
    from cookiegate.store import StoreError

    async def broken(record: Any) -> None:
        raise StoreError("disk full")

    app.gateway.store.record = broken  # type: ignore[method-assign]
    async with client(app, IP["FR"]) as c:
        grant = await c.post("/cookiegate/consent", data={"action": "accept_all"}, headers=ORIGIN)
        refuse = await c.post("/cookiegate/consent", data={"action": "reject_all"}, headers=ORIGIN)
    assert grant.status_code == 503 and "set-cookie" not in grant.headers
    assert refuse.status_code == 303 and "cookiegate_consent=" in refuse.headers["set-cookie"]


async def test_geo_failure_gives_the_strictest_treatment_and_still_serves(
    app: CookieGateMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("reader exploded")

    async with client(app, IP["US-NY"]) as c:
        monkeypatch.setattr(app.gateway.geo, "lookup", broken)
        monkeypatch.setattr(app.gateway.geo, "lookup_via", broken)
        r = await c.get("/")
    assert r.status_code == 200 and not fetches(r.text, "www.googletagmanager.com")


def break_the_rewriter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every ``HtmlRewriter.feed`` raise, as a tokenizer bug would."""
    from cookiegate.rewrite import HtmlRewriter

    def broken(self: Any, data: bytes) -> bytes:
        raise RuntimeError("tokenizer bug")

    monkeypatch.setattr(HtmlRewriter, "feed", broken)


async def test_rewriter_failure_is_fail_closed_and_still_serves(
    app: CookieGateMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_the_rewriter(monkeypatch)
    async with client(app, IP["FR"]) as c:
        r = await c.get("/")
    assert r.status_code == 200 and "Kactuce CRM+" in r.text
    assert "googletagmanager.com" not in r.text and "facebook.com/tr" not in r.text


async def test_a_rewriter_failing_mid_stream_still_sends_what_it_held_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cookiegate.rewrite import HtmlRewriter

    head = b"<!doctype html><html><head><title>Split</title></head><body><p>one</p>"
    split_tag = b"<img src=/static/logo.svg alt='split across pieces'>"
    tail = b"<script src=https://www.googletagmanager.com/gtag/js?id=G-1></script><p>two</p></body></html>"
    pieces = [head + split_tag[:20], split_tag[20:] + tail]

    async def stream(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    feed = HtmlRewriter.feed
    calls = []

    def fails_second(self: Any, data: bytes) -> bytes:
        calls.append(data)
        if len(calls) == 2:
            raise RuntimeError("tokenizer bug")
        return feed(self, data)

    monkeypatch.setattr(HtmlRewriter, "feed", fails_second)
    app = CookieGateMiddleware(stream, config=make_config(tmp_path))
    messages = await raw_get(app, "/", IP["FR"])
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert len(calls) == 2 and messages[0]["status"] == 200
    assert split_tag in body and body.endswith(b"<p>two</p></body></html>")  # nothing held back was lost
    assert b"<p>one</p>" in body and b"googletagmanager.com" not in body  # and nothing optional fires


@pytest.mark.parametrize(
    ("content_type", "bom", "codec"),
    [(b"text/html", b"\xff\xfe", "utf-16-le"), (b"text/html; charset=utf-8", b"\xfe\xff", "utf-16-be"),
     (b"text/html; charset=UTF-16", b"", "utf-16-le")],
)
@pytest.mark.parametrize("pieces", [1, 3], ids=["whole", "streamed, the mark split"])
async def test_a_page_in_utf16_is_gated_like_any_other(
    tmp_path: Path, content_type: bytes, bom: bytes, codec: str, pieces: int
) -> None:
    # A browser reads these as UTF-16: tags are interleaved with NUL bytes, and a byte scan sees none.
    body = bom + PAGE.encode(codec)
    cuts = [0, 1, 40, len(body)] if pieces == 3 else [0, len(body)]

    async def page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        for a, b in zip(cuts, cuts[1:], strict=False):
            await send({"type": "http.response.body", "body": body[a:b], "more_body": b < len(body)})

    app = CookieGateMiddleware(page, config=make_config(tmp_path))
    messages = await raw_get(app, "/", IP["FR"])
    out = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert out.startswith(bom) and len(out) % 2 == 0
    text = out[len(bom):].decode(codec)
    assert "Kactuce CRM+ — café" in text and "cookiegate-banner" in text  # the banner, in the page's encoding
    assert not fetches(text, "www.googletagmanager.com") and not fetches(text, "www.youtube.com")
    assert "data-cookiegate-blocked" in text


async def test_a_utf16_page_whose_rewriter_fails_is_scrubbed_in_its_own_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    break_the_rewriter(monkeypatch)
    body = b"\xff\xfe" + PAGE.encode("utf-16-le")

    async def page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    app = CookieGateMiddleware(page, config=make_config(tmp_path))
    messages = await raw_get(app, "/", IP["FR"])
    out = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    text = out[2:].decode("utf-16-le")
    assert "Kactuce CRM+ — café" in text and "googletagmanager.com" not in text


async def test_missing_geo_database_means_unknown_and_strictest(tmp_path: Path) -> None:
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, geoip_database=str(tmp_path / "nope.mmdb")))
    async with client(app, IP["US-NY"]) as c:
        r = await c.get("/")
        state = (await c.get("/cookiegate/consent")).json()
    assert r.status_code == 200 and state["regime"]["key"] == "unknown"


async def test_gateway_routes_and_gpc_json(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        gpc = await c.get("/.well-known/gpc.json")
        settings = await c.get("/cookiegate/settings?next=//evil.example")
        await c.get("/")  # GA4 is seen on a page: the statement lists what the site uses
        statement = await c.get("/cookiegate/cookies")
        missing = await c.get("/cookiegate/nope")
    assert gpc.json()["gpc"] is True
    assert settings.status_code == 200 and 'name="next" value="/"' in settings.text
    assert statement.status_code == 200 and "Google Analytics" in statement.text
    assert missing.status_code == 404


async def test_visitor_controlled_values_never_inject_markup(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.get('/?q="><script>alert(1)</script>')
    assert "<script>alert(1)</script>" not in r.text


async def test_works_as_starlette_middleware_entry(tmp_path: Path) -> None:
    async def home(request: Request) -> Response:
        return HTMLResponse(PAGE)

    app = Starlette(
        routes=[Route("/", home)], middleware=[Middleware(CookieGateMiddleware, config=make_config(tmp_path))]
    )
    async with client(app, IP["FR"]) as c:
        r = await c.get("/")
    assert "cookiegate-banner" in r.text and not fetches(r.text, "www.googletagmanager.com")


async def test_consent_mode_basic_blocks_google_tags_until_consent(app: CookieGateMiddleware) -> None:
    async with client(app, IP["FR"]) as c:
        r = await c.get("/")
    assert not fetches(r.text, "www.googletagmanager.com")
    assert "data-cookiegate-consent-mode" not in r.text  # nothing Google can run: nothing to configure


async def test_consent_mode_advanced_loads_google_tags_denied_and_still_blocks_the_rest(tmp_path: Path) -> None:
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, consent_mode="advanced"))
    async with client(app, IP["FR"]) as c:
        r = await c.get("/")
    html = r.text
    assert fetches(html, "www.googletagmanager.com/gtag/js")
    default = html.index("data-cookiegate-consent-mode")
    assert default < html.index("https://www.googletagmanager.com/gtag/js")  # the default precedes the tag
    consent = html[default : html.index("</script>", default)]
    assert '"analytics_storage":"denied"' in consent and '"ad_storage":"denied"' in consent
    assert not fetches(html, "www.facebook.com/tr") and not fetches(html, "www.youtube.com")
    assert "googletagmanager.com" in r.headers["content-security-policy-report-only"]
    assert "connect.facebook.net" not in r.headers["content-security-policy-report-only"]
    assert not any(h.startswith("_ga=") for h in r.headers.get_list("set-cookie"))  # denied: no Google cookies


async def test_a_failing_preview_check_never_fails_the_page(
    app: CookieGateMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(scope: Any) -> Any:
        raise RuntimeError("auth backend exploded")

    monkeypatch.setattr(app.admin, "preview_for", broken)
    async with client(app, IP["FR"], headers={"cookiegate-preview": "country=US; consent=accept"}) as c:
        r = await c.get("/")
    assert r.status_code == 200 and "cookiegate-decision" not in r.headers
    assert not fetches(r.text, "www.googletagmanager.com")  # the visitor's own (EU, no choice) view applied


async def test_rewriter_failure_blocks_everything_even_for_a_visitor_who_allowed_it(
    app: CookieGateMiddleware, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client(app, IP["US-NY"]) as c:  # notice regime: everything allowed by default
        break_the_rewriter(monkeypatch)
        r = await c.get("/")
    assert r.status_code == 200 and "Kactuce CRM+" in r.text
    assert "googletagmanager.com" not in r.text and "youtube.com" not in r.text


@pytest.mark.parametrize("path", ["/", "/api", "/api/cookie", "/stream", "/whoami"])
async def test_a_request_leaves_no_reference_cycle_behind(app: CookieGateMiddleware, path: str) -> None:
    # Every request's objects must be freed by reference counting alone: a cycle per request (the scope
    # holding the visit holding the scope) leaves the cyclic collector a pile to walk on every page.
    import gc

    await raw_get(app, path, IP["FR"])  # warm up: caches and lazily built objects are not per request
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.garbage.clear()
    try:
        # Objects of earlier tests may become garbage meanwhile (a task the test runner drops): only what
        # the requests created counts.
        before = {id(o) for o in gc.get_objects()}
        answers = [await raw_get(app, path, IP["FR"]) for _ in range(20)]
        gc.collect()
        ours = [o for o in gc.garbage if id(o) not in before]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert all(messages[0]["type"] == "http.response.start" for messages in answers)
    assert not ours, ours[:5]


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"content-type", b"text/html"), (b"content-length", b"10")],
        [(b"vary", b"Accept-Encoding"), (b"content-type", b"text/html")],
        [(b"vary", b"cookie, Accept-Language"), (b"vary", b"*")],
        [(b"cache-control", b"public, max-age=60, s-maxage=600"), (b"etag", b'"x"')],
        [(b"cache-control", b"no-store"), (b"vary", b"Sec-GPC"), (b"set-cookie", b"a=1")],
    ],
)
def test_one_pass_personalization_gives_what_vary_merging_and_private_caching_give(
    headers: list[tuple[bytes, bytes]],
) -> None:
    from cookiegate.gate import make_private, merge_vary
    from cookiegate.gate._headers import personalize

    expected = list(headers)
    merge_vary(expected, ("Cookie", "Sec-GPC"))
    make_private(expected)
    assert personalize(list(headers)) == expected


# -- pages a server would send from a file (the path send and zero-copy send extensions) -------------------


def _file_app(tmp_path: Path, content_type: bytes, how: str) -> tuple[Any, bytes]:
    """An app sending ``PAGE`` from a file as ``how`` says; returns it and the file's bytes."""
    junk = b"\x00junk before the page\n"
    path = tmp_path / "page.bin"
    path.write_bytes(junk + PAGE.encode() + b"junk after")
    page = PAGE.encode()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        if how == "pathsend":
            only = tmp_path / "page.html"
            only.write_bytes(page)
            await send({"type": "http.response.pathsend", "path": str(only)})
            return
        with open(path, "rb") as fh:
            if how == "zerocopysend at an offset":
                await send({"type": "http.response.zerocopysend", "file": fh, "offset": len(junk),
                            "count": len(page)})
            else:  # from the file's position, in two sends, then a last body message
                fh.seek(len(junk))
                await send({"type": "http.response.zerocopysend", "file": fh, "count": 100, "more_body": True})
                await send({"type": "http.response.zerocopysend", "file": fh, "count": len(page) - 100,
                            "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app, page


@pytest.mark.parametrize("how", ["pathsend", "zerocopysend at an offset", "zerocopysend from the position"])
async def test_an_html_page_sent_from_a_file_is_read_and_rewritten_like_any_other(tmp_path: Path, how: str) -> None:
    app, _ = _file_app(tmp_path, b"text/html; charset=utf-8", how)
    messages = await raw_get(CookieGateMiddleware(app, config=make_config(tmp_path)), "/", IP["FR"])
    assert {m["type"] for m in messages} == {"http.response.start", "http.response.body"}
    body = b"".join(m["body"] for m in messages[1:])
    assert not messages[-1].get("more_body") and b"junk" not in body
    assert b"cookiegate-banner" in body and b"Kactuce CRM+" in body
    assert not fetches(body.decode(), "www.googletagmanager.com")  # the page's tracker, neutralized
    assert not fetches(body.decode(), "www.facebook.com")


@pytest.mark.parametrize("how", ["pathsend", "zerocopysend at an offset"])
async def test_a_file_that_is_not_html_is_left_to_the_server_to_send(tmp_path: Path, how: str) -> None:
    app, _ = _file_app(tmp_path, b"application/octet-stream", how)
    messages = await raw_get(CookieGateMiddleware(app, config=make_config(tmp_path)), "/", IP["FR"])
    assert [m["type"] for m in messages] == ["http.response.start", "http.response." + how.split()[0]]


# -- documents a browser renders though they are not text/html ----------------------------------------------


def _raw_app(headers: list[tuple[bytes, bytes]], body: bytes, status: int = 200) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return app


@pytest.mark.parametrize(
    "headers",
    [[], [(b"content-type", b"application/xhtml+xml")], [(b"Content-Type", b"image/svg+xml; charset=utf-8")],
     [(b"content-type", b"text/xml")], [(b"content-type", b"unknown/unknown")]],
    ids=["no content-type (sniffed)", "xhtml", "svg", "xml", "unknown"],
)
async def test_a_document_that_is_not_text_html_gets_an_enforced_policy_admitting_only_allowed_vendors(
    tmp_path: Path, headers: list[tuple[bytes, bytes]]
) -> None:
    # A browser renders these, and runs their scripts: a page with no Content-Type is sniffed as HTML.
    # They are not rewritten (an XML parser refuses unquoted attributes); the policy keeps refused vendors out.
    body = PAGE.encode()
    app = CookieGateMiddleware(_raw_app(headers, body), config=make_config(tmp_path))
    start, sent = await raw_get(app, "/", IP["FR"])
    out = dict(start["headers"])
    policy = out[b"content-security-policy"].decode()
    assert policy.startswith("default-src 'self'") and "googletagmanager" not in policy and "facebook" not in policy
    assert b"Cookie" in out[b"vary"] and out[b"cache-control"] == b"private"  # the policy is this visitor's
    assert sent["body"] == body


@pytest.mark.parametrize("content_type", [b" text/html", b"\tTEXT/HTML ; charset=utf-8"])
async def test_an_html_content_type_with_leading_whitespace_is_still_an_html_page(
    tmp_path: Path, content_type: bytes
) -> None:
    app = CookieGateMiddleware(_raw_app([(b"content-type", content_type)], PAGE.encode()), config=make_config(tmp_path))
    messages = await raw_get(app, "/", IP["FR"])
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert b"cookiegate-banner" in body and not fetches(body.decode(), "www.googletagmanager.com")


@pytest.mark.parametrize(("status", "method"), [(302, "GET"), (304, "GET"), (204, "GET"), (200, "HEAD")])
async def test_a_response_without_a_content_type_that_no_browser_renders_goes_out_as_it_came(
    tmp_path: Path, status: int, method: str
) -> None:
    headers = [(b"location", b"/elsewhere")]
    app = CookieGateMiddleware(_raw_app(headers, b"", status), config=make_config(tmp_path))
    scope = {"type": "http", "method": method, "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [(b"host", b"testserver")], "client": (IP["FR"], 1), "server": ("testserver", 80),
             "scheme": "http", "http_version": "1.1", "root_path": ""}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["headers"] == headers and sent[0]["status"] == status


# -- response headers that make the browser fetch -----------------------------------------------------------

_LINKS = (b'<https://www.googletagmanager.com/gtag/js?id=G-1>; rel=preload; as=script, </static/site.css>; '
          b'rel=preload; as=style; title="a, b", <https://connect.facebook.net>; rel=preconnect, '
          b'</static/hero.png>; rel=preload; as=image; imagesrcset="https://www.facebook.com/tr?id=1 1x, /h.png 2x"')


@pytest.mark.parametrize("content_type", [b"text/html; charset=utf-8", None], ids=["html", "no content-type"])
async def test_link_and_refresh_headers_lose_what_reaches_a_refused_vendor_and_keep_the_rest(
    tmp_path: Path, content_type: bytes | None
) -> None:
    # A browser preloads, preconnects and refreshes from these headers itself, before reading any markup.
    headers = [(b"link", _LINKS), (b"refresh", b"5; url=https://www.facebook.com/tr?id=1&ev=PageView")]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    app = CookieGateMiddleware(_raw_app(headers, PAGE.encode()), config=make_config(tmp_path))
    refused = dict((await raw_get(app, "/", IP["FR"]))[0]["headers"])  # opt-in, first visit: nothing optional
    assert refused[b"link"] == b'</static/site.css>; rel=preload; as=style; title="a, b"'
    assert b"refresh" not in refused
    allowed = dict((await raw_get(app, "/", IP["US-CA"]))[0]["headers"])  # opt-out: allowed until refused
    assert allowed[b"link"] == _LINKS and allowed[b"refresh"].startswith(b"5; url=https://www.facebook.com/")


@pytest.mark.parametrize("refresh", [b"0 https://www.facebook.com/tr?id=1", b"0,'//www.facebook.com/tr?id=1'",
                                     b"1\tURL = https://www.face\xe2\x81\xa4book.com/tr?id=1",
                                     b".5;url=https://www.facebook.com/tr?id=1"])
async def test_a_refresh_header_to_a_refused_vendor_is_dropped_however_the_delay_is_separated(
    tmp_path: Path, refresh: bytes
) -> None:
    headers = [(b"content-type", b"text/html"), (b"refresh", refresh)]
    app = CookieGateMiddleware(_raw_app(headers, PAGE.encode()), config=make_config(tmp_path))
    assert b"refresh" not in dict((await raw_get(app, "/", IP["FR"]))[0]["headers"])


async def test_a_refresh_to_the_site_itself_and_links_a_browser_ignores_are_left_alone(tmp_path: Path) -> None:
    headers = [(b"content-type", b"text/html"), (b"refresh", b"0; url=/fr/"), (b"link", b"not a link, <>; rel=x")]
    app = CookieGateMiddleware(_raw_app(headers, PAGE.encode()), config=make_config(tmp_path))
    out = dict((await raw_get(app, "/", IP["FR"]))[0]["headers"])
    assert out[b"refresh"] == b"0; url=/fr/" and out[b"link"] == b"not a link, <>; rel=x"
