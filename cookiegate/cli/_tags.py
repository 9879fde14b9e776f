"""``cookiegate tags``: which tags fire for a visitor, or the whole matrix, as text or JSON.

The rows come from :mod:`cookiegate.policy._tag_matrix` (the gate's own rule); the unclassified hosts from
the stored counters (:mod:`cookiegate._sightings`). JSON follows ``cookiegate/cli/schemas/tags.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from .._sightings import Sighting
from ..policy._decision import Decision
from ..policy._tag_matrix import Matrix, TagRow

#: Matrix cells: fires, blocked, loads in Consent Mode's denied state.
CELL_FIRES: Final = "Y"
CELL_BLOCKED: Final = "."
CELL_DENIED: Final = "d"
DENIED_NOTE: Final = "denied = loads in Consent Mode's denied state (Consent Mode advanced): no cookies, pings only"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = []
    lines.append("  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


def _fires(row: TagRow) -> str:
    if row.consent_mode == "denied":
        return "denied"
    return "yes" if row.fires else "no"


def format_tag_rows(
    decision: Decision, rows: Sequence[TagRow], unclassified: TagRow, hosts: Sequence[Sighting] = ()
) -> str:
    """The ``cookiegate tags --country …`` table, with a header line naming the place and regime, the
    unclassified row, and the unclassified hosts seen on the site's pages."""
    where = decision.location.subdivision or decision.location.country or "unknown location"
    chosen = "no choice yet" if decision.choice is None else f"choice: {decision.choice.action}"
    head = (
        f"{where}: regime {decision.regime.kind} (row {decision.regime.key}); {chosen}; "
        f"GPC {'on' if decision.gpc else 'off'}; allowed: {', '.join(sorted(decision.allowed))}"
    )
    table = _table(
        ("TAG", "VENDOR", "CATEGORY", "FIRES", "REASON"),
        [(r.tag_id, r.vendor, r.category, _fires(r), r.reason) for r in (*rows, unclassified)],
    )
    out = [head, "", table]
    if any(r.consent_mode == "denied" for r in rows):
        out += ["", DENIED_NOTE]
    out += ["", *_hosts_lines(hosts, unclassified.fires)]
    return "\n".join(out)


def _hosts_lines(hosts: Sequence[Sighting], fires: bool | None) -> list[str]:
    if not hosts:
        return ["Unclassified hosts seen on the site's pages: none"]
    what = "" if fires is None else f" ({'let through' if fires else 'blocked'} for this visitor)"
    lines = [f"Unclassified hosts seen on the site's pages{what}; classify each in [[tags]] or csp_allow:"]
    for s in hosts:
        pages = ", ".join(path for path, _ in s.pages) or "-"
        hint = f"; probably {s.suggestion.category} ({s.suggestion.reason})" if s.suggestion else ""
        lines.append(f"  unclassified host {s.host}  on {pages}  (blocked {s.blocked}, let through {s.fired}{hint})")
    return lines


def format_matrix(matrix: Matrix, hosts: Sequence[Sighting] = ()) -> str:
    """The full matrix as text: a header row naming each regime (and the place shown for it) over its
    consent states, so no legend is needed."""
    header = ["TAG", "CATEGORY", *(c.state for c in matrix.columns)]
    rows = [
        [tag.id, tag.category, *(_cell(cell) for cell in cells)]
        for tag, cells in zip(matrix.tags, matrix.cells, strict=True)
    ]
    if matrix.unclassified:
        rows.append(["(unclassified hosts)", "unclassified", *(_cell(c) for c in matrix.unclassified)])
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]
    groups = [(f"{kind} ({place})", span) for kind, place, span in matrix.groups]
    first = 2
    for label, span in groups:
        room = sum(widths[first : first + span]) + 2 * (span - 1)
        widths[first + span - 1] += max(len(label) - room, 0)
        first += span
    heads = [" " * (widths[0] + 2 + widths[1])]
    first = 2
    for label, span in groups:
        heads.append(label.ljust(sum(widths[first : first + span]) + 2 * (span - 1)))
        first += span

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    key = f"{CELL_FIRES} = fires, {CELL_BLOCKED} = blocked, {CELL_DENIED} = {DENIED_NOTE.split(' = ', 1)[1]}"
    table = ["  ".join(heads).rstrip(), line(header), "  ".join("-" * w for w in widths), *map(line, rows)]
    return "\n".join([key, "", *table, "", *_hosts_lines(hosts, None)])


def _cell(row: TagRow) -> str:
    if row.consent_mode == "denied":
        return CELL_DENIED
    return CELL_FIRES if row.fires else CELL_BLOCKED


# ------------------------------------------------------------------------------------------------------
# JSON (schema: cookiegate/cli/schemas/tags.json)


def _row_json(row: TagRow) -> dict[str, Any]:
    return {"fires": row.fires, "consent_mode": row.consent_mode, "reason": row.reason}


def hosts_json(hosts: Sequence[Sighting]) -> list[dict[str, Any]]:
    """The unclassified hosts as JSON (shared by ``tags`` and ``lint``)."""
    return [
        {
            "host": s.host,
            "pages": [{"path": path, "views": views} for path, views in s.pages],
            "blocked": s.blocked,
            "fired": s.fired,
            "first_seen": s.first_seen,
            "last_seen": s.last_seen,
            "suggested_category": s.suggestion.category if s.suggestion else None,
            "suggestion_reason": s.suggestion.reason if s.suggestion else None,
        }
        for s in hosts
    ]


def visitor_json(
    decision: Decision, rows: Sequence[TagRow], unclassified: TagRow, hosts: Sequence[Sighting], consent_mode: str
) -> dict[str, Any]:
    """``cookiegate tags --country … --json``."""
    return {
        "kind": "visitor",
        "visitor": {
            "country": decision.location.country,
            "subdivision": decision.location.subdivision,
            "choice": decision.choice.action if decision.choice else None,
            "gpc": decision.gpc,
        },
        "decision": {
            "regime": {"key": decision.regime.key, "kind": decision.regime.kind},
            "allowed": sorted(decision.allowed),
            "reasons": dict(sorted(decision.reasons.items())),
            "consent_mode": consent_mode,
        },
        "tags": [{"id": r.tag_id, "vendor": r.vendor, "category": r.category, **_row_json(r)} for r in rows],
        "unclassified": {**_row_json(unclassified), "hosts": hosts_json(hosts)},
    }


def matrix_json(matrix: Matrix, hosts: Sequence[Sighting], consent_mode: str) -> dict[str, Any]:
    """``cookiegate tags --json`` (no visitor given): the whole matrix."""
    return {
        "kind": "matrix",
        "consent_mode": consent_mode,
        "columns": [
            {"kind": c.kind, "place": c.place, "consent": c.consent, "gpc": c.gpc, "label": c.label}
            for c in matrix.columns
        ],
        "tags": [
            {"id": t.id, "vendor": t.name, "category": t.category, "cells": [_row_json(c) for c in cells]}
            for t, cells in zip(matrix.tags, matrix.cells, strict=True)
        ],
        "unclassified": {"cells": [_row_json(c) for c in matrix.unclassified], "hosts": hosts_json(hosts)},
    }


__all__ = ["format_matrix", "format_tag_rows", "hosts_json", "matrix_json", "visitor_json"]
