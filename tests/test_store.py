"""The decision log's behaviour, the same suite against SQLite and a real PostgreSQL server.

PostgreSQL tests use ``COOKIEGATE_TEST_POSTGRES_URL`` (``.ci/run`` sets it), each in a schema of its own.
Without it they are skipped locally and fail under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest

from cookiegate.store import ConsentRecord, StoreError, open_store
from cookiegate.store._base import CounterRow
from cookiegate.store._chain import entry_hash
from cookiegate.store._logstore import LogStore
from cookiegate.store._schema import SCHEMA_VERSION
from cookiegate.store._sqlite import SQLiteStore

pytestmark = pytest.mark.anyio

PG_URL = os.environ.get("COOKIEGATE_TEST_POSTGRES_URL")


def require_postgres() -> str:
    """The test server's URL; skip (locally) or fail (CI) without one."""
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("COOKIEGATE_TEST_POSTGRES_URL is not set; under CI the PostgreSQL tests must run")
        pytest.skip("COOKIEGATE_TEST_POSTGRES_URL is not set (run .ci/run, or start PostgreSQL and set it)")
    return PG_URL


def make_record(i: int, consent_id: str = "visitor-a", **changes: Any) -> ConsentRecord:
    """A realistic record; ``i`` varies the time and the choice."""
    day, clock = 1 + i // 86400 % 28, f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
    data: dict[str, Any] = {
        "consent_id": consent_id,
        "at": f"2026-03-{day:02d}T{clock}.000000+00:00",
        "action": "accept_all" if i % 2 == 0 else "reject_all",
        "categories": {
            "functional": i % 2 == 0,
            "analytics": i % 2 == 0,
            "ads": i % 2 == 0,
            "social": i % 2 == 0,
        },
        "policy_revision": "1",
        "regime_key": "EU",
        "regime_kind": "opt-in",
        "banner_variant": "opt-in",
        "banner_hash": "ab" * 32,
        "language": "en",
        "country": "FR",
        "subdivision": "FR-IDF",
        "city": "Paris",
        "gpc": False,
        "dnt": False,
        "device": "desktop",
        "browser": "Firefox",
        "path": "/pricing",
        "ip": "85.0.1.0/24",
    }
    data.update(changes)
    return ConsentRecord(**data)


@contextmanager
def postgres_schema() -> Iterator[tuple[str, str]]:
    """A fresh schema on the test server, dropped afterwards: ``(url, schema)``."""
    import psycopg

    url = require_postgres()
    schema = "cgtest_" + uuid.uuid4().hex[:12]
    try:
        yield url, schema
    finally:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Builds stores on one database (``factory(**kwargs)``); several may be open at once."""
    if request.param == "sqlite":

        def make_sqlite(**kwargs: Any) -> LogStore:
            kwargs.setdefault("spool_dir", str(tmp_path / "spool"))
            return SQLiteStore(str(tmp_path / "log.db"), **kwargs)

        yield make_sqlite
        return
    from cookiegate.store._postgres import PostgresStore

    with postgres_schema() as (url, schema):

        def make_pg(**kwargs: Any) -> LogStore:
            kwargs.setdefault("spool_dir", str(tmp_path / "spool"))
            return PostgresStore(url, schema=schema, **kwargs)

        yield make_pg


@pytest.fixture
async def store(store_factory: Any) -> AsyncIterator[LogStore]:
    """An open store (SQLite, then PostgreSQL)."""
    s: LogStore = store_factory(retry_interval=0.05)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def raw(store: LogStore, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run SQL directly on the store's database, as someone with database access would."""
    async with store.backend.transaction(write=True) as tx:
        if sql.lstrip().upper().startswith("SELECT"):
            return await tx.fetchall(sql, params)
        await tx.execute(sql, params)
        return []


async def fill(
    store: LogStore, n: int, consent_ids: tuple[str, ...] = ("visitor-a", "visitor-b")
) -> list[ConsentRecord]:
    records = [make_record(i, consent_ids[i % len(consent_ids)]) for i in range(n)]
    for r in records:
        await store.record(r)
    return records


