"""The rewriter's steps through a hidden region (a comment, raw text, a script element, CDATA): collect it to its
end, run the safety net over it, decide a script by its text and a style by its CSS, and remember what a whole
region became so the same bytes are replayed next time."""

from __future__ import annotations

from collections.abc import Callable

from .._cache import BoundedCache
from ._css import BLOCKED, rewrite_css
from ._css import urls as css_urls
from ._edits import Edit, shift
from ._foreign import data_state_text
from ._judge import Judge
from ._memo import RegionKey, RegionResult
from ._regions import RAW, Region, find_close
from ._settings import Limits
from ._tokenizer import Tag, parse_tag


class HiddenRegions:
    """Region handling of :class:`~cookiegate.rewrite._rewriter.HtmlRewriter` (whose state it uses)."""

    __slots__ = ("_region",)

    _region: Region | None
    _buf: bytes
    _region_memo: BoundedCache[RegionKey, RegionResult] | None
    _region_lengths: BoundedCache[tuple[int, bytes, bytes], tuple[int, ...]] | None
    _token: int
    _limits: Limits
    _judge: Judge
    _placeholders: int
    _net_reach: int
    _edits: list[Edit]

    # The rewriter's own steps this one calls: wait for more bytes, run the safety net, decide a start tag.
    _wait: Callable[[int], int]
    _net: Callable[[int, int, bool], bool]
    _rewrite_tag: Callable[[Tag, bytes, bytes | None, list[bytes]], tuple[bytes, object]]

    def _region_step(self, base: int, final: bool, out: list[bytes]) -> int:
        region = self._region
        assert region is not None
        limits = self._limits
        # Not again with the same bytes right after the start tag's own lookup missed (a later step, with more
        # bytes after a wait, looks again).
        looked_up, region.looked_up = region.looked_up, False
        if not looked_up and not final and not region.split and self._region_lengths is not None:
            end = self._known_region(region.memo_kind, region.name, base, out)
            if end >= 0:
                return end
        closed = find_close(self._buf, region, base, final)
        content = base + region.content
        if closed is None:
            # A region read both ways is held to its end, however long: past the cap neither reading is safe.
            if region.dual or len(self._buf) - content < limits.region_cap + 64:
                return self._wait(base)
            return self._split_region(region, base, content, final, out)
        content_end, close_end = closed
        # A whole region seen before, for the same permissions, becomes what it became then: its bytes decide
        # everything done below (tokenizer states, safety net, classification), as long as nothing read past
        # its end (checked when it was remembered) and it is not the end of the stream.
        memo = self._region_memo if not final and not region.split else None
        key: RegionKey | None = None
        if memo is not None and close_end - base <= limits.memo_region_max:
            key = (region.memo_kind, region.name, self._buf[base:close_end], self._token)
            known = memo.get(key)
            if known is not None:
                return self._replay(known, close_end, out)
        judge = self._judge
        marks = (len(out), len(judge.events), len(judge.blocked), self._placeholders)
        before = self._buf
        if not self._net(content, close_end, final):
            return self._wait(base)
        self_contained = self._net_reach <= close_end
        raw_end, data_end = base + region.text_ends[0], base + region.text_ends[1]
        if self._buf is not before:
            content_end, close_end = shift(self._edits, content_end), shift(self._edits, close_end)
            raw_end, data_end = shift(self._edits, raw_end), shift(self._edits, data_end)
        buf = self._buf
        if region.tag_pending:
            text = _both_ways(buf, content, raw_end, data_end) if region.dual else buf[content:content_end]
            out.append(self._script_tag(base, content, text, out))
            out.append(buf[content:close_end])
        elif region.kind == RAW and region.name == b"style":
            out.append(buf[base:content])
            if region.dual:
                out.append(self._foreign_css(buf, content, raw_end, data_end, content_end))
            else:
                out.append(rewrite_css(buf[content:content_end], judge.css_refused))
            out.append(buf[content_end:close_end])
        else:
            out.append(buf[base:close_end])
        self._region = None
        if key is not None and memo is not None and self_contained and self._placeholders == marks[3]:
            # Placeholders depend on the visitor (language, page): a region that emitted one is not kept.
            memo.put(key, RegionResult(b"".join(out[marks[0] :]), tuple(judge.events[marks[1] :]),
                                       tuple(judge.blocked[marks[2] :])))
            self._remember_length(region, key[2])
        return close_end

    def _foreign_css(self, buf: bytes, content: int, raw_end: int, data_end: int, content_end: int) -> bytes:
        """A style that may be in foreign content: its CSS read raw and as data-state text (references decoded,
        CDATA as text); dropped whole when either reading reaches a refused vendor."""
        raw = buf[content:raw_end]
        decoded = data_state_text(buf, content, data_end)
        if raw_end == data_end == content_end and decoded == raw:
            return rewrite_css(raw, self._judge.css_refused)
        found = css_urls(raw.decode("utf-8", "replace")) + css_urls(decoded.decode("utf-8", "replace"))
        if any(self._judge.css_refused(url) for url in found):
            return BLOCKED
        return buf[content:content_end]

    def _remember_length(self, region: Region, data: bytes) -> None:
        lengths = self._region_lengths
        prefix_size = self._limits.memo_region_prefix
        if lengths is None or len(data) < prefix_size:
            return
        prefix = (region.memo_kind, region.name, data[:prefix_size])
        seen = lengths.get(prefix) or ()
        if len(data) not in seen:
            lengths.put(prefix, (*seen[-7:], len(data)))

    def _known_region(self, kind: int, name: bytes, base: int, out: list[bytes]) -> int:
        """A remembered region that starts at ``base``: emit what it became and return its end (-1: none).

        Where a region ends is decided by its own bytes (each end search stops at the first match, and the
        end tag's ``>`` is the region's last byte), so bytes at ``base`` equal to a whole remembered region
        of the same kind are that region, ending where it ended: its end need not be searched for.
        """
        buf = self._buf
        n = len(buf)
        lengths = self._region_lengths
        memo = self._region_memo
        prefix_size = self._limits.memo_region_prefix
        if lengths is None or memo is None or n - base < prefix_size:
            return -1
        for length in lengths.get((kind, name, buf[base : base + prefix_size])) or ():
            end = base + length
            if end > n:
                continue
            known = memo.get((kind, name, buf[base:end], self._token))
            if known is not None:
                return self._replay(known, end, out)
        return -1

    def _replay(self, known: RegionResult, end: int, out: list[bytes]) -> int:
        """Emit what a remembered region became, as if it had just been rewritten; it ends at ``end``."""
        out.append(known.out)
        self._judge.events.extend(known.events)
        self._judge.blocked.extend(known.blocked)
        self._region = None
        return end

    def _split_region(self, region: Region, base: int, content: int, final: bool, out: list[bytes]) -> int:
        """A region past the cap: decide it on its first ``region_cap`` bytes and stream on."""
        cut = content + self._limits.region_cap
        before = self._buf
        if not self._net(content, cut, final):
            return self._wait(base)
        scan = base + region.scan
        if scan < cut:  # an end tag that began before the cut is still open: keep waiting for it
            return self._wait(base)
        if self._buf is not before:
            cut, scan = shift(self._edits, cut), shift(self._edits, scan)
        buf = self._buf
        if region.tag_pending:
            out.append(self._script_tag(base, content, buf[content:cut], out))
            out.append(buf[content:cut])
            region.tag_pending = False
        else:
            out.append(buf[base:cut])
        region.content = 0
        region.scan = scan - cut
        region.fresh = False
        region.split = True
        return cut

    def _script_tag(self, base: int, content: int, text: bytes, out: list[bytes]) -> bytes:
        tag = parse_tag(self._buf, base, content)
        return self._rewrite_tag(tag, self._buf[base:content], text, out)[0]


def _both_ways(buf: bytes, content: int, raw_end: int, data_end: int) -> bytes:
    """A script's text as raw text and as data-state text (the second only when it differs)."""
    raw = buf[content:raw_end]
    decoded = data_state_text(buf, content, data_end)
    return raw if decoded == raw else raw + b"\n" + decoded
