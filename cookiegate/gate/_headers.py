"""The response headers as the gate sends them: what kind of document the response is for a browser, the
headers that keep shared caches from mixing visitors, and the ``Set-Cookie``, ``Link`` and ``Refresh`` headers
of refused vendors left out."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from .._cache import BoundedCache
from .._types import Headers
from .._urls import normalize_url, refresh_url
from ..policy._decision import Permissions
from ..rewrite import attribute_urls

#: What a response's Content-Type makes it for a browser: not a page, an HTML page (rewritten), or another
#: document a browser may render and run scripts in (not rewritten: an enforced policy instead).
NOT_A_PAGE, HTML_PAGE, OTHER_DOCUMENT = 0, 1, 2
#: Media types a browser sniffs (it renders HTML-looking bytes as HTML), and the XML ones it renders as
#: documents (XHTML, SVG, XML with a stylesheet); any ``+xml`` type counts too.
_SNIFFED_OR_XML: Final = frozenset(
    {b"", b"unknown/unknown", b"application/unknown", b"*/*", b"text/xml", b"application/xml"}
)
_PER_VISITOR_VARY: Final = ("Cookie", "Sec-GPC")
#: What a response that set neither Vary nor Cache-Control gets: the two headers, already made.
_PERSONAL_HEADERS: Final = (
    (b"vary", ", ".join(_PER_VISITOR_VARY).encode("latin-1")),
    (b"cache-control", b"private"),
)
_LINK_TARGET: Final = re.compile(rb"[ \t]*<([^>]*)>")
_IMAGESRCSET: Final = re.compile(rb';[ \t]*imagesrcset[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;]*))', re.IGNORECASE)


def page_kind(content_type: bytes | None) -> int:
    """:data:`NOT_A_PAGE`, :data:`HTML_PAGE` or :data:`OTHER_DOCUMENT` for a response's (last) Content-Type,
    ``None`` when it has none, which a browser sniffs (https://mimesniff.spec.whatwg.org/#rules-for-identifying-
    an-unknown-mime-type): an HTML-looking body is rendered as HTML."""
    if content_type is None:
        return OTHER_DOCUMENT
    if type(content_type) is not bytes:  # a bytearray (no dict key)
        return _page_kind(content_type)
    # Every response asks, and an app sends a handful of types: each is read once.
    found = _KINDS.get(content_type)
    if found is None:
        found = _KINDS.put(content_type, _page_kind(content_type))
    return found


#: :func:`page_kind` per Content-Type value (a function of the value alone).
_KINDS: Final[BoundedCache[bytes, int]] = BoundedCache(256)


def _page_kind(content_type: bytes) -> int:
    # Browsers strip the value's leading whitespace and read the type in any case.
    value = content_type.lstrip(b" \t")
    if value[:9].lower() == b"text/html":
        return HTML_PAGE
    media = bytes(value.split(b";", 1)[0].strip(b" \t").lower())  # bytes: a bytearray is no set member
    if media in _SNIFFED_OR_XML or media.endswith(b"+xml"):
        return OTHER_DOCUMENT
    return NOT_A_PAGE


def merge_vary(headers: Headers, names: tuple[str, ...]) -> None:
    """Add ``names`` to the ``Vary`` header without duplicating what is already there."""
    existing: list[str] = []
    rest = []
    for key, value in headers:
        if key == b"vary":
            existing.extend(v.strip() for v in value.decode("latin-1").split(",") if v.strip())
        else:
            rest.append((key, value))
    if "*" in existing:
        merged = ["*"]
    else:
        merged = existing + [n for n in names if n.lower() not in {e.lower() for e in existing}]
    headers[:] = rest + [(b"vary", ", ".join(merged).encode("latin-1"))]


def make_private(headers: Headers) -> None:
    """``Cache-Control: private`` so no shared cache mixes visitors (drops ``public`` and ``s-maxage``)."""
    directives: list[str] = []
    rest = []
    for key, value in headers:
        if key == b"cache-control":
            directives.extend(d.strip() for d in value.decode("latin-1").split(",") if d.strip())
        else:
            rest.append((key, value))
    kept = [d for d in directives if d.split("=")[0].strip().lower() not in ("public", "s-maxage", "private")]
    headers[:] = rest + [(b"cache-control", ", ".join(["private", *kept]).encode("latin-1"))]


def personalize(headers: Headers) -> Headers:
    """``Vary: Cookie, Sec-GPC`` and ``Cache-Control: private`` (lower-case names): what a response that depends
    on the visitor's consent needs so that no shared cache hands it to another visitor."""
    for key, _value in headers:
        if key == b"vary" or key == b"cache-control":
            # The app set its own: merged (rare; most pages set neither).
            merge_vary(headers, _PER_VISITOR_VARY)
            make_private(headers)
            return headers
    headers.extend(_PERSONAL_HEADERS)
    return headers


