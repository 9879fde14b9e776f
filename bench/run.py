"""cookiegate performance benchmark: bare app vs gated app under uvicorn, plus in-process microbenchmarks.

    .venv/bin/python -m bench            # the full run (about 6 minutes on 2 cores)
    .venv/bin/python -m bench --quick    # a few seconds, Python load client; numbers are indicative only

Uvicorn servers (``bench.apps:bare``, ``bench.apps:gated`` and a no-op middleware for reference; uvloop +
httptools when installed) run on 127.0.0.1, started afresh for each round; within a round short runs against
them take turns, in an order that turns each round, so drift hits all alike. The table shows medians
and, per goal of issue 6, the median over rounds of the gated/bare ratio measured within each round. The
load generator is ``wrk`` when it is on PATH, else an async keep-alive client in Python (much slower than
wrk: its ratios understate the gateway's relative cost less precisely). Nothing here asserts speed; tests
only check the table prints.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import gc
import html.parser
import itertools
import os
import platform
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.apps import EU_IP, bench_config  # noqa: E402
from bench.pages import static_page, streamed_chunks  # noqa: E402
from cookiegate.policy._consent import Choice, ConsentCodec, new_consent_id  # noqa: E402

TYPICAL_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0.0.0 Safari/537.36")
EVERY_OPTIONAL = ("functional", "analytics", "ads", "social")
STREAM_SIZE = 1024 * 1024


# ---------------------------------------------------------------------------------------------------
# servers
# ---------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _has(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@dataclass
class Server:
    """One uvicorn process serving ``<module>:<name>`` (``bench.apps:gated``)."""

    name: str
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    module: str = "bench.apps"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, tmp: str) -> None:
        self.port = _free_port()
        loop = "uvloop" if _has("uvloop") else "asyncio"
        http = "httptools" if _has("httptools") else "h11"
        cmd = [sys.executable, "-m", "uvicorn", f"{self.module}:{self.name}", "--host", "127.0.0.1",
               "--port", str(self.port), "--loop", loop, "--http", http, "--no-access-log",
               "--log-level", "warning", "--lifespan", "on"]
        env = dict(os.environ, COOKIEGATE_BENCH_TMP=tmp, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn for {self.name} exited with {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError(f"uvicorn for {self.name} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------------
# load generators
# ---------------------------------------------------------------------------------------------------


@dataclass
class Load:
    """One load run's outcome."""

    rps: float
    requests: int
    cpu_per_request_us: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """What to request: a path and headers; ``flood`` makes every request carry a new UA and cookie."""

    path: str
    headers: tuple[tuple[str, str], ...] = ()
    flood: bool = False


def _forged_cookie(rng: random.Random) -> str:
    payload = base64.urlsafe_b64encode(rng.randbytes(60)).decode().rstrip("=")
    stamp = base64.urlsafe_b64encode(rng.randbytes(4)).decode().rstrip("=")
    sig = base64.urlsafe_b64encode(rng.randbytes(20)).decode().rstrip("=")
    return f"{payload}.{stamp}.{sig}"


def _random_ua(rng: random.Random) -> str:
    return (f"Mozilla/5.0 (X11; Linux x86_64; rv:{rng.randrange(10**6)}) AppleWebKit/{rng.randrange(10**6)}"
            f" (KHTML, like Gecko) Chrome/{rng.randrange(10**4)}.{rng.randrange(10**6)} Safari/537.36"
            f" R{rng.randrange(2**40)}")


_WRK_FLOOD_LUA = r"""
local chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function rnd(n)
  local t = {}
  for i = 1, n do local k = math.random(1, #chars); t[i] = chars:sub(k, k) end
  return table.concat(t)
end
math.randomseed(os.time())
request = function()
  local ua = "Mozilla/5.0 (X11; Linux x86_64; rv:" .. math.random(1, 999999) .. ") AppleWebKit/" ..
    math.random(1, 999999) .. " (KHTML, like Gecko) Chrome/" .. math.random(1, 9999) .. "." ..
    math.random(1, 999999) .. " Safari/537.36 R" .. rnd(10)
  wrk.headers["User-Agent"] = ua
  wrk.headers["Cookie"] = "%(cookie)s=" .. rnd(80) .. "." .. rnd(6) .. "." .. rnd(27)
  return wrk.format("GET", "%(path)s")
end
"""


