"""``CookieGateMiddleware``: the pure ASGI wiring of the gateway. The work lives in the modules it calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from .admin import PREVIEW_HEADER
from .config import Config
from .endpoint import GPC_JSON, Endpoint, respond
from .gateway import Gateway, Preview, Visit
from .response import PassGate, ResponseGate, has_header
from .rewrite import _native

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Served by the gateway itself, outside its prefix (the GPC support resource).
GPC_PATH = "/.well-known/gpc.json"
#: The common request's step below, in C (``cookiegate/_scan.c``), or None where it is not built.
Entry: Any = None if _native is None else _native.Entry

if TYPE_CHECKING:
    _Base = object
else:
    # Where the C module is built, calling the middleware is its C call: the common request goes straight
    # to the app (no coroutine of the gateway's own around it), the rest to ``_call`` below.
    _Base = object if _native is None else _native.MiddlewareBase


class CookieGateMiddleware(_Base):
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
        # The C call's per-request step: what ``_call`` below does for a request that is not for the gateway's
        # own routes and not previewed (the visit made, the send wrapper returned); None from it (or no
        # entry at all) means ``_call`` takes the request.
        self._entry = (
            None
            if Entry is None or PassGate is None
            else Entry(Visit, ResponseGate, self.gateway, self._prefix, self._prefix_bare, GPC_PATH, PREVIEW_HEADER)
        )
        if _Base is not object:
            # Servers tell an ASGI 3 app by its ``__call__`` being a coroutine function (uvicorn, hypercorn,
            # asgiref); the C call is not one, so the instance answers that lookup with the coroutine the
            # C call falls back to. Calls themselves go through the type, to the C call.
            self.__dict__["__call__"] = self._call

    async def _call(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The middleware's call in Python: all of it without the C module, else what the C call leaves
        (which the C entry has already looked at and declined)."""
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
            if has_header(scope.get("headers", ()), PREVIEW_HEADER):
                # Checked before the visit is made: a preview removes the credentials from the headers.
                visit = Visit(self.gateway, scope, preview=self._preview(scope))
            else:
                visit = Visit(self.gateway, scope)
            scope["cookiegate"] = visit
            if PassGate is not None:
                # The C pass-through: it makes the ResponseGate only when the start shows work to do.
                await self.app(scope, receive, PassGate(ResponseGate, self.gateway, visit, send, scope))
            else:
                await self.app(scope, receive, ResponseGate(self.gateway, visit, send, scope))
        elif kind == "lifespan":
            await self.app(scope, self._lifespan_receive(receive), send)
        else:
            await self.app(scope, receive, send)

    if TYPE_CHECKING or _Base is object:
        __call__ = _call

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
