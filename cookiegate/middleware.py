"""``CookieGateMiddleware``: the pure ASGI wiring of the gateway. The work lives in the modules it calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .admin import PREVIEW_HEADER
from .config import Config
from .endpoint import GPC_JSON, Endpoint, respond
from .gate import ResponseGate
from .gateway import Gateway, Preview, Visit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Served by the gateway itself, outside its prefix (the GPC support resource).
GPC_PATH = "/.well-known/gpc.json"


class CookieGateMiddleware:
    """Consent gateway in front of any ASGI app (Starlette, FastAPI, Django's ASGI handler…).

    ``CookieGateMiddleware(app, config=load_config("cookiegate.toml"))``, or in Starlette/FastAPI
    ``Middleware(CookieGateMiddleware, config=config)``. Per request it adds ``scope["cookiegate"]`` (a
    lazy :class:`~cookiegate.gateway.Visit`), gates the response, and serves its own routes under
    ``config.prefix``. It keeps no per-request state on itself.
    """

    def __init__(self, app: ASGIApp, *, config: Config) -> None:
        self.app = app
        self.gateway = Gateway(config)
        self.endpoint = Endpoint(self.gateway)
        self.admin = self.endpoint.admin
        self._prefix = config.prefix
        self._prefix_bare = config.prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            if path.startswith(self._prefix) or path == self._prefix_bare:
                await self.endpoint(scope, receive, send)
                return
            if path == GPC_PATH:
                await respond(
                    send,
                    200,
                    GPC_JSON,
                    b"application/json",
                    [(b"cache-control", b"public, max-age=86400")],
                    head=scope.get("method") == "HEAD",
                )
                return
            preview = None
            for name, _ in scope.get("headers", ()):
                if name == PREVIEW_HEADER:
                    # Checked before the visit is made: a preview removes the credentials from the headers.
                    preview = self._preview(scope)
                    break
            visit = Visit(self.gateway, scope, preview=preview)
            scope["cookiegate"] = visit
            await self.app(scope, receive, ResponseGate(self.gateway, visit, send, scope))
        elif kind == "lifespan":
            await self.app(scope, self._lifespan_receive(receive), send)
        else:
            await self.app(scope, receive, send)

    def _preview(self, scope: Scope) -> Preview | None:
        # Only an authenticated admin's request is previewed; anyone else's header is ignored (counted).
        try:
            return self.admin.preview_for(scope)
        except Exception:
            # Never fail the page: the request is simply not previewed (the visitor's own view applies).
            self.gateway.errors.error("preview", "cookiegate: admin preview check failed; request not previewed")
            return None

    def _lifespan_receive(self, receive: Receive) -> Receive:
        gateway = self.gateway

        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await gateway.startup()
            elif message["type"] == "lifespan.shutdown":
                await gateway.shutdown()
            return message

        return wrapped
