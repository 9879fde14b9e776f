"""Consent records per second on SQLite and PostgreSQL, with and without group commit.

Each run has ``--clients`` concurrent writers (as many consent POSTs in flight) recording for
``--seconds``; a record counts once ``record()`` returned, i.e. once it is durable. Rates are shown as
ratios against a store that writes nothing (the cost of building the record and awaiting it).

    .venv/bin/python bench/bench_consent_log.py            # about 30 s
    .venv/bin/python bench/bench_consent_log.py --quick    # a few seconds
    COOKIEGATE_TEST_POSTGRES_URL=postgresql://… adds the PostgreSQL rows (or --postgres-url).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cookiegate.store import ConsentRecord  # noqa: E402
from cookiegate.store._sqlite import SQLiteStore  # noqa: E402


class NoopStore:
    """A store that writes nothing: the baseline."""

    async def open(self) -> None:
        return None

    async def record(self, record: ConsentRecord) -> None:
        await asyncio.sleep(0)

    async def add_counters(self, rows: Any) -> None:
        return None

    async def last_seen(self) -> dict[str, str]:
        return {}

    async def close(self) -> None:
        return None


def make_record(i: int) -> ConsentRecord:
    return ConsentRecord(
        consent_id=f"visitor-{i % 1000}", at="2026-03-01T12:00:00.000000+00:00", action="accept_all",
        categories={"functional": True, "analytics": True, "ads": False, "social": False},
        policy_revision="1",
        regime_key="EU", regime_kind="opt-in", banner_variant="opt-in", banner_hash="ab" * 32, language="en",
        country="FR", subdivision="FR-IDF", city="Paris", gpc=False, dnt=False, device="desktop",
        browser="Firefox", path="/pricing", ip="85.0.1.0/24",
    )  # fmt: skip


async def run(store: Any, clients: int, seconds: float) -> float:
    """Records per second with ``clients`` concurrent writers."""
    await store.open()
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal done
        i = n
        while time.perf_counter() < deadline:
            await store.record(make_record(i))
            done += 1
            i += clients

    start = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - start
    await store.close()
    return done / elapsed


async def run_posts(store: Any, clients: int, seconds: float, tmp: Path) -> float:
    """Consent POSTs per second answered by the gateway's endpoint (form body, same-origin), recording to ``store``.

    A POST counts once its 303 came back, i.e. once its record was durable. The app behind the gateway is
    never called (the endpoint answers), so this is the endpoint's whole cost: parsing, Origin check, geo
    lookup, cookie signing and the durable record.
    """
    from cookiegate import Config, CookieGateMiddleware
    from cookiegate._resources import bundled_demo_database

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - never reached
        raise AssertionError("the consent endpoint answers by itself")

    config = Config(
        secret_keys=("bench-" + "k" * 40,), geoip_database=str(bundled_demo_database()),
        log_url=f"sqlite:///{tmp / 'unused.db'}", cookie_secure=False,
        consent_writes_per_minute=0,  # the store is measured, not the per-client limit
    )  # fmt: skip
    gate = CookieGateMiddleware(app, config=config)
    gate.gateway.store = store
    gate.gateway.store_ready = False
    await gate.gateway.startup()
    body = b"action=accept_all&next=%2Fpricing"
    scope_base = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "https",
        "path": "/cookiegate/consent", "raw_path": b"/cookiegate/consent", "query_string": b"", "root_path": "",
        "headers": [
            (b"host", b"www.kactuce.com"), (b"origin", b"https://www.kactuce.com"),
            (b"content-type", b"application/x-www-form-urlencoded"), (b"content-length", str(len(body)).encode()),
            (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"),
        ],
        "server": ("www.kactuce.com", 443),
    }  # fmt: skip
    done = 0
    deadline = time.perf_counter() + seconds

    async def client(n: int) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            status = 0

            async def receive() -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: MutableMapping[str, Any]) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]

            await gate(dict(scope_base, client=(f"85.0.1.{n % 250 + 1}", 40000 + n)), receive, send)
            if status != 303:
                raise RuntimeError(f"consent POST answered {status}")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - started
    await gate.gateway.shutdown()
    return done / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short runs (a few seconds in all)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--postgres-url", default=os.environ.get("COOKIEGATE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    tmp = Path(tempfile.mkdtemp(prefix="cookiegate-bench-"))

    cases: list[tuple[str, Any]] = [("no-op (writes nothing)", lambda: NoopStore())]
    for grouped in (True, False):
        label = "grouped" if grouped else "one commit per record"
        cases.append(
            (
                f"SQLite, {label}",
                lambda g=grouped: SQLiteStore(
                    str(tmp / f"{uuid.uuid4().hex}.db"), spool_dir=str(tmp / "spool"), group_commit=g
                ),
            )
        )
    schemas: list[str] = []
    if args.postgres_url:
        from cookiegate.store._postgres import PostgresStore

        for grouped in (True, False):
            label = "grouped" if grouped else "one commit per record"
            schema = "bench_" + uuid.uuid4().hex[:10]
            schemas.append(schema)
            cases.append(
                (
                    f"PostgreSQL, {label}",
                    lambda g=grouped, s=schema: PostgresStore(
                        args.postgres_url, schema=s, spool_dir=str(tmp / "spool"), group_commit=g
                    ),
                )
            )

    results: list[tuple[str, float]] = []
    posts: list[tuple[str, float]] = []
    try:
        for name, factory in cases:
            results.append((name, await run(factory(), args.clients, seconds)))
        for name, factory in cases:
            posts.append((name, await run_posts(factory(), args.clients, seconds, tmp)))
    finally:
        if schemas:
            import psycopg

            with psycopg.connect(args.postgres_url, autocommit=True) as conn:
                for schema in schemas:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")

    baseline = results[0][1]
    print(f"{args.clients} concurrent writers, {seconds:g} s per row")
    print(f"{'store':<38} {'records/s':>12} {'vs no-op':>10}")
    for name, rate in results:
        print(f"{name:<38} {rate:>12,.0f} {rate / baseline:>10.4f}")
    post_base = posts[0][1]
    print()
    print(f"Consent POSTs through the gateway's endpoint ({args.clients} concurrent, answered once durable)")
    print(f"{'store':<38} {'POSTs/s':>12} {'vs no-op':>10}")
    for name, rate in posts:
        print(f"{name:<38} {rate:>12,.0f} {rate / post_base:>10.4f}")
    if not args.postgres_url:
        print("(PostgreSQL skipped: set COOKIEGATE_TEST_POSTGRES_URL or --postgres-url)")


if __name__ == "__main__":
    asyncio.run(main())
