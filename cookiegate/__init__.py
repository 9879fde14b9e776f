"""cookiegate: a server-side cookie and tracker consent gateway, as pure ASGI middleware.

The public names are imported on first use (PEP 562), so ``cookiegate --version`` and the marketer's tools
start without loading the middleware, the banner templates or the User-Agent parser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

    __version__: str

#: Each public name and the module it lives in.
_EXPORTS: dict[str, str] = {
    "Choice": ".policy",
    "Config": "._config",
    "ConfigError": "._config",
    "CookieGateMiddleware": "._middleware",
    "Decision": ".policy",
    "Location": ".policy",
    "Permissions": ".policy",
    "Regime": ".policy",
    "Visit": "._visit",
    "load_config": "._config",
}

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


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cookiegate")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value: Any = _version()
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    else:
        raise AttributeError(f"module 'cookiegate' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__, "__version__"])
