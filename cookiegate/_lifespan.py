"""The ASGI lifespan protocol around the app: the gateway starts and stops with the server, whatever the app
does with lifespan (https://asgi.readthedocs.io/en/latest/specs/lifespan.html).

An app that handles lifespan (Starlette, FastAPI) is wrapped: the gateway starts when the app receives
``lifespan.startup`` and stops when it receives ``lifespan.shutdown``. An app that rejects it (Django's ASGI
handler raises on the lifespan scope; another may answer ``lifespan.startup.failed`` before reading
``lifespan.startup``) would leave the counters unflushed at every restart, so the gateway answers the server
itself. An app that received ``lifespan.startup`` and then failed has really failed: that goes through.
"""

from __future__ import annotations

import logging

from ._runtime import Gateway
from ._types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("cookiegate")


class Lifespan:
    """One lifespan scope: the app's part, and the gateway's answer when the app will not give one."""

    __slots__ = ("gateway", "app", "startup_read", "app_started", "app_answered", "rejected")

    def __init__(self, gateway: Gateway, app: ASGIApp) -> None:
        self.gateway = gateway
        self.app = app
        self.startup_read = False  # the app read lifespan.startup (the gateway started then)
        self.app_started = False  # the app answered lifespan.startup.complete
        self.app_answered = False  # the app answered startup at all (complete or failed)
        self.rejected = False

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, self._receive(receive), self._send(send))
        except Exception:
            if self.app_answered:
                await self.gateway.shutdown()
                raise
            # The spec's way to say "lifespan is not supported": raise on the scope. The server would go on
            # without lifespan events, and so without the gateway's start-up and shutdown.
            logger.info("cookiegate: the app does not handle ASGI lifespan; cookiegate answers the server")
            self.rejected = True
        if self.rejected:
            await self._answer(receive, send)

    def _receive(self, receive: Receive) -> Receive:
        async def wrapped() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.startup_read = True
                await self.gateway.startup()
            elif message["type"] == "lifespan.shutdown":
                await self.gateway.shutdown()
            return message

        return wrapped

    def _send(self, send: Send) -> Send:
        async def wrapped(message: Message) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.failed" and not self.startup_read and not self.app_answered:
                # Refused before it even looked at start-up: a rejection of lifespan, not a failed start.
                self.rejected = True
                return
            if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
                self.app_answered = True
                self.app_started = kind == "lifespan.startup.complete"
                if not self.app_started:
                    # The server stops now: flush and close on the way out.
                    await self.gateway.shutdown()
            await send(message)

        return wrapped

    async def _answer(self, receive: Receive, send: Send) -> None:
        """Speak lifespan to the server for an app that does not."""
        if not self.startup_read:
            message = await receive()
            if message["type"] != "lifespan.startup":  # pragma: no cover - the server's protocol error
                return
            await self.gateway.startup()
        await send({"type": "lifespan.startup.complete"})
        while True:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.gateway.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return
