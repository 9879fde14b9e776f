"""The tokenizer's tables and patterns: which names matter, and one tag parsed as the WHATWG tokenizer splits it.

https://html.spec.whatwg.org/multipage/parsing.html#tokenization
"""

from __future__ import annotations

import re
from typing import Final

#: Elements whose text the tokenizer reads raw up to their end tag (RCDATA title and textarea end the same way).
RAWTEXT_NAMES: Final = frozenset({b"style", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript", b"title",
                                  b"textarea"})
#: Embeds a refused vendor's placeholder box goes in front of.
PLACEHOLDER_NAMES: Final = frozenset({b"iframe", b"embed", b"object", b"video"})
#: Attributes that can make a browser fetch a URL (``href`` only off ``<a>``/``<area>``, ``content`` only on
#: ``<meta http-equiv=refresh>``, ``style`` only when it holds a URL).
URL_ATTRS: Final = frozenset({b"src", b"srcset", b"imagesrcset", b"href", b"xlink:href", b"data", b"poster",
                              b"background", b"ping", b"codebase", b"archive", b"manifest", b"lowsrc", b"dynsrc",
                              b"attributionsrc", b"srcdoc", b"style", b"content"})
#: The site's own consent markup.
EXPLICIT_ATTRS: Final = frozenset({b"data-cookiegate", b"data-category"})
INTERESTING_ATTRS: Final = URL_ATTRS | EXPLICIT_ATTRS
#: Attributes holding a list of URLs.
LIST_ATTRS: Final = frozenset({b"srcset", b"imagesrcset", b"archive", b"ping", b"attributionsrc"})
#: Elements whose ``href`` navigates (not a fetch).
NAVIGATION_ELEMENTS: Final = frozenset({b"a", b"area"})
#: Start tags the skip scan never consumes: they switch the tokenizer's state (svg and math: foreign content),
#: take an injection, or may fetch.
SPECIAL_NAMES: Final = RAWTEXT_NAMES | {b"script", b"plaintext", b"html", b"head", b"body", b"meta", b"a", b"area",
                                       b"svg", b"math"}
#: What an ``<a>``/``<area>`` may carry and still be skipped (its ``href`` only navigates).
A_INTERESTING: Final = INTERESTING_ATTRS - {b"href", b"xlink:href"}
#: Start tags that do something after they are passed on (injections, raw text): never consumed as known.
PASS_THROUGH_EXCEPT: Final = RAWTEXT_NAMES | {b"script", b"plaintext", b"html", b"head", b"body", b"svg", b"math"}

#: Start tags that leave foreign content (https://html.spec.whatwg.org/multipage/parsing.html#parsing-main-inforeign).
BREAKOUT: Final = frozenset({
    b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd", b"div", b"dl", b"dt", b"em", b"embed",
    b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"hr", b"i", b"img", b"li", b"listing", b"menu", b"meta",
    b"nobr", b"ol", b"p", b"pre", b"ruby", b"s", b"small", b"span", b"strong", b"strike", b"sub", b"sup", b"table",
    b"tt", b"u", b"ul", b"var",
})
#: SVG and MathML integration points (and the MathML elements that stay foreign inside the text ones).
INTEGRATION_POINTS: Final = frozenset({b"foreignobject", b"desc", b"title", b"mi", b"mo", b"mn", b"ms", b"mtext",
                                       b"annotation-xml", b"mglyph", b"malignmark"})
#: Where the skip inside foreign content stops: every tag that may move the tree builder's stack beyond a
#: foreign element opening or closing (``font`` breaks out with some attributes).
FOREIGN_STOPS: Final = SPECIAL_NAMES | BREAKOUT | INTEGRATION_POINTS | {b"font"}
#: End tags that may move it: the roots, the integration points, and the two that break out.
FOREIGN_END_STOPS: Final = frozenset({b"svg", b"math", b"p", b"br"}) | INTEGRATION_POINTS

