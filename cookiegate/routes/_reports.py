"""Content-Security-Policy violation reports: what the browser saw the page try to load."""

from __future__ import annotations

import json
import logging
import urllib.parse

from .._http import BadRequest, loggable, read_body, respond
from .._limits import client_key
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from .._visitor import client_ip

logger = logging.getLogger("cookiegate.endpoint")


async def csp_report(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """Count each report in the per-host summary the dashboard shows; 429 past the client's limit."""
    client = client_key(client_ip(scope, gateway.trusted))
    limiter = gateway.report_limiter
    if limiter is not None:
        wait = limiter.take(client)
        if wait:
            raise BadRequest(429, "too many reports", [(b"retry-after", limiter.retry_after(wait))])
    body = await read_body(receive, 16384)
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise BadRequest(400, "malformed report") from None
    reports = data if isinstance(data, list) else [data]
    for item in reports[:20]:
        if not isinstance(item, dict):
            continue
        report = item.get("csp-report") or item.get("body") or {}
        if not isinstance(report, dict):
            continue
        blocked = str(report.get("blocked-uri") or report.get("blockedURL") or "")[:300]
        page = str(report.get("document-uri") or report.get("documentURL") or "")[:300]
        directive = str(report.get("violated-directive") or report.get("effectiveDirective") or "")[:100]
        host = urllib.parse.urlsplit(blocked).hostname or blocked[:100]
        page_path = urllib.parse.urlsplit(page).path[:200]
        gateway.leaks.add(host, page_path, directive, client)
        gateway.diagnostics.csp_report(host, page_path, gateway.claims_host)
        logger.info(
            "CSP violation: host=%s page=%s directive=%s", loggable(host), loggable(page_path), loggable(directive)
        )
    await respond(send, 204, b"", b"text/plain")
