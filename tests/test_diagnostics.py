"""Start-up says what is wrong: no geo database, Secure cookies served over plain HTTP, the site's own hosts in
the CSP reports. Each is a WARNING naming the key and the fix, in the log, in check-config and in health."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from cookiegate import CookieGateMiddleware
from cookiegate.cli._main import main

from .helpers import IP, KEY, PAGE, make_config

pytestmark = pytest.mark.anyio


async def _page(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": PAGE.encode()})


def client(app: Any, ip: str, *, base_url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 51000)), base_url=base_url)


async def _warnings_after(mw: CookieGateMiddleware, *requests: tuple[str, str, dict[str, str]]) -> dict[str, str]:
    async with client(mw, IP["FR"], base_url="http://www.kactuce.com") as c:
        for method, path, headers in requests:
            await c.request(method, path, headers=headers)
        health = (await c.get("/cookiegate/health")).json()
    await mw.gateway.shutdown()
    return {w["key"]: w["message"] for w in health["warnings"]}


async def test_no_geo_database_is_said_at_start_up_and_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mw = CookieGateMiddleware(_page, config=make_config(tmp_path, geoip_database=None))
    with caplog.at_level(logging.WARNING, logger="cookiegate"):
        await mw.gateway.startup()
    logged = [r.getMessage() for r in caplog.records if "geoip_database" in r.getMessage()]
    assert len(logged) == 1 and "strictest regime" in logged[0] and "GeoLite2" in logged[0]
    warnings = await _warnings_after(mw)
    assert "DB-IP City Lite" in warnings["geoip_database"]
    assert set(warnings) == {"geoip_database"}  # nothing else is wrong with this site


async def test_secure_cookies_served_over_plain_http_to_a_real_host_are_said_at_the_first_request(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    mw = CookieGateMiddleware(_page, config=make_config(tmp_path, cookie_secure=True))
    with caplog.at_level(logging.WARNING, logger="cookiegate"):
        warnings = await _warnings_after(mw, ("GET", "/", {}))
    assert "plain HTTP to www.kactuce.com" in warnings["cookie_secure"]
    assert "cookie_secure = false" in warnings["cookie_secure"]
    assert sum("cookie_secure" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.parametrize(
    ("base", "headers"),
    [
        ("http://localhost:8000", {}),
        ("http://127.0.0.1", {}),
        ("http://www.kactuce.com", {"x-forwarded-proto": "https"}),
    ],
)
async def test_local_hosts_and_tls_ended_at_a_proxy_are_not_plain_http(
    tmp_path: Path, base: str, headers: dict[str, str]
) -> None:
    mw = CookieGateMiddleware(_page, config=make_config(tmp_path, cookie_secure=True))
    async with client(mw, IP["FR"], base_url=base) as c:
        await c.get("/", headers=headers)
        health = (await c.get("/cookiegate/health")).json()
    await mw.gateway.shutdown()
    assert health["warnings"] == []


async def test_csp_reports_of_unclaimed_hosts_say_what_to_add_to_csp_allow(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(_page, config=make_config(tmp_path))
    async with client(mw, IP["FR"], base_url="http://www.kactuce.com") as c:
        for host in ("static.kactuce-cdn.example", "fonts.gstatic.com.example", "www.google-analytics.com"):
            body = (
                '{"csp-report": {"document-uri": "http://www.kactuce.com/pricing", "blocked-uri": "https://'
                + host + '/x", "violated-directive": "style-src"}}'
            )  # fmt: skip
            posted = await c.post("/cookiegate/csp-report", content=body.encode(),
                                  headers={"content-type": "application/csp-report"})  # fmt: skip
            assert posted.status_code == 204
        health = (await c.get("/cookiegate/health")).json()
    await mw.gateway.shutdown()
    (warning,) = health["warnings"]
    assert warning["key"] == "csp_allow"
    add = 'csp_allow = ["https://static.kactuce-cdn.example", "https://fonts.gstatic.com.example"]'
    assert add in warning["message"]
    assert "static.kactuce-cdn.example (on /pricing)" in warning["message"]
    assert "google-analytics" not in warning["message"]  # a catalogued tracker is a leak report, not a config gap


def test_check_config_says_each_warning_and_what_it_will_watch_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cookiegate.toml"
    config.write_text(f'secret_keys = ["{KEY}"]\nlog_url = "sqlite:///{tmp_path}/log.db"\n')
    assert main(["check-config", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.startswith(("WARNING", "note"))]
    assert [line.split()[1] for line in lines] == ["geoip_database:", "cookie_secure:", "csp_allow:"]
    assert lines[0].startswith("WARNING geoip_database: not set")
    config.write_text(
        f'secret_keys = ["{KEY}"]\ngeoip_database = "{make_config(tmp_path).geoip_database}"\n'
        'cookie_secure = false\ncsp_allow = ["https://cdn.kactuce.com"]\n'
    )
    assert main(["check-config", "--config", str(config)]) == 0
    assert not [line for line in capsys.readouterr().out.splitlines() if line.startswith(("WARNING", "note"))]
