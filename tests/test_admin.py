"""Admin token checks, the preview hook in the middleware, and the dashboard routes."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cookiegate import CookieGateMiddleware
from cookiegate._leaks import MAX_CLIENTS, MAX_DIRECTIVES, MAX_PAGES, LeakReports
from cookiegate._limits import RateLimiter, client_key
from cookiegate.admin._auth import AdminAuth, credential_from
from cookiegate.admin._counts import consent_charts, render_chart_svg, tag_counts
from cookiegate.admin._preview import parse_preview_header
from cookiegate.policy._tag_matrix import ConsentSpecError
from cookiegate.store._base import CounterRow

from .helpers import IP, PAGE, client, make_config

TOKEN = "admin-token-" + "z" * 40
BEARER = {"authorization": f"Bearer {TOKEN}"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_waits_for_the_bucket_to_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60.0, clock=clock)
    assert [limiter.take("1.2.3.4") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("1.2.3.4") == pytest.approx(20.0)  # one action per 20 s refills
    assert limiter.take("5.6.7.8") == 0.0
    assert limiter.retry_after(limiter.wait("1.2.3.4")) == b"20"
    clock.now += 20
    assert limiter.take("1.2.3.4") == 0.0 and limiter.take("1.2.3.4") > 0
    assert limiter.refused == 2
    assert limiter.take(None) == 0.0  # an unknown client cannot be told from the others: never limited


def test_the_limiter_stays_bounded_under_address_rotation() -> None:
    limiter = RateLimiter(1, 60.0, max_keys=1000, clock=Clock())
    for i in range(20_000):
        limiter.take(f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(limiter) == 1000


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("85.0.1.10", "85.0.1.10"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("not an address", None),
        (None, None),
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(address: str | None, key: str | None) -> None:
    assert client_key(address) == key


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"authorization", b"Bearer abc")], "abc"),
        ([(b"authorization", b"bearer   abc  ")], "abc"),
        ([(b"authorization", b"Basic " + base64.b64encode(b"admin:s3cr:et"))], "s3cr:et"),
        ([(b"authorization", b"Basic !!!notbase64")], None),
        ([(b"authorization", b"Bearer ")], None),
        ([(b"cookie", b"x=1")], None),
    ],
)
def test_credential_from_headers(headers: list[tuple[bytes, bytes]], expected: str | None) -> None:
    assert credential_from(headers) == expected


def test_auth_statuses_and_a_limited_client_still_gets_in_with_the_right_token() -> None:
    assert AdminAuth(None).check([(b"authorization", b"Bearer x")], "1.1.1.1") == "off"
    auth = AdminAuth(TOKEN, RateLimiter(2, 60.0, clock=Clock()))
    right = [(b"authorization", f"Bearer {TOKEN}".encode())]
    wrong = [(b"authorization", b"Bearer " + TOKEN[:-1].encode())]
    assert auth.check([], "1.1.1.1") == "missing"
    assert auth.check(right, "1.1.1.1") == "ok"
    assert auth.check(wrong, "1.1.1.1") == "wrong"
    assert auth.check(wrong, "1.1.1.1") == "wrong"
    assert auth.check(wrong, "1.1.1.1") == "limited"
    assert auth.check(right, "1.1.1.1") == "ok"
    assert auth.check(wrong, "2.2.2.2") == "wrong"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("country=FR", ("FR", None, "none", False)),
        ("country=US; state=US-CA; consent=reject; gpc=1", ("US", "US-CA", "reject", True)),
        (" consent=analytics,ads ;country=de", ("de", None, frozenset({"analytics", "ads"}), False)),
    ],
)
def test_preview_header_parsing(value: str, expected: tuple[Any, ...]) -> None:
    assert parse_preview_header(value) == expected


@pytest.mark.parametrize("value", ["country", "city=Paris", "country=FR; country=DE", "gpc=yes", "consent=tracking"])
def test_bad_preview_headers_are_refused(value: str) -> None:
    with pytest.raises(ConsentSpecError):
        parse_preview_header(value)


# ---------------------------------------------------------------------------------------------------
# Through the middleware


def _app(seen: list[dict[str, Any]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        visit = scope["cookiegate"]
        seen.append({"headers": dict(scope["headers"]), "country": visit.location.country})
        body = PAGE.encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html; charset=utf-8")]}
        )
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.mark.anyio
async def test_preview_header_without_a_configured_token_is_ignored_and_counted(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    mw = CookieGateMiddleware(_app(seen), config=make_config(tmp_path))
    async with client(mw, IP["JP"]) as c:
        response = await c.get("/", headers={"cookiegate-preview": "country=FR", **BEARER})
    assert "cookiegate-decision" not in response.headers
    assert seen[0]["country"] == "JP"
    assert 'src="https://www.googletagmanager.com/gtag/js' in response.text  # a notice visitor, as they are
    assert mw.admin.refused_previews == 1


@pytest.mark.anyio
async def test_preview_with_a_wrong_token_is_ignored(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    mw = CookieGateMiddleware(_app(seen), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["JP"]) as c:
        response = await c.get("/", headers={"cookiegate-preview": "country=FR", "authorization": "Bearer nope"})
    assert "cookiegate-decision" not in response.headers and seen[0]["country"] == "JP"
    assert mw.admin.refused_previews == 1


@pytest.mark.anyio
async def test_admin_preview_decides_as_the_chosen_visitor_and_hides_the_token_from_the_app(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    mw = CookieGateMiddleware(_app(seen), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["JP"]) as c:
        eu = await c.get("/", headers={"cookiegate-preview": "country=FR; consent=none", **BEARER})
        accepted = await c.get("/", headers={"cookiegate-preview": "country=FR; consent=analytics", **BEARER})
    assert seen[0]["country"] == "FR"
    assert b"authorization" not in seen[0]["headers"] and b"cookiegate-preview" not in seen[0]["headers"]
    assert "google-analytics=blocked" in eu.headers["cookiegate-decision"]
    assert eu.headers["cookiegate-decision"].endswith("allowed=necessary, unclassified=blocked")
    assert "google-analytics=fired" in accepted.headers["cookiegate-decision"]
    assert "allowed=analytics+necessary" in accepted.headers["cookiegate-decision"]


@pytest.mark.anyio
async def test_dashboard_is_404_without_a_configured_token(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(_app([]), config=make_config(tmp_path))
    async with client(mw, IP["FR"]) as c:
        assert (await c.get("/cookiegate/admin", headers=BEARER)).status_code == 404
        assert (await c.get("/cookiegate/admin/data.json", headers=BEARER)).status_code == 404


@pytest.mark.anyio
async def test_dashboard_needs_the_token_and_rate_limits_wrong_ones(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["FR"]) as c:
        missing = await c.get("/cookiegate/admin")
        assert missing.status_code == 401 and "Basic" in missing.headers["www-authenticate"]
        basic = base64.b64encode(f"admin:{TOKEN}".encode()).decode()
        ok = await c.get("/cookiegate/admin", headers={"authorization": f"Basic {basic}"})
        assert ok.status_code == 200 and "Tag matrix" in ok.text
        assert ok.headers["cache-control"] == "no-store"
        statuses = [
            (await c.get("/cookiegate/admin", headers={"authorization": f"Bearer wrong{i}"})).status_code
            for i in range(12)
        ]
        assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
        assert (await c.get("/cookiegate/admin", headers=BEARER)).status_code == 200
    async with client(mw, IP["DE"]) as other:
        assert (await other.get("/cookiegate/admin", headers={"authorization": "Bearer wrong"})).status_code == 401


@pytest.mark.anyio
async def test_dashboard_data_counts_pages_consents_and_csp_reports(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(_app([]), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["FR"]) as c:
        await c.get("/")
        await c.get("/")
        await c.post(
            "/cookiegate/consent", data={"action": "accept_all", "next": "/"}, headers={"origin": "http://testserver"}
        )
        await c.post(
            "/cookiegate/csp-report",
            content=b'{"csp-report": {"document-uri": "http://testserver/p", "blocked-uri": "https://t.example/x",'
            b' "violated-directive": "script-src"}}',
            headers={"content-type": "application/csp-report"},
        )
        data = (await c.get("/cookiegate/admin/data.json", headers=BEARER)).json()
        preview = await c.get("/cookiegate/admin/preview?country=US&state=CA&gpc=1", headers=BEARER)
    # PAGE carries GA4 as two elements (the gtag.js loader and its inline config): two per page view.
    ga = next(t for t in data["tag_counts"] if t["tag"] == "google-analytics")
    assert (ga["country"], ga["fired_24h"], ga["blocked_24h"], ga["blocked_7d"]) == ("FR", 0, 4, 4)
    (chart,) = data["consent_charts"]["regime"]
    assert chart["title"] == "regime FR" and chart["counts"][-1] == [1, 0, 0]
    (leak,) = data["leaks"]
    assert {k: leak[k] for k in ("host", "total", "pages", "other_pages", "directives", "clients")} == {
        "host": "t.example", "total": 1, "pages": [["/p", 1]], "other_pages": 0, "directives": ["script-src"],
        "clients": 1,
    }  # fmt: skip
    assert leak["single_address"] and leak["first_seen"] == leak["last_seen"]
    assert data["lint"] == []
    assert preview.status_code == 200 and "regime opt-out" in preview.text and "GPC on" in preview.text


# ---------------------------------------------------------------------------------------------------
# Aggregation


def _row(day: str, kind: str, subject: str, country: str, regime: str, outcome: str, n: int) -> CounterRow:
    return CounterRow(day, kind, subject, country, regime, outcome, n)


def test_tag_counts_windows_use_whole_utc_days() -> None:
    today = date(2026, 3, 10)
    rows = [
        _row("2026-03-10", "tag", "ga", "FR", "FR", "blocked", 5),
        _row("2026-03-09", "tag", "ga", "FR", "FR", "fired", 2),
        _row("2026-03-05", "tag", "ga", "FR", "FR", "fired", 7),
        _row("2026-03-03", "tag", "ga", "FR", "FR", "fired", 100),  # 8 days ago: outside
        _row("2026-03-10", "consent", "accept_all", "FR", "FR", "all", 1),
    ]
    (count,) = tag_counts(rows, today)
    assert (count.fired_24h, count.blocked_24h, count.fired_7d, count.blocked_7d) == (2, 5, 9, 5)


def test_consent_charts_group_by_regime_or_country_busiest_first() -> None:
    today = date(2026, 3, 10)
    rows = [
        _row("2026-03-10", "consent", "accept_all", "FR", "FR", "all", 3),
        _row("2026-03-10", "consent", "reject_all", "FR", "FR", "none", 1),
        _row("2026-03-09", "consent", "save", "US", "US-CA", "some", 9),
        _row("2026-01-01", "consent", "save", "JP", "default", "some", 50),  # too old for the chart
    ]
    by_regime = consent_charts(rows, today, by="regime")
    assert [c.title for c in by_regime] == ["regime US-CA", "regime FR"]
    assert by_regime[1].counts[-1] == (3, 0, 1)
    assert [c.title for c in consent_charts(rows, today, by="country")] == ["country US", "country FR"]


def test_chart_svg_stacks_shares_and_escapes_titles() -> None:
    (chart,) = consent_charts(
        [_row("2026-03-10", "consent", "x", "<b>", "<b>", "all", 1), _row("2026-03-10", "consent", "x", "<b>", "<b>",
                                                                           "none", 3)],
        date(2026, 3, 10),
        by="regime",
    )
    svg = render_chart_svg(chart, height=160)
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    heights = [float(bar.split('height="')[1].split('"')[0]) for bar in svg.split('class="bar"')[1:]]
    assert heights[1] == pytest.approx(3 * heights[0], rel=0.01)


def test_leak_reports_are_summarised_per_host_with_pages_directives_and_times() -> None:
    clock = Clock()
    leaks = LeakReports(clock=clock)
    leaks.add("a.example", "/x", "img-src", "1.1.1.1")
    clock.now += 5
    leaks.add("a.example", "/y", "script-src", "2.2.2.2")
    leaks.add("a.example", "/x", "img-src", "1.1.1.1")
    leaks.add("b.example", "/x", "img-src", None)
    groups = leaks.hosts()
    assert [(g.host, g.total, g.pages, g.clients, g.single_address) for g in groups] == [
        ("a.example", 3, (("/x", 2), ("/y", 1)), 2, False),
        ("b.example", 1, (("/x", 1),), 0, False),
    ]
    assert groups[0].directives == ("img-src", "script-src")
    assert (groups[0].first_seen, groups[0].last_seen) == (1000.0, 1005.0)


def test_forged_hosts_from_one_address_cannot_push_out_a_host_many_clients_reported() -> None:
    clock = Clock()
    leaks = LeakReports(max_hosts=50, clock=clock)
    for ip in ("1.1.1.1", "2.2.2.2", "3.3.3.3"):
        leaks.add("genuine.example", "/", "img-src", ip)
    for i in range(5000):
        clock.now += 1
        leaks.add(f"forged{i}.example", f"/{i}", "img-src", "6.6.6.6")
    hosts = {h.host: h for h in leaks.hosts()}
    assert len(leaks) == 50 and hosts["genuine.example"].clients == 3
    assert "forged4999.example" in hosts  # the newest forged host replaced an older forged one


def test_a_hosts_pages_and_clients_are_bounded() -> None:
    leaks = LeakReports(clock=Clock())
    for i in range(3000):
        leaks.add("t.example", f"/page{i}", f"directive{i % 40}", f"10.0.{i >> 8}.{i & 255}")
    (host,) = leaks.hosts()
    assert host.total == 3000 and len(host.pages) == MAX_PAGES and host.other_pages == 3000 - MAX_PAGES
    assert len(host.directives) == MAX_DIRECTIVES and host.clients == MAX_CLIENTS
