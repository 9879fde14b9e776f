"""Streaming, browser-faithful HTML rewriter: neutralize tracker tags of refused categories on the server.

Bytes in, bytes out, no ASGI. :class:`HtmlRewriter` scans the document as a browser's HTML tokenizer does
(WHATWG "data", tag, comment, RAWTEXT, RCDATA, PLAINTEXT and script-data states, including the escaped and
double-escaped script states) and rewrites only the start tags of elements that belong to a refused
category, so the browser never fetches them. Every other byte is passed through unchanged.

How it stays fast: one scan consumes text and "boring" tags (no fetchable attribute, no special element),
and start tags seen before that needed nothing; Python only runs at tags that matter, at comments and at
raw-text elements. The scan is a compiled regular expression (``_SKIP``, with :func:`_skip_python`), or the
same scan written in C (``cookiegate/_scan.c``, built at install where a compiler exists; tests hold it to
the regular expression, which stays its specification). Interesting attribute and tag names are
recognised by negative lookbehinds at the end of each name (one class test for most names) rather than an
alternation tried at its start. What the classifier said about an attribute value, a whole start tag or
an inline script is remembered per classifier in bounded tables (:class:`_Memos`), since a site sends the
same markup on every page view; so is what a whole hidden region (a vendor's inline script, its
``<noscript>`` pixel, a ``<style>``) became for a given set of allowed categories, unless the safety net had
to read or edit past the region's end; such a region is found again by its first bytes. A body sent in
one piece is remembered whole too (:meth:`HtmlRewriter.document`): the same page asked for again is
compared with the one remembered and replayed, with the visitor's own banner and placeholders put back in.
When every category is allowed, the rest of the body passes through untouched once the ``<body>``
injection is out (see :class:`HtmlRewriter`).

How it stays safe when it disagrees with a browser (foreign content, ``<select>``, scripting disabled,
hostile markup): the rewriter hides *at least* what a browser hides (raw-text elements are raw even inside
``<svg>``, ``<![CDATA[`` always runs to ``]]>``, ``<noscript>`` is raw text), and every tag-shaped
substring that it does not treat as a real tag -- inside comments, raw text, script text, noscript,
CDATA, bogus comments and inside the attributes of real tags -- is parsed as a tag too (the "safety net")
and neutralized in place when it would fetch from a refused category. The safety-net tag may run past
the end of the hidden region that contains it; its edits (attribute renames and inserted attributes with
unquoted values) never add or remove ``<``, ``>`` or quotes, so they cannot change how either the browser
or this tokenizer splits the rest of the document.

Limits (documented choices):

* An inline ``<script>`` is held until its end tag so it can be classified by its text; a raw-text
  region (script, style, comment, ...) longer than :data:`_REGION_CAP` bytes is classified on its first
  ``_REGION_CAP`` bytes and then streamed.
* A start tag is held until its ``>``; a tag that never closes (an unbalanced quote) holds the rest of
  the document, as it does in the browser.
* A safety-net tag is parsed over at most :data:`_CANDIDATE_LIMIT` bytes.
* CSS inside ``<style>`` elements: every ``url()`` and quoted string (``@import "..."``) that reaches a
  refused vendor becomes ``data:,``; CSS that still reaches one once its escapes are resolved is dropped
  whole. A ``<style>`` longer than :data:`_REGION_CAP` is streamed unrewritten past the cap (the CSP
  covers it).
* The bytes are read as an ASCII-compatible encoding: UTF-8, windows-1252, ISO-8859-x, EUC-*, and
  Shift_JIS, Big5 and GB18030, whose multi-byte characters never contain a byte of markup (``<``, ``>``,
  ``=``, quotes, ``/``, whitespace). A page a browser reads as UTF-16 goes through :class:`Utf16Rewriter`,
  which decodes it and rewrites its text (:func:`utf16_codec` says when).
"""

from __future__ import annotations

import codecs
import html
import importlib
import os
import re
import weakref
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote

from .catalog import Vendor
from .policy._categories import CATEGORIES

__all__ = ["HtmlRewriter", "TagClassifier", "TagEvent", "Utf16Rewriter", "utf16_codec"]

#: A raw-text region (script, style, comment, ...) longer than this is decided on its first bytes.
_REGION_CAP = 4 * 1024 * 1024
#: How far a safety-net tag is followed before it is decided with what was seen.
_CANDIDATE_LIMIT = 64 * 1024
#: Nested ``<iframe srcdoc>`` documents are classified this deep.
_MAX_SRCDOC_DEPTH = 4
#: Attribute values and start tags up to this length have their classification remembered ...
_MEMO_VALUE_MAX = 512
#: ... in tables of at most this many entries each (cleared when full): 2 MB each at worst ...
_MEMO_SIZE = 4096
#: ... and inline scripts up to this length, at most this many (4 MB at worst) ...
_MEMO_INLINE_MAX = 8 * 1024
_MEMO_INLINE_SIZE = 512
#: ... and whole hidden regions (a script element, a noscript, a style, a comment) up to this length, per
#: set of allowed categories, at most this many (4 MB at worst, their outputs being about as long).
_MEMO_REGION_MAX = 8 * 1024
_MEMO_REGION_SIZE = 256
#: A remembered region is found again by its first bytes (and its length), before its end is searched for.
_REGION_PREFIX = 16
#: Whole bodies sent in one piece, up to this length, are remembered with what they became ...
_MEMO_PAGE_MAX = 1024 * 1024
#: ... per set of allowed categories, until what is kept (pages, outputs, records) reaches this many bytes
#: in all (then the table is cleared) ...
_MEMO_PAGE_BYTES = 16 * 1024 * 1024
#: ... found by their length, their first and last bytes, and then compared whole; this many pages share
#: such a key (pages that differ only in the middle, such as a per-request token) before the oldest goes.
_MEMO_PAGE_EDGE = 64
#: What an entry costs besides its bytes (its key, the record and its tuples), counted against the cap.
_MEMO_PAGE_ENTRY = 1024
_MEMO_PAGE_SIBLINGS = 4

class _Memos:
    """What a classifier said about bytes it has seen, kept per classifier (it is read-only, so an answer
    never changes). A site serves the same asset URLs, tags and inline snippets on every page view, and
    classifying them (entity decoding, URL normalization, host-suffix walks, inline signatures) is most of
    the cost of a page. Each table is cleared when full: a flood of unique markup only costs misses."""

    __slots__ = ("urls", "tags", "plain", "inline", "regions", "region_lengths", "pages", "page_bytes")

    def __init__(self) -> None:
        #: (attribute, raw value) -> the vendors its URLs reach.
        self.urls: dict[tuple[bytes, bytes], tuple[Vendor, ...]] = {}
        #: the bytes of a whole start tag (no "<" inside) that needed nothing (a script's start tag: nothing
        #: yet, its text decides) -> its lowercased name.
        self.tags: dict[bytes, bytes] = {}
        #: those of them that are simply passed through (no special element): the skip scan consumes them.
        self.plain: set[bytes] = set()
        #: inline script text -> the vendor it belongs to (or None).
        self.inline: dict[bytes, Vendor | None] = {}
        #: (region kind and name, a whole hidden region's bytes, the allowed categories) -> what it became.
        self.regions: dict[tuple[int, bytes, bytes, frozenset[str]], _RegionResult] = {}
        #: (region kind and name, its first _REGION_PREFIX bytes) -> the lengths of remembered regions.
        self.region_lengths: dict[tuple[int, bytes, bytes], tuple[int, ...]] = {}
        #: (length, first and last bytes, allowed categories, placeholders wanted) -> whole pages, newest last.
        self.pages: dict[tuple[int, bytes, bytes, frozenset[str], bool], tuple[_PageResult, ...]] = {}
        #: What the pages table keeps alive: the pages and their outputs, in bytes.
        self.page_bytes = 0


