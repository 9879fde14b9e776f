"""Pages a server was to send from a file itself (the ASGI path send and zero-copy send extensions,
https://asgi.readthedocs.io/en/latest/extensions.html): read here instead, piece by piece, so they are
rewritten like any other body."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import anyio

from .._types import Message

#: How much of a file is read at a time.
PIECE = 65536

Read = Callable[[], Awaitable[bytes]]
OnBody = Callable[[bytes, bool], Awaitable[None]]


async def send_pieces(read: Read, on_body: OnBody, more_after: bool = False) -> None:
    """Hand every piece ``read`` gives (``b""`` at its end) to ``on_body``; one piece is read ahead so the last
    goes out with ``more_body`` false (true when the app said more follows)."""
    chunk = await read()
    while True:
        following = await read()
        await on_body(chunk, bool(following) or more_after)
        if not following:
            break
        chunk = following


async def send_path(path: str, on_body: OnBody) -> None:
    """An ``http.response.pathsend``: the file at ``path``, whole."""
    async with await anyio.open_file(path, "rb") as fh:
        await send_pieces(lambda: fh.read(PIECE), on_body)


async def send_zerocopy(message: Message, on_body: OnBody) -> None:
    """An ``http.response.zerocopysend``: from ``offset`` (or the file's current position, which then advances),
    ``count`` bytes (or to the end), as the server would have sent them."""
    fd = message["file"].fileno()
    offset: int | None = message.get("offset")
    left: int | None = message.get("count")

    def read() -> bytes:
        nonlocal offset, left
        size = PIECE if left is None else min(PIECE, left)
        if size <= 0:
            return b""
        data = os.read(fd, size) if offset is None else os.pread(fd, size, offset)
        if offset is not None:
            offset += len(data)
        if left is not None:
            left -= len(data)
        return data

    await send_pieces(lambda: anyio.to_thread.run_sync(read), on_body, bool(message.get("more_body", False)))
