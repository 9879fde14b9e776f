"""The bundled Open Cookie Database: cookie facts by platform, a classifier for unclaimed cookie names, and
the update path that checks a newer copy before it replaces the bundled one.

The database (https://github.com/jkwakman/Open-Cookie-Database, Apache-2.0) lists cookies by ``Platform``
with a category, a retention period and, for cookies set on the platform's own domain, that domain. Only
rows with no domain describe cookies a platform's script sets on the visited site, so only those classify
the site's ``Set-Cookie`` headers; the others are facts for the cookie statement.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
import tempfile
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Final

from ._categories import ADS, ANALYTICS, FUNCTIONAL, NECESSARY
from ._vendor import SENSITIVITY, CookieFact, Vendor

CSV_NAME: Final = "open-cookie-database.csv"
COLUMNS: Final = (
    "ID",
    "Platform",
    "Category",
    "Cookie / Data Key name",
    "Domain",
    "Description",
    "Retention period",
    "Data Controller",
    "User Privacy & GDPR Rights Portals",
    "Wildcard match",
)
#: The database's categories and ours. Its "Functional" means technical/essential (its README says so).
CATEGORY_MAP: Final[Mapping[str, str]] = {
    "Functional": NECESSARY,
    "Security": NECESSARY,
    "Necessary": NECESSARY,
    "Personalization": FUNCTIONAL,
    "Analytics": ANALYTICS,
    "Marketing": ADS,
}
#: Shorter names (``i``, ``c``, ``sp``) and wildcard prefixes (``mp_``, ``_s``) would claim a site's own
#: cookies by accident, so they are statement facts only.
MIN_EXACT_NAME: Final = 3
MIN_WILDCARD_PREFIX: Final = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class CookieRow:
    """One row of the database, its category mapped to ours."""

    id: str
    platform: str
    #: The database's own category (``Marketing``), and ours (``ads``).
    ocd_category: str
    category: str
    name: str
    domain: str
    description: str
    retention: str
    controller: str
    wildcard: bool

    @property
    def first_party(self) -> bool:
        """Set on the visited site by the platform's script (no domain of its own)."""
        return not self.domain

    def fact(self) -> CookieFact:
        """The row as a statement fact (wildcards written with a trailing ``*``)."""
        return CookieFact(
            name=self.name + ("*" if self.wildcard else ""),
            lifetime=self.retention,
            origin="ocd",
            description=self.description,
            domain=self.domain,
        )


def _boundary_ok(prefix: str, name: str) -> bool:
    """``name`` extends the wildcard ``prefix`` at a separator: ``_gat`` covers ``_gat_UA-1``, not ``_gateway``."""
    if len(name) == len(prefix) or not prefix[-1].isalnum():
        return True
    nxt = name[len(prefix)]
    return not nxt.isalpha()


def claimable(row: CookieRow) -> bool:
    """Whether a row may classify a site's own cookie (first-party, and specific enough)."""
    if not row.first_party:
        return False
    return len(row.name) >= (MIN_WILDCARD_PREFIX if row.wildcard else MIN_EXACT_NAME)


