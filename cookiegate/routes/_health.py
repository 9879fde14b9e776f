"""The health check: whether the geo database and the decision log work, and what went wrong lately."""

from __future__ import annotations

import anyio

from .._http import respond_json
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from ..rewrite import SCAN_BACKEND


async def health(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    gw = gateway
    await gw.startup()
    spooled = int(getattr(gw.store, "spooled", 0) or 0)
    store_ok = gw.store_ready and spooled == 0
    if store_ok:
        # A store can open while its database is unreachable (it spools until it is back): ask the
        # database itself with a cheap indexed read, bounded so a hung database cannot hang health.
        try:
            with anyio.fail_after(2.0):
                await gw.store.records_for("cookiegate-health-probe")
        except Exception:
            store_ok = False
    checks = {
        "geo": "ok" if gw.geo.healthy else "degraded",
        # Records waiting in the local spool mean the database is (or was just) unreachable.
        "store": "ok" if store_ok else "degraded",
    }
    status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
    body = {
        "status": status,
        "checks": checks,
        "errors": dict(gw.errors.counts),
        "spooled_records": spooled,
        # Bad consent cookies seen (tampered, expired, oversized …): a rising count is worth a look.
        "rejected_cookies": gw.codec.rejections,
        # Consent choices refused (429) because one client sent more than consent_writes_per_minute.
        "refused_consent_writes": gw.consent_limiter.refused if gw.consent_limiter else 0,
        # CSP reports refused (429) because one client sent more than csp_reports_per_minute.
        "refused_csp_reports": gw.report_limiter.refused if gw.report_limiter else 0,
        # Which HTML skip scan runs: "c" (compiled at install) or "python" (same output, ~5x slower).
        "rewriter_scan": SCAN_BACKEND,
        # Defaults that fail silently (no geo database, Secure cookies over HTTP, the site's own hosts in CSP
        # reports): each names its key and the fix. They do not make the instance unhealthy.
        "warnings": [{"key": w.key, "message": w.message} for w in gw.diagnostics.warnings],
    }
    await respond_json(send, 200 if status == "ok" else 503, body)
