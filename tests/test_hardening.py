"""Hostile input through the whole middleware: cookies, proxy headers, the consent endpoint, markup.

Each class of bad input gets a clear, safe answer (a 4xx or a safe redirect, never a 500), changes
nothing it should not (no grant, no Set-Cookie, no wrong region), and never reaches the page as markup.
The module starts with a raw ASGI harness: httpx normalizes what it sends; an attacker does not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import html5lib
import itsdangerous
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware
from cookiegate.policy._catalog import Vendor
from cookiegate.policy._consent import Choice, ConsentCodec

from .helpers import IP, KEY, PAGE, fetches, make_config

pytestmark = pytest.mark.anyio

# -- harness ------------------------------------------------------------------------------------------

#: Hosts of the tracker tags in ``helpers.PAGE`` (analytics, social, ads).
PAGE_TRACKER_HOSTS = ("www.googletagmanager.com", "www.youtube.com", "www.facebook.com")
ORIGIN_OK = (b"origin", b"http://testserver")
FORM = (b"content-type", b"application/x-www-form-urlencoded")
JSON_CT = (b"content-type", b"application/json")


@dataclass
class Answer:
    """What the app sent back, plus how many request-body messages it pulled."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunks_read: int = 0
    raw: list[dict[str, Any]] = field(default_factory=list)

    def header(self, name: bytes) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value.decode("latin-1")
        return None

    def headers_named(self, name: bytes) -> list[str]:
        return [v.decode("latin-1") for k, v in self.headers if k.lower() == name]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


async def call(
    app: Any,
    *,
    method: str = "GET",
    path: str = "/",
    query: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    body_chunks: Sequence[bytes] = (),
    client: tuple[str, int] | None = (IP["FR"], 51000),
) -> Answer:
    """Run one request through ``app``. Asserts no response header carries CR, LF or NUL."""
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": client,
        "server": ("testserver", 80),
    }
    pending = list(body_chunks) or [b""]
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= len(pending):
            return {"type": "http.disconnect"}
        chunk = pending[read]
        read += 1
        return {"type": "http.request", "body": chunk, "more_body": read < len(pending)}

    messages: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        messages.append(dict(message))

    await app(scope, receive, send)
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    answer = Answer(int(start["status"]), list(start.get("headers", [])), body, read, messages)
    for key, value in answer.headers:
        assert not any(c in key + value for c in b"\r\n\x00"), (key, value)
    return answer


def hostile_site() -> Starlette:
    """Every path serves the tracker page; ``/whoami`` tells where the gateway placed the visitor."""

    async def page(request: Request) -> Response:
        resp = HTMLResponse(PAGE)
        resp.set_cookie("_ga", "GA1.1.1.1", max_age=100)
        return resp

    async def whoami(request: Request) -> Response:
        gate = request.scope["cookiegate"]
        return JSONResponse({"country": gate.location.country, "subdivision": gate.location.subdivision})

    return Starlette(routes=[Route("/whoami", whoami), Route("/{path:path}", page)])


def a_choice(revision: str = "1", *, allow_all: bool = True, issued_at: int | None = None) -> Choice:
    """A choice as the endpoint would store it (FR, explicit)."""
    return Choice(
        consent_id="abcdefghijklmnop",
        categories=dict.fromkeys(("functional", "analytics", "ads", "social"), allow_all),
        policy_revision=revision,
        regime_key="FR",
        regime_kind="opt-in",
        action="accept_all" if allow_all else "reject_all",
        issued_at=int(time.time()) if issued_at is None else issued_at,
    )


def assert_fail_closed_page(answer: Answer) -> None:
    """Served, banner shown, no tracker of ``PAGE`` fetchable, the analytics cookie dropped."""
    assert answer.status == 200
    assert "cookiegate-banner" in answer.text
    for host in PAGE_TRACKER_HOSTS:
        assert not fetches(answer.text, host), host
    assert not any(c.startswith("_ga=") for c in answer.headers_named(b"set-cookie"))


@pytest.fixture
def app(tmp_path: Path) -> CookieGateMiddleware:
    return CookieGateMiddleware(hostile_site(), config=make_config(tmp_path, trusted_proxies=("10.0.0.0/8",)))


# -- cookies ------------------------------------------------------------------------------------------

CODEC = ConsentCodec([KEY], policy_revision="1", max_age=180 * 86400)
GOOD = CODEC.encode(a_choice())


