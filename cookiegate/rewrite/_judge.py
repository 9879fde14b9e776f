"""The verdict on one tag: which vendor (or the site's explicit category, or an unclassified third party) it
belongs to, and whether the visitor's permissions let it fire. Every tag, attribute URL, inline script and CSS
URL is decided here.

A URL no vendor claims is an unclassified third party when its host is not the site's own (``Settings.site``)
nor the request's (``Settings.host``). What the memos keep never depends on the request: a URL's vendors and
third-party hosts are remembered as the site sees them, and the request's own host is taken out per request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._cache import BoundedCache
from .._urls import normalize_url, split_url
from ..policy._catalog import Vendor
from ..policy._categories import UNCLASSIFIED
from ._attrs import attribute_urls, decode, fetches
from ._css import urls as css_urls
from ._loaders import requested_urls, runs
from ._memo import Blocked, Memos, Reach
from ._settings import Settings, TagEvent, page_context
from ._tokenizer import URL_ATTRS


@dataclass(slots=True)
class Verdict:
    """A tag's vendor (None for the site's own markup and for an unclassified third party) and the category it is
    decided by."""

    vendor: Vendor | None
    category: str
    #: Decided by the site's own markup (``data-cookiegate``, ``data-category``), not by a URL or script.
    explicit: bool
    #: The host of an unclassified third party (category ``unclassified``), else ``""``.
    host: str = ""


#: Reaches nothing: no vendor, no third-party host.
NOTHING: Reach = ((), ())


class Judge:
    """Decides tags for one page, and records each decision (``events``) and each refusal (``blocked``)."""

    __slots__ = ("_classifier", "_permissions", "_limits", "_site", "_urls", "_inline", "_srcdoc", "events",
                 "blocked", "context", "local")

    def __init__(self, settings: Settings, memos: Memos | None, srcdoc: Callable[[bytes], Reach]) -> None:
        self._classifier = settings.classifier
        self._permissions = settings.permissions
        self._limits = settings.limits
        self._site = settings.site
        self._urls: BoundedCache[tuple[bytes, bytes], Reach] | None = memos.urls if memos else None
        self._inline: BoundedCache[bytes, tuple[Vendor | None, tuple[str, ...]]] | None = (
            memos.inline if memos else None
        )
        #: What an ``<iframe srcdoc>`` document reaches (its raw value): every vendor and unclassified host of the
        #: tags in it that fetch or run, whatever the permissions.
        self._srcdoc = srcdoc
        #: Every recognised tag, in document order (safety-net finds only when neutralized).
        self.events: list[TagEvent] = []
        self.blocked: list[Blocked] = []
        #: The request's host when it alone makes a host the page's own (see :func:`page_context`).
        self.context = page_context(settings)
        #: Set when a verdict depended on :attr:`context` (it cannot be remembered for other requests).
        self.local = False

    def fires(self, vendor: Vendor | None, category: str) -> bool:
        """Whether the visitor's permissions let a tag of ``vendor`` decided by ``category`` fire."""
        return self._permissions.fires(vendor.id if vendor is not None else None, category)

    def record(self, verdict: Verdict, fired: bool) -> None:
        """Note a decided tag."""
        vendor = verdict.vendor
        self.events.append(TagEvent(vendor.id if vendor else None, verdict.category, fired, verdict.host))
        if not fired:
            self.blocked.append((vendor, verdict.category))

    def classify(self, name: bytes, first: dict[bytes, bytes | None], inline: bytes | None) -> Verdict | None:
        """The verdict on a start tag (its first attribute values; ``inline``: a script's text), or None."""
        explicit: str | None = None
        marker = first.get(b"data-cookiegate")
        if marker:
            explicit = decode(marker).strip().lower() or None
        if explicit is None and name == b"script" and first.get(b"data-category") and is_plain_text(first):
            explicit = decode(first[b"data-category"] or b"").strip().lower() or None
        vendor: Vendor | None = None
        refused: Vendor | None = None
        host = ""
        for attr, value in first.items():
            if value is None or attr not in URL_ATTRS or not fetches(name, attr, first):
                continue
            vendors, hosts = self._reach(name, attr, value)
            for found in vendors:
                vendor = vendor or found
                if refused is None and not self.fires(found, found.category):
                    refused = found
            if hosts and not host:
                host = hosts[0]
        if explicit is not None:
            return Verdict(vendor, explicit, True)
        if vendor is None and not host and name == b"script" and inline is not None and b"src" not in first:
            script_vendor, hosts = self._inline_reach(inline)
            if script_vendor is not None:
                vendor = script_vendor
                refused = None if self.fires(vendor, vendor.category) else vendor
            if hosts and runs(None if first.get(b"type") is None else decode(first[b"type"] or b"")):
                host = hosts[0]
        return self._decide(vendor, refused, host)

    def _decide(self, vendor: Vendor | None, refused: Vendor | None, host: str) -> Verdict | None:
        """A refused vendor first, then a refused unclassified host, then what fires."""
        if refused is not None:
            return Verdict(refused, refused.category, False)
        if host and not self._permissions.unclassified:
            return Verdict(None, UNCLASSIFIED, False, host)
        if vendor is not None:
            return Verdict(vendor, vendor.category, False)
        if host:
            return Verdict(None, UNCLASSIFIED, False, host)
        return None

    def url_verdict(self, url: str) -> Verdict | None:
        """The verdict on one URL (not normalized yet; nothing is recorded), or None when it reaches nobody."""
        vendors, hosts = self._own(self._url_reach(normalize_url(url)))
        vendor = vendors[0] if vendors else None
        refused = vendor if vendor is not None and not self.fires(vendor, vendor.category) else None
        return self._decide(vendor, refused, hosts[0] if hosts else "")

    def url_refused(self, url: str) -> bool:
        """Whether a fetch of ``url`` would reach a refused vendor or unclassified third party."""
        verdict = self.url_verdict(url)
        return verdict is not None and not self.fires(verdict.vendor, verdict.category)

    def css_refused(self, url: str) -> bool:
        """Whether a URL found in a ``<style>`` element reaches a refused vendor or unclassified host (the event is
        recorded)."""
        verdict = self.url_verdict(url)
        if verdict is None:
            return False
        fired = self.fires(verdict.vendor, verdict.category)
        self.record(verdict, fired)
        return not fired

    def css_verdict(self, texts: tuple[bytes, ...]) -> Verdict | None:
        """The first refused vendor or unclassified host the CSS in ``texts`` reaches (nothing is recorded), or
        None."""
        for text in texts:
            for url in css_urls(text.decode("utf-8", "replace")):
                verdict = self.url_verdict(url)
                if verdict is not None and not self.fires(verdict.vendor, verdict.category):
                    return verdict
        return None

    def _url_reach(self, url: str) -> Reach:
        """What one normalized URL reaches: its vendor, or its host when no vendor claims it and it is a third
        party to the site (whatever the request's host)."""
        if not url:
            return NOTHING
        vendor = self._classifier.vendor_for_url(url)
        if vendor is not None:
            return (vendor,), ()
        split = split_url(url)
        if split is None or not split[0] or self._site.owns(split[0]):
            return NOTHING
        return (), (split[0],)

    def _own(self, reach: Reach) -> Reach:
        """``reach`` without the request's own host (noting that the verdict depends on it)."""
        context = self.context
        if context and context in reach[1]:
            self.local = True
            return reach[0], tuple(h for h in reach[1] if h != context)
        return reach

    def _reach(self, name: bytes, attr: bytes, value: bytes) -> Reach:
        if attr == b"srcdoc":
            # What the document reaches is decided like a tag's own URLs (refused vendor first, then hosts);
            # its hosts were judged against the request's host too, so the verdict is never remembered.
            self.local = True
            return self._srcdoc(value)
        memo = self._urls
        key = (attr, value)
        known = memo.get(key) if memo is not None else None
        if known is None:
            vendors: list[Vendor] = []
            hosts: list[str] = []
            for url in attribute_urls(name, attr, value):
                found, third = self._url_reach(url)
                vendors += found
                hosts += (h for h in third if h not in hosts)
            known = (tuple(vendors), tuple(hosts))
            if memo is not None and len(value) <= self._limits.memo_value_max:
                memo.put(key, known)
        return self._own(known)

    def _inline_reach(self, inline: bytes) -> tuple[Vendor | None, tuple[str, ...]]:
        """The vendor an inline script belongs to, and the unclassified hosts it requests (:mod:`._loaders`)."""
        memo = self._inline
        known = memo.get(inline) if memo is not None else None
        if known is None:
            text = inline[: self._limits.region_cap].decode("utf-8", "replace")
            hosts: list[str] = []
            for url in requested_urls(text):
                hosts += (h for h in self._url_reach(normalize_url(url))[1] if h not in hosts)
            known = (self._classifier.vendor_for_inline(text), tuple(hosts))
            if memo is not None and len(inline) <= self._limits.memo_inline_max:
                memo.put(inline, known)
        return known[0], self._own(((), known[1]))[1]


def url_refusal(settings: Settings) -> Callable[[str], bool]:
    """Whether a URL outside the body (a ``Link`` or ``Refresh`` header's) reaches a refused vendor or an
    unclassified third party, decided as the page's own URLs are."""
    return Judge(settings, None, _reaches_nothing).url_refused


def _reaches_nothing(_value: bytes) -> Reach:
    return NOTHING


def is_plain_text(first: dict[bytes, bytes | None]) -> bool:
    """Whether a script's ``type`` is ``text/plain`` (the site's consent markup keeps it inert)."""
    return decode(first.get(b"type") or b"").strip().lower() == "text/plain"
