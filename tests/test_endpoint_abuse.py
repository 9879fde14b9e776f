"""The gateway's own endpoints against the abuse an open endpoint invites (issue 23, items 6–11): admin
lock-out and token leaks, consent and report floods, planted cookies, forged log lines, Host in Set-Cookie."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from cookiegate import CookieGateMiddleware
from cookiegate.routes._consent import RECORD_PATH_CHARS

from .helpers import IP, ORIGIN, client, make_config

pytestmark = pytest.mark.anyio

TOKEN = "admin-token-" + "z" * 40
BEARER = {"authorization": f"Bearer {TOKEN}"}


def echo_headers_app(seen: list[dict[str, str]]) -> Any:
    """An app that answers with the request headers it was given (as JSON), and keeps them."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        seen.append(headers)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": json.dumps(headers).encode()})

    return app


async def raw_call(
    app: Any, path: str, headers: list[tuple[bytes, bytes]], ip: str = IP["FR"], status: list[int] | None = None
) -> dict[str, Any]:
    """One GET through ``app`` with a hand-built scope (headers as raw bytes, unlike httpx's); returns the scope
    as the app left it, and appends the answer's status to ``status``."""
    scope: dict[str, Any] = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver"), *headers], "client": (ip, 51000), "server": ("testserver", 80),
    }  # fmt: skip

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        if message["type"] == "http.response.start" and status is not None:
            status.append(message["status"])

    await app(scope, receive, send)
    return scope


# -- 6. admin lock-out and the token reaching the app ---------------------------------------------------