_MEMOS: weakref.WeakKeyDictionary[object, _Memos] = weakref.WeakKeyDictionary()


def _memos_for(classifier: object) -> _Memos | None:
    global _last_memos
    last = _last_memos
    if last is not None and last[0]() is classifier:
        return last[1]  # the one classifier a gateway has, asked once per page view
    try:
        memos = _MEMOS.get(classifier)
        if memos is None:
            memos = _MEMOS[classifier] = _Memos()
        _last_memos = (weakref.ref(classifier), memos)
        return memos
    except TypeError:  # not weakly referenceable (or unhashable): classify every time
        return None


_last_memos: tuple[weakref.ref[object], _Memos] | None = None


def _remember(table: dict[Any, Any], key: Any, value: Any, size: int = _MEMO_SIZE) -> None:
    if len(table) >= size:
        table.clear()
    table[key] = value


class TagClassifier(Protocol):
    """Maps URLs and inline script text to the vendor they belong to (implemented by the tag registry)."""

    def vendor_for_url(self, url: str) -> Vendor | None:
        """The vendor a fetchable URL belongs to; ``url`` is entity-decoded, maybe protocol-relative."""
        ...

    def vendor_for_inline(self, text: str) -> Vendor | None:
        """The vendor an inline ``<script>`` text belongs to."""
        ...


@dataclass(frozen=True, slots=True)
class TagEvent:
    """One recognised tag: which vendor and category, and whether it was let through."""

    vendor_id: str | None  # None for explicit markup without a vendor
    category: str
    fired: bool  # False when neutralized


# ---------------------------------------------------------------------------------------------------
# Tokenizer tables and patterns
# ---------------------------------------------------------------------------------------------------

_WS = rb"\t\n\f\r "
_RAWTEXT_NAMES = frozenset({b"style", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript", b"title",
                            b"textarea"})  # RCDATA (title, textarea) ends the same way as RAWTEXT
_PLACEHOLDER_NAMES = frozenset({b"iframe", b"embed", b"object", b"video"})
#: Attributes that can make a browser fetch a URL (``href`` only off ``<a>``/``<area>``, ``content`` only
#: on ``<meta http-equiv=refresh>``, ``style`` only when it holds a URL).
_URL_ATTRS = frozenset({b"src", b"srcset", b"imagesrcset", b"href", b"xlink:href", b"data", b"poster",
                        b"background", b"ping", b"codebase", b"archive", b"manifest", b"lowsrc", b"dynsrc",
                        b"attributionsrc", b"srcdoc", b"style", b"content"})
_EXPLICIT_ATTRS = frozenset({b"data-cookiegate", b"data-category"})
_INTERESTING_ATTRS = _URL_ATTRS | _EXPLICIT_ATTRS
_LIST_ATTRS = frozenset({b"srcset", b"imagesrcset", b"archive", b"ping", b"attributionsrc"})
_NAVIGATION_ELEMENTS = frozenset({b"a", b"area"})

_TAG_OPEN = re.compile(rb"</?[A-Za-z][^\t\n\f\r />]*")
# One attribute (or the closing ">") after optional separators, as the WHATWG attribute states split it.
_ATTR = re.compile(
    rb"[\t\n\f\r /]*(?:(>)|([^\t\n\f\r />][^\t\n\f\r /=>]*)"
    rb"(?:([\t\n\f\r ]*=[\t\n\f\r ]*)(?:\"([^\"]*)(\"?)|'([^']*)('?)|([^\t\n\f\r >]*)))?)"
)
_CANDIDATE = re.compile(rb"<[A-Za-z]")
# A whole start tag without "<" anywhere in it (so the safety net has nothing to look at).
_WHOLE_TAG = re.compile(
    rb"<[A-Za-z][^\t\n\f\r /><]*+(?:[\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+"
    rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+))?)*+"""
    rb"[\t\n\f\r /]*+>"
)
_SCRIPT_END_ANY = re.compile(rb"</script[\t\n\f\r />]", re.I)
_COMMENT_END = re.compile(rb"--!?>")
# Script data states: data, escaped (after "<!--"), double escaped (after "<!--<script>").
_SCRIPT_DATA, _SCRIPT_ESCAPED, _SCRIPT_DOUBLE = 0, 1, 2
_SCRIPT_RES = (
    re.compile(rb"<!--|</script[\t\n\f\r />]", re.I),
    re.compile(rb"-->|</script[\t\n\f\r />]|<script[\t\n\f\r />]", re.I),
    re.compile(rb"-->|</script[\t\n\f\r />]", re.I),
)
_RAW_END_RES = {name: re.compile(rb"</" + name + rb"[\t\n\f\r />]", re.I) for name in _RAWTEXT_NAMES}


def _not_ending_in(names: Collection[bytes]) -> bytes:
    """Negative lookbehinds: the bytes just matched do not end with any of ``names`` (one per length).

    Checking the *end* of an attribute or tag name this way costs one comparison per length instead of
    an alternation tried at its start; a name that merely ends like an interesting one (``data-src``) is
    only sent to the slow path, which decides it exactly.
    """
    by_length: dict[int, list[bytes]] = {}
    for name in names:
        by_length.setdefault(len(name), []).append(re.escape(name))
    checks = b"".join(rb"(?<!" + b"|".join(sorted(group)) + rb")" for _, group in sorted(by_length.items()))
    # Most names end in a letter no interesting name ends in: one class test settles them.
    last = sorted({n[-1:].lower() for n in names} | {n[-1:].upper() for n in names})
    return rb"(?:(?<![" + re.escape(b"".join(last)) + rb"])|" + checks + rb")"


def _boring_attr(interesting: Collection[bytes]) -> bytes:
    """One attribute that cannot make the browser fetch anything (no ``<`` in it, for the safety net)."""
    value = rb"""(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+(?=[\t\n\f\r >])|(?=>))"""
    # a style value without "(", "&" or "\\" cannot hold a url(), even encoded
    safe_style = (rb"""(?:"[^"<(&\\]*+"|'[^'<(&\\]*+'"""
                  rb"""|[^\t\n\f\r >"'<(&\\][^\t\n\f\r ><(&\\]*+(?=[\t\n\f\r >])|(?=>))""")
    no_eq = rb"(?![\t\n\f\r ]*+=)"
    eq = rb"[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    return (
        rb"[\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+(?:"
        + _not_ending_in(set(interesting) | {b"style"}) + rb"(?:" + eq + value + rb"|" + no_eq + rb")"
        rb"|(?<=style)(?:" + eq + safe_style + rb"|" + no_eq + rb"))"
    )


