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
from dataclasses import dataclass
from typing import Final

from ._urls import split_url
from .policy._categories import ADS, ANALYTICS, CATEGORIES, FUNCTIONAL, NECESSARY, SOCIAL


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


_HOST_RE: Final = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")


def _glob_to_regex(glob: str, star: str) -> str:
    """Regex source for ``glob``: literal text, each ``*`` becoming ``star``."""
    return star.join(re.escape(part) for part in glob.split("*"))


def _clean_host(host: str, vendor_id: str) -> str:
    cleaned = host.strip().lower().removeprefix("*.").strip(".")
    if not _HOST_RE.fullmatch(cleaned):
        raise ValueError(f"vendor {vendor_id!r}: {host!r} is not a host name (no scheme, path or port)")
    return cleaned


# --------------------------------------------------------------------------------------------------------
# Inline scripts.

#: A URL-ish mention of a host in script text: ``//host``, ``https://host``, JSON-escaped ``\/\/host``.
#: Both alternatives start with a literal, so ``re`` skips ahead with its first-character table.
_URLISH: Final = re.compile(r"(?:\\/\\/|//)[A-Za-z0-9][A-Za-z0-9.\-]*[^\s'\"`<>(){}\[\],;|+]*")


def _required_literal(pattern: str) -> str | None:
    """The longest literal text every match of ``pattern`` must contain, or ``None`` when unsure.

    Read conservatively from the top level of the regex source: groups, classes, escapes such as ``\\b``
    or ``\\s`` and optional or repeated atoms end a run; a top-level ``|`` gives ``None``.
    """
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        literal: str | None = None
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            i += 2
            if nxt and not nxt.isalnum():
                literal = nxt  # escaped punctuation: \. \( \$
        elif ch == "|":
            return None
        elif ch in "([":
            i = _skip_group(pattern, i)
        elif ch in "?*+{":
            i = _skip_quantifier(pattern, i)
        elif ch in ".^$":
            i += 1
        else:
            literal = ch
            i += 1
        if literal is not None and (i >= n or pattern[i] not in "?*{"):
            run.append(literal)
            if i < n and pattern[i] != "+":
                continue
        runs.append("".join(run))
        run = []
    runs.append("".join(run))
    best = max(runs, key=len)
    return best or None


def _skip_group(pattern: str, i: int) -> int:
    """Index just past the ``(...)`` group or ``[...]`` class starting at ``pattern[i]``."""
    if pattern[i] == "[":
        i += 1
        if pattern[i : i + 1] == "^":
            i += 1
        if pattern[i : i + 1] == "]":
            i += 1  # a leading ] is a literal member
        while i < len(pattern) and pattern[i] != "]":
            i += 2 if pattern[i] == "\\" else 1
        return i + 1
    depth = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _skip_group(pattern, i)
            continue
        depth += (ch == "(") - (ch == ")")
        i += 1
        if depth == 0:
            break
    return i


def _skip_quantifier(pattern: str, i: int) -> int:
    """Index just past a quantifier (``?``, ``*``, ``+``, ``{m,n}``, and a lazy or possessive suffix)."""
    if pattern[i] == "{":
        close = pattern.find("}", i)
        i = len(pattern) if close < 0 else close + 1
    else:
        i += 1
    while i < len(pattern) and pattern[i] in "?+":
        i += 1
    return i


#: Which vendor an inline script is attributed to when it matches several: the most sensitive category
#: wins, so a script that configures both GA4 and Google Ads only runs with ads consent.
_SENSITIVITY: Final[dict[str, int]] = {NECESSARY: 0, FUNCTIONAL: 1, ANALYTICS: 2, SOCIAL: 3, ADS: 4}
_MOST_SENSITIVE: Final = max(_SENSITIVITY.values())


