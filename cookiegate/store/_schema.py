"""The decision log's schema, one for SQLite and PostgreSQL, and its migrations."""

from __future__ import annotations

from typing import Final

from ._backend import Backend
from ._base import StoreError
from ._chain import GENESIS, ROW_COLUMNS

SCHEMA_VERSION: Final = 3

#: A row's place in the chain is a positive integer: NOT NULL (SQLite lets a non-INTEGER primary key be NULL)
#: and this CHECK (a TEXT or REAL value in SQLite's loosely typed column fails the equality).
SEQ_CHECK: Final = "seq >= 1 AND seq = CAST(seq AS BIGINT)"
_LOG_COLUMNS: Final = f"""(
        seq BIGINT PRIMARY KEY NOT NULL CHECK ({SEQ_CHECK}),
        record_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        consent_id TEXT NOT NULL,
        at TEXT NOT NULL,
        action TEXT NOT NULL,
        body TEXT,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        erased_at TEXT)"""

#: Rows that have no place in the chain (found by the migration to version 2), where it set them aside.
SET_ASIDE: Final = "cookiegate_log_set_aside"
#: The rows a version 1 log could hold that have no place in the chain.
NO_PLACE: Final = f"seq IS NULL OR NOT ({SEQ_CHECK})"


def log_table(name: str) -> str:
    """``CREATE TABLE`` for the log under ``name`` (a migration builds the new table beside the old)."""
    return f"CREATE TABLE IF NOT EXISTS {name} {_LOG_COLUMNS}"


LOG_INDEXES: Final = (
    "CREATE INDEX IF NOT EXISTS cookiegate_log_consent_id ON cookiegate_log (consent_id)",
    "CREATE INDEX IF NOT EXISTS cookiegate_log_at ON cookiegate_log (at)",
)

#: What the migration to version 2 sets aside: the log's columns with no constraint at all.
SET_ASIDE_DDL: Final = f"""CREATE TABLE IF NOT EXISTS {SET_ASIDE} (
        seq BIGINT, record_id TEXT, kind TEXT, consent_id TEXT, at TEXT, action TEXT, body TEXT, prev_hash TEXT,
        hash TEXT, erased_at TEXT)"""

# One schema for both databases (BIGINT is an integer in SQLite too).
DDL: Final = (
    """CREATE TABLE IF NOT EXISTS cookiegate_chain (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        head_seq BIGINT NOT NULL,
        head_hash TEXT NOT NULL,
        start_seq BIGINT NOT NULL,
        start_prev_hash TEXT NOT NULL)""",
    log_table("cookiegate_log"),
    *LOG_INDEXES,
    SET_ASIDE_DDL,
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

#: Version 3: the last day each tag subject (vendor id, ``unclassified:<host>``) was seen on the site's pages,
#: kept beside the counters so the cookie statement reads one small table; filled from the counters once.
DDL_V3: Final = (
    "CREATE TABLE IF NOT EXISTS cookiegate_seen (subject TEXT PRIMARY KEY, last_day TEXT NOT NULL)",
    "INSERT INTO cookiegate_seen (subject, last_day) SELECT subject, MAX(day) FROM cookiegate_counters "
    "WHERE kind = 'tag' GROUP BY subject ON CONFLICT (subject) DO NOTHING",
)
#: Adds a day a subject was seen, keeping the latest (the same statement in SQLite and PostgreSQL).
UPSERT_SEEN: Final = (
    "INSERT INTO cookiegate_seen (subject, last_day) VALUES (?, ?) ON CONFLICT (subject) DO UPDATE SET "
    "last_day = CASE WHEN excluded.last_day > cookiegate_seen.last_day THEN excluded.last_day "
    "ELSE cookiegate_seen.last_day END"
)

INSERT_ENTRY: Final = (
    "INSERT INTO cookiegate_log (seq, record_id, kind, consent_id, at, action, body, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
PAGE_ROWS: Final = 1000
#: Largest number of records committed in one transaction (group commit and replay).
MAX_BATCH: Final = 500


async def migrate(backend: Backend) -> None:
    """Create the schema of a new log, or migrate an older one to :data:`SCHEMA_VERSION`, in one transaction."""
    async with backend.transaction(write=True) as tx:
        await backend.prepare(tx)
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS cookiegate_schema_version (version INTEGER NOT NULL)"
        )
        rows = await tx.fetchall("SELECT version FROM cookiegate_schema_version")
        version = int(rows[0][0]) if rows else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"decision log schema version {version} is newer than this cookiegate supports"
            )
        if version < 1:
            # A new log gets the current schema at once.
            for statement in DDL:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO cookiegate_chain (id, head_seq, head_hash, start_seq, start_prev_hash) "
                "VALUES (1, 0, ?, 1, ?)",
                (GENESIS, GENESIS),
            )
        elif version < 2:
            # Rows with no place in the chain (NULL, zero or negative seq) were invisible to verify; set
            # them aside (verify names them) so the constraint can hold for every row that stays.
            await tx.execute(SET_ASIDE_DDL)
            await tx.execute(
                f"INSERT INTO {SET_ASIDE} ({ROW_COLUMNS}) SELECT {ROW_COLUMNS} FROM cookiegate_log "
                f"WHERE {NO_PLACE}"
            )
            await tx.execute(f"DELETE FROM cookiegate_log WHERE {NO_PLACE}")
            await backend.constrain_seq(tx)
        # Later versions: `if version < 4: ...` here, each step idempotent inside this transaction.
        if version < 3:
            for statement in DDL_V3:
                await tx.execute(statement)
        if rows:
            await tx.execute("UPDATE cookiegate_schema_version SET version = ?", (SCHEMA_VERSION,))
        else:
            await tx.execute(
                "INSERT INTO cookiegate_schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
            )
