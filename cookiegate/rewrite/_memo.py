"""What a classifier said about markup it has seen, remembered per classifier in bounded tables.

A site sends the same asset URLs, start tags, inline snippets, hidden regions and whole pages on every page
view, and classifying them is most of the cost of a page. A classifier is read-only, so what it said about
the same bytes never changes; the tables are kept per classifier and per site (the hosts it owns). What a
region or a page became depends on the permissions too, and on the request's host where that alone makes a
host first party: both are part of those keys (a *token*). A start tag is remembered only when its verdict
depended on neither. Every table is a :class:`~cookiegate._cache.BoundedCache`: a flood of unique markup
only costs misses.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass

from .._cache import BoundedCache
from ..policy._catalog import Vendor
from ..policy._decision import Permissions
from ..policy._site import SiteHosts
from ._settings import NO_SITE, Limits, TagEvent

#: A refused tag: the vendor (None for explicit markup) and the category it was refused for.
Blocked = tuple[Vendor | None, str]
#: A piece of output that depends on the visitor: (offset in the output, length, which piece, its vendor).
Mark = tuple[int, int, int, Blocked | None]
#: What a fetching attribute reaches: its URLs' vendors, and the third-party hosts no vendor claims.
Reach = tuple[tuple[Vendor, ...], tuple[str, ...]]
#: What a token stands for: the permissions, and the request's host where it alone makes a host first party.
TokenKey = tuple[Permissions, str]
#: A hidden region's key: (kind, name, its bytes, permissions token).
RegionKey = tuple[int, bytes, bytes, int]
#: A page's key: (length, first bytes, last bytes, permissions token, placeholders wanted).
PageKey = tuple[int, bytes, bytes, int, bool]


@dataclass(frozen=True, slots=True)
class RegionResult:
    """What a whole hidden region became: its output and what the rewriter recorded on the way."""

    out: bytes
    events: tuple[TagEvent, ...]
    blocked: tuple[Blocked, ...]


@dataclass(frozen=True, slots=True)
class PageResult:
    """What a whole body became, and where the visitor's own pieces (injections, placeholders) went in it."""

    page: bytes
    out: bytes
    #: (offset in ``out``, length, which piece, the vendor and category of a placeholder), in order.
    marks: tuple[Mark, ...]
    events: tuple[TagEvent, ...]
    blocked: tuple[Blocked, ...]
    placeholders: int
    #: ``(vendor id or "-", fired)`` of each event: what the counters count, the same tuple every view.
    outcomes: tuple[tuple[str, bool], ...]

    def weight(self, limits: Limits) -> int:
        """What it keeps alive, in bytes: the page, its output and (roughly) the rest."""
        recorded = len(self.marks) + len(self.events) + len(self.blocked)
        return len(self.page) + len(self.out) + limits.memo_page_entry + 64 * recorded


class Memos:
    """The tables of one classifier (see the module's docstring)."""

    __slots__ = ("limits", "site", "urls", "tags", "plain", "inline", "regions", "region_lengths", "pages",
                 "_tokens", "_counter")

    def __init__(self, limits: Limits, site: SiteHosts) -> None:
        self.limits = limits
        self.site = site
        entries = limits.memo_entries
        #: (attribute, raw value) -> the vendors and third-party hosts its URLs reach.
        self.urls: BoundedCache[tuple[bytes, bytes], Reach] = BoundedCache(entries)
        #: The bytes of a whole start tag that closed and needed nothing -> its lowercased name (a script's
        #: start tag: nothing yet, its text decides).
        self.tags: BoundedCache[bytes, bytes] = BoundedCache(entries)
        #: Those of them that are simply passed through (no special element): the skip scan consumes them.
        self.plain: BoundedCache[bytes, bytes] = BoundedCache(entries)
        #: Inline script text -> the vendor it belongs to (or None) and the third-party hosts it requests.
        self.inline: BoundedCache[bytes, tuple[Vendor | None, tuple[str, ...]]] = BoundedCache(
            limits.memo_inline_entries
        )
        #: A whole hidden region -> what it became.
        self.regions: BoundedCache[RegionKey, RegionResult] = BoundedCache(limits.memo_region_entries)
        #: (kind, name, first bytes of a remembered region) -> the lengths of remembered regions.
        self.region_lengths: BoundedCache[tuple[int, bytes, bytes], tuple[int, ...]] = BoundedCache(
            limits.memo_region_entries
        )
        #: Whole pages, newest last, weighed in bytes.
        self.pages: BoundedCache[PageKey, tuple[PageResult, ...]] = BoundedCache(
            max(1, limits.memo_page_bytes // limits.memo_page_entry), weight=limits.memo_page_bytes
        )
        self._tokens: BoundedCache[TokenKey, int] = BoundedCache(entries)
        self._counter = itertools.count()

    def token(self, permissions: Permissions, context: str = "") -> int:
        """A small number standing for ``permissions`` and ``context`` (the request's host where it alone makes a
        host first party) in the keys of these tables: hashed once per page rather than at every lookup, and
        never reused for others."""
        key = (permissions, context)
        found = self._tokens.get(key)
        if found is None:
            found = self._tokens.put(key, next(self._counter))
        return found

    def remember_page(self, key: PageKey, known: PageResult) -> None:
        """Keep a page with what it became; the oldest page under the same key goes past the sibling cap."""
        weight = known.weight(self.limits)
        if self.pages.weight + weight > self.limits.memo_page_bytes:
            self.pages.clear()  # also when only a sibling is replaced: what was replaced still counts
        siblings = self.pages.get(key) or ()
        if len(siblings) >= self.limits.memo_page_siblings:
            siblings = siblings[1:]
        self.pages.put(key, (*siblings, known), weight)


_MEMOS: weakref.WeakKeyDictionary[object, Memos] = weakref.WeakKeyDictionary()
_last: tuple[weakref.ref[object], Memos] | None = None


def memos_for(classifier: object, limits: Limits, site: SiteHosts = NO_SITE) -> Memos | None:
    """The tables of ``classifier`` for ``site`` (made with ``limits``); None when it cannot be weakly
    referenced."""
    global _last
    last = _last
    if last is not None and last[0]() is classifier and last[1].limits is limits and last[1].site is site:
        return last[1]  # the one classifier a gateway has, asked once per page view
    try:
        memos = _MEMOS.get(classifier)
        if memos is None or memos.limits != limits or memos.site != site:
            memos = _MEMOS[classifier] = Memos(limits, site)
        _last = (weakref.ref(classifier), memos)
        return memos
    except TypeError:  # not weakly referenceable (or unhashable): classify every time
        return None
