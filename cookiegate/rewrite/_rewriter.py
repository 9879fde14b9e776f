"""The rewriter: the driver that scans a page as a browser's tokenizer does and rewrites only the start tags
of refused vendors, so the browser never fetches them. Every other byte passes through unchanged.

How it stays fast: the skip scan consumes text and tags that cannot matter; Python runs only at tags that
matter, comments and raw-text elements, and what was decided about the same bytes before is remembered
(``_memo``). How it stays safe where it and a browser may disagree: it hides at least what a browser hides,
and the safety net (``_net``) neutralizes tag-shaped text inside everything it hides.
"""

from __future__ import annotations

import dataclasses
import functools
import re

from ..policy._catalog import Vendor
from ..policy._categories import UNCLASSIFIED
from ..policy._decision import Permissions
from . import _backend, _memo
from ._attrs import decode
from ._edits import Edit, apply
from ._foreign import ForeignModel
from ._hidden import HiddenRegions
from ._judge import NOTHING, Judge, Verdict
from ._memo import Blocked, PageKey, PageResult, Reach
from ._net import safety_net
from ._neutralize import activation_edits, neutralize_edits
from ._page import BODY_MARK, HEAD_MARK, PLACEHOLDER_MARK, Recorder, replay
from ._regions import BOGUS, CDATA, COMMENT, PLAINTEXT, RAW, SCRIPT, Region
from ._scan import FOREIGN_SKIP
from ._settings import Handlers, Limits, Settings, TagEvent, page_context
from ._tokenizer import PASS_THROUGH_EXCEPT, PLACEHOLDER_NAMES, RAWTEXT_NAMES, WHOLE_TAG, Tag, is_alpha, parse_tag

_NO_HANDLERS = Handlers()
_PLAIN_END_TAG = re.compile(rb"</([A-Za-z][^\t\n\f\r /><]*)>")
#: What a srcdoc document is read with: every vendor tag in it is refused, so each is found.
_REFUSE_ALL = Permissions(frozenset())


def replay_remembered(settings: Settings, handlers: Handlers, data: bytes) -> tuple[bytes, PageResult] | None:
    """What :meth:`HtmlRewriter.document` gives for ``data``, a whole body, when the page was rewritten with the
    same settings before and is remembered, without building a rewriter: the output with this visitor's
    injections, and what the page became (its events and outcomes). None when it is not remembered."""
    memos = _memo.memos_for(settings.classifier, settings.limits, settings.site)
    if memos is None or not _rememberable(data, settings.limits):
        return None
    data = bytes(data)
    token = memos.token(settings.permissions, page_context(settings))
    known = _known(memos, _page_key(data, settings.limits, token, handlers.placeholder is not None), data)
    return None if known is None else (replay(known, handlers), known)


def _rememberable(data: bytes, limits: Limits) -> bool:
    return 0 < len(data) <= limits.memo_page_max


def _page_key(data: bytes, limits: Limits, token: int, placeholders: bool) -> PageKey:
    edge = limits.memo_page_edge
    return (len(data), data[:edge], data[-edge:], token, placeholders)


def _known(memos: _memo.Memos, key: PageKey, data: bytes) -> PageResult | None:
    for known in memos.pages.get(key) or ():
        if known.page is data or known.page == data:
            return known
    return None


