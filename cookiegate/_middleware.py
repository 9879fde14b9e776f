"""``CookieGateMiddleware``: the pure ASGI wiring of the gateway. The work lives in the modules it calls."""

from __future__ import annotations

from ._config import Config
from ._lifespan import Lifespan
from ._runtime import Gateway
from ._types import ASGIApp, Receive, Scope, Send
from ._visit import Preview, Visit
from .admin._auth import PREVIEW_HEADER
from .gate import ResponseGate
from .routes import GPC_PATH, Router


class CookieGateMiddleware:
    """Consent gateway in front of any ASGI app (Starlette, FastAPI, Django's ASGI handler…).

    ``CookieGateMiddleware(app, config=load_config("cookiegate.toml"))``, or in Starlette/FastAPI
    ``Middleware(CookieGateMiddleware, config=config)``. Per request it adds ``scope["cookiegate"]`` (a
    lazy :class:`~cookiegate.Visit`), gates the response, and serves its own routes under
    ``config.prefix``. It keeps no per-request state on itself.
    """

    def __init__(self, app: ASGIApp, *, config: Config) -> None:
        self.app = app
        self.gateway = Gateway(config)
        self.router = Router(self.gateway)
        self.admin = self.router.admin
        self._prefix = config.prefix
        self._prefix_bare = config.prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.gateway.first_request:
                # Servers that send no lifespan (daphne) start the gateway here.
                await self.gateway.first_seen(scope)
            path: str = scope["path"]
            if path.startswith(self._prefix) or path == self._prefix_bare or path == GPC_PATH:
                await self.router(scope, receive, send)
                return
            preview = None
            for name, _ in scope.get("headers", ()):
                if name == PREVIEW_HEADER:
                    # Checked before the visit is made: a preview takes the credentials off the headers.
                    preview = self._preview(scope)
                    break
            visit = Visit(self.gateway, scope, preview=preview)
            scope["cookiegate"] = visit
            await self.app(scope, receive, ResponseGate(self.gateway, visit, send, scope))
        elif kind == "lifespan":
            await Lifespan(self.gateway, self.app).run(scope, receive, send)
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
