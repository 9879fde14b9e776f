"""The cookiegate demo: the Kactuce CRM+ marketing site behind the gateway, plus the "visit as" switch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.types import ASGIApp

from cookiegate.demo.site import create_site as create_site
from cookiegate.demo.visit_as import VisitAs as VisitAs

if TYPE_CHECKING:
    from .._config import Config

__all__ = ["VisitAs", "create_demo_app", "create_site"]


def create_demo_app(config: Config | None = None) -> ASGIApp:
    """The demo application: ``VisitAs(CookieGateMiddleware(create_site(), config=config))``.

    ``config`` defaults to ``Config.demo()``. ``VisitAs`` goes outside the gateway so the gateway sees the
    chosen place's address as the client, exactly as it would see a real visitor's.
    """
    # Imported here: the demo site must stay importable (and testable) without the gateway.
    from cookiegate import Config, CookieGateMiddleware

    gateway = CookieGateMiddleware(create_site(), config=config if config is not None else Config.demo())
    return VisitAs(gateway)
