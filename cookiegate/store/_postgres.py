"""PostgreSQL decision log (psycopg 3, async, pooled): one log shared by every gateway process and host.

Appends lock the chain-head row (``SELECT … FOR UPDATE``) in their transaction, so the chain stays one
line however many gateways write; schema creation and migration take a transaction-level advisory lock.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import psycopg_pool

from ._backend import Backend, Tx
from ._base import StoreError
from ._logstore import LogStore
from ._schema import SEQ_CHECK

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: Key of the advisory lock taken while creating or migrating the schema.
_MIGRATION_LOCK = 0x636B6761  # "ckga"


def _pg(sql: str) -> str:
    # The shared statements use SQLite's "?" placeholders; none contains a literal "?" or "%".
    return sql.replace("?", "%s")


class _PgTx:
    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self.conn.execute(_pg(sql), tuple(params))

    async def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        async with self.conn.cursor() as cur:
            await cur.executemany(_pg(sql), [tuple(p) for p in params])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = await self.conn.execute(_pg(sql), tuple(params))
        return list(await cur.fetchall())


class PostgresBackend(Backend):
    """A psycopg connection pool; ``schema`` (optional) becomes the connections' ``search_path``."""

    lock_head_suffix = " FOR UPDATE"

    def __init__(
        self, url: str, *, schema: str | None = None, timeout: float = 3.0, max_size: int = 4
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.match(schema):
            raise StoreError(f"postgres schema {schema!r}: expected a lowercase identifier")
        self.schema = schema
        self.timeout = timeout
        kwargs: dict[str, Any] = {"autocommit": True, "connect_timeout": max(2, int(timeout))}
        if schema is not None:
            kwargs["options"] = f"-c search_path={schema}"
        self.pool = psycopg_pool.AsyncConnectionPool(
            url,
            min_size=1,
            max_size=max_size,
            kwargs=kwargs,
            open=False,
            timeout=timeout,
            check=psycopg_pool.AsyncConnectionPool.check_connection,
            name="cookiegate-log",
        )
        self._opened = False

    @asynccontextmanager
    async def transaction(self, *, write: bool) -> AsyncIterator[Tx]:
        if not self._opened:
            # wait=False: an unreachable server is reported by the first connection() (and spooled), and
            # the pool keeps reconnecting in the background.
            await self.pool.open(wait=False)
            self._opened = True
        async with self.pool.connection(timeout=self.timeout) as conn, conn.transaction():
            if not write:
                await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield _PgTx(conn)

    async def prepare(self, tx: Tx) -> None:
        await tx.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
        if self.schema is not None:
            await tx.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")

    async def constrain_seq(self, tx: Tx) -> None:
        # The primary key already made seq NOT NULL here; the name is the one CREATE TABLE gives the CHECK.
        await tx.execute(f"ALTER TABLE cookiegate_log ADD CONSTRAINT cookiegate_log_seq_check CHECK ({SEQ_CHECK})")

    def is_unavailable(self, exc: BaseException) -> bool:
        return isinstance(exc, psycopg.OperationalError | psycopg_pool.PoolTimeout | OSError)

    async def close(self) -> None:
        if self._opened:
            await self.pool.close()
            self._opened = False


class PostgresStore(LogStore):
    """Consent records in PostgreSQL (``log_url = "postgresql://…"``).

    ``spool_dir`` defaults to ``cookiegate-spool/`` in the system temp directory; set it to a persistent
    local directory in production so that a spool survives a reboot.
    """

    def __init__(
        self,
        url: str,
        *,
        schema: str | None = None,
        spool_dir: str | None = None,
        group_commit: bool = True,
        retry_interval: float = 1.0,
        timeout: float = 3.0,
    ) -> None:
        self.url = url
        key = hashlib.sha256(f"{url}|{schema or ''}".encode()).hexdigest()[:12]
        super().__init__(
            PostgresBackend(url, schema=schema, timeout=timeout),
            spool_dir=Path(spool_dir) if spool_dir else Path(tempfile.gettempdir()) / "cookiegate-spool",
            spool_key=key,
            group_commit=group_commit,
            retry_interval=retry_interval,
        )

    def __repr__(self) -> str:
        # Never the password.
        return f"PostgresStore({re.sub(r'//[^@/]*@', '//***@', self.url)!r})"
