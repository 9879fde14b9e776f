"""Aggregates: counted in memory, added to the store's counters table on flush, never lost on failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from cookiegate._counters import Counters, consent_outcome
from cookiegate.store._base import CounterRow
from cookiegate.store._sqlite import SQLiteStore

pytestmark = pytest.mark.anyio


class FailingSink:
    async def add_counters(self, rows: list[CounterRow]) -> None:
        raise OSError("database unreachable")


@pytest.mark.parametrize(
    ("categories", "outcome"),
    [
        ({"analytics": True, "ads": True}, "all"),
        ({"analytics": True, "ads": False}, "some"),
        ({"analytics": False, "ads": False}, "none"),
    ],
)
def test_consent_outcome_says_how_much_was_granted(categories: dict[str, bool], outcome: str) -> None:
    assert consent_outcome(categories) == outcome


def test_gating_decisions_are_counted_per_tag_country_regime_and_result() -> None:
    counters = Counters()
    for _ in range(3):
        counters.tag("ga4", country="FR", regime="EU", fired=False)
    counters.tag("ga4", country="FR", regime="EU", fired=True)
    counters.tag("meta_pixel", country=None, regime="unknown", fired=False)
    counts = {(r.subject, r.country, r.regime, r.outcome): r.count for r in counters.pending()}
    assert counts == {
        ("ga4", "FR", "EU", "blocked"): 3,
        ("ga4", "FR", "EU", "fired"): 1,
        ("meta_pixel", "-", "unknown", "blocked"): 1,
    }


def test_a_pages_decisions_counted_at_once_add_up_like_one_by_one() -> None:
    one_by_one, at_once = Counters(), Counters()
    page = [("ga4", False), ("meta_pixel", False), ("ga4", False), ("youtube", True)]
    for tag_id, fired in page:
        one_by_one.tag(tag_id, country="DE", regime="EU", fired=fired)
    at_once.tags(iter(page), country="DE", regime="EU")
    assert at_once.pending() == one_by_one.pending()
    assert sum(r.count for r in at_once.pending()) == 4


async def test_many_views_of_the_same_pages_add_up_like_one_by_one_and_survive_a_failed_flush() -> None:
    one_by_one, by_page = Counters(), Counters()
    pages = [(("ga4", False), ("meta_pixel", False), ("ga4", False)), (("youtube", True),), ()]
    views = [(pages[0], "DE", "EU"), (pages[1], "DE", "EU"), (pages[0], "DE", "EU"), (pages[0], None, "unknown"),
             (pages[2], "FR", "EU"), (pages[1], "DE", "EU")]
    for page, country, regime in views:
        for tag_id, fired in page:
            one_by_one.tag(tag_id, country=country, regime=regime, fired=fired)
        by_page.tags(page, country=country, regime=regime)
    by_page.tag("ga4", country="DE", regime="EU", fired=False)  # single events mix with whole pages
    one_by_one.tag("ga4", country="DE", regime="EU", fired=False)
    expected = one_by_one.pending()
    with pytest.raises(OSError):
        await by_page.flush(FailingSink())
    by_page.tags(pages[1], country="DE", regime="EU")
    one_by_one.tags(pages[1], country="DE", regime="EU")
    assert by_page.pending() == one_by_one.pending() != expected
    assert {(r.subject, r.country, r.outcome): r.count for r in by_page.pending()}[("ga4", "DE", "blocked")] == 5


async def test_flush_adds_counts_to_the_store_and_starts_over(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "log.db"))
    await store.open()
    counters = Counters()
    try:
        counters.tag("ga4", country="FR", regime="EU", fired=False)
        counters.consent("accept_all", {"analytics": True, "ads": True}, country="FR", regime="EU")
        assert await counters.flush(store) == 2
        assert counters.pending() == []
        counters.tag("ga4", country="FR", regime="EU", fired=False)
        await counters.stop(store)  # shutdown flushes what is left
        rows = {(r.kind, r.subject, r.outcome): r.count for r in await store.counters()}
    finally:
        await store.close()
    assert rows == {("tag", "ga4", "blocked"): 2, ("consent", "accept_all", "all"): 1}


async def test_counts_survive_a_failed_flush() -> None:
    counters = Counters()
    counters.tag("hotjar", country="DE", regime="EU", fired=False)
    with pytest.raises(OSError):
        await counters.flush(FailingSink())
    counters.tag("hotjar", country="DE", regime="EU", fired=False)
    assert [r.count for r in counters.pending()] == [2]


async def test_periodic_flush_runs_in_the_background_until_stopped(tmp_path: Path) -> None:
    import anyio

    store = SQLiteStore(str(tmp_path / "log.db"))
    await store.open()
    counters = Counters()
    try:
        counters.start(store, interval=0.01)
        counters.tag("clarity", country="GB", regime="UK", fired=True)
        with anyio.fail_after(10):
            while counters.pending():
                await anyio.sleep(0.01)
        await counters.stop(store)
        rows = await store.counters()
    finally:
        await store.close()
    assert [(r.subject, r.count) for r in rows] == [("clarity", 1)]


async def test_stopping_during_a_flush_counts_nothing_twice() -> None:
    import asyncio

    class SlowSink:
        """Writes at once, then waits for the write to be acknowledged (a store in a thread pool, a network
        round trip): a cancel there used to put the written counts back, to be written again."""

        def __init__(self) -> None:
            self.rows: list[CounterRow] = []
            self.writing = asyncio.Event()
            self.ack = asyncio.Event()

        async def add_counters(self, rows: list[CounterRow]) -> None:
            self.rows += rows
            self.writing.set()
            await self.ack.wait()

    sink = SlowSink()
    counters = Counters()
    counters.start(sink, interval=0.01)
    counters.tag("clarity", country="GB", regime="UK", fired=True)
    await asyncio.wait_for(sink.writing.wait(), 10)
    stopping = asyncio.ensure_future(counters.stop(sink))
    await asyncio.sleep(0.05)
    sink.ack.set()
    await asyncio.wait_for(stopping, 10)
    assert sum(r.count for r in sink.rows) == 1 and counters.pending() == []


def test_the_counting_day_is_the_utc_date_and_turns_over_at_utc_midnight(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime

    from cookiegate import _counters as counters

    assert counters._day() == datetime.now(UTC).date().isoformat()
    midnight = datetime(2026, 3, 29, tzinfo=UTC).timestamp()  # a DST change in Europe: irrelevant to UTC
    monkeypatch.setattr(counters.time, "time", lambda: midnight - 0.001)
    assert counters._day() == "2026-03-28"
    monkeypatch.setattr(counters.time, "time", lambda: midnight)
    assert counters._day() == "2026-03-29"
    monkeypatch.setattr(counters.time, "time", lambda: midnight + 86399.9)
    assert counters._day() == "2026-03-29"


def test_pages_that_differ_on_every_view_are_spread_into_tag_counts_rather_than_kept_as_kinds() -> None:
    from cookiegate import _counters as counters_module

    counters = Counters()
    for views in range(1, 3001):  # a page echoing the visitor's input: one more pixel each view
        counters.tags((("meta_pixel", False),) * (views % 2000 + 1), country="FR", regime="EU")
        assert len(counters._pages) <= counters_module._PAGE_KINDS
        assert len(counters._views) < counters_module._VIEWS_HELD
    (row,) = counters.pending()
    assert row.subject == "meta_pixel" and row.count == sum(v % 2000 + 1 for v in range(1, 3001))


def test_an_unclassified_host_is_counted_per_page_it_appears_on_and_its_first_sighting_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counters = Counters()
    page = (("google-analytics", False), ("unclassified:px.unknown-ads.example", False))
    with caplog.at_level("WARNING", logger="cookiegate.counters"):
        counters.tags(page, country="FR", regime="FR", page="/pricing?utm_source=x")
        counters.tags(page, country="FR", regime="FR", page="/pricing")
        counters.tags(page, country="DE", regime="DE", page="/blog")
        counters.tags(page, country="DE", regime="DE")  # a caller that does not say where: counted, no page
    rows = {(r.kind, r.subject, r.outcome): r.count for r in counters.pending() if r.kind == "page"}
    assert rows == {
        ("page", "unclassified:px.unknown-ads.example", "/pricing"): 2,
        ("page", "unclassified:px.unknown-ads.example", "/blog"): 1,
    }
    host = "unclassified:px.unknown-ads.example"
    blocked = [r.count for r in counters.pending() if r.subject == host and r.kind == "tag"]
    assert sum(blocked) == 4
    (record,) = [r for r in caplog.records if "px.unknown-ads.example" in r.getMessage()]
    assert "first seen on /pricing (blocked)" in record.getMessage() and "[[tags]]" in record.getMessage()


def test_unclassified_hosts_and_their_pages_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import cookiegate._counters as module

    monkeypatch.setattr(module, "HOSTS_PER_DAY", 3)
    monkeypatch.setattr(module, "PAGES_PER_HOST", 2)
    counters = Counters()
    for i in range(6):
        counters.tags(((f"unclassified:h{i}.example", False),), country="FR", regime="FR", page=f"/p{i}")
        counters.tags((("unclassified:h0.example", False),), country="FR", regime="FR", page=f"/q{i}")
    rows = counters.pending()
    hosts = {r.subject for r in rows if r.kind == "tag"}
    assert hosts == {"unclassified:h0.example", "unclassified:h1.example", "unclassified:h2.example", "unclassified:*"}
    assert sum(r.count for r in rows if r.kind == "tag") == 12  # nothing is lost, only lumped together
    assert len({r.outcome for r in rows if r.kind == "page" and r.subject == "unclassified:h0.example"}) == 2