def _flip(value: str, i: int) -> str:
    return value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1 :]


def _signed_by(keys: list[str], salt: str, payload: object) -> str:
    return str(itsdangerous.URLSafeTimedSerializer(keys, salt=salt).dumps(payload))


# (id, Cookie header bytes, counted as a rejected cookie)
BAD_COOKIES: list[tuple[str, bytes, bool]] = [
    ("tampered_payload", f"cookiegate_consent={_flip(GOOD, 5)}".encode(), True),
    ("tampered_signature", f"cookiegate_consent={_flip(GOOD, len(GOOD) - 3)}".encode(), True),
    ("wrong_salt", f"cookiegate_consent={_signed_by([KEY], 'x', a_choice().to_payload())}".encode(), True),
    (
        "unknown_key",
        f"cookiegate_consent={_signed_by(['z' * 40], 'cookiegate.consent.v1', a_choice().to_payload())}".encode(),
        True,
    ),
    ("truncated", f"cookiegate_consent={GOOD[:-6]}".encode(), True),
    ("payload_only", f"cookiegate_consent={GOOD.split('.')[0]}".encode(), True),
    ("oversized", b"cookiegate_consent=" + GOOD.encode() + b"A" * 4200, True),
    ("non_utf8", b"cookiegate_consent=\xff\xfe\xc3(" + GOOD.encode()[4:], True),
    ("nul_bytes", b"cookiegate_consent=" + GOOD.encode()[:10] + b"\x00" + GOOD.encode()[10:], True),
    ("empty", b"cookiegate_consent=", True),
    (
        "duplicated_names_conflicting",
        f"cookiegate_consent={GOOD}; cookiegate_consent={CODEC.encode(a_choice(allow_all=False))}".encode(),
        True,
    ),
    (
        "expired",
        f"cookiegate_consent={CODEC.encode(a_choice(issued_at=int(time.time()) - 400 * 86400))}".encode(),
        True,
    ),
    (
        "bad_payload_shape",
        f"cookiegate_consent={_signed_by([KEY], 'cookiegate.consent.v1', {'v': 1, 'id': '<script>'})}".encode(),
        True,
    ),
    ("other_policy_revision", f"cookiegate_consent={CODEC.encode(a_choice(revision='0'))}".encode(), False),
    ("garbage_quoted", b'cookiegate_consent="."', True),
    ("many_dots", b"cookiegate_consent=" + b".".join([b"QQ"] * 400), True),
]


@pytest.mark.parametrize(("case", "cookie", "counted"), BAD_COOKIES, ids=[c[0] for c in BAD_COOKIES])
async def test_bad_consent_cookie_is_no_choice_counted_once_and_never_a_500(
    app: CookieGateMiddleware, case: str, cookie: bytes, counted: bool
) -> None:
    codec = app.gateway.codec
    before = codec.rejections
    page = await call(app, headers=[(b"cookie", cookie)])
    assert_fail_closed_page(page)
    # One request decodes the cookie once: one warning counted, not one per use.
    assert codec.rejections - before == (1 if counted else 0)
    state = await call(app, path="/cookiegate/consent", headers=[(b"cookie", cookie)])
    assert state.status == 200 and json.loads(state.body)["chosen"] is False
    for path in ("/cookiegate/settings", "/cookiegate/cookies"):
        assert (await call(app, path=path, headers=[(b"cookie", cookie)])).status == 200
    mine = await call(app, path="/cookiegate/my-records", headers=[(b"cookie", cookie)])
    assert mine.status == 404


async def test_the_good_cookie_of_the_table_is_honoured(app: CookieGateMiddleware) -> None:
    # Guards the table above: the same cookie, untouched, does grant (so the refusals mean something).
    page = await call(app, headers=[(b"cookie", f"cookiegate_consent={GOOD}".encode())])
    assert page.status == 200 and fetches(page.text, "www.googletagmanager.com")
    dup_same = f"cookiegate_consent={GOOD}; other=1; cookiegate_consent={GOOD}".encode()
    assert fetches((await call(app, headers=[(b"cookie", dup_same)])).text, "www.googletagmanager.com")