def run_wrk(base: str, scenario: Scenario, seconds: float, connections: int, cookie_name: str) -> Load:
    """One wrk run (-t1 -c32 by default)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for key, value in scenario.headers:
        cmd += ["-H", f"{key}: {value}"]
    script = None
    if scenario.flood:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(_WRK_FLOOD_LUA % {"cookie": cookie_name, "path": scenario.path})
        script.close()
        cmd += ["-s", script.name]
    cmd.append(base + scenario.path)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        if script is not None:
            os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"non-2xx responses from {base}{scenario.path}:\n{out}")
    return Load(rps, total)


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length or chunked); returns the status."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
    if m is not None:
        await reader.readexactly(int(m.group(1)))
    elif b"transfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


def _request_bytes(scenario: Scenario, rng: random.Random, cookie_name: str) -> bytes:
    headers = list(scenario.headers)
    if scenario.flood:
        headers = [h for h in headers if h[0].lower() not in ("user-agent", "cookie")]
        headers += [("User-Agent", _random_ua(rng)), ("Cookie", f"{cookie_name}={_forged_cookie(rng)}")]
    lines = [f"GET {scenario.path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def run_python_client(base: str, scenario: Scenario, seconds: float, connections: int, cookie_name: str) -> Load:
    """Keep-alive connections in one asyncio loop, for ``seconds``; the fallback when wrk is absent."""
    port = int(base.rsplit(":", 1)[1])
    rng = random.Random(6)
    fixed = _request_bytes(scenario, rng, cookie_name)

    async def worker(stop: float, counts: list[int]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                writer.write(_request_bytes(scenario, rng, cookie_name) if scenario.flood else fixed)
                status = await _read_response(reader)
                if status >= 400:
                    raise RuntimeError(f"{scenario.path}: HTTP {status}")
                counts[0] += 1
        finally:
            writer.close()

    async def main() -> Load:
        counts = [0]
        start = time.perf_counter()
        stop = start + seconds
        await asyncio.gather(*(worker(stop, counts) for _ in range(connections)))
        elapsed = time.perf_counter() - start
        return Load(counts[0] / elapsed, counts[0])

    return asyncio.run(main())


# ---------------------------------------------------------------------------------------------------
# goals
# ---------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table."""

    goal: str
    what: str
    bare: float | None
    gated: float | None
    ratio: float | None
    target: str
    ok: bool | None
    unit: str = "req/s"
    notes: list[str] = field(default_factory=list)


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("pass" if ok else "short")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "req/s":
        return f"{value:,.0f}"
    return f"{value:,.1f} {unit}"


def print_table(title: str, rows: Sequence[Row]) -> None:
    """The goal table, in Markdown so the README can quote it as printed."""
    print(f"\n### {title}\n")
    print("| goal | what | bare | gated | gated / bare | target | result |")
    print("| --- | --- | ---: | ---: | ---: | --- | --- |")
    for row in rows:
        ratio = "-" if row.ratio is None else f"{row.ratio:.3f}"
        print(f"| {row.goal} | {row.what} | {_fmt(row.bare, row.unit)} | {_fmt(row.gated, row.unit)} | {ratio} "
              f"| {row.target} | {_verdict(row.ok)} |")
    for row in rows:
        for note in row.notes:
            print(f"- goal {row.goal}: {note}")


def consent_cookie(allow: Sequence[str]) -> str:
    """A valid consent cookie (for the bench's secret) that allows ``allow``."""
    config = bench_config()
    from cookiegate._runtime import Gateway

    gateway = Gateway(config)
    try:
        regime = gateway.jurisdiction.regime_for(gateway.geo.lookup(EU_IP))
    finally:
        gateway.geo.close()
    codec = ConsentCodec(config.secret_keys, policy_revision=config.policy_revision, max_age=config.consent_max_age)
    choice = Choice(consent_id=new_consent_id(), categories={c: c in allow for c in EVERY_OPTIONAL},
                    policy_revision=config.policy_revision, regime_key=regime.key, regime_kind=regime.kind,
                    action="accept_all", issued_at=int(time.time()))
    return f"{config.cookie_name}={codec.encode(choice)}"