async def row(store: LogStore, seq: int) -> tuple[Any, ...]:
    rows = await raw(
        store, "SELECT record_id, prev_hash, hash, body FROM cookiegate_log WHERE seq = ?", (seq,)
    )
    return rows[0]


# -- recording ---------------------------------------------------------------------------------------------


async def test_records_come_back_to_their_own_visitor_oldest_first(store: LogStore) -> None:
    records = await fill(store, 6)
    mine = await store.records_for("visitor-a")
    assert [r["record_id"] for r in mine] == [r.record_id for r in records if r.consent_id == "visitor-a"]
    assert all(r["consent_id"] == "visitor-a" for r in mine)
    assert mine[0]["categories"] == dict(sorted(records[0].categories.items()))
    assert await store.records_for("nobody") == []


async def test_concurrent_records_share_one_transaction_and_chain_in_order(store: LogStore) -> None:
    transactions = 0
    original = store.backend.transaction

    def counting(*, write: bool) -> Any:
        nonlocal transactions
        transactions += write
        return original(write=write)

    store.backend.transaction = counting  # type: ignore[method-assign]
    records = [make_record(i, f"v{i}") for i in range(40)]
    async with anyio.create_task_group() as tg:
        for r in records:
            tg.start_soon(store.record, r)
    # 40 waiters, but the writer commits whatever is queued at once: far fewer transactions than records.
    assert transactions < len(records) // 4
    exported = [r async for r in store.export()]
    assert sorted(r["record_id"] for r in exported) == sorted(r.record_id for r in records)
    assert [r["seq"] for r in exported] == list(range(1, 41))
    assert (await store.verify()).ok


async def test_without_group_commit_each_record_is_its_own_transaction(store_factory: Any) -> None:
    store: LogStore = store_factory(group_commit=False)
    await store.open()
    try:
        transactions = 0
        original = store.backend.transaction

        def counting(*, write: bool) -> Any:
            nonlocal transactions
            transactions += write
            return original(write=write)

        store.backend.transaction = counting  # type: ignore[method-assign]
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(store.record, make_record(i))
        assert transactions == 8
        assert (await store.verify()).ok
    finally:
        await store.close()


async def test_a_second_store_on_the_same_database_continues_the_chain(
    store: LogStore, store_factory: Any
) -> None:
    await fill(store, 3)
    other: LogStore = store_factory()
    await other.open()
    try:
        await other.record(make_record(10))
        await store.record(make_record(11))
        report = await other.verify()
    finally:
        await other.close()
    assert report.ok and report.checked == 5 and report.head_seq == 5


async def test_reopened_store_appends_after_the_existing_chain(store: LogStore, store_factory: Any) -> None:
    await fill(store, 3)
    await store.close()
    again: LogStore = store_factory()
    await again.open()
    try:
        await again.record(make_record(3))
        report = await again.verify()
    finally:
        await again.close()
    assert report.ok and report.head_seq == 4


async def test_record_after_close_is_refused(store: LogStore) -> None:
    await store.close()
    with pytest.raises(StoreError):
        await store.record(make_record(0))


async def test_a_database_error_that_is_not_an_outage_fails_the_record(store: LogStore) -> None:
    async def broken(entries: Any) -> int:
        raise ValueError("a bug, not an outage")

    store._append = broken  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        await store.record(make_record(0))
    assert store.spooled == 0


async def test_newer_schema_version_is_refused_at_open(store: LogStore, store_factory: Any) -> None:
    await raw(store, "UPDATE cookiegate_schema_version SET version = 99")
    newer: LogStore = store_factory()
    with pytest.raises(StoreError, match="newer"):
        await newer.open()
    await newer.close()


# -- tamper evidence -----------------------------------------------------------------------------------------


async def test_untouched_chain_verifies(store: LogStore) -> None:
    await fill(store, 5)
    report = await store.verify()
    assert report.ok and report.checked == 5
    assert report.head_hash == (await row(store, 5))[2]