async def test_key_rotation_keeps_every_visitor_and_the_newest_key_signs(tmp_path: Path) -> None:
    old, new = "old-key-" + "o" * 40, "new-key-" + "n" * 40
    before = CookieGateMiddleware(hostile_site(), config=make_config(tmp_path, secret_keys=(old,)))
    granted = await call(
        before,
        method="POST",
        path="/cookiegate/consent",
        headers=[ORIGIN_OK, FORM],
        body_chunks=[b"action=accept_all"],
    )
    cookie = granted.headers_named(b"set-cookie")[0].split(";")[0].encode()
    rotated = CookieGateMiddleware(hostile_site(), config=make_config(tmp_path, secret_keys=(old, new)))
    page = await call(rotated, headers=[(b"cookie", cookie)])
    assert fetches(page.text, "www.googletagmanager.com"), "rotation logged the visitor out"
    again = await call(
        rotated,
        method="POST",
        path="/cookiegate/consent",
        headers=[ORIGIN_OK, FORM, (b"cookie", cookie)],
        body_chunks=[b"action=accept_all"],
    )
    resigned = again.headers_named(b"set-cookie")[0].split(";")[0].split("=", 1)[1]
    assert ConsentCodec([new], policy_revision="1", max_age=3600).decode(resigned) is not None
    assert ConsentCodec([old], policy_revision="1", max_age=3600).decode(resigned) is None


# -- proxies ------------------------------------------------------------------------------------------

TRUSTED = "10.0.0.7"
# (id, peer, headers, expected country or None for unknown)
PROXY_CASES: list[tuple[str, str | None, list[tuple[bytes, bytes]], str | None]] = [
    ("untrusted_peer_forged_xff", IP["FR"], [(b"x-forwarded-for", IP["US-CA"].encode())], "FR"),
    ("untrusted_peer_forged_forwarded", IP["FR"], [(b"forwarded", f"for={IP['US-CA']}".encode())], "FR"),
    (
        "untrusted_peer_forged_both",
        IP["JP"],
        [(b"x-forwarded-for", b"85.0.1.10"), (b"forwarded", b"for=85.0.1.10")],
        "JP",
    ),
    ("untrusted_private_peer_forged_xff", "192.168.1.9", [(b"x-forwarded-for", IP["US-CA"].encode())], None),
    ("trusted_peer_real_client", TRUSTED, [(b"x-forwarded-for", IP["US-CA"].encode())], "US"),
    (
        "trusted_peer_client_prepends_a_forgery",
        TRUSTED,
        [(b"x-forwarded-for", f"{IP['FR']}, {IP['JP']}".encode())],
        "JP",
    ),
    (
        "trusted_chain_skips_inner_proxies",
        TRUSTED,
        [(b"x-forwarded-for", f"{IP['BR']}, 10.1.1.1, 10.2.2.2".encode())],
        "BR",
    ),
    ("trusted_forwarded_v6_port_quoted", TRUSTED, [(b"forwarded", b'for="[2a01:e00::5]:4711";proto=https')], "FR"),
    ("trusted_xff_v6_zone", TRUSTED, [(b"x-forwarded-for", b"2600:1700::9%eth0")], "US"),
    ("trusted_xff_v6_zone_uri_escaped_bracketed", TRUSTED, [(b"x-forwarded-for", b"[2a01:e00::1%25en0]:80")], "FR"),
    ("trusted_xff_link_local_zone", TRUSTED, [(b"x-forwarded-for", b"fe80::1%eth0")], None),
    ("trusted_xff_garbage", TRUSTED, [(b"x-forwarded-for", b"<script>alert(1)</script>")], None),
    ("trusted_xff_garbage_right_of_forgery", TRUSTED, [(b"x-forwarded-for", f"{IP['FR']}, garbage".encode())], None),
    ("trusted_xff_unknown_token", TRUSTED, [(b"forwarded", b"for=unknown")], None),
    ("trusted_xff_obfuscated", TRUSTED, [(b"forwarded", b"for=_hidden, for=_x")], None),
    ("trusted_xff_non_latin_bytes", TRUSTED, [(b"x-forwarded-for", b"\xff\xfe1.0.2.10")], None),
    ("trusted_xff_empty_items", TRUSTED, [(b"x-forwarded-for", b", , ,")], None),
    ("trusted_thousands_of_hops", TRUSTED, [(b"x-forwarded-for", ", ".join([IP["US-CA"]] * 5000).encode())], None),
    ("trusted_many_header_lines", TRUSTED, [(b"x-forwarded-for", IP["US-CA"].encode())] * 3000, None),
    ("trusted_oversized_header", TRUSTED, [(b"x-forwarded-for", b"1" * 9000 + b", " + IP["US-CA"].encode())], None),
    ("trusted_forwarded_syntax_error", TRUSTED, [(b"forwarded", b'for="1.0.2.10;for=85.0.1.10')], None),
    ("trusted_forwarded_repeated_for", TRUSTED, [(b"forwarded", b"for=85.0.1.10;for=1.0.2.10")], None),
    ("no_client_at_all", None, [(b"x-forwarded-for", IP["US-CA"].encode())], None),
    ("peer_is_not_an_address", "unix-socket", [(b"x-forwarded-for", IP["US-CA"].encode())], None),
    ("peer_v6_with_zone", "fe80::1%eth0", [], None),
    ("peer_v4_mapped_v6", "::ffff:85.0.1.10", [], "FR"),
]


