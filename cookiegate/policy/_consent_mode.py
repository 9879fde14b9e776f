"""Google Consent Mode v2: its consent types, and the registry as the rewriter sees it in "advanced" mode."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Final

from ._catalog import TagRegistry, Vendor
from ._categories import ADS, ANALYTICS, FUNCTIONAL, NECESSARY

#: Google's own tags, which read Consent Mode and may load in the denied state in "advanced" mode.
GOOGLE_CONSENT_MODE_VENDORS: Final = frozenset({"google-tag-manager", "google-analytics", "google-ads"})

#: Each consent type and the cookiegate category that grants it (``None``: always).
CONSENT_MODE_TYPES: Final[Mapping[str, str | None]] = {
    "ad_storage": ADS,
    "ad_user_data": ADS,
    "ad_personalization": ADS,
    "analytics_storage": ANALYTICS,
    "functionality_storage": FUNCTIONAL,
    "personalization_storage": FUNCTIONAL,
    # Security storage (fraud prevention, authentication) is strictly necessary.
    "security_storage": None,
}


def consent_mode_state(allowed: frozenset[str]) -> dict[str, str]:
    """The seven Consent Mode v2 types, ``granted`` or ``denied``, for the allowed categories."""
    return {
        name: "granted" if category is None or category in allowed else "denied"
        for name, category in CONSENT_MODE_TYPES.items()
    }


def classifier_for(registry: TagRegistry, consent_mode: str) -> TagRegistry | ConsentModeClassifier:
    """What the rewriter and the CSP classify with for ``consent_mode`` (``basic`` or ``advanced``): the one
    construction the gateway, ``cookiegate tags`` and ``cookiegate scan`` share."""
    return ConsentModeClassifier(registry) if consent_mode == "advanced" else registry


class ConsentModeClassifier:
    """The registry as the rewriter sees it in Consent Mode "advanced": Google's tags are let through.

    They load for every visitor and obey the inline ``gtag('consent', 'default', …)`` the banner injects
    before them (denied until the visitor allows analytics/ads: cookieless pings, no cookies). Every other
    vendor is gated exactly as in "basic" mode, and Google's cookies set by the server are still dropped.
    A GTM container can carry non-Google tags that only its own consent settings govern: the README says so.
    """

    def __init__(self, registry: TagRegistry) -> None:
        self._registry = registry
        self._let_through: dict[str, Vendor] = {}
        for vendor in registry.vendors:
            if vendor.id in GOOGLE_CONSENT_MODE_VENDORS:
                self._let_through[vendor.id] = replace(vendor, category=NECESSARY)

    def _map(self, vendor: Vendor | None) -> Vendor | None:
        if vendor is None:
            return None
        return self._let_through.get(vendor.id, vendor)

    def view(self, vendor: Vendor) -> Vendor:
        """``vendor`` as the rewriter classifies it: Google's tags as ``necessary`` (they load, denied)."""
        return self._let_through.get(vendor.id, vendor)

    def lets_through(self, vendor_id: str) -> bool:
        """Whether the tags of ``vendor_id`` load for everyone and obey Consent Mode instead."""
        return vendor_id in self._let_through

    def vendor_for_url(self, url: str) -> Vendor | None:
        """As :meth:`TagRegistry.vendor_for_url`, with Google's tags let through."""
        return self._map(self._registry.vendor_for_url(url))

    def vendor_for_inline(self, text: str) -> Vendor | None:
        """As :meth:`TagRegistry.vendor_for_inline`, with Google's tags let through."""
        return self._map(self._registry.vendor_for_inline(text))

    def hosts_for_categories(self, categories: Collection[str]) -> tuple[str, ...]:
        """CSP hosts of the allowed categories plus Google's, which load for everyone in this mode."""
        hosts = set(self._registry.hosts_for_categories(categories))
        for vendor in self._let_through.values():
            hosts.update(vendor.hosts)
        return tuple(sorted(hosts))