async def test_edited_choice_is_named_by_verify(store: LogStore) -> None:
    records = await fill(store, 6)
    record_id, _, _, body = await row(store, 3)
    # seq 3 is an accept_all; someone turns it into a refusal of analytics.
    await raw(store, "UPDATE cookiegate_log SET body = ? WHERE seq = 3",
              (body.replace('"analytics":true', '"analytics":false'),))  # fmt: skip
    report = await store.verify()
    assert not report.ok
    assert (report.problem, report.seq, report.record_id) == ("edited", 3, records[2].record_id)
    assert "seq 3" in report.describe()


async def test_edited_consent_id_column_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 4)
    await raw(store, "UPDATE cookiegate_log SET consent_id = 'visitor-z' WHERE seq = 2")
    report = await store.verify()
    assert (report.problem, report.seq) == ("edited", 2)


async def test_rewritten_record_with_a_recomputed_hash_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 5)
    _, prev, _, body = await row(store, 2)
    forged = body.replace('"reject_all"', '"accept_all"')
    # A careful forger: content, indexed column and the record's own hash all agree.
    await raw(store, "UPDATE cookiegate_log SET body = ?, action = 'accept_all', hash = ? WHERE seq = 2",
              (forged, entry_hash(prev, forged)))  # fmt: skip
    report = await store.verify()
    assert (report.problem, report.seq) == ("rewritten", 2)


async def test_removed_record_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 6)
    await raw(store, "DELETE FROM cookiegate_log WHERE seq = 4")
    report = await store.verify()
    assert (report.problem, report.seq) == ("removed", 4)


async def test_removed_last_record_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 6)
    await raw(store, "DELETE FROM cookiegate_log WHERE seq = 6")
    report = await store.verify()
    assert (report.problem, report.seq) == ("removed", 6)


async def test_removed_first_record_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 3)
    await raw(store, "DELETE FROM cookiegate_log WHERE seq = 1")
    report = await store.verify()
    assert (report.problem, report.seq) == ("removed", 1)


async def test_record_appended_behind_the_gateways_back_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 4)
    _, _, head_hash, _ = await row(store, 4)
    forged = make_record(99, "visitor-x")
    body = forged.to_json()
    await raw(
        store,
        "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
        "VALUES (5, ?, 'consent', ?, ?, ?, ?, ?, ?)",
        (
            forged.record_id,
            forged.consent_id,
            forged.at,
            forged.action,
            body,
            head_hash,
            entry_hash(head_hash, body),
        ),
    )
    report = await store.verify()
    assert (report.problem, report.seq, report.record_id) == ("inserted", 5, forged.record_id)


async def test_record_inserted_in_the_middle_is_named_by_verify(store: LogStore) -> None:
    await fill(store, 5)
    _, _, h2, _ = await row(store, 2)
    # Make room at seq 3 (two steps: a primary key cannot pass through itself), then forge a record there
    # that chains correctly to seq 2.
    await raw(store, "UPDATE cookiegate_log SET seq = seq + 1000 WHERE seq >= 3")
    await raw(store, "UPDATE cookiegate_log SET seq = seq - 999 WHERE seq >= 1000")
    await raw(store, "UPDATE cookiegate_chain SET head_seq = 6")
    forged = make_record(77, "visitor-x")
    body = forged.to_json()
    await raw(
        store,
        "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
        "VALUES (3, ?, 'consent', ?, ?, ?, ?, ?, ?)",
        (forged.record_id, forged.consent_id, forged.at, forged.action, body, h2, entry_hash(h2, body)),
    )
    report = await store.verify()
    assert (report.problem, report.seq, report.record_id) == ("inserted", 3, forged.record_id)


# -- published heads (anchors) -------------------------------------------------------------------------------


