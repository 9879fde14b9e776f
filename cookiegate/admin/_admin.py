"""The admin side, off unless an admin token is configured (``admin_token`` or ``COOKIEGATE_ADMIN_TOKEN``):
without one the dashboard answers 404 and no request can be previewed."""

from __future__ import annotations

from collections.abc import Sequence

from .._runtime import Gateway
from .._types import Receive, Scope, Send
from .._visit import Preview
from ._auth import AdminAuth, without_admin_headers
from ._dashboard import Dashboard
from ._preview import Previews


class Admin:
    """One gateway's admin state: its credentials check, its previews and its dashboard."""

    def __init__(self, gateway: Gateway) -> None:
        self.auth = AdminAuth(gateway.config.admin_token)
        self.previews = Previews(gateway, self.auth)
        self.dashboard = Dashboard(gateway, self.auth, self.previews)

    @property
    def refused_previews(self) -> int:
        """Preview headers ignored because the request had no valid admin credentials."""
        return self.previews.refused

    def preview_for(self, scope: Scope) -> Preview | None:
        """The preview a request asks for when it carries valid admin credentials (see :class:`Previews`).

        The credentials and the preview header leave the scope first, whatever comes of them."""
        return self.previews.preview_for(scope, self.take_credentials(scope))

    async def __call__(self, scope: Scope, receive: Receive, send: Send, sub: str) -> None:
        """Serve ``{prefix}admin…``; ``sub`` is the path after ``admin``. The credentials leave the scope
        before anything else runs."""
        await self.dashboard(scope, receive, send, sub, self.take_credentials(scope))

    @staticmethod
    def take_credentials(scope: Scope) -> Sequence[tuple[bytes, bytes]]:
        """Take the admin credentials and the preview header off ``scope``; returns its headers as they were."""
        headers: Sequence[tuple[bytes, bytes]] = scope.get("headers", ())
        scope["headers"] = without_admin_headers(headers)
        return headers
