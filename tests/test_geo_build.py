"""geo/build.py: the committed demo database matches its CSV, and the build is deterministic and strict."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import maxminddb
import pytest

from geo.build import DATABASE_TYPE, DEFAULT_CSV, DEFAULT_OUT, Row, build, main, read_rows

ROWS = read_rows(DEFAULT_CSV)


def probe_addresses(row: Row) -> list[str]:
    """One address inside ``row``'s network, in every form a reader may be asked for."""
    inside = row.network.network_address + 1
    if isinstance(inside, ipaddress.IPv4Address):
        return [str(inside), f"::ffff:{inside}", f"::{inside}"]
    return [str(inside)]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[maxminddb.Reader]:
    out = tmp_path_factory.mktemp("geo") / "rebuilt.mmdb"
    assert build(DEFAULT_CSV, out) == len(ROWS)
    with maxminddb.open_database(out) as reader:
        yield reader


@pytest.fixture(scope="module")
def committed() -> Iterator[maxminddb.Reader]:
    with maxminddb.open_database(DEFAULT_OUT) as reader:
        yield reader


@pytest.mark.parametrize("row", ROWS, ids=[str(r.network) for r in ROWS])
def test_committed_database_matches_a_rebuild_from_the_csv(
    rebuilt: maxminddb.Reader, committed: maxminddb.Reader, row: Row
) -> None:
    for address in probe_addresses(row):
        fresh = rebuilt.get(address)
        assert fresh is not None, address
        assert committed.get(address) == fresh, (
            f"geo/demo-city.mmdb is stale: run python -m geo.build ({address})"
        )


def test_committed_database_metadata_matches_a_rebuild(
    rebuilt: maxminddb.Reader, committed: maxminddb.Reader
) -> None:
    fresh, old = rebuilt.metadata(), committed.metadata()
    assert (old.database_type, old.ip_version, old.node_count) == (
        fresh.database_type,
        fresh.ip_version,
        fresh.node_count,
    )
    assert fresh.database_type == DATABASE_TYPE
    assert fresh.ip_version == 6


@pytest.mark.parametrize("row", ROWS, ids=[str(r.network) for r in ROWS])
def test_record_is_shaped_like_geoip2_city(rebuilt: maxminddb.Reader, row: Row) -> None:
    record = rebuilt.get(probe_addresses(row)[0])
    assert isinstance(record, dict)
    country = record["country"]
    assert isinstance(country, dict)
    assert country["iso_code"] == row.country
    assert country.get("is_in_european_union", False) is row.in_eu
    if row.subdivision is None:
        assert "subdivisions" not in record
    else:
        subdivisions = record["subdivisions"]
        assert isinstance(subdivisions, list) and len(subdivisions) == 1
        assert isinstance(subdivisions[0], dict)
        # MaxMind stores the part after the dash: FR-IDF → "IDF".
        assert subdivisions[0]["iso_code"] == row.subdivision.split("-", 1)[1]
    if row.city is None:
        assert "city" not in record
    else:
        assert record["city"] == {"names": {"en": row.city}}
    location = record["location"]
    assert isinstance(location, dict)
    assert isinstance(location["latitude"], float) and location["latitude"] == row.latitude
    assert isinstance(location["longitude"], float) and location["longitude"] == row.longitude
    assert location["accuracy_radius"] == 10
    if row.postal is not None:
        assert record["postal"] == {"code": row.postal}


def test_build_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.mmdb", tmp_path / "b.mmdb"
    build(DEFAULT_CSV, first)
    build(DEFAULT_CSV, second)
    assert first.read_bytes() == second.read_bytes()


def test_build_honours_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    out = build(DEFAULT_CSV, tmp_path / "epoch.mmdb")
    assert out == len(ROWS)
    with maxminddb.open_database(tmp_path / "epoch.mmdb") as reader:
        assert reader.metadata().build_epoch == 1700000000


def test_command_line_builds_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.mmdb"
    assert main(["--csv", str(DEFAULT_CSV), "--out", str(out)]) == 0
    assert f"{len(ROWS)} networks" in capsys.readouterr().out
    with maxminddb.open_database(out) as reader:
        assert reader.get("85.0.1.7") is not None


def test_extra_csv_row_is_built(tmp_path: Path) -> None:
    csv = tmp_path / "ranges.csv"
    csv.write_text(
        "# comment\n"
        "network,country,in_eu,subdivision,city,latitude,longitude,postal\n"
        "# another comment\n"
        "203.0.114.0/24,NZ,false,NZ-AUK,Auckland,,,\n"
    )
    out = tmp_path / "extra.mmdb"
    assert build(csv, out) == 1
    with maxminddb.open_database(out) as reader:
        record = reader.get("203.0.114.9")
    assert isinstance(record, dict)
    assert record["country"] == {"iso_code": "NZ"}  # no name known for NZ: code only
    assert record["subdivisions"] == [{"iso_code": "AUK"}]
    assert "location" not in record


HEADER = "network,country,in_eu,subdivision,city,latitude,longitude,postal\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("85.0.1.0/24,fr,true,,,,,\n", "alpha-2", id="lower-case-country"),
        pytest.param("85.0.1.0/24,FR,yes,,,,,\n", "in_eu", id="bad-eu-flag"),
        pytest.param("85.0.1.0/24,FR,true,DE-BY,,,,\n", "ISO 3166-2", id="subdivision-of-other-country"),
        pytest.param("85.0.1.0/24,FR,true,IDF,,,,\n", "ISO 3166-2", id="subdivision-without-country"),
        pytest.param("85.0.1.1/24,FR,true,,,,,\n", "host bits", id="host-bits"),
        pytest.param("10.0.0.0/8,FR,true,,,,,\n", "not a global range", id="private-range"),
        pytest.param("85.0.1.0/24,FR,true,,,95.0,2.0,\n", "latitude", id="latitude-range"),
        pytest.param("85.0.1.0/24,FR,true,,,48.0,,\n", "both", id="half-coordinates"),
        pytest.param("85.0.1.0/24,FR,true,,,,\n", "columns", id="missing-column"),
        pytest.param("85.0.1.0/24,FR,true,,,,,,extra\n", "columns", id="extra-column"),
        pytest.param("85.0.1.0/24,FR,true,,,,,\n85.0.1.128/25,DE,true,,,,,\n", "overlaps", id="overlap"),
        pytest.param("", "no rows", id="empty"),
    ],
)
def test_malformed_csv_fails_the_build_naming_the_problem(tmp_path: Path, body: str, message: str) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("# header comment\n" + HEADER + body)
    with pytest.raises(ValueError, match=message):
        build(csv, tmp_path / "never.mmdb")
    assert not (tmp_path / "never.mmdb").exists()


def test_error_names_the_physical_line(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(
        "# one\n# two\n" + HEADER + "85.0.1.0/24,FR,true,,,,,\n# three\n85.0.2.0/24,XXX,true,,,,,\n"
    )
    with pytest.raises(ValueError, match=r"bad\.csv:6:"):
        read_rows(csv)


def test_wrong_header_is_rejected(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("net,cc\n85.0.1.0/24,FR\n")
    with pytest.raises(ValueError, match="header"):
        read_rows(csv)
