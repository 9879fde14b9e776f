"""The hash chain: how entries are hashed, and how a chain is checked. Pure Python, no database.

Every row of the log is an *entry*: a consent record, an erasure entry or a purge entry. Each stores
``prev_hash`` (the previous entry's ``hash``) and ``hash = sha256(prev_hash || body)`` where ``body`` is
the canonical JSON of the entry (:meth:`ConsentRecord.to_json` for a consent record). A chain-head row,
updated in the same transaction as every append, holds the last sequence number and hash, so removing
records from the end shows too; ``start_seq``/``start_prev_hash`` say where the chain starts after a purge.

What the chain proves, and what it does not:

* Editing, inserting or removing a row (or changing one of the indexed columns copied from the body) is
  reported, naming the first affected sequence number.
* An *erased* record keeps its ``seq``, ``record_id``, ``prev_hash`` and ``hash`` but loses its body: a
  tombstone proves a record existed there and that the chain around it is intact, nothing about what it
  said. Every tombstone must be named (record id and hash) by a later *erasure entry* in the chain, so
  turning a record into a tombstone in the database directly — to hide it — is reported as well.
* Purging (retention) deletes a prefix of the chain and appends a *purge entry* naming where the chain now
  starts; the start recorded in the head row must agree with the latest purge entry, whether any rows are
  left or not (a purge always leaves its entry behind).
* A row's ``seq`` is a positive integer (a schema constraint since version 2); a row without one, which no walk
  in ``seq`` order would meet, is named before the walk.
* Someone with write access who recomputes every hash from an edited record to the head (and the head row)
  produces a chain that verifies, and so does one who removes the newest records and sets the head row
  back. Against both, publish or store elsewhere the head that ``cookiegate log verify`` prints (its
  anchor, ``seq:hash``) and give it to a later verify (``--anchor``, repeatable): the record at that
  sequence number must still have that hash, which a chain rewritten at or before it, or cut short before
  it, does not. A published head older than the chain's start (purged since) cannot be checked, except
  the one just before the start, whose hash the chain start records; the report says so.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Final

from ._base import ProblemKind, VerifyReport

GENESIS: Final = "0" * 64

KIND_CONSENT: Final = "consent"
KIND_ERASURE: Final = "erasure"
KIND_PURGE: Final = "purge"


def entry_hash(prev_hash: str, body: str) -> str:
    """``sha256(prev_hash || body)`` as hex."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def canonical(data: dict[str, Any]) -> str:
    """Canonical JSON, the same encoding :meth:`ConsentRecord.to_json` uses."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry not yet in the chain: what a row holds besides its chain fields."""

    record_id: str
    kind: str
    consent_id: str
    at: str
    action: str
    body: str


ROW_COLUMNS: Final = "seq, record_id, kind, consent_id, at, action, body, prev_hash, hash, erased_at"


@dataclass(frozen=True, slots=True)
class Row:
    """One stored row, as read back for verification."""

    seq: int
    record_id: str
    kind: str
    consent_id: str
    at: str
    action: str
    body: str | None
    prev_hash: str
    hash: str
    erased_at: str | None

    @classmethod
    def from_tuple(cls, t: tuple[Any, ...]) -> Row:
        """From a ``SELECT {ROW_COLUMNS}`` result row."""
        return cls(int(t[0]), t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9])


@dataclass(slots=True)
class Head:
    """The chain-head row: last entry, and where the chain starts (moved by purges)."""

    seq: int
    hash: str
    start_seq: int
    start_prev_hash: str