def cookie_name(set_cookie: bytes) -> str:
    """The name of the cookie a ``Set-Cookie`` value sets."""
    return set_cookie.split(b"=", 1)[0].strip().decode("latin-1")


def split_link_header(value: bytes) -> list[bytes]:
    """A ``Link`` header's link-values: split at the commas outside ``<...>`` and quoted strings (RFC 8288)."""
    parts: list[bytes] = []
    start, in_target, quoted, escaped = 0, False, False, False
    for i, c in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                quoted = False
        elif in_target:
            in_target = c != 0x3E  # ">"
        elif c == 0x3C:  # "<"
            in_target = True
        elif c == 0x22:
            quoted = True
        elif c == 0x2C:  # ","
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [part.strip(b" \t") for part in parts if part.strip(b" \t")]


def link_fetches(link_value: bytes) -> list[str] | None:
    """What one link-value of a ``Link`` header may make a browser fetch or contact (preload, prefetch,
    preconnect, modulepreload, a stylesheet): its target and its ``imagesrcset`` candidates, as URLs.
    ``None`` when it does not start with ``<target>`` (a browser ignores it)."""
    target = _LINK_TARGET.match(link_value)
    if target is None:
        return None
    urls = attribute_urls(b"link", b"href", target.group(1))
    for found in _IMAGESRCSET.finditer(link_value, target.end()):
        srcset = found.group(1) if found.group(1) is not None else found.group(2)
        urls.extend(attribute_urls(b"link", b"imagesrcset", srcset.replace(b'\\"', b'"')))
    return urls


def refresh_fetches(value: bytes) -> list[str]:
    """Where a ``Refresh`` header sends the browser, as URLs: its bytes read as UTF-8 and as Latin-1 (a header
    is the latter on the wire; browsers differ in how they read what is not ASCII)."""
    urls = []
    for text in {value.decode("utf-8", "replace"), value.decode("latin-1")}:
        url = refresh_url(text)
        if url is not None:
            urls.append(normalize_url(url))
    return [url for url in urls if url]


def filter_cookies(
    headers: Headers, category_for_cookie: Callable[[str], str | None], own: str, permissions: Permissions,
    on_error: Callable[[], None],
) -> Headers:
    """Drop each ``Set-Cookie`` of a refused category (the gateway's own cookie always stays)."""
    kept = []
    for key, value in headers:
        if key == b"set-cookie":
            name = cookie_name(value)
            if name != own:
                try:
                    category = category_for_cookie(name)
                except Exception:
                    on_error()
                    # Unknown because the classifier failed (not because no vendor claims it): drop it unless
                    # nothing at all can be refused.
                    if permissions.everything:
                        kept.append((key, value))
                    continue
                if category is not None and not permissions.fires(None, category):
                    continue
        kept.append((key, value))
    return kept


def filter_fetching(headers: Headers, refused: Callable[[str], bool], on_error: Callable[[], None]) -> Headers:
    """Drop what in ``Link`` and ``Refresh`` headers would reach a refused vendor or an unclassified third party
    (``refused``): a preload, prefetch or preconnect of a script, pixel or host, or a refresh to it. A browser acts
    on these itself, before and whatever the body says."""

    def any_refused(urls: list[str] | None) -> bool:
        return any(refused(url) for url in urls or ())

    kept: Headers = []
    for key, value in headers:
        try:
            if key == b"link":
                links = [link for link in split_link_header(value) if not any_refused(link_fetches(link))]
                if not links:
                    continue
                value = b", ".join(links)
            elif key == b"refresh" and any_refused(refresh_fetches(value)):
                continue
        except Exception:
            on_error()  # never fail the page: a header that cannot be read for vendors is not sent
            continue
        kept.append((key, value))
    return kept
