"""Aggregates for marketers: page views are counted, never logged one by one.

The gateway counts, in memory, every gating decision per tag × country × regime × fired/blocked and every
consent outcome, and adds the counts to the store's counters table periodically and at shutdown. Counting
is a dict increment under a lock (cheap on the request path); only :meth:`Counters.flush` touches the store.

An unclassified third party (outcome key ``unclassified:<host>``) is also counted per page it appears on
(kind ``page``, outcome = the path), and its first sighting in the process is logged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, Protocol

from .policy._outcomes import UNCLASSIFIED_PREFIX
from .store._base import CounterRow

logger = logging.getLogger("cookiegate.counters")

#: Pages kept per unclassified host and day (the dashboard shows where a host appears, not every URL).
PAGES_PER_HOST: Final = 20
#: Unclassified hosts kept per day; a page that echoes its visitors' input cannot grow the table further.
HOSTS_PER_DAY: Final = 500
#: The key the hosts beyond :data:`HOSTS_PER_DAY` are counted under.
OTHER_HOSTS: Final = UNCLASSIFIED_PREFIX + "*"

_Key = tuple[str, str, str, str, str, str]  # day, kind, subject, country, regime, outcome
_PageView = tuple[str, str, str, tuple[tuple[str, bool], ...]]  # day, country, regime, the page's outcomes


class CounterSink(Protocol):
    """Where counts are added (every :class:`~cookiegate.store.DecisionStore` is one)."""

    async def add_counters(self, rows: list[CounterRow]) -> None:
        """Add the counts (upsert)."""


_today: tuple[int, str] = (-1, "")


def _day() -> str:
    """Today's UTC date, ``YYYY-MM-DD``: worked out once per day (every HTML response asks)."""
    global _today
    epoch_day = int(time.time() // 86400)  # POSIX time has no leap seconds: this is the UTC day
    if epoch_day != _today[0]:
        _today = (epoch_day, datetime.fromtimestamp(epoch_day * 86400, UTC).date().isoformat())
    return _today[1]


def consent_outcome(categories: Mapping[str, bool]) -> str:
    """``all``, ``some`` or ``none`` of the optional categories granted."""
    granted = [v for v in categories.values() if v]
    if not granted:
        return "none"
    return "all" if len(granted) == len(categories) else "some"


def _unclassified_hosts(outcomes: tuple[tuple[str, bool], ...]) -> tuple[tuple[str, bool], ...]:
    """The unclassified hosts of a page's outcomes, once each: fired only if none of its tags was blocked (one
    page view per host, however many of its tags the page has)."""
    hosts: dict[str, bool] = {}
    for key, fired in outcomes:
        if key.startswith(UNCLASSIFIED_PREFIX):
            hosts[key] = hosts.get(key, True) and fired
    return tuple(hosts.items())


#: Page kinds (outcomes per day, country and regime) kept as such before they are spread into tag counts.
_PAGE_KINDS = 1024
#: Page views appended as they come before they are added up by kind (in one C-level pass).
_VIEWS_HELD = 512


class Counters:
    """In-memory counts, added to a store by :meth:`flush`. Thread-safe."""

    def __init__(self) -> None:
        self._counts: Counter[_Key] = Counter()
        #: Page views not yet spread into ``_counts``: (day, country, regime, the page's outcomes) -> views.
        #: A site's pages repeat, so one dict entry per page kind and one addition per view beats one
        #: key per tag per view; they are spread out when read or flushed.
        self._pages: Counter[_PageView] = Counter()
        #: The latest page views, in order, not yet added to ``_pages``: an append is all a view costs.
        self._views: list[_PageView] = []
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Event | None = None
        #: Per day, the unclassified hosts counted and the pages kept for each (bounded).
        self._hosts: dict[str, dict[str, set[str]]] = {}
        #: Unclassified hosts whose first sighting was logged (bounded like the per-day table).
        self._logged: set[str] = set()
        #: The last outcomes counted with a page, and their unclassified hosts (a remembered page gives the same
        #: tuple to each of its views).
        self._last_hosts: tuple[tuple[tuple[str, bool], ...], tuple[tuple[str, bool], ...]] | None = None

    def tag(self, tag_id: str, *, country: str | None, regime: str, fired: bool) -> None:
        """Count one gating decision for a tag on a page."""
        self.tags([(tag_id, fired)], country=country, regime=regime)

    def tags(
        self, outcomes: Iterable[tuple[str, bool]], *, country: str | None, regime: str, page: str | None = None
    ) -> None:
        """Count the gating decisions of one page, ``(outcome key, fired)`` each: one clock read, one lock.

        ``page`` is the page's path: where unclassified hosts appear. Cheapest when ``outcomes`` is a tuple
        (the same one for every view of a page, as the rewriter gives for a page it remembers)."""
        kept = outcomes if isinstance(outcomes, tuple) else tuple(outcomes)
        if not kept:
            return
        day = _day()
        view = (day, country or "-", regime, kept)
        unclassified = None
        if page is not None:
            last = self._last_hosts
            if last is not None and last[0] is kept:
                unclassified = last[1]  # the same page replayed: its hosts were worked out already
            else:
                unclassified = _unclassified_hosts(kept)
                self._last_hosts = (kept, unclassified)
        with self._lock:
            views = self._views
            views.append(view)
            if len(views) >= _VIEWS_HELD:
                self._add_views()
            if unclassified:
                self._sighted(day, unclassified, page or "-")

    def _sighted(self, day: str, keys: tuple[tuple[str, bool], ...], page: str) -> None:
        """Remember the page an unclassified host appeared on; log its first sighting (lock held)."""
        path = page.split("?", 1)[0][:200]
        hosts = self._hosts.get(day)
        if hosts is None:
            # A new day: the days before it are counted already, and their tables would only grow.
            hosts = {}
            self._hosts = {day: hosts}
        for key, fired in keys:
            if key not in hosts and len(hosts) >= HOSTS_PER_DAY:
                continue
            pages = hosts.setdefault(key, set())
            if path in pages or len(pages) < PAGES_PER_HOST:
                pages.add(path)
                self._counts[(day, "page", key, "-", "-", path)] += 1
            if key not in self._logged and len(self._logged) < HOSTS_PER_DAY:
                self._logged.add(key)
                logger.warning(
                    "cookiegate: unclassified third party %s first seen on %s (%s): no registry or catalogue "
                    "entry claims it; classify it with a [[tags]] entry (hosts = [\"%s\"], its category), or "
                    "add it to csp_allow if it is the site's own",
                    key[len(UNCLASSIFIED_PREFIX) :],
                    path,
                    "let through" if fired else "blocked",
                    key[len(UNCLASSIFIED_PREFIX) :],
                )

    def _add_views(self) -> None:
        """Add the held page views up by kind (with the lock held)."""
        if not self._views:
            return
        self._pages.update(self._views)
        self._views = []
        if len(self._pages) > _PAGE_KINDS:
            # Pages that echo what a visitor sends can differ on every view: never keep more kinds than
            # this between flushes (the per-tag counts they spread into are bounded by the catalog).
            self._spread()

    def _spread(self) -> None:
        """Move the page views into per-tag counts (with the lock held)."""
        self._add_views()
        if not self._pages:
            return
        counts = self._counts
        pages, self._pages = self._pages, Counter()
        known = self._hosts
        for (day, where, regime, page), views in pages.items():
            for tag_id, fired in page:
                if tag_id.startswith(UNCLASSIFIED_PREFIX):
                    tag_id = self._bounded_host(known.setdefault(day, {}), tag_id)
                counts[(day, "tag", tag_id, where, regime, "fired" if fired else "blocked")] += views

    @staticmethod
    def _bounded_host(hosts: dict[str, set[str]], key: str) -> str:
        if key in hosts:
            return key
        if len(hosts) >= HOSTS_PER_DAY:
            return OTHER_HOSTS
        hosts[key] = set()
        return key

    def consent(
        self, action: str, categories: Mapping[str, bool], *, country: str | None, regime: str
    ) -> None:
        """Count one consent decision by its action and outcome (all/some/none granted)."""
        key = (_day(), "consent", action, country or "-", regime, consent_outcome(categories))
        with self._lock:
            self._counts[key] += 1

    def pending(self) -> list[CounterRow]:
        """Counts not yet flushed."""
        with self._lock:
            self._spread()
            return [CounterRow(*k, count=n) for k, n in sorted(self._counts.items())]

    async def flush(self, store: CounterSink) -> int:
        """Add everything counted so far to ``store``; return the number of rows written.

        On failure the counts are put back (nothing is lost; they go with the next flush) and the error
        is raised.
        """
        with self._lock:
            self._spread()
            taken, self._counts = self._counts, Counter()
        if not taken:
            return 0
        rows = [CounterRow(*k, count=n) for k, n in sorted(taken.items())]
        try:
            await store.add_counters(rows)
        except BaseException:
            with self._lock:
                self._counts.update(taken)
            raise
        return len(rows)

    def start(self, store: CounterSink, interval: float = 60.0) -> None:
        """Flush every ``interval`` seconds in a background task (call from the running event loop)."""
        if self._task is None or self._task.done():
            self._stopping = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._periodic(store, interval, self._stopping))

    async def _periodic(self, store: CounterSink, interval: float, stopping: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)
            if stopping.is_set():
                return
            try:
                await self.flush(store)
            except Exception:
                logger.warning(
                    "cookiegate: could not flush counters; keeping them for the next flush", exc_info=True
                )

    async def stop(self, store: CounterSink) -> None:
        """Stop the periodic flush and flush what is left (at shutdown).

        The periodic task is told to stop, never cancelled: a cancel landing while a flush waits on the store
        could put back counts the store had already written, and they would be counted twice."""
        task, self._task = self._task, None
        if task is not None:
            if self._stopping is not None:
                self._stopping.set()
            await task
        await self.flush(store)
