"""Counters survive apps and servers that never send lifespan events: Django's ASGI handler (which raises on
the lifespan scope) under uvicorn, and daphne (which sends none)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cookiegate import CookieGateMiddleware

from .helpers import IP, client, make_config

ROOT = Path(__file__).resolve().parent.parent
APP = "tests.fixtures.django_site:application"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        # lifespan "auto", uvicorn's default: an app that raises on the lifespan scope is served without it.
        return [sys.executable, "-m", "uvicorn", APP, "--port", str(port), "--log-level", "warning"]
    return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), APP]


@contextlib.contextmanager
def _serve(server: str, log_db: Path) -> Iterator[str]:
    port = _free_port()
    env = {"COOKIEGATE_TEST_LOG": str(log_db), "PATH": "/usr/bin:/bin", "HOME": str(log_db.parent)}
    proc = subprocess.Popen(_command(server, port), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:  # wait for the port without a request: a request would be a page view or a route
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, f"{server} did not listen"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        # A restart: the server is asked to stop, as a deploy or a process manager does.
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    assert b"Traceback" not in output, output.decode()


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read()
        status: int = response.status
        return status


def _post_consent(base: str) -> int:
    data = urllib.parse.urlencode({"action": "accept_all", "next": "/"}).encode()
    request = urllib.request.Request(base + "/cookiegate/consent", data=data, headers={"Origin": base})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            status: int = response.status
    except urllib.error.HTTPError as exc:  # the 303 back to the page
        status = exc.code
        exc.close()
    return status


def _counters(log_db: Path) -> dict[tuple[str, str, str], int]:
    with contextlib.closing(sqlite3.connect(log_db)) as conn:
        rows = conn.execute("SELECT kind, subject, outcome, SUM(count) FROM cookiegate_counters GROUP BY 1, 2, 3")
        return {(kind, subject, outcome): int(n) for kind, subject, outcome, n in rows}


@pytest.mark.parametrize("server", ["uvicorn", "daphne"])
def test_three_page_views_and_a_consent_survive_a_restart_within_the_flush_interval(
    server: str, tmp_path: Path
) -> None:
    log_db = tmp_path / "log.db"
    with _serve(server, log_db) as base:
        assert [_get(base + "/") for _ in range(3)] == [200, 200, 200]
        assert _post_consent(base) == 303
    counts = _counters(log_db)
    assert counts[("consent", "accept_all", "all")] == 1
    tags = {(subject, outcome): n for (kind, subject, outcome), n in counts.items() if kind == "tag"}
    # The page has one Google Analytics tag and one YouTube embed; a visitor from 127.0.0.1 has no known place
    # (strictest regime): each blocked on each of the three views.
    assert tags == {("google-analytics", "blocked"): 3, ("youtube", "blocked"): 3}


# ---------------------------------------------------------------------------------------------------------
# The protocol, with a raw harness: the server's messages in, what the server hears out.


class Server:
    """Plays the server's side of lifespan: startup, then shutdown once startup was answered."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._queue = ["lifespan.startup", "lifespan.shutdown"]

    async def receive(self) -> dict[str, Any]:
        if self._queue[0] == "lifespan.shutdown" and not any(m.startswith("lifespan.startup.") for m in self.sent):
            raise AssertionError("shutdown asked for before startup was answered")
        return {"type": self._queue.pop(0)}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message["type"])


async def _run(app: Any, tmp_path: Path) -> tuple[Server, CookieGateMiddleware, BaseException | None]:
    mw = CookieGateMiddleware(app, config=make_config(tmp_path))
    mw.gateway.counters.consent("accept_all", {"analytics": True}, country="FR", regime="FR")
    server = Server()
    error: BaseException | None = None
    try:
        await mw({"type": "lifespan", "asgi": {"version": "3.0"}}, server.receive, server.send)
    except Exception as exc:
        error = exc
    return server, mw, error


def _flushed(tmp_path: Path) -> int:
    return sum(_counters(tmp_path / "log.db").values()) if (tmp_path / "log.db").exists() else 0


async def django_like(scope: Any, receive: Any, send: Any) -> None:
    raise ValueError("Django can only handle ASGI/HTTP connections, not lifespan.")


async def refuses_at_once(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "lifespan.startup.failed", "message": "lifespan not supported"})


