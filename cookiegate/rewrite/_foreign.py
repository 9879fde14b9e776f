"""Foreign content (SVG and MathML): where the browser's tree builder may be in it, and how the text of a
``<script>`` or ``<style>`` reads there.

In foreign content the tokenizer never switches to script data or raw text: a ``<script>`` or ``<style>`` is
followed in the data state, so a CDATA section or a comment can hide ``</script>`` and character references
are decoded (https://html.spec.whatwg.org/multipage/parsing.html#parsing-main-inforeign). The model here
follows the tree builder's stack as far as the svg/math integration points
(https://html.spec.whatwg.org/multipage/parsing.html#tree-construction-dispatcher), and errs one way only:
when it cannot follow (HTML opened inside an integration point, an end tag that may close an element outside
it) it keeps saying "maybe foreign", and the rewriter then reads a script or style both ways.
"""

from __future__ import annotations

import html
from typing import Final

from ._tokenizer import BREAKOUT, COMMENT_END, Tag, is_alpha, parse_tag

_SVG, _MATHML = 1, 2
#: What an open element is for the dispatcher: a foreign element, an HTML integration point, a MathML text
#: integration point, or a MathML annotation-xml that is not an HTML integration point.
_FOREIGN, _HTML_POINT, _TEXT_POINT, _ANNOTATION = 0, 1, 2, 3
#: HTML elements that close themselves: opening one inside an integration point leaves nothing open.
_VOID: Final = frozenset({b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"keygen", b"link",
                          b"meta", b"param", b"source", b"track", b"wbr"})
#: Elements the rewriter reads to their end tag itself as a hidden region (their end closes them).
_REGIONS: Final = frozenset({b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed",
                             b"noframes", b"noscript", b"plaintext"})
_HTML_ENCODINGS: Final = frozenset({"text/html", "application/xhtml+xml"})


class ForeignModel:
    """The part of the tree builder's stack from the outermost open ``<svg>``/``<math>`` down."""

    __slots__ = ("_stack", "_lost")

    def __init__(self) -> None:
        #: (lowercased name, namespace, kind) of each open element, outermost first; empty: HTML content.
        self._stack: list[tuple[bytes, int, int]] = []
        #: HTML was opened inside an integration point, or the model otherwise lost track: maybe foreign from
        #: here to the end of the document.
        self._lost = False

    @property
    def maybe_foreign(self) -> bool:
        """Whether a start tag here may be in foreign content (read scripts and styles both ways)."""
        return self._lost or bool(self._stack)

    @property
    def tracking(self) -> bool:
        """Whether the tags that may move the stack must be seen to follow it."""
        return not self._lost and bool(self._stack)

    @property
    def in_foreign_element(self) -> bool:
        """Whether the open element is a foreign one (not an integration point): only the tags of
        ``_scan.FOREIGN_SKIP``'s stops can move the stack (elsewhere every tag must be seen)."""
        return bool(self._stack) and self._stack[-1][2] in (_FOREIGN, _ANNOTATION)

    def start_tag(self, name: bytes, data: bytes) -> None:
        """A start tag the rewriter passed on (its lower-cased name and its bytes)."""
        if self._lost or (not self._stack and name != b"svg" and name != b"math"):
            return
        if name in _REGIONS:
            return  # read to its own end tag by the rewriter, which closes it
        # Parsed only when its attributes or its "/>" matter (most tags end in a plain ">").
        needs_attrs = name == b"font" or name == b"annotation-xml"
        tag = parse_tag(data, 0, len(data)) if needs_attrs or data.endswith(b"/>") else None
        closing = tag is not None and self_closing(tag, data)
        stack = self._stack
        if not stack:
            if not closing:
                stack.append((name, _SVG if name == b"svg" else _MATHML, _FOREIGN))
            return
        _top, namespace, kind = stack[-1]
        if (kind == _HTML_POINT or (kind == _TEXT_POINT and name not in (b"mglyph", b"malignmark"))
                or (kind == _ANNOTATION and name == b"svg")):
            self._html_start(name, closing)
            return
        if name in BREAKOUT or (name == b"font" and tag is not None and _has_any(tag, (b"color", b"face", b"size"))):
            while stack and stack[-1][2] not in (_HTML_POINT, _TEXT_POINT):
                stack.pop()
            if stack:
                self._html_start(name, closing)
            return
        if closing:
            return
        if namespace == _SVG and name in (b"foreignobject", b"desc", b"title"):
            kind = _HTML_POINT
        elif namespace == _MATHML and name in (b"mi", b"mo", b"mn", b"ms", b"mtext"):
            kind = _TEXT_POINT
        elif namespace == _MATHML and name == b"annotation-xml":
            value = tag.first_values().get(b"encoding") if tag is not None else None
            encoding = html.unescape((value or b"").decode("latin-1"))
            kind = _HTML_POINT if encoding.strip().lower() in _HTML_ENCODINGS else _ANNOTATION
        else:
            kind = _FOREIGN
        stack.append((name, namespace, kind))

    def _html_start(self, name: bytes, closing: bool) -> None:
        """A start tag the tree builder takes as HTML inside an integration point."""
        if name == b"svg" or name == b"math":
            if not closing:
                self._stack.append((name, _SVG if name == b"svg" else _MATHML, _FOREIGN))
        elif name not in _VOID:
            self._lost = True  # an HTML element is open, closed by HTML's own rules: not followed here

    def end_tag(self, name: bytes) -> None:
        """An end tag the rewriter passed on."""
        stack = self._stack
        if self._lost or not stack:
            return
        if name == b"br" or name == b"p":
            # Leaves foreign content like a breakout start tag (then an HTML "p" opens and closes at once).
            while stack and stack[-1][2] not in (_HTML_POINT, _TEXT_POINT):
                stack.pop()
            return
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == name:
                del stack[index:]
                return
        # No open foreign element of that name: HTML's rules take the tag, and may close an element outside
        # (``</div>`` of an open ``<div>``): this model keeps saying "maybe", which is the safe side.