async def test_wrong_tokens_from_many_addresses_never_lock_out_the_right_token(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    for i in range(11):
        async with client(mw, f"85.0.1.{100 + i}") as attacker:
            for j in range(10):
                wrong = await attacker.get("/cookiegate/admin", headers={"authorization": f"Bearer wrong{j}"})
                assert wrong.status_code == 401
            limited = await attacker.get("/cookiegate/admin", headers={"authorization": "Bearer wrong"})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            # The attacker's own address is limited for wrong tokens only: the right one still gets in.
            assert (await attacker.get("/cookiegate/admin", headers=BEARER)).status_code == 200
    async with client(mw, IP["DE"]) as admin:
        assert (await admin.get("/cookiegate/admin", headers=BEARER)).status_code == 200
        assert (await admin.get("/cookiegate/admin", headers={"authorization": "Bearer wrong"})).status_code == 401


async def test_an_ipv6_client_is_counted_by_its_64(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    statuses = []
    for i in range(12):
        # Every wrong token from a new address of the same /64: one client.
        async with client(mw, f"2001:db8:1:2::{i + 1:x}") as rotating:
            answer = await rotating.get("/cookiegate/admin", headers={"authorization": "Bearer x"})
        statuses.append(answer.status_code)
    assert statuses == [401] * 10 + [429, 429]
    async with client(mw, "2001:db8:1:3::1") as neighbour:
        assert (await neighbour.get("/cookiegate/admin", headers={"authorization": "Bearer x"})).status_code == 401


def _basic(password: bytes) -> str:
    return "Basic " + base64.b64encode(b"admin:" + password).decode()


@pytest.mark.parametrize(
    ("token_configured", "headers"),
    [
        (False, {"cookiegate-preview": "country=FR", **BEARER}),
        (True, {"cookiegate-preview": "country=FR", "authorization": "Bearer wrong"}),
        (True, {"cookiegate-preview": "country=FRANCE", **BEARER}),
        (True, {"cookiegate-preview": "foo=1", **BEARER}),
        (True, {"cookiegate-preview": "country=FR", "authorization": "Basic !!!"}),
        (True, {"cookiegate-preview": "country=FR", "authorization": _basic(TOKEN.encode())}),
        (True, {"cookiegate-preview": "country=FR", **BEARER}),
    ],
    ids=["no-token-configured", "wrong-token", "unknown-country", "unknown-field", "malformed-basic", "basic", "ok"],
)
async def test_the_admin_credentials_and_the_preview_header_never_reach_the_app(
    tmp_path: Path, token_configured: bool, headers: dict[str, str]
) -> None:
    seen: list[dict[str, str]] = []
    config = make_config(tmp_path, admin_token=TOKEN if token_configured else None)
    mw = CookieGateMiddleware(echo_headers_app(seen), config=config)
    async with client(mw, IP["JP"]) as c:
        echoed = (await c.get("/", headers=headers)).json()
    assert "authorization" not in echoed and "cookiegate-preview" not in echoed
    assert TOKEN not in json.dumps(seen)


async def test_a_preview_limited_client_still_never_passes_its_token_on(tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []
    mw = CookieGateMiddleware(echo_headers_app(seen), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["JP"]) as c:
        for i in range(12):
            await c.get("/", headers={"cookiegate-preview": "country=FR", "authorization": f"Bearer wrong{i}"})
    assert seen and all("authorization" not in h and "cookiegate-preview" not in h for h in seen)


async def test_an_app_authorization_header_without_a_preview_is_left_alone(tmp_path: Path) -> None:
    seen: list[dict[str, str]] = []
    mw = CookieGateMiddleware(echo_headers_app(seen), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["JP"]) as c:
        await c.get("/", headers={"authorization": "Bearer the-apps-own-session"})
    assert seen[0]["authorization"] == "Bearer the-apps-own-session"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/cookiegate/admin", [(b"authorization", f"Bearer {TOKEN}".encode())]),
        ("/cookiegate/admin/data.json", [(b"authorization", b"Bearer wrong")]),
        ("/cookiegate/health", [(b"cookiegate-preview", b"country=FR"), (b"authorization", b"Bearer wrong")]),
    ],
)
async def test_requests_to_the_gateways_routes_leave_without_the_admin_credentials(
    tmp_path: Path, path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    scope = await raw_call(mw, path, headers)
    names = {k for k, _ in scope["headers"]}
    assert b"authorization" not in names and b"cookiegate-preview" not in names


# -- 7. consent POST floods -------------------------------------------------------------------------------


async def _records(mw: CookieGateMiddleware) -> list[dict[str, Any]]:
    return [r async for r in mw.gateway.store.export()]


async def test_consent_writes_are_limited_per_client_and_a_refused_one_writes_nothing(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path))
    async with client(mw, IP["FR"]) as flood:
        answers = [
            await flood.post("/cookiegate/consent", data={"action": "accept_all", "next": "/"}, headers=ORIGIN)
            for _ in range(14)
        ]
    assert [a.status_code for a in answers] == [303] * 10 + [429] * 4
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "set-cookie" not in refused.headers
    assert len(await _records(mw)) == 10
    async with client(mw, IP["DE"]) as neighbour:
        ok = await neighbour.post("/cookiegate/consent", data={"action": "reject_all", "next": "/"}, headers=ORIGIN)
        health = (await neighbour.get("/cookiegate/health")).json()
    assert ok.status_code == 303 and len(await _records(mw)) == 11
    assert health["refused_consent_writes"] == 4


async def test_consent_writes_from_one_ipv6_64_share_one_limit(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, consent_writes_per_minute=3))
    statuses = []
    for i in range(5):
        async with client(mw, f"2001:db8:7:7::{i + 1:x}") as c:
            answer = await c.post("/cookiegate/consent", json={"action": "reject_all"}, headers=ORIGIN)
        statuses.append(answer.status_code)
    assert statuses == [200, 200, 200, 429, 429]


async def test_consent_write_limit_can_be_turned_off(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, consent_writes_per_minute=0))
    async with client(mw, IP["FR"]) as c:
        for _ in range(15):
            answer = await c.post("/cookiegate/consent", json={"action": "reject_all"}, headers=ORIGIN)
            assert answer.status_code == 200


async def test_the_record_keeps_a_bounded_page_path(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path))
    long_next = "/" + "é" * 1000
    async with client(mw, IP["FR"]) as c:
        answer = await c.post("/cookiegate/consent", data={"action": "accept_all", "next": long_next}, headers=ORIGIN)
    assert answer.status_code == 303
    (record,) = await _records(mw)
    assert record["path"].startswith("/%C3%A9") and len(record["path"]) <= RECORD_PATH_CHARS
    assert len(json.dumps(record)) < 1500


# -- 8. CSP report floods ---------------------------------------------------------------------------------


