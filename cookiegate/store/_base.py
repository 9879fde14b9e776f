"""The store protocol, the record it keeps, and what its tools report."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, Protocol


class StoreError(RuntimeError):
    """The decision log could not make a record durable (or could not be read)."""


def new_record_id() -> str:
    """A fresh, unique record id: what makes a replay from the spool write each record exactly once."""
    return uuid.uuid4().hex


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
    #: Unique per record (UNIQUE in the database): a replayed record is never written twice.
    record_id: str = field(default_factory=new_record_id)
    #: Vendors chosen by name (vendor id: allowed or not); the others follow their category.
    vendors: Mapping[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The record as plain JSON-able data (categories and vendors sorted)."""
        data = asdict(self)
        data["categories"] = dict(sorted(self.categories.items()))
        data["vendors"] = dict(sorted(self.vendors.items()))
        return data

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces) — the bytes the record's hash covers."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConsentRecord:
        """Rebuild a record from :meth:`to_dict` output (unknown keys are ignored)."""
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["categories"] = dict(kwargs.get("categories", {}))
        kwargs["vendors"] = dict(kwargs.get("vendors", {}))
        return cls(**kwargs)


ProblemKind = Literal["edited", "inserted", "removed", "rewritten", "tombstone"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyReport:
    """What :meth:`DecisionStore.verify` found: ``ok``, or the first break in chain order."""

    ok: bool
    #: Rows checked before stopping.
    checked: int
    #: The chain head (sequence number and hash) as recorded by the store; publish it to anchor the log.
    head_seq: int
    head_hash: str
    problem: ProblemKind | None = None
    #: Sequence number of the record named by the problem.
    seq: int | None = None
    record_id: str | None = None
    detail: str = ""
    #: What could not be checked (a published head older than the chain's start, purged since).
    notes: tuple[str, ...] = ()

    @property
    def anchor(self) -> str:
        """The head as ``seq:hash``: publish it, and give it to a later verify (``--anchor``)."""
        return f"{self.head_seq}:{self.head_hash}"

    def describe(self) -> str:
        """A human line (and one more per note)."""
        if self.ok:
            line = (
                f"ok: {self.checked} records verified; head seq={self.head_seq} hash={self.head_hash} "
                f"(anchor {self.anchor})"
            )
        else:
            rid = f" (record_id {self.record_id})" if self.record_id else ""
            where = f" at seq {self.seq}" if self.seq is not None else ""
            line = f"BROKEN: {self.problem} record{where}{rid}: {self.detail}"
        return "\n".join([line, *(f"note: {note}" for note in self.notes)])


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsRow:
    """Opt-in rates for one group (a country, a regime or a day)."""

    group: str
    #: Recorded decisions in the group (erased records excluded).
    decisions: int
    #: Decisions that granted each optional category.
    granted: Mapping[str, int]

    def rate(self, category: str) -> float:
        """Share of decisions that granted ``category`` (0.0 when there are none)."""
        return self.granted.get(category, 0) / self.decisions if self.decisions else 0.0


@dataclass(frozen=True, slots=True)
class CounterRow:
    """One aggregate increment: ``count`` events on ``day`` for (kind, subject, country, regime, outcome).

    ``kind`` is ``"tag"`` (subject = the outcome key: a vendor id, ``unclassified:<host>`` or
    ``explicit:<category>``; outcome = ``fired``/``blocked``), ``"consent"`` (subject = the action, outcome =
    ``all``/``some``/``none`` of the optional categories granted) or ``"page"`` (subject =
    ``unclassified:<host>``, outcome = a path it appeared on, count = views of that page with it).
    """

    day: str
    kind: str
    subject: str
    country: str
    regime: str
    outcome: str
    count: int


def latest_days(rows: Iterable[CounterRow]) -> dict[str, str]:
    """Tag subject -> the last day it was counted in ``rows``."""
    seen: dict[str, str] = {}
    for row in rows:
        if row.kind == "tag" and row.day > seen.get(row.subject, ""):
            seen[row.subject] = row.day
    return seen


StatsBy = Literal["country", "regime", "day"]


class DecisionStore(Protocol):
    """Somewhere consent records become durable, chained so that edits show."""

    async def open(self) -> None:
        """Create or migrate the schema; adopt and replay spool files left by dead processes."""

    async def record(self, record: ConsentRecord) -> None:
        """Return only once ``record`` is durable; raise :class:`StoreError` otherwise."""

    async def close(self) -> None:
        """Flush and release resources."""

    async def records_for(self, consent_id: str) -> list[dict[str, Any]]:
        """One visitor's records (not erased), oldest first, for their own download."""
        ...

    def export(
        self, *, consent_id: str | None = None, since: str | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Records (not erased), oldest first, optionally of one visitor or from an ISO date/time on."""
        ...

    async def erase(self, consent_id: str) -> int:
        """Replace a visitor's records with tombstones; return how many were erased."""
        ...

    async def purge(self, older_than: str) -> int:
        """Delete records older than the ISO time ``older_than`` (retention); return how many."""
        ...

    async def verify(self, anchors: Mapping[int, str] | None = None) -> VerifyReport:
        """Walk the chain; report the first edited, inserted or removed record.

        ``anchors`` are heads published earlier (sequence number to hash): each must still be in the chain,
        which a chain rewritten or cut short since then, with every hash recomputed, no longer is."""
        ...

    async def stats(self, by: StatsBy = "country") -> list[StatsRow]:
        """Opt-in rates per group."""
        ...

    async def add_counters(self, rows: Sequence[CounterRow]) -> None:
        """Add aggregate counts (upsert)."""

    async def last_seen(self) -> dict[str, str]:
        """The last day (``YYYY-MM-DD``) each tag subject was counted (vendor ids, ``unclassified:<host>``)."""
        ...

    async def counters(self) -> list[CounterRow]:
        """Every aggregate row (what the dashboard, ``tags`` and ``lint`` read)."""
        ...
