"""The site's own hosts: what counts as first party on its pages.

A reference is third party when its host is not the page's own site: not ``cookie_domain`` or one of its
subdomains, not a host the operator's ``csp_allow`` names, and not the host the request was made to. The first
two are the same for every request (a :class:`SiteHosts`, built once); the request's host is given per request.
Every view that asks "is this host the site's own" (the rewriter, the gate's headers, the marketer's views) asks
here, so none of them can disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from .._urls import normalize_host

#: A scheme at the start of a CSP source expression (``https://``), and a bare scheme source (``https:``).
_SOURCE_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_SCHEME_ONLY: Final = re.compile(r"^[a-z][a-z0-9+.\-]*:$")


@dataclass(frozen=True, slots=True)
class SiteHosts:
    """The hosts that are the site's own for every request: suffixes (a host and its subdomains) and exact
    hosts. Hashable and compared by value, so what was decided with one can be remembered with it."""

    #: Hosts whose subdomains are the site's (``cookie_domain``: itself too; ``*.cdn.example`` in ``csp_allow``).
    suffixes: frozenset[str] = frozenset()
    #: Hosts that are the site's, their subdomains not (``https://cdn.example.com`` in ``csp_allow``).
    exact: frozenset[str] = frozenset()

    @classmethod
    def of(cls, cookie_domain: str | None = None, csp_allow: Iterable[str] = ()) -> SiteHosts:
        """The site of a configuration: ``cookie_domain`` and its subdomains, and the hosts ``csp_allow`` names
        (``'self'``, scheme sources such as ``https:`` and ``*`` name no host and add nothing)."""
        suffixes: set[str] = set()
        exact: set[str] = set()
        if cookie_domain:
            domain = normalize_host(cookie_domain.strip().lstrip("."))
            if domain:
                suffixes.add(domain)
                exact.add(domain)
        for source in csp_allow:
            host, wildcard = source_host(source)
            if host:
                (suffixes if wildcard else exact).add(host)
        return cls(frozenset(suffixes), frozenset(exact))

    def owns(self, host: str) -> bool:
        """Whether ``host`` (normalized, as :func:`cookiegate._urls.split_url` gives it) is the site's own.

        One set lookup per label of the host: the cost does not grow with the configuration."""
        if host in self.exact:
            return True
        suffixes = self.suffixes
        if not suffixes:
            return False
        dot = host.find(".")
        while dot >= 0:
            host = host[dot + 1 :]
            if host in suffixes:
                return True
            dot = host.find(".")
        return False


def source_host(source: str) -> tuple[str, bool]:
    """The host a CSP source expression names (normalized, ``""`` for none) and whether it is a ``*.`` wildcard,
    which covers the subdomains (https://www.w3.org/TR/CSP3/#match-url-to-source-expression)."""
    text = source.strip().strip("'\"").lower()
    if not text or text.startswith(("self", "none", "unsafe-", "nonce-", "sha256-", "sha384-", "sha512-", "strict-")):
        return "", False
    if _SCHEME_ONLY.match(text):
        return "", False
    text = _SOURCE_SCHEME.sub("", text)
    host = re.split(r"[/:]", text, maxsplit=1)[0]
    wildcard = host.startswith("*.")
    host = host.removeprefix("*.")
    if not host or "*" in host:
        return "", False
    return normalize_host(host), wildcard


def request_host(value: str | None) -> str:
    """The host a request was made to, from its ``Host`` header (port dropped, normalized); ``""`` without one."""
    if not value:
        return ""
    text = value.strip()
    if text.startswith("["):  # an IPv6 literal keeps its brackets, as split_url gives it
        return text.partition("]")[0] + "]"
    return normalize_host(text.partition(":")[0])


__all__ = ["SiteHosts", "request_host", "source_host"]
