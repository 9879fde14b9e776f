"""A body sent in pieces: what the e2e apps stream to show that chunking changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def in_pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    """``data`` in pieces of ``size`` bytes, each its own body message."""
    for start in range(0, len(data), size):
        yield data[start : start + size]
