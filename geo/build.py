"""Build the bundled demo/test City database (``geo/demo-city.mmdb``) from ``geo/demo-ranges.csv``.

Usage::

    python -m geo.build [--csv geo/demo-ranges.csv] [--out geo/demo-city.mmdb]

The output is a MaxMind DB shaped like GeoIP2-City, so the gateway reads it exactly as it reads a real
GeoLite2/GeoIP2/DB-IP database. It is an IPv6 database with the IPv4 space reachable both at ``::/96``
(where MaxMind readers look IPv4 addresses up) and at ``::ffff:0:0/96`` (IPv4-mapped addresses), as
MaxMind's own databases do.

The build is deterministic: the only time-dependent field, ``build_epoch``, is fixed (or taken from
``SOURCE_DATE_EPOCH``), so rebuilding from the same CSV gives a byte-identical file and a committed
database can be checked against its source.
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmdb_writer import MmdbF64, MmdbU16, MMDBWriter
from netaddr import IPSet

__all__ = ["DATABASE_TYPE", "DEFAULT_CSV", "DEFAULT_OUT", "Row", "build", "main", "read_rows", "record_for"]

_HERE = Path(__file__).resolve().parent
DEFAULT_CSV = _HERE / "demo-ranges.csv"
DEFAULT_OUT = _HERE / "demo-city.mmdb"

#: ``database_type`` in the metadata. Not "GeoIP2-City": this is not MaxMind data, and a reader that
#: branches on the type should not mistake it for MaxMind's product.
DATABASE_TYPE = "cookiegate-Demo-City"

#: 2026-01-01T00:00:00Z. A fixed build time keeps the output byte-identical across rebuilds.
_DEFAULT_BUILD_EPOCH = 1767225600

#: MaxMind's accuracy radius is in km; a city-level demo record says "somewhere in this city".
_ACCURACY_RADIUS_KM = 10

# Names for the codes the demo CSV uses. A code missing here is still written (iso_code), only without
# an English name: the gateway never reads names other than the city's.
_COUNTRY_NAMES = {
    "AT": "Austria", "AU": "Australia", "BE": "Belgium", "BR": "Brazil", "CA": "Canada",
    "CH": "Switzerland", "DE": "Germany", "ES": "Spain", "FR": "France", "GB": "United Kingdom",
    "IE": "Ireland", "IN": "India", "IS": "Iceland", "IT": "Italy", "JP": "Japan", "LI": "Liechtenstein",
    "NL": "Netherlands", "NO": "Norway", "PL": "Poland", "PT": "Portugal", "SG": "Singapore",
    "US": "United States",
}  # fmt: skip

_CONTINENTS = {
    "EU": (
        "Europe",
        {"AT", "BE", "CH", "DE", "ES", "FR", "GB", "IE", "IS", "IT", "LI", "NL", "NO", "PL", "PT"},
    ),
    "NA": ("North America", {"CA", "US"}),
    "SA": ("South America", {"BR"}),
    "AS": ("Asia", {"IN", "JP", "SG"}),
    "OC": ("Oceania", {"AU"}),
}

_SUBDIVISION_NAMES = {
    "AT-9": "Vienna", "AU-NSW": "New South Wales", "BE-BRU": "Brussels-Capital Region",
    "BR-SP": "Sao Paulo", "CA-ON": "Ontario", "CA-QC": "Quebec", "CH-ZH": "Zurich", "DE-BY": "Bavaria",
    "ES-MD": "Madrid", "FR-IDF": "Ile-de-France", "GB-ENG": "England", "IE-L": "Leinster",
    "IN-MH": "Maharashtra", "IS-1": "Capital Region", "IT-62": "Lazio", "JP-13": "Tokyo",
    "LI-11": "Vaduz", "NL-NH": "North Holland", "NO-03": "Oslo", "PL-14": "Masovia", "PT-11": "Lisbon",
    "US-CA": "California", "US-CO": "Colorado", "US-CT": "Connecticut", "US-FL": "Florida",
    "US-NJ": "New Jersey", "US-NY": "New York", "US-OR": "Oregon", "US-TX": "Texas",
}  # fmt: skip

_COUNTRY_RE = re.compile(r"[A-Z]{2}")
# ISO 3166-2: the country code, a dash, then one to three letters or digits.
_SUBDIVISION_RE = re.compile(r"([A-Z]{2})-([A-Z0-9]{1,3})")
_COLUMNS = ("network", "country", "in_eu", "subdivision", "city", "latitude", "longitude", "postal")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One validated line of the ranges CSV."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    country: str
    in_eu: bool
    subdivision: str | None
    city: str | None
    latitude: float | None
    longitude: float | None
    postal: str | None
    line: int


def read_rows(csv_path: str | os.PathLike[str]) -> list[Row]:
    """Read and validate the ranges CSV; lines starting with ``#`` are comments.

    Raises ``ValueError`` naming the line for anything malformed, so a bad edit fails the build loudly
    instead of producing a database that quietly misplaces visitors.
    """
    with open(csv_path, newline="", encoding="utf-8") as fh:
        numbered = [(n, text) for n, text in enumerate(fh, start=1) if not text.lstrip().startswith("#")]
    reader = csv.DictReader((text for _, text in numbered), strict=True)
    if tuple(reader.fieldnames or ()) != _COLUMNS:
        raise ValueError(f"{csv_path}: header must be {','.join(_COLUMNS)}, got {reader.fieldnames}")
    rows: list[Row] = []
    seen: dict[ipaddress.IPv4Network | ipaddress.IPv6Network, int] = {}
    for raw in reader:
        # DictReader consumed the header line first; line_num counts physical lines of the filtered input.
        line = numbered[reader.line_num - 1][0]
        try:
            row = _parse_row(raw, line)
        except ValueError as exc:
            raise ValueError(f"{csv_path}:{line}: {exc}") from None
        for other, other_line in seen.items():
            if other.version == row.network.version and other.overlaps(row.network):
                raise ValueError(f"{csv_path}:{line}: {row.network} overlaps line {other_line} ({other})")
        seen[row.network] = line
        rows.append(row)
    if not rows:
        raise ValueError(f"{csv_path}: no rows")
    return rows


def _parse_row(raw: dict[str, str | None], line: int) -> Row:
    if None in raw or any(raw.get(col) is None for col in _COLUMNS):
        raise ValueError(f"expected {len(_COLUMNS)} columns")
    cell = {col: (raw[col] or "").strip() for col in _COLUMNS}
    network = ipaddress.ip_network(cell["network"], strict=True)
    if not network.is_global:
        raise ValueError(f"{network} is not a global range: lookups of it are never made")
    country = cell["country"]
    if not _COUNTRY_RE.fullmatch(country):
        raise ValueError(f"country {country!r} is not an ISO 3166-1 alpha-2 code")
    if cell["in_eu"] not in ("true", "false"):
        raise ValueError(f"in_eu must be true or false, got {cell['in_eu']!r}")
    subdivision = cell["subdivision"] or None
    if subdivision is not None:
        match = _SUBDIVISION_RE.fullmatch(subdivision)
        if match is None or match.group(1) != country:
            raise ValueError(f"subdivision {subdivision!r} is not an ISO 3166-2 code of {country}")
    latitude = _coordinate(cell["latitude"], 90.0, "latitude")
    longitude = _coordinate(cell["longitude"], 180.0, "longitude")
    if (latitude is None) != (longitude is None):
        raise ValueError("latitude and longitude must be both set or both empty")
    return Row(
        network=network,
        country=country,
        in_eu=cell["in_eu"] == "true",
        subdivision=subdivision,
        city=cell["city"] or None,
        latitude=latitude,
        longitude=longitude,
        postal=cell["postal"] or None,
        line=line,
    )


def _coordinate(text: str, limit: float, name: str) -> float | None:
    if not text:
        return None
    value = float(text)
    if not -limit <= value <= limit:
        raise ValueError(f"{name} {value} out of range")
    return value


def record_for(row: Row) -> dict[str, Any]:
    """The GeoIP2-City-shaped record written for ``row``.

    Latitude, longitude and postcode are written on purpose: real databases carry them, and the
    gateway's tests prove it drops them.
    """
    country: dict[str, Any] = {"iso_code": row.country}
    # GeoIP2 only writes is_in_european_union when true; readers treat absence as false.
    if row.in_eu:
        country["is_in_european_union"] = True
    if row.country in _COUNTRY_NAMES:
        country["names"] = {"en": _COUNTRY_NAMES[row.country]}
    record: dict[str, Any] = {}
    for code, (name, members) in _CONTINENTS.items():
        if row.country in members:
            record["continent"] = {"code": code, "names": {"en": name}}
    record["country"] = country
    # registered_country is what GeoIP2 falls back on; the demo has no reason to make it differ.
    record["registered_country"] = dict(country)
    if row.subdivision is not None:
        # MaxMind stores only the part after the dash (FR-IDF → "IDF").
        subdivision: dict[str, Any] = {"iso_code": row.subdivision.split("-", 1)[1]}
        if row.subdivision in _SUBDIVISION_NAMES:
            subdivision["names"] = {"en": _SUBDIVISION_NAMES[row.subdivision]}
        record["subdivisions"] = [subdivision]
    if row.city is not None:
        record["city"] = {"names": {"en": row.city}}
    if row.latitude is not None and row.longitude is not None:
        # Explicit MMDB types: GeoIP2 stores coordinates as double and the radius as uint16; left to
        # itself the writer would pick a type from the value (a negative radius would become int32).
        record["location"] = {
            "latitude": MmdbF64(row.latitude),
            "longitude": MmdbF64(row.longitude),
            "accuracy_radius": MmdbU16(_ACCURACY_RADIUS_KM),
        }
    if row.postal is not None:
        record["postal"] = {"code": row.postal}
    return record


def _build_epoch() -> int:
    # Reproducible-builds convention: honour SOURCE_DATE_EPOCH when a packager sets it.
    env = os.environ.get("SOURCE_DATE_EPOCH")
    return int(env) if env else _DEFAULT_BUILD_EPOCH


class _DeterministicWriter(MMDBWriter):
    """MMDBWriter whose metadata does not depend on the wall clock."""

    def _build_meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = super()._build_meta()
        meta["build_epoch"] = _build_epoch()
        return meta


def build(
    csv_path: str | os.PathLike[str] = DEFAULT_CSV, out_path: str | os.PathLike[str] = DEFAULT_OUT
) -> int:
    """Build the database at ``out_path`` from ``csv_path``; return the number of networks written.

    The file is written next to its destination and moved into place with ``os.replace``, so a running
    gateway that watches ``out_path`` never opens a half-written database.
    """
    rows = read_rows(csv_path)
    writer = _DeterministicWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=DATABASE_TYPE,
        languages=["en"],
        description={"en": "cookiegate demo City database (made-up data, see geo/demo-ranges.csv)"},
    )
    for row in rows:
        record = record_for(row)
        writer.insert_network(IPSet([str(row.network)]), record)
        if isinstance(row.network, ipaddress.IPv4Network):
            # Alias the IPv4-mapped form (::ffff:a.b.c.d) as MaxMind's databases do; the writer itself
            # only places IPv4 networks under ::/96. Equal records share one data entry.
            mapped = f"::ffff:{row.network.network_address}/{96 + row.network.prefixlen}"
            writer.insert_network(IPSet([mapped]), record)
    out = Path(out_path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent or ".")
    os.close(fd)
    try:
        writer.to_db_file(tmp_name)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m geo.build``)."""
    parser = argparse.ArgumentParser(
        prog="python -m geo.build", description="Build the demo City database from the ranges CSV."
    )
    parser.add_argument("--csv", default=str(DEFAULT_CSV), help="ranges CSV (default: %(default)s)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="database to write (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        count = build(args.csv, args.out)
    except (OSError, ValueError) as exc:
        parser.exit(1, f"error: {exc}\n")
    print(f"wrote {args.out}: {count} networks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
