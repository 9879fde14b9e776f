"""The dashboard under ``{prefix}admin``: which tags fire where, what was counted, consent rates, leaks."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

import jinja2

from .._http import BadRequest, respond, respond_error, respond_json
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from .._visitor import client_ip
from ..policy._decision import decide
from ..policy._tag_matrix import ConsentSpecError, build_matrix, choice_for, location_for, parse_consent, tag_rows
from ..store._base import CounterRow
from ._auth import AdminAuth
from ._preview import Previews

#: Days of history the consent charts show.
CHART_DAYS: Final = 14
_TEMPLATES: Final = Path(__file__).resolve().parent / "templates"


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
            data = await self.dashboard_data()
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
            data = await self.dashboard_data()
            await respond_json(send, 200, _jsonable(data))
        else:
            raise BadRequest(404, "not found")

    def preview_table(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """What fires for a visitor from ``country``/``state`` in ``consent`` state (the dashboard's preview)."""

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
            "rows": tag_rows(gw.registry, decision),
            "header": _preview_header_value(arg("country"), arg("state"), arg("consent") or "none", gpc),
        }

    # -- data ---------------------------------------------------------------------------------------

    async def counter_rows(self) -> tuple[list[CounterRow], str | None]:
        """Stored counters plus those not flushed yet; a note when the store could not be read."""
        gw = self.gateway
        rows: list[CounterRow] = []
        note = None
        reader = getattr(gw.store, "counters", None)
        if reader is None:
            note = "this store cannot report counters; showing this process's unflushed counts only"
        else:
            await gw.startup()
            try:
                rows += list(await reader())
            except Exception:
                note = "the decision log could not be read; showing this process's unflushed counts only"
        # Stored rows first, then the unflushed ones: a flush running in between can hide a few counts for
        # one refresh, but can never count them twice.
        return rows + list(gw.counters.pending()), note

    async def dashboard_data(self, now: datetime | None = None) -> dict[str, Any]:
        """Everything the dashboard shows (also served as ``admin/data.json``)."""
        from ..cli._lint import lint_config

        gw = self.gateway
        today = (now or datetime.now(UTC)).date()
        rows, note = await self.counter_rows()
        return {
            "matrix": build_matrix(gw.registry, gw.jurisdiction, policy_revision=gw.config.policy_revision),
            "tag_counts": tag_counts(rows, today),
            "consent_charts": {
                "regime": consent_charts(rows, today, by="regime"),
                "country": consent_charts(rows, today, by="country"),
            },
            "leaks": gw.leaks.hosts(),
            "lint": lint_config(gw.config),
            "refused_previews": self.previews.refused,
            "counters_note": note,
            "today": today.isoformat(),
        }


def _preview_header_value(country: str | None, state: str | None, consent: str, gpc: bool) -> str:
    parts = [f"country={country}"] if country else []
    if state:
        parts.append(f"state={state}")
    parts += [f"consent={consent}", f"gpc={int(gpc)}"]
    return "; ".join(parts)


# ------------------------------------------------------------------------------------------------------
# Aggregation (plain functions, tested with tables)


@dataclass(frozen=True, slots=True)
class TagCount:
    """Fired/blocked counts of one tag in one country, over the last 24 hours and 7 days."""

    tag: str
    country: str
    fired_24h: int
    blocked_24h: int
    fired_7d: int
    blocked_7d: int


def tag_counts(rows: Iterable[CounterRow], today: date) -> list[TagCount]:
    """Per tag × country. Counters are kept per UTC day, so "24 h" is today and yesterday (UTC) and
    "7 days" is today and the six days before: each window covers at least its nominal length."""
    since_24h = (today - timedelta(days=1)).isoformat()
    since_7d = (today - timedelta(days=6)).isoformat()
    acc: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        if r.kind != "tag" or r.day < since_7d or r.day > today.isoformat():
            continue
        cell = acc.setdefault((r.subject, r.country), [0, 0, 0, 0])
        fired = r.outcome == "fired"
        cell[2 if fired else 3] += r.count
        if r.day >= since_24h:
            cell[0 if fired else 1] += r.count
    out = [TagCount(tag, country, *counts) for (tag, country), counts in acc.items()]
    out.sort(key=lambda t: (-(t.fired_7d + t.blocked_7d), t.tag, t.country))
    return out


