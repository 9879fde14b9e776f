"""Drive the demo under uvicorn on 127.0.0.1 with many concurrent visitors, then check the promises.

    python -m loadtest.run            # full: 2 workers, a SIGKILLed worker, a locked log database
    python -m loadtest.run --quick    # CI smoke: 1 worker, a few seconds, the lock only

Visitors come from many places (the demo's ``cookiegate_demo_place`` cookie), mix first visits, choices,
withdrawals and returning visits. Checked afterwards: no 5xx; every consent answered 2xx has its record in
the log (lost must be 0); no tracker of a category the visitor had not allowed in any page they were sent
(the HTML is scanned with the vendor catalog); server memory across rounds. Exit status 1 when a promise
is broken. Bounded: a fixed number of rounds and visitors, a hard time limit, 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cookiegate.demo.visit_as import COOKIE_NAME, PLACES
from cookiegate.policy._catalog import TagRegistry
from cookiegate.store._sqlite import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("/", "/pricing", "/blog/launch", "/community", "/privacy", "/stream")
OPTIONAL = ("functional", "analytics", "ads", "social")
#: Places whose regime puts everything behind opt-in: nothing optional may fire before a choice.
OPT_IN_PLACES = frozenset({"FR", "DE", "GB", "CH", "CA-QC", "BR"})
REGISTRY = TagRegistry.builtin()

_FETCH_ATTR = re.compile(
    rb"""<([a-zA-Z]+)\b([^>]*?)\s(src|href|srcset|data|poster)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.S
)
_INLINE = re.compile(rb"<script\b([^>]*)>(.*?)</script", re.S | re.I)


def leaks(page: bytes, allowed: frozenset[str]) -> list[str]:
    """Live tags in ``page`` that fetch or run a vendor of a category outside ``allowed``."""
    found: list[str] = []
    for match in _FETCH_ATTR.finditer(page):
        tag, attr = match.group(1).lower(), match.group(3).lower()
        if tag in (b"a", b"area") and attr == b"href":
            continue
        raw = html.unescape(match.group(4).decode("utf-8", "replace").strip("'\""))
        for url in raw.split(",") if attr == b"srcset" else [raw]:
            vendor = REGISTRY.vendor_for_url(url.strip().split(" ")[0])
            if vendor is not None and vendor.category not in allowed:
                found.append(f"{tag.decode()} {attr.decode()}={url[:80]}")
    for match in _INLINE.finditer(page):
        attrs = match.group(1).lower()
        if b"src=" in attrs or b"text/plain" in attrs or b"application/ld+json" in attrs:
            continue
        vendor = REGISTRY.vendor_for_inline(match.group(2).decode("utf-8", "replace"))
        if vendor is not None and vendor.category not in allowed:
            found.append(f"inline {vendor.id}")
    return found


@dataclass
class Visitor:
    """One browser: its place, its cookie jar, and what it has allowed (None: has not chosen yet)."""

    place: str
    cookies: dict[str, str]
    allowed: frozenset[str] | None = None


@dataclass
class Tally:
    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    connection_errors: int = 0
    pages_checked: int = 0
    leaks: list[str] = field(default_factory=list)
    acked: Counter[str] = field(default_factory=Counter)
    consents_refused_503: int = 0


