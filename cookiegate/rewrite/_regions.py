"""Hidden regions: text the browser does not parse as markup (comments, raw text, script text, CDATA), and
where each one ends, found as the tokenizer finds it.

https://html.spec.whatwg.org/multipage/parsing.html#comment-start-state,
https://html.spec.whatwg.org/multipage/parsing.html#script-data-state (and the escaped states after it)
"""

from __future__ import annotations

import re

from ._foreign import data_state_end
from ._tokenizer import COMMENT_END, RAW_END_RES, SCRIPT_DATA, SCRIPT_DOUBLE, SCRIPT_ESCAPED, SCRIPT_RES, parse_tag

COMMENT, BOGUS, CDATA, RAW, SCRIPT, PLAINTEXT = range(6)
#: Added to a region's kind in memo keys when it is read both ways (see :attr:`Region.dual`).
DUAL = 8


class Region:
    """A hidden region being collected: offsets are relative to its base (the first byte not emitted)."""

    __slots__ = ("kind", "name", "content", "scan", "state", "fresh", "tag_pending", "split", "looked_up", "dual",
                 "data_scan", "text_ends")

    def __init__(self, kind: int, content: int, name: bytes = b"", dual: bool = False) -> None:
        self.kind = kind
        self.name = name
        self.content = content  # where the hidden text starts
        self.scan = content  # where the search for its end resumes
        self.state = SCRIPT_DATA
        self.fresh = True  # comment: the abrupt "<!-->" / "<!--->" endings are still possible
        self.tag_pending = kind == SCRIPT  # the script start tag waits for the script text
        self.split = False  # decided on its first bytes (past the cap): no longer one unit
        self.looked_up = False  # already missed the region memo with the bytes at hand (start-tag path)
        #: A script or style that may be in foreign content: it ends at the later of where its text ends as
        #: raw text and as data-state text (``_foreign``), and both texts are decided.
        self.dual = dual
        self.data_scan = content  # where the data-state search for its end resumes
        #: Once closed: where its raw text and its data-state text end (relative to the base).
        self.text_ends = (0, 0)

    @property
    def memo_kind(self) -> int:
        """Its kind as the region memo keys it (a region read both ways is another region)."""
        return self.kind | DUAL if self.dual else self.kind


def find_close(buf: bytes, region: Region, base: int, final: bool) -> tuple[int, int] | None:
    """(end of hidden text, end of the region) or None when the end is not in ``buf`` yet."""
    n = len(buf)
    i = base + region.scan
    kind = region.kind
    if kind == COMMENT:
        if region.fresh:
            c = base + region.content
            if buf[c : c + 1] == b">":
                return c, c + 1
            if buf[c : c + 2] == b"->":
                return c, c + 2
            if n - c < 2 and not final:
                return None
            region.fresh = False
        m = COMMENT_END.search(buf, i)
        if m is not None:
            return m.start(), m.end()
        resume = n - 3
    elif kind == BOGUS:
        j = buf.find(b">", i)
        if j >= 0:
            return j, j + 1
        resume = n
    elif kind == CDATA:
        j = buf.find(b"]]>", i)
        if j >= 0:
            return j, j + 3
        resume = n - 2
    elif kind == PLAINTEXT:
        resume = n
    else:
        closed = _close_by_end_tag(buf, region, base, final)
        if not region.dual:
            return closed
        name = region.name or b"script"
        data = data_state_end(buf, name, base + region.data_scan, n, final)
        if isinstance(data, int):
            region.data_scan = data - base
            return None
        if closed is None:
            return None
        region.text_ends = (closed[0] - base, data[0] - base)
        return closed if closed[1] >= data[1] else data
    if final:
        return n, n
    region.scan = max(i, resume) - base
    return None


def _close_by_end_tag(buf: bytes, region: Region, base: int, final: bool) -> tuple[int, int] | None:
    """A raw-text or script region's end, found as the tokenizer finds its end tag."""
    n = len(buf)
    i = base + region.scan
    if region.kind == RAW:
        m = RAW_END_RES[region.name].search(buf, i)
        resume = n - len(region.name) - 3
    else:
        m, resume = script_end(buf, region, i, n)
    if m is not None:
        # The script states were followed up to here: a later search (the step may still wait for the safety
        # net) resumes here, in the state they were left in, and finds this end again.
        region.scan = m.start() - base
        end_tag = parse_tag(buf, m.start(), n)
        if end_tag.end >= 0:
            return m.start(), end_tag.end
        if final:
            return m.start(), n
        return None
    if final:
        return n, n
    region.scan = max(i, resume) - base
    return None


def script_end(buf: bytes, region: Region, i: int, n: int) -> tuple[re.Match[bytes] | None, int]:
    """Follow the script data / escaped / double-escaped states to the ``</script`` that ends it."""
    state = region.state
    while True:
        m = SCRIPT_RES[state].search(buf, i)
        if m is None:
            region.state = state
            return None, max(i, n - 9)
        token = m.group()
        if token == b"<!--":
            state, i = SCRIPT_ESCAPED, m.start() + 2  # the two dashes already count towards "-->"
        elif token == b"-->":
            state, i = SCRIPT_DATA, m.end()
        elif token[1] == 0x2F:  # "</script"
            if state != SCRIPT_DOUBLE:
                region.state = state
                return m, i
            state, i = SCRIPT_ESCAPED, m.end()
        else:  # "<script" inside an escaped section
            state, i = SCRIPT_DOUBLE, m.end()
