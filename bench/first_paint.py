"""First paint in Chromium: the same page bare and behind cookiegate, for a visitor who gets the banner.

    .venv/bin/python -m bench.first_paint            # 8 interleaved runs per page (the figures in the docs)
    .venv/bin/python -m bench.first_paint --runs 2   # a smoke run

Each run is a fresh browser context (empty cache) loading the page once from a uvicorn server on 127.0.0.1,
the two pages taking turns in an order that turns each round. Measured in the page, by observers installed
before it loads: the first contentful paint (``paint`` entries), when the banner's refusal button was painted
(``element`` timing on its ``elementtiming`` attribute) and the layout shift (``layout-shift`` entries without
recent input), plus the bytes transferred. From a Chromium trace of the same load: the renderer main thread's
CPU time from navigation to the end of the task that painted the first frame (thread time, which other work
on the machine inflates far less than the wall clock). Printed: medians, the gated/bare ratios, and whether
the refusal button was in the first contentful paint in every run. Nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.apps import EU_IP, bench_config  # noqa: E402

#: A small marketing page (about 3 kB), its first-party stylesheet in <head> as most sites have one.
PAGE: Final = (
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    "<title>Kactuce CRM+ — the friendly CRM for growing teams</title>"
    "<link rel=\"stylesheet\" href=\"/static/site.css\"></head><body>"
    "<header><strong>Kactuce CRM+</strong> <nav><a href=\"/\">Home</a> <a href=\"/pricing\">Pricing</a> "
    "<a href=\"/blog\">Blog</a></nav></header><main><h1>Every customer, every deal, one calm place.</h1>"
    + "".join(
        f"<section><h2>Why teams switch, part {i}</h2><p>Kactuce CRM+ gives sales and support teams a shared view "
        "of every conversation, without the spiky learning curve. Pipelines, a shared inbox and automations "
        "that read like plain sentences, made in Paris.</p></section>"
        for i in range(1, 9)
    )
    + "</main><footer>© Kactuce</footer></body></html>"
)
SITE_CSS: Final = (
    "body{margin:0;font:17px/1.6 system-ui,sans-serif;color:#1b1b1b}header,main,footer{max-width:60rem;"
    "margin:0 auto;padding:1rem}h1{font-size:2.4rem;line-height:1.15;color:#173b2c}nav a{margin-left:1rem}"
)
#: Observers installed before the page's first byte is parsed.
OBSERVERS: Final = """
window.__fp = {fcp: null, reject: null, cls: 0};
new PerformanceObserver(l => { for (const e of l.getEntries())
    if (e.name === 'first-contentful-paint') __fp.fcp = e.startTime; }).observe({type: 'paint', buffered: true});
new PerformanceObserver(l => { for (const e of l.getEntries())
    if (e.identifier === 'cookiegate-reject') __fp.reject = e.renderTime; }).observe({type: 'element', buffered: true});
new PerformanceObserver(l => { for (const e of l.getEntries())
    if (!e.hadRecentInput) __fp.cls += e.value; }).observe({type: 'layout-shift', buffered: true});
"""
#: Chromium settles paints and layout shifts within this long after load.
SETTLE_MS: Final = 500


def site() -> Any:
    """The page and its stylesheet."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    async def page(request: Any) -> HTMLResponse:
        return HTMLResponse(PAGE)

    async def css(request: Any) -> Response:
        return Response(SITE_CSS, media_type="text/css", headers={"cache-control": "no-store"})

    return Starlette(routes=[Route("/", page), Route("/static/site.css", css)])


def __getattr__(name: str) -> Any:
    # Served by uvicorn as bench.first_paint:bare and bench.first_paint:gated.
    if name == "bare":
        return site()
    if name == "gated":
        from cookiegate import CookieGateMiddleware

        return CookieGateMiddleware(site(), config=bench_config())
    raise AttributeError(name)


#: Trace categories for the main thread's tasks and the first contentful paint.
TRACE_CATEGORIES: Final = [
    "devtools.timeline", "disabled-by-default-devtools.timeline", "loading", "toplevel", "blink.user_timing"
]
#: The outermost task event (a task appears as it and, nested, as "RunTask": count each task once).
_TASK: Final = "ThreadControllerImpl::RunTask"


def main_thread_cpu_to_first_paint(trace: dict[str, Any]) -> float | None:
    """Milliseconds of CPU the renderer's main thread spent in tasks from navigation start to the end of the
    task that painted the first frame, from a Chromium trace (``tdur``: thread time). The first contentful
    paint's own timestamp is when the frame was presented, which a busy machine delays: tasks that ran after the
    paint but before it showed did not hold it back."""
    events = trace.get("traceEvents", [])
    fcp = [e for e in events if e.get("name") == "firstContentfulPaint"]
    if not fcp:
        return None
    pid = fcp[-1]["pid"]
    main = {e["tid"] for e in events if e.get("name") == "thread_name" and e["pid"] == pid
            and e.get("args", {}).get("name") == "CrRendererMain"}  # fmt: skip
    starts = [e["ts"] for e in events if e.get("name") == "navigationStart" and e["pid"] == pid]
    start = starts[-1] if starts else 0
    tasks = sorted((e for e in events if e.get("ph") == "X" and e.get("name") == _TASK and e["pid"] == pid
                    and e["tid"] in main and e["ts"] >= start), key=lambda e: e["ts"])  # fmt: skip
    paints = [e["ts"] for e in events if e.get("name") == "Paint" and e["pid"] == pid and e["ts"] >= start]
    if not paints:
        return None
    first_paint = min(paints)
    spent = sum(e.get("tdur", 0) for e in tasks if e["ts"] <= first_paint)
    return float(spent) / 1000


