"""cookiegate: a server-side cookie and tracker consent gateway, as pure ASGI middleware."""

from __future__ import annotations

from ._config import Config as Config
from ._config import ConfigError as ConfigError
from ._config import load_config as load_config
from ._middleware import CookieGateMiddleware as CookieGateMiddleware
from ._visit import Visit as Visit
from .policy._decision import Decision as Decision
from .policy._location import Location as Location

__all__ = ["CookieGateMiddleware", "Config", "ConfigError", "Decision", "Location", "Visit", "load_config"]
__version__ = "0.1.0"
