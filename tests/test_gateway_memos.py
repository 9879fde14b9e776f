"""What a gateway remembers across responses (decisions, rewriter settings per Host, the head and body
injections, filled placeholders, remembered pages) is a cache of a function of the request: no sequence of
earlier requests changes what a later one gets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware
from cookiegate.gate import _headers
from cookiegate.policy._consent import Choice

from .helpers import IP, PAGE, make_config

#: The page: catalogued vendors, an embed (a placeholder), an unclassified host, and references to hosts a
#: request's own Host header can make first party.
SITE_PAGE = PAGE.replace(
    "</body>",
    '<script src="https://cdn.unknown-tracker.example/t.js"></script>'
    '<img src="https://www.kactuce.com/logo.png"><img src="https://evil.example/p.gif">'
    '<script src="//shop.example:8443/app.js"></script></body>',
)
HOSTS = [None, "localhost", "www.kactuce.com", "WWW.KACTUCE.COM:8443", "evil.example", "shop.example:8443",
         "[::1]:8000", "xn--caf-dma.example", "café.example"]
PATHS = ["/", "/?q=<b>", "/pricing?a=1&b=%22", "/" + "x" * 600]
PLACES = ["FR", "US-CA", "JP", "AU", "private"]
CHOICES = [None, "all", "none", "analytics"]
LANGUAGES = [None, "fr-FR,fr;q=0.9", "de", "en-US", "zz"]
ISSUED = int(time.time())


def site() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(SITE_PAGE)

    return Starlette(routes=[Route("/", page), Route("/pricing", page), Route("/" + "x" * 600, page)])


def gateway_app(tmp_path: Path) -> CookieGateMiddleware:
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, cookie_domain="kactuce.com"))
    app.gateway.first_request = False  # no store or refresh task: nothing but the memos outlives a response
    return app


def cookie(app: CookieGateMiddleware, which: str) -> str:
    categories = {c: which == "all" or c == which for c in ("functional", "analytics", "ads", "social")}
    codec = app.gateway.codec
    choice = Choice(consent_id="memo-test-visitor-0001", categories=categories,
                    policy_revision=codec.policy_revision, regime_key="FR", regime_kind="opt-in",
                    action="accept_all" if which == "all" else "save", issued_at=ISSUED)
    return f"{app.gateway.config.cookie_name}={codec.encode(choice)}"


Request_ = tuple[str | None, str, str, str | None, str | None, bool]
requests = st.tuples(st.sampled_from(HOSTS), st.sampled_from(PATHS), st.sampled_from(PLACES),
                     st.sampled_from(CHOICES), st.sampled_from(LANGUAGES), st.booleans())


def send(app: CookieGateMiddleware, request: Request_) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    host, target, place, which, language, gpc = request
    path, _, query = target.partition("?")
    headers = [(b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0")]
    if host is not None:
        headers.append((b"host", host.encode("utf-8")))
    if which is not None:
        headers.append((b"cookie", cookie(app, which).encode("latin-1")))
    if language is not None:
        headers.append((b"accept-language", language.encode()))
    if gpc:
        headers.append((b"sec-gpc", b"1"))
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query.encode(), "headers": headers,
        "client": (IP[place], 51000), "server": ("127.0.0.1", 8000), "root_path": "",
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def collect(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, collect))
    start = sent[0]
    # The CSP lists every vendor the site's pages showed so far (by design it learns the site); the rest of
    # the response is a function of the request.
    kept = [(k, v) for k, v in start["headers"] if not k.startswith(b"content-security-policy")]
    return start["status"], kept, b"".join(m.get("body", b"") for m in sent[1:])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(history=st.lists(requests, min_size=1, max_size=6), target=requests)
def test_no_sequence_of_earlier_requests_changes_what_a_later_one_gets(
    tmp_path: Path, history: list[Request_], target: Request_
) -> None:
    shared = gateway_app(tmp_path)
    for earlier in history:
        send(shared, earlier)
    fresh = gateway_app(tmp_path)
    for _ in range(2):  # the second time from what the first one left in the memos
        assert send(shared, target) == send(fresh, target)


content_types = st.one_of(
    st.sampled_from([b"text/html", b" TEXT/HTML; charset=utf-8", b"application/json", b"image/svg+xml", b"",
                     b"text/xml", b"*/*", b"text/htmlx", b"\ttext/plain"]),
    st.binary(max_size=40),
)


@given(earlier=st.lists(content_types, max_size=20), value=content_types)
def test_the_kind_of_a_content_type_is_the_same_whatever_was_asked_before(earlier: list[bytes], value: bytes) -> None:
    for seen in earlier:
        _headers.page_kind(seen)
    assert _headers.page_kind(value) == _headers._page_kind(value) == _headers.page_kind(bytearray(value))