def _plain_attr() -> bytes:
    """One attribute of an end tag (ignored by the browser): only ``<`` matters, for the safety net."""
    return (rb"[\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+"
            rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+))?""")


_SPECIAL_NAMES = _RAWTEXT_NAMES | {b"script", b"plaintext", b"html", b"head", b"body", b"meta", b"a", b"area"}
_A_INTERESTING = _INTERESTING_ATTRS - {b"href", b"xlink:href"}
# Text, a lone "<", and complete tags that cannot matter; stops at the first construct that may. Ordered
# by frequency; the branches exclude each other by their first bytes or by the tag name.
_SKIP = re.compile(
    rb"(?:[^<]++"
    rb"|</[A-Za-z][^\t\n\f\r /><\"'=]*+>"  # the usual end tag; the next branch would match it the same way
    rb"|</[A-Za-z][^\t\n\f\r /><]*+(?:" + _plain_attr() + rb")*+[\t\n\f\r /]*+>"
    # <a> before the general start tag: the general branch refuses it only after reading its name
    rb"|<(?:a|area)(?=[\t\n\f\r />])(?:" + _boring_attr(_A_INTERESTING) + rb")*+[\t\n\f\r /]*+>"
    rb"|<[A-Za-z][^\t\n\f\r /><]*+" + _not_ending_in({b"<" + n for n in _SPECIAL_NAMES})
    + rb"(?:" + _boring_attr(_INTERESTING_ATTRS) + rb")*+[\t\n\f\r /]*+>"
    rb"|<(?=[^A-Za-z!/?])"
    rb"|<!--(?!-?>)(?:[^<-]++|-(?!-!?>))*+--!?>"  # a comment with nothing tag-shaped inside
    rb")*+",
    re.I,
)

#: Start tags that do something after they are passed on (injections, raw text): never in ``_Memos.plain``.
_PASS_THROUGH_EXCEPT = _RAWTEXT_NAMES | {b"script", b"plaintext", b"html", b"head", b"body"}


def _skip_python(buf: bytes, pos: int, plain: set[bytes] | None) -> int:
    """Where the skip scan stops: ``_SKIP`` from ``pos``, then on over every start tag whose bytes up to
    its first ``>`` are in ``plain`` (start tags seen before that need nothing), and ``_SKIP`` again.

    The specification of the C accelerator (``cookiegate/_scan.c``), which must return the same."""
    n = len(buf)
    while True:
        skipped = _SKIP.match(buf, pos)
        assert skipped is not None  # the pattern also matches the empty string
        end = skipped.end()
        # Every key is a whole tag whose only ">" outside quotes is its last byte, and a tag tokenizes the
        # same wherever it stands: the bytes up to the next ">" either are such a tag or no key at all.
        if plain is None or end + 1 >= n or not _is_alpha(buf[end + 1]):
            return end
        gt = buf.find(b">", end)
        if gt < 0 or buf[end : gt + 1] not in plain:
            return end
        pos = gt + 1


_Attr = tuple[bytes, int, int, bytes | None, int]  # lowercased name, name start, name end, raw value, end


class _Tag:
    """A parsed tag; ``end`` is -1 when the bytes ran out before its ``>``."""

    __slots__ = ("start", "end", "name", "name_end", "attrs")

    def __init__(self, start: int, name: bytes, name_end: int) -> None:
        self.start = start
        self.end = -1
        self.name = name
        self.name_end = name_end
        self.attrs: list[_Attr] = []

    def first_values(self) -> dict[bytes, bytes | None]:
        """First occurrence of each attribute wins, as in the browser."""
        first: dict[bytes, bytes | None] = {}
        for name, _s, _e, value, _end in self.attrs:
            first.setdefault(name, value)
        return first


def _parse_tag(buf: bytes, start: int, limit: int) -> _Tag:
    """Parse the tag at ``buf[start]`` (``<`` + letter or ``</`` + letter) within ``buf[:limit]``."""
    m = _TAG_OPEN.match(buf, start, limit)
    assert m is not None
    name_end = m.end()
    tag = _Tag(start, buf[start + (2 if buf[start + 1] == 0x2F else 1) : name_end].lower(), name_end)
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


# ---------------------------------------------------------------------------------------------------
# URL extraction (what the browser would fetch, decoded as the browser decodes it)
# ---------------------------------------------------------------------------------------------------

_SCHEME_AND_SLASHES = re.compile(r"((?:https?|wss?|ftp):)?([/]*)(.*)", re.I | re.S)
_AUTHORITY_END = re.compile(r"[/?#]")
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\(.)", re.S)
_CSS_URL = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))|\"([^\"]*)\"|'([^']*)'", re.I)
_CSS_URL_BYTES = re.compile(_CSS_URL.pattern.encode("ascii"), re.I)
_REFRESH_URL = re.compile(r"[;,]\s*(?:url\s*=\s*)?(.*)", re.I | re.S)
_LIST_SPLIT = re.compile(r"[\s,]+")


def _decode(value: bytes) -> str:
    text = value.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


def _normalize_url(url: str) -> str:
    """What the URL parser would see: tabs/newlines removed, ``\\`` as ``/``, host percent-decoded."""
    url = url.replace("\t", "").replace("\n", "").replace("\r", "").strip(_C0_AND_SPACE).replace("\\", "/")
    m = _SCHEME_AND_SLASHES.match(url)
    assert m is not None
    scheme, slashes, rest = m.group(1) or "", m.group(2), m.group(3)
    if not scheme and len(slashes) < 2:
        return url  # path-relative: no host of its own
    end = _AUTHORITY_END.search(rest)
    authority, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    authority = authority.rpartition("@")[2]
    if "%" in authority:
        authority = unquote(authority)
    return f"{scheme}//{authority.translate(_DOTS).lower()}{tail}"


def _css_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _CSS_ESCAPE.sub(one, text) if "\\" in text else text


def _raw_urls(element: bytes, attr: bytes, value: bytes) -> list[str]:
    text = _decode(value)
    if attr in _LIST_ATTRS:
        return [u for u in _LIST_SPLIT.split(text) if u]
    if attr == b"style":
        return [next(g for g in m.groups() if g is not None) for m in _CSS_URL.finditer(_css_unescape(text))]
    if attr == b"content":
        m = _REFRESH_URL.search(text)
        return [m.group(1).strip().strip("'\"")] if m else []
    return [text]


def _urls(element: bytes, attr: bytes, value: bytes) -> Iterator[str]:
    for url in _raw_urls(element, attr, value):
        url = _normalize_url(url)
        if url:
            yield url


def _fetches(element: bytes, attr: bytes, first: dict[bytes, bytes | None]) -> bool:
    """Whether ``attr`` on ``element`` makes the browser fetch (links and forms navigate: not fetches)."""
    if attr == b"href" or attr == b"xlink:href":
        return element not in _NAVIGATION_ELEMENTS
    if attr == b"content":
        equiv = first.get(b"http-equiv")
        return element == b"meta" and equiv is not None and _decode(equiv).strip().lower() == "refresh"
    return attr in _URL_ATTRS


_UNQUOTED_SAFE = re.compile(r"[^A-Za-z0-9_.:+\-]")


def _unquoted(value: str) -> bytes:
    """An attribute value written without quotes (safe inside JS strings and comments): unusual
    characters become numeric character references, so no ``<``, ``>``, quote or space is written."""
    return _UNQUOTED_SAFE.sub(lambda m: f"&#{ord(m.group())};", value).encode("ascii") or b'""'


def _has_explicit_markup_python(data: bytes) -> bool:
    """Whether ``data`` holds ``data-cookiegate`` or ``data-category`` in any case (one pass for both)."""
    lowered = data.lower()
    i = lowered.find(b"data-c")
    while i >= 0:
        if lowered.startswith(b"ookiegate", i + 6) or lowered.startswith(b"ategory", i + 6):
            return True
        i = lowered.find(b"data-c", i + 6)
    return False


def _is_alpha(byte: int) -> bool:
    return 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A


#: The C module's API version this package was written against; a build with another one is not used.
_SCAN_API = 8


def _load_native() -> Any:
    """The C accelerator, unless it is missing, stale or switched off (``COOKIEGATE_PURE_PYTHON=1``)."""
    if os.environ.get("COOKIEGATE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        _scan = importlib.import_module(__package__ + "._scan")
    except ImportError:
        return None
    if getattr(_scan, "API", None) != _SCAN_API:
        return None
    return _scan


_native = _load_native()
#: Which skip scan this process uses: ``"c"`` (the accelerator) or ``"python"``.
SCAN_BACKEND = "c" if _native is not None else "python"
_skip: Callable[[bytes, int, set[bytes] | None], int]
_explicit_markup: Callable[[bytes], bool]
if _native is not None:
    _skip = _native.Skipper(
        tuple(sorted(_SPECIAL_NAMES)),
        tuple(sorted(_INTERESTING_ATTRS | {b"style"})),
        tuple(sorted(_A_INTERESTING | {b"style"})),
    ).skip
    _explicit_markup = _native.has_explicit_markup
else:
    _skip = _skip_python
    _explicit_markup = _has_explicit_markup_python


# ---------------------------------------------------------------------------------------------------
# The rewriter
# ---------------------------------------------------------------------------------------------------

_COMMENT, _BOGUS, _CDATA, _RAW, _SCRIPT, _PLAINTEXT = range(6)
_Edit = tuple[int, int, bytes]


class _Region:
    """A hidden region being collected: offsets are relative to its base (the first byte not emitted)."""

    __slots__ = ("kind", "name", "content", "scan", "state", "fresh", "tag_pending", "split", "looked_up")

    def __init__(self, kind: int, content: int, name: bytes = b"") -> None:
        self.kind = kind
        self.name = name
        self.content = content  # where the hidden text starts
        self.scan = content  # where the search for its end resumes
        self.state = _SCRIPT_DATA
        self.fresh = True  # comment: the abrupt "<!-->" / "<!--->" endings are still possible
        self.tag_pending = kind == _SCRIPT  # the script start tag waits for the script text
        self.split = False  # decided on its first bytes (past the cap): no longer one unit
        self.looked_up = False  # already missed the region memo with the bytes at hand (start-tag path)


@dataclass(frozen=True, slots=True)
class _RegionResult:
    """What a whole hidden region became: its output and what the rewriter recorded on the way."""

    out: bytes
    events: tuple[TagEvent, ...]
    blocked: tuple[tuple[Vendor | None, str], ...]


#: The output pieces that depend on the visitor, put in again when a remembered page is replayed.
_HEAD_MARK, _BODY_MARK, _PLACEHOLDER_MARK = range(3)
_Mark = tuple[int, int, int, tuple[Vendor | None, str] | None]


@dataclass(frozen=True, slots=True)
class _PageResult:
    """What a whole body became, and where the visitor's own pieces (injections, placeholders) went in it."""

    page: bytes
    out: bytes
    #: (offset in ``out``, length, which piece, the vendor and category of a placeholder), in order.
    marks: tuple[_Mark, ...]
    events: tuple[TagEvent, ...]
    blocked: tuple[tuple[Vendor | None, str], ...]
    placeholders: int
    #: ``(vendor id or "-", fired)`` of each event: what the counters count, the same tuple every view.
    outcomes: tuple[tuple[str, bool], ...]