@pytest.mark.parametrize(("case", "peer", "headers", "country"), PROXY_CASES, ids=[c[0] for c in PROXY_CASES])
async def test_location_comes_from_the_real_peer_or_is_unknown(
    app: CookieGateMiddleware, case: str, peer: str | None, headers: list[tuple[bytes, bytes]], country: str | None
) -> None:
    answer = await call(app, path="/whoami", headers=headers, client=(peer, 5000) if peer else None)
    assert answer.status == 200
    assert json.loads(answer.body)["country"] == country
    page = await call(app, headers=headers, client=(peer, 5000) if peer else None)
    if country in (None, "FR", "BR"):  # opt-in or strictest: nothing may fire before a choice
        assert_fail_closed_page(page)


# -- consent endpoint ---------------------------------------------------------------------------------

# (id, headers, body chunks, expected status)
ENDPOINT_CASES: list[tuple[str, list[tuple[bytes, bytes]], list[bytes], int]] = [
    ("cross_site_origin", [(b"origin", b"https://evil.example"), FORM], [b"action=accept_all"], 403),
    ("cross_site_referer", [(b"referer", b"https://evil.example/x"), FORM], [b"action=accept_all"], 403),
    ("lookalike_origin", [(b"origin", b"http://testserver.evil.example"), FORM], [b"action=accept_all"], 403),
    ("userinfo_origin", [(b"origin", b"http://testserver@evil.example"), FORM], [b"action=accept_all"], 403),
    ("origin_other_port", [(b"origin", b"http://testserver:8080"), FORM], [b"action=accept_all"], 403),
    ("origin_other_scheme", [(b"origin", b"https://testserver"), FORM], [b"action=accept_all"], 403),
    ("null_origin", [(b"origin", b"null"), FORM], [b"action=accept_all"], 403),
    ("missing_origin_on_form_post", [FORM], [b"action=accept_all"], 403),
    ("garbage_origin", [(b"origin", b"\xff\xfe//"), FORM], [b"action=accept_all"], 403),
    ("sec_fetch_cross_site", [ORIGIN_OK, (b"sec-fetch-site", b"cross-site"), FORM], [b"action=accept_all"], 403),
    ("json_array", [ORIGIN_OK, JSON_CT], [b"[]"], 400),
    ("json_null", [ORIGIN_OK, JSON_CT], [b"null"], 400),
    ("json_string", [ORIGIN_OK, JSON_CT], [b'"accept_all"'], 400),
    ("json_action_list", [ORIGIN_OK, JSON_CT], [b'{"action":["accept_all"]}'], 400),
    ("json_categories_list", [ORIGIN_OK, JSON_CT], [b'{"action":"save","categories":["ads"]}'], 400),
    ("json_category_string_true", [ORIGIN_OK, JSON_CT], [b'{"action":"save","categories":{"ads":"true"}}'], 400),
    ("json_category_number", [ORIGIN_OK, JSON_CT], [b'{"action":"save","categories":{"ads":1}}'], 400),
    ("json_next_number", [ORIGIN_OK, JSON_CT], [b'{"action":"reject_all","next":5}'], 400),
    ("json_unknown_category", [ORIGIN_OK, JSON_CT], [b'{"action":"save","categories":{"telemetry":true}}'], 400),
    ("json_refuse_necessary", [ORIGIN_OK, JSON_CT], [b'{"action":"accept_all","categories":{"necessary":false}}'], 400),
    ("json_deep_nesting", [ORIGIN_OK, JSON_CT], [b"[" * 7000], 400),
    ("json_huge_integer", [ORIGIN_OK, JSON_CT], [b'{"action":' + b"9" * 5000 + b"}"], 400),
    ("json_not_utf8", [ORIGIN_OK, JSON_CT], [b'{"action":"\xff"}'], 400),
    ("json_gpc_action_forged", [ORIGIN_OK, JSON_CT], [b'{"action":"gpc"}'], 400),
    ("form_unknown_category", [ORIGIN_OK, FORM], [b"action=save&category=telemetry"], 400),
    ("form_markup_category", [ORIGIN_OK, FORM], [b"action=save&category=%3Cscript%3E"], 400),
    ("form_unknown_field", [ORIGIN_OK, FORM], [b"action=save&admin=1"], 400),
    ("form_unknown_action", [ORIGIN_OK, FORM], [b"action=grant_everything"], 400),
    ("form_header_injection_in_action", [ORIGIN_OK, FORM], [b"action=save%0d%0aSet-Cookie:%20x=1"], 400),
    ("form_too_many_fields", [ORIGIN_OK, FORM], [b"&".join([b"category=ads"] * 200)], 400),
    ("form_not_utf8", [ORIGIN_OK, FORM], [b"action=\xff\xfe"], 400),
    ("form_malformed", [ORIGIN_OK, FORM], [b"action"], 400),
    ("no_content_type", [ORIGIN_OK], [b"action=accept_all"], 415),
    ("xml_body", [ORIGIN_OK, (b"content-type", b"text/xml")], [b"<a/>"], 415),
    ("multipart_body", [ORIGIN_OK, (b"content-type", b"multipart/form-data; boundary=x")], [b"--x--"], 415),
]