async def reads_then_raises(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    raise RuntimeError("unsupported scope")


@pytest.mark.anyio
@pytest.mark.parametrize("app", [django_like, refuses_at_once, reads_then_raises])
async def test_an_app_that_rejects_lifespan_gets_it_answered_by_the_gateway(app: Any, tmp_path: Path) -> None:
    server, mw, error = await _run(app, tmp_path)
    assert error is None
    assert server.sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert _flushed(tmp_path) == 1 and not mw.gateway.store_ready


async def handles_lifespan(scope: Any, receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


async def fails_its_own_startup(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "database down"})
    raise RuntimeError("database down")


@pytest.mark.anyio
async def test_an_app_that_handles_lifespan_speaks_for_itself_and_the_gateway_starts_and_stops_with_it(
    tmp_path: Path,
) -> None:
    server, mw, error = await _run(handles_lifespan, tmp_path)
    assert error is None and server.sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert _flushed(tmp_path) == 1 and not mw.gateway.store_ready


@pytest.mark.anyio
async def test_an_app_whose_own_startup_fails_still_fails_and_the_gateway_flushes_on_the_way_out(
    tmp_path: Path,
) -> None:
    server, mw, error = await _run(fails_its_own_startup, tmp_path)
    assert isinstance(error, RuntimeError) and server.sent == ["lifespan.startup.failed"]
    assert _flushed(tmp_path) == 1 and not mw.gateway.store_ready


@pytest.mark.anyio
async def test_without_lifespan_the_first_request_starts_the_gateway(tmp_path: Path) -> None:
    async def page(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    mw = CookieGateMiddleware(page, config=make_config(tmp_path))
    assert not mw.gateway.store_ready
    async with client(mw, IP["FR"]) as c:
        assert (await c.get("/")).status_code == 200
    assert mw.gateway.store_ready
    await mw.gateway.shutdown()


def test_a_gateway_dropped_without_shutdown_closes_its_database_connections(tmp_path: Path) -> None:
    import gc

    mw = CookieGateMiddleware(handles_lifespan, config=make_config(tmp_path))
    asyncio.run(mw.gateway.startup())
    asyncio.run(mw.gateway.store.records_for("someone"))  # opens the reader connection
    backend = mw.gateway.store.backend  # type: ignore[attr-defined]
    connections = list(backend._conns.values())
    assert connections
    del mw, backend
    gc.collect()
    for conn in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")


def test_counts_left_at_exit_are_flushed_through_a_store_of_their_own(tmp_path: Path) -> None:
    mw = CookieGateMiddleware(handles_lifespan, config=make_config(tmp_path))
    mw.gateway.counters.consent("reject_all", {"analytics": False}, country="DE", regime="DE")
    mw.gateway.flush_at_exit()
    assert _counters(tmp_path / "log.db") == {("consent", "reject_all", "none"): 1}
    assert mw.gateway.counters.pending() == []


@pytest.mark.anyio
async def test_a_connection_still_opening_when_its_caller_gives_up_is_kept_not_leaked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time as clock

    import anyio

    from cookiegate.store._sqlite import SQLiteBackend, SQLiteStore

    store = SQLiteStore(str(tmp_path / "log.db"))
    await store.open()
    connect = SQLiteBackend._connect

    def slow(self: SQLiteBackend, generation: int | None = None) -> sqlite3.Connection:
        clock.sleep(0.3)
        return connect(self, generation)

    monkeypatch.setattr(SQLiteBackend, "_connect", slow)
    with pytest.raises(TimeoutError), anyio.fail_after(0.05):
        await store.records_for("someone")  # the reader connection is opened now, and the caller gives up
    await anyio.sleep(0.5)
    reader = store.backend._conns.get(False)  # type: ignore[attr-defined]
    assert isinstance(reader, sqlite3.Connection)
    await store.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        reader.execute("SELECT 1")


def test_a_gateway_whose_log_failed_to_open_still_closes_its_connection_when_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import logging

    # The error's log record would keep the failed start-up's frames, and so the gateway, alive.
    monkeypatch.setattr(logging.getLogger("cookiegate"), "disabled", True)

    db = tmp_path / "log.db"
    with contextlib.closing(sqlite3.connect(db)) as conn:
        # A log written by a newer cookiegate: opening it is refused.
        conn.execute("CREATE TABLE cookiegate_schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO cookiegate_schema_version VALUES (999)")
        conn.commit()
    mw = CookieGateMiddleware(handles_lifespan, config=make_config(tmp_path))
    asyncio.run(mw.gateway.startup())
    assert not mw.gateway.store_ready
    connections = list(mw.gateway.store.backend._conns.values())  # type: ignore[attr-defined]
    assert connections
    del mw
    gc.collect()
    for conn in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            conn.execute("SELECT 1")