async def visit(client: httpx.AsyncClient, v: Visitor, rng: random.Random, tally: Tally) -> None:
    """A short session: a page, maybe a choice (or a withdrawal), another page."""
    origin = f"{client.base_url.scheme}://{client.base_url.host}:{client.base_url.port}"

    async def request(method: str, path: str, **kw: Any) -> httpx.Response | None:
        tally.requests += 1
        headers = {**kw.pop("headers", {}), "cookie": "; ".join(f"{k}={val}" for k, val in v.cookies.items())}
        try:
            r = await client.request(method, path, headers=headers, **kw)
        except httpx.TransportError:
            tally.connection_errors += 1  # a killed worker's connections: never acknowledged
            return None
        tally.by_status[r.status_code] += 1
        for line in r.headers.get_list("set-cookie"):
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in line.lower():
                v.cookies.pop(name.strip(), None)
            else:
                v.cookies[name.strip()] = value
        return r

    async def page() -> None:
        r = await request("GET", rng.choice(PAGES))
        if r is None or r.status_code != 200:
            return
        allowed = v.allowed
        if allowed is None and v.place in OPT_IN_PLACES:
            allowed = frozenset()
        if allowed is not None:
            tally.pages_checked += 1
            tally.leaks += [f"{v.place} {sorted(allowed)}: {leak}" for leak in leaks(r.content, allowed)]

    await page()
    roll = rng.random()
    if roll < 0.7:
        action = rng.choice(
            ["accept_all", "reject_all", "save", "withdraw"]
            if v.allowed
            else ["accept_all", "reject_all", "save", "save"]
        )
        chosen = frozenset(rng.sample(OPTIONAL, rng.randint(0, 2))) if action == "save" else None
        body: dict[str, Any] = {"action": action}
        if chosen is not None:
            body["categories"] = {c: c in chosen for c in OPTIONAL}
        r = await request("POST", "/cookiegate/consent", json=body, headers={"origin": origin})
        if r is not None and r.status_code == 200:
            tally.acked[r.json()["consent_id"]] += 1
            v.allowed = (frozenset(OPTIONAL) if action == "accept_all" else chosen or frozenset()) | {"necessary"}
        elif r is not None and r.status_code == 503:
            tally.consents_refused_503 += 1  # a grant the log could not make durable: correctly not applied
    await page()