def self_closing(tag: Tag, buf: bytes) -> bool:
    """Whether a start tag ends in ``/>`` with the ``/`` outside any attribute value (the self-closing flag)."""
    end = tag.end
    if end < 2 or buf[end - 2 : end] != b"/>":
        return False
    return not tag.attrs or tag.attrs[-1][4] < end - 1


def _has_any(tag: Tag, names: tuple[bytes, ...]) -> bool:
    return any(attr[0] in names for attr in tag.attrs)


def data_state_end(buf: bytes, name: bytes, start: int, stop: int, final: bool) -> tuple[int, int] | int:
    """Where an element named ``name`` whose text starts at ``start`` ends when its text is read in the data
    state, as in foreign content: ``(start of its end tag, end of it)``; comments, CDATA sections, bogus
    comments and other tags (quoted attribute values included) hide an end tag. Only ``buf[:stop]`` is read;
    when the end is not there, the offset to resume from once more bytes arrive (at the end of the stream:
    ``(stop, stop)``)."""
    i = start
    while True:
        j = buf.find(b"<", i, stop)
        if j < 0:
            return (stop, stop) if final else stop
        end, end_tag = _construct(buf, j, stop)
        if end < 0:
            return (stop, stop) if final else j
        if end_tag is not None and end_tag.name == name:
            return j, end
        i = end


def data_state_text(buf: bytes, start: int, stop: int) -> bytes:
    """The text of ``buf[start:stop]`` read in the data state (UTF-8): character references decoded, CDATA
    sections as their text, comments and tags left out."""
    pieces: list[str] = []
    i = start
    while i < stop:
        j = buf.find(b"<", i, stop)
        if j < 0:
            j = stop
        if j > i:
            text = buf[i:j].decode("utf-8", "replace")
            pieces.append(html.unescape(text) if "&" in text else text)
        if j >= stop:
            break
        if buf.startswith(b"<![CDATA[", j):
            k = buf.find(b"]]>", j + 9, stop)
            pieces.append(buf[j + 9 : stop if k < 0 else k].decode("utf-8", "replace"))
            i = stop if k < 0 else k + 3
            continue
        end, _tag = _construct(buf, j, stop)
        if end == j + 1:
            pieces.append("<")  # a "<" that starts nothing is text
        i = stop if end < 0 else end
    return "".join(pieces).encode("utf-8", "surrogatepass")


def _construct(buf: bytes, j: int, n: int) -> tuple[int, Tag | None]:
    """Where the construct at ``buf[j] == "<"`` ends in the data state (-1: not within ``buf[:n]``), and the
    end tag it is, if it is one."""
    if j + 1 >= n:
        return -1, None
    c = buf[j + 1]
    if c == 0x21:  # "!"
        if buf.startswith(b"<!--", j):
            return _comment_end(buf, j + 4, n), None
        if buf.startswith(b"<![CDATA[", j):  # foreign content has CDATA sections
            k = buf.find(b"]]>", j + 9, n)
            return (-1 if k < 0 else k + 3), None
        if n - j < 9 and (b"<!--".startswith(buf[j:n]) or b"<![CDATA[".startswith(buf[j:n])):
            return -1, None
        return _bogus_end(buf, j, n), None
    if c == 0x3F:  # "?"
        return _bogus_end(buf, j, n), None
    if c == 0x2F:  # "/"
        if j + 2 >= n:
            return -1, None
        if is_alpha(buf[j + 2]):
            tag = parse_tag(buf, j, n)
            return tag.end, tag
        return (j + 3 if buf[j + 2] == 0x3E else _bogus_end(buf, j, n)), None
    if is_alpha(c):
        return parse_tag(buf, j, n).end, None
    return j + 1, None


def _comment_end(buf: bytes, content: int, n: int) -> int:
    if content < n and buf[content] == 0x3E:  # "<!-->"
        return content + 1
    if buf.startswith(b"->", content, n):  # "<!--->"
        return content + 2
    if n - content < 2:
        return -1
    m = COMMENT_END.search(buf, content, n)
    return -1 if m is None else m.end()


def _bogus_end(buf: bytes, start: int, n: int) -> int:
    k = buf.find(b">", start, n)
    return -1 if k < 0 else k + 1