def _fetch(base: str, path: str, headers: Sequence[tuple[str, str]]) -> tuple[int, bytes]:
    async def go() -> tuple[int, bytes]:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"] + [f"{k}: {v}" for k, v in headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = await reader.read()
        writer.close()
        return int(data[9:12]), data

    return asyncio.run(go())


def ttfb(bases: Sequence[str], path: str, headers: Sequence[tuple[str, str]], repeat: int) -> list[float]:
    """Per server, the median time (ms) from sending a request on a fresh connection to the first byte of the
    answer; the servers take turns request by request, so drift on the machine hits them alike."""
    request = ("\r\n".join([f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
                           + [f"{k}: {v}" for k, v in headers]) + "\r\n\r\n").encode("latin-1")
    ports = [int(base.rsplit(":", 1)[1]) for base in bases]
    times: list[list[float]] = [[] for _ in ports]
    for _ in range(repeat):
        for port, samples in zip(ports, times, strict=True):
            # Each request meets a server at rest: otherwise what is measured is how soon the previous
            # 1 MB response's clean-up (freeing its buffers) ends, not the time to first byte.
            time.sleep(0.005)
            with socket.create_connection(("127.0.0.1", port)) as s:
                start = time.perf_counter()
                s.sendall(request)
                s.recv(1)
                samples.append((time.perf_counter() - start) * 1000)
                while s.recv(1 << 16):
                    pass
    return [statistics.median(samples) for samples in times]


def stream_memory_peak(size: int) -> tuple[int, int]:
    """Peak traced memory (bytes) of the gated app streaming a ``size``-byte page, and its body messages."""
    from cookiegate import CookieGateMiddleware
    from cookiegate._config import config_from_mapping

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        for chunk in streamed_chunks(size):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    config = bench_config()
    gated = CookieGateMiddleware(app, config=config_from_mapping(
        {"secret_keys": list(config.secret_keys), "geoip_database": config.geoip_database or "",
         "trusted_proxies": [], "log_url": config.log_url}))
    messages = [0]

    async def send(message: Any) -> None:
        if message["type"] == "http.response.body":
            messages[0] += 1

    async def receive() -> Any:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [(b"host", b"x"), (b"user-agent", TYPICAL_UA.encode()),
                         (b"x-forwarded-for", EU_IP.encode())],
             "client": ("85.0.1.10", 1234), "server": ("x", 80), "scheme": "http", "http_version": "1.1"}

    from cookiegate.rewrite import _memo

    asyncio.run(gated(dict(scope), receive, send))  # warm caches first
    messages[0] = 0
    # The rewriter's memo tables are process-wide and capped (they fill up once, whatever the page size):
    # switched off here so that the peak is what one request holds.
    memos_for = _memo.memos_for
    def no_memos(classifier: object, limits: Any, site: Any = None) -> None:
        return None

    _memo.memos_for = no_memos
    try:
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        asyncio.run(gated(dict(scope), receive, send))
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    finally:
        _memo.memos_for = memos_for
    return peak, messages[0]


def memo_cap_mib() -> float:
    """The most memory the rewriter's process-wide memo tables can hold (keys at their length caps)."""
    from cookiegate.rewrite import Limits

    limits = Limits()
    # attribute values, start tags, and the plain start tags (the same bytes as the latter while neither
    # table has been cleared since, but counted apart: they are cleared apart)
    tags = 3 * limits.memo_entries * limits.memo_value_max
    regions = limits.memo_region_entries * (2 * limits.memo_region_max + limits.memo_region_prefix)
    # whole pages, their outputs and what was recorded with them (capped together)
    pages = limits.memo_page_bytes
    inline = limits.memo_inline_entries * limits.memo_inline_max
    return (tags + inline + regions + pages) / 2**20


