"""What the decision log asks of a database: transactions, and which errors mean "unreachable"."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol


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

    @abstractmethod
    async def constrain_seq(self, tx: Tx) -> None:
        """Migration to version 2: give the existing ``cookiegate_log`` the constraints of :func:`log_table`
        (its rows without a place in the chain are already set aside)."""

    async def prepare(self, tx: Tx) -> None:
        """Per-backend work inside the migration transaction, before the DDL (locks, schemas)."""
        return None

    async def close(self) -> None:
        """Release connections."""
        return None

    def close_now(self) -> None:
        """Release connections without an event loop (a store dropped unclosed, or at process exit)."""
        return None
