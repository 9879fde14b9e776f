"""The dashboard under ``{prefix}admin``: which tags fire where, what was counted, consent rates, leaks."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import jinja2

from .._http import BadRequest, respond, respond_error, respond_json
from .._runtime import Gateway
from .._sightings import classified_by, sightings
from .._types import Receive, Scope, Send
from .._visitor import client_ip
from ..policy._catalog import Vendor
from ..policy._categories import CATEGORIES
from ..policy._decision import decide
from ..policy._outcomes import UNCLASSIFIED, describe_key, unclassified_host
from ..policy._tag_matrix import (
    ConsentSpecError,
    Matrix,
    TagRow,
    build_matrix,
    choice_for,
    location_for,
    parse_consent,
    tag_rows,
    unclassified_row,
)
from ..store._base import CounterRow
from ._auth import AdminAuth
from ._counts import SORT_KEYS, consent_charts, tag_counts, vendor_counts
from ._preview import Previews

_TEMPLATES: Final = Path(__file__).resolve().parent / "templates"


def _sorting(query: Mapping[str, list[str]]) -> dict[str, Any]:
    """``?sort=fired_7d&order=asc`` for the fired/blocked table (unknown values fall back to the default)."""
    sort = (query.get("sort") or ["blocked_7d"])[0]
    order = (query.get("order") or [""])[0]
    return {"sort": sort, "descending": order != "asc" if sort not in ("name", "category") else order == "desc"}


class Dashboard:
    """The dashboard's routes and the data they show."""

    def __init__(self, gateway: Gateway, auth: AdminAuth, previews: Previews) -> None:
        self.gateway = gateway
        self.auth = auth
        self.previews = previews
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.filters["zip"] = lambda a, b: zip(a, b, strict=True)
        self.env.filters["utc"] = lambda t: datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, sub: str, credentials: Sequence[tuple[bytes, bytes]]
    ) -> None:
        """Serve ``{prefix}admin…``; ``sub`` is the path after ``admin``, ``credentials`` the request's
        headers as sent (the scope's no longer carry them)."""
        client = client_ip(scope, self.gateway.trusted)
        status = self.auth.check(credentials, client)
        if status == "off":
            raise BadRequest(404, "not found")
        if status == "limited":
            await respond(
                send,
                429,
                b"too many failed attempts; try again later",
                b"text/plain; charset=utf-8",
                [(b"retry-after", self.auth.retry_after(client)), (b"cache-control", b"no-store")],
            )
            return
        if status != "ok":
            await respond(
                send,
                401,
                b"admin token required",
                b"text/plain; charset=utf-8",
                [
                    (b"www-authenticate", b'Basic realm="cookiegate admin", charset="UTF-8"'),
                    (b"cache-control", b"no-store"),
                ],
            )
            return
        method = scope.get("method", "GET")
        if method not in ("GET", "HEAD"):
            raise BadRequest(405, "method not allowed")
        headers = [
            (b"cache-control", b"no-store"),
            (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"),
        ]
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if sub in ("", "/"):
            data = await self.dashboard_data(**_sorting(query))
            html = self.env.get_template("dashboard.html").render(**data, prefix=self.gateway.prefix)
            await respond(send, 200, html.encode(), b"text/html; charset=utf-8", headers, head=method == "HEAD")
        elif sub == "/preview":
            try:
                context = self.preview_table(query)
            except ConsentSpecError as exc:
                await respond_error(send, BadRequest(400, str(exc)))
                return
            html = self.env.get_template("preview.html").render(**context, prefix=self.gateway.prefix)
            await respond(send, 200, html.encode(), b"text/html; charset=utf-8", headers, head=method == "HEAD")
        elif sub == "/data.json":
            data = await self.dashboard_data(**_sorting(query))
            await respond_json(send, 200, _jsonable(data))
        else:
            raise BadRequest(404, "not found")

    def preview_table(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """What fires for a visitor from ``country``/``state`` in ``consent`` state (the dashboard's preview):
        decided as the gate decides, tags judged by the gate's rule (classifier view, permissions)."""
        from ..cli._scan import preview_header

        def arg(name: str) -> str | None:
            values = query.get(name)
            return values[0].strip() or None if values else None

        location = location_for(arg("country"), arg("state"))
        consent = parse_consent(arg("consent") or "none")
        gpc = (arg("gpc") or "0") in ("1", "on", "true")
        gw = self.gateway
        regime = gw.jurisdiction.regime_for(location)
        choice = choice_for(
            consent, regime_key=regime.key, regime_kind=regime.kind, policy_revision=gw.config.policy_revision
        )
        decision = decide(location=location, regime=regime, choice=choice, gpc=gpc, unclassified=gw.config.unclassified)
        return {
            "decision": decision,
            "rows": [*tag_rows(gw.registry, decision, gw.classifier), unclassified_row(decision)],
            "header": preview_header(arg("country"), arg("state"), arg("consent") or "none", gpc),
        }

    # -- data ---------------------------------------------------------------------------------------

    async def counter_rows(self) -> tuple[list[CounterRow], str | None]:
        """Stored counters plus those not flushed yet; a note when the store could not be read."""
        gw = self.gateway
        rows: list[CounterRow] = []
        note = None
        await gw.startup()
        try:
            rows += list(await gw.store.counters())
        except Exception:
            note = "the decision log could not be read; showing this process's unflushed counts only"
        # Stored rows first, then the unflushed ones: a flush running in between can hide a few counts for
        # one refresh, but can never count them twice.
        return rows + list(gw.counters.pending()), note

    def names(self) -> dict[str, tuple[str, str]]:
        """Outcome key -> (name, category) for every key the counters can hold."""
        return {v.id: (v.name, v.category) for v in self.gateway.registry.vendors}

    async def dashboard_data(
        self, now: datetime | None = None, *, sort: str = "blocked_7d", descending: bool = True
    ) -> dict[str, Any]:
        """Everything the dashboard shows (also served as ``admin/data.json``)."""
        from ..cli._lint import lint_config, unclassified_violations

        gw = self.gateway
        today = (now or datetime.now(UTC)).date()
        rows, note = await self.counter_rows()
        counts = tag_counts(rows, today)
        names = self.names()
        for count in counts:
            if count.tag not in names:
                names[count.tag] = (describe_key(count.tag), _key_category(count.tag))
        hosts = sightings(rows, classified=classified_by(gw.config, gw.registry), vendors=gw.registry.vendors)
        matrix = build_matrix(
            gw.registry,
            gw.jurisdiction,
            policy_revision=gw.config.policy_revision,
            classifier=gw.classifier,
            unclassified=gw.config.unclassified,
        )
        return {
            "matrix": matrix,
            "matrix_groups": matrix_groups(matrix),
            "matrix_denied": any(cell.consent_mode for cells in matrix.cells for cell in cells),
            "tag_counts": counts,
            "vendor_counts": vendor_counts(counts, names, sort=sort, descending=descending),
            "sort": sort if sort in SORT_KEYS else "blocked_7d",
            "descending": descending,
            "unclassified": hosts,
            "consent_charts": {
                "regime": consent_charts(rows, today, by="regime"),
                "country": consent_charts(rows, today, by="country"),
            },
            "leaks": gw.leaks.hosts(),
            "lint": lint_config(gw.config) + unclassified_violations(hosts),
            "refused_previews": self.previews.refused,
            "counters_note": note,
            "today": today.isoformat(),
        }


def matrix_groups(matrix: Matrix) -> list[tuple[str, list[tuple[Vendor, tuple[TagRow, ...]]]]]:
    """The matrix's rows by category, in the order categories are shown everywhere (a row per category
    heading instead of a category column keeps the table within 1,200 px)."""
    groups: dict[str, list[tuple[Vendor, tuple[TagRow, ...]]]] = {c: [] for c in CATEGORIES}
    for tag, cells in zip(matrix.tags, matrix.cells, strict=True):
        groups.setdefault(tag.category, []).append((tag, cells))
    return [(category, rows) for category, rows in groups.items() if rows]


def _key_category(key: str) -> str:
    if unclassified_host(key) is not None:
        return UNCLASSIFIED
    return key.split(":", 1)[1] if ":" in key else "-"


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    matrix = data["matrix"]
    return {
        "matrix": {
            "columns": [c.label + f" ({c.place})" for c in matrix.columns],
            "tags": {t.id: [cell.fires for cell in cells] for t, cells in zip(matrix.tags, matrix.cells, strict=True)},
            "unclassified": [cell.fires for cell in matrix.unclassified],
        },
        "tag_counts": [_fields(t) for t in data["tag_counts"]],
        "vendor_counts": [
            {**_fields(v), "countries": [_fields(c) for c in v.countries]} for v in data["vendor_counts"]
        ],
        "unclassified": [
            {**_fields(s), "suggestion": _fields(s.suggestion) if s.suggestion else None} for s in data["unclassified"]
        ],
        "consent_charts": {
            by: [{"title": c.title, "days": c.days, "counts": c.counts} for c in charts]
            for by, charts in data["consent_charts"].items()
        },
        "leaks": [_fields(g) for g in data["leaks"]],
        "lint": [_fields(v) for v in data["lint"]],
        "refused_previews": data["refused_previews"],
        "counters_note": data["counters_note"],
    }


def _fields(obj: Any) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in obj.__slots__}
