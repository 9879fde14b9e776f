"""A whole page remembered with what it became: the visitor's own pieces (injections, placeholders) are
noted where they went while it is rewritten, and put in again when the page is replayed to another visitor."""

from __future__ import annotations

from ._memo import Blocked, Mark, PageResult
from ._settings import Handlers

HEAD_MARK, BODY_MARK, PLACEHOLDER_MARK = range(3)


class Recorder:
    """Notes where the visitor's own pieces go in the output of a page being rewritten."""

    __slots__ = ("marks", "_pending", "_emitted")

    def __init__(self) -> None:
        #: (offset in the output, length, which piece, payload), in order.
        self.marks: list[Mark] = []
        #: Pieces put in the current output list, as (index, which, payload), not yet placed.
        self._pending: list[tuple[int, int, Blocked | None]] = []
        self._emitted = 0

    def note(self, index: int, which: int, payload: Blocked | None) -> None:
        """A visitor's piece went in at ``index`` of the output list being built."""
        self._pending.append((index, which, payload))

    def joined(self, out: list[bytes]) -> bytes:
        """``b"".join(out)``, placing the pieces noted since the last join."""
        joined = b"".join(out)
        offset = self._emitted
        index = 0
        for at, which, payload in self._pending:
            while index < at:
                offset += len(out[index])
                index += 1
            self.marks.append((offset, len(out[at]), which, payload))
        self._pending.clear()
        self._emitted += len(joined)
        return joined

    def unemit(self, size: int) -> None:
        """Bytes already counted go out again as part of a later join."""
        self._emitted -= size


def replay(known: PageResult, handlers: Handlers) -> bytes:
    """What a remembered page became, with this visitor's injections and placeholders."""
    out = known.out
    own: list[bytes] = []
    same = True
    for offset, length, which, payload in known.marks:
        if which == HEAD_MARK:
            piece = handlers.head
        elif which == BODY_MARK:
            piece = handlers.body
        else:
            assert payload is not None and handlers.placeholder is not None
            piece = handlers.placeholder(*payload)
        own.append(piece)
        same = same and len(piece) == length and out.startswith(piece, offset)
    if same:
        # Visitors who speak the same language on the same page get the same pieces: the very bytes sent
        # before go out again, not a copy.
        return out
    view = memoryview(out)
    pieces: list[bytes | memoryview] = []
    done = 0
    for (offset, length, _which, _payload), piece in zip(known.marks, own, strict=True):
        pieces.append(view[done:offset])
        pieces.append(piece)
        done = offset + length
    pieces.append(view[done:])
    return b"".join(pieces)
