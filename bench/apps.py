"""The two apps the benchmark compares: ``bare`` (the site alone) and ``gated`` (the same site behind
cookiegate), importable by uvicorn as ``bench.apps:bare`` / ``bench.apps:gated``.

Routes: ``/json`` (a small JSON API answer, no cookie), ``/page`` (the ~100 KB static page of
:mod:`bench.pages`), ``/small`` (a 1 KB HTML page, where per-request overhead shows most), ``/stream?size=N``
(the page streamed in 16 KB chunks, produced lazily) and, under everything else, the demo site (Jinja2
pages such as ``/pricing``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route

from bench.pages import static_page, streamed_chunks
from cookiegate import CookieGateMiddleware
from cookiegate._config import Config, config_from_mapping
from cookiegate._resources import bundled_demo_database
from cookiegate.demo.site import create_site

#: A visitor in Paris according to the bundled demo geo database (geo/demo-ranges.csv).
EU_IP = "85.0.1.10"
#: The peer the benchmark connects from; trusted so that X-Forwarded-For places the visitor.
TRUSTED = "127.0.0.1/32"
SECRET = "bench-secret-" + "x" * 40
_PAGE = static_page()
_SMALL = (b"<!doctype html><html><head><title>Small</title><link rel=stylesheet href=/static/site.css></head>"
          b"<body><h1>Hello</h1><p>A small page: per-request overhead shows most here.</p>"
          b"<img src=/static/logo.svg alt=logo></body></html>")


def bench_config() -> Config:
    """The gated app's configuration (demo geo database, a temporary SQLite log, report-only CSP)."""
    tmp = Path(os.environ.get("COOKIEGATE_BENCH_TMP") or tempfile.mkdtemp(prefix="cookiegate-bench-"))
    return config_from_mapping(
        {
            "secret_keys": [SECRET],
            "geoip_database": str(bundled_demo_database()),
            "trusted_proxies": [TRUSTED],
            "log_url": "sqlite:///" + str(tmp / "bench.db"),
            "csp_mode": "report-only",
            # The page's font host is the site's own (a third party nobody classified would wait for consent).
            "csp_allow": ["https://fonts.kactuce.com"],
        }
    )


def site() -> Starlette:
    """The benchmark site: its own routes in front of the demo site."""

    async def json_route(request: Request) -> Response:
        return JSONResponse({"status": "ok", "items": [1, 2, 3], "site": "Kactuce CRM+"})

    async def page(request: Request) -> Response:
        return Response(_PAGE, media_type="text/html; charset=utf-8")

    async def small(request: Request) -> Response:
        return Response(_SMALL, media_type="text/html; charset=utf-8")

    async def stream(request: Request) -> Response:
        size = int(request.query_params.get("size", str(1024 * 1024)))

        async def body() -> AsyncIterator[bytes]:
            for chunk in streamed_chunks(size):
                yield chunk
                await anyio.sleep(0)  # each chunk goes out as its own message, as a slow renderer's would

        return StreamingResponse(body(), media_type="text/html; charset=utf-8")

    return Starlette(
        routes=[
            Route("/json", json_route),
            Route("/page", page),
            Route("/small", small),
            Route("/stream", stream),
            Mount("/", app=create_site()),
        ]
    )


class NoopMiddleware:
    """A pure ASGI middleware that does nothing: the same run's reference for what any middleware costs."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def __getattr__(name: str) -> Any:
    # Built on first use, so the bare server never builds a gateway (nor its temporary log).
    if name == "bare":
        return site()
    if name == "noop":
        return NoopMiddleware(site())
    if name == "gated":
        return CookieGateMiddleware(site(), config=bench_config())
    raise AttributeError(name)
