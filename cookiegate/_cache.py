"""The one bounded cache every memo uses, and the one keyed hash that keys the memos built from request data.

Memos here hold what a site sends again and again (tags, pages, decisions of returning visitors). A flood of
unique keys must cost only misses, never memory or time: a cache that is full is emptied, not searched for a
victim (no per-hit bookkeeping on the hot path).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A dict of at most ``entries`` items and ``weight`` units put in (bytes, say), emptied when either
    would be passed; a key put again counts its weight again. ``get`` is a plain dict lookup."""

    __slots__ = ("_table", "_entries", "_max_weight", "_weight")

    def __init__(self, entries: int, *, weight: int | None = None) -> None:
        if entries < 1:
            raise ValueError("a cache holds at least one entry")
        self._table: dict[K, V] = {}
        self._entries = entries
        self._max_weight = weight
        self._weight = 0

    def get(self, key: K) -> V | None:
        """The value under ``key``, or ``None``."""
        return self._table.get(key)

    def put(self, key: K, value: V, weight: int = 0) -> V:
        """Keep ``value`` under ``key`` (emptying the cache first when it is full) and return it."""
        table = self._table
        if (self._max_weight is not None and self._weight + weight > self._max_weight) or (
            len(table) >= self._entries and key not in table
        ):
            table = self._table = {}
            self._weight = 0
        table[key] = value
        self._weight += weight
        return value

    def pop(self, key: K) -> V | None:
        """Forget ``key`` (its weight stays counted until the cache is emptied); its value, or ``None``."""
        return self._table.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._table = {}
        self._weight = 0

    @property
    def weight(self) -> int:
        """The weight put in since the cache was last emptied."""
        return self._weight

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def __iter__(self) -> Iterator[K]:
        return iter(self._table)


class KeyedHash:
    """BLAKE2b under a random per-process key: memos keyed by it hold no request data, and nobody outside
    the process can aim two requests at one entry. Keyed once; each digest copies that state, since keying
    costs a compression block of its own."""

    __slots__ = ("_keyed",)

    def __init__(self, digest_size: int = 16, *, key: bytes | None = None) -> None:
        self._keyed = hashlib.blake2b(digest_size=digest_size, key=os.urandom(16) if key is None else key)

    def digest(self, *parts: bytes) -> bytes:
        """The keyed digest of ``parts`` joined (callers make the join unambiguous)."""
        h = self._keyed.copy()
        for part in parts:
            h.update(part)
        return h.digest()
