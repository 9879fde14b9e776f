"""Acceptance: a writer killed mid-burst loses no acknowledged record; a database outage loses nothing and
writes nothing twice (a real SQLite lock, a real PostgreSQL stop/start)."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from cookiegate.store._logstore import LogStore
from cookiegate.store._sqlite import SQLiteStore
from tests.test_store import make_record, postgres_schema

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parent.parent

# Records consent decisions in concurrent bursts, printing each record id once record() has returned,
# i.e. once the gateway would have answered the POST with a 2xx.
WRITER = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from tests.test_store import make_record

async def main(kind, target, schema):
    if kind == "sqlite":
        from cookiegate.store._sqlite import SQLiteStore
        store = SQLiteStore(target)
    else:
        from cookiegate.store._postgres import PostgresStore
        store = PostgresStore(target, schema=schema)
    await store.open()
    print("ready", flush=True)
    i = 0

    async def one(n):
        record = make_record(n, f"visitor-{n % 7}")
        await store.record(record)
        sys.stdout.write(record.record_id + "\\n")
        sys.stdout.flush()

    while True:
        await asyncio.gather(*(one(i + k) for k in range(16)))
        i += 16

asyncio.run(main(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else ""))
"""


def _kill_mid_burst(tmp_path: Path, kind: str, target: str, schema: str = "") -> list[str]:
    """Run the writer, SIGKILL it after some acknowledgements; return every acknowledged record id."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    args = [sys.executable, str(script), str(ROOT), kind, target, *([schema] if schema else [])]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    assert proc.stdout is not None
    acked: list[str] = []
    try:
        first = proc.stdout.readline()
        assert first == "ready\n", proc.stderr.read() if proc.stderr else first
        while len(acked) < 300:
            line = proc.stdout.readline()
            if not line:
                break
            acked.append(line.strip())
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, err
    # Lines printed before the kill were acknowledged too; a torn last line was not.
    acked += [line for line in rest.split("\n")[:-1] if line]
    assert len(acked) >= 300
    return acked


async def _check_all_there(store: LogStore, acked: list[str]) -> None:
    await store.open()
    try:
        ids = [r["record_id"] async for r in store.export()]
        report = await store.verify()
    finally:
        await store.close()
    assert set(acked) <= set(ids)
    assert len(ids) == len(set(ids))
    assert report.ok, report.describe()


async def test_sigkilled_sqlite_writer_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    acked = await anyio.to_thread.run_sync(_kill_mid_burst, tmp_path, "sqlite", str(db))
    await _check_all_there(SQLiteStore(str(db)), acked)


@pytest.mark.postgres
async def test_sigkilled_postgres_writer_keeps_every_acknowledged_record(tmp_path: Path) -> None:
    from cookiegate.store._postgres import PostgresStore

    with postgres_schema() as (url, schema):
        acked = await anyio.to_thread.run_sync(_kill_mid_burst, tmp_path, "postgres", url, schema)
        await _check_all_there(PostgresStore(url, schema=schema), acked)


async def _burst(store: LogStore, acked: list[str], stop: anyio.Event) -> None:
    i = 0
    while not stop.is_set():
        records = [make_record(i + k, f"visitor-{k}") for k in range(8)]
        async with anyio.create_task_group() as tg:
            for r in records:
                tg.start_soon(store.record, r)
        acked += [r.record_id for r in records]
        i += 8


async def _wait_for(acked: list[str], n: int) -> None:
    with anyio.fail_after(60):
        while len(acked) < n:
            await anyio.sleep(0.01)


async def test_records_survive_a_locked_sqlite_database_and_arrive_once(tmp_path: Path) -> None:
    db = tmp_path / "log.db"
    store = SQLiteStore(str(db), spool_dir=str(tmp_path / "spool"), retry_interval=0.05, busy_timeout=0.05)
    await store.open()
    acked: list[str] = []
    stop = anyio.Event()
    blocker = sqlite3.connect(db, isolation_level=None, check_same_thread=False, timeout=30)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(_burst, store, acked, stop)
            await _wait_for(acked, 40)
            # Another process takes the write lock and keeps it far longer than the store's busy timeout.
            await anyio.to_thread.run_sync(blocker.execute, "BEGIN IMMEDIATE")
            await _wait_for(acked, len(acked) + 80)
            assert store.spooled > 0
            blocker.execute("ROLLBACK")
            await _wait_for(acked, len(acked) + 80)
            stop.set()
        with anyio.fail_after(30):
            while store.spooled:
                await anyio.sleep(0.02)
        ids = [r["record_id"] async for r in store.export()]
        report = await store.verify()
    finally:
        blocker.close()
        await store.close()
    assert sorted(ids) == sorted(acked)
    assert report.ok, report.describe()


def _cluster() -> list[str] | None:
    """``[version, name]`` of the local PostgreSQL cluster we may stop, or ``None``."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster") or not shutil.which("pg_lsclusters"):
        return None
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=False).stdout.split()
    return out[:2] if len(out) >= 2 else None


def _pg_ctl(action: str, cluster: list[str], *extra: str) -> None:
    subprocess.run(["pg_ctlcluster", *cluster, action, *extra], check=True, capture_output=True, timeout=60)


@pytest.mark.postgres
async def test_postgres_stopped_during_a_burst_gets_every_record_exactly_once(tmp_path: Path) -> None:
    from cookiegate.store._postgres import PostgresStore

    cluster = _cluster()
    with postgres_schema() as (url, schema):
        if cluster is None:
            pytest.skip("needs root and a local pg_ctlcluster-managed PostgreSQL to stop and start")
        store = PostgresStore(
            url, schema=schema, spool_dir=str(tmp_path / "spool"), retry_interval=0.2, timeout=2
        )
        await store.open()
        acked: list[str] = []
        stop = anyio.Event()
        stopped = False
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(_burst, store, acked, stop)
                await _wait_for(acked, 80)
                stopped = True
                await anyio.to_thread.run_sync(_pg_ctl, "stop", cluster, "-m", "fast")
                await _wait_for(acked, len(acked) + 80)  # acknowledged while the server is down
                assert store.spooled > 0
                await anyio.to_thread.run_sync(_pg_ctl, "start", cluster)
                stopped = False
                await _wait_for(acked, len(acked) + 80)
                stop.set()
            with anyio.fail_after(60):
                while store.spooled:
                    await anyio.sleep(0.05)
            ids = [r["record_id"] async for r in store.export()]
            report = await store.verify()
        finally:
            if stopped:
                _pg_ctl("start", cluster)
            await store.close()
        assert len(ids) == len(acked)
        assert sorted(ids) == sorted(acked)
        assert report.ok, report.describe()