def load_goals(quick: bool) -> list[Row]:
    """Goals 1-6 against real servers."""
    use_wrk = shutil.which("wrk") is not None and not quick
    seconds = 0.25 if quick else 1.0
    rounds = 1 if quick else 7
    passes = 1 if quick else 3  # per app, scenario and round
    connections = 8 if quick else 32
    config = bench_config()
    drive: Callable[[str, Scenario, float, int, str], Load] = run_wrk if use_wrk else run_python_client
    eu = (("X-Forwarded-For", EU_IP), ("User-Agent", TYPICAL_UA))
    allow_all = eu + (("Cookie", consent_cookie(EVERY_OPTIONAL)),)
    scenarios = {
        "json": Scenario("/json", eu),
        "page-eu": Scenario("/page", eu),
        "page-allowed": Scenario("/page", allow_all),
        "demo": Scenario("/pricing", eu),
        "small-typical": Scenario("/small", allow_all),
        "small-flood": Scenario("/small", eu, flood=True),
    }
    tmp = tempfile.mkdtemp(prefix="cookiegate-bench-")
    results: dict[tuple[str, str], list[Load]] = {}
    # Per round, each app's throughput over bare's in the same round.
    ratios: dict[tuple[str, str], list[float]] = {}
    ttfbs: list[tuple[float, float]] = []  # per round: bare's and the gated app's median time to first byte
    rows: list[Row] = []
    servers: list[Server] = []
    try:
        for round_no in range(rounds):
            # Fresh server processes every round: a process keeps its memory layout and hash seed for life,
            # and that alone can shift an app's throughput by a few per cent for as long as it runs (four
            # fresh bare/no-op pairs measured 0.94 to 1.01 x bare as medians of three runs each, the no-op
            # middleware 0.95 to 1.09 across full runs that kept one process per app). With a new process per
            # round, that is noise the median over rounds removes, not a bias of the whole run.
            servers = [Server("bare"), Server("noop"), Server("gated")]
            for server in servers:
                server.start(tmp)
            bare, noop, gated = servers
            if round_no == 0:
                # Sanity: the gated page really is neutralized for an EU first visit, untouched when all is allowed.
                status, body = _fetch(gated.base, "/page", eu)
                assert status == 200 and b"data-cookiegate-blocked" in body, "gated /page was not neutralized"
                status, body = _fetch(gated.base, "/page", allow_all)
                assert status == 200 and b"data-cookiegate-blocked" not in body, "allowed visitor still blocked"
            for key, scenario in scenarios.items():
                # The no-op middleware is measured on the JSON route only (below): it is warmed there only.
                for server in servers if key == "json" else (bare, gated):
                    for _ in range(3):  # a new process's first requests fill its caches and memos
                        _fetch(server.base, scenario.path, scenario.headers)
            for key, scenario in scenarios.items():
                # Short runs taking turns, in an order that turns each round: the load other jobs put on the
                # machine changes within seconds, and it hits every app alike only when their runs alternate
                # that fast. The no-op middleware runs the JSON route only: the run's own measure of what
                # wrapping an app costs at all, and of its noise.
                line = (bare, noop, gated) if key == "json" else (bare, gated)
                turn = round_no % len(line)
                done: dict[str, list[Load]] = {}
                for _ in range(passes):
                    for server in line[turn:] + line[:turn]:
                        cpu0 = server.cpu_seconds()
                        load = drive(server.base, scenario, seconds, connections, config.cookie_name)
                        load.cpu_per_request_us = (server.cpu_seconds() - cpu0) / max(1, load.requests) * 1e6
                        done.setdefault(server.name, []).append(load)
                rps = {name: statistics.fmean(r.rps for r in loads) for name, loads in done.items()}
                for name, loads in done.items():
                    cpu = sum(r.cpu_per_request_us * r.requests for r in loads) / max(1, sum(r.requests for r in loads))
                    results.setdefault((key, name), []).append(Load(rps[name], sum(r.requests for r in loads), cpu))
                    ratios.setdefault((key, name), []).append(rps[name] / max(rps["bare"], 1e-9))
            # Goal 5a on this round's processes too: a time to first byte of one process pair is as much that
            # pair's layout as the code.
            stream = f"/stream?size={STREAM_SIZE}"
            ttfb((bare.base, gated.base), stream, eu, 3)  # warm-up: first connections, cold caches
            first = ttfb((bare.base, gated.base), stream, eu, 5 if quick else 30)
            ttfbs.append((first[0], first[1]))
            for server in servers:
                server.stop()

        def med(key: str, name: str) -> float:
            return statistics.median(r.rps for r in results[(key, name)])

        def ratio(key: str, name: str = "gated") -> float:
            return statistics.median(ratios[(key, name)])

        def row(goal: str, what: str, key: str, target: float) -> Row:
            r = ratio(key)
            return Row(goal, what, med(key, "bare"), med(key, "gated"), r, f">= {target:.2f}", r >= target)

        def cpu_us(key: str, name: str) -> float:
            return statistics.median(r.cpu_per_request_us for r in results[(key, name)])

        # Goal 1 is judged in server CPU per request (issue 21): throughput moves with whatever else the machine
        # runs, CPU per request moves less and says in microseconds what the gate costs a response it lets
        # through. Target: at most 2.5 us over bare (about 0.95 x bare throughput on the development machine).
        bare_us, gated_us = cpu_us("json", "bare"), cpu_us("json", "gated")
        rows.append(Row("1", "JSON route, no cookie set: server CPU per request", bare_us, gated_us,
                        gated_us / bare_us, "<= bare + 2.5 us", gated_us - bare_us <= 2.5, unit="us"))
        rows[-1].notes.append(f"the gate's CPU over bare: {gated_us - bare_us:+.1f} us; no-op pure ASGI middleware "
                              f"{cpu_us('json', 'noop') - bare_us:+.1f} us (medians over rounds)")
        rows[-1].notes.append(f"throughput on the same runs: gated {ratio('json'):.3f} x bare (per-round ratios "
                              f"{', '.join(f'{x:.2f}' for x in sorted(ratios[('json', 'gated')]))}), no-op "
                              f"{ratio('json', 'noop'):.3f} x bare; req/s bare {med('json', 'bare'):,.0f}, gated "
                              f"{med('json', 'gated'):,.0f}")
        rows.append(row("2", "100 KB page, EU first visit (neutralize + banner)", "page-eu", 0.20))
        rows.append(row("3", "100 KB page, returning visitor allowing all", "page-allowed", 0.50))
        rows.append(row("4", "demo Jinja2 page /pricing, EU first visit", "demo", 0.80))

        # Goal 5: time to first byte of a 1 MB streamed page (measured in every round above), and peak memory
        # 10 MB vs 100 KB.
        t_ratio = statistics.median(g / b for b, g in ttfbs)
        rows.append(Row("5a", "1 MB streamed page: time to first byte", statistics.median(b for b, _ in ttfbs),
                        statistics.median(g for _, g in ttfbs), t_ratio, "<= 1.10", t_ratio <= 1.10, unit="ms",
                        notes=[f"per-round ratios {', '.join(f'{x:.2f}' for x in sorted(g / b for b, g in ttfbs))} "
                               f"(medians of {5 if quick else 30} requests per app and round)"]))
        small_peak, _ = stream_memory_peak(100 * 1024)
        big_peak, messages = stream_memory_peak(10 * 1024 * 1024)
        rows.append(Row("5b", "streamed page peak memory: 100 KB vs 10 MB (in-process, gated)",
                        small_peak / 1024, big_peak / 1024, big_peak / small_peak, "<= 1.10",
                        big_peak <= small_peak * 1.10, unit="KiB",
                        notes=[f"the 10 MB page left the gate as {messages} body messages (it kept streaming); "
                               "memo tables excluded (process-wide, capped at "
                               f"{memo_cap_mib():.0f} MiB in all)"]))

        # Goal 6: CPU per request of the gated server, random UA + forged cookie vs a typical returning visitor.
        typical = cpu_us("small-typical", "gated")
        flood = cpu_us("small-flood", "gated")
        rows.append(Row("6", "1 KB page: CPU/request, random UA + forged cookie vs typical", typical, flood,
                        flood / typical, "<= 2.00", flood / typical <= 2.0, unit="us",
                        notes=[f"req/s gated typical {med('small-typical', 'gated'):,.0f}, "
                               f"flood {med('small-flood', 'gated'):,.0f}"]))
        driver = f"wrk -t1 -c{connections}" if use_wrk else f"Python asyncio client, {connections} connections"
        print_table(f"Load (driver: {driver}; {rounds} rounds, fresh processes each; per round and scenario "
                    f"{passes} x {seconds:g} s per app, taking turns; medians over rounds, ratios the median of "
                    f"the per-round ratios)", rows)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