class CookieDatabase:
    """The rows, indexed by platform and, for classification, by exact name and wildcard prefix."""

    def __init__(self, rows: Iterable[CookieRow]) -> None:
        self.rows: tuple[CookieRow, ...] = tuple(rows)
        self._by_platform: dict[str, list[CookieRow]] = {}
        self._exact: dict[str, CookieRow] = {}
        self._prefixes: dict[str, CookieRow] = {}
        for row in self.rows:
            self._by_platform.setdefault(row.platform, []).append(row)
            if not claimable(row):
                continue
            index = self._prefixes if row.wildcard else self._exact
            held = index.get(row.name)
            # One name, several platforms: the most sensitive category wins (a refusal must cover it).
            if held is None or SENSITIVITY[row.category] > SENSITIVITY[held.category]:
                index[row.name] = row
        # Wildcard prefixes by their first MIN_WILDCARD_PREFIX characters, longest first: one dict lookup finds
        # the few a name can extend.
        self._by_head: dict[str, list[CookieRow]] = {}
        for prefix in sorted(self._prefixes, key=len, reverse=True):
            self._by_head.setdefault(prefix[:MIN_WILDCARD_PREFIX], []).append(self._prefixes[prefix])
        self._vendors: dict[tuple[str, str], Vendor] = {}

    @property
    def platforms(self) -> frozenset[str]:
        """Every ``Platform`` name in the database."""
        return frozenset(self._by_platform)

    def rows_for(self, platform: str) -> tuple[CookieRow, ...]:
        """The rows of one platform (empty for a name the database does not have)."""
        return tuple(self._by_platform.get(platform, ()))

    def match(self, name: str) -> CookieRow | None:
        """The first-party row that describes a cookie called ``name``: exact names, then longest prefix."""
        row = self._exact.get(name)
        if row is not None:
            return row
        for row in self._by_head.get(name[:MIN_WILDCARD_PREFIX], ()):
            if name.startswith(row.name) and _boundary_ok(row.name, name):
                return row
        return None

    def vendor_for(self, row: CookieRow) -> Vendor:
        """A vendor record standing for the row's platform and category (one per pair, built once)."""
        key = (row.platform, row.category)
        vendor = self._vendors.get(key)
        if vendor is None:
            slug = re.sub(r"[^a-z0-9]+", "-", row.platform.lower()).strip("-") or "unnamed"
            vendor = self._vendors[key] = Vendor(
                id=f"ocd-{slug}-{row.category}",
                name=row.platform or "a platform the Open Cookie Database does not name",
                category=row.category,
                purpose=f"Sets cookies the Open Cookie Database files under {row.platform}.",
                company=row.controller,
                ocd_platforms=(row.platform,),
                cookie_facts=tuple(r.fact() for r in self.rows_for(row.platform) if r.category == row.category),
                notes="Not in the catalogue: known only from the Open Cookie Database.",
            )
        return vendor


# --------------------------------------------------------------------------------------------------------
# Reading and validating a copy


class CookieDatabaseError(ValueError):
    """A copy of the database that cannot be used; the message says which row and why."""