@dataclass(frozen=True, slots=True)
class Chart:
    """One consent-outcome chart: per day, the share of decisions granting all / some / none."""

    title: str
    days: tuple[str, ...]
    #: Per day: (all, some, none) counts.
    counts: tuple[tuple[int, int, int], ...]

    @property
    def total(self) -> int:
        """Decisions in the chart."""
        return sum(sum(c) for c in self.counts)

    def svg(self) -> str:
        """Server-rendered stacked bars (100 % per day), escaped text, no script, no third party."""
        return render_chart_svg(self)


def consent_charts(
    rows: Iterable[CounterRow], today: date, *, by: Literal["regime", "country"], limit: int = 8
) -> list[Chart]:
    """One chart per regime row (or country), busiest first, over the last :data:`CHART_DAYS` days."""
    days = tuple((today - timedelta(days=CHART_DAYS - 1 - i)).isoformat() for i in range(CHART_DAYS))
    index = {d: i for i, d in enumerate(days)}
    acc: dict[str, list[list[int]]] = {}
    for r in rows:
        if r.kind != "consent" or r.day not in index:
            continue
        group = r.regime if by == "regime" else r.country
        series = acc.setdefault(group, [[0, 0, 0] for _ in days])
        slot = {"all": 0, "some": 1, "none": 2}.get(r.outcome)
        if slot is not None:
            series[index[r.day]][slot] += r.count
    charts = [
        Chart(title=f"{by} {group}", days=days, counts=tuple((a, s, n) for a, s, n in series))
        for group, series in acc.items()
    ]
    charts.sort(key=lambda c: (-c.total, c.title))
    return charts[:limit]


_COLOURS: Final = ("#1b7f3b", "#d9a400", "#b3261e")  # all, some, none (with a text legend, not colour alone)


def render_chart_svg(chart: Chart, *, width: int = 420, height: int = 160) -> str:
    """An SVG of ``chart``: one 100 %-stacked bar per day, a title, axis labels and a legend."""
    from markupsafe import escape

    left, top, bottom = 34, 22, 34
    plot_h = height - top - bottom
    n = max(len(chart.days), 1)
    slot = (width - left - 8) / n
    bar_w = max(slot * 0.7, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(chart.title)}" class="chart">',
        f'<title>{escape(chart.title)}: consent outcomes per day</title>',
        f'<text x="{left}" y="14" font-size="12" font-family="sans-serif">{escape(chart.title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 4}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="2" y="{top + 8}" font-size="9" font-family="sans-serif">100%</text>',
        f'<text x="14" y="{top + plot_h}" font-size="9" font-family="sans-serif">0%</text>',
    ]
    for i, (day, counts) in enumerate(zip(chart.days, chart.counts, strict=True)):
        total = sum(counts)
        x = left + i * slot + (slot - bar_w) / 2
        y = float(top + plot_h)
        for value, colour, name in zip(counts, _COLOURS, ("all", "some", "none"), strict=True):
            if not total or not value:
                continue
            h = plot_h * value / total
            y -= h
            parts.append(
                f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{day}: {name} {value} of {total}</title></rect>"
            )
        if i % 2 == 0 or n <= 7:
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 12}" font-size="8" font-family="sans-serif">{day[5:]}</text>'
            )
    legend_y = height - 6
    for j, (colour, name) in enumerate(zip(_COLOURS, ("granted all", "granted some", "refused all"), strict=True)):
        lx = left + j * 110
        parts.append(f'<rect x="{lx}" y="{legend_y - 8}" width="9" height="9" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 12}" y="{legend_y}" font-size="9" font-family="sans-serif">{name}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _jsonable(data: Mapping[str, Any]) -> dict[str, Any]:
    matrix = data["matrix"]
    return {
        "matrix": {
            "columns": [c.label + f" ({c.place})" for c in matrix.columns],
            "tags": {t.id: [cell.fires for cell in cells] for t, cells in zip(matrix.tags, matrix.cells, strict=True)},
        },
        "tag_counts": [_fields(t) for t in data["tag_counts"]],
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