def _page_size(known: _PageResult) -> int:
    """What a remembered page keeps alive, in bytes: the page, its output and (roughly) the rest."""
    recorded = len(known.marks) + len(known.events) + len(known.blocked)
    return len(known.page) + len(known.out) + _MEMO_PAGE_ENTRY + 64 * recorded


@dataclass(slots=True)
class _Verdict:
    vendor: Vendor | None
    category: str
    explicit: bool


class HtmlRewriter:
    """Incremental rewriter for one ``text/html`` response body.

    ``feed`` returns the bytes that are ready (maybe ``b""``) and holds back only an incomplete tag or
    an undecided region (inline script, comment, raw text); ``finish`` flushes the rest. The output for
    any chunking of the input is identical to the output for the whole document at once.

    Fast path: when every category is allowed, nothing can be neutralized; once the ``<body>`` injection
    is out and the bytes received so far hold no explicit markup (``data-cookiegate``,
    ``data-category``), the rest of the body passes through untouched. Tags after that point are then
    not recorded in :attr:`events`, and explicit markup that first appears in a *later* chunk of a
    streamed body stays inert (the safe side). Whole-body responses are decided exactly.
    """

    def __init__(
        self,
        *,
        classifier: TagClassifier,
        allowed: Collection[str],
        head_inject: bytes = b"",
        body_inject: bytes = b"",
        placeholder: Callable[[Vendor | None, str], bytes] | None = None,
    ) -> None:
        self._classifier = classifier
        memos = _memos_for(classifier)
        self._memos = memos
        self._tag_memo = memos.tags if memos is not None else None
        #: Start tags the skip scan consumes as it goes (known to need nothing): None in srcdoc documents.
        self._plain = memos.plain if memos is not None else None
        self._region_memo = memos.regions if memos is not None else None
        self._region_lengths = memos.region_lengths if memos is not None else None
        self._allowed = (
            allowed if isinstance(allowed, frozenset) and "necessary" in allowed else frozenset(allowed) | {"necessary"}
        )
        self._head_inject = head_inject
        self._body_inject = body_inject
        self._placeholder = placeholder
        #: Every recognised tag, in document order (safety-net finds only when neutralized).
        self.events: list[TagEvent] = []
        self._blocked: list[tuple[Vendor | None, str]] = []
        #: All-allowed fast path: once the body injection is out, pass the rest through untouched.
        self._fast = self._allowed.issuperset(CATEGORIES)
        # Every other piece of state starts at its class-level default below: one rewriter is made per
        # page view, and most of them only replay a remembered page.

    _buf = b""
    _region: _Region | None = None
    _head_done = False
    _body_done = False
    _saw_document = False
    _finished = False
    _depth = 0
    _keep_from = 0
    _edits: tuple[_Edit, ...] | list[_Edit] = ()
    #: How far the last safety-net pass read (buffer offset before its edits); placeholders emitted.
    _net_reach = 0
    _placeholders = 0
    _passthrough = False
    #: Recording a whole page (see :meth:`document`): where the visitor's own pieces went, as offsets in the
    #: output, and those put in the current output list, as (index, which, payload), not yet placed.
    _marks: list[_Mark] | None = None
    _pending: list[tuple[int, int, tuple[Vendor | None, str] | None]]
    _emitted = 0
    _fed = False
    _outcomes: tuple[tuple[str, bool], ...] | None = None

    # -- public API --------------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Add the next chunk of the body; returns the rewritten bytes that are ready."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        self._fed = True
        if self._passthrough:
            return bytes(data)
        self._buf = self._buf + data if self._buf else bytes(data)
        return self._run(final=False)

    def held_back(self) -> bytes:
        """The input received but not yet emitted: a construct (tag, comment, script, region) that the
        chunks so far have not completed. All input before it has been rewritten and emitted."""
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
                self._put(tail, self._head_inject, _HEAD_MARK)
            if not self._body_done:
                self._put(tail, self._body_inject, _BODY_MARK)
            self._head_done = self._body_done = True
            if len(tail) > 1:
                if self._marks is not None:
                    self._emitted -= len(out)  # counted again below, with what follows it
                out = self._joined(tail)
        return out

    def document(self, data: bytes) -> bytes:
        """A whole body given in one piece: the same as ``feed(data) + finish()``.

        A site sends the same pages again and again, so what a page became is remembered (per set of
        allowed categories, up to :data:`_MEMO_PAGE_MAX` bytes a page, :data:`_MEMO_PAGE_BYTES` in all): a
        page seen before is compared whole with the one remembered and, when equal, its output is replayed
        with this visitor's own injections and placeholders put where the first one's went. The output is a
        function of the page's bytes, the allowed categories and the classifier alone (the tables above are
        caches of it), so the replay is what rewriting would give.
        """
        memos = self._memos
        if (
            memos is None
            or self._buf
            or self._fed
            or self._finished
            or not 0 < len(data) <= _MEMO_PAGE_MAX
        ):
            return self.feed(data) + self.finish()
        data = bytes(data)
        key = (len(data), data[:_MEMO_PAGE_EDGE], data[-_MEMO_PAGE_EDGE:], self._allowed, self._placeholder is not None)
        siblings = memos.pages.get(key, ())
        for known in siblings:
            if known.page is data or known.page == data:
                return self._replay_page(known)
        self._marks, self._pending = [], []
        out = self.feed(data) + self.finish()
        known = _PageResult(data, out, tuple(self._marks), tuple(self.events), tuple(self._blocked),
                            self._placeholders, self.outcomes())
        self._marks = None
        size = _page_size(known)
        if memos.page_bytes + size > _MEMO_PAGE_BYTES:
            memos.pages.clear()
            memos.page_bytes = 0
            siblings = ()
        if len(siblings) >= _MEMO_PAGE_SIBLINGS:
            memos.page_bytes -= _page_size(siblings[0])
            siblings = siblings[1:]
        memos.pages[key] = (*siblings, known)
        memos.page_bytes += size
        return out

    def outcomes(self) -> tuple[tuple[str, bool], ...]:
        """``(vendor id or "-", fired)`` for every event, in order (call once the body is finished)."""
        if self._outcomes is None or len(self._outcomes) != len(self.events):
            self._outcomes = tuple((event.vendor_id or "-", event.fired) for event in self.events)
        return self._outcomes

    def _replay_page(self, known: _PageResult) -> bytes:
        """Emit what a remembered page became, with this visitor's injections and placeholders."""
        self.events.extend(known.events)
        self._blocked.extend(known.blocked)
        self._placeholders = known.placeholders
        self._outcomes = known.outcomes
        self._finished = True
        out = known.out
        own: list[bytes] = []
        same = True
        for offset, length, which, payload in known.marks:
            if which == _HEAD_MARK:
                piece = self._head_inject
            elif which == _BODY_MARK:
                piece = self._body_inject
            else:
                assert payload is not None and self._placeholder is not None
                piece = self._placeholder(*payload)
            own.append(piece)
            same = same and len(piece) == length and out.startswith(piece, offset)
        if same:
            # Visitors who speak the same language on the same page get the same pieces: the very bytes
            # sent before go out again, not a copy.
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

    def _put(
        self, out: list[bytes], piece: bytes, which: int, payload: tuple[Vendor | None, str] | None = None
    ) -> None:
        """Append a piece that depends on the visitor, noting where it went when a page is being recorded."""
        if self._marks is not None:
            self._pending.append((len(out), which, payload))
        out.append(piece)

    def _joined(self, out: list[bytes]) -> bytes:
        """``b"".join(out)``, placing the pieces noted by :meth:`_put` when a page is being recorded."""
        joined = b"".join(out)
        marks = self._marks
        if marks is not None:
            offset = self._emitted
            index = 0
            for at, which, payload in self._pending:
                while index < at:
                    offset += len(out[index])
                    index += 1
                marks.append((offset, len(out[at]), which, payload))
            self._pending.clear()
            self._emitted += len(joined)
        return joined

    # -- driver ------------------------------------------------------------------------------------

    def _run(self, final: bool) -> bytes:
        out: list[bytes] = []
        pos = 0
        while True:
            if self._region is not None:
                pos = self._region_step(pos, final, out)
                if pos < 0:
                    break
                continue
            buf = self._buf
            end = _skip(buf, pos, self._plain)
            if end > pos:
                out.append(buf[pos:end])
                pos = end
            if pos >= len(buf):
                break
            pos = self._markup(pos, final, out)
            if pos < 0:
                break
            if self._fast and self._body_done and self._region is None:
                # Every category is allowed and the banner is in: nothing after this point can change
                # unless explicit markup wants activating. Without any, the rest goes out as it came.
                rest = self._buf[pos:]
                self._fast = False
                if not _explicit_markup(rest):
                    out.append(rest)
                    pos = len(self._buf)
                    self._passthrough = True
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
        """Handle the construct at ``buf[pos] == b"<"`` that the skip pattern stopped at."""
        buf = self._buf
        n = len(buf)
        if pos + 1 >= n:
            if final:
                out.append(buf[pos:])
                return n
            return self._wait(pos)
        c = buf[pos + 1]
        if _is_alpha(c):
            return self._start_tag(pos, final, out)
        if c == 0x2F:  # "/"
            if pos + 2 >= n:
                if final:
                    out.append(buf[pos:])
                    return n
                return self._wait(pos)
            if _is_alpha(buf[pos + 2]):
                return self._end_tag(pos, final, out)
            if buf[pos + 2] == 0x3E:  # "</>" is dropped by the browser: nothing to do
                out.append(b"</>")
                return pos + 3
            self._region = _Region(_BOGUS, 2)
            return pos
        if c == 0x21:  # "!"
            head = buf[pos : pos + 9]
            if head.startswith(b"<!--"):
                self._region = _Region(_COMMENT, 4)
            elif head == b"<![CDATA[":
                # Only foreign content has CDATA; elsewhere it is a bogus comment that ends at the first
                # ">". Running to "]]>" always hides at least what the browser hides (the safety net
                # covers the rest).
                self._region = _Region(_CDATA, 9)
            elif not final and len(head) < 9 and (b"<!--".startswith(head) or b"<![CDATA[".startswith(head)):
                return self._wait(pos)
            else:
                self._region = _Region(_BOGUS, 2)
            return pos
        if c == 0x3F:  # "?"
            self._region = _Region(_BOGUS, 2)
            return pos
        out.append(b"<")
        return pos + 1

    # -- tags --------------------------------------------------------------------------------------

    def _parse_with_net(self, pos: int, final: bool) -> _Tag | None:
        """Parse the real tag at ``pos`` after neutralizing tag-shaped text inside it (None: wait)."""
        buf = self._buf
        tag = _parse_tag(buf, pos, len(buf))
        if tag.end < 0 and not final:
            return None
        if not self._safety_net(pos + 1, tag.end if tag.end >= 0 else len(buf), final):
            return None
        if self._buf is not buf:
            tag = _parse_tag(self._buf, pos, len(self._buf))
        return tag

    def _end_tag(self, pos: int, final: bool, out: list[bytes]) -> int:
        tag = self._parse_with_net(pos, final)
        if tag is None:
            return self._wait(pos)
        end = tag.end if tag.end >= 0 else len(self._buf)
        out.append(self._buf[pos:end])
        return end

    def _start_tag(self, pos: int, final: bool, out: list[bytes]) -> int:
        memo = self._tag_memo
        if memo is not None:
            # Seen before? Every key is a whole tag whose only ">" outside quotes is its last byte, and a tag
            # tokenizes the same wherever it stands, so the bytes up to the next ">" either are such a tag
            # (the same bytes end the same way) or are no key at all (that ">" sits inside a quoted value,
            # where no whole tag can end). A hit skips the whole-tag pattern.
            gt = self._buf.find(b">", pos)
            if gt >= 0:
                data = self._buf[pos : gt + 1]
                name = memo.get(data)
                if name is not None:
                    return self._known_start_tag(name, data, pos, gt + 1, final, out)
        whole = _WHOLE_TAG.match(self._buf, pos) if memo is not None else None
        if whole is not None:
            # A complete start tag with no "<" inside: if these exact bytes were seen before and needed
            # nothing, they need nothing now (same classifier; the verdict does not depend on "allowed").
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
        if name == b"script":
            # Nothing is decided on a script's start tag alone (it waits for the text): its bytes and name
            # are all a second sighting needs.
            if whole is not None and memo is not None and whole.end() == end and end - pos <= _MEMO_VALUE_MAX:
                self._remember_tag(self._buf[pos:end], name)
            self._region = _Region(_SCRIPT, end - pos)
            return pos
        data = self._buf[pos:end]
        verdict: _Verdict | None = None
        if any(a[0] in _INTERESTING_ATTRS for a in tag.attrs):
            data, verdict = self._rewrite_tag(tag, data, None, out)
        if verdict is None and whole is not None and memo is not None and whole.end() == end:
            if len(data) <= _MEMO_VALUE_MAX:
                self._remember_tag(data, name)
        out.append(data)
        return self._after_start_tag(name, end, final, out)

    def _remember_tag(self, data: bytes, name: bytes) -> None:
        """Remember a whole start tag that needed nothing (and let the skip scan consume a plain one)."""
        memo = self._tag_memo
        if memo is None:
            return
        _remember(memo, data, name)
        plain = self._plain
        if plain is not None and name not in _PASS_THROUGH_EXCEPT:
            if len(plain) >= _MEMO_SIZE:
                plain.clear()
            plain.add(data)

    def _known_start_tag(
        self, name: bytes, data: bytes, pos: int, end: int, final: bool, out: list[bytes]
    ) -> int:
        """A start tag found in the memo: as the slow path would have handled it."""
        if name == b"script":
            # The whole script element may be a remembered region too (a site's snippets are).
            known = self._known_region(_SCRIPT, b"", pos, out) if not final else -1
            if known >= 0:
                return known
            self._region = _Region(_SCRIPT, end - pos)
            self._region.looked_up = not final
            return pos
        out.append(data)
        return self._after_start_tag(name, end, final, out)

    def _after_start_tag(self, name: bytes, end: int, final: bool, out: list[bytes]) -> int:
        if name == b"head" or name == b"body" or name == b"html":
            self._inject(name, out)
        if name in _RAWTEXT_NAMES:
            known = self._known_region(_RAW, name, end, out) if not final else -1
            if known >= 0:
                return known
            self._region = _Region(_RAW, 0, name)
            self._region.looked_up = not final
        elif name == b"plaintext":
            self._region = _Region(_PLAINTEXT, 0)
        return end

    def _inject(self, name: bytes, out: list[bytes]) -> None:
        self._saw_document = True
        if name == b"head" and not self._head_done and not self._body_done:
            self._put(out, self._head_inject, _HEAD_MARK)
            self._head_done = True
        elif name == b"body" and not self._body_done:
            if not self._head_done:
                self._put(out, self._head_inject, _HEAD_MARK)
                self._head_done = True
            self._put(out, self._body_inject, _BODY_MARK)
            self._body_done = True

    def _rewrite_tag(
        self, tag: _Tag, data: bytes, inline: bytes | None, out: list[bytes]
    ) -> tuple[bytes, _Verdict | None]:
        """Classify a real start tag; return its bytes, neutralized or activated as the verdict says."""
        first = tag.first_values()
        verdict = self._classify(tag.name, first, inline)
        if verdict is None:
            return data, None
        vendor, category = verdict.vendor, verdict.category
        fired = category in self._allowed
        self.events.append(TagEvent(vendor.id if vendor else None, category, fired))
        if fired:
            edits = self._activation_edits(tag, first) if verdict.explicit else []
        else:
            self._blocked.append((vendor, category))
            edits = self._neutralize_edits(tag, first, verdict, insert=True, tidy=True)
            if self._placeholder is not None and tag.name in _PLACEHOLDER_NAMES:
                self._placeholders += 1
                self._put(out, self._placeholder(vendor, category), _PLACEHOLDER_MARK, (vendor, category))
        return (_apply(data, edits, tag.start) if edits else data), verdict

    def _classify(
        self, name: bytes, first: dict[bytes, bytes | None], inline: bytes | None
    ) -> _Verdict | None:
        explicit: str | None = None
        marker = first.get(b"data-cookiegate")
        if marker:
            explicit = _decode(marker).strip().lower() or None
        if explicit is None and name == b"script" and first.get(b"data-category") and self._is_plain(first):
            explicit = _decode(first[b"data-category"] or b"").strip().lower() or None
        vendor: Vendor | None = None
        refused: Vendor | None = None
        for attr, value in first.items():
            if value is None or attr not in _URL_ATTRS or not _fetches(name, attr, first):
                continue
            for found in self._vendors(name, attr, value):
                vendor = vendor or found
                if refused is None and found.category not in self._allowed:
                    refused = found
        if explicit is not None:
            return _Verdict(vendor, explicit, True)
        if refused is not None or vendor is not None:
            chosen = refused or vendor
            assert chosen is not None
            return _Verdict(chosen, chosen.category, False)
        if name == b"script" and inline is not None and b"src" not in first:
            script_vendor = self._inline_vendor(inline)
            if script_vendor is not None:
                return _Verdict(script_vendor, script_vendor.category, False)
        return None

    @staticmethod
    def _is_plain(first: dict[bytes, bytes | None]) -> bool:
        return _decode(first.get(b"type") or b"").strip().lower() == "text/plain"

    def _vendors(self, name: bytes, attr: bytes, value: bytes) -> tuple[Vendor, ...]:
        if attr == b"srcdoc":
            return tuple(self._srcdoc_vendors(value))
        memo = self._memos.urls if self._memos is not None else None
        key = (attr, value)
        found = memo.get(key) if memo is not None else None
        if found is None:
            vendor_for_url = self._classifier.vendor_for_url
            found = tuple(v for v in map(vendor_for_url, _urls(name, attr, value)) if v is not None)
            if memo is not None and len(value) <= _MEMO_VALUE_MAX:
                _remember(memo, key, found)
        return found

    def _inline_vendor(self, inline: bytes) -> Vendor | None:
        memo = self._memos.inline if self._memos is not None else None
        if memo is not None and inline in memo:
            return memo[inline]
        vendor = self._classifier.vendor_for_inline(inline[:_REGION_CAP].decode("utf-8", "replace"))
        if memo is not None and len(inline) <= _MEMO_INLINE_MAX:
            _remember(memo, inline, vendor, _MEMO_INLINE_SIZE)
        return vendor

    def _srcdoc_vendors(self, value: bytes) -> Iterator[Vendor]:
        """An ``<iframe srcdoc>`` is a document: it counts as its first refused tag."""
        if self._depth >= _MAX_SRCDOC_DEPTH:
            return
        inner = HtmlRewriter(classifier=self._classifier, allowed=self._allowed)
        inner._depth = self._depth + 1
        # A tag's or a region's verdict can depend on depth (srcdoc nesting): not for the shared memos.
        inner._tag_memo = None
        inner._plain = None
        inner._region_memo = None
        inner._region_lengths = None
        inner.feed(_decode(value).encode("utf-8", "replace"))
        inner.finish()
        for vendor, _category in inner._blocked:
            if vendor is not None:
                yield vendor
                return

    def _neutralize_edits(self, tag: _Tag, first: dict[bytes, bytes | None], verdict: _Verdict,
                          *, insert: bool, tidy: bool = False) -> list[_Edit]:
        name = tag.name
        edits: list[_Edit] = []
        for attr, nstart, nend, value, _end in tag.attrs:
            if attr in _URL_ATTRS and _fetches(name, attr, first):
                if attr == b"style" and (value is None or not _raw_urls(name, attr, value)):
                    continue
            elif not (name == b"script" and attr == b"type"):
                continue
            edits.append((nstart, nend, b"data-cookiegate-" + attr))
        if insert:
            added = [b"data-cookiegate-blocked=" + _unquoted(verdict.category)]
            if verdict.vendor is not None and verdict.vendor.id:
                added.append(b"data-cookiegate-vendor=" + _unquoted(verdict.vendor.id))
            if name == b"script":
                added.insert(0, b"type=text/plain")
            # The trailing space keeps an unquoted value from running into a "/" (or, in hidden text,
            # from forming "-->" with what follows); before whitespace or ">" in a real tag it is noise.
            after = self._buf[tag.name_end : tag.name_end + 1]
            tail = b"" if after and (after in b"\t\n\f\r " or (tidy and after == b">")) else b" "
            edits.append((tag.name_end, tag.name_end, b" " + b" ".join(added) + tail))
        edits.sort(key=lambda e: e[0])
        return edits

    @staticmethod
    def _activation_edits(tag: _Tag, first: dict[bytes, bytes | None]) -> list[_Edit]:
        """An allowed ``<script type="text/plain" data-category=...>`` becomes a running script."""
        if tag.name != b"script" or not HtmlRewriter._is_plain(first):
            return []
        wanted = _decode(first.get(b"data-type") or b"").strip() or "text/javascript"
        for attr, nstart, _nend, _value, end in tag.attrs:
            if attr == b"type":
                quoted = html.escape(wanted, quote=True).encode("ascii", "xmlcharrefreplace")
                return [(nstart, end, b'type="' + quoted + b'"')]
        return []

    # -- the safety net ----------------------------------------------------------------------------

    def _safety_net(self, start: int, stop: int, final: bool) -> bool:
        """Neutralize every refused tag-shaped substring that begins in ``buf[start:stop]``.

        Returns False when a candidate runs past the bytes received so far (wait for more). Edits may
        fall after ``stop``; they only rename attributes and add attributes, so no later split changes.
        """
        buf = self._buf
        n = len(buf)
        edits: list[_Edit] = []
        blocked: list[_Verdict] = []
        reach = stop
        for m in _CANDIDATE.finditer(buf, start, stop):
            p = m.start()
            limit = min(n, p + _CANDIDATE_LIMIT)
            tag = _parse_tag(buf, p, limit)
            if tag.end < 0 and not final and limit == n and n < p + _CANDIDATE_LIMIT:
                return False
            reach = max(reach, tag.end if tag.end >= 0 else limit)
            name = tag.name
            if name != b"script" and not any(a[0] in _INTERESTING_ATTRS for a in tag.attrs):
                continue
            first = tag.first_values()
            inline: bytes | None = None
            if name == b"script" and b"src" not in first:
                text_start = tag.end if tag.end >= 0 else limit
                text_limit = min(n, text_start + _CANDIDATE_LIMIT)
                close = _SCRIPT_END_ANY.search(buf, text_start, text_limit)
                if close is None and not final and text_limit == n and n < text_start + _CANDIDATE_LIMIT:
                    return False
                reach = max(reach, close.end() if close else text_limit)
                inline = buf[text_start : close.start() if close else text_limit]
            verdict = self._classify(name, first, inline)
            if verdict is None or verdict.category in self._allowed:
                continue
            # Insert only after an ordinary element name: a name like "b<" or "x--" would let the
            # inserted text split a "</style" or "-->" that ends the region for the browser.
            edits.extend(e for e in self._neutralize_edits(tag, first, verdict, insert=name.isalnum())
                         if buf[max(0, e[0] - 2) : e[0]] != b"</")
            blocked.append(verdict)
        for verdict in blocked:
            vendor = verdict.vendor
            self.events.append(TagEvent(vendor.id if vendor else None, verdict.category, False))
            self._blocked.append((vendor, verdict.category))
        self._net_reach = max([reach, *(e[1] for e in edits)])
        if edits:
            self._edits = _merge(edits)
            self._buf = _apply(buf, self._edits, 0)
        return True

    def _shift(self, pos: int) -> int:
        """Where ``pos`` moved to after the last safety-net edits."""
        return pos + sum(len(rep) - (end - start) for start, end, rep in self._edits if end <= pos)

    # -- hidden regions ----------------------------------------------------------------------------

    def _region_step(self, base: int, final: bool, out: list[bytes]) -> int:
        region = self._region
        assert region is not None
        # Not again with the same bytes right after the start tag's own lookup missed (a later step, with
        # more bytes after a wait, looks again).
        looked_up, region.looked_up = region.looked_up, False
        if not looked_up and not final and not region.split and self._region_lengths is not None:
            end = self._known_region(region.kind, region.name, base, out)
            if end >= 0:
                return end
        closed = self._find_close(region, base, final)
        content = base + region.content
        if closed is None:
            if len(self._buf) - content < _REGION_CAP + 64:
                return self._wait(base)
            return self._split_region(region, base, content, final, out)
        content_end, close_end = closed
        # A whole region seen before, for the same allowed categories, becomes what it became then: its
        # bytes decide everything done below (tokenizer states, safety net, classification), as long as
        # nothing read past its end (checked when it was remembered) and it is not the end of the stream.
        memo = self._region_memo if not final and not region.split else None
        key: tuple[int, bytes, bytes, frozenset[str]] | None = None
        if memo is not None and close_end - base <= _MEMO_REGION_MAX:
            key = (region.kind, region.name, self._buf[base:close_end], self._allowed)
            known = memo.get(key)
            if known is not None:
                return self._replay(known, close_end, out)
        marks = (len(out), len(self.events), len(self._blocked), self._placeholders)
        before = self._buf
        if not self._safety_net(content, close_end, final):
            return self._wait(base)
        self_contained = self._net_reach <= close_end
        if self._buf is not before:
            content_end, close_end = self._shift(content_end), self._shift(close_end)
        buf = self._buf
        if region.tag_pending:
            out.append(self._script_tag(base, content, buf[content:content_end], out))
            out.append(buf[content:close_end])
        elif region.kind == _RAW and region.name == b"style":
            out.append(buf[base:content])
            out.append(self._rewrite_css(buf[content:content_end]))
            out.append(buf[content_end:close_end])
        else:
            out.append(buf[base:close_end])
        self._region = None
        if key is not None and memo is not None and self_contained and self._placeholders == marks[3]:
            # Placeholders depend on the visitor (language, page): a region that emitted one is not kept.
            result = _RegionResult(b"".join(out[marks[0] :]), tuple(self.events[marks[1] :]),
                                   tuple(self._blocked[marks[2] :]))
            _remember(memo, key, result, _MEMO_REGION_SIZE)
            lengths = self._region_lengths
            length = close_end - base
            if lengths is not None and length >= _REGION_PREFIX:
                prefix = (region.kind, region.name, key[2][:_REGION_PREFIX])
                seen = lengths.get(prefix, ())
                if length not in seen:
                    _remember(lengths, prefix, (*seen[-7:], length), _MEMO_REGION_SIZE)
        return close_end

    def _known_region(self, kind: int, name: bytes, base: int, out: list[bytes]) -> int:
        """A remembered region that starts at ``base``: emit what it became and return its end (-1: none).

        Where a region ends is decided by its own bytes (each end search stops at the first match, and
        the end tag's ``>`` is the region's last byte), so bytes at ``base`` equal to a whole remembered
        region of the same kind are that region, ending where it ended: its end need not be searched for.
        """
        buf = self._buf
        n = len(buf)
        lengths = self._region_lengths
        memo = self._region_memo
        if lengths is None or memo is None or n - base < _REGION_PREFIX:
            return -1
        for length in lengths.get((kind, name, buf[base : base + _REGION_PREFIX]), ()):
            end = base + length
            if end > n:
                continue
            known = memo.get((kind, name, buf[base:end], self._allowed))
            if known is not None:
                return self._replay(known, end, out)
        return -1

    def _replay(self, known: _RegionResult, end: int, out: list[bytes]) -> int:
        """Emit what a remembered region became, as if it had just been rewritten; it ends at ``end``."""
        out.append(known.out)
        self.events.extend(known.events)
        self._blocked.extend(known.blocked)
        self._region = None
        return end

    def _rewrite_css(self, css: bytes) -> bytes:
        """Point every ``url()``/``@import`` of a refused vendor in a ``<style>`` element at ``data:,``.

        Positions come from the raw text, so everything else stays byte-identical. CSS escapes can spell
        a URL (``url(https://www\\2e facebook.com/tr)``) or even the ``url`` keyword itself; when the
        unescaped text still reaches a refused vendor after the raw-text pass, the whole element's CSS is
        dropped (fail-safe: the page loses a style, the visitor is not tracked).
        """
        if b"(" not in css and b'"' not in css and b"'" not in css:
            return css
        edits: list[_Edit] = []
        for m in _CSS_URL_BYTES.finditer(css):
            group = next(g for g in range(1, 6) if m.group(g) is not None)
            verdict = self._css_verdict(_css_unescape(m.group(group).decode("utf-8", "replace")))
            if verdict is not None:
                edits.append((m.start(group), m.end(group), b"data:,"))
        rewritten = _apply(css, edits, 0) if edits else css
        if b"\\" in rewritten:
            unescaped = _css_unescape(rewritten.decode("utf-8", "replace"))
            for found in _CSS_URL.finditer(unescaped):
                if self._css_verdict(next(g for g in found.groups() if g is not None)) is not None:
                    return b"/* cookiegate: blocked */"
        return rewritten

    def _css_verdict(self, url: str) -> Vendor | None:
        """The refused vendor ``url`` (from CSS) reaches, recording the tag event; None when it may load."""
        url = _normalize_url(url)
        vendor = self._classifier.vendor_for_url(url) if url else None
        if vendor is None:
            return None
        fired = vendor.category in self._allowed
        self.events.append(TagEvent(vendor.id, vendor.category, fired))
        if fired:
            return None
        self._blocked.append((vendor, vendor.category))
        return vendor

    def _split_region(self, region: _Region, base: int, content: int, final: bool, out: list[bytes]) -> int:
        """A region past the cap: decide it on its first ``_REGION_CAP`` bytes and stream on."""
        cut = content + _REGION_CAP
        before = self._buf
        if not self._safety_net(content, cut, final):
            return self._wait(base)
        scan = base + region.scan
        if scan < cut:  # an end tag that began before the cut is still open: keep waiting for it
            return self._wait(base)
        if self._buf is not before:
            cut, scan = self._shift(cut), self._shift(scan)
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
        tag = _parse_tag(self._buf, base, content)
        return self._rewrite_tag(tag, self._buf[base:content], text, out)[0]

    def _find_close(self, region: _Region, base: int, final: bool) -> tuple[int, int] | None:
        """(end of hidden text, end of the region) or None when the end is not in the buffer yet."""
        buf = self._buf
        n = len(buf)
        i = base + region.scan
        kind = region.kind
        if kind == _COMMENT:
            if region.fresh:
                c = base + region.content
                if buf[c : c + 1] == b">":
                    return c, c + 1
                if buf[c : c + 2] == b"->":
                    return c, c + 2
                if n - c < 2 and not final:
                    return None
                region.fresh = False
            m = _COMMENT_END.search(buf, i)
            if m is not None:
                return m.start(), m.end()
            resume = n - 3
        elif kind == _BOGUS:
            j = buf.find(b">", i)
            if j >= 0:
                return j, j + 1
            resume = n
        elif kind == _CDATA:
            j = buf.find(b"]]>", i)
            if j >= 0:
                return j, j + 3
            resume = n - 2
        elif kind == _PLAINTEXT:
            resume = n
        else:
            if kind == _RAW:
                m = _RAW_END_RES[region.name].search(buf, i)
                resume = n - len(region.name) - 3
            else:
                m, resume = self._script_end(region, i, n)
            if m is not None:
                end_tag = _parse_tag(buf, m.start(), n)
                if end_tag.end >= 0:
                    return m.start(), end_tag.end
                if final:
                    return m.start(), n
                region.scan = m.start() - base
                return None
        if final:
            return n, n
        region.scan = max(i, resume) - base
        return None

    def _script_end(self, region: _Region, i: int, n: int) -> tuple[re.Match[bytes] | None, int]:
        """Follow the script data / escaped / double-escaped states to the ``</script`` that ends it."""
        buf = self._buf
        state = region.state
        while True:
            m = _SCRIPT_RES[state].search(buf, i)
            if m is None:
                region.state = state
                return None, max(i, n - 9)
            token = m.group()
            if token == b"<!--":
                state, i = _SCRIPT_ESCAPED, m.start() + 2  # the two dashes already count towards "-->"
            elif token == b"-->":
                state, i = _SCRIPT_DATA, m.end()
            elif token[1] == 0x2F:  # "</script"
                if state != _SCRIPT_DOUBLE:
                    region.state = state
                    return m, i
                state, i = _SCRIPT_ESCAPED, m.end()
            else:  # "<script" inside an escaped section
                state, i = _SCRIPT_DOUBLE, m.end()


