"""The verdict on one tag: which vendor (or the site's explicit category) it belongs to, and whether the
visitor's permissions let it fire. Every tag, attribute URL, inline script and CSS URL is decided here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .._cache import BoundedCache
from .._urls import normalize_url
from ..policy._catalog import Vendor
from ..policy._decision import Permissions
from ._attrs import attribute_urls, decode, fetches
from ._css import urls as css_urls
from ._memo import Blocked, Memos
from ._settings import Limits, TagClassifier, TagEvent
from ._tokenizer import URL_ATTRS


@dataclass(slots=True)
class Verdict:
    """A tag's vendor (None for the site's own markup) and the category it is decided by."""

    vendor: Vendor | None
    category: str
    #: Decided by the site's own markup (``data-cookiegate``, ``data-category``), not by a URL or script.
    explicit: bool


class Judge:
    """Decides tags for one page, and records each decision (``events``) and each refusal (``blocked``)."""

    __slots__ = ("_classifier", "_permissions", "_limits", "_urls", "_inline", "_srcdoc", "events", "blocked")

    def __init__(
        self,
        classifier: TagClassifier,
        permissions: Permissions,
        limits: Limits,
        memos: Memos | None,
        srcdoc: Callable[[bytes], tuple[Vendor, ...]],
    ) -> None:
        self._classifier = classifier
        self._permissions = permissions
        self._limits = limits
        self._urls: BoundedCache[tuple[bytes, bytes], tuple[Vendor, ...]] | None = memos.urls if memos else None
        self._inline: BoundedCache[bytes, tuple[Vendor | None]] | None = memos.inline if memos else None
        #: The vendors of an ``<iframe srcdoc>`` document (its raw value).
        self._srcdoc = srcdoc
        #: Every recognised tag, in document order (safety-net finds only when neutralized).
        self.events: list[TagEvent] = []
        self.blocked: list[Blocked] = []

    def fires(self, vendor: Vendor | None, category: str) -> bool:
        """Whether the visitor's permissions let a tag of ``vendor`` decided by ``category`` fire."""
        return self._permissions.fires(vendor.id if vendor is not None else None, category)

    def record(self, verdict: Verdict, fired: bool) -> None:
        """Note a decided tag."""
        vendor = verdict.vendor
        self.events.append(TagEvent(vendor.id if vendor else None, verdict.category, fired))
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
        for attr, value in first.items():
            if value is None or attr not in URL_ATTRS or not fetches(name, attr, first):
                continue
            for found in self._vendors(name, attr, value):
                vendor = vendor or found
                if refused is None and not self.fires(found, found.category):
                    refused = found
        if explicit is not None:
            return Verdict(vendor, explicit, True)
        chosen = refused or vendor
        if chosen is not None:
            return Verdict(chosen, chosen.category, False)
        if name == b"script" and inline is not None and b"src" not in first:
            script_vendor = self._inline_vendor(inline)
            if script_vendor is not None:
                return Verdict(script_vendor, script_vendor.category, False)
        return None

    def css_refused(self, url: str) -> bool:
        """Whether a URL found in a ``<style>`` element reaches a refused vendor (the event is recorded)."""
        vendor = self._vendor_for_url(url)
        if vendor is None:
            return False
        fired = self.fires(vendor, vendor.category)
        self.record(Verdict(vendor, vendor.category, False), fired)
        return not fired

    def css_verdict(self, texts: tuple[bytes, ...]) -> Verdict | None:
        """The first refused vendor the CSS in ``texts`` reaches (nothing is recorded), or None."""
        for text in texts:
            for url in css_urls(text.decode("utf-8", "replace")):
                vendor = self._vendor_for_url(url)
                if vendor is not None and not self.fires(vendor, vendor.category):
                    return Verdict(vendor, vendor.category, False)
        return None

    def _vendor_for_url(self, url: str) -> Vendor | None:
        url = normalize_url(url)
        return self._classifier.vendor_for_url(url) if url else None

    def _vendors(self, name: bytes, attr: bytes, value: bytes) -> tuple[Vendor, ...]:
        if attr == b"srcdoc":
            return self._srcdoc(value)
        memo = self._urls
        key = (attr, value)
        known = memo.get(key) if memo is not None else None
        if known is None:
            vendor_for_url = self._classifier.vendor_for_url
            known = tuple(v for v in map(vendor_for_url, attribute_urls(name, attr, value)) if v is not None)
            if memo is not None and len(value) <= self._limits.memo_value_max:
                memo.put(key, known)
        return known

    def _inline_vendor(self, inline: bytes) -> Vendor | None:
        memo = self._inline
        known = memo.get(inline) if memo is not None else None
        if known is not None:
            return known[0]
        vendor = self._classifier.vendor_for_inline(inline[: self._limits.region_cap].decode("utf-8", "replace"))
        if memo is not None and len(inline) <= self._limits.memo_inline_max:
            memo.put(inline, (vendor,))
        return vendor


def is_plain_text(first: dict[bytes, bytes | None]) -> bool:
    """Whether a script's ``type`` is ``text/plain`` (the site's consent markup keeps it inert)."""
    return decode(first.get(b"type") or b"").strip().lower() == "text/plain"