async def recompute_from(store: LogStore, seq: int) -> None:
    """Recompute every hash from ``seq`` to the end and the chain head, as a careful forger would."""
    rows = await raw(store, "SELECT seq, body FROM cookiegate_log WHERE seq >= ? ORDER BY seq", (seq,))
    prev = (await row(store, seq))[1]
    for n, body in rows:
        digest = entry_hash(prev, body)
        await raw(store, "UPDATE cookiegate_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, n))
        prev = digest
    await raw(store, "UPDATE cookiegate_chain SET head_hash = ?", (prev,))


async def test_published_heads_still_in_the_chain_verify_as_it_grows(store: LogStore) -> None:
    await fill(store, 3)
    first = await store.verify()
    await fill(store, 3, ("visitor-c",))
    second = await store.verify()
    report = await store.verify({first.head_seq: first.head_hash, second.head_seq: second.head_hash})
    assert report.ok and report.checked == 6, report.describe()
    assert report.anchor == f"6:{second.head_hash}" and "(anchor 6:" in report.describe()


async def test_a_chain_rewritten_with_every_hash_recomputed_is_caught_by_a_published_head(store: LogStore) -> None:
    await fill(store, 5)
    published = {seq: (await row(store, seq))[2] for seq in (1, 3, 5)}  # heads published as the log grew
    _, _, _, body = await row(store, 2)
    forged = body.replace('"reject_all"', '"accept_all"').replace('"analytics":false', '"analytics":true')
    await raw(store, "UPDATE cookiegate_log SET body = ?, action = 'accept_all' WHERE seq = 2", (forged,))
    await recompute_from(store, 2)
    assert (await store.verify()).ok  # the chain alone cannot tell
    report = await store.verify(published)
    assert (report.problem, report.seq) == ("rewritten", 3)  # the first published head after the edit
    assert published[3] in report.detail and "seq 3" in report.describe()


async def test_a_chain_cut_short_with_its_head_set_back_is_caught_by_a_published_head(store: LogStore) -> None:
    await fill(store, 6)
    published = await store.verify()
    await raw(store, "DELETE FROM cookiegate_log WHERE seq >= 5")
    await raw(store, "UPDATE cookiegate_chain SET head_seq = 4, head_hash = ?", ((await row(store, 4))[2],))
    assert (await store.verify()).ok  # the chain alone cannot tell
    report = await store.verify({published.head_seq: published.head_hash})
    assert (report.problem, report.seq) == ("removed", 5)
    assert "ends at seq 4" in report.detail


async def test_a_published_head_at_an_erased_record_still_verifies(store: LogStore) -> None:
    await fill(store, 4)
    published = {seq: (await row(store, seq))[2] for seq in (1, 2)}  # seq 1 is visitor-a's, later erased
    assert await store.erase("visitor-a") == 2
    report = await store.verify(published)
    assert report.ok, report.describe()


async def test_published_heads_purged_since_are_checked_where_the_chain_start_still_can(store: LogStore) -> None:
    records = await fill(store, 10)
    hashes = {seq: (await row(store, seq))[2] for seq in (2, 4, 7)}
    assert await store.purge(records[4].at) == 4  # seq 1-4 gone: the chain starts at 5, after seq 4's hash
    report = await store.verify(hashes)
    assert report.ok, report.describe()
    assert report.notes == (
        "the head published at seq 2 is older than the chain's start (seq 5, purged since): not checked",
    )
    assert "note: the head published at seq 2" in report.describe()
    wrong = await store.verify({4: "0" * 64})
    assert (wrong.problem, wrong.seq) == ("rewritten", 4)


# -- erasure, retention --------------------------------------------------------------------------------------


async def test_erasure_leaves_tombstones_and_the_chain_still_verifies(store: LogStore) -> None:
    await fill(store, 6)
    assert await store.erase("visitor-a") == 3
    assert await store.records_for("visitor-a") == []
    assert len(await store.records_for("visitor-b")) == 3
    leftovers = await raw(
        store,
        "SELECT COUNT(*) FROM cookiegate_log WHERE consent_id = ? OR body LIKE ?",
        ("visitor-a", "%visitor-a%"),
    )
    assert leftovers[0][0] == 0
    report = await store.verify()
    assert report.ok, report.describe()
    assert report.checked == 7  # six records (three of them tombstones) and the erasure entry
    assert await store.erase("visitor-a") == 0


async def test_tombstone_made_directly_in_the_database_is_reported(store: LogStore) -> None:
    await fill(store, 5)
    await raw(store, "UPDATE cookiegate_log SET body = NULL, consent_id = '', erased_at = 'x' WHERE seq = 2")
    report = await store.verify()
    assert (report.problem, report.seq) == ("tombstone", 2)


async def test_purge_deletes_the_oldest_records_and_the_chain_still_verifies(store: LogStore) -> None:
    records = await fill(store, 10)
    cutoff = records[4].at
    assert await store.purge(cutoff) == 4
    left = [r async for r in store.export()]
    assert [r["record_id"] for r in left] == [r.record_id for r in records[4:]]
    report = await store.verify()
    assert report.ok, report.describe()
    assert await store.purge(cutoff) == 0
    assert (await store.verify()).ok


async def test_deleting_old_records_without_purge_is_reported_after_a_purge(store: LogStore) -> None:
    records = await fill(store, 10)
    await store.purge(records[3].at)
    await raw(store, "DELETE FROM cookiegate_log WHERE seq <= 5")
    await raw(
        store, "UPDATE cookiegate_chain SET start_seq = 6, start_prev_hash = ?", ((await row(store, 6))[1],)
    )
    report = await store.verify()
    assert (report.problem, report.seq) == ("removed", 5)


async def _move_start_to(store: LogStore, seq: int) -> None:
    """Delete every row before ``seq`` and start the chain there, as someone with database access would."""
    prev = (await row(store, seq - 1))[2]
    await raw(store, "DELETE FROM cookiegate_log WHERE seq < ?", (seq,))
    await raw(store, "UPDATE cookiegate_chain SET start_seq = ?, start_prev_hash = ?", (seq, prev))


async def test_an_emptied_log_with_its_start_moved_to_the_head_does_not_verify(store: LogStore) -> None:
    await fill(store, 5)
    published = {5: (await row(store, 5))[2]}
    await _move_start_to(store, 6)
    assert await raw(store, "SELECT COUNT(*) FROM cookiegate_log") == [(0,)]
    for anchors in (None, published):
        report = await store.verify(anchors)
        assert not report.ok, report.describe()
        assert (report.problem, report.seq) == ("removed", 5)
        assert "moved without a matching purge entry" in report.detail


async def test_a_start_moved_with_rows_left_and_no_purge_entry_does_not_verify(store: LogStore) -> None:
    await fill(store, 6)
    await _move_start_to(store, 4)
    report = await store.verify()
    assert (report.ok, report.problem, report.seq) == (False, "removed", 3)


async def test_a_purge_of_every_record_still_verifies(store: LogStore) -> None:
    await fill(store, 5)
    assert await store.purge("2099-01-01T00:00:00.000000+00:00") == 5
    report = await store.verify()
    assert report.ok and report.checked == 1, report.describe()  # the purge entry alone


@pytest.mark.parametrize("seq", [None, -1, 0])
async def test_a_row_without_a_positive_seq_cannot_be_written(store: LogStore, seq: int | None) -> None:
    await fill(store, 2)
    with pytest.raises(Exception, match="(?i)constraint|null"):
        await raw(
            store,
            "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
            "VALUES (?, 'sneaked', 'consent', 'x', 'x', 'accept_all', '{}', 'x', 'x')",
            (seq,),
        )
    assert (await store.verify()).ok


#: cookiegate_log as schema version 1 created it: nothing kept its seq positive, and SQLite lets a
#: non-INTEGER primary key be NULL.
_V1_LOG = """CREATE TABLE cookiegate_log_v1 (
    seq BIGINT PRIMARY KEY, record_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, consent_id TEXT NOT NULL,
    at TEXT NOT NULL, action TEXT NOT NULL, body TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL, erased_at TEXT)"""


async def _as_version_1(store: LogStore) -> None:
    await raw(store, _V1_LOG)
    await raw(store, "INSERT INTO cookiegate_log_v1 SELECT * FROM cookiegate_log")
    await raw(store, "DROP TABLE cookiegate_log")
    await raw(store, "DROP TABLE IF EXISTS cookiegate_log_set_aside")
    await raw(store, "ALTER TABLE cookiegate_log_v1 RENAME TO cookiegate_log")
    await raw(store, "UPDATE cookiegate_schema_version SET version = 1")


async def test_a_version_1_log_is_migrated_and_its_rows_without_a_positive_seq_are_named_by_verify(
    store: LogStore, store_factory: Any
) -> None:
    await fill(store, 4)
    await _as_version_1(store)
    sqlite = isinstance(store, SQLiteStore)
    bad = [(-7, "negative"), (0, "zero")] + ([(None, "null")] if sqlite else [])  # PostgreSQL keys are NOT NULL
    for seq, record_id in bad:
        await raw(
            store,
            "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
            "VALUES (?, ?, 'consent', 'visitor-a', 'x', 'accept_all', '{}', 'x', 'x')",
            (seq, record_id),
        )
    await store.close()
    migrated: LogStore = store_factory()
    await migrated.open()
    try:
        assert await raw(migrated, "SELECT version FROM cookiegate_schema_version") == [(SCHEMA_VERSION,)]
        report = await migrated.verify()
        assert not report.ok and report.problem == "inserted", report.describe()
        assert report.record_id == "negative" and report.seq == -7
        assert "no place in the chain" in report.detail and str(len(bad)) in report.detail
        with pytest.raises(Exception, match="(?i)constraint|null"):
            await raw(
                migrated,
                "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
                "VALUES (-1, 'again', 'consent', 'x', 'x', 'x', '{}', 'x', 'x')",
            )
        assert len([r async for r in migrated.export()]) == 4  # the chained records are all still there
        await raw(migrated, "DELETE FROM cookiegate_log_set_aside")
        assert (await migrated.verify()).ok
    finally:
        await migrated.close()


# -- reading -------------------------------------------------------------------------------------------------


async def test_export_since_returns_records_from_that_time_on(store: LogStore) -> None:
    records = await fill(store, 6)
    since = [r async for r in store.export(since=records[3].at)]
    assert [r["record_id"] for r in since] == [r.record_id for r in records[3:]]
    assert {"seq", "hash", "consent_id", "categories"} <= set(since[0])


async def test_stats_count_decisions_and_opt_ins_per_group(store: LogStore) -> None:
    for i in range(4):
        await store.record(make_record(i, f"v{i}", country="FR"))
    await store.record(make_record(0, "v9", country="DE", regime_key="EU-DE"))
    by_country = {r.group: r for r in await store.stats("country")}
    assert by_country["FR"].decisions == 4 and by_country["FR"].granted["analytics"] == 2
    assert by_country["FR"].rate("analytics") == 0.5
    assert by_country["DE"].decisions == 1 and by_country["DE"].rate("ads") == 1.0
    by_regime = {r.group for r in await store.stats("regime")}
    assert by_regime == {"EU", "EU-DE"}
    assert [r.group for r in await store.stats("day")] == ["2026-03-01"]


async def test_counters_are_added_to_existing_rows(store: LogStore) -> None:
    row1 = CounterRow("2026-03-01", "tag", "ga4", "FR", "EU", "blocked", 3)
    await store.add_counters([row1, CounterRow("2026-03-01", "tag", "ga4", "FR", "EU", "fired", 1)])
    await store.add_counters([CounterRow("2026-03-01", "tag", "ga4", "FR", "EU", "blocked", 2)])
    counts = {(r.subject, r.outcome): r.count for r in await store.counters()}
    assert counts == {("ga4", "blocked"): 5, ("ga4", "fired"): 1}


async def test_the_last_day_each_tag_was_seen_is_kept_whichever_order_the_counts_arrive_in(
    store: LogStore, store_factory: Any
) -> None:
    await store.add_counters([CounterRow("2026-03-02", "tag", "hotjar", "FR", "EU", "blocked", 3),
                              CounterRow("2026-03-01", "tag", "unclassified:cdn.example", "-", "US-CA", "fired", 1),
                              CounterRow("2026-03-02", "consent", "accept_all", "FR", "EU", "all", 1)])
    # A flush of an instance that counted an older day does not move the last day back.
    await store.add_counters([CounterRow("2026-02-27", "tag", "hotjar", "DE", "EU", "fired", 1)])
    other: LogStore = store_factory()  # another instance on the same database sees the same
    await other.open()
    try:
        assert await other.last_seen() == {"hotjar": "2026-03-02", "unclassified:cdn.example": "2026-03-01"}
    finally:
        await other.close()


async def test_a_version_2_log_learns_the_last_days_from_its_counters(store: LogStore, store_factory: Any) -> None:
    await store.add_counters([CounterRow("2026-03-04", "tag", "ga4", "FR", "EU", "fired", 2),
                              CounterRow("2026-03-09", "tag", "ga4", "FR", "EU", "blocked", 1)])
    await raw(store, "DROP TABLE cookiegate_seen")
    await raw(store, "UPDATE cookiegate_schema_version SET version = 2")
    migrated: LogStore = store_factory()
    await migrated.open()
    try:
        assert await migrated.last_seen() == {"ga4": "2026-03-09"}
        assert (await raw(migrated, "SELECT version FROM cookiegate_schema_version"))[0][0] == SCHEMA_VERSION
    finally:
        await migrated.close()


# -- outages: spool and replay -------------------------------------------------------------------------------


def _outage_error(store: LogStore) -> Exception:
    """An exception the store's backend classifies as "database unreachable"."""
    if isinstance(store, SQLiteStore):
        return sqlite3.OperationalError("database is locked")
    import psycopg

    return psycopg.OperationalError("connection refused")


async def test_records_during_an_outage_are_spooled_then_replayed_once_in_order(store: LogStore) -> None:
    before = await fill(store, 2)
    original = store.backend.transaction
    down = True
    failed = 0

    def flaky(*, write: bool) -> Any:
        nonlocal failed
        if down:
            failed += 1
            raise _outage_error(store)
        return original(write=write)

    store.backend.transaction = flaky  # type: ignore[method-assign]
    during = [make_record(100 + i, "visitor-c") for i in range(5)]
    for r in during:
        await store.record(r)  # returns: durable in the fsync'd spool
    assert failed >= 1 and store.spooled == 5
    spool_lines = store.spool.path.read_text().splitlines()
    assert [json.loads(line)["record_id"] for line in spool_lines] == [r.record_id for r in during]
    down = False
    after = make_record(200, "visitor-c")
    await store.record(after)
    with anyio.fail_after(10):
        while store.spooled:
            await anyio.sleep(0.02)
    ids = [r["record_id"] async for r in store.export()]
    assert ids == [r.record_id for r in (*before, *during, after)]
    assert (await store.verify()).ok


async def test_replay_after_a_crash_mid_replay_writes_nothing_twice(
    store: LogStore, store_factory: Any
) -> None:
    # A process died after committing part of its spool but before emptying it: its spool file is left
    # behind, holding records that are already in the database and some that are not.
    committed = await fill(store, 3)
    pending = [make_record(50 + i, "visitor-d") for i in range(3)]
    spool_dir = store.spool.directory
    spool_dir.mkdir(parents=True, exist_ok=True)
    orphan = spool_dir / f"cookiegate-{store.spool.key}-999999-deadbeef.spool"
    orphan.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in (*committed[1:], *pending)) + '{"torn')
    restarted: LogStore = store_factory()
    await restarted.open()
    try:
        ids = [r["record_id"] async for r in restarted.export()]
        report = await restarted.verify()
    finally:
        await restarted.close()
    assert ids == [r.record_id for r in (*committed, *pending)]
    assert report.ok
    assert not orphan.exists()


