"""Aggregates for marketers: page views are counted, never logged one by one.

The gateway counts, in memory, every gating decision per tag × country × regime × fired/blocked and every
consent outcome, and adds the counts to the store's counters table periodically and at shutdown. Counting
is a dict increment under a lock (cheap on the request path); only :meth:`Counters.flush` touches the store.
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
from typing import Protocol

from .store._base import CounterRow

logger = logging.getLogger("cookiegate.counters")

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

    def tag(self, tag_id: str, *, country: str | None, regime: str, fired: bool) -> None:
        """Count one gating decision for a tag on a page."""
        self.tags([(tag_id, fired)], country=country, regime=regime)

    def tags(self, outcomes: Iterable[tuple[str, bool]], *, country: str | None, regime: str) -> None:
        """Count the gating decisions of one page, ``(tag_id, fired)`` each: one clock read, one lock.

        Cheapest when ``outcomes`` is a tuple (the same one for every view of a page, as the rewriter
        gives for a page it remembers)."""
        page = outcomes if isinstance(outcomes, tuple) else tuple(outcomes)
        if not page:
            return
        view = (_day(), country or "-", regime, page)
        with self._lock:
            views = self._views
            views.append(view)
            if len(views) >= _VIEWS_HELD:
                self._add_views()

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
        for (day, where, regime, page), views in pages.items():
            for tag_id, fired in page:
                counts[(day, "tag", tag_id, where, regime, "fired" if fired else "blocked")] += views

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
            self._task = asyncio.get_running_loop().create_task(self._periodic(store, interval))

    async def _periodic(self, store: CounterSink, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.flush(store)
            except Exception:
                logger.warning(
                    "cookiegate: could not flush counters; keeping them for the next flush", exc_info=True
                )

    async def stop(self, store: CounterSink) -> None:
        """Stop the periodic flush and flush what is left (at shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush(store)
