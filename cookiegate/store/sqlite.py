"""SQLite decision log: embedded, WAL, each record committed with ``synchronous=FULL`` before we answer."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from pathlib import Path

from .base import ConsentRecord, StoreError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cookiegate_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS consent_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    consent_id TEXT NOT NULL,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consent_log_consent_id ON consent_log (consent_id);
"""


class SQLiteStore:
    """Consent records in one SQLite file. Writes run in a worker thread, never on the event loop."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=5.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before we tell the visitor their choice is recorded.
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            conn.execute(
                "INSERT OR IGNORE INTO cookiegate_meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            self._conn = conn
        return self._conn

    async def open(self) -> None:
        """Create the schema (idempotent)."""
        await asyncio.to_thread(self._locked, self._connect)

    def _locked(self, fn: object) -> None:
        with self._lock:
            assert callable(fn)
            fn()

    def _write(self, record: ConsentRecord) -> None:
        with self._lock:
            conn = self._connect()
            conn.execute(
                "INSERT INTO consent_log (consent_id, at, action, record) VALUES (?, ?, ?, ?)",
                (record.consent_id, record.at, record.action, record.to_json()),
            )

    async def record(self, record: ConsentRecord) -> None:
        """Commit ``record``; raise :class:`StoreError` when it cannot be made durable."""
        try:
            await asyncio.to_thread(self._write, record)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"sqlite: {exc}") from exc

    def records(self, consent_id: str | None = None) -> list[dict[str, object]]:
        """Every record (or one visitor's), oldest first — for tests and the privacy team's tools."""
        with self._lock:
            conn = self._connect()
            if consent_id is None:
                rows = conn.execute("SELECT record FROM consent_log ORDER BY seq").fetchall()
            else:
                rows = conn.execute(
                    "SELECT record FROM consent_log WHERE consent_id = ? ORDER BY seq", (consent_id,)
                ).fetchall()
        return [json.loads(r[0]) for r in rows]

    async def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