async def test_a_live_processs_spool_is_not_adopted(store: LogStore, store_factory: Any) -> None:
    original = store.backend.transaction

    def down(*, write: bool) -> Any:
        raise _outage_error(store)

    store.backend.transaction = down  # type: ignore[method-assign]
    await store.record(make_record(1))
    other: LogStore = store_factory()
    await other.open()
    try:
        assert other.spooled == 0
        assert [r async for r in other.export()] == []
    finally:
        await other.close()
    store.backend.transaction = original  # type: ignore[method-assign]


def test_open_store_picks_the_store_from_the_url(tmp_path: Path) -> None:
    assert isinstance(open_store(f"sqlite:///{tmp_path}/x.db"), SQLiteStore)
    with pytest.raises(StoreError):
        open_store("mysql://db/x")


def test_a_store_can_be_used_from_one_event_loop_after_another(tmp_path: Path) -> None:
    import asyncio

    store = SQLiteStore(str(tmp_path / "log.db"), spool_dir=str(tmp_path / "spool"))

    async def first() -> None:
        await store.open()
        await store.record(make_record(1))

    async def second() -> list[str]:
        await store.record(make_record(2))
        ids = [r["record_id"] async for r in store.export()]
        await store.close()
        return ids

    asyncio.run(first())
    assert len(asyncio.run(second())) == 2