class TagRegistry:
    """Classifies URLs, inline scripts and cookies by vendor; built once, read-only, thread-safe.

    Vendors are given in priority order: on a conflict (the same id, host or cookie name) the earlier
    vendor wins, so a site's own ``[[tags]]`` placed first override the built-in catalog. A later vendor
    with an id already taken is dropped entirely — re-declaring ``google-tag-manager`` replaces it.
    """

    vendors: tuple[Vendor, ...]

    def __init__(self, vendors: Sequence[Vendor]) -> None:
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
        self._cookie_rx = (
            re.compile("|".join(f"(?P<c{i}>{_glob_to_regex(g[2], '.*')})" for i, g in enumerate(globs)))
            if globs
            else None
        )
        self._csp_cache: dict[frozenset[str], tuple[str, ...]] = {}

    @classmethod
    def builtin(cls, extra: Sequence[Vendor] = ()) -> TagRegistry:
        """The built-in catalog, preceded by ``extra`` (the site's own ``[[tags]]``), which win conflicts."""
        return cls((*extra, *BUILTIN_VENDORS))

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
        """The vendor that sets a cookie of this name (case-sensitive, exact names before globs)."""
        vendor = self._exact_cookies.get(name)
        if vendor is not None or self._cookie_rx is None:
            return vendor
        match = self._cookie_rx.fullmatch(name)
        return None if match is None else self._cookie_groups[str(match.lastgroup)]

    def category_for_cookie(self, name: str) -> str | None:
        """The category of the vendor that sets this cookie, or ``None`` for cookies nobody claims."""
        vendor = self.vendor_for_cookie(name)
        return None if vendor is None else vendor.category

    def hosts_for_categories(self, categories: Collection[str]) -> tuple[str, ...]:
        """Sorted host suffixes (hosts, shared hosts, url_pattern hosts) of the vendors in ``categories``.

        Each is a suffix: the CSP builder should allow the host and its subdomains (``host *.host``).
        """
        key = frozenset(categories)
        cached = self._csp_cache.get(key)
        if cached is None:
            hosts = {h for v in self.vendors if v.category in key for h in self._csp_hosts[v.id]}
            cached = self._csp_cache[key] = tuple(sorted(hosts))
        return cached


def _check_vendor(vendor: Vendor) -> None:
    """Fail loudly at start-up on a vendor the registry could not use correctly."""
    if not vendor.id:
        raise ValueError(f"vendor {vendor.name!r} has an empty id")
    if vendor.category not in CATEGORIES:
        raise ValueError(f"vendor {vendor.id!r}: unknown category {vendor.category!r}")
    for pattern in vendor.inline_patterns:
        try:
            compiled = re.compile(pattern)
            # Probe it inside an alternation: global flags like (?i) are only legal at the very start.
            re.compile(f"x|(?:{pattern})")
        except re.error as exc:
            raise ValueError(f"vendor {vendor.id!r}: bad inline pattern {pattern!r}: {exc}") from None
        if compiled.groups:
            # Patterns are joined into one regex; their own groups would shift numbering and clash.
            raise ValueError(
                f"vendor {vendor.id!r}: inline pattern {pattern!r} has capturing groups; use (?:...)"
            )
    for pattern in vendor.url_patterns:
        if "/" not in pattern:
            raise ValueError(f"vendor {vendor.id!r}: url pattern {pattern!r} needs a path ('/x' or 'host/x')")
    for name in vendor.cookies:
        if not name or name == "*":
            raise ValueError(f"vendor {vendor.id!r}: cookie pattern {name!r} would match every cookie")


# --------------------------------------------------------------------------------------------------------
# The built-in catalog. Order matters only where two vendors list the same host or cookie (earlier wins);
# shared hosts are split by url_patterns instead. Inline patterns key on what the official snippets call
# (``fbq(``, ``gtag('config', 'G-…')``), never on words a site's own code could use (``analytics``).

_GTAG_JS = "googletagmanager.com/gtag/js?"