def csp_report(host: str, page: str = "/p", directive: str = "img-src") -> dict[str, Any]:
    return {
        "csp-report": {
            "document-uri": f"http://testserver{page}",
            "blocked-uri": f"https://{host}/x.gif",
            "violated-directive": directive,
        }
    }


async def post_reports(c: Any, reports: list[dict[str, Any]]) -> Any:
    return await c.post(
        "/cookiegate/csp-report",
        content=json.dumps(reports if len(reports) > 1 else reports[0]).encode(),
        headers={"content-type": "application/csp-report"},
    )


async def leaks_shown(mw: CookieGateMiddleware) -> list[dict[str, Any]]:
    async with client(mw, IP["DE"]) as admin:
        data = (await admin.get("/cookiegate/admin/data.json", headers=BEARER)).json()
    leaks: list[dict[str, Any]] = data["leaks"]
    return leaks


async def test_csp_reports_are_limited_per_client(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, csp_reports_per_minute=5))
    async with client(mw, IP["FR"]) as flood:
        answers = [await post_reports(flood, [csp_report("t.example")]) for _ in range(7)]
    assert [a.status_code for a in answers] == [204] * 5 + [429] * 2
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    async with client(mw, IP["DE"]) as other:
        assert (await post_reports(other, [csp_report("t.example")])).status_code == 204
        health = (await other.get("/cookiegate/health")).json()
    assert health["refused_csp_reports"] == 2


async def test_a_flood_of_forged_reports_for_one_host_cannot_push_another_hosts_report_out(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["FR"]) as visitor:
        assert (await post_reports(visitor, [csp_report("genuine.example", "/pricing")])).status_code == 204
    for i in range(25):
        async with client(mw, f"72.0.1.{20 + i}") as forger:
            await post_reports(forger, [csp_report("forged.example", f"/f{j}") for j in range(20)])
    by_host = {g["host"]: g for g in await leaks_shown(mw)}
    assert by_host["genuine.example"]["total"] == 1 and by_host["genuine.example"]["pages"] == [["/pricing", 1]]
    forged = by_host["forged.example"]
    assert forged["total"] == 500 and forged["clients"] == 25 and not forged["single_address"]
    assert len(forged["pages"]) <= 20 and forged["other_pages"] == 500 - sum(n for _, n in forged["pages"])


async def test_hosts_reported_from_a_single_address_are_marked_and_no_address_is_kept(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    for ip in (IP["FR"], IP["DE"], IP["GB"]):
        async with client(mw, ip) as c:
            await post_reports(c, [csp_report("seen-by-many.example")])
    async with client(mw, IP["US-CA"]) as c:
        for _ in range(3):
            await post_reports(c, [csp_report("one-address.example")])
    by_host = {g["host"]: g for g in await leaks_shown(mw)}
    assert by_host["seen-by-many.example"]["clients"] == 3 and not by_host["seen-by-many.example"]["single_address"]
    assert by_host["one-address.example"]["clients"] == 1 and by_host["one-address.example"]["single_address"]
    assert by_host["one-address.example"]["first_seen"] <= by_host["one-address.example"]["last_seen"]
    async with client(mw, IP["DE"]) as admin:
        page = (await admin.get("/cookiegate/admin", headers=BEARER)).text
    row = next(r for r in page.split("<tr") if "one-address.example" in r)
    other = next(r for r in page.split("<tr") if "seen-by-many.example" in r)
    assert 'class="single-address"' in row and "single-address" not in other
    kept = repr(vars(mw.gateway)) + json.dumps(await leaks_shown(mw))
    assert not any(ip in kept for ip in (IP["FR"], IP["DE"], IP["GB"], IP["US-CA"]))


# -- 10. a planted consent cookie -------------------------------------------------------------------------


def _consent_cookie(answer: Any) -> tuple[str, str]:
    """(name, value) of the consent cookie an answer sets."""
    line = next(v for v in answer.headers.get_list("set-cookie") if "consent" in v.split("=", 1)[0])
    name, _, rest = line.partition("=")
    return name, rest.split(";", 1)[0]


async def _my_records(mw: CookieGateMiddleware, cookie: tuple[str, str]) -> dict[str, Any]:
    async with client(mw, IP["GB"]) as c:
        answer = await c.get("/cookiegate/my-records", headers={"cookie": f"{cookie[0]}={cookie[1]}"})
    result: dict[str, Any] = answer.json()
    return result


async def test_a_planted_cookie_cannot_link_the_victims_grant_to_its_planter(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path))
    async with client(mw, IP["DE"]) as planter:
        planted = _consent_cookie(
            await planter.post("/cookiegate/consent", data={"action": "reject_all", "next": "/"}, headers=ORIGIN)
        )
    async with client(mw, IP["FR"]) as victim:
        granted = await victim.post(
            "/cookiegate/consent",
            data={"action": "accept_all", "next": "/"},
            headers={**ORIGIN, "cookie": f"{planted[0]}={planted[1]}"},
        )
    victims = _consent_cookie(granted)
    planters_view, victims_view = await _my_records(mw, planted), await _my_records(mw, victims)
    assert planters_view["consent_id"] != victims_view["consent_id"]
    assert [r["action"] for r in planters_view["records"]] == ["reject_all"]
    assert [(r["action"], r["country"]) for r in victims_view["records"]] == [("accept_all", "FR")]


