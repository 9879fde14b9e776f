"""Edits to the bytes of a page: renamed and inserted attributes, applied without touching anything else."""

from __future__ import annotations

import re
from typing import Final

#: (start, end, replacement) in buffer offsets.
Edit = tuple[int, int, bytes]

_UNQUOTED_SAFE: Final = re.compile(r"[^A-Za-z0-9_.:+\-]")


def merge(edits: list[Edit]) -> list[Edit]:
    """Sort edits and drop any that overlaps one already kept (two candidates renaming the same name)."""
    edits.sort(key=lambda e: (e[0], e[1]))
    kept: list[Edit] = []
    last_end = -1
    for edit in edits:
        if edit[0] < last_end or (kept and edit[0] == kept[-1][0] and edit[1] == kept[-1][1]):
            continue
        kept.append(edit)
        last_end = edit[1]
    return kept


def apply(data: bytes, edits: list[Edit], offset: int) -> bytes:
    """Apply sorted, non-overlapping edits (positions are ``offset``-based) to ``data``."""
    parts: list[bytes] = []
    i = 0
    for start, end, rep in edits:
        parts.append(data[i : start - offset])
        parts.append(rep)
        i = end - offset
    parts.append(data[i:])
    return b"".join(parts)


def shift(edits: list[Edit] | tuple[Edit, ...], pos: int) -> int:
    """Where ``pos`` moved to once ``edits`` were applied."""
    return pos + sum(len(rep) - (end - start) for start, end, rep in edits if end <= pos)


def unquoted(value: str) -> bytes:
    """An attribute value written without quotes (safe inside JS strings and comments): unusual characters
    become numeric character references, so no ``<``, ``>``, quote or space is written."""
    return _UNQUOTED_SAFE.sub(lambda m: f"&#{ord(m.group())};", value).encode("ascii") or b'""'