# ---------------------------------------------------------------------------------------------------
# microbenchmarks
# ---------------------------------------------------------------------------------------------------


def _per_call_us(fn: Callable[[], object], budget: float) -> float:
    """Median over 5 rounds of the time per call, in microseconds."""
    fn()
    calls = 1
    start = time.perf_counter()
    while time.perf_counter() - start < budget / 10:
        fn()
        calls += 1
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - t) / calls * 1e6)
    return statistics.median(rounds)


class _ReEmit(html.parser.HTMLParser):
    """The stdlib reference: parse with html.parser and re-emit every token (what a naive rewriter does)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self.get_starttag_text() or "")

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.out.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.out.append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self.out.append(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self.out.append(f"<!{decl}>")


def micro(quick: bool) -> list[tuple[str, float, str]]:
    """In-process costs, per call."""
    from bench.lol import lolhtml_available, lolhtml_rewrite
    from cookiegate._geo import GeoResolver
    from cookiegate._resources import bundled_demo_database
    from cookiegate._visitor import _parse_user_agent, user_agent_info
    from cookiegate.policy._catalog import TagRegistry
    from cookiegate.policy._decision import Permissions
    from cookiegate.rewrite import SCAN_BACKEND, Handlers, HtmlRewriter, Settings, _backend, _scan

    budget = 0.05 if quick else 2.0
    page = static_page()
    registry = TagRegistry.builtin()
    rows: list[tuple[str, float, str]] = []

    handlers = Handlers(head=b"<link data-cookiegate>", body=b"<div>banner</div>")

    def permissions(allowed: Sequence[str]) -> Permissions:
        # A visitor who allows every category can have nothing refused (the rewriter's pass-through).
        return Permissions(frozenset(allowed) | {"necessary"}, unclassified=set(allowed) >= set(EVERY_OPTIONAL))

    def rewrite(allowed: Sequence[str], chunk: int = 0, reg: TagRegistry = registry) -> Callable[[], bytes]:
        def go() -> bytes:
            r = HtmlRewriter(Settings(reg, permissions(allowed)), handlers)
            if chunk:
                out = b"".join(r.feed(page[i : i + chunk]) for i in range(0, len(page), chunk))
            else:
                out = r.feed(page)
            return out + r.finish()
        return go

    kb = f"{len(page) / 1024:.0f} KB"
    backend = SCAN_BACKEND
    rows.append((f"cookiegate rewriter ({backend} skip scan), {kb} page, EU first visit (warm memos)",
                 _per_call_us(rewrite(()), budget),
                 "byte-identical outside changed tags"))
    rows.append((f"cookiegate rewriter, {kb} page, in 4 KB chunks", _per_call_us(rewrite((), 4096), budget), ""))
    rows.append((f"cookiegate rewriter, {kb} page, all allowed", _per_call_us(rewrite(EVERY_OPTIONAL), budget), ""))

    def replay(allowed: Sequence[str]) -> Callable[[], bytes]:
        # What a page seen before costs: found in the page table, compared whole (an equal copy, as a
        # template rendered again gives, not the same object), replayed with this visitor's injections.
        again = bytes(bytearray(page))

        def go() -> bytes:
            return HtmlRewriter(Settings(registry, permissions(allowed)), handlers).document(again)
        return go

    rows.append((f"cookiegate rewriter, {kb} page seen before, EU first visit", _per_call_us(replay(()), budget),
                 "whole-page memo: compared, replayed"))
    rows.append((f"cookiegate rewriter, {kb} page seen before, all allowed",
                 _per_call_us(replay(EVERY_OPTIONAL), budget), ""))
    if SCAN_BACKEND == "c":
        # The same rewriter on the pure-Python skip scan (what a machine without a C compiler runs).
        saved = _backend.skip, _backend.has_explicit_markup
        _backend.skip, _backend.has_explicit_markup = _scan.skip, _scan.has_explicit_markup
        try:
            rows.append(("the same, EU first visit, pure-Python skip scan", _per_call_us(rewrite(()), budget),
                         "no C compiler at install"))
            rows.append(("the same, all allowed, pure-Python skip scan",
                         _per_call_us(rewrite(EVERY_OPTIONAL), budget), ""))
        finally:
            _backend.skip, _backend.has_explicit_markup = saved

    def cold() -> bytes:  # a new registry each time: empty memos (a page never seen before)
        return rewrite((), reg=TagRegistry.builtin())()

    cold_us = _per_call_us(cold, budget) - _per_call_us(TagRegistry.builtin, budget)
    rows.append((f"cookiegate rewriter, {kb} page, cold memos", cold_us, "first sight of every tag"))
    if _has("selectolax"):
        from selectolax.lexbor import LexborHTMLParser

        def selectolax() -> str:
            tree = LexborHTMLParser(page)
            for node in tree.css("script[src], img[src], iframe[src], link[href]"):
                url = node.attributes.get("src") or node.attributes.get("href") or ""
                vendor = registry.vendor_for_url(url)
                if vendor is not None:
                    node.attrs["data-cookiegate-blocked"] = vendor.category
            return str(tree.html)

        rows.append((f"selectolax (lexbor) parse + modify + serialize, {kb}", _per_call_us(selectolax, budget),
                     "re-serializes the whole document"))
    if lolhtml_available():
        rows.append((f"lol-html (python-lolhtml 0.1.0, alpha), {kb}, src/href only",
                     _per_call_us(lambda: lolhtml_rewrite(page, registry, ()), budget),
                     "no inline/srcset/style classification"))
    text = page.decode("utf-8")

    def reemit() -> str:
        p = _ReEmit()
        p.feed(text)
        p.close()
        return "".join(p.out)

    rows.append((f"stdlib html.parser re-emit, {kb}", _per_call_us(reemit, budget), ""))
    floor = re.compile(rb"(?:[^<]++|<[^>]*+>)*+")
    rows.append((f"regex floor: one pass over {kb} tokens", _per_call_us(lambda: floor.match(page), budget), ""))

    geo = GeoResolver(str(bundled_demo_database()))
    rows.append(("geo lookup (bundled demo .mmdb), returning address", _per_call_us(lambda: geo.lookup(EU_IP), budget),
                 "remembered under a keyed hash"))
    addresses = (f"85.0.{i >> 8}.{i & 255}" for i in itertools.cycle(range(1 << 16)))
    rows.append(("geo lookup, a new address each call", _per_call_us(lambda: geo.lookup(next(addresses)), budget),
                 "parse + C reader"))
    geo.close()
    config = bench_config()
    codec = ConsentCodec(config.secret_keys, policy_revision=config.policy_revision, max_age=config.consent_max_age)
    valid = consent_cookie(EVERY_OPTIONAL).split("=", 1)[1]
    rows.append(("consent cookie verify (valid, seen before)", _per_call_us(lambda: codec.decode(valid), budget),
                 "remembered, expiry re-checked"))

    def first_sight() -> object:
        codec._verified.clear()
        return codec.decode(valid)

    rows.append(("consent cookie verify (valid, first sight)", _per_call_us(first_sight, budget), "HMAC + JSON"))
    forged = _forged_cookie(random.Random(1))
    rows.append(("consent cookie verify (forged)", _per_call_us(lambda: codec.decode(forged), budget), ""))
    rows.append(("user agent, cached", _per_call_us(lambda: user_agent_info(TYPICAL_UA), budget), ""))
    rng = random.Random(2)
    fresh: Iterator[str] = (_random_ua(rng) for _ in iter(int, 1))
    rows.append(("user agent, uncached (new random UA each call)",
                 _per_call_us(lambda: _parse_user_agent.__wrapped__(next(fresh)), budget), ""))
    print("\n### In-process microbenchmarks (median of 5 rounds)\n")
    print("| what | per call | note |")
    print("| --- | ---: | --- |")
    for what, us, note in rows:
        shown = f"{us / 1000:.3f} ms" if us >= 1000 else f"{us:.1f} µs"
        print(f"| {what} | {shown} | {note} |")
    return rows


def machine() -> str:
    """One line describing where the numbers came from."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    loop = "uvloop" if _has("uvloop") else "asyncio"
    http = "httptools" if _has("httptools") else "h11"
    from cookiegate.rewrite import SCAN_BACKEND

    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} "
            f"{platform.release()}, uvicorn + {loop} + {http}, {SCAN_BACKEND} skip scan")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; ``--quick`` for a few-second smoke run."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds; Python client; indicative only")
    parser.add_argument("--micro-only", action="store_true", help="only the in-process microbenchmarks")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    rows: list[Row] = []
    if not args.micro_only:
        rows = load_goals(args.quick)
    micro(args.quick)
    if rows:
        short = [r.goal for r in rows if r.ok is False]
        print(f"\nsummary: {len(rows) - len(short)}/{len(rows)} goals pass" + (f"; short: {', '.join(short)}"
                                                                            if short else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