class HtmlRewriter(HiddenRegions):
    """Incremental rewriter for one ``text/html`` response body.

    ``feed`` returns the bytes that are ready (maybe ``b""``) and holds back only an incomplete tag or an
    undecided region (inline script, comment, raw text); ``finish`` flushes the rest. The output for any
    chunking of the input is the output for the whole document at once. ``document`` rewrites a body given
    whole, and replays what a page seen before became.

    Every tag is looked at whatever the visitor allowed, so ``events`` holds every tag of the page, fired or
    blocked, on every path (rewritten, replayed from memory): what the counters and the preview count.
    """

    __slots__ = ("_handlers", "_limits", "_memos", "_token", "_tag_memo", "_plain", "_region_memo",
                 "_region_lengths", "_judge", "_depth", "_skip", "_buf", "_head_done",
                 "_body_done", "_saw_document", "_finished", "_keep_from", "_edits", "_net_reach", "_placeholders",
                 "_recorder", "_fed", "_outcomes", "_settings", "_foreign")

    def __init__(self, settings: Settings, handlers: Handlers = _NO_HANDLERS, *, depth: int = 0) -> None:
        """``depth``: how deep this document is nested in ``<iframe srcdoc>`` documents (its tags' verdicts
        depend on it, so a nested document keeps no tag or region memos)."""
        self._settings = settings
        self._handlers = handlers
        self._limits = limits = settings.limits
        self._depth = depth
        memos = _memo.memos_for(settings.classifier, limits, settings.site)
        self._memos = memos
        shared = memos if depth == 0 else None
        # (a function of the settings and depth, not a method: the rewriter and its judge hold no cycle)
        self._judge = judge = Judge(settings, memos, functools.partial(_srcdoc_reach, settings, depth))
        self._token = memos.token(settings.permissions, judge.context) if memos is not None else -1
        self._tag_memo = shared.tags if shared is not None else None
        #: Start tags the skip scan consumes as it goes (known to need nothing).
        self._plain = shared.plain if shared is not None else None
        self._region_memo = shared.regions if shared is not None else None
        self._region_lengths = shared.region_lengths if shared is not None else None
        self._skip = _backend.skip
        self._buf = b""
        self._region: Region | None = None
        self._head_done = self._body_done = self._saw_document = self._finished = False
        self._keep_from = 0
        self._edits: list[Edit] = []
        #: How far the last safety-net pass read (buffer offset before its edits).
        self._net_reach = 0
        self._placeholders = 0
        #: Set while a whole page is rewritten to be remembered (see :meth:`document`).
        self._recorder: Recorder | None = None
        self._fed = False
        self._outcomes: tuple[tuple[str, bool], ...] | None = None
        #: Where the tree builder may be in SVG or MathML content (scripts and styles then read both ways).
        self._foreign = ForeignModel()

    # -- public API --------------------------------------------------------------------------------

    @property
    def events(self) -> list[TagEvent]:
        """Every recognised tag, in document order (safety-net finds only when neutralized)."""
        return self._judge.events

    def feed(self, data: bytes) -> bytes:
        """Add the next chunk of the body; returns the rewritten bytes that are ready."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        self._fed = True
        self._buf = self._buf + data if self._buf else bytes(data)
        return self._run(final=False)

    def held_back(self) -> bytes:
        """The input received but not yet emitted: a construct (tag, comment, script, region) that the chunks
        so far have not completed. All input before it has been rewritten and emitted."""
        return self._buf

    def finish(self) -> bytes:
        """End of body: returns everything still held back, plus any injection not yet emitted."""
        if self._finished:
            return b""
        out = self._run(final=True)
        self._finished = True
        if self._saw_document:
            tail = [out]
            if not self._head_done:
                self._put(tail, self._handlers.head, HEAD_MARK)
            if not self._body_done:
                self._put(tail, self._handlers.body, BODY_MARK)
            self._head_done = self._body_done = True
            if len(tail) > 1:
                if self._recorder is not None:
                    self._recorder.unemit(len(out))  # counted again below, with what follows it
                out = self._joined(tail)
        return out

    def document(self, data: bytes) -> bytes:
        """A whole body given in one piece: the same as ``feed(data) + finish()``.

        A site sends the same pages again and again, so what a page became is remembered (per permissions):
        a page seen before is compared whole with the one remembered and, when equal, its output is replayed
        with this visitor's own injections and placeholders put where the first one's went. The output is a
        function of the page's bytes, the permissions and the classifier alone, so the replay is what
        rewriting would give.
        """
        memos = self._memos
        if memos is None or self._buf or self._fed or self._finished or not _rememberable(data, self._limits):
            return self.feed(data) + self.finish()
        data = bytes(data)
        key = _page_key(data, self._limits, self._token, self._handlers.placeholder is not None)
        known = _known(memos, key, data)
        if known is not None:
            return self._replay_page(known)
        self._recorder = recorder = Recorder()
        out = self.feed(data) + self.finish()
        self._recorder = None
        memos.remember_page(key, PageResult(data, out, tuple(recorder.marks), tuple(self.events),
                                            tuple(self._judge.blocked), self._placeholders, self.outcomes()))
        return out

    def outcomes(self) -> tuple[tuple[str, bool], ...]:
        """``(outcome key, fired)`` for every event, in order (call once the body is finished): the vendor id,
        ``unclassified:<host>`` or ``explicit:<category>`` (:attr:`TagEvent.key`)."""
        if self._outcomes is None or len(self._outcomes) != len(self.events):
            self._outcomes = tuple((event.key, event.fired) for event in self.events)
        return self._outcomes

    def _replay_page(self, known: PageResult) -> bytes:
        self.events.extend(known.events)
        self._judge.blocked.extend(known.blocked)
        self._placeholders = known.placeholders
        self._outcomes = known.outcomes
        self._finished = True
        return replay(known, self._handlers)

    def _put(self, out: list[bytes], piece: bytes, which: int, payload: Blocked | None = None) -> None:
        """Append a piece that depends on the visitor, noting where it went when a page is being recorded."""
        if self._recorder is not None:
            self._recorder.note(len(out), which, payload)
        out.append(piece)

    def _joined(self, out: list[bytes]) -> bytes:
        return b"".join(out) if self._recorder is None else self._recorder.joined(out)

    # -- driver ------------------------------------------------------------------------------------

    def _run(self, final: bool) -> bytes:
        out: list[bytes] = []
        pos = 0
        skip = self._skip
        while True:
            if self._region is not None:
                pos = self._region_step(pos, final, out)
                if pos < 0:
                    break
                continue
            buf = self._buf
            foreign = self._foreign
            if not foreign.tracking:
                end = skip(buf, pos, self._plain)
            elif foreign.in_foreign_element:
                end = FOREIGN_SKIP.match(buf, pos).end()  # type: ignore[union-attr]  # matches the empty string
            else:  # inside an integration point: every tag may move the stack
                end = buf.find(b"<", pos)
                end = len(buf) if end < 0 else end
            if end > pos:
                out.append(buf[pos:end])
                pos = end
            if pos >= len(buf):
                break
            pos = self._markup(pos, final, out)
            if pos < 0:
                break
        if pos < 0:
            pos = self._keep_from
        self._buf = self._buf[pos:]
        if final and self._buf:  # cannot happen: every state consumes its input at the end of stream
            out.append(self._buf)
            self._buf = b""
        return self._joined(out)

    def _wait(self, pos: int) -> int:
        """Hold everything from ``pos`` until more bytes arrive."""
        self._keep_from = pos
        return -1

    def _markup(self, pos: int, final: bool, out: list[bytes]) -> int:
        """Handle the construct at ``buf[pos] == b"<"`` that the skip scan stopped at."""
        buf = self._buf
        n = len(buf)
        if pos + 1 >= n:
            if final:
                out.append(buf[pos:])
                return n
            return self._wait(pos)
        c = buf[pos + 1]
        if is_alpha(c):
            return self._start_tag(pos, final, out)
        if c == 0x2F:  # "/"
            if pos + 2 >= n:
                if final:
                    out.append(buf[pos:])
                    return n
                return self._wait(pos)
            if is_alpha(buf[pos + 2]):
                return self._end_tag(pos, final, out)
            if buf[pos + 2] == 0x3E:  # "</>" is dropped by the browser: nothing to do
                out.append(b"</>")
                return pos + 3
            self._region = Region(BOGUS, 2)
            return pos
        if c == 0x21:  # "!"
            head = buf[pos : pos + 9]
            if head.startswith(b"<!--"):
                self._region = Region(COMMENT, 4)
            elif head == b"<![CDATA[":
                # Only foreign content has CDATA sections; elsewhere it is a bogus comment to the first ">".
                self._region = Region(CDATA, 9) if self._foreign.maybe_foreign else Region(BOGUS, 2)
            elif not final and len(head) < 9 and (b"<!--".startswith(head) or b"<![CDATA[".startswith(head)):
                return self._wait(pos)
            else:
                self._region = Region(BOGUS, 2)
            return pos
        if c == 0x3F:  # "?"
            self._region = Region(BOGUS, 2)
            return pos
        out.append(b"<")
        return pos + 1

    # -- tags --------------------------------------------------------------------------------------

    def _net(self, start: int, stop: int, final: bool) -> bool:
        """Run the safety net over ``buf[start:stop]``; False: wait for more bytes."""
        done = safety_net(self._buf, start, stop, final, self._judge, self._limits)
        if done is None:
            return False
        self._net_reach = done.reach
        if done.edits:
            self._edits = done.edits
            self._buf = done.buf
        return True

    def _parse_with_net(self, pos: int, final: bool) -> Tag | None:
        """Parse the real tag at ``pos`` after neutralizing tag-shaped text inside it (None: wait)."""
        buf = self._buf
        tag = parse_tag(buf, pos, len(buf))
        if tag.end < 0 and not final:
            return None
        if not self._net(pos + 1, tag.end if tag.end >= 0 else len(buf), final):
            return None
        if self._buf is not buf:
            tag = parse_tag(self._buf, pos, len(self._buf))
        return tag

    def _end_tag(self, pos: int, final: bool, out: list[bytes]) -> int:
        plain = _PLAIN_END_TAG.match(self._buf, pos)
        if plain is not None:  # "</name>": nothing in it for the safety net
            self._foreign.end_tag(plain.group(1).lower())
            out.append(plain.group())
            return plain.end()
        tag = self._parse_with_net(pos, final)
        if tag is None:
            return self._wait(pos)
        end = tag.end if tag.end >= 0 else len(self._buf)
        out.append(self._buf[pos:end])
        self._foreign.end_tag(tag.name)
        return end

    def _start_tag(self, pos: int, final: bool, out: list[bytes]) -> int:
        memo = self._tag_memo
        if memo is not None:
            # Seen before? Every key is a whole tag whose only ">" outside quotes is its last byte, and a tag
            # tokenizes the same wherever it stands, so the bytes up to the next ">" either are such a tag
            # or are no key at all (that ">" sits inside a quoted value, where no whole tag can end).
            gt = self._buf.find(b">", pos)
            if gt >= 0:
                data = self._buf[pos : gt + 1]
                name = memo.get(data)
                if name is not None:
                    return self._known_start_tag(name, data, pos, gt + 1, final, out)
        whole = WHOLE_TAG.match(self._buf, pos) if memo is not None else None
        if whole is not None:
            # A complete start tag with no "<" inside, seen before and needing nothing: it needs nothing now.
            end = whole.end()
            data = self._buf[pos:end]
            name = memo.get(data) if memo is not None else None
            if name is not None:
                return self._known_start_tag(name, data, pos, end, final, out)
        tag = self._parse_with_net(pos, final)
        if tag is None:
            return self._wait(pos)
        end = tag.end if tag.end >= 0 else len(self._buf)
        name = tag.name
        # Only a tag that really closed is remembered: one the stream cut short would be a wrong key.
        memorable = (whole is not None and tag.end >= 0 and whole.end() == end
                     and end - pos <= self._limits.memo_value_max)
        if name == b"script":
            # Nothing is decided on a script's start tag alone (it waits for the text): its bytes and name are
            # all a second sighting needs.
            if memorable:
                self._remember_tag(self._buf[pos:end], name)
            self._region = Region(SCRIPT, end - pos, dual=self._foreign.maybe_foreign)
            return pos
        data = self._buf[pos:end]
        verdict: Verdict | None = None
        judge = self._judge
        judge.local = False
        if tag.interesting():
            data, verdict = self._rewrite_tag(tag, data, None, out)
        if verdict is None and memorable and not judge.local and len(data) <= self._limits.memo_value_max:
            # (a tag that needed nothing only because of the request's own host needs something on others)
            self._remember_tag(data, name)
        out.append(data)
        return self._after_start_tag(name, data, end, final, out)

    def _remember_tag(self, data: bytes, name: bytes) -> None:
        """Remember a whole start tag that needed nothing (and let the skip scan consume a plain one)."""
        if self._tag_memo is not None:
            self._tag_memo.put(data, name)
        if self._plain is not None and name not in PASS_THROUGH_EXCEPT:
            self._plain.put(data, name)

    def _known_start_tag(self, name: bytes, data: bytes, pos: int, end: int, final: bool, out: list[bytes]) -> int:
        """A start tag found in the memo: as the slow path would have handled it."""
        if name == b"script":
            # The whole script element may be a remembered region too (a site's snippets are).
            region = Region(SCRIPT, end - pos, dual=self._foreign.maybe_foreign)
            known = self._known_region(region.memo_kind, b"", pos, out) if not final else -1
            if known >= 0:
                return known
            self._region = region
            region.looked_up = not final
            return pos
        out.append(data)
        return self._after_start_tag(name, data, end, final, out)

    def _after_start_tag(self, name: bytes, data: bytes, end: int, final: bool, out: list[bytes]) -> int:
        if name == b"head" or name == b"body" or name == b"html":
            self._inject(name, out)
        foreign = self._foreign
        foreign.start_tag(name, data)
        if name in RAWTEXT_NAMES:
            region = Region(RAW, 0, name, dual=name == b"style" and foreign.maybe_foreign)
            known = self._known_region(region.memo_kind, name, end, out) if not final else -1
            if known >= 0:
                return known
            self._region = region
            region.looked_up = not final
        elif name == b"plaintext":
            self._region = Region(PLAINTEXT, 0)
        return end

    def _inject(self, name: bytes, out: list[bytes]) -> None:
        self._saw_document = True
        if name == b"head" and not self._head_done and not self._body_done:
            self._put(out, self._handlers.head, HEAD_MARK)
            self._head_done = True
        elif name == b"body" and not self._body_done:
            if not self._head_done:
                self._put(out, self._handlers.head, HEAD_MARK)
                self._head_done = True
            self._put(out, self._handlers.body, BODY_MARK)
            self._body_done = True

    def _rewrite_tag(
        self, tag: Tag, data: bytes, inline: bytes | None, out: list[bytes]
    ) -> tuple[bytes, Verdict | None]:
        """Classify a real start tag; return its bytes, neutralized or activated as the verdict says."""
        first = tag.first_values()
        judge = self._judge
        verdict = judge.classify(tag.name, first, inline)
        if verdict is None:
            return data, None
        vendor, category = verdict.vendor, verdict.category
        fired = judge.fires(vendor, category)
        judge.record(verdict, fired)
        if fired:
            edits = activation_edits(tag, first) if verdict.explicit else []
        else:
            edits = neutralize_edits(self._buf, tag, first, verdict, insert=True, tidy=True)
            placeholder = self._handlers.placeholder
            if placeholder is not None and _wants_placeholder(tag.name, vendor, category, b"src" in first):
                self._placeholders += 1
                self._put(out, placeholder(vendor, category), PLACEHOLDER_MARK, (vendor, category))
        return (apply(data, edits, tag.start) if edits else data), verdict


def _wants_placeholder(name: bytes, vendor: Vendor | None, category: str, external: bool) -> bool:
    """Whether a refused tag gets a box that loads it on request: an embed element (iframe, embed, object, video),
    or the external script of an embed vendor (``embed = true``: a map, a post, a booking widget) that draws one.
    An unclassified third party gets none: no consent loads it."""
    if category == UNCLASSIFIED:
        return False
    if name in PLACEHOLDER_NAMES:
        return True
    return external and name == b"script" and vendor is not None and vendor.embed


def _srcdoc_reach(settings: Settings, depth: int, value: bytes) -> Reach:
    """An ``<iframe srcdoc>`` is a document: the vendors and unclassified hosts of every tag in it that fetches or
    runs, whatever the permissions (they decide the iframe as they decide a tag's own URLs)."""
    if depth >= settings.limits.srcdoc_depth:
        return NOTHING
    inner = HtmlRewriter(dataclasses.replace(settings, permissions=_REFUSE_ALL), depth=depth + 1)
    inner.feed(decode(value).encode("utf-8", "replace"))
    inner.finish()
    judge = inner._judge
    vendors = tuple(vendor for vendor, _category in judge.blocked if vendor is not None)
    hosts = tuple(dict.fromkeys(e.host for e in judge.events if e.category == UNCLASSIFIED and e.host))
    return vendors, hosts
