"""The per-response Content-Security-Policy, derived from the decision.

CSP cannot deny one host while allowing all others, so the policy is an allow-list: ``'self'``, the
operator's ``csp_allow`` sources, and the hosts of the vendors the visitor allowed. In report-only mode
(the default) it reports what would have been blocked to ``{prefix}csp-report`` without breaking anything.

The vendor hosts are written once, in ``default-src``, which every fetch directive not named falls back to
(scripts, frames, XHR/fetch, media, fonts, workers): a visitor who allows everything used to get them six
times over, a 17 KB header that a reverse proxy with default buffers (nginx: 4 KB) refuses with a 502. So
``default-src`` also carries what scripts and images need (``'unsafe-inline'``, ``data:``); ``style-src``
and ``object-src`` stay narrow. Next to the six-list policy this allows ``data:`` for frames, fetches,
media, fonts and workers (no network, and a ``data:`` document inherits this policy) and for scripts (no
more than ``'unsafe-inline'`` already allows), and vendor hosts for web app manifests; a refused vendor's
host still appears nowhere. A host under another listed one is left out
(``*.facebook.com`` already covers ``www.facebook.com``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from functools import lru_cache

from ._csp_listing import outermost


class CspBuilder:
    """Builds (and caches per allowed-category set and listing version) the policy header value."""

    __slots__ = ("_allow", "_build", "_encoded", "_hosts_for", "_report_uri", "_version")

    def __init__(
        self,
        *,
        allow: Sequence[str],
        report_uri: str,
        hosts_for: Callable[[frozenset[str]], Collection[str]],
        version: Callable[[], int] | None = None,
    ) -> None:
        """``version`` (optional) changes whenever ``hosts_for`` would answer differently: the vendors the
        policy lists grow as pages show them (:class:`~cookiegate.policy._csp_listing.CspListing`)."""
        self._allow = tuple(allow)
        self._report_uri = report_uri
        self._hosts_for = hosts_for
        self._version = version
        self._build = lru_cache(maxsize=64)(self._compute)
        self._encoded = lru_cache(maxsize=64)(lambda allowed, v: self._build(allowed, v).encode("latin-1"))

    def policy(self, allowed: Collection[str]) -> str:
        """The policy for a visitor whose allowed categories are ``allowed``."""
        return self._build(frozenset(allowed), self._version() if self._version is not None else 0)

    def header_value(self, allowed: Collection[str]) -> bytes:
        """:meth:`policy` as the header value (encoded once per allowed-category set and listing)."""
        encoded: bytes = self._encoded(frozenset(allowed), self._version() if self._version is not None else 0)
        return encoded

    def _compute(self, allowed: frozenset[str], version: int) -> str:
        hosts = outermost(self._hosts_for(allowed))
        # Both the host and its subdomains, without a scheme: on an https page a scheme-less source matches
        # https only, as "https://" would (https://www.w3.org/TR/CSP3/#match-schemes), and the header is shorter.
        vendor_sources = [source for host in hosts for source in (host, f"*.{host}")]
        base = ["'self'", *self._allow]
        parts = [
            " ".join(["default-src", *base, "'unsafe-inline'", "data:", *vendor_sources]),
            " ".join(["style-src", *base, "'unsafe-inline'"]),
            " ".join(["object-src", *base]),
            f"report-uri {self._report_uri}",
        ]
        return "; ".join(parts)