@pytest.mark.parametrize("closed", ["after the thread opened it", "while the thread was opening it"])
def test_a_connection_whose_opener_was_cancelled_after_its_loop_closed_is_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed: str
) -> None:
    # A request cut short at shutdown: its event loop is gone before the worker thread finishes opening, so no
    # callback can hand the connection over; close_now (the gateway's finalizer) must still close it, whether it
    # runs after the thread opened it or while it was opening (an unclosed connection is a ResourceWarning from
    # Python 3.13 on).
    import asyncio
    import threading
    import time

    from cookiegate.store import _sqlite

    backend = _sqlite.SQLiteBackend(str(tmp_path / "log.db"))
    opened: list[sqlite3.Connection] = []
    real_connect, release, done = sqlite3.connect, threading.Event(), threading.Event()

    def slow_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        release.wait(5)
        conn = real_connect(*args, **kwargs)
        opened.append(conn)
        return conn

    monkeypatch.setattr(_sqlite.sqlite3, "connect", slow_connect)
    original = backend._connect

    def connect(*args: Any) -> sqlite3.Connection:
        try:
            return original(*args)
        finally:
            done.set()

    backend._connect = connect  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(backend._open(False))
        loop.call_later(0.05, task.cancel)
        with pytest.raises(asyncio.CancelledError):
            loop.run_until_complete(task)
    finally:
        loop.close()  # the executor's thread goes on opening
    if closed == "while the thread was opening it":
        backend.close_now()
    release.set()
    assert done.wait(5)
    time.sleep(0.01)
    if closed == "after the thread opened it":
        backend.close_now()
    (conn,) = opened
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")


