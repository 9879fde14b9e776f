"""cookiegate: a server-side cookie and tracker consent gateway, as pure ASGI middleware."""

from __future__ import annotations

from .config import Config as Config
from .config import ConfigError as ConfigError
from .config import load_config as load_config
from .decision import Decision as Decision
from .gateway import Visit as Visit
from .location import Location as Location
from .middleware import CookieGateMiddleware as CookieGateMiddleware

__all__ = ["CookieGateMiddleware", "Config", "ConfigError", "Decision", "Location", "Visit", "load_config"]
__version__ = "0.1.0"
