"""What the decision log asks of a database: its schema, transactions, and which errors mean "unreachable"."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Final, Protocol

SCHEMA_VERSION: Final = 1

# One schema for both databases (BIGINT is an integer in SQLite too).
DDL: Final = (
    """CREATE TABLE IF NOT EXISTS cookiegate_chain (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        head_seq BIGINT NOT NULL,
        head_hash TEXT NOT NULL,
        start_seq BIGINT NOT NULL,
        start_prev_hash TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS cookiegate_log (
        seq BIGINT PRIMARY KEY,
        record_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        consent_id TEXT NOT NULL,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        body TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        erased_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS cookiegate_log_consent_id ON cookiegate_log (consent_id)",
    "CREATE INDEX IF NOT EXISTS cookiegate_log_at ON cookiegate_log (at)",
    """CREATE TABLE IF NOT EXISTS cookiegate_counters (
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        country TEXT NOT NULL,
        regime TEXT NOT NULL,
        outcome TEXT NOT NULL,
        count BIGINT NOT NULL,
        PRIMARY KEY (day, kind, subject, country, regime, outcome))""",
)

INSERT_ENTRY: Final = (
    "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
PAGE_ROWS: Final = 1000
#: Largest number of records committed in one transaction (group commit and replay).
MAX_BATCH: Final = 500


class Tx(Protocol):
    """A transaction on one connection."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement."""

    async def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        """Run a statement for each parameter set."""

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query."""
        ...


class Backend(ABC):
    """What differs between databases."""

    #: Appended to the head-row SELECT in a write transaction (``FOR UPDATE`` where it locks).
    lock_head_suffix: str = ""

    @abstractmethod
    def transaction(self, *, write: bool) -> AbstractAsyncContextManager[Tx]:
        """A transaction that commits on success. ``write=True`` serializes writers across processes."""

    @abstractmethod
    def is_unavailable(self, exc: BaseException) -> bool:
        """Does ``exc`` mean the database is unreachable (spool and retry) rather than a bug?"""

    async def prepare(self, tx: Tx) -> None:
        """Per-backend work inside the migration transaction, before the DDL (locks, schemas)."""
        return None

    async def close(self) -> None:
        """Release connections."""
        return None

    def close_now(self) -> None:
        """Release connections without an event loop (a store dropped unclosed, or at process exit)."""
        return None
