"""What a rewriter is given (settings, handlers, limits) and what it reports (tag events), in the manner of
lol-html's ``Settings``: https://docs.rs/lol_html/latest/lol_html/struct.Settings.html"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol

from ..policy._catalog import Vendor
from ..policy._decision import Permissions
from ..policy._outcomes import outcome_key
from ..policy._site import SiteHosts


class TagClassifier(Protocol):
    """Maps URLs and inline script text to the vendor they belong to (implemented by the tag registry)."""

    def vendor_for_url(self, url: str) -> Vendor | None:
        """The vendor a fetchable URL belongs to; ``url`` is entity-decoded and its host normalized."""
        ...

    def vendor_for_inline(self, text: str) -> Vendor | None:
        """The vendor an inline ``<script>`` text belongs to."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """How far the rewriter reads ahead, and how much it remembers (every table is bounded)."""

    #: A raw-text region (script, style, comment …) longer than this is decided on its first bytes.
    region_cap: int = 4 * 1024 * 1024
    #: How far a tag-shaped substring in hidden text is followed before it is decided with what was seen.
    candidate_limit: int = 64 * 1024
    #: Nested ``<iframe srcdoc>`` documents are classified this deep.
    srcdoc_depth: int = 4
    #: Attribute values and start tags up to this length have their classification remembered …
    memo_value_max: int = 512
    #: … in tables of at most this many entries each.
    memo_entries: int = 4096
    #: Inline scripts up to this length are remembered, this many at most.
    memo_inline_max: int = 8 * 1024
    memo_inline_entries: int = 512
    #: Whole hidden regions (a script element, a noscript, a style, a comment) up to this length, this many.
    memo_region_max: int = 8 * 1024
    memo_region_entries: int = 256
    #: A remembered region is found again by its first bytes (and its length), before its end is searched for.
    memo_region_prefix: int = 16
    #: Whole bodies sent in one piece, up to this length, are remembered with what they became …
    memo_page_max: int = 1024 * 1024
    #: … until what is kept (pages, outputs, records) weighs this many bytes in all …
    memo_page_bytes: int = 16 * 1024 * 1024
    #: … found by their length and first and last bytes, then compared whole; this many share such a key.
    memo_page_edge: int = 64
    memo_page_siblings: int = 4
    #: What a remembered page costs besides its bytes (its key, the record and its tuples).
    memo_page_entry: int = 1024


DEFAULT_LIMITS: Final = Limits()


#: No host is the site's own: every absolute URL that no vendor claims is an unclassified third party.
NO_SITE: Final = SiteHosts()


@dataclass(frozen=True, slots=True)
class Settings:
    """Whom the rewriter asks about tags, what may fire, and its limits: the same for every page of a site
    but for the permissions, which are the visitor's, and the host the request was made to.

    A reference to a host that the classifier gives no vendor and that is not the site's own (``site``, or the
    request's ``host``) is an unclassified third party, decided by ``Permissions.unclassified``.
    """

    classifier: TagClassifier
    permissions: Permissions
    limits: Limits = DEFAULT_LIMITS
    #: The hosts that are the site's own on every request (``cookie_domain``, ``csp_allow``).
    site: SiteHosts = NO_SITE
    #: The host this request was made to (normalized, no port); ``""``: none is the page's own.
    host: str = ""


def page_context(settings: Settings) -> str:
    """The request's host when it alone makes a host the page's own (``""`` when the site owns it anyway): what,
    besides the permissions, decides a page's verdicts."""
    host = settings.host
    return host if host and not settings.site.owns(host) else ""


#: Draws the box shown instead of a refused embed (an iframe, a video …): ``(vendor, category) -> HTML``.
Placeholder = Callable[[Vendor | None, str], bytes]


class Handlers(NamedTuple):
    """What the rewriter puts into the page for this visitor (a named tuple: one is made for every page)."""

    #: Right after ``<head>`` (or before ``<body>``'s injection when there is no ``<head>``).
    head: bytes = b""
    #: Right after ``<body>`` (at the end when there is none).
    body: bytes = b""
    #: In front of a refused embed; ``None``: no placeholder.
    placeholder: Placeholder | None = None


@dataclass(frozen=True, slots=True)
class TagEvent:
    """One recognised tag: which vendor and category, whether it was let through, and for an unclassified third
    party (``vendor_id=None, category="unclassified"``) its host."""

    vendor_id: str | None  # None for explicit markup without a vendor, and for an unclassified third party
    category: str
    fired: bool  # False when neutralized
    host: str = ""

    @property
    def key(self) -> str:
        """What the counters count it under: the vendor id, ``unclassified:<host>`` or ``explicit:<category>``."""
        return outcome_key(self.vendor_id, self.category, self.host)
