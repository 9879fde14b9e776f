"""Faults: the geo database, the decision log and the gateway's own code fail; pages keep being served,
fail closed, every acknowledged consent stays durable, health says degraded, and each error is logged once.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from cookiegate import CookieGateMiddleware
from cookiegate._resources import bundled_demo_database
from cookiegate.rewrite import SCAN_BACKEND
from cookiegate.store._sqlite import SQLiteStore

from .helpers import IP, KEY, fetches, make_config
from .test_hardening import FORM, ORIGIN_OK, PAGE_TRACKER_HOSTS, Answer, call, hostile_site

pytestmark = pytest.mark.anyio

NY = (IP["US-NY"], 5000)  # a notice regime: every tracker fires unless something fails


_OPEN: list[CookieGateMiddleware] = []


def gate(tmp_path: Path, **overrides: Any) -> CookieGateMiddleware:
    app = CookieGateMiddleware(hostile_site(), config=make_config(tmp_path, **overrides))
    _OPEN.append(app)
    return app


@pytest.fixture(autouse=True)
async def _shut_gateways_down() -> Any:
    """Close every gateway a test built (its log store, spool file and geo reader), as lifespan would."""
    yield
    while _OPEN:
        try:
            await _OPEN.pop().gateway.shutdown()
        except Exception:  # noqa: BLE001 - a test may have broken the store on purpose
            pass


async def health(app: CookieGateMiddleware) -> tuple[int, dict[str, Any]]:
    answer = await call(app, path="/cookiegate/health")
    return answer.status, json.loads(answer.body)


def nothing_fires(answer: Answer) -> bool:
    return answer.status == 200 and not any(fetches(answer.text, h) for h in PAGE_TRACKER_HOSTS)


async def consent(app: CookieGateMiddleware, action: str, client: tuple[str, int] = NY) -> Answer:
    return await call(
        app,
        method="POST",
        path="/cookiegate/consent",
        headers=[ORIGIN_OK, FORM],
        body_chunks=[f"action={action}".encode()],
        client=client,
    )


# -- geo database ---------------------------------------------------------------------------------------


def _corrupt(path: Path) -> None:
    path.write_bytes(b"\x00" * 4096 + b"not a maxmind database")


def _truncated(path: Path) -> None:
    data = bundled_demo_database().read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _missing(path: Path) -> None:
    path.unlink(missing_ok=True)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("breakage", [_missing, _truncated, _corrupt, _empty])
async def test_broken_geo_database_serves_strictest_reports_degraded_and_recovers_on_atomic_swap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, breakage: Callable[[Path], None]
) -> None:
    from cookiegate import _geo as geo

    now = [1000.0]
    monkeypatch.setattr(geo, "clock", lambda: now[0])
    db = tmp_path / "city.mmdb"
    breakage(db)
    app = gate(tmp_path, geoip_database=str(db))
    page = await call(app, client=NY)
    assert nothing_fires(page) and "cookiegate-banner" in page.text
    status, body = await health(app)
    assert (status, body["status"], body["checks"]["geo"]) == (503, "degraded", "degraded")
    # The monthly update: write next to it, rename over it. No restart.
    staging = tmp_path / "city.mmdb.tmp"
    shutil.copyfile(bundled_demo_database(), staging)
    os.replace(staging, db)
    now[0] += 60
    page = await call(app, client=NY)
    assert page.status == 200 and fetches(page.text, "www.googletagmanager.com")
    status, body = await health(app)
    assert (status, body["checks"]["geo"]) == (200, "ok")
    assert body["rewriter_scan"] == SCAN_BACKEND  # informational: a pure-Python scan is not degraded


async def test_geo_database_replaced_by_a_bad_file_keeps_serving_the_last_good_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cookiegate import _geo as geo

    now = [1000.0]
    monkeypatch.setattr(geo, "clock", lambda: now[0])
    db = tmp_path / "city.mmdb"
    shutil.copyfile(bundled_demo_database(), db)
    app = gate(tmp_path, geoip_database=str(db))
    assert json.loads((await call(app, path="/whoami", client=NY)).body)["country"] == "US"
    for breakage in (_truncated, _corrupt, _missing):
        staging = tmp_path / "next.mmdb"
        breakage(staging)
        if staging.exists():
            os.replace(staging, db)
        else:
            db.unlink()
        now[0] += 60
        assert json.loads((await call(app, path="/whoami", client=NY)).body)["country"] == "US", breakage.__name__
    assert (await health(app))[0] == 200


# -- decision log ---------------------------------------------------------------------------------------


async def _wait_replayed(store: Any) -> None:
    with anyio.fail_after(30):
        while store.spooled:
            await anyio.sleep(0.02)


async def _consent_ids(db: Path) -> list[str]:
    store = SQLiteStore(str(db), spool_dir=str(db) + ".check-spool")
    await store.open()
    try:
        return [r["consent_id"] async for r in store.export()]
    finally:
        await store.close()


def _consent_id(app: CookieGateMiddleware, answer: Answer) -> str:
    cookie = answer.headers_named(b"set-cookie")[0].split(";")[0].split("=", 1)[1]
    choice = app.gateway.codec.decode(cookie)
    assert choice is not None
    return choice.consent_id


async def test_locked_sqlite_spools_consents_serves_pages_reports_degraded_and_replays(tmp_path: Path) -> None:
    app = gate(tmp_path)
    store: Any = app.gateway.store
    store.backend.busy_timeout = 0.05  # the lock outlasts it at once: no five-second waits in a test
    store.retry_interval = 0.05
    await app.gateway.startup()
    acked = [_consent_id(app, await consent(app, "accept_all"))]
    blocker = sqlite3.connect(tmp_path / "log.db", isolation_level=None, timeout=30)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        for action in ("accept_all", "reject_all", "withdraw"):
            answer = await consent(app, action)
            assert answer.status == 303, answer.text  # durable in the fsync'd spool: the 2xx may go out
            acked.append(_consent_id(app, answer))
        assert store.spooled >= 3
        assert (await call(app, client=NY)).status == 200
        status, body = await health(app)
        assert (status, body["checks"]["store"], body["spooled_records"]) == (503, "degraded", store.spooled)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    acked.append(_consent_id(app, await consent(app, "accept_all")))
    await _wait_replayed(store)
    assert (await health(app))[0] == 200
    await app.gateway.shutdown()
    assert sorted(await _consent_ids(tmp_path / "log.db")) == sorted(acked)


async def test_full_disk_spools_and_when_the_spool_is_full_too_grants_fail_and_refusals_hold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = gate(tmp_path)
    store: Any = app.gateway.store
    await app.gateway.startup()

    def disk_full(*, write: bool) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store.backend, "transaction", disk_full)
    fr = (IP["FR"], 1)  # opt-in: a grant there is new consent, which must be provable
    spooled = await consent(app, "accept_all", client=fr)
    assert spooled.status == 303 and store.spooled == 1

    def spool_full(items: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.spool, "append", spool_full)
    grant = await consent(app, "accept_all", client=fr)
    refusal = await consent(app, "reject_all", client=fr)
    assert grant.status == 503 and grant.headers_named(b"set-cookie") == []
    assert refusal.status == 303 and any(
        c.startswith("cookiegate_consent=") for c in refusal.headers_named(b"set-cookie")
    )
    assert (await call(app, client=NY)).status == 200
    assert (await health(app))[1]["checks"]["store"] == "degraded"


async def test_log_database_that_cannot_be_opened_leaves_pages_alone_and_refuses_unprovable_grants(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database directory should be")
    app = gate(tmp_path, log_url=f"sqlite:///{blocker}/log.db", log_spool_dir=str(blocker / "spool"))
    await app.gateway.startup()
    assert (await call(app, client=NY)).status == 200
    assert nothing_fires(await call(app, client=(IP["FR"], 1)))
    grant = await consent(app, "accept_all", client=(IP["FR"], 1))
    refusal = await consent(app, "reject_all", client=(IP["FR"], 1))
    assert grant.status == 503 and grant.headers_named(b"set-cookie") == []
    assert refusal.status == 303
    status, body = await health(app)
    assert (status, body["checks"]["store"]) == (503, "degraded")


async def test_a_slow_log_never_holds_up_page_views(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = gate(tmp_path)
    await app.gateway.startup()
    release = anyio.Event()
    entered = anyio.Event()
    original = app.gateway.store.record

    async def slow(record: Any) -> None:
        entered.set()
        await release.wait()
        await original(record)

    monkeypatch.setattr(app.gateway.store, "record", slow)
    results: list[Answer] = []
    async with anyio.create_task_group() as tg:

        async def post() -> None:
            results.append(await consent(app, "accept_all"))

        tg.start_soon(post)
        await entered.wait()
        page = await call(app, client=NY)  # completes while the consent write is stuck
        assert page.status == 200 and not results
        release.set()
    assert results[0].status == 303


# -- exceptions inside the gateway ---------------------------------------------------------------------


def _raiser(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected fault")


# (id, object path under the gateway, attribute, visitor) — every one must leave nothing non-essential firing.
FAIL_CLOSED: list[Any] = [
    ("geo_lookup", "geo", "lookup_via", NY),  # what a visit asks (placed by peer and forwarding headers)
    ("regime_table", "jurisdiction", "regime_for", NY),
    ("banner_body", "renderer", "body_bytes", (IP["FR"], 1)),
    ("banner_head", "renderer", "head_bytes", (IP["FR"], 1)),
    ("banner_body_notice", "renderer", "body_bytes", NY),
    ("banner_head_notice", "renderer", "head_bytes", NY),
    ("banner_render", "renderer", "_render_banner", (IP["FR"], 1)),
    ("placeholder", "renderer", "placeholder", (IP["FR"], 1)),
    ("tag_classifier_url", "registry", "vendor_for_url", (IP["FR"], 1)),
    ("tag_classifier_inline", "registry", "vendor_for_inline", (IP["FR"], 1)),
]


def _break(monkeypatch: pytest.MonkeyPatch, obj: object, attr: str) -> None:
    """Make ``obj.attr`` raise; slotted objects are patched on their class (undone after the test)."""
    try:
        monkeypatch.setattr(obj, attr, _raiser)
    except AttributeError:
        monkeypatch.setattr(type(obj), attr, _raiser)


@pytest.mark.parametrize(("case", "owner", "attr", "client"), FAIL_CLOSED)
async def test_an_exception_inside_the_gateway_serves_the_page_fail_closed_and_logs_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    case: str,
    owner: str,
    attr: str,
    client: tuple[str, int],
) -> None:
    app = gate(tmp_path)
    _break(monkeypatch, getattr(app.gateway, owner), attr)
    caplog.set_level(logging.ERROR, logger="cookiegate")
    pages = [await call(app, client=client) for _ in range(3)]
    assert all(nothing_fires(p) and "Kactuce CRM+" in p.text for p in pages)
    logged = [r for r in caplog.records if r.name == "cookiegate" and r.levelno >= logging.ERROR]
    assert len(logged) == 1, [r.getMessage() for r in logged]
    assert logged[0].exc_info is not None  # the context: the traceback of the injected fault
    assert sum(app.gateway.errors.counts.values()) >= 3


@pytest.mark.parametrize(
    ("path", "owner", "attr"),
    [
        ("/cookiegate/settings", "renderer", "settings_page"),
        ("/cookiegate/cookies", "renderer", "statement_page"),
        ("/cookiegate/consent", "renderer", "banner_proof"),
    ],
)
async def test_a_broken_template_on_a_gateway_route_answers_503_once_logged_and_grants_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, path: str, owner: str, attr: str
) -> None:
    app = gate(tmp_path)
    monkeypatch.setattr(getattr(app.gateway, owner), attr, _raiser)
    caplog.set_level(logging.ERROR, logger="cookiegate")
    for _ in range(3):
        if path.endswith("consent"):
            answer = await consent(app, "accept_all", client=(IP["FR"], 1))
        else:
            answer = await call(app, path=path)
        assert answer.status == 503 and answer.headers_named(b"set-cookie") == []
    assert len([r for r in caplog.records if r.name == "cookiegate"]) == 1


async def test_a_broken_csp_builder_still_serves_the_gated_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = gate(tmp_path)
    _break(monkeypatch, app.gateway.csp, "header_value")
    assert nothing_fires(await call(app, client=(IP["FR"], 1)))
    assert app.gateway.errors.counts["csp"] == 1


async def test_a_failing_cookie_classifier_drops_tracker_cookies_of_a_visitor_who_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = gate(tmp_path)
    monkeypatch.setattr(app.gateway.registry, "category_for_cookie", _raiser)
    page = await call(app, client=(IP["FR"], 1))
    assert not any(c.startswith("_ga=") for c in page.headers_named(b"set-cookie"))
    assert app.gateway.errors.counts["cookie-classifier"] >= 1


# -- secrets --------------------------------------------------------------------------------------------


async def test_secret_values_never_reach_logs_or_reprs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = gate(tmp_path)
    await app.gateway.startup()
    # A run of faults that all log: bad cookies, a failing geo reader, a broken template, a store outage.
    await call(app, headers=[(b"cookie", b"cookiegate_consent=" + KEY.encode())])
    monkeypatch.setattr(app.gateway.geo, "lookup_via", _raiser)
    await call(app, client=NY)
    monkeypatch.setattr(app.gateway.renderer, "settings_page", _raiser)
    await call(app, path="/cookiegate/settings")

    def down(*, write: bool) -> Any:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(app.gateway.store.backend, "transaction", down)  # type: ignore[attr-defined]
    await consent(app, "accept_all")
    await app.gateway.shutdown()
    assert caplog.records, "the faults above should have logged"
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert KEY not in text, record.getMessage()
    visit_repr = repr(app.gateway)
    for shown in (repr(app.gateway.config), repr(app.gateway.codec), repr(app.gateway.store), visit_repr):
        assert KEY not in shown


async def test_a_database_password_in_the_log_url_is_hidden_in_the_config_repr() -> None:
    from cookiegate import Config

    config = Config(secret_keys=(KEY,), log_url="postgresql://cookiegate:hunter2-secret@db.internal/cookiegate")
    assert "hunter2-secret" not in repr(config)