def columns_match_body(row: Row) -> bool:
    """Do the indexed columns say what the (hashed) body says? Only the body is covered by the hash."""
    assert row.body is not None
    try:
        data = json.loads(row.body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if row.kind == KIND_CONSENT:
        return (data.get("record_id"), data.get("consent_id"), data.get("at"), data.get("action")) == (
            row.record_id,
            row.consent_id,
            row.at,
            row.action,
        )
    return (data.get("kind"), data.get("record_id"), data.get("at")) == (
        row.kind,
        row.record_id,
        row.at,
    ) and (row.consent_id == "" and row.action == row.kind)


@dataclass(slots=True)
class Verifier:
    """Feed rows in ``seq`` order (:meth:`check`), then :meth:`finish`; stops at the first problem."""

    head: Head
    checked: int = 0
    report: VerifyReport | None = None
    _expected_seq: int = 0
    _expected_prev: str = ""
    _last: Row | None = None
    _pending: Row | None = None
    _tombstones: dict[str, Row] = field(default_factory=dict)
    _last_purge: dict[str, Any] | None = None
    #: Heads published earlier: sequence number -> the hash the record there must still have.
    anchors: dict[int, str] = field(default_factory=dict)
    #: What could not be checked (reported with the result, not as a problem).
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._expected_seq = self.head.start_seq
        self._expected_prev = self.head.start_prev_hash

    def _fail(self, kind: ProblemKind, row: Row | None, detail: str, seq: int | None = None) -> None:
        if self.report is None:
            self.report = VerifyReport(
                ok=False,
                checked=self.checked,
                head_seq=self.head.seq,
                head_hash=self.head.hash,
                problem=kind,
                seq=seq if seq is not None else (row.seq if row else None),
                record_id=row.record_id if row is not None and (seq is None or seq == row.seq) else None,
                detail=detail,
                notes=tuple(self.notes),
            )

    def no_place(self, rows: Iterable[tuple[Any, str]]) -> VerifyReport:
        """The report for rows (``(seq, record_id)``) that have no place in the chain: a NULL, zero or
        negative ``seq``, which no walk in ``seq`` order meets."""
        found = sorted(rows, key=lambda r: (not isinstance(r[0], int), r[0] if isinstance(r[0], int) else 0))
        named = ", ".join(f"{rid} (seq {'NULL' if seq is None else seq})" for seq, rid in found[:5])
        first = found[0]
        self._fail(
            "inserted",
            None,
            f"{len(found)} rows have no place in the chain (a NULL, zero or negative seq): {named}"
            + (" …" if len(found) > 5 else ""),
            seq=first[0] if isinstance(first[0], int) else None,
        )
        assert self.report is not None
        return replace(self.report, record_id=str(first[1]))

    def check(self, rows: Iterable[Row]) -> bool:
        """Check more rows; ``False`` once a problem is found (stop feeding)."""
        # One row of look-ahead: whether the row after a broken link chains over it tells an inserted row
        # from a removed or rewritten one.
        for row in rows:
            if self._pending is not None:
                self._step(self._pending, row)
                if self.report is not None:
                    return False
            self._pending = row
        return True

    def finish(self) -> VerifyReport:
        """The report, after the last row."""
        if self.report is None and self._pending is not None:
            self._step(self._pending, None)
        if self.report is None:
            self._finish_checks()
        if self.report is not None:
            return self.report
        return VerifyReport(
            ok=True, checked=self.checked, head_seq=self.head.seq, head_hash=self.head.hash, notes=tuple(self.notes)
        )

    def _step(self, row: Row, following: Row | None) -> None:
        if row.seq > self.head.seq:
            self._fail("inserted", row, f"seq {row.seq} is beyond the recorded chain head {self.head.seq}")
            return
        if row.seq < self._expected_seq:
            self._fail(
                "inserted", row, f"seq {row.seq} is before the start of the chain ({self._expected_seq})"
            )
            return
        if row.seq > self._expected_seq:
            span = (
                f"{self._expected_seq}–{row.seq - 1}"
                if row.seq - 1 > self._expected_seq
                else str(row.seq - 1)
            )
            self._fail(
                "removed",
                None,
                f"seq {span} missing (the chain continues at seq {row.seq})",
                seq=self._expected_seq,
            )
            return
        if row.erased_at is None or row.body is not None:
            if row.body is None or entry_hash(row.prev_hash, row.body) != row.hash:
                self._fail("edited", row, "its content no longer matches its hash")
                return
            if not columns_match_body(row):
                self._fail(
                    "edited", row, "its columns (consent id, time, action) differ from its hashed content"
                )
                return
        if row.prev_hash != self._expected_prev:
            last = self._last
            if following is not None and following.prev_hash == self._expected_prev:
                self._fail("inserted", row, "the chain continues past it from the record before")
            elif last is not None and row.prev_hash == last.prev_hash:
                self._fail("inserted", last, f"seq {row.seq} chains to the record before it")
            else:
                where = last.seq if last is not None else row.seq
                self._fail(
                    "rewritten",
                    last or row,
                    f"seq {row.seq} does not chain to seq {where}: seq {where} "
                    f"was rewritten (hash recomputed) or records between them were removed",
                )
            return
        anchored = self.anchors.get(row.seq)
        if anchored is not None and row.hash != anchored:
            self._fail(
                "rewritten",
                row,
                f"its hash is {row.hash}, not the {anchored} published for seq {row.seq}: the chain was "
                "rewritten (every hash recomputed) at or before this record since that head was published",
            )
            return
        if row.erased_at is not None:
            self._tombstones[row.record_id] = row
        elif row.kind == KIND_ERASURE:
            assert row.body is not None
            for item in json.loads(row.body).get("erased", []):
                stone = self._tombstones.get(str(item.get("record_id")))
                if stone is not None and stone.hash == item.get("hash"):
                    del self._tombstones[stone.record_id]
        elif row.kind == KIND_PURGE:
            assert row.body is not None
            self._last_purge = json.loads(row.body)
        self.checked += 1
        self._expected_seq = row.seq + 1
        self._expected_prev = row.hash
        self._last = row

    def _finish_checks(self) -> None:
        head = self.head
        if self._anchors_outside(head):
            return
        if self._tombstones:
            stone = min(self._tombstones.values(), key=lambda r: r.seq)
            self._fail(
                "tombstone", stone, "erased without an erasure entry in the chain (erased outside cookiegate)"
            )
            return
        if self._last is None:
            if head.seq >= head.start_seq:
                self._fail(
                    "removed", None, f"records {head.start_seq}–{head.seq} missing", seq=head.start_seq
                )
                return
        elif self._last.seq < head.seq:
            self._fail(
                "removed",
                None,
                f"records {self._last.seq + 1}–{head.seq} missing (end of the chain)",
                seq=self._last.seq + 1,
            )
            return
        elif self._last.hash != head.hash:
            self._fail("rewritten", self._last, "the last record's hash differs from the recorded chain head")
            return
        # Rows or no rows: a purge always leaves its entry behind, so a start moved past every row (an emptied
        # log whose start was set to its head) is as suspect as one moved past some.
        if (head.start_seq, head.start_prev_hash) != (1, GENESIS):
            purge = self._last_purge or {}
            if (purge.get("next_seq"), purge.get("next_prev_hash")) != (head.start_seq, head.start_prev_hash):
                self._fail(
                    "removed",
                    None,
                    "the chain start was moved without a matching purge entry",
                    seq=head.start_seq - 1,
                )

    def _anchors_outside(self, head: Head) -> bool:
        """Check the published heads the walk did not meet; True when one shows a problem (reported)."""
        for seq, anchored in sorted(self.anchors.items()):
            if seq > head.seq:
                self._fail(
                    "removed",
                    None,
                    f"the chain ends at seq {head.seq}, but a head was published at seq {seq}: records were "
                    "removed from its end and the chain head set back",
                    seq=head.seq + 1,
                )
                return True
            if seq == head.start_seq - 1:
                # Purged, but the chain start keeps the hash of the record before it (checked against the
                # latest purge entry below).
                if head.start_prev_hash != anchored:
                    self._fail(
                        "rewritten",
                        None,
                        f"the chain starts after seq {seq} with hash {head.start_prev_hash}, not the {anchored} "
                        "published for it: the chain was rewritten since that head was published",
                        seq=seq,
                    )
                    return True
            elif seq < head.start_seq - 1:
                self.notes.append(
                    f"the head published at seq {seq} is older than the chain's start (seq {head.start_seq}, "
                    "purged since): not checked"
                )
        return False


def link(head: Head, entries: Iterable[Entry]) -> Iterator[tuple[int, Entry, str, str]]:
    """``(seq, entry, prev_hash, hash)`` for entries appended after ``head``; advances ``head``."""
    for entry in entries:
        seq = head.seq + 1
        digest = entry_hash(head.hash, entry.body)
        yield seq, entry, head.hash, digest
        head.seq, head.hash = seq, digest
