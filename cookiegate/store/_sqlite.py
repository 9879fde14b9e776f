"""SQLite decision log: embedded, WAL, ``synchronous=FULL`` (a commit is on disk before the visitor hears).

Statements run in worker threads, never on the event loop. Appends take ``BEGIN IMMEDIATE``, which
serializes the chain across every process that shares the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import tempfile
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from ._backend import Backend, Tx
from ._chain import ROW_COLUMNS
from ._logstore import LogStore
from ._schema import LOG_INDEXES, log_table

# Errors that mean "the file is busy or the disk is failing" (spool and retry), not a bug in a statement.
_UNAVAILABLE_HINTS = ("locked", "busy", "disk", "unable to open", "i/o", "readonly", "read-only")


class _SQLiteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await asyncio.to_thread(self.conn.execute, sql, tuple(params))

    async def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        await asyncio.to_thread(self.conn.executemany, sql, [tuple(p) for p in params])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        def run() -> list[tuple[Any, ...]]:
            return list(self.conn.execute(sql, tuple(params)).fetchall())

        return await asyncio.to_thread(run)


class SQLiteBackend(Backend):
    """One writer connection and one reader connection (WAL: readers never block the writer)."""

    def __init__(self, path: str, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._conns: dict[bool, sqlite3.Connection] = {}
        #: Connections opened in a worker thread and not handed over yet: one whose opener was cancelled and
        #: whose event loop closed before it finished (a request cut short at shutdown) is closed from here.
        self._opening: set[sqlite3.Connection] = set()
        self._opening_lock = threading.Lock()
        #: Bumped by every close: a connection a worker thread finishes opening after one is closed at once.
        self._generation = 0
        #: Set by :meth:`close_now` (the owner was dropped unclosed, or the process is exiting): nothing opens a
        #: connection again, which nobody would be left to close (a background task may still ask).
        self._released = False
        self._locks: dict[bool, asyncio.Lock] = {}
        self._locks_loop: asyncio.AbstractEventLoop | None = None

    def _lock(self, write: bool) -> asyncio.Lock:
        # asyncio locks belong to one event loop; a store reused from a new loop gets new ones.
        loop = asyncio.get_running_loop()
        if loop is not self._locks_loop:
            self._locks, self._locks_loop = {True: asyncio.Lock(), False: asyncio.Lock()}, loop
        return self._locks[write]

    def _connect(self, generation: int | None = None) -> sqlite3.Connection:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = sqlite3.connect(
            self.path, check_same_thread=False, timeout=self.busy_timeout, isolation_level=None
        )
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: the WAL is fsync'd at every commit, so a committed record survives power loss.
        conn.execute("PRAGMA synchronous=FULL")
        with self._opening_lock:
            if self._released:
                conn.close()
                raise sqlite3.ProgrammingError("the decision log was released: its owner is gone")
            if generation is not None and generation != self._generation:
                conn.close()
                raise sqlite3.ProgrammingError("the decision log was closed while this connection was opened")
            self._opening.add(conn)
        return conn

    def _handed_over(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        with self._opening_lock:
            self._opening.discard(conn)
        return conn

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[Tx]:
        async with self._lock(write):
            conn = self._conns.get(write)
            if conn is None:
                conn = self._conns[write] = await self._open(write)
            # IMMEDIATE takes the write lock up front (no deadlock between two upgrading readers);
            # a deferred BEGIN gives readers one snapshot for a whole verify or export.
            await asyncio.to_thread(conn.execute, "BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _SQLiteTx(conn)
            except BaseException:
                try:
                    await asyncio.to_thread(conn.execute, "ROLLBACK")
                except sqlite3.Error:
                    pass
                raise
            await asyncio.to_thread(conn.execute, "COMMIT")

    async def constrain_seq(self, tx: Tx) -> None:
        # SQLite cannot add a constraint to a table: build the new table, copy, swap
        # (https://www.sqlite.org/lang_altertable.html#otheralter), all inside the migration's transaction.
        await tx.execute(log_table("cookiegate_log_v2"))
        await tx.execute(f"INSERT INTO cookiegate_log_v2 ({ROW_COLUMNS}) SELECT {ROW_COLUMNS} FROM cookiegate_log")
        await tx.execute("DROP TABLE cookiegate_log")
        await tx.execute("ALTER TABLE cookiegate_log_v2 RENAME TO cookiegate_log")
        for statement in LOG_INDEXES:
            await tx.execute(statement)

    async def _open(self, write: bool) -> sqlite3.Connection:
        generation = self._generation
        opening = asyncio.ensure_future(asyncio.to_thread(self._connect, generation))
        try:
            return self._handed_over(await asyncio.shield(opening))
        except asyncio.CancelledError:
            # The caller gave up (a health probe's timeout, a task stopped at shutdown), the thread did not:
            # keep what it opens, or close it.
            opening.add_done_callback(lambda done: self._opened_late(write, done, generation))
            raise

    def _opened_late(self, write: bool, done: asyncio.Future[sqlite3.Connection], generation: int) -> None:
        if done.cancelled() or done.exception() is not None:
            return
        conn = self._handed_over(done.result())
        # Closed since it began opening (this can run while close() awaits): nobody would close it later.
        if write in self._conns or self._released or generation != self._generation:
            conn.close()
        else:
            self._conns[write] = conn

    def is_unavailable(self, exc: BaseException) -> bool:
        if isinstance(exc, OSError):
            return True
        return isinstance(exc, sqlite3.OperationalError) and any(
            h in str(exc).lower() for h in _UNAVAILABLE_HINTS
        )

    async def close(self) -> None:
        # First: a connection that finishes opening from now on is closed, not handed over or kept.
        self._close_opening()
        while self._conns:
            write, conn = next(iter(self._conns.items()))
            async with self._lock(write):
                await asyncio.to_thread(conn.close)
            if self._conns.get(write) is conn:
                del self._conns[write]
        self._close_opening()  # and what began opening while the others were closed

    def close_now(self) -> None:
        # Closed explicitly: an unclosed connection is a ResourceWarning from Python 3.13 on.
        with self._opening_lock:
            self._released = True
        conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            conn.close()
        self._close_opening()

    def _close_opening(self) -> None:
        with self._opening_lock:
            self._generation += 1
            orphans, self._opening = list(self._opening), set()
        for conn in orphans:
            conn.close()


class SQLiteStore(LogStore):
    """Consent records in one SQLite file (the default store).

    ``spool_dir`` defaults to ``<db file>.spool/`` next to the database.
    """

    def __init__(
        self,
        path: str,
        *,
        spool_dir: str | None = None,
        group_commit: bool = True,
        retry_interval: float = 1.0,
        busy_timeout: float = 5.0,
    ) -> None:
        self.path = path
        resolved = str(Path(path).resolve()) if path != ":memory:" else ":memory:"
        if spool_dir is None:
            spool_dir = (
                str(Path(tempfile.gettempdir()) / "cookiegate-spool")
                if path == ":memory:"
                else resolved + ".spool"
            )
        super().__init__(
            SQLiteBackend(path, busy_timeout=busy_timeout),
            spool_dir=Path(spool_dir),
            spool_key=hashlib.sha256(resolved.encode()).hexdigest()[:12],
            group_commit=group_commit,
            retry_interval=retry_interval,
        )

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"
