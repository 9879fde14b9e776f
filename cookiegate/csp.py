"""The per-response Content-Security-Policy, derived from the decision.

CSP cannot deny one host while allowing all others, so the policy is an allow-list: ``'self'``, the
operator's ``csp_allow`` sources, and the hosts of the vendors the visitor allowed. In report-only mode
(the default) it reports what would have been blocked to ``{prefix}csp-report`` without breaking anything.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import Final

_FETCH_DIRECTIVES: Final = ("script-src", "img-src", "frame-src", "connect-src", "media-src", "font-src")


class CspBuilder:
    """Builds (and caches per allowed-category set) the policy header value."""

    __slots__ = ("_allow", "_build", "_hosts_for", "_report_uri")

    def __init__(
        self,
        *,
        allow: Sequence[str],
        report_uri: str,
        hosts_for: object,
    ) -> None:
        self._allow = tuple(allow)
        self._report_uri = report_uri
        assert callable(hosts_for)
        self._hosts_for = hosts_for
        self._build = lru_cache(maxsize=64)(self._compute)

    def policy(self, allowed: Collection[str]) -> str:
        """The policy for a visitor whose allowed categories are ``allowed``."""
        return self._build(frozenset(allowed))

    def _compute(self, allowed: frozenset[str]) -> str:
        hosts: tuple[str, ...] = self._hosts_for(allowed)
        vendor_sources = []
        for host in hosts:
            # Both the host and its subdomains, on https only.
            vendor_sources.append(f"https://{host}")
            vendor_sources.append(f"https://*.{host}")
        base = ["'self'", *self._allow]
        parts = [f"default-src {' '.join(base)}"]
        for directive in _FETCH_DIRECTIVES:
            extra = ["'unsafe-inline'"] if directive == "script-src" else []
            if directive == "img-src":
                extra = ["data:"]
            parts.append(f"{directive} {' '.join([*base, *extra, *vendor_sources])}")
        parts.append(f"style-src {' '.join([*base, chr(39) + 'unsafe-inline' + chr(39)])}")
        parts.append(f"report-uri {self._report_uri}")
        return "; ".join(parts)
