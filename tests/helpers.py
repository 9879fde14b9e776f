"""Test helpers: a config on the project's own demo geo database, a tiny HTML app, IPs per place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import httpx

from cookiegate import Config
from cookiegate._resources import bundled_demo_database

KEY = "test-key-" + "x" * 40

# Addresses from geo/demo-ranges.csv.
IP = {
    "FR": "85.0.1.10",
    "DE": "85.0.2.10",
    "GB": "85.0.20.10",
    "US-CA": "72.0.1.10",
    "US-NY": "72.0.4.10",
    "CA-QC": "72.0.20.10",
    "BR": "177.0.1.10",
    "AU": "1.0.1.10",
    "JP": "1.0.2.10",
    "private": "192.168.1.20",
}

GA4 = (
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST123"></script>\n'
    "<script>\n  window.dataLayer = window.dataLayer || [];\n  function gtag(){dataLayer.push(arguments);}\n"
    "  gtag('js', new Date());\n\n  gtag('config', 'G-TEST123');\n</script>"
)
META_NOSCRIPT = (
    '<noscript><img height="1" width="1" style="display:none"\n'
    'src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1"\n/></noscript>'
)
YOUTUBE = (
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/dQw4w9WgXcQ" '
    'title="YouTube video player"></iframe>'
)
OWN = '<script src="/static/app.js"></script><img src="/static/logo.png" alt="Kactuce">'

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Kactuce</title>\n"
    f"{GA4}\n</head><body>\n<h1>Kactuce CRM+ — café</h1>\n{OWN}\n{YOUTUBE}\n{META_NOSCRIPT}\n</body></html>\n"
)


def make_config(tmp_path: Path, **overrides: Any) -> Config:
    base: dict[str, Any] = {
        "secret_keys": (KEY,),
        "geoip_database": str(bundled_demo_database()),
        "log_url": f"sqlite:///{tmp_path / 'log.db'}",
        "cookie_secure": False,
    }
    base.update(overrides)
    return Config(**base)


Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def client(app: Any, ip: str, **kwargs: Any) -> httpx.AsyncClient:
    """An httpx client whose requests come from ``ip`` (the ASGI scope's client)."""
    transport = httpx.ASGITransport(app=app, client=(ip, 51000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", **kwargs)


ORIGIN = {"origin": "http://testserver"}


def fetches(html: str, host: str) -> bool:
    """True when a live fetch attribute (not a ``data-cookiegate-*`` copy) in ``html`` points at ``host``."""
    import re

    pattern = r"(?<![-\w])(?:src|href|srcset|data|poster)\s*=\s*[\"']?[^\"'>\s]*" + re.escape(host)
    return re.search(pattern, html, re.IGNORECASE) is not None


def schema(name: str) -> dict[str, Any]:
    """The documented JSON schema of ``cookiegate <name> --json`` (cookiegate/cli/schemas/<name>.json)."""
    import json

    from cookiegate.cli._main import schema_path

    data: dict[str, Any] = json.loads(schema_path(name).read_text("utf-8"))
    return data
