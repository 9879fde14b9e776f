"""What the site actually uses: the vendors of its own registry and those the gateway has seen on its pages.

The cookie statement and the settings list this, not the whole catalogue. "Seen" comes from the tag counters:
the store keeps the last day each counted subject was seen (shared by every instance, kept across restarts),
and this process's counts not yet flushed are added, so a vendor shows up as soon as a page carried it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

from .policy._catalog import TagRegistry, Vendor
from .policy._categories import OPTIONAL_CATEGORIES
from .store._base import CounterRow, DecisionStore, latest_days

logger = logging.getLogger("cookiegate.site_vendors")

#: The counter subject of a third party no registry entry claims (the rewriter's outcome key).
UNCLASSIFIED_PREFIX = "unclassified:"


@dataclass(frozen=True, slots=True)
class UsedVendor:
    """A vendor the site uses."""

    vendor: Vendor
    #: The last day (``YYYY-MM-DD``, UTC) a page carried it; ``None``: declared by the site, not seen yet.
    last_seen: str | None


@dataclass(frozen=True, slots=True)
class UnclassifiedHost:
    """A third-party host seen on the site's pages that no registry entry claims."""

    host: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class SiteUsage:
    """One snapshot of what the site uses: vendors by category order then name, and unclassified hosts."""

    vendors: tuple[UsedVendor, ...] = ()
    hosts: tuple[UnclassifiedHost, ...] = ()
    #: Changes whenever the content does: what renderings made from a snapshot are remembered under.
    key: int = field(default=0, compare=False)

    def in_category(self, category: str) -> tuple[UsedVendor, ...]:
        """The vendors of ``category``."""
        return tuple(used for used in self.vendors if used.vendor.category == category)


def site_usage(registry: TagRegistry, declared: Sequence[Vendor], seen: dict[str, str]) -> SiteUsage:
    """The usage for the site's own ``[[tags]]`` (``declared``) and ``seen`` (counter subject: last day).

    Subjects the registry does not know (a vendor since removed from the catalogue, the ``-`` of markup that
    names only a category) are left out; ``unclassified:<host>`` subjects become hosts."""
    used: dict[str, UsedVendor] = {}
    for vendor in declared:
        kept = registry.vendor(vendor.id)
        if kept is not None and kept.category in OPTIONAL_CATEGORIES:
            used[kept.id] = UsedVendor(kept, seen.get(kept.id))
    hosts = []
    for subject, day in seen.items():
        if subject.startswith(UNCLASSIFIED_PREFIX):
            hosts.append(UnclassifiedHost(subject[len(UNCLASSIFIED_PREFIX) :], day))
            continue
        found = registry.vendor(subject)
        if found is not None and found.category in OPTIONAL_CATEGORIES:
            used[found.id] = UsedVendor(found, day)
    order = {category: i for i, category in enumerate(OPTIONAL_CATEGORIES)}
    return SiteUsage(
        vendors=tuple(sorted(used.values(), key=lambda u: (order[u.vendor.category], u.vendor.name.lower()))),
        hosts=tuple(sorted(hosts, key=lambda h: h.host)),
    )


class SiteVendors:
    """Keeps :attr:`usage` up to date from the store and this process's unflushed counts.

    ``pending`` gives the counts not flushed yet (:meth:`Counters.pending`). Pages read :attr:`usage` (a
    snapshot, swapped whole); :meth:`refresh` builds a new one, periodically and when a page of the gateway
    that lists it is asked for.
    """

    __slots__ = ("_declared", "_pending", "_registry", "_stored", "_task", "usage")

    def __init__(
        self, registry: TagRegistry, declared: Sequence[Vendor], pending: Callable[[], Iterable[CounterRow]]
    ) -> None:
        self._registry = registry
        self._declared = tuple(declared)
        self._pending = pending
        #: What the store said last (kept when it cannot be read).
        self._stored: dict[str, str] = {}
        self._task: asyncio.Task[None] | None = None
        self.usage = site_usage(registry, self._declared, {})

    async def refresh(self, store: DecisionStore | None) -> SiteUsage:
        """Read the store (when given and readable) and the unflushed counts; return the new snapshot."""
        if store is not None:
            try:
                self._stored = await store.last_seen()
            except Exception:
                logger.warning("cookiegate: the vendors seen on the site could not be read", exc_info=True)
        seen = dict(self._stored)
        for subject, day in latest_days(self._pending()).items():
            if day > seen.get(subject, ""):
                seen[subject] = day
        usage = site_usage(self._registry, self._declared, seen)
        if usage != self.usage:
            self.usage = replace(usage, key=self.usage.key + 1)
        return self.usage

    def start(self, store: DecisionStore, interval: float = 60.0) -> None:
        """Refresh every ``interval`` seconds in a background task (call from the running event loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._periodic(store, interval))

    async def _periodic(self, store: DecisionStore, interval: float) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.refresh(store)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        """Stop the periodic refresh."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
