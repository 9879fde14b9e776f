"""The store protocol and the record it keeps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Protocol


class StoreError(RuntimeError):
    """The decision log could not make a record durable."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentRecord:
    """One consent decision, as proof of what the visitor chose and what they were shown.

    Holds the coarse location only, and the IP only as a truncated prefix or keyed hash — never raw.
    """

    consent_id: str
    #: UTC time, ISO 8601 with microseconds.
    at: str
    action: str
    categories: Mapping[str, bool]
    policy_revision: str
    regime_key: str
    regime_kind: str
    banner_variant: str
    #: SHA-256 of the exact banner text and options the visitor was shown.
    banner_hash: str
    language: str
    country: str | None
    subdivision: str | None
    city: str | None
    gpc: bool
    dnt: bool
    device: str
    browser: str
    #: Page path without the query string.
    path: str
    #: Truncated prefix (``203.0.113.0/24``), keyed hash, or ``None``.
    ip: str | None

    def to_json(self) -> str:
        """Canonical JSON (sorted keys) — the bytes the record's hash covers."""
        data = asdict(self)
        data["categories"] = dict(sorted(self.categories.items()))
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class DecisionStore(Protocol):
    """Somewhere consent records become durable."""

    async def open(self) -> None:
        """Create or migrate the schema."""

    async def record(self, record: ConsentRecord) -> None:
        """Return only once ``record`` is durable; raise :class:`StoreError` otherwise."""

    async def close(self) -> None:
        """Flush and release resources."""


def open_store(log_url: str) -> DecisionStore:
    """The store for ``log_url`` (``sqlite:///path``)."""
    if log_url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(log_url.removeprefix("sqlite:///"))
    raise StoreError(f"log_url {log_url.split(':', 1)[0]}: store not available in this build")
