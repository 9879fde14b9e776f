"""Same-site checks for the routes that change a visitor's state (a choice, a language): a POST from another
site is refused, so no page elsewhere can change what a visitor chose on this one."""

from __future__ import annotations

import urllib.parse

from .._http import BadRequest, header_value
from .._runtime import Gateway
from .._types import Scope


def _origin_of(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}" + ("" if port == default else f":{port}")


def _request_origin(scope: Scope) -> str | None:
    host = header_value(scope.get("headers", ()), b"host")
    if not host:
        server = scope.get("server")
        if not server:
            return None
        host = f"{server[0]}:{server[1]}"
    return _origin_of(f"{scope.get('scheme', 'http')}://{host}")


def check_same_site(scope: Scope, gateway: Gateway) -> None:
    """403 unless the POST comes from this site (Origin, else Referer; one of them is required)."""
    if header_value(scope.get("headers", ()), b"sec-fetch-site") == "cross-site":
        raise BadRequest(403, "cross-site request refused")
    origin = header_value(scope.get("headers", ()), b"origin")
    if origin is None or origin == "null":
        referer = header_value(scope.get("headers", ()), b"referer")
        origin = _origin_of(referer) if referer else None
    else:
        origin = _origin_of(origin)
    if origin is None:
        raise BadRequest(403, "missing or unusable Origin/Referer: consent is only accepted from this site")
    allowed = {_request_origin(scope), *gateway.config.allowed_origins}
    domain = (gateway.config.cookie_domain or "").lstrip(".")
    host = urllib.parse.urlsplit(origin).hostname or ""
    if origin in allowed:
        return
    if domain and origin.startswith("https://") and (host == domain or host.endswith("." + domain)):
        return
    raise BadRequest(403, "cross-site request refused")