def _merge(edits: list[_Edit]) -> list[_Edit]:
    """Sort edits and drop any that overlaps one already kept (two candidates renaming the same name)."""
    edits.sort(key=lambda e: (e[0], e[1]))
    kept: list[_Edit] = []
    last_end = -1
    for edit in edits:
        if edit[0] < last_end or (kept and edit[0] == kept[-1][0] and edit[1] == kept[-1][1]):
            continue
        kept.append(edit)
        last_end = edit[1]
    return kept


def _apply(data: bytes, edits: list[_Edit], offset: int) -> bytes:
    """Apply sorted, non-overlapping edits (positions are ``offset``-based) to ``data``."""
    parts: list[bytes] = []
    i = 0
    for start, end, rep in edits:
        parts.append(data[i : start - offset])
        parts.append(rep)
        i = end - offset
    parts.append(data[i:])
    return b"".join(parts)


# ---------------------------------------------------------------------------------------------------
# pages in UTF-16
# ---------------------------------------------------------------------------------------------------

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
    try:
        return _BY_CHARSET[content_type]
    except KeyError:
        if len(_BY_CHARSET) >= 256:
            _BY_CHARSET.clear()
        found = _BY_CHARSET[content_type] = _utf16_by_charset(content_type)
        return found


#: Content-Type value -> what :func:`_utf16_by_charset` says of it.
_BY_CHARSET: dict[bytes, tuple[str, int] | None] = {}


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
