"""Admin credentials: the token checked in constant time, and wrong tokens counted and limited per client.

Credentials: ``Authorization: Bearer <token>`` (scripts, ``cookiegate scan``) or HTTP Basic with the token as
the password (browsers prompt for it). Tokens are compared in constant time (SHA-256 of both sides through
``hmac.compare_digest``, so not even the length leaks). The right token is checked first and always gets in;
wrong ones are counted per client (an IPv6 client by its /64), and past the limit a client's wrong tokens are
answered 429 until its bucket refills. Nobody can lock the admin out, and what makes guessing hopeless is the
token's length (32+ random characters), not the limit: the limit keeps failures cheap and visible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from typing import Final, Literal

from .._limits import RateLimiter, client_key

#: Wrong tokens one client may send at once, and the seconds in which that allowance refills.
MAX_FAILURES_PER_CLIENT: Final = 10
FAILURE_WINDOW_S: Final = 300.0

#: The request header that asks for a preview (see ``_preview``).
PREVIEW_HEADER: Final = b"cookiegate-preview"
#: What the gateway takes out of every request that carries a preview or reaches the admin routes.
ADMIN_HEADERS: Final = frozenset({b"authorization", PREVIEW_HEADER})

AuthStatus = Literal["ok", "off", "missing", "wrong", "limited"]


def without_admin_headers(headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` less the admin credentials and the preview header: what the app (and its logs) may see."""
    return [(k, v) for k, v in headers if k.lower() not in ADMIN_HEADERS]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


def credential_from(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The token in ``Authorization: Bearer …`` or as the password of ``Authorization: Basic …``."""
    for key, value in headers:
        if key.lower() != b"authorization":
            continue
        scheme, _, rest = value.decode("latin-1").strip().partition(" ")
        if scheme.lower() == "bearer":
            return rest.strip() or None
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                # Malformed credentials are no credentials (401), not a gateway fault: non-ASCII base64 text
                # raises ValueError, a password that is not UTF-8 UnicodeDecodeError (a ValueError too).
                return None
            return decoded.partition(":")[2] or None
    return None


class AdminAuth:
    """Checks admin credentials against the configured token; wrong ones are rate limited per client."""

    def __init__(self, token: str | None, limiter: RateLimiter | None = None) -> None:
        self._digest = _digest(token) if token else None
        self.limiter = limiter if limiter is not None else RateLimiter(MAX_FAILURES_PER_CLIENT, FAILURE_WINDOW_S)

    @property
    def enabled(self) -> bool:
        """False when no token is configured: the dashboard is 404 and previews are impossible."""
        return self._digest is not None

    def check(self, headers: Iterable[tuple[bytes, bytes]], client: str | None) -> AuthStatus:
        """``ok``, or why not: ``off`` (no token configured), ``missing``, ``wrong``, ``limited`` (a wrong
        token from a client over its limit). ``client`` is the client's address (``None``: unknown)."""
        if self._digest is None:
            return "off"
        given = credential_from(headers)
        if given is None:
            return "missing"
        if hmac.compare_digest(_digest(given), self._digest):
            return "ok"
        return "limited" if self.limiter.take(_key(client)) else "wrong"

    def retry_after(self, client: str | None) -> bytes:
        """``Retry-After`` for a limited client."""
        return self.limiter.retry_after(self.limiter.wait(_key(client)))


def _key(client: str | None) -> str:
    # Unknown clients (no address from the server) share one allowance: only their wrong tokens are limited.
    return client_key(client) or "-"