@pytest.mark.parametrize(
    ("first", "then", "same_id"),
    [
        ("accept_all", "reject_all", True),  # a withdrawal after a grant is the same visitor's
        ("reject_all", "reject_all", True),  # nothing granted: nothing to link
        ("reject_all", "accept_all", False),  # the first grant on this device: a fresh id
    ],
)
async def test_a_fresh_consent_id_comes_with_the_first_grant_on_a_device(
    tmp_path: Path, first: str, then: str, same_id: bool
) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path))
    async with client(mw, IP["FR"]) as c:
        one = _consent_cookie(await c.post("/cookiegate/consent", data={"action": first}, headers=ORIGIN))
        two = _consent_cookie(
            await c.post(
                "/cookiegate/consent", data={"action": then}, headers={**ORIGIN, "cookie": f"{one[0]}={one[1]}"}
            )
        )
    ids = [(await _my_records(mw, cookie))["consent_id"] for cookie in (one, two)]
    assert (ids[0] == ids[1]) is same_id


async def test_the_consent_cookie_is_host_only_with_the_host_prefix_without_a_cookie_domain(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, cookie_secure=True))
    async with client(mw, IP["FR"]) as c:
        answer = await c.post("/cookiegate/consent", data={"action": "reject_all"}, headers=ORIGIN)
    line = answer.headers["set-cookie"]
    assert line.startswith("__Host-cookiegate_consent=")
    assert "Secure" in line and "Path=/" in line and "domain" not in line.lower()


@pytest.mark.parametrize(
    ("overrides", "origin"),
    [({"cookie_secure": True, "cookie_domain": "kactuce.com"}, "https://www.kactuce.com"), ({}, ORIGIN["origin"])],
    ids=["cookie-domain", "plain-http"],
)
async def test_the_consent_cookie_keeps_its_name_where_the_host_prefix_cannot_apply(
    tmp_path: Path, overrides: dict[str, Any], origin: str
) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path, **overrides))
    async with client(mw, IP["FR"]) as c:
        answer = await c.post("/cookiegate/consent", data={"action": "reject_all"}, headers={"origin": origin})
    assert answer.headers["set-cookie"].startswith("cookiegate_consent=")


async def test_a_cookie_under_the_old_name_is_read_and_replaced_by_the_next_choice(tmp_path: Path) -> None:
    config = make_config(tmp_path, cookie_secure=True)
    mw = CookieGateMiddleware(echo_headers_app([]), config=config)
    old = "cookiegate_consent=" + _consent_cookie(await _post_as_plain_http(tmp_path, "accept_all"))[1]
    async with client(mw, IP["FR"]) as c:
        state = (await c.get("/cookiegate/consent", headers={"cookie": old})).json()
        assert "analytics" in state["allowed"]
        answer = await c.post(
            "/cookiegate/consent", data={"action": "reject_all"}, headers={**ORIGIN, "cookie": old}
        )
    lines = answer.headers.get_list("set-cookie")
    assert any(v.startswith("__Host-cookiegate_consent=") for v in lines)
    expired = [v for v in lines if v.startswith("cookiegate_consent=")]
    assert len(expired) == 1 and "Max-Age=0" in expired[0]


