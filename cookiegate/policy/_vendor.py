"""The vendor record: one tracker vendor or one site tag, and the cookie facts a statement shows for it.

A leaf module: the catalogue loader, the cookie database and the registry all build or read these records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ._categories import ADS, ANALYTICS, FUNCTIONAL, NECESSARY, SOCIAL

#: How much a category costs the visitor, least first: where two vendors could own one script or cookie,
#: the most sensitive wins, so a refusal covers it.
SENSITIVITY: Final[dict[str, int]] = {NECESSARY: 0, FUNCTIONAL: 1, ANALYTICS: 2, SOCIAL: 3, ADS: 4}


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieFact:
    """One cookie a vendor sets: its name (``*`` a run of characters), how long it lives, and who says so."""

    name: str
    lifetime: str
    #: ``"ocd"`` (the bundled Open Cookie Database) or ``"vendor"`` (the vendor's own documentation).
    origin: str
    #: What the cookie is for, when the source says.
    description: str = ""
    #: The domain the cookie is set on when it is not the visited site's (``facebook.com``), else ``""``.
    domain: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Vendor:
    """One tracker vendor or one site tag: how to recognise it and what it costs the visitor."""

    id: str
    name: str
    category: str
    purpose: str = ""
    #: Host suffixes the tag talks to (``"google-analytics.com"`` matches ``www.google-analytics.com``).
    hosts: tuple[str, ...] = ()
    #: Regular expressions (Python ``re`` source) matched against inline ``<script>`` text.
    inline_patterns: tuple[str, ...] = ()
    #: Extra substrings matched against a fetchable URL (path-level rules, e.g. ``"/tr?id="``).
    #: ``"host/path"`` is anchored to that host (and subdomains) and the start of the path; ``"/path"``
    #: is searched in the path and query of any URL, relative ones included.
    url_patterns: tuple[str, ...] = ()
    #: Cookie names; a trailing ``*`` is a prefix match (``"_ga_*"``).
    cookies: tuple[str, ...] = ()
    #: Human lifetime of the cookies for the cookie statement (``"2 years"``).
    cookie_lifetime: str = ""
    #: Hosts the tag also talks to that it shares with other vendors (or with plain links): listed in the
    #: CSP of its category but never enough on their own to attribute a URL — only url_patterns are.
    shared_hosts: tuple[str, ...] = ()
    #: The legal owner (``"Google LLC"``): hosts of one company hint at the category of an unknown one.
    company: str = ""
    #: An embed (video, map, post, booking widget) that gets a click-to-load placeholder when refused.
    embed: bool = False
    #: Other purposes (categories) the identifiers it stores serve, e.g. ``("ads",)`` for reCAPTCHA: a site
    #: that files it as necessary should be warned.
    identifiers_for: tuple[str, ...] = ()
    #: The documentation the facts come from.
    sources: tuple[str, ...] = ()
    #: Open Cookie Database ``Platform`` names whose rows describe this vendor's cookies.
    ocd_platforms: tuple[str, ...] = ()
    #: When set, only the database rows of these names (``*`` globs) describe this vendor: a platform such as
    #: ``Microsoft`` also lists cookies that belong to other products.
    ocd_cookies: tuple[str, ...] = ()
    #: Every cookie this vendor is known to set, with its lifetime and source (statement facts).
    cookie_facts: tuple[CookieFact, ...] = ()
    #: Listed in every site's CSP (the most common vendors); another catalogue entry is listed once the site
    #: names it in its ``[[tags]]``.
    csp_default: bool = False
    #: The catalogue family (the data file it comes from: ``analytics``, ``ads``, ``video_audio`` …).
    family: str = ""
    #: Caveats about the entry, e.g. a fact no official source could be found for.
    notes: str = ""

    def __hash__(self) -> int:
        # Vendors key per-request caches (placeholders); hashing every field, cookie facts included, cost
        # microseconds a lookup. Equal vendors have equal ids, so the id alone is a consistent hash.
        return hash(self.id)