@pytest.mark.parametrize(("case", "headers", "body", "status"), ENDPOINT_CASES, ids=[c[0] for c in ENDPOINT_CASES])
async def test_bad_consent_posts_get_a_4xx_and_change_nothing(
    app: CookieGateMiddleware, case: str, headers: list[tuple[bytes, bytes]], body: list[bytes], status: int
) -> None:
    answer = await call(app, method="POST", path="/cookiegate/consent", headers=headers, body_chunks=body)
    assert answer.status == status, answer.text
    assert answer.headers_named(b"set-cookie") == []
    assert answer.header(b"content-type") == "text/plain; charset=utf-8"
    assert answer.header(b"x-content-type-options") == "nosniff"


async def test_an_oversized_body_is_refused_413_without_reading_it_all(app: CookieGateMiddleware) -> None:
    limit = app.gateway.config.max_body_bytes
    chunks = [b"x" * 1024] * 200
    answer = await call(app, method="POST", path="/cookiegate/consent", headers=[ORIGIN_OK, FORM], body_chunks=chunks)
    assert answer.status == 413 and answer.headers_named(b"set-cookie") == []
    assert answer.chunks_read <= limit // 1024 + 1 < len(chunks)


async def test_a_declared_oversized_body_is_refused_before_reading_anything(app: CookieGateMiddleware) -> None:
    answer = await call(
        app,
        method="POST",
        path="/cookiegate/consent",
        headers=[ORIGIN_OK, FORM, (b"content-length", b"99999999999999999999999")],
        body_chunks=[b"action=accept_all"],
    )
    assert answer.status == 413 and answer.chunks_read == 0


NEXT_CASES: list[tuple[str, str, str]] = [
    ("protocol_relative", "//evil.example", "/"),
    ("absolute_https", "https://evil.example", "/"),
    ("backslash", "/\\evil.example", "/"),
    ("backslash_second", "/\\/evil.example", "/"),
    ("triple_slash", "///evil.example", "/"),
    ("tab_inside", "/\t/evil.example", "/"),
    ("crlf_header_injection", "/ok\r\nSet-Cookie: x=1", "/"),
    ("lf_only", "/ok\nLocation: https://evil.example", "/"),
    ("nul", "/ok\x00evil", "/"),
    ("javascript", "javascript:alert(1)", "/"),
    ("data_url", "data:text/html,<script>alert(1)</script>", "/"),
    ("relative_no_slash", "evil.example", "/"),
    ("empty", "", "/"),
    ("huge", "/" + "a" * 5000, "/"),
    ("non_ascii_is_percent_encoded", "/café?q=ü", "/caf%C3%A9?q=%C3%BC"),
    ("line_separator_is_encoded", "/a\u2028b", "/a%E2%80%A8b"),
    ("plain_path_kept", "/pricing?plan=growth#faq", "/pricing?plan=growth#faq"),
]


