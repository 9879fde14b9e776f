"""The chained decision log over any SQL backend: group commit, spool and replay, and the privacy tools.

SQLite and PostgreSQL share the schema and every statement here (written with ``?`` placeholders; the
PostgreSQL backend rewrites them); a backend only opens transactions and says which errors mean "the
database is unreachable" (those send records to the spool instead of failing the visitor's POST).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..policy._categories import OPTIONAL_CATEGORIES
from ._backend import Backend, Tx
from ._base import (
    ConsentRecord,
    CounterRow,
    StatsBy,
    StatsRow,
    StoreError,
    VerifyReport,
    latest_days,
    new_record_id,
)
from ._chain import (
    KIND_CONSENT,
    KIND_ERASURE,
    KIND_PURGE,
    ROW_COLUMNS,
    Entry,
    Head,
    Row,
    Verifier,
    canonical,
    link,
)
from ._schema import INSERT_ENTRY, MAX_BATCH, NO_PLACE, PAGE_ROWS, SET_ASIDE, UPSERT_SEEN, migrate
from ._spool import Spool

logger = logging.getLogger("cookiegate.store")

def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _consent_entry(record: ConsentRecord) -> Entry:
    return Entry(
        record.record_id, KIND_CONSENT, record.consent_id, record.at, record.action, record.to_json()
    )


class LogStore:
    """A chained decision log. ``record()`` returns once the record is committed or fsync'd to the spool.

    Concurrent ``record()`` calls are committed together: one writer task takes everything queued, commits
    it in one transaction, then answers every waiter (``group_commit=False`` commits one by one, for the
    benchmark). While the database is unreachable, records go to the spool, and keep going there until
    the spool has been replayed, so that the chain keeps their order.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        spool_dir: Path,
        spool_key: str,
        group_commit: bool = True,
        retry_interval: float = 1.0,
    ) -> None:
        self.backend = backend
        self.spool = Spool(spool_dir, spool_key)
        self.group_commit = group_commit
        #: Seconds between attempts to replay the spool while the database is down.
        self.retry_interval = retry_interval
        self._queue: list[tuple[ConsentRecord, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._schema_ready = False
        self._next_retry = 0.0

    # -- life cycle ---------------------------------------------------------------------------------------

    async def open(self) -> None:
        """Create or migrate the schema, adopt spool files left by dead processes and try to replay them.

        An unreachable database is not an error here: records are spooled until it is back.
        """
        self._closing = False
        await asyncio.to_thread(self.spool.adopt_orphans)
        try:
            await self._migrate()
        except Exception as exc:
            if not self.backend.is_unavailable(exc):
                raise StoreError(f"decision log: could not open: {exc}") from exc
            logger.warning(
                "cookiegate: decision log unreachable at start-up; spooling until it is back: %s", exc
            )
            return
        if self.spool.pending:
            await self._replay()

    async def _migrate(self) -> None:
        await migrate(self.backend)
        self._schema_ready = True

    async def close(self) -> None:
        """Commit (or spool) everything queued, try a last replay, release the spool and connections."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._writer is not None:
            if self._writer.get_loop() is asyncio.get_running_loop():
                await self._writer
            self._writer = None
        if self.spool.pending:
            await self._replay()
        await asyncio.to_thread(self.spool.close)
        await self.backend.close()

    def close_now(self) -> None:
        """Release the spool and the connections without an event loop, for a store that was never closed
        (its owner was dropped, or the process is exiting). Records are durable already; nothing is lost."""
        self._closing = True
        self.spool.close()
        self.backend.close_now()

    @property
    def spooled(self) -> int:
        """Records waiting in the spool for the database to come back."""
        return self.spool.pending

    # -- writing ------------------------------------------------------------------------------------------

    async def record(self, record: ConsentRecord) -> None:
        """Return once ``record`` is committed (or fsync'd to the spool); else raise :class:`StoreError`."""
        if self._closing:
            raise StoreError("decision log is closed")
        loop = asyncio.get_running_loop()
        if self._writer is not None and self._writer.get_loop() is not loop:
            # Used from a new event loop (one loop at a time is supported): the old loop's writer and
            # waiters are gone with it; nothing of theirs was acknowledged.
            self._writer, self._wake = None, None
            self._queue = [(r, f) for r, f in self._queue if f.get_loop() is loop]
        future: asyncio.Future[None] = loop.create_future()
        self._queue.append((record, future))
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._writer is None or self._writer.done():
            self._writer = loop.create_task(self._write_loop(), name="cookiegate-log-writer")
        await asyncio.shield(future)

    async def _write_loop(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                timeout = self.retry_interval if self.spool.pending else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
            if self.spool.pending and loop.time() >= self._next_retry and not self._closing:
                await self._replay()
            size = MAX_BATCH if self.group_commit else 1
            batch, self._queue[:size] = self._queue[:size], []
            if batch:
                await self._commit(batch)

    async def _commit(self, batch: list[tuple[ConsentRecord, asyncio.Future[None]]]) -> None:
        records = [r for r, _ in batch]
        error: BaseException | None = None
        try:
            if self.spool.pending:
                # The spool is not replayed yet: what comes later must stay behind it.
                await self._to_spool(records)
            else:
                try:
                    await self._append([_consent_entry(r) for r in records])
                except Exception as exc:
                    if not self.backend.is_unavailable(exc):
                        raise
                    logger.warning("cookiegate: decision log unreachable; spooling records locally: %s", exc)
                    await self._to_spool(records)
        except Exception as exc:
            error = exc
        for _, future in batch:
            if future.done():
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(StoreError(f"decision log: {error}"))
                future.exception()  # retrieved here too: a waiter that went away must not warn

    async def _to_spool(self, records: list[ConsentRecord]) -> None:
        first = not self.spool.pending
        await asyncio.to_thread(self.spool.append, [r.to_dict() for r in records])
        if first:
            self._next_retry = asyncio.get_running_loop().time() + self.retry_interval

    async def _append(self, entries: list[Entry]) -> int:
        """Append in one transaction, skipping record ids already in the log (a replay after a crash)."""
        if not self._schema_ready:
            await self._migrate()
        async with self.backend.transaction(write=True) as tx:
            head = await self._head(tx, lock=True)
            marks = ",".join("?" * len(entries))
            present = {
                r[0]
                for r in await tx.fetchall(
                    f"SELECT record_id FROM cookiegate_log WHERE record_id IN ({marks})",
                    [e.record_id for e in entries],
                )
            }
            fresh = [e for e in entries if e.record_id not in present]
            if fresh:
                await self._insert(tx, head, fresh)
        return len(fresh)

    async def _insert(self, tx: Tx, head: Head, entries: list[Entry]) -> None:
        rows = [
            (seq, e.record_id, e.kind, e.consent_id, e.at, e.action, e.body, prev, digest)
            for seq, e, prev, digest in link(head, entries)
        ]
        await tx.executemany(INSERT_ENTRY, rows)
        await tx.execute(
            "UPDATE cookiegate_chain SET head_seq = ?, head_hash = ? WHERE id = 1", (head.seq, head.hash)
        )

    async def _head(self, tx: Tx, *, lock: bool) -> Head:
        suffix = self.backend.lock_head_suffix if lock else ""
        rows = await tx.fetchall(
            "SELECT head_seq, head_hash, start_seq, start_prev_hash FROM cookiegate_chain WHERE id = 1"
            + suffix
        )
        if not rows:
            raise StoreError("decision log: the chain head row is missing")
        seq, digest, start_seq, start_prev = rows[0]
        return Head(int(seq), digest, int(start_seq), start_prev)

    async def _replay(self) -> None:
        """Push the spool into the database, in order, each record exactly once."""
        loop = asyncio.get_running_loop()
        try:
            items = await asyncio.to_thread(self.spool.read)
            records = [ConsentRecord.from_dict(i) for i in items]
            written = 0
            for start in range(0, len(records), MAX_BATCH):
                written += await self._append([_consent_entry(r) for r in records[start : start + MAX_BATCH]])
            await asyncio.to_thread(self.spool.clear)
            logger.warning(
                "cookiegate: decision log is back; replayed %d spooled records (%d new)",
                len(records),
                written,
            )
        except Exception as exc:
            if not self.backend.is_unavailable(exc):
                logger.exception("cookiegate: could not replay the decision log spool")
            self._next_retry = loop.time() + self.retry_interval

    # -- reading ------------------------------------------------------------------------------------------

    async def _rows(self, where: str = "", params: Sequence[Any] = ()) -> AsyncIterator[list[Row]]:
        """Pages of rows in ``seq`` order, all from one snapshot."""
        async with self.backend.transaction(write=False) as tx:
            after = -1
            while True:
                page = await tx.fetchall(
                    f"SELECT {ROW_COLUMNS} FROM cookiegate_log WHERE seq > ? {where} "
                    f"ORDER BY seq LIMIT {PAGE_ROWS}",
                    (after, *params),
                )
                if not page:
                    return
                rows = [Row.from_tuple(t) for t in page]
                yield rows
                after = rows[-1].seq

    async def _checked(self, fn: Any) -> Any:
        try:
            return await fn()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"decision log: {exc}") from exc

    async def export(
        self, *, consent_id: str | None = None, since: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Consent records (erased ones excluded), oldest first, each with its ``seq`` and ``hash``."""
        where = "AND kind = ? AND erased_at IS NULL"
        params: list[Any] = [KIND_CONSENT]
        if consent_id is not None:
            where += " AND consent_id = ?"
            params.append(consent_id)
        if since is not None:
            where += " AND at >= ?"
            params.append(since)
        try:
            async for page in self._rows(where, params):
                for row in page:
                    assert row.body is not None
                    yield {"seq": row.seq, "hash": row.hash, **json.loads(row.body)}
        except Exception as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"decision log: {exc}") from exc

    async def records_for(self, consent_id: str) -> list[dict[str, Any]]:
        """One visitor's records, oldest first (for their own download: authorise by their signed cookie)."""
        return [r async for r in self.export(consent_id=consent_id)]

    async def verify(self, anchors: Mapping[int, str] | None = None) -> VerifyReport:
        """Walk the whole chain from one snapshot; report the first edited, inserted or removed record, or
        the first published head (``anchors``: sequence number to hash) the chain no longer holds."""

        async def run() -> VerifyReport:
            async with self.backend.transaction(write=False) as tx:
                verifier = Verifier(await self._head(tx, lock=False), anchors=dict(anchors or {}))
                misplaced = await tx.fetchall(
                    f"SELECT seq, record_id FROM cookiegate_log WHERE {NO_PLACE} "
                    f"UNION ALL SELECT seq, record_id FROM {SET_ASIDE}"
                )
                if misplaced:
                    return verifier.no_place(misplaced)
                after = 0
                while True:
                    page = await tx.fetchall(
                        f"SELECT {ROW_COLUMNS} FROM cookiegate_log WHERE seq > ? ORDER BY seq LIMIT {PAGE_ROWS}",
                        (after,),
                    )
                    if not page:
                        break
                    rows = [Row.from_tuple(t) for t in page]
                    if not verifier.check(rows):
                        break
                    after = rows[-1].seq
                return verifier.finish()

        result: VerifyReport = await self._checked(run)
        return result

    async def stats(self, by: StatsBy = "country") -> list[StatsRow]:
        """Per group: recorded decisions and how many granted each optional category."""
        groups: dict[str, tuple[int, dict[str, int]]] = {}
        async for rec in self.export():
            if by == "country":
                key = rec.get("country") or "unknown"
            elif by == "regime":
                key = rec.get("regime_key") or "unknown"
            else:
                key = str(rec.get("at", ""))[:10]
            count, granted = groups.get(key, (0, dict.fromkeys(OPTIONAL_CATEGORIES, 0)))
            for category, value in (rec.get("categories") or {}).items():
                if value and category in granted:
                    granted[category] += 1
            groups[key] = (count + 1, granted)
        return [StatsRow(group=k, decisions=v[0], granted=v[1]) for k, v in sorted(groups.items())]

    # -- the privacy team's writes ------------------------------------------------------------------------

    async def erase(self, consent_id: str) -> int:
        """Tombstone a visitor's records and append an erasure entry naming them (record id and hash).

        The tombstone keeps ``seq``, ``record_id``, ``prev_hash``, ``hash`` and the time (for retention);
        the body, the consent id and the action are gone.
        """

        async def run() -> int:
            at = _now()
            async with self.backend.transaction(write=True) as tx:
                head = await self._head(tx, lock=True)
                rows = await tx.fetchall(
                    "SELECT seq, record_id, hash FROM cookiegate_log WHERE consent_id = ? AND kind = ? "
                    "AND erased_at IS NULL ORDER BY seq",
                    (consent_id, KIND_CONSENT),
                )
                if not rows:
                    return 0
                await tx.execute(
                    "UPDATE cookiegate_log SET body = NULL, consent_id = '', action = 'erased', "
                    "erased_at = ? "
                    "WHERE consent_id = ? AND kind = ? AND erased_at IS NULL",
                    (at, consent_id, KIND_CONSENT),
                )
                record_id = new_record_id()
                body = canonical(
                    {
                        "kind": KIND_ERASURE,
                        "record_id": record_id,
                        "at": at,
                        "erased": [{"seq": int(s), "record_id": rid, "hash": h} for s, rid, h in rows],
                    }
                )
                await self._insert(tx, head, [Entry(record_id, KIND_ERASURE, "", at, KIND_ERASURE, body)])
                return len(rows)

        result: int = await self._checked(run)
        return result

    async def purge(self, older_than: str) -> int:
        """Delete the oldest records, up to the first one at or after ``older_than`` (ISO time).

        Only a prefix of the chain is deleted, so the chain stays whole: a record slightly older than the
        cutoff that was committed after a newer one waits for the next purge. A purge entry records where
        the chain now starts.
        """

        async def run() -> int:
            at = _now()
            async with self.backend.transaction(write=True) as tx:
                head = await self._head(tx, lock=True)
                first_kept = await tx.fetchall(
                    "SELECT MIN(seq) FROM cookiegate_log WHERE at >= ?", (older_than,)
                )
                stop = first_kept[0][0]
                stop = int(stop) if stop is not None else head.seq + 1
                if stop <= head.start_seq:
                    return 0
                last = await tx.fetchall("SELECT hash FROM cookiegate_log WHERE seq = ?", (stop - 1,))
                count = await tx.fetchall("SELECT COUNT(*) FROM cookiegate_log WHERE seq < ?", (stop,))
                if not last:
                    raise StoreError(f"decision log: seq {stop - 1} is missing; run `cookiegate log verify`")
                await tx.execute("DELETE FROM cookiegate_log WHERE seq < ?", (stop,))
                await tx.execute(
                    "UPDATE cookiegate_chain SET start_seq = ?, start_prev_hash = ? WHERE id = 1",
                    (stop, last[0][0]),
                )
                record_id = new_record_id()
                body = canonical(
                    {
                        "kind": KIND_PURGE,
                        "record_id": record_id,
                        "at": at,
                        "older_than": older_than,
                        "next_seq": stop,
                        "next_prev_hash": last[0][0],
                    }
                )
                await self._insert(tx, head, [Entry(record_id, KIND_PURGE, "", at, KIND_PURGE, body)])
                return int(count[0][0])

        result: int = await self._checked(run)
        return result

    async def add_counters(self, rows: Sequence[CounterRow]) -> None:
        """Add aggregate counts (insert, or add to an existing row)."""
        if not rows:
            return

        async def run() -> None:
            async with self.backend.transaction(write=True) as tx:
                await tx.executemany(
                    "INSERT INTO cookiegate_counters (day, kind, subject, country, regime, outcome, count) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, kind, subject, country, regime, outcome) "
                    "DO UPDATE SET count = cookiegate_counters.count + excluded.count",
                    [(r.day, r.kind, r.subject, r.country, r.regime, r.outcome, r.count) for r in rows],
                )
                if seen:
                    await tx.executemany(UPSERT_SEEN, sorted(seen.items()))

        seen = latest_days(rows)
        await self._checked(run)

    async def last_seen(self) -> dict[str, str]:
        """The last day (``YYYY-MM-DD``) each tag subject was counted on the site's pages: vendor ids and
        ``unclassified:<host>``, whichever instance counted them."""

        async def run() -> dict[str, str]:
            async with self.backend.transaction(write=False) as tx:
                rows = await tx.fetchall("SELECT subject, last_day FROM cookiegate_seen")
            return {str(subject): str(day) for subject, day in rows}

        result: dict[str, str] = await self._checked(run)
        return result

    async def counters(self) -> list[CounterRow]:
        """Every aggregate row (for reports and tests)."""

        async def run() -> list[CounterRow]:
            async with self.backend.transaction(write=False) as tx:
                rows = await tx.fetchall(
                    "SELECT day, kind, subject, country, regime, outcome, count FROM cookiegate_counters "
                    "ORDER BY day, kind, subject, country, regime, outcome"
                )
            return [CounterRow(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6])) for r in rows]

        result: list[CounterRow] = await self._checked(run)
        return result
