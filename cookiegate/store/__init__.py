"""Where consent decisions are recorded, as proof of consent: SQLite or PostgreSQL, hash-chained."""

from __future__ import annotations

from ._base import ConsentRecord as ConsentRecord
from ._base import CounterRow as CounterRow
from ._base import DecisionStore as DecisionStore
from ._base import StoreError as StoreError
from ._logstore import LogStore as LogStore
from ._sqlite import SQLiteStore as SQLiteStore

__all__ = ["ConsentRecord", "CounterRow", "DecisionStore", "LogStore", "SQLiteStore", "StoreError", "open_store"]


def open_store(log_url: str, *, spool_dir: str | None = None, group_commit: bool = True) -> DecisionStore:
    """The store for ``log_url``: ``sqlite:///path`` or ``postgresql://…``.

    ``spool_dir`` holds the local spool used while the database is unreachable (default: next to the
    SQLite file, or a per-database directory under the system temp directory for PostgreSQL).
    """
    if log_url.startswith("sqlite:///"):
        return SQLiteStore(log_url.removeprefix("sqlite:///"), spool_dir=spool_dir, group_commit=group_commit)
    if log_url.startswith(("postgresql://", "postgres://")):
        try:
            # psycopg is an optional extra: imported only for a PostgreSQL log.
            from ._postgres import PostgresStore
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise StoreError(
                "log_url postgresql: install cookiegate[postgres] (psycopg, psycopg-pool)"
            ) from exc
        return PostgresStore(log_url, spool_dir=spool_dir, group_commit=group_commit)
    raise StoreError(f"log_url {log_url.split(':', 1)[0]}: expected sqlite:///path or postgresql://…")