def test_a_connection_handed_over_while_the_store_is_closing_is_closed_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At shutdown the site-vendors refresh is stopped while its reader connection is still opening; the thread
    # finishes while close() is closing the writer. That late connection must not be kept open by nobody (on
    # Python 3.13, a ResourceWarning when it is collected).
    import asyncio
    import threading
    import time

    from cookiegate.store import _sqlite

    backend = _sqlite.SQLiteBackend(str(tmp_path / "log.db"))
    opened: list[sqlite3.Connection] = []
    real_connect, release = sqlite3.connect, threading.Event()

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        if opened:  # the reader: opens once the writer is being closed
            release.wait(5)
        conn = real_connect(*args, **kwargs)
        opened.append(conn)
        return conn

    class SlowToClose:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def close(self) -> None:
            release.set()
            time.sleep(0.3)  # the reader's thread finishes meanwhile, and its hand-over runs on the loop
            self.conn.close()

    monkeypatch.setattr(_sqlite.sqlite3, "connect", connect)

    async def scenario() -> None:
        async with backend.transaction(write=True):
            pass
        backend._conns[True] = SlowToClose(backend._conns[True])  # type: ignore[assignment]
        reader = asyncio.create_task(backend._open(False))
        await asyncio.sleep(0.05)
        reader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reader
        await backend.close()
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert len(opened) == 2 and not backend._conns
    for conn in opened:
        with pytest.raises(sqlite3.ProgrammingError):
            conn.execute("SELECT 1")