BUILTIN_VENDORS: Final[tuple[Vendor, ...]] = (
    Vendor(
        id="google-tag-manager",
        name="Google Tag Manager",
        # A GTM container injects whatever tags its owner configured — ad pixels included — from code
        # cookiegate never sees, so it is gated under the strictest category. A site whose container loads
        # only analytics re-declares this id in its [[tags]] with that category.
        category=ADS,
        purpose="Loads the marketing and analytics tags configured in the site's Google Tag Manager "
        "container; it sets no cookies itself, the tags it loads do.",
        hosts=("googletagmanager.com",),
        inline_patterns=(r"""['"]gtm\.start['"]""",),
        url_patterns=("googletagmanager.com/gtm.js", "googletagmanager.com/ns.html", "/gtm.js?id=gtm-"),
        cookie_lifetime="none of its own",
    ),
    Vendor(
        id="google-analytics",
        name="Google Analytics 4",
        category=ANALYTICS,
        purpose="Counts visits and measures how visitors use the site, using a pseudonymous client id "
        "sent to Google.",
        hosts=("google-analytics.com", "analytics.google.com"),
        shared_hosts=("googletagmanager.com",),
        inline_patterns=(
            r"""\bgtag\(\s*['"]config['"]\s*,\s*['"](?:G|UA)-""",
            r"""\bga\(\s*['"]create['"]""",
            r"\bGoogleAnalyticsObject\b",
        ),
        # gtag.js is one file for GA4 and Google Ads: the measurement id prefix decides. Any other id
        # (GT-…, none) falls back to the googletagmanager.com host rule: Google Tag Manager, ads.
        url_patterns=(
            _GTAG_JS + "id=g-",
            _GTAG_JS + "*&id=g-",
            _GTAG_JS + "id=ua-",
            _GTAG_JS + "*&id=ua-",
            "/gtag/js?id=g-",  # served first-party through server-side tagging
        ),
        cookies=("_ga", "_ga_*", "_gid", "_gat", "_gat_*", "__utma", "__utmb", "__utmc", "__utmt", "__utmz"),
        cookie_lifetime="_ga, _ga_*: 2 years; _gid: 24 hours; _gat: 1 minute",
    ),
    Vendor(
        id="google-ads",
        name="Google Ads and DoubleClick",
        category=ADS,
        purpose="Measures ad conversions, builds remarketing audiences and serves personalised Google ads.",
        hosts=(
            "googleadservices.com",
            "doubleclick.net",
            "googlesyndication.com",
            "googletagservices.com",
            "adservice.google.com",
            "adtrafficquality.google",
        ),
        shared_hosts=("googletagmanager.com", "google.com"),
        inline_patterns=(
            r"""\bgtag\(\s*['"]config['"]\s*,\s*['"](?:AW|DC)-""",
            r"""['"]send_to['"]\s*:\s*['"](?:AW|DC)-""",
            r"\badsbygoogle\b",
            r"\bgoogletag\.(?:cmd|pubads|defineSlot)\b",
        ),
        url_patterns=(
            _GTAG_JS + "id=aw-",
            _GTAG_JS + "*&id=aw-",
            _GTAG_JS + "id=dc-",
            _GTAG_JS + "*&id=dc-",
            "google.com/pagead/",
            "google.com/ads/",
            "/gtag/js?id=aw-",
        ),
        cookies=("_gcl_*", "_gac_*", "__gads", "__gpi", "__eoi", "IDE", "DSID"),
        cookie_lifetime="_gcl_*: 90 days; __gads, __gpi: 13 months; IDE: 13 months (on doubleclick.net)",
    ),
    Vendor(
        id="meta-pixel",
        name="Meta Pixel",
        category=ADS,
        purpose="Reports visits and conversions to Meta to measure and target Facebook and Instagram ads.",
        hosts=("connect.facebook.net",),
        shared_hosts=("facebook.com",),
        inline_patterns=(r"\bfbq\(", r"\b_fbq\b"),
        url_patterns=(
            "connect.facebook.net/*/fbevents.js",
            "connect.facebook.net/signals/",
            "facebook.com/tr?",
            "facebook.com/tr/",
        ),
        cookies=("_fbp", "_fbc", "fr"),
        cookie_lifetime="_fbp, _fbc: 90 days; fr: 90 days (on facebook.com)",
    ),
    Vendor(
        id="facebook-social",
        name="Facebook social plugins",
        category=SOCIAL,
        purpose="Shows Facebook like buttons, page boxes and comments, which let Meta see the visit.",
        hosts=("fbcdn.net", "fbsbx.com"),
        # connect.facebook.net defaults to the Meta Pixel (ads); only the SDK paths are social.
        shared_hosts=("connect.facebook.net", "facebook.com"),
        inline_patterns=(r"\bfbAsyncInit\b", r"""['"]facebook-jssdk['"]""", r"\bFB\.init\("),
        url_patterns=(
            "connect.facebook.net/*/sdk.js",
            "connect.facebook.net/*/sdk/",
            "connect.facebook.net/*/all.js",
            "facebook.com/plugins/",
            "facebook.com/v*/plugins/",
        ),
        cookies=("datr",),
        cookie_lifetime="datr: 2 years (on facebook.com)",
    ),
    Vendor(
        id="linkedin-insight",
        name="LinkedIn Insight Tag",
        category=ADS,
        purpose="Reports visits and conversions to LinkedIn to measure and retarget LinkedIn ads.",
        hosts=("snap.licdn.com", "ads.linkedin.com"),
        shared_hosts=("linkedin.com",),
        inline_patterns=(r"\b_linkedin_partner_id\b", r"\b_linkedin_data_partner_ids\b", r"\blintrk\b"),
        url_patterns=("linkedin.com/px/",),
        cookies=("li_*", "lidc", "bcookie", "bscookie", "UserMatchHistory", "AnalyticsSyncHistory", "ln_or"),
        cookie_lifetime="li_fat_id, UserMatchHistory, AnalyticsSyncHistory: 30 days; bcookie: 1 year; "
        "lidc: 24 hours",
    ),
    Vendor(
        id="tiktok-pixel",
        name="TikTok Pixel",
        category=ADS,
        purpose="Reports visits and conversions to TikTok to measure and target TikTok ads.",
        hosts=("analytics.tiktok.com", "analytics-sg.tiktok.com"),
        inline_patterns=(r"\bTiktokAnalyticsObject\b", r"\bttq\.(?:load|page|track|identify)\("),
        cookies=("_ttp", "_tt_enable_cookie", "ttcsid", "ttcsid_*"),
        cookie_lifetime="_ttp, _tt_enable_cookie: 13 months; ttcsid: 30 minutes",
    ),
    Vendor(
        id="x-pixel",
        name="X (Twitter) Pixel",
        category=ADS,
        purpose="Reports visits and conversions to X to measure and target ads on X.",
        hosts=("ads-twitter.com", "analytics.twitter.com"),
        shared_hosts=("t.co",),
        inline_patterns=(r"\btwq\(",),
        url_patterns=("t.co/i/adsct", "t.co/1/i/adsct"),
        cookies=("_twclid", "muc_ads", "personalization_id", "guest_id_ads", "guest_id_marketing"),
        cookie_lifetime="_twclid: 30 days; muc_ads, personalization_id: 13 months (on twitter.com)",
    ),
    Vendor(
        id="x-widgets",
        name="X (Twitter) embeds",
        category=SOCIAL,
        purpose="Shows embedded posts, timelines and share buttons from X, which lets X see the visit.",
        hosts=("platform.twitter.com", "syndication.twitter.com", "twimg.com"),
        shared_hosts=("twitter.com", "x.com"),
        inline_patterns=(r"\bwindow\.twttr\b", r"""['"]twitter-wjs['"]"""),
        cookies=("guest_id",),
        cookie_lifetime="guest_id: 13 months (on twitter.com)",
    ),
    Vendor(
        id="pinterest-tag",
        name="Pinterest Tag",
        category=ADS,
        purpose="Reports visits and conversions to Pinterest to measure and target Pinterest ads.",
        hosts=("ct.pinterest.com",),
        # s.pinimg.com also serves Pin It buttons and pin images; only /ct/ is the tag.
        shared_hosts=("s.pinimg.com",),
        inline_patterns=(r"\bpintrk\(", r"\bwindow\.pintrk\b"),
        url_patterns=("s.pinimg.com/ct/",),
        cookies=("_pin_unauth", "_pinterest_ct_ua", "_pinterest_ct_rt", "_epik", "_derived_epik"),
        cookie_lifetime="_pin_unauth, _epik, _derived_epik: 1 year",
    ),
    Vendor(
        id="snap-pixel",
        name="Snap Pixel",
        category=ADS,
        purpose="Reports visits and conversions to Snap to measure and target Snapchat ads.",
        hosts=("sc-static.net", "tr.snapchat.com", "tr-shadow.snapchat.com"),
        inline_patterns=(r"\bsnaptr\(", r"\be\.snaptr\b"),
        cookies=("_scid", "_scid_r", "_sctr", "_schn"),
        cookie_lifetime="_scid: 13 months; _sctr: 1 year; _schn: 1 day",
    ),
    Vendor(
        id="microsoft-uet",
        name="Microsoft Advertising UET",
        category=ADS,
        purpose="Reports visits and conversions to Microsoft to measure and retarget Bing ads.",
        hosts=("bat.bing.com", "bat.r.msn.com"),
        inline_patterns=(r"\bnew\s+UET\(", r"\buetq\b"),
        cookies=("_uetsid", "_uetvid", "_uetmsclkid", "MUID"),
        cookie_lifetime="_uetsid: 1 day; _uetvid: 13 months; MUID: 13 months (on bing.com)",
    ),
    Vendor(
        id="microsoft-clarity",
        name="Microsoft Clarity",
        category=ANALYTICS,
        purpose="Records clicks, scrolling and session replays so the site owner can see how pages are used.",
        hosts=("clarity.ms",),
        inline_patterns=(r"""['"]clarity['"]\s*,\s*['"]script['"]""",),
        cookies=("_clck", "_clsk", "CLID", "ANONCHK"),
        cookie_lifetime="_clck: 1 year; _clsk: 1 day; CLID: 1 year (on clarity.ms)",
    ),
    Vendor(
        id="hotjar",
        name="Hotjar",
        category=ANALYTICS,
        purpose="Records heatmaps, session replays and surveys so the site owner can see how pages are used.",
        hosts=("hotjar.com", "hotjar.io"),
        inline_patterns=(
            r"\b_hjSettings\b",
            r"""\bhj\(\s*['"](?:event|identify|trigger|stateChange|tagRecording)['"]""",
        ),
        cookies=("_hj*",),
        cookie_lifetime="_hjSessionUser_*: 1 year; _hjSession_*: 30 minutes",
    ),
    Vendor(
        id="hubspot",
        name="HubSpot tracking code",
        category=ANALYTICS,
        purpose="Tracks visits and links them to contacts in the site owner's HubSpot CRM.",
        # Not hsforms.net / forms.hubspot.com: embedded forms are the site's own contact forms.
        hosts=(
            "hs-scripts.com",
            "hs-analytics.net",
            "hs-banner.com",
            "hscollectedforms.net",
            "track.hubspot.com",
        ),
        inline_patterns=(r"\b_hsq\b", r"""['"]hs-script-loader['"]"""),
        cookies=("hubspotutk", "__hstc", "__hssc", "__hssrc"),
        cookie_lifetime="hubspotutk, __hstc: 6 months; __hssc: 30 minutes; __hssrc: session",
    ),
    Vendor(
        id="segment",
        name="Segment",
        category=ANALYTICS,
        purpose="Collects page views and events and forwards them to the analytics tools the site owner "
        "connected in Segment.",
        hosts=("cdn.segment.com", "cdn.segment.io", "api.segment.io", "segmentapis.com"),
        inline_patterns=(
            r"""\banalytics\.load\(\s*['"]""",
            r"\banalytics\.SNIPPET_VERSION\b",
            r"Segment snippet included twice",
        ),
        cookies=("ajs_*",),
        cookie_lifetime="ajs_anonymous_id, ajs_user_id: 1 year",
    ),
    Vendor(
        id="mixpanel",
        name="Mixpanel",
        category=ANALYTICS,
        purpose="Records page views and product events to measure how visitors use the site.",
        hosts=("mxpnl.com", "mixpanel.com"),
        inline_patterns=(r"\bmixpanel\.init\(", r"\bMIXPANEL_CUSTOM_LIB_URL\b"),
        cookies=("mp_*_mixpanel",),
        cookie_lifetime="mp_*_mixpanel: 1 year",
    ),
    Vendor(
        id="amplitude",
        name="Amplitude",
        category=ANALYTICS,
        purpose="Records page views, product events and optional session replays to measure how visitors "
        "use the site.",
        hosts=("amplitude.com",),
        inline_patterns=(
            r"\bamplitude\.(?:getInstance\(\)\.)?init\(",
            r"Amplitude snippet has been loaded",
        ),
        cookies=("AMP_*", "amplitude_id*"),
        cookie_lifetime="AMP_*: 1 year",
    ),
    Vendor(
        id="youtube",
        name="YouTube embeds",
        category=SOCIAL,
        purpose="Plays embedded YouTube videos; Google sees the visit even in privacy-enhanced mode.",
        hosts=("youtube-nocookie.com", "ytimg.com", "googlevideo.com"),
        # Links to a channel (JSON-LD sameAs, <a href>) are not embeds, so youtube.com is split by path.
        shared_hosts=("youtube.com",),
        inline_patterns=(r"\bonYouTubeIframeAPIReady\b", r"\bnew\s+YT\.Player\("),
        url_patterns=(
            "youtube.com/embed",
            "youtube.com/iframe_api",
            "youtube.com/player_api",
            "youtube.com/s/player/",
            "youtube.com/v/",
            "youtube.com/live_chat",
        ),
        cookies=("YSC", "VISITOR_INFO1_LIVE", "VISITOR_PRIVACY_METADATA"),
        cookie_lifetime="YSC: session; VISITOR_INFO1_LIVE, VISITOR_PRIVACY_METADATA: 6 months "
        "(on youtube.com)",
    ),
    Vendor(
        id="vimeo",
        name="Vimeo embeds",
        category=SOCIAL,
        purpose="Plays embedded Vimeo videos, which lets Vimeo see the visit.",
        hosts=("player.vimeo.com", "vimeocdn.com"),
        shared_hosts=("vimeo.com",),
        inline_patterns=(r"\bnew\s+Vimeo\.Player\(",),
        cookies=("vuid",),
        cookie_lifetime="vuid: 2 years (on vimeo.com)",
    ),
)
