"""Admin credentials: the token checked in constant time, and wrong tokens counted and limited.

Credentials: ``Authorization: Bearer <token>`` (scripts, ``cookiegate scan``) or HTTP Basic with the token as
the password (browsers prompt for it). Tokens are compared in constant time (SHA-256 of both sides through
``hmac.compare_digest``, so not even the length leaks). Wrong tokens are counted per client address and in
total; past the limit every admin check from that address fails with 429 until the window has passed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final, Literal

#: Wrong tokens allowed per client address (and in total) within :data:`FAILURE_WINDOW_S`.
MAX_FAILURES_PER_CLIENT: Final = 10
MAX_FAILURES_TOTAL: Final = 100
FAILURE_WINDOW_S: Final = 300.0

AuthStatus = Literal["ok", "off", "missing", "wrong", "limited"]


class FailureLimiter:
    """Counts failed attempts per key in a sliding window; thread-safe, bounded memory."""

    def __init__(
        self,
        *,
        per_key: int = MAX_FAILURES_PER_CLIENT,
        total: int = MAX_FAILURES_TOTAL,
        window: float = FAILURE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_key = per_key
        self.total = total
        self.window = window
        self.clock = clock
        self._by_key: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        horizon = now - self.window
        while self._all and self._all[0] <= horizon:
            self._all.popleft()
        for key in [k for k, q in self._by_key.items() if not q or q[-1] <= horizon]:
            del self._by_key[key]
        for q in self._by_key.values():
            while q and q[0] <= horizon:
                q.popleft()

    def limited(self, key: str) -> bool:
        """True when ``key`` (or everyone together) failed too often recently."""
        with self._lock:
            self._prune(self.clock())
            return len(self._by_key.get(key, ())) >= self.per_key or len(self._all) >= self.total

    def fail(self, key: str) -> None:
        """Record one failed attempt by ``key``."""
        with self._lock:
            now = self.clock()
            self._by_key.setdefault(key, deque()).append(now)
            self._all.append(now)
            # Bounded: an attacker rotating addresses fills the total limit, not memory.
            if len(self._by_key) > 10 * self.total:
                self._prune(now)


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
            except (binascii.Error, UnicodeDecodeError):
                return None
            return decoded.partition(":")[2] or None
    return None


class AdminAuth:
    """Checks admin credentials against the configured token, with failure rate limiting."""

    def __init__(self, token: str | None, limiter: FailureLimiter | None = None) -> None:
        self._digest = _digest(token) if token else None
        self.limiter = limiter or FailureLimiter()

    @property
    def enabled(self) -> bool:
        """False when no token is configured: the dashboard is 404 and previews are impossible."""
        return self._digest is not None

    def check(self, headers: Iterable[tuple[bytes, bytes]], client: str) -> AuthStatus:
        """``ok``, or why not: ``off`` (no token configured), ``missing``, ``wrong``, ``limited``."""
        if self._digest is None:
            return "off"
        if self.limiter.limited(client):
            return "limited"
        given = credential_from(headers)
        if given is None:
            return "missing"
        if hmac.compare_digest(_digest(given), self._digest):
            return "ok"
        self.limiter.fail(client)
        return "wrong"