def parse_rows(text: str, *, where: str = CSV_NAME) -> tuple[CookieRow, ...]:
    """Every row of a database CSV, validated: its columns, categories, names, wildcard flags and ids."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise CookieDatabaseError(f"{where}: expected the columns {', '.join(COLUMNS)}; found {header!r}")
    rows: list[CookieRow] = []
    seen: set[str] = set()
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(COLUMNS):
            raise CookieDatabaseError(f"{where}:{line}: {len(values)} fields, expected {len(COLUMNS)}")
        raw = dict(zip(COLUMNS, (v.strip() for v in values), strict=True))
        name = raw["Cookie / Data Key name"]
        if not name:
            raise CookieDatabaseError(f"{where}:{line}: empty cookie name")
        category = CATEGORY_MAP.get(raw["Category"])
        if category is None:
            raise CookieDatabaseError(
                f"{where}:{line}: unknown category {raw['Category']!r} (known: {', '.join(CATEGORY_MAP)})"
            )
        if raw["Wildcard match"] not in ("0", "1"):
            raise CookieDatabaseError(f"{where}:{line}: wildcard match must be 0 or 1, not {raw['Wildcard match']!r}")
        if not raw["ID"] or raw["ID"] in seen:
            raise CookieDatabaseError(f"{where}:{line}: missing or duplicate ID {raw['ID']!r}")
        seen.add(raw["ID"])
        rows.append(
            CookieRow(
                id=raw["ID"],
                platform=raw["Platform"],
                ocd_category=raw["Category"],
                category=category,
                name=name,
                domain=raw["Domain"],
                description=raw["Description"],
                retention=raw["Retention period"],
                controller=raw["Data Controller"],
                wildcard=raw["Wildcard match"] == "1",
            )
        )
    if not rows:
        raise CookieDatabaseError(f"{where}: no rows")
    return tuple(rows)


def bundled_directory() -> Path:
    """Where the package keeps its copy (CSV, LICENSE, NOTICE)."""
    return Path(str(files("cookiegate") / "policy" / "open_cookie_database"))


@cache
def bundled_database() -> CookieDatabase:
    """The bundled copy, read and validated once."""
    path = bundled_directory() / CSV_NAME
    return CookieDatabase(parse_rows(path.read_text(encoding="utf-8"), where=str(path)))


def site_database(directory: str | os.PathLike[str] | None) -> CookieDatabase:
    """The copy a site keeps in ``directory`` (its ``cookie_database`` setting), or the bundled one for ``None``;
    :class:`CookieDatabaseError` when that copy is missing or unusable (start-up stops, loudly)."""
    if directory is None:
        return bundled_database()
    path = Path(directory) / CSV_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CookieDatabaseError(
            f"{path}: {exc.strerror or exc}; create it with `cookiegate catalog update-cookies FILE|URL`"
        ) from None
    return CookieDatabase(parse_rows(text, where=str(path)))


# --------------------------------------------------------------------------------------------------------
# The update path


@dataclass(frozen=True, slots=True)
class UpdateReport:
    """What a newer copy changes, by row ID: rows added, removed, and changed (with the columns that did)."""

    source: str
    rows: int
    added: tuple[CookieRow, ...] = ()
    removed: tuple[CookieRow, ...] = ()
    changed: tuple[tuple[CookieRow, CookieRow, tuple[str, ...]], ...] = ()
    written: bool = False

    def summary(self) -> str:
        """One line per change, then the totals."""
        lines = [f"+ {r.platform}: {r.name} ({r.category})" for r in self.added]
        lines += [f"- {r.platform}: {r.name} ({r.category})" for r in self.removed]
        lines += [f"~ {new.platform}: {new.name}: {', '.join(cols)}" for _old, new, cols in self.changed]
        lines.append(
            f"{self.source}: {self.rows} rows; {len(self.added)} added, {len(self.removed)} removed, "
            f"{len(self.changed)} changed" + ("" if self.written else " (nothing written)")
        )
        return "\n".join(lines)


_COMPARED: Final = (
    "platform", "ocd_category", "category", "name", "domain", "description", "retention", "controller", "wildcard",
)


def _read_source(source: str | os.PathLike[str]) -> str:
    text = os.fspath(source)
    if re.match(r"https?://", text):
        with urllib.request.urlopen(text, timeout=30) as response:  # noqa: S310 - the operator's own URL
            data: bytes = response.read()
        return data.decode("utf-8")
    return Path(text).read_text(encoding="utf-8")


def update_cookie_database(
    source: str | os.PathLike[str], target_dir: str | os.PathLike[str], *, write: bool = True,
    baseline_dir: str | os.PathLike[str] | None = None,
) -> UpdateReport:
    """Validate a newer database CSV (a path or an http(s) URL) and report what it changes against the copy in
    ``target_dir`` (or, when it holds none yet, in ``baseline_dir``); with ``write`` (the default) it then replaces
    the copy in ``target_dir``, atomically and byte for byte.

    Raises :class:`CookieDatabaseError` (nothing written) when the new copy is unusable: wrong columns, an
    unknown category, an empty name, a bad wildcard flag or a duplicate ID.
    """
    where = os.fspath(source)
    text = _read_source(source)
    new_rows = parse_rows(text, where=where)
    target = Path(target_dir) / CSV_NAME
    baseline = target if target.exists() or baseline_dir is None else Path(baseline_dir) / CSV_NAME
    old_rows = parse_rows(baseline.read_text(encoding="utf-8"), where=str(baseline)) if baseline.exists() else ()
    old = {r.id: r for r in old_rows}
    new = {r.id: r for r in new_rows}
    changed = []
    for row_id in old.keys() & new.keys():
        cols = tuple(c for c in _COMPARED if getattr(old[row_id], c) != getattr(new[row_id], c))
        if cols:
            changed.append((old[row_id], new[row_id], cols))
    report = UpdateReport(
        source=where,
        rows=len(new_rows),
        added=tuple(r for r in new_rows if r.id not in old),
        removed=tuple(r for r in old_rows if r.id not in new),
        changed=tuple(sorted(changed, key=lambda c: (c[1].platform, c[1].name, c[1].id))),
    )
    if not write:
        return report
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".ocd-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    bundled_database.cache_clear()
    return dataclasses.replace(report, written=True)
