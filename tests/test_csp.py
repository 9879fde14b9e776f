"""The consent CSP: what it lets each kind of fetch reach, held to the six-list policy it replaced (one
vendor list per fetch directive), evaluated with the CSP3 fallback rules; and its size."""

from __future__ import annotations

import itertools
from collections.abc import Collection
from urllib.parse import urlsplit

import pytest

from cookiegate.policy._catalog import TagRegistry
from cookiegate.policy._categories import OPTIONAL_CATEGORIES
from cookiegate.policy._consent_mode import ConsentModeClassifier
from cookiegate.policy._csp import CspBuilder

SELF = "https://www.kactuce.com"
ALLOW = ("https://cdn.kactuce.com",)
# Where a fetch directive falls back to when the policy does not name it (CSP Level 3).
FALLBACK = {
    "script": ("script-src", "default-src"),
    "img": ("img-src", "default-src"),
    "frame": ("frame-src", "child-src", "default-src"),
    "connect": ("connect-src", "default-src"),
    "media": ("media-src", "default-src"),
    "font": ("font-src", "default-src"),
    "style": ("style-src", "default-src"),
    "object": ("object-src", "default-src"),
    "worker": ("worker-src", "child-src", "script-src", "default-src"),
}


def six_list_policy(hosts: Collection[str], allow: Collection[str], report_uri: str) -> str:
    """The policy as it was first written: every vendor source in each of six fetch directives."""
    vendor = [s for h in hosts for s in (f"https://{h}", f"https://*.{h}")]
    base = ["'self'", *allow]
    parts = [f"default-src {' '.join(base)}"]
    for directive in ("script-src", "img-src", "frame-src", "connect-src", "media-src", "font-src"):
        extra = {"script-src": ["'unsafe-inline'"], "img-src": ["data:"]}.get(directive, [])
        parts.append(f"{directive} {' '.join([*base, *extra, *vendor])}")
    parts.append(f"style-src {' '.join([*base, chr(39) + 'unsafe-inline' + chr(39)])}")
    parts.append(f"report-uri {report_uri}")
    return "; ".join(parts)


def allows(policy: str, kind: str, url: str) -> bool:
    """Whether ``policy`` lets a fetch of ``kind`` reach ``url`` from a page at SELF."""
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives.setdefault(name, sources)
    sources = next((directives[d] for d in FALLBACK[kind] if d in directives), None)
    if sources is None:
        return True  # nothing restricts this kind
    parts = urlsplit(url)
    host = parts.hostname or ""
    for source in sources:
        if source == "'self'":
            if f"{parts.scheme}://{parts.netloc}" == SELF:
                return True
        elif source.endswith(":") and "/" not in source:
            if parts.scheme == source[:-1]:
                return True
        elif source.startswith("https://") and parts.scheme == "https":
            if _host_matches(source[len("https://") :], host):
                return True
        elif "://" not in source and not source.startswith("'"):
            # A host source without a scheme takes the page's: from an https page, https only
            # (https://www.w3.org/TR/CSP3/#match-schemes).
            if parts.scheme == urlsplit(SELF).scheme and _host_matches(source, host):
                return True
    return False


def _host_matches(pattern: str, host: str) -> bool:
    return host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern


def _urls(registry: TagRegistry) -> list[str]:
    urls = [SELF + "/app.js", "https://cdn.kactuce.com/x.js", "https://tracker.example/t.gif",
            "data:image/gif;base64,R0lGOD", "http://www.googletagmanager.com/gtag/js"]
    for host in registry.hosts_for_categories(OPTIONAL_CATEGORIES):
        urls += [f"https://{host}/x", f"https://www.{host}/x", f"https://a.b.{host}/x", f"http://{host}/x"]
    return urls


CHOICES = [frozenset(c) for n in range(len(OPTIONAL_CATEGORIES) + 1)
           for c in itertools.combinations(OPTIONAL_CATEGORIES, n)]


@pytest.mark.parametrize("advanced", [False, True], ids=["basic", "consent-mode-advanced"])
def test_every_fetch_reaches_what_the_six_list_policy_let_it_reach_data_urls_aside(advanced: bool) -> None:
    registry = TagRegistry.builtin()
    classifier = ConsentModeClassifier(registry) if advanced else registry
    builder = CspBuilder(allow=ALLOW, report_uri="/cookiegate/csp-report", hosts_for=classifier.hosts_for_categories)
    urls = _urls(registry)
    for allowed in CHOICES:
        new = builder.policy(allowed | {"necessary"})
        old = six_list_policy(classifier.hosts_for_categories(allowed | {"necessary"}), ALLOW, "/cookiegate/csp-report")
        for kind, url in itertools.product(FALLBACK, urls):
            was, now = allows(old, kind, url), allows(new, kind, url)
            if url.startswith("data:"):
                # The one widening: data: URLs (no network) for every kind images already had them for.
                assert now or not was, (kind, url)
            else:
                assert now == was, (sorted(allowed), kind, url, was, now)


def test_a_refused_vendors_hosts_are_reachable_by_no_kind_of_fetch() -> None:
    registry = TagRegistry.builtin()
    builder = CspBuilder(allow=ALLOW, report_uri="/r", hosts_for=registry.hosts_for_categories)
    for allowed in CHOICES:
        policy = builder.policy(allowed | {"necessary"})
        permitted = set(registry.hosts_for_categories(allowed | {"necessary"}))
        refused = set(registry.hosts_for_categories(set(OPTIONAL_CATEGORIES) - allowed)) - permitted
        for host in refused:
            # ... unless an allowed vendor's host covers it (one CSP source cannot tell them apart)
            if any(host.endswith("." + p) for p in permitted):
                continue
            for kind in FALLBACK:
                assert not allows(policy, kind, f"https://{host}/x"), (sorted(allowed), kind, host)
                assert not allows(policy, kind, f"https://www.{host}/x"), (sorted(allowed), kind, host)


def test_the_policy_for_a_visitor_who_allows_everything_fits_a_proxys_default_header_buffer() -> None:
    # nginx reads an upstream's headers into one memory page (proxy_buffer_size 4k) and answers 502 past it.
    registry = TagRegistry.builtin()
    builder = CspBuilder(allow=ALLOW, report_uri="/cookiegate/csp-report", hosts_for=registry.hosts_for_categories)
    policy = builder.policy(set(OPTIONAL_CATEGORIES) | {"necessary"})
    assert len(policy) < 3072, len(policy)
    assert policy.count(" *.googletagmanager.com") == 1


def test_a_host_under_another_listed_host_is_written_once_through_its_parent() -> None:
    builder = CspBuilder(allow=(), report_uri="/r",
                         hosts_for=lambda _allowed: ("facebook.com", "www.facebook.com", "connect.facebook.net"))
    policy = builder.policy({"ads"})
    assert " www.facebook.com" not in policy and " *.facebook.com" in policy
    assert " connect.facebook.net" in policy
    assert allows(policy, "img", "https://www.facebook.com/tr")


def test_the_header_value_is_the_policy_encoded_for_every_choice() -> None:
    registry = TagRegistry.builtin()
    builder = CspBuilder(allow=ALLOW, report_uri="/cookiegate/csp-report", hosts_for=registry.hosts_for_categories)
    for choice in CHOICES:
        allowed = choice | {"necessary"}
        assert builder.header_value(allowed) == builder.policy(allowed).encode("latin-1")
        assert builder.header_value(set(allowed)) is builder.header_value(allowed)  # once per set
