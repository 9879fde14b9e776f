"""The gateway's own routes: what answers under the prefix, and the GPC support resource."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

from .._http import BadRequest, respond, respond_error
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from ..admin._admin import Admin
from ..admin._auth import PREVIEW_HEADER
from . import _consent, _health, _pages, _records, _reports

Handler = Callable[[Gateway, Scope, Receive, Send], Awaitable[None]]

#: Served by the gateway itself, outside its prefix (https://privacycg.github.io/gpc-spec/#gpc-support-resource).
GPC_PATH: Final = "/.well-known/gpc.json"
GPC_JSON: Final = b'{"gpc": true, "lastUpdate": "2026-11-26"}'

#: (path under the prefix, method) -> handler; GET handlers answer HEAD too.
_ROUTES: Final[dict[tuple[str, str], Handler]] = {
    ("consent", "POST"): _consent.post_consent,
    ("consent", "GET"): _consent.get_consent,
    ("settings", "GET"): _pages.settings,
    ("cookies", "GET"): _pages.statement,
    ("banner", "GET"): _pages.banner,
    ("language", "POST"): _pages.language,
    ("language", "GET"): _pages.language_link,
    ("csp-report", "POST"): _reports.csp_report,
    ("my-records", "GET"): _records.my_records,
    ("health", "GET"): _health.health,
}


class Router:
    """Dispatches requests under the prefix (and the GPC resource) to the route that answers them."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.prefix = gateway.prefix
        #: The one admin state of this gateway (auth, failure limiter, refused previews); the middleware's
        #: preview check uses it too.
        self.admin = Admin(gateway)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._dispatch(scope, receive, tracked_send)
        except Exception:
            # A bug or a broken template/asset in the gateway's own routes: fail closed (no Set-Cookie, no
            # grant), log once with the route as context, answer 503 rather than a bare 500 traceback page.
            route = scope["path"][len(self.prefix) :].split("/", 1)[0][:32] or "-"
            self.gateway.errors.error(
                f"endpoint:{route}", "cookiegate: the %s route failed; answered 503", route
            )
            if started:
                raise
            await respond_error(send, BadRequest(503, "temporarily unavailable, please try again"))

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method = scope.get("method", "GET")
        try:
            sub = path[len(self.prefix) :] if path.startswith(self.prefix) else ""
            if sub == "admin" or sub.startswith("admin/"):
                # The dashboard: 404 unless an admin token is configured.
                await self.admin(scope, receive, send, sub[len("admin") :])
                return
            if any(name == PREVIEW_HEADER for name, _ in scope.get("headers", ())):
                # No route is previewed, but the credentials a preview carries leave the request all the same.
                self.admin.take_credentials(scope)
            if path == GPC_PATH:
                await respond(
                    send, 200, GPC_JSON, b"application/json", [(b"cache-control", b"public, max-age=86400")],
                    head=method == "HEAD",
                )
                return
            if sub.startswith("assets/") and method in ("GET", "HEAD"):
                await _pages.asset(self.gateway, scope, receive, send)
                return
            handler = _ROUTES.get((sub, "GET" if method == "HEAD" else method))
            if handler is None:
                known = any(route == sub for route, _ in _ROUTES)
                raise BadRequest(405, "method not allowed") if known else BadRequest(404, "not found")
            await handler(self.gateway, scope, receive, send)
        except BadRequest as exc:
            await respond_error(send, exc)
