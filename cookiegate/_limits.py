"""Per-client rate limits for the gateway's open endpoints: who a client is, and how often it may act.

A client is its address as the gateway sees it (through trusted proxies only); an IPv6 client is its /64, the
block one subscriber gets, so rotating addresses inside it changes nothing. Each client has a token bucket:
``burst`` actions at once, refilled at ``burst`` per ``period`` seconds. The table keeps at most ``max_keys``
clients, least recently seen dropped first: a flood of new addresses costs a forgotten bucket (a fresh burst
for an old client), never memory.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from typing import Final

#: Clients a limiter remembers at most.
MAX_CLIENTS: Final = 10_000


def client_key(address: str | None) -> str | None:
    """What a client is counted as: its IPv4 address, the /64 of its IPv6 address, ``None`` when unknown."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6:
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


class RateLimiter:
    """A token bucket per client key: :meth:`take` says whether a client may act now; thread-safe."""

    def __init__(
        self,
        burst: int,
        period: float,
        *,
        max_keys: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or period <= 0 or max_keys < 1:
            raise ValueError("a rate limit needs burst >= 1, period > 0 and max_keys >= 1")
        self.burst = burst
        self.period = period
        self.max_keys = max_keys
        self.clock = clock
        #: Actions refused since start (reported on the health endpoint).
        self.refused = 0
        self._rate = burst / period
        # key -> [tokens left, when counted]; dict order is least recently seen first.
        self._buckets: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, key: str, now: float) -> list[float]:
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = [float(self.burst), now]
            while len(self._buckets) >= self.max_keys:
                del self._buckets[next(iter(self._buckets))]
        else:
            bucket[0] = min(float(self.burst), bucket[0] + (now - bucket[1]) * self._rate)
            bucket[1] = now
        self._buckets[key] = bucket
        return bucket

    def take(self, key: str | None) -> float:
        """Count one action by ``key``: ``0.0`` when allowed, else the seconds until it would be (refused,
        nothing counted). An unknown client (``None``) is never limited: it cannot be told from the others."""
        if key is None:
            return 0.0
        with self._lock:
            bucket = self._tokens(key, self.clock())
            if bucket[0] >= 1.0:
                bucket[0] -= 1.0
                return 0.0
            self.refused += 1
            return (1.0 - bucket[0]) / self._rate

    def wait(self, key: str | None) -> float:
        """The seconds until ``key`` may act (``0.0``: now), counting nothing."""
        if key is None:
            return 0.0
        with self._lock:
            bucket = self._tokens(key, self.clock())
            return 0.0 if bucket[0] >= 1.0 else (1.0 - bucket[0]) / self._rate

    @staticmethod
    def retry_after(wait: float) -> bytes:
        """A ``Retry-After`` value for a wait returned by :meth:`take` (whole seconds, at least one)."""
        return str(max(1, math.ceil(wait))).encode()

    def __len__(self) -> int:
        return len(self._buckets)


def per_minute(burst: int) -> RateLimiter | None:
    """A limit of ``burst`` actions per client and minute, or ``None`` for ``0`` (no limit)."""
    return RateLimiter(burst, 60.0) if burst else None