def measure(browser: Any, new_context: Any, base: str) -> dict[str, float | None]:
    """One page load in a fresh context: first contentful paint, refusal painted, layout shift, bytes, and the
    main thread's CPU before the first contentful paint."""
    context = new_context()
    try:
        page = context.new_page()
        page.add_init_script(OBSERVERS)
        browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
        try:
            page.goto(base + "/", wait_until="load")
            page.wait_for_function("window.__fp.fcp !== null", timeout=10_000)
            page.wait_for_timeout(SETTLE_MS)
        finally:
            trace = json.loads(browser.stop_tracing())
        found: dict[str, float | None] = page.evaluate(
            """() => Object.assign(window.__fp, {bytes: [...performance.getEntriesByType('navigation'),
                ...performance.getEntriesByType('resource')].reduce((n, e) => n + e.transferSize, 0),
                ttfb: performance.getEntriesByType('navigation')[0].responseStart})"""
        )
        found["cpu"] = main_thread_cpu_to_first_paint(trace)
        return found
    finally:
        context.close()


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that were measured."""
    kept = [v for v in values if v is not None]
    return statistics.median(kept) if kept else None


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print the table."""
    from playwright.sync_api import sync_playwright

    from bench.run import Server

    parser = argparse.ArgumentParser(prog="python -m bench.first_paint", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8, help="page loads per page (interleaved)")
    parser.add_argument("--chromium", default=os.environ.get("COOKIEGATE_CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    servers = {name: Server(name, module="bench.first_paint") for name in ("bare", "gated")}
    results: dict[str, list[dict[str, float | None]]] = {name: [] for name in servers}
    with tempfile.TemporaryDirectory(prefix="cookiegate-first-paint-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        try:
            for server in servers.values():
                server.start(tmp)
            # A visitor in Paris (the bench config trusts 127.0.0.1's X-Forwarded-For): the opt-in banner.
            def context() -> Any:
                return browser.new_context(extra_http_headers={"X-Forwarded-For": EU_IP},
                                           viewport={"width": 360, "height": 740})

            for name in servers:  # one load each first, so neither server's first request is measured
                measure(browser, context, servers[name].base)
            for run in range(args.runs):
                order = list(servers) if run % 2 == 0 else list(reversed(servers))
                for name in order:
                    results[name].append(measure(browser, context, servers[name].base))
        finally:
            browser.close()
            for server in servers.values():
                server.stop()
    report(results)
    return 0


def report(results: dict[str, list[dict[str, float | None]]]) -> None:
    """Print medians, the ratio, and whether the refusal was in the first contentful paint each time."""
    fcp = {name: median([r["fcp"] for r in runs]) for name, runs in results.items()}
    cls = {name: median([r["cls"] for r in runs]) for name, runs in results.items()}
    size = {name: median([r["bytes"] for r in runs]) for name, runs in results.items()}
    gated = results["gated"]
    in_first = sum(1 for r in gated if r["reject"] is not None and r["fcp"] is not None
                   and abs(r["reject"] - r["fcp"]) < 1.0)  # fmt: skip
    load = os.getloadavg()[0]
    print(f"runs per page: {len(gated)}, 360×740, Chromium, fresh context each run; load average {load:.1f}")
    ttfb = {name: median([r["ttfb"] for r in runs]) for name, runs in results.items()}
    cpu = {name: median([r["cpu"] for r in runs]) for name, runs in results.items()}
    print(f"{'':<10}{'TTFB ms':>10}{'FCP ms':>10}{'CPU to paint':>15}{'layout shift':>15}{'bytes':>10}")
    for name in results:
        cells = (f"{ttfb[name] or 0:>10.1f}{fcp[name] or 0:>10.1f}{cpu[name] or 0:>15.1f}{cls[name] or 0:>15.4f}"
                 f"{size[name] or 0:>10.0f}")
        print(f"{name:<10}{cells}")
    ratio = (fcp["gated"] / fcp["bare"]) if fcp["gated"] and fcp["bare"] else float("nan")
    paired = median([(g["fcp"] or 0) - (b["fcp"] or 0) for g, b in zip(gated, results["bare"], strict=True)])
    print(f"gated / bare first contentful paint: {ratio:.3f} (goal ≤ 1.05); median paired difference "
          f"{paired or 0:+.1f} ms")
    cpu_ratio = (cpu["gated"] / cpu["bare"]) if cpu["gated"] and cpu["bare"] else float("nan")
    print(f"gated / bare main-thread CPU to the first paint: {cpu_ratio:.3f}")
    print(f"refusal button in the first contentful paint: {in_first}/{len(gated)} runs")
    print(f"layout shift added by the banner: {(cls['gated'] or 0) - (cls['bare'] or 0):.4f}")


if __name__ == "__main__":
    raise SystemExit(main())
