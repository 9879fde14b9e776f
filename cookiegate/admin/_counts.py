"""What the dashboard counts and draws: fired/blocked per vendor and country, consent outcomes per day, CSP
leak reports. Plain functions over counter rows, tested with tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from ..store._base import CounterRow

#: Days of history the consent charts show.
CHART_DAYS: Final = 14


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
class VendorCounts:
    """Fired/blocked counts of one vendor (or one unclassified host), in total and per country."""

    key: str
    name: str
    category: str
    fired_24h: int
    blocked_24h: int
    fired_7d: int
    blocked_7d: int
    countries: tuple[TagCount, ...]


#: Columns the fired/blocked table sorts by (``?sort=…&order=asc|desc``).
SORT_KEYS: Final = ("name", "category", "fired_24h", "blocked_24h", "fired_7d", "blocked_7d")


def vendor_counts(
    counts: Iterable[TagCount],
    names: Mapping[str, tuple[str, str]],
    *,
    sort: str = "blocked_7d",
    descending: bool = True,
) -> list[VendorCounts]:
    """:func:`tag_counts` grouped by vendor (``names``: outcome key -> (name, category)) and sorted by ``sort``;
    a group's countries are sorted by the same count (by country code when sorting by name or category)."""
    sort = sort if sort in SORT_KEYS else "blocked_7d"
    numeric = sort not in ("name", "category")
    groups: dict[str, list[TagCount]] = {}
    for count in counts:
        groups.setdefault(count.tag, []).append(count)
    out = []
    for key, members in groups.items():
        name, category = names.get(key, (key, "-"))
        countries = sorted(members, key=lambda c: c.country)
        if numeric:
            countries.sort(key=lambda c: getattr(c, sort), reverse=descending)
        out.append(
            VendorCounts(
                key=key,
                name=name,
                category=category,
                fired_24h=sum(c.fired_24h for c in members),
                blocked_24h=sum(c.blocked_24h for c in members),
                fired_7d=sum(c.fired_7d for c in members),
                blocked_7d=sum(c.blocked_7d for c in members),
                countries=tuple(countries),
            )
        )
    out.sort(key=lambda v: (v.name.lower(), v.key))  # ties keep a stable, readable order
    if numeric:
        out.sort(key=lambda v: getattr(v, sort), reverse=descending)
    else:
        out.sort(key=lambda v: str(getattr(v, sort)).lower(), reverse=descending)
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
