"""Pages in UTF-16, the one encoding browsers read HTML in that is not ASCII-compatible: which pages a browser
reads so (https://encoding.spec.whatwg.org/#decode), and a rewriter that decodes, rewrites and encodes them back.
"""

from __future__ import annotations

import codecs

from .._cache import BoundedCache
from ._rewriter import HtmlRewriter
from ._settings import TagEvent

#: The Encoding Standard's labels for UTF-16 (what a browser decodes a page as when its Content-Type
#: names one of them and the body has no byte order mark), with the codec each means.
_UTF16_LABELS = {
    b"utf-16": "utf-16-le", b"utf-16le": "utf-16-le", b"unicode": "utf-16-le", b"unicodefeff": "utf-16-le",
    b"ucs-2": "utf-16-le", b"csunicode": "utf-16-le", b"iso-10646-ucs-2": "utf-16-le",
    b"utf-16be": "utf-16-be", b"unicodefffe": "utf-16-be",
}
#: The byte order marks a browser honours before anything else (UTF-8's: the page is ASCII-compatible).
_BOMS = ((b"\xef\xbb\xbf", None), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_BOM_LEADS = frozenset(bom[:1] for bom, _ in _BOMS)


def utf16_codec(first: bytes, content_type: bytes) -> tuple[str, int] | None:
    """The UTF-16 codec a browser reads this page with, and the length of its byte order mark; None for a
    page in an ASCII-compatible encoding (which the rewriter reads as it is).

    As the Encoding Standard decides: a byte order mark at the start of the body first, whatever the
    header says, then the ``charset`` of the Content-Type. (A ``<meta charset>`` naming UTF-16 is read as
    UTF-8 by browsers, so it does not count.) ``first`` is the start of the body, three bytes or more
    unless the body is shorter."""
    if first[:1] in _BOM_LEADS:
        for bom, codec in _BOMS:
            if first.startswith(bom):
                return None if codec is None else (codec, len(bom))
    # A site sends a handful of Content-Type values: each is read once (every page asks).
    known = _BY_CHARSET.get(content_type)
    if known is None:
        known = _BY_CHARSET.put(content_type, (_utf16_by_charset(content_type),))
    return known[0]


#: Content-Type value -> what :func:`_utf16_by_charset` says of it (in a 1-tuple: None is an answer).
_BY_CHARSET: BoundedCache[bytes, tuple[tuple[str, int] | None]] = BoundedCache(256)


def _utf16_by_charset(content_type: bytes) -> tuple[str, int] | None:
    lowered = content_type.lower()
    if b"16" not in lowered and b"unicode" not in lowered and b"ucs" not in lowered:
        return None  # no UTF-16 label can be in there
    for param in lowered.split(b";")[1:]:
        name, _, value = param.partition(b"=")
        if name.strip() == b"charset":
            label = value.strip().strip(b"\"'").strip()
            codec = _UTF16_LABELS.get(label)
            return None if codec is None else (codec, 0)
    return None


def could_start_a_bom(first: bytes) -> bool:
    """Whether ``first`` (fewer than three bytes) may be the start of a byte order mark: wait for more."""
    return any(bom.startswith(first) and bom != first for bom, _ in _BOMS)


class Utf16Rewriter:
    """An :class:`HtmlRewriter` for a page in UTF-16, the one encoding browsers read HTML in that is not
    ASCII-compatible (every tag name would be interleaved with NUL bytes, and no tag would be seen).

    Each piece is decoded, rewritten as UTF-8 text and encoded back; characters split across pieces
    (surrogate pairs, a byte of a code unit) are carried to the next. The byte order mark goes out as it
    came, and every byte outside the changed tags is the page's own: lone surrogates survive the round
    trip (``surrogatepass``), and an odd byte at the very end is passed on as it came.
    """

    def __init__(self, inner: HtmlRewriter, codec: str, bom: int = 0) -> None:
        self.inner = inner
        self.codec = codec
        self._bom = bom  # bytes of byte order mark still to pass on as they came
        self._decoder = codecs.getincrementaldecoder(codec)("surrogatepass")
        # The inner rewriter may stop in the middle of a UTF-8 sequence (it streams long regions).
        self._utf8 = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self._encoder = codecs.getincrementalencoder(codec)("surrogatepass")

    @property
    def events(self) -> list[TagEvent]:
        """The inner rewriter's tag events."""
        return self.inner.events

    def outcomes(self) -> tuple[tuple[str, bool], ...]:
        """The inner rewriter's per-vendor outcomes."""
        return self.inner.outcomes()

    def _out(self, utf8: bytes, final: bool = False) -> bytes:
        return self._encoder.encode(self._utf8.decode(utf8, final), final)

    def feed(self, data: bytes) -> bytes:
        """As :meth:`HtmlRewriter.feed`, for a piece of the UTF-16 body."""
        lead = b""
        if self._bom:
            lead, data = data[: self._bom], data[self._bom :]
            self._bom -= len(lead)
        text = self._decoder.decode(data)
        return lead + self._out(self.inner.feed(text.encode("utf-8", "surrogatepass")))

    def finish(self) -> bytes:
        """As :meth:`HtmlRewriter.finish`."""
        raw = self._decoder.getstate()[0]
        try:
            text = self._decoder.decode(b"", True)
            raw = b""
        except UnicodeDecodeError:
            text = ""  # an odd byte at the end: not a character; it goes out as it came, after the rest
        out = self.inner.feed(text.encode("utf-8", "surrogatepass")) if text else b""
        return self._out(out + self.inner.finish(), True) + raw

    def document(self, data: bytes) -> bytes:
        """As :meth:`HtmlRewriter.document` (no page memo: UTF-16 pages are rare)."""
        return self.feed(data) + self.finish()

    def held_back(self) -> bytes:
        """As :meth:`HtmlRewriter.held_back`, in the page's own encoding."""
        utf8 = self._utf8.getstate()[0] + self.inner.held_back()
        return utf8.decode("utf-8", "surrogatepass").encode(self.codec, "surrogatepass") + self._decoder.getstate()[0]