TAG_OPEN: Final = re.compile(rb"</?[A-Za-z][^\t\n\f\r />]*")
# One attribute (or the closing ">") after optional separators, as the WHATWG attribute states split it.
_ATTR: Final = re.compile(
    rb"[\t\n\f\r /]*(?:(>)|([^\t\n\f\r />][^\t\n\f\r /=>]*)"
    rb"(?:([\t\n\f\r ]*=[\t\n\f\r ]*)(?:\"([^\"]*)(\"?)|'([^']*)('?)|([^\t\n\f\r >]*)))?)"
)
#: Where a tag-shaped substring may start (what the safety net looks at).
CANDIDATE: Final = re.compile(rb"<[A-Za-z]")
# A whole start tag without "<" anywhere in it (so the safety net has nothing to look at). Each attribute is
# atomic and has no value only where no "=" follows: an unclosed quote cannot be read as a closed tag.
WHOLE_TAG: Final = re.compile(
    rb"<[A-Za-z][^\t\n\f\r /><]*+(?>[\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+"
    rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+)"""
    rb"|(?![\t\n\f\r ]*+=)))*+"
    rb"[\t\n\f\r /]*+>"
)
COMMENT_END: Final = re.compile(rb"--!?>")
#: Script data states: data, escaped (after "<!--"), double escaped (after "<!--<script>").
SCRIPT_DATA, SCRIPT_ESCAPED, SCRIPT_DOUBLE = 0, 1, 2
SCRIPT_RES: Final = (
    re.compile(rb"<!--|</script[\t\n\f\r />]", re.I),
    re.compile(rb"-->|</script[\t\n\f\r />]|<script[\t\n\f\r />]", re.I),
    re.compile(rb"-->|</script[\t\n\f\r />]", re.I),
)
RAW_END_RES: Final = {name: re.compile(rb"</" + name + rb"[\t\n\f\r />]", re.I) for name in RAWTEXT_NAMES}

#: One attribute: lowercased name, name start, name end, raw value (None without "="), end.
Attr = tuple[bytes, int, int, bytes | None, int]


class Tag:
    """A parsed tag; ``end`` is -1 when the bytes ran out before its ``>``."""

    __slots__ = ("start", "end", "name", "name_end", "attrs")

    def __init__(self, start: int, name: bytes, name_end: int) -> None:
        self.start = start
        self.end = -1
        self.name = name
        self.name_end = name_end
        self.attrs: list[Attr] = []

    def first_values(self) -> dict[bytes, bytes | None]:
        """First occurrence of each attribute wins, as in the browser."""
        first: dict[bytes, bytes | None] = {}
        for name, _s, _e, value, _end in self.attrs:
            first.setdefault(name, value)
        return first

    def interesting(self) -> bool:
        """Whether an attribute of it may fetch or is the site's consent markup."""
        return any(a[0] in INTERESTING_ATTRS for a in self.attrs)


def parse_tag(buf: bytes, start: int, limit: int) -> Tag:
    """Parse the tag at ``buf[start]`` (``<`` + letter or ``</`` + letter) within ``buf[:limit]``."""
    m = TAG_OPEN.match(buf, start, limit)
    assert m is not None
    name_end = m.end()
    tag = Tag(start, buf[start + (2 if buf[start + 1] == 0x2F else 1) : name_end].lower(), name_end)
    i = name_end
    if i >= limit:
        return tag
    attrs = tag.attrs
    while True:
        m = _ATTR.match(buf, i, limit)
        if m is None:
            return tag
        if m.group(1) is not None:
            tag.end = m.end()
            return tag
        value: bytes | None = None
        if m.group(3) is not None:
            value = m.group(4)
            if value is None:
                value = m.group(6)
                if value is None:
                    value = m.group(8)
        attrs.append((m.group(2).lower(), m.start(2), m.end(2), value, m.end()))
        i = m.end()
        if i >= limit:
            return tag


def is_alpha(byte: int) -> bool:
    """An ASCII letter (what may follow ``<`` or ``</`` in a tag)."""
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A
