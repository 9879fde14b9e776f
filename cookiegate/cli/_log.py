"""``cookiegate log …``: the privacy team's tools over the decision log.

* ``export [--consent-id ID | --since DATE] [--format jsonl|csv]`` — access and portability.
* ``erase --consent-id ID`` — deletion; leaves tombstones that keep the chain verifiable.
* ``purge [--older-than 13mo]`` — retention (units d, w, mo, y; default: the configured retention).
* ``verify`` — walks the hash chain; exit status 1 naming the first broken record (or a chain head published
  earlier, given with ``--anchor SEQ:HASH``, that the chain no longer holds).
* ``stats [--by country|regime|day]`` — opt-in rates, as a table.

Exit status: 0 ok, 1 the chain is broken, 2 bad arguments, 3 the log could not be read or written.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, TextIO

from ..policy._categories import CATEGORIES, OPTIONAL_CATEGORIES
from ..store import StoreError, open_store
from ..store._base import DecisionStore

#: Actions that only read the log: they sign nothing, so they run without ``secret_keys``.
READ_ONLY_ACTIONS: Final = frozenset({"export", "stats", "verify"})
#: Retention used when neither ``--older-than`` nor the config's ``log_retention`` says otherwise.
DEFAULT_RETENTION: Final = "13mo"

_AGE = re.compile(r"^\s*(\d+)\s*(d|w|mo|y)\s*$")
_CSV_FIELDS: Final = (
    "seq", "record_id", "consent_id", "at", "action",
    *(f"category_{c}" for c in CATEGORIES),
    "policy_revision", "regime_key", "regime_kind", "banner_variant", "banner_hash", "language",
    "country", "subdivision", "city", "gpc", "dnt", "device", "browser", "path", "ip", "hash",
)  # fmt: skip


class UsageError(ValueError):
    """A bad argument value (exit status 2)."""


def cutoff_for(age: str, now: datetime | None = None) -> datetime:
    """The UTC time ``age`` (``30d``, ``2w``, ``13mo``, ``1y``) before ``now``; months are calendar months."""
    match = _AGE.match(age)
    if not match:
        raise UsageError(f"age {age!r}: expected a number and a unit d, w, mo or y (e.g. 13mo)")
    n, unit = int(match.group(1)), match.group(2)
    now = now or datetime.now(UTC)
    if unit == "d":
        return now - timedelta(days=n)
    if unit == "w":
        return now - timedelta(weeks=n)
    months = n * 12 if unit == "y" else n
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    # Clamp the day: 31 March minus one month is 28/29 February.
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    day = min(now.day, (next_month - timedelta(days=1)).day)
    return now.replace(year=year, month=month, day=day)


_ANCHOR = re.compile(r"([1-9][0-9]{0,17}):([0-9a-f]{64})")


def anchor_values(texts: Sequence[str]) -> dict[int, str]:
    """Published chain heads given as ``seq:hash`` (what ``verify`` prints as its anchor), by sequence number."""
    anchors: dict[int, str] = {}
    for text in texts:
        match = _ANCHOR.fullmatch(text.strip().lower())
        if not match:
            raise UsageError(
                f"--anchor {text!r}: expected SEQ:HASH as verify prints it (a sequence number from 1, a colon, "
                "64 hex digits)"
            )
        seq, digest = int(match.group(1)), match.group(2)
        if anchors.setdefault(seq, digest) != digest:
            raise UsageError(f"--anchor: two different hashes given for seq {seq}")
    return anchors


def since_value(text: str) -> str:
    """An ISO date or date-time as the log's time format (UTC), for ``>=`` comparison."""
    try:
        if len(text.strip()) == 10:
            return date.fromisoformat(text.strip()).isoformat()
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--since {text!r}: expected an ISO date (2026-01-31) or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def add_log_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``log`` and its actions to a ``cookiegate`` sub-parser set; returns the ``log`` parser."""
    log: argparse.ArgumentParser = subparsers.add_parser(
        "log", help="the consent decision log: export, erase, purge, verify, stats"
    )
    actions = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--config", metavar="FILE", help="TOML config (default: $COOKIEGATE_CONFIG, ./cookiegate.toml)"
        )
        return parser

    export = action("export", "export records (access and portability requests), oldest first")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--consent-id", metavar="ID", help="only this visitor's records")
    which.add_argument("--since", metavar="DATE", help="only records at or after this ISO date or date-time")
    export.add_argument(
        "--format", choices=("jsonl", "csv"), default="jsonl", help="one JSON record per line (default), or CSV"
    )

    erase = action("erase", "erase a visitor's records (leaves verifiable tombstones)")
    erase.add_argument("--consent-id", metavar="ID", required=True, help="the visitor's consent id")

    purge = action("purge", "delete records older than the retention period")
    purge.add_argument("--older-than", metavar="AGE", help="e.g. 90d, 12w, 13mo, 2y (default: log_retention)")

    verify = action("verify", "check the hash chain; non-zero exit status naming the first broken record")
    verify.add_argument(
        "--anchor",
        metavar="SEQ:HASH",
        action="append",
        default=[],
        help="a chain head published earlier (the anchor verify prints): it must still be in the chain, "
        "which a chain rewritten or cut short since does not hold; repeatable",
    )

    stats = action("stats", "opt-in rates per country, regime or day")
    stats.add_argument(
        "--by",
        choices=("country", "regime", "day"),
        default="country",
        help="one row per country (default), regime or day",
    )
    stats.add_argument("--json", action="store_true", help="print JSON (schema: cookiegate/cli/schemas/stats.json)")
    return log


def run_log(args: argparse.Namespace, config: Any, *, out: TextIO | None = None) -> int:
    """Run ``cookiegate log <action>`` against ``config.log_url``; returns the exit status."""
    out = out or sys.stdout
    try:
        return asyncio.run(_run(args, config, out))
    except UsageError as exc:
        print(f"cookiegate log: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"cookiegate log: {exc}", file=sys.stderr)
        return 3


async def _run(args: argparse.Namespace, config: Any, out: TextIO) -> int:
    command: str = args.log_command
    # Check arguments before touching the database.
    since = since_value(args.since) if command == "export" and args.since else None
    retention = str(getattr(config, "log_retention", None) or DEFAULT_RETENTION)
    cutoff = cutoff_for(args.older_than or retention) if command == "purge" else None
    anchors = anchor_values(args.anchor) if command == "verify" else {}
    store = open_store(config.log_url, spool_dir=getattr(config, "log_spool_dir", None))
    handlers: dict[str, Callable[[], Awaitable[int]]] = {
        "export": lambda: _export(store, out, args.consent_id, since, args.format),
        "erase": lambda: _erase(store, out, args.consent_id),
        "purge": lambda: _purge(store, out, cutoff),
        "verify": lambda: _verify(store, out, anchors),
        "stats": lambda: _stats(store, out, args.by, as_json=args.json),
    }
    await store.open()
    try:
        return await handlers[command]()
    finally:
        await store.close()


async def _export(
    store: DecisionStore, out: TextIO, consent_id: str | None, since: str | None, fmt: str
) -> int:
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, extrasaction="ignore") if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    count = 0
    async for rec in store.export(consent_id=consent_id, since=since):
        count += 1
        if writer is None:
            out.write(json.dumps(rec, sort_keys=True, ensure_ascii=False) + "\n")
            continue
        row: dict[str, Any] = dict(rec)
        for category in CATEGORIES:
            row[f"category_{category}"] = (
                "yes" if rec.get("categories", {}).get(category, category == "necessary") else "no"
            )
        writer.writerow(row)
    print(f"cookiegate log: exported {count} records", file=sys.stderr)
    return 0


async def _erase(store: DecisionStore, out: TextIO, consent_id: str) -> int:
    count = await store.erase(consent_id)
    print(
        f"erased {count} records of consent id {consent_id}"
        if count
        else f"no records of consent id {consent_id}",
        file=out,
    )
    return 0


async def _purge(store: DecisionStore, out: TextIO, cutoff: datetime | None) -> int:
    assert cutoff is not None
    when = cutoff.astimezone(UTC).isoformat(timespec="microseconds")
    count = await store.purge(when)
    print(f"purged {count} records older than {when}", file=out)
    return 0


async def _verify(store: DecisionStore, out: TextIO, anchors: dict[int, str]) -> int:
    report = await store.verify(anchors)
    print(report.describe(), file=out)
    return 0 if report.ok else 1


async def _stats(store: DecisionStore, out: TextIO, by: Any, *, as_json: bool = False) -> int:
    rows = await store.stats(by)
    if as_json:
        data = {
            "by": by,
            "categories": list(OPTIONAL_CATEGORIES),
            "rows": [
                {
                    "group": r.group,
                    "decisions": r.decisions,
                    "granted": {c: r.granted.get(c, 0) for c in OPTIONAL_CATEGORIES},
                    "rates": {c: round(r.rate(c), 4) for c in OPTIONAL_CATEGORIES},
                }
                for r in rows
            ],
        }
        out.write(json.dumps(data, indent=2) + "\n")
        return 0
    header = [by, "decisions", *OPTIONAL_CATEGORIES]
    table = [header] + [
        [r.group, str(r.decisions), *(f"{100 * r.rate(c):.1f}%" for c in OPTIONAL_CATEGORIES)] for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip(),
            file=out,
        )
    if not rows:
        print("(no consent records)", file=out)
    return 0
