"""cookiegate: a server-side cookie and tracker consent gateway, as pure ASGI middleware."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._config import Config as Config
from ._config import ConfigError as ConfigError
from ._config import load_config as load_config
from ._middleware import CookieGateMiddleware as CookieGateMiddleware
from ._visit import Visit as Visit
from .policy import Choice as Choice
from .policy import Decision as Decision
from .policy import Location as Location
from .policy import Permissions as Permissions
from .policy import Regime as Regime

__all__ = [
    "Choice",
    "Config",
    "ConfigError",
    "CookieGateMiddleware",
    "Decision",
    "Location",
    "Permissions",
    "Regime",
    "Visit",
    "load_config",
]

try:
    __version__ = version("cookiegate")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0+unknown"