async def _post_as_plain_http(tmp_path: Path, action: str) -> Any:
    """A choice made when the consent cookie still had its old name (same keys, plain HTTP)."""
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path / "before"))
    async with client(mw, IP["FR"]) as c:
        return await c.post("/cookiegate/consent", data={"action": action}, headers=ORIGIN)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cookie_name": "__Host-consent", "cookie_domain": "kactuce.com", "cookie_secure": True}, "cookie_domain"),
        ({"cookie_name": "__Host-consent", "cookie_secure": False}, "cookie_secure"),
    ],
)
def test_a_host_prefixed_cookie_name_needs_what_the_prefix_needs(
    tmp_path: Path, overrides: dict[str, Any], message: str
) -> None:
    from cookiegate import ConfigError

    with pytest.raises(ConfigError, match=message):
        make_config(tmp_path, **overrides)


# -- 11. small ones ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "credential",
    [b"Basic \xe9t\xe9", b"Basic " + base64.b64encode(b"admin:\xff\xfe"), b"Basic YWRtaW46\xc3\xa9"],
    ids=["non-ascii-header", "non-utf8-password", "non-ascii-base64"],
)
async def test_odd_basic_credentials_answer_401_and_leave_the_error_log_alone(
    tmp_path: Path, credential: bytes
) -> None:
    seen: list[dict[str, str]] = []
    mw = CookieGateMiddleware(echo_headers_app(seen), config=make_config(tmp_path, admin_token=TOKEN))
    status: list[int] = []
    await raw_call(mw, "/cookiegate/admin", [(b"authorization", credential)], status=status)
    assert status == [401]
    await raw_call(mw, "/", [(b"authorization", credential), (b"cookiegate-preview", b"country=FR")], status=status)
    assert status[-1] == 200 and seen and "authorization" not in seen[-1]
    assert dict(mw.gateway.errors.counts) == {}
    assert mw.admin.refused_previews == 1


async def test_a_reported_value_cannot_forge_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path))
    forged = "\nCSP violation: host=forged.example page=/ directive=script-src"
    report = {
        "csp-report": {
            "document-uri": "http://testserver/p\r\x1b[2K" + forged,
            "blocked-uri": "data:x" + forged,
            "violated-directive": "img-src\u2028" + forged,
        }
    }
    with caplog.at_level("INFO", logger="cookiegate.endpoint"):
        async with client(mw, IP["FR"]) as c:
            await post_reports(c, [report])
    (record,) = [r for r in caplog.records if r.name == "cookiegate.endpoint"]
    line = record.getMessage()
    assert not any(ch in line for ch in "\n\r\x1b\u2028\x85"), line
    assert line.startswith("CSP violation: host=") and line.count("CSP violation") == 4


async def test_expiring_refused_cookies_never_copies_the_host_header_into_set_cookie(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(echo_headers_app([]), config=make_config(tmp_path))
    async with client(mw, IP["FR"]) as c:
        answer = await c.post(
            "/cookiegate/consent",
            data={"action": "reject_all"},
            headers={
                "origin": "http://www.attacker-chosen.example",
                "cookie": "_ga=GA1.1.1; _fbp=fb.1",
                "host": "www.attacker-chosen.example",
            },
        )
    expired = [v for v in answer.headers.get_list("set-cookie") if v.startswith(("_ga=", "_fbp="))]
    assert len(expired) == 2 and all("max-age=0" in v.lower() for v in expired)
    assert not any("domain" in v.lower() for v in expired)


async def test_refused_cookies_are_expired_on_the_configured_domains(tmp_path: Path) -> None:
    config = make_config(tmp_path, tracker_cookie_domains=("kactuce.com",))
    mw = CookieGateMiddleware(echo_headers_app([]), config=config)
    async with client(mw, IP["FR"]) as c:
        answer = await c.post(
            "/cookiegate/consent",
            data={"action": "reject_all"},
            headers={"origin": "http://www.kactuce.com", "cookie": "_ga=GA1.1.1", "host": "www.kactuce.com"},
        )
    expired = sorted(v for v in answer.headers.get_list("set-cookie") if v.startswith("_ga="))
    assert len(expired) == 2
    assert ["Domain=kactuce.com" in v for v in expired].count(True) == 1
