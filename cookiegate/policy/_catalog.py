"""Vendor catalog and tag registry: which hosts, inline snippets and cookies belong to which vendor.

The :class:`TagRegistry` answers four questions, each many times per page, so everything is compiled once
at construction:

* ``vendor_for_url`` — for every fetchable URL attribute the rewriter sees (entity-decoded);
* ``vendor_for_inline`` — for every inline ``<script>`` text;
* ``vendor_for_cookie`` / ``category_for_cookie`` — for every ``Set-Cookie`` of the app's responses;
* ``hosts_for_categories`` — for the CSP of the allowed categories.

URL rules, most specific first (all matching is case-insensitive):

1. The URL's host is walked from its full name to shorter suffixes (``a.b.example.com``, ``b.example.com``,
   ``example.com``, ``com``). At each suffix, the *host-scoped url_patterns* on that suffix are tried first
   (``"connect.facebook.net/*/sdk.js"``: host ``connect.facebook.net`` or a subdomain, path starting with
   ``/<anything>/sdk.js``), then the *host rule* of that suffix (a vendor's ``hosts`` entry). This is how a
   shared host is split by path: ``connect.facebook.net`` is the Meta Pixel's host (``fbevents.js``), but
   its ``/<locale>/sdk.js`` is Facebook's social-plugin SDK.
2. When no host rule matched, *path-only* url_patterns (those starting with ``/``) are searched anywhere in
   the path and query, on any host and in relative URLs (first-party tag copies such as
   ``/static/js/hotjar-loader.js`` or a server-side ``/gtm.js?id=GTM-``).

``shared_hosts`` are hosts a vendor talks to (so they go in its CSP) that do not identify it alone: a URL on
them is attributed only through url_patterns. ``facebook.com`` is one: ``/tr?`` is the Meta Pixel,
``/plugins/`` is social, and ``https://www.facebook.com/kactuce`` in a JSON-LD ``sameAs`` list is nothing.

``*`` in a url_pattern or a cookie name matches any run of characters (within one path segment for URLs).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Final

from .._urls import split_url
from ._cookie_database import CookieDatabase, bundled_database
from ._csp_listing import CspListing
from ._patterns import check_vendor as _check_vendor
from ._patterns import clean_host as _clean_host
from ._patterns import required_literal as _required_literal
from ._vendor import SENSITIVITY, CookieFact, Vendor
from ._vendor_data import load_builtin_vendors

__all__ = ["BUILTIN_VENDORS", "CookieFact", "TagRegistry", "Vendor"]

def _glob_to_regex(glob: str, star: str) -> str:
    """Regex source for ``glob``: literal text, each ``*`` becoming ``star``."""
    return star.join(re.escape(part) for part in glob.split("*"))


# --------------------------------------------------------------------------------------------------------
# Inline scripts.

#: A URL-ish mention of a host in script text: ``//host``, ``https://host``, JSON-escaped ``\/\/host``.
#: Both alternatives start with a literal, so ``re`` skips ahead with its first-character table.
_URLISH: Final = re.compile(r"(?:\\/\\/|//)[A-Za-z0-9][A-Za-z0-9.\-]*[^\s'\"`<>(){}\[\],;|+]*")

#: Which vendor an inline script is attributed to when it matches several: the most sensitive category
#: wins, so a script that configures both GA4 and Google Ads only runs with ads consent.
_SENSITIVITY: Final = SENSITIVITY
_MOST_SENSITIVE: Final = max(_SENSITIVITY.values())
#: How many leading characters of a cookie glob's literal head pick the alternation a cookie name is tried on.
_COOKIE_HEAD: Final = 3


class TagRegistry:
    """Classifies URLs, inline scripts and cookies by vendor; built once, read-only, thread-safe.

    Vendors are given in priority order: on a conflict (the same id, host or cookie name) the earlier
    vendor wins, so a site's own ``[[tags]]`` placed first override the built-in catalog. A later vendor
    with an id already taken is dropped entirely — re-declaring ``google-tag-manager`` replaces it.

    ``cookie_database`` (the bundled Open Cookie Database for :meth:`builtin`) names the cookies no vendor
    claims: :meth:`vendor_for_cookie` asks it last. ``csp_listed`` (every vendor when ``None``) are the vendor
    ids whose hosts :meth:`hosts_for_categories` always gives the CSP; vendors seen on pages join them within a
    budget (:attr:`csp`): a header must stay within a proxy's buffer, and the whole catalogue's hosts would not.
    """

    vendors: tuple[Vendor, ...]

    def __init__(
        self,
        vendors: Sequence[Vendor],
        *,
        cookie_database: CookieDatabase | None = None,
        csp_listed: Collection[str] | None = None,
    ) -> None:
        self._cookie_database = cookie_database
        kept: dict[str, Vendor] = {}
        for vendor in vendors:
            _check_vendor(vendor)
            kept.setdefault(vendor.id, vendor)
        self.vendors = tuple(kept.values())
        self._by_id = kept

        host_rules: dict[str, Vendor] = {}
        path_rules: dict[str, list[tuple[re.Pattern[str], Vendor]]] = {}
        path_only: list[tuple[re.Pattern[str], Vendor]] = []
        self._csp_hosts: dict[str, tuple[str, ...]] = {}
        for vendor in self.vendors:
            csp = {_clean_host(h, vendor.id) for h in (*vendor.hosts, *vendor.shared_hosts)}
            for host in vendor.hosts:
                host_rules.setdefault(_clean_host(host, vendor.id), vendor)
            for pattern in vendor.url_patterns:
                lowered = pattern.lower()
                if lowered.startswith("/"):
                    path_only.append((re.compile(_glob_to_regex(lowered, "[^/]*")), vendor))
                    continue
                host, _, path = lowered.partition("/")
                host = _clean_host(host, vendor.id)
                csp.add(host)
                rule = (re.compile(_glob_to_regex("/" + path, "[^/]*")), vendor)
                path_rules.setdefault(host, []).append(rule)
            self._csp_hosts[vendor.id] = tuple(csp)
        # One dict keyed by host suffix so the walk costs one lookup per label: path rules, then host rule.
        self._suffix_rules: dict[str, tuple[tuple[tuple[re.Pattern[str], Vendor], ...], Vendor | None]] = {
            suffix: (tuple(path_rules.get(suffix, ())), host_rules.get(suffix))
            for suffix in (*path_rules, *host_rules)
        }
        self._path_only = tuple(path_only)
        # One alternation as a fast "does any path-only pattern occur at all" test; most URLs miss.
        self._path_only_any = (
            re.compile("|".join(f"(?:{rx.pattern})" for rx, _ in path_only)) if path_only else None
        )

        # Inline scripts. Python's re tries every branch of an alternation at every position (no
        # Aho-Corasick), so one regex of all patterns costs ~60 ms per 100 KB of script. Instead each
        # pattern's required literal ("fbq(", "_hjSettings") is looked for with str.__contains__, and only
        # vendors whose literal occurs (or whose pattern has none) run their own compiled patterns.
        anchors: dict[str, list[int]] = {}
        always: list[int] = []
        self._inline_rx: dict[int, re.Pattern[str]] = {}
        for index, vendor in enumerate(self.vendors):
            if not vendor.inline_patterns:
                continue
            self._inline_rx[index] = re.compile("|".join(f"(?:{p})" for p in vendor.inline_patterns))
            for pattern in vendor.inline_patterns:
                literal = _required_literal(pattern)
                if literal is None:
                    always.append(index)
                else:
                    anchors.setdefault(literal, []).append(index)
        self._inline_anchors = tuple((literal, frozenset(idx)) for literal, idx in anchors.items())
        self._inline_always = frozenset(always)

        self._exact_cookies: dict[str, Vendor] = {}
        globs: list[tuple[int, int, str, Vendor]] = []
        for order, vendor in enumerate(self.vendors):
            for name in vendor.cookies:
                if "*" in name:
                    globs.append((-len(name.replace("*", "")), order, name, vendor))
                else:
                    self._exact_cookies.setdefault(name, vendor)
        # Most literal characters first (``_gat_*`` before a hypothetical ``_ga*``), then vendor order: an
        # alternation under fullmatch takes the first alternative that matches.
        globs.sort(key=lambda item: item[:2])
        self._cookie_groups = {f"c{i}": vendor for i, (_, _, _, vendor) in enumerate(globs)}
        # One alternation per first three characters of a glob's literal head (globs with a shorter head are in
        # every one): a cookie name is tried against the few globs that can match it, not against all.
        sources = [(g[2].partition("*")[0], f"(?P<c{i}>{_glob_to_regex(g[2], '.*')})") for i, g in enumerate(globs)]
        heads = {head[:_COOKIE_HEAD] for head, _ in sources if len(head) >= _COOKIE_HEAD}

        def alternation(head: str | None) -> re.Pattern[str] | None:
            chosen = [src for h, src in sources if len(h) < _COOKIE_HEAD or h[:_COOKIE_HEAD] == head]
            return re.compile("|".join(chosen)) if chosen else None

        self._cookie_rx_by_head = {head: alternation(head) for head in heads}
        self._cookie_rx = alternation(None)
        listed = self._by_id.keys() if csp_listed is None else set(csp_listed)
        #: Which vendors' hosts the CSP lists: ``csp_listed`` always, then vendors seen on the site's pages and
        #: ``csp_default`` entries as the header budget allows (the one mutable part: grown by page events).
        self.csp = CspListing(self.vendors, self._csp_hosts, pinned=listed,
                              defaults=[v.id for v in self.vendors if v.csp_default and v.id not in listed])

    @classmethod
    def builtin(cls, extra: Sequence[Vendor] = (), *, cookie_database: CookieDatabase | None = None) -> TagRegistry:
        """The built-in catalog, preceded by ``extra`` (the site's own ``[[tags]]``), which win conflicts;
        cookies nobody claims are looked up in ``cookie_database`` (default: the bundled Open Cookie Database).

        The CSP lists the site's own tags (a catalogue id re-declared in ``[[tags]]`` counts), the vendors seen on
        the site's pages, and the catalogue entries marked ``csp_default`` (the most common vendors) as the header
        budget allows.
        """
        listed = {v.id for v in extra}
        database = cookie_database if cookie_database is not None else bundled_database()
        return cls((*extra, *BUILTIN_VENDORS), cookie_database=database, csp_listed=listed)

    def vendor(self, vendor_id: str) -> Vendor | None:
        """The vendor with this id, or ``None``."""
        return self._by_id.get(vendor_id)

    def vendor_for_url(self, url: str) -> Vendor | None:
        """The vendor a fetch of ``url`` (an entity-decoded attribute value) would reach, or ``None``.

        Absolute, protocol-relative and relative URLs; host case, port, userinfo, a trailing dot and
        percent-encoded or full-width host characters do not hide a vendor. Relative URLs match only
        path-only url_patterns. ``data:``, ``javascript:`` and other host-less schemes give ``None``.
        """
        split = split_url(url)
        if split is None:
            return None
        host, path = split
        if host:
            suffix = host
            rules_for = self._suffix_rules.get
            while True:
                rules = rules_for(suffix)
                if rules is not None:
                    path_rules, host_vendor = rules
                    for rx, vendor in path_rules:
                        if rx.match(path):
                            return vendor
                    if host_vendor is not None:
                        return host_vendor
                dot = suffix.find(".")
                if dot < 0:
                    break
                suffix = suffix[dot + 1 :]
        if self._path_only_any is not None and self._path_only_any.search(path):
            for rx, vendor in self._path_only:
                if rx.search(path):
                    return vendor
        return None

    def vendor_for_inline(self, text: str) -> Vendor | None:
        """The vendor an inline ``<script>`` text loads or drives, or ``None``.

        A script matches a vendor through one of its inline_patterns or by naming one of its URLs
        (``'https://connect.facebook.net/en_US/fbevents.js'``, ``"//static.hotjar.com/c/hotjar-"``,
        ``\\/\\/snap.licdn.com``), classified exactly as :meth:`vendor_for_url` would. When a script
        matches several vendors the most sensitive category wins (ads > social > analytics > functional >
        necessary), ties going to the first found in the text.
        """
        candidates = set(self._inline_always)
        for literal, indexes in self._inline_anchors:
            if literal in text:
                candidates |= indexes
        best: Vendor | None = None
        best_key = (-1, 0)
        for index in candidates:
            match = self._inline_rx[index].search(text)
            if match is not None:
                vendor = self.vendors[index]
                key = (_SENSITIVITY.get(vendor.category, _MOST_SENSITIVE), -match.start())
                if key > best_key:
                    best, best_key = vendor, key
        if "//" not in text and "\\/\\/" not in text:
            return best
        for match in _URLISH.finditer(text):
            if best_key[0] == _MOST_SENSITIVE and match.start() > -best_key[1]:
                break  # nothing later can outrank it
            named = self.vendor_for_url(match.group().replace("\\/", "/"))
            if named is not None:
                key = (_SENSITIVITY.get(named.category, _MOST_SENSITIVE), -match.start())
                if key > best_key:
                    best, best_key = named, key
        return best

    def vendor_for_cookie(self, name: str) -> Vendor | None:
        """The vendor that sets a cookie of this name (case-sensitive, exact names before globs), else the
        cookie database's platform for it (an ``ocd-…`` vendor record), else ``None``."""
        vendor = self._exact_cookies.get(name)
        if vendor is not None:
            return vendor
        rx = self._cookie_rx_by_head.get(name[:_COOKIE_HEAD], self._cookie_rx)
        if rx is not None:
            match = rx.fullmatch(name)
            if match is not None:
                return self._cookie_groups[str(match.lastgroup)]
        if self._cookie_database is not None:
            row = self._cookie_database.match(name)
            if row is not None:
                return self._cookie_database.vendor_for(row)
        return None

    def category_for_cookie(self, name: str) -> str | None:
        """The category of the vendor that sets this cookie, or ``None`` for cookies nobody claims."""
        vendor = self.vendor_for_cookie(name)
        return None if vendor is None else vendor.category

    def hosts_for_categories(self, categories: Collection[str]) -> tuple[str, ...]:
        """Sorted host suffixes (hosts, shared hosts, url_pattern hosts) of the CSP-listed vendors in
        ``categories`` (see :class:`~cookiegate.policy._csp_listing.CspListing`).

        Each is a suffix: the CSP builder should allow the host and its subdomains (``host *.host``).
        """
        return self.csp.hosts_for_categories(categories)


#: The built-in catalogue, read once from the package's data files (``cookiegate/policy/vendors/``).
BUILTIN_VENDORS: Final[tuple[Vendor, ...]] = load_builtin_vendors()