@pytest.mark.parametrize(("case", "value", "location"), NEXT_CASES, ids=[c[0] for c in NEXT_CASES])
async def test_next_is_a_safe_same_origin_redirect(
    app: CookieGateMiddleware, case: str, value: str, location: str
) -> None:
    from urllib.parse import urlencode

    body = urlencode({"action": "reject_all", "next": value}).encode()
    answer = await call(app, method="POST", path="/cookiegate/consent", headers=[ORIGIN_OK, FORM], body_chunks=[body])
    assert answer.status == 303 and answer.header(b"location") == location
    assert (answer.header(b"location") or "").isascii()


# -- markup -------------------------------------------------------------------------------------------

MARK = "\"'><xss-marker onxss=1></xss-marker><!--"


def _injected(html: bytes) -> list[str]:
    """Elements or attributes an HTML5 parser builds from the marker (what a browser would run)."""
    found: list[str] = []
    tree = html5lib.parse(html, treebuilder="etree", namespaceHTMLElements=False)
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "xss-marker":
            found.append("element")
        if "onxss" in element.attrib:
            found.append(f"attribute on {element.tag}")
    return found


def _quoted(value: str) -> bytes:
    from urllib.parse import quote

    return quote(value, safe="").encode()


MARKUP_CASES: list[tuple[str, str, bytes, list[tuple[bytes, bytes]]]] = [
    ("path", "/" + MARK, b"", []),
    ("query", "/", b"q=" + _quoted(MARK), []),
    ("raw_query", "/", MARK.encode(), []),
    ("accept_language", "/", b"", [(b"accept-language", MARK.encode())]),
    ("accept_language_quality_games", "/", b"", [(b"accept-language", b"fr;q=1," + MARK.encode() + b";q=2")]),
    ("user_agent", "/", b"", [(b"user-agent", MARK.encode())]),
    ("referer", "/", b"", [(b"referer", MARK.encode())]),
    ("settings_next", "/cookiegate/settings", b"next=" + _quoted("/" + MARK), []),
    ("settings_accept_language", "/cookiegate/settings", b"", [(b"accept-language", MARK.encode())]),
    ("statement_accept_language", "/cookiegate/cookies", b"", [(b"accept-language", MARK.encode())]),
    ("statement_user_agent", "/cookiegate/cookies", b"", [(b"user-agent", MARK.encode())]),
]


@pytest.mark.parametrize(("case", "path", "query", "headers"), MARKUP_CASES, ids=[c[0] for c in MARKUP_CASES])
async def test_visitor_controlled_values_never_become_markup(
    app: CookieGateMiddleware, case: str, path: str, query: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    answer = await call(app, path=path, query=query, headers=headers)
    assert answer.status == 200
    assert _injected(answer.body) == []


def test_the_markup_oracle_sees_an_injection() -> None:
    assert _injected(f"<p title=x>{MARK}</p>".encode()) != []


async def test_config_copy_never_becomes_markup(tmp_path: Path) -> None:
    hostile = Vendor(
        id="hostile-widget",
        name="Widget " + MARK,
        category="social",
        purpose="Purpose " + MARK,
        hosts=("widget.example",),
        cookie_lifetime="1 year " + MARK,
        cookies=("_hw",),
    )
    gate = CookieGateMiddleware(hostile_site_with_embed(), config=make_config(tmp_path, tags=(hostile,)))
    for path in ("/", "/cookiegate/cookies", "/cookiegate/settings"):
        answer = await call(gate, path=path)
        assert answer.status == 200
        assert _injected(answer.body) == [], path
    page = await call(gate)
    assert "Widget " in page.text, "the placeholder should name the vendor (escaped)"


def hostile_site_with_embed() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse("<html><head></head><body><iframe src='https://widget.example/w'></iframe></body></html>")

    return Starlette(routes=[Route("/", page)])


# Counts by class, for the figures in docs/hardening.md (printed by `pytest -s -k reliability_counts`).
INPUT_CLASSES: dict[str, Sequence[object]] = {
    "cookies": BAD_COOKIES,
    "proxy headers": PROXY_CASES,
    "consent endpoint": ENDPOINT_CASES,
    "redirect targets": NEXT_CASES,
    "markup injection": MARKUP_CASES,
}


def test_reliability_counts(capsys: pytest.CaptureFixture[str]) -> None:
    counts: dict[str, int] = {name: len(rows) for name, rows in INPUT_CLASSES.items()}
    assert all(counts.values())
    with capsys.disabled():
        print("\nhardening input tables:", json.dumps(counts))