async def limited(sem: asyncio.Semaphore, job: Coroutine[Any, Any, None]) -> None:
    """Run ``job`` once a slot of ``sem`` is free."""
    async with sem:
        await job


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def server_pids(master: int) -> list[int]:
    """The uvicorn master and its worker processes."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True, check=False)
    return [master] + [int(p) for p in out.stdout.split()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hold_lock(db: Path, seconds: float, done: threading.Event) -> None:
    """Take SQLite's write lock (as a stuck process would) and keep it for ``seconds``."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=30)
    try:
        conn.execute("BEGIN IMMEDIATE")
        done.wait(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def count_records(db: Path, spool: Path) -> Counter[str]:
    store = SQLiteStore(str(db), spool_dir=str(spool))
    await store.open()  # adopts and replays any spool a killed worker left behind
    try:
        return Counter([r["consent_id"] async for r in store.export()])
    finally:
        await store.close()


async def main_async(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="cookiegate-load-"))
    db, spool = work / "log.db", work / "spool"
    port = free_port()
    env = {
        **os.environ,
        "COOKIEGATE_LOAD_SECRET": secrets.token_urlsafe(32),
        "COOKIEGATE_LOAD_LOG_URL": f"sqlite:///{db}",
        "COOKIEGATE_LOAD_SPOOL": str(spool),
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "loadtest.app:create",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        "--lifespan",
        "on",
    ]
    with open(work / "server.log", "wb") as server_log:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=server_log)
    deadline = time.monotonic() + args.time_limit
    tally = Tally()
    faults: list[str] = []
    rss: list[int] = []
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(
            base_url=base, timeout=30, limits=httpx.Limits(max_connections=args.concurrency)
        ) as client:
            for _ in range(200):
                try:
                    if (await client.get("/cookiegate/health")).status_code in (200, 503):
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                print("server did not start; see", work / "server.log", file=sys.stderr)
                return 2
            returning: list[Visitor] = []
            middle = args.rounds // 2
            for round_no in range(args.rounds):
                if time.monotonic() > deadline:
                    faults.append(f"time limit reached after {round_no} rounds")
                    break
                # A browser runs one session at a time: a returning visitor appears at most once per round
                # (two concurrent sessions on one cookie jar would race the model, not the gateway).
                back = rng.sample(returning, min(len(returning), int(args.visitors * 0.4)))
                visitors = back + [
                    Visitor(place, {COOKIE_NAME: place})
                    for place in (rng.choice(PLACES)[0] for _ in range(args.visitors - len(back)))
                ]
                done = threading.Event()
                locker = None
                if round_no == middle and args.lock_db:
                    locker = threading.Thread(target=hold_lock, args=(db, args.lock_seconds, done), daemon=True)
                    locker.start()
                    faults.append(f"log database write-locked for {args.lock_seconds:g}s in round {round_no + 1}")
                sem = asyncio.Semaphore(args.concurrency)
                tasks = [asyncio.create_task(limited(sem, visit(client, v, rng, tally))) for v in visitors]
                if round_no == middle and args.kill_worker:
                    await asyncio.sleep(0.3)
                    workers = server_pids(server.pid)[1:]
                    if workers:
                        os.kill(workers[0], signal.SIGKILL)
                        faults.append(f"worker {workers[0]} SIGKILLed mid-round {round_no + 1}")
                await asyncio.gather(*tasks)
                if locker is not None:
                    state = (await client.get("/cookiegate/health")).json()
                    faults.append(f"records spooled while locked (one worker's view): {state.get('spooled_records')}")
                    done.set()
                    locker.join()
                returning = list({id(v): v for v in (*returning, *visitors)}.values())[-500:]
                rss.append(rss_kib(server_pids(server.pid)))
            # Let the spool replay before the graceful shutdown (which also replays what is left).
            for _ in range(100):
                health = await client.get("/cookiegate/health")
                if health.status_code == 200:
                    break
                await asyncio.sleep(0.1)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    found = await count_records(db, spool)
    lost = sum(max(0, n - found[cid]) for cid, n in tally.acked.items())
    five_xx = sum(n for status, n in tally.by_status.items() if status >= 500 and status != 503)
    growth = (rss[-1] - rss[1]) / rss[1] if len(rss) > 2 and rss[1] else 0.0
    result = {
        "requests": tally.requests,
        "status": dict(sorted(tally.by_status.items())),
        "5xx_other_than_503": five_xx,
        "consent_503_not_applied": tally.consents_refused_503,
        "connection_errors": tally.connection_errors,
        "consents_acknowledged": sum(tally.acked.values()),
        "records_found": sum(found[cid] for cid in tally.acked),
        "records_lost": lost,
        "pages_checked_for_trackers": tally.pages_checked,
        "tracker_leaks": len(tally.leaks),
        "rss_kib_per_round": rss,
        "rss_growth_after_warmup": round(growth, 3),
        "faults": faults,
    }
    print("cookiegate load test")
    for key in (
        "requests",
        "5xx_other_than_503",
        "consent_503_not_applied",
        "connection_errors",
        "consents_acknowledged",
        "records_found",
        "records_lost",
        "pages_checked_for_trackers",
        "tracker_leaks",
        "rss_growth_after_warmup",
    ):
        print(f"  {key:28} {result[key]}")
    print(f"  {'status':28} {result['status']}")
    print(f"  {'rss_kib_per_round':28} {rss}")
    for fault in faults:
        print(f"  fault: {fault}")
    print("RESULT " + json.dumps(result, sort_keys=True))
    for leak in tally.leaks[:10]:
        print("  leak:", leak)
    ok = five_xx == 0 and lost == 0 and not tally.leaks
    if not args.quick and growth > args.max_rss_growth:
        print(f"  memory grew {growth:.0%} after warm-up (limit {args.max_rss_growth:.0%})")
        ok = False
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtest.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="CI smoke: 1 worker, 3 small rounds, no kill")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--visitors", type=int, default=120, help="visitors per round")
    p.add_argument("--concurrency", type=int, default=48)
    p.add_argument("--lock-seconds", type=float, default=2.0)
    p.add_argument("--no-lock", dest="lock_db", action="store_false", help="do not lock the log database")
    p.add_argument("--no-kill", dest="kill_worker", action="store_false", help="do not SIGKILL a worker")
    p.add_argument("--time-limit", type=float, default=300.0, help="stop starting rounds after this many seconds")
    p.add_argument("--max-rss-growth", type=float, default=0.15)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args(argv)
    if args.quick:
        args.workers, args.rounds, args.visitors, args.concurrency = 1, 3, 30, 10
        args.lock_seconds, args.kill_worker, args.time_limit = 0.5, False, 60.0
    args.rounds = max(1, min(args.rounds, 50))
    args.visitors = max(1, min(args.visitors, 2000))
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
