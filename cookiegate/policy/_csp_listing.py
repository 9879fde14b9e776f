"""Which vendors' hosts the Content-Security-Policy lists: the ones the site uses, within a header budget.

The whole catalogue's hosts would make a header of about 18 KB for a visitor who allows everything, past what a
reverse proxy buffers by default (nginx: 4 KB, then 502). So the policy lists, in this order of precedence, the
site's own ``[[tags]]`` (always), the vendors the gateway has seen on the site's pages (in the order it first saw
them), and the catalogue's most common vendors (``csp_default``) while they fit: a vendor seen on a page takes the
place of a common one the site does not use. A vendor that fits nowhere is left out (its loads are reported, or
blocked by an enforced policy) and named by :attr:`CspListing.left_out`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Final

from ._vendor import Vendor

#: Characters the listed vendors' host sources may take (``h *.h`` each), for a visitor who
#: allows everything: with the rest of the policy and the other headers, well within a 4 KB proxy buffer.
HOST_BUDGET: Final = 2600


def outermost(hosts: Collection[str]) -> list[str]:
    """``hosts`` (sorted) without those under another one of them (``*.example.com`` covers ``a.example.com``)."""
    listed = set(hosts)
    kept = []
    for host in sorted(listed):
        labels = host.split(".")
        if not any(".".join(labels[i:]) in listed for i in range(1, len(labels))):
            kept.append(host)
    return kept


def sources_length(hosts: Collection[str]) -> int:
    """The characters the policy's ``h *.h`` sources take for ``hosts``."""
    return sum(2 * len(host) + len("  *.") for host in outermost(hosts))


class CspListing:
    """The vendors whose hosts the policy lists, and their hosts per allowed-category set (cached).

    Read on every page (lock-free: a tuple and a dict swapped whole), grown by :meth:`see` as pages show vendors.
    """

    def __init__(
        self,
        vendors: Sequence[Vendor],
        hosts: Mapping[str, tuple[str, ...]],
        *,
        pinned: Collection[str],
        defaults: Sequence[str],
        budget: int = HOST_BUDGET,
    ) -> None:
        self._by_id = {vendor.id: vendor for vendor in vendors}
        self._hosts = hosts
        self._pinned = tuple(i for i in self._by_id if i in pinned)
        self._defaults = tuple(i for i in defaults if i in self._by_id)
        self._budget = budget
        self._seen: dict[str, None] = {}
        self._lock = threading.Lock()
        #: Bumped whenever the listed vendors change (the policy builder keys its cache on it).
        self.version = 0
        #: Vendors seen on the site's pages that did not fit the budget.
        self.left_out: tuple[str, ...] = ()
        self._listed: tuple[Vendor, ...] = ()
        self._cache: dict[frozenset[str], tuple[str, ...]] = {}
        self._last: object = None
        self._select()

    @property
    def listed(self) -> tuple[str, ...]:
        """The ids of the vendors the policy lists."""
        return tuple(v.id for v in self._listed)

    def _select(self) -> None:
        chosen: dict[str, None] = dict.fromkeys(self._pinned)
        hosts: set[str] = {h for i in chosen for h in self._hosts[i]}
        left_out: list[str] = []
        for group, report in ((self._seen, True), (self._defaults, False)):
            for vendor_id in group:
                if vendor_id in chosen:
                    continue
                more = set(self._hosts[vendor_id]) - hosts
                if sources_length(hosts | more) > self._budget:
                    if report:
                        left_out.append(vendor_id)
                    continue
                chosen[vendor_id] = None
                hosts |= more
        self._listed = tuple(self._by_id[i] for i in self._by_id if i in chosen)
        self._cache = {}
        self.left_out = tuple(left_out)
        self.version += 1

    def see(self, outcomes: Sequence[tuple[str, bool]]) -> bool:
        """Note the vendors a page showed (its ``(outcome key, fired)`` pairs; a key that is no vendor id is
        ignored); True when the listing changed. The same tuple again (a page replayed from memory) costs one
        comparison."""
        if outcomes is self._last:
            return False
        seen = self._seen
        new = [key for key, _fired in outcomes if key not in seen and key in self._by_id]
        self._last = outcomes
        if not new:
            return False
        with self._lock:
            before = self._listed
            for key in new:
                seen.setdefault(key, None)
            self._select()
            return self._listed != before

    def hosts_for_categories(self, categories: Collection[str]) -> tuple[str, ...]:
        """Sorted host suffixes of the listed vendors in ``categories``."""
        key = frozenset(categories)
        cache = self._cache
        found = cache.get(key)
        if found is None:
            found = tuple(sorted({h for v in self._listed if v.category in key for h in self._hosts[v.id]}))
            cache[key] = found
        return found


__all__ = ["HOST_BUDGET", "CspListing", "outermost", "sources_length"]
