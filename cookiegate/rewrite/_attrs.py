"""What an attribute makes a browser fetch: which attributes fetch on which elements, and the URLs in them,
decoded as the browser decodes them (character references, CSS escapes, URL lists)."""

from __future__ import annotations

import html
import re
from typing import Final

from .._urls import normalize_url, refresh_url
from . import _css
from ._tokenizer import LIST_ATTRS, NAVIGATION_ELEMENTS, URL_ATTRS

_LIST_SPLIT: Final = re.compile(r"[\s,]+")


def decode(value: bytes) -> str:
    """An attribute value as the browser reads it: character references decoded."""
    text = value.decode("utf-8", "replace")
    return html.unescape(text) if "&" in text else text


def raw_urls(element: bytes, attr: bytes, value: bytes) -> list[str]:
    """The URLs an attribute value holds, decoded but not normalized."""
    text = decode(value)
    if attr in LIST_ATTRS:
        return [u for u in _LIST_SPLIT.split(text) if u]
    if attr == b"style":
        return _css.urls(text)
    if attr == b"content":
        url = refresh_url(text)
        return [] if url is None else [url]
    return [text]


def attribute_urls(element: bytes, attr: bytes, value: bytes) -> list[str]:
    """The URLs an attribute value holds, each as the browser's URL parser reads it (see :mod:`cookiegate._urls`)."""
    return [url for url in map(normalize_url, raw_urls(element, attr, value)) if url]


#: ``<link>`` relations that name a page (navigation or annotation, https://html.spec.whatwg.org/#linkTypes): a
#: link whose every relation is one of them fetches nothing (a canonical URL, another language's page).
_ANNOTATION_RELS: Final = frozenset(
    {"alternate", "amphtml", "author", "bookmark", "canonical", "external", "help", "license", "me", "next",
     "nofollow", "noopener", "noreferrer", "opener", "prev", "privacy-policy", "shortlink", "tag",
     "terms-of-service", "webmention", "pingback", "index", "first", "last", "up", "home", "archives"}
)


def fetches(element: bytes, attr: bytes, first: dict[bytes, bytes | None]) -> bool:
    """Whether ``attr`` on ``element`` makes the browser fetch (links and forms navigate: not fetches, nor does
    a ``<link>`` that only names a page, such as ``rel=canonical`` or ``rel=alternate hreflang=…``)."""
    if attr == b"href" or attr == b"xlink:href":
        if element == b"link":
            rels = decode(first.get(b"rel") or b"").lower().split()
            return not rels or not _ANNOTATION_RELS.issuperset(rels)
        return element not in NAVIGATION_ELEMENTS
    if attr == b"content":
        equiv = first.get(b"http-equiv")
        return element == b"meta" and equiv is not None and decode(equiv).strip().lower() == "refresh"
    return attr in URL_ATTRS
