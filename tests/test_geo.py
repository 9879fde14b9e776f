"""GeoResolver: coarse location only, never raises, warns once, reloads a replaced database."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import shutil
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import maxminddb
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

import cookiegate._geo as geo_module
from cookiegate._geo import GeoResolver
from cookiegate.policy._location import Location
from geo.build import DEFAULT_CSV, Row, read_rows

REPO = Path(__file__).resolve().parent.parent
DEMO_DB = REPO / "geo" / "demo-city.mmdb"
MAXMIND = Path("/work/shared/testdata/maxmind")
needs_maxmind = pytest.mark.skipif(not MAXMIND.is_dir(), reason="MaxMind test databases not available")

ROWS = read_rows(DEFAULT_CSV)
UNKNOWN = Location.unknown()


def write_db(path: Path, networks: Mapping[str, Any], *, ip_version: int = 6, db_type: str = "Test") -> Path:
    """A small MaxMind DB with exactly the given records (written next to ``path``, then renamed)."""
    writer = MMDBWriter(ip_version=ip_version, ipv4_compatible=ip_version == 6, database_type=db_type)
    for network, record in networks.items():
        writer.insert_network(IPSet([network]), record)
    tmp = path.with_name(path.name + ".tmp")
    writer.to_db_file(str(tmp))
    os.replace(tmp, path)
    return path


def fr_record(city: str = "Paris") -> dict[str, Any]:
    return {
        "country": {"iso_code": "FR", "is_in_european_union": True},
        "subdivisions": [{"iso_code": "IDF"}],
        "city": {"names": {"en": city}},
    }


def de_record() -> dict[str, Any]:
    return {
        "country": {"iso_code": "DE", "is_in_european_union": True},
        "subdivisions": [{"iso_code": "BY"}],
        "city": {"names": {"en": "Munich"}},
    }


@pytest.fixture
def demo() -> Iterator[GeoResolver]:
    resolver = GeoResolver(DEMO_DB)
    yield resolver
    resolver.close()


def geo_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "cookiegate.geo" and r.levelno >= logging.WARNING]


# -- the demo database ----------------------------------------------------------------------------


def test_demo_database_is_read_by_the_c_extension(caplog: pytest.LogCaptureFixture) -> None:
    reader = maxminddb.open_database(DEMO_DB, maxminddb.MODE_AUTO)
    try:
        assert type(reader).__module__ == "maxminddb.extension"
    finally:
        reader.close()
    # The resolver warns when MODE_AUTO falls back to the pure-Python reader.
    with GeoResolver(DEMO_DB) as resolver:
        assert resolver.healthy
        assert resolver.database_type == "cookiegate-Demo-City"
    assert geo_warnings(caplog) == []


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        pytest.param(
            "85.0.1.7", Location(country="FR", in_eu=True, subdivision="FR-IDF", city="Paris"), id="fr"
        ),
        pytest.param(
            "::ffff:85.0.2.1",
            Location(country="DE", in_eu=True, subdivision="DE-BY", city="Munich"),
            id="mapped",
        ),
        pytest.param("1.0.4.200", Location(country="SG", in_eu=False), id="sg-country-only"),
        pytest.param(
            "72.0.20.9", Location(country="CA", in_eu=False, subdivision="CA-QC", city="Montreal"), id="ca-qc"
        ),
        pytest.param(
            "2a01:e00::1", Location(country="FR", in_eu=True, subdivision="FR-IDF", city="Paris"), id="fr-v6"
        ),
        pytest.param(
            "2600:1700:abcd::5",
            Location(country="US", in_eu=False, subdivision="US-CA", city="Los Angeles"),
            id="us-v6",
        ),
        pytest.param(" 85.0.20.1 ", Location(country="GB", subdivision="GB-ENG", city="London"), id="spaces"),
    ],
)
def test_demo_lookup_returns_coarse_location(demo: GeoResolver, ip: str, expected: Location) -> None:
    assert demo.lookup(ip) == expected


def _expected(row: Row) -> Location:
    return Location(country=row.country, in_eu=row.in_eu, subdivision=row.subdivision, city=row.city)


@pytest.mark.parametrize("row", ROWS, ids=[str(r.network) for r in ROWS])
def test_every_csv_row_resolves_at_both_ends_of_its_network(demo: GeoResolver, row: Row) -> None:
    first = row.network.network_address + 1
    last = row.network.broadcast_address - 1
    assert demo.lookup(str(first)) == _expected(row)
    assert demo.lookup(str(last)) == _expected(row)


@pytest.mark.parametrize("ip", ["85.0.0.1", "85.0.11.1", "72.0.9.1", "8.8.8.8", "2a02::1"])
def test_address_outside_every_range_is_unknown(demo: GeoResolver, ip: str) -> None:
    assert demo.lookup(ip) == UNKNOWN


@pytest.mark.parametrize(
    "ip",
    ["", "nonsense", "85.0.1", "85.0.1.7:80", "[2a01:e00::1]", "85.0.1.256", "２.125.160.216", "\x00"],
)
def test_invalid_address_is_unknown(demo: GeoResolver, ip: str) -> None:
    assert demo.lookup(ip) == UNKNOWN


def test_none_address_is_unknown(demo: GeoResolver) -> None:
    assert demo.lookup(None) == UNKNOWN


NON_GLOBAL = [
    "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "0.0.0.0",
    "255.255.255.255", "224.0.0.1", "239.1.2.3", "240.0.0.1", "192.0.2.1", "198.18.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1", "2001:db8::1",
    "::ffff:10.1.2.3", "::ffff:127.0.0.1",
]  # fmt: skip


@pytest.mark.parametrize("ip", NON_GLOBAL)
def test_non_global_address_is_unknown_even_if_the_database_places_it(tmp_path: Path, ip: str) -> None:
    # A database that (wrongly) has records for these ranges: the resolver must still refuse them.
    address = ipaddress.ip_address(ip)
    network = f"{address}/{address.max_prefixlen}"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        network = f"{address.ipv4_mapped}/32"
    db = write_db(tmp_path / "wrong.mmdb", {network: fr_record()})
    with GeoResolver(db) as resolver:
        assert resolver.lookup(ip) == UNKNOWN
        assert resolver.healthy


def test_location_never_carries_coordinates_postcode_or_ip(demo: GeoResolver) -> None:
    assert {f.name for f in dataclasses.fields(Location)} == {"country", "in_eu", "subdivision", "city"}
    location = demo.lookup("85.0.1.7")
    assert location.country == "FR"  # the record does have coordinates and a postcode (see CSV)
    text = repr(location) + repr(location.as_dict())
    for leak in ("48.8566", "2.3522", "75001", "latitude", "longitude", "postal", "accuracy", "85.0.1.7"):
        assert leak not in text


def test_lookups_never_log_the_ip(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    broken = tmp_path / "broken.mmdb"
    _write_db_with_corrupt_data(broken)
    caplog.set_level(logging.DEBUG, logger="cookiegate.geo")
    with GeoResolver(broken) as resolver:
        assert resolver.lookup("85.0.1.7") == UNKNOWN
    assert caplog.records, "the reader error should have been logged"
    assert all("85.0.1.7" not in r.getMessage() for r in caplog.records)


# -- disabled, missing, corrupt -------------------------------------------------------------------


def test_no_database_means_every_lookup_is_unknown(caplog: pytest.LogCaptureFixture) -> None:
    resolver = GeoResolver(None)
    assert resolver.lookup("85.0.1.7") == UNKNOWN
    assert not resolver.healthy
    assert geo_warnings(caplog) == []


def test_missing_database_is_unknown_with_exactly_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    resolver = GeoResolver(tmp_path / "absent.mmdb", check_interval=0)
    results = {resolver.lookup("85.0.1.7") for _ in range(50)}
    assert results == {UNKNOWN}
    assert not resolver.healthy
    warnings = geo_warnings(caplog)
    assert len(warnings) == 1
    assert "absent.mmdb" in warnings[0].getMessage()


def test_garbage_file_is_unknown_with_exactly_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    garbage = tmp_path / "garbage.mmdb"
    garbage.write_bytes(b"this is not a MaxMind database\x00\xff" * 100)
    resolver = GeoResolver(garbage, check_interval=0)
    assert {resolver.lookup("85.0.1.7") for _ in range(20)} == {UNKNOWN}
    assert not resolver.healthy
    assert len(geo_warnings(caplog)) == 1


@pytest.mark.parametrize("keep", [0, 1, 100, 0.5])
def test_truncated_demo_database_is_unknown(tmp_path: Path, keep: float) -> None:
    data = DEMO_DB.read_bytes()
    size = int(len(data) * keep) if isinstance(keep, float) else keep
    truncated = tmp_path / "truncated.mmdb"
    truncated.write_bytes(data[:size])
    with GeoResolver(truncated) as resolver:
        assert resolver.lookup("85.0.1.7") == UNKNOWN
        assert not resolver.healthy


def _write_db_with_corrupt_data(path: Path) -> None:
    """A database that opens (tree and metadata intact) but whose data section is bad."""
    write_db(path, {"85.0.1.0/24": fr_record()})
    with maxminddb.open_database(path) as reader:
        meta = reader.metadata()
    data_start = meta.node_count * meta.record_size * 2 // 8 + 16
    data = bytearray(path.read_bytes())
    data[data_start] = 0xFF  # control byte of the first data item: a map of absurd size
    path.write_bytes(bytes(data))


def test_reader_error_during_lookup_is_unknown_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken-data.mmdb"
    _write_db_with_corrupt_data(broken)
    resolver = GeoResolver(broken, check_interval=0)
    assert resolver.healthy  # it opened
    assert {resolver.lookup("85.0.1.7") for _ in range(20)} == {UNKNOWN}
    assert not resolver.healthy
    assert len(geo_warnings(caplog)) == 1


def test_closed_resolver_is_unknown_and_close_is_idempotent() -> None:
    resolver = GeoResolver(DEMO_DB)
    assert resolver.lookup("85.0.1.7").known
    resolver.close()
    resolver.close()
    assert resolver.lookup("85.0.1.7") == UNKNOWN
    assert not resolver.healthy


def test_negative_check_interval_is_rejected() -> None:
    with pytest.raises(ValueError):
        GeoResolver(DEMO_DB, check_interval=-1)


# -- database shapes ------------------------------------------------------------------------------


def test_country_database_gives_country_only(tmp_path: Path) -> None:
    db = write_db(
        tmp_path / "country.mmdb",
        {"85.0.1.0/24": {"country": {"iso_code": "FR", "is_in_european_union": True}}},
        db_type="GeoLite2-Country",
    )
    with GeoResolver(db) as resolver:
        assert resolver.lookup("85.0.1.7") == Location(country="FR", in_eu=True)


def test_ipv4_only_database_answers_ipv6_with_unknown_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = write_db(tmp_path / "v4.mmdb", {"85.0.1.0/24": fr_record()}, ip_version=4)
    with GeoResolver(db) as resolver:
        assert resolver.lookup("85.0.1.7").country == "FR"
        assert resolver.lookup("::ffff:85.0.1.7").country == "FR"
        assert resolver.lookup("2a01:e00::1") == UNKNOWN
        assert resolver.healthy
    assert geo_warnings(caplog) == []


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        pytest.param({"country": "FR"}, UNKNOWN, id="country-not-a-map"),
        pytest.param({"country": {"iso_code": "fr"}}, UNKNOWN, id="lower-case-code"),
        pytest.param({"country": {"iso_code": "FRA"}}, UNKNOWN, id="alpha-3"),
        pytest.param({"registered_country": {"iso_code": "FR"}}, UNKNOWN, id="registered-country-only"),
        pytest.param({"city": {"names": {"en": "Paris"}}}, UNKNOWN, id="city-without-country"),
        pytest.param("FR", UNKNOWN, id="record-is-a-string"),
        pytest.param(
            {"country": {"iso_code": "FR", "is_in_european_union": "yes"}},
            Location(country="FR"),
            id="eu-flag-not-bool",
        ),
        pytest.param(
            {"country": {"iso_code": "US"}, "subdivisions": [{"iso_code": "US-CA"}]},
            Location(country="US", subdivision="US-CA"),
            id="full-iso-subdivision",
        ),
        pytest.param(
            {"country": {"iso_code": "GB"}, "subdivisions": [{"iso_code": "ENG"}, {"iso_code": "WBK"}]},
            Location(country="GB", subdivision="GB-ENG"),
            id="first-level-only",
        ),
        pytest.param(
            {"country": {"iso_code": "FR"}, "subdivisions": "IDF"}, Location(country="FR"), id="subs-not-list"
        ),
        pytest.param(
            {"country": {"iso_code": "FR"}, "subdivisions": [{"iso_code": "toolong"}]},
            Location(country="FR"),
            id="bad-subdivision",
        ),
        pytest.param(
            {"country": {"iso_code": "FR"}, "subdivisions": [{"names": {"en": "X"}}]},
            Location(country="FR"),
            id="subdivision-without-code",
        ),
        pytest.param(
            {"country": {"iso_code": "US"}, "subdivisions": [{"names": {"en": "California"}}]},
            Location(country="US", subdivision="US-CA"),
            id="db-ip-us-state-name",
        ),
        pytest.param(
            {"country": {"iso_code": "CA"}, "subdivisions": [{"names": {"en": "Québec"}}]},
            Location(country="CA", subdivision="CA-QC"),
            id="db-ip-province-name",
        ),
        pytest.param(
            {"country": {"iso_code": "DE"}, "subdivisions": [{"names": {"en": "Bavaria"}}]},
            Location(country="DE"),
            id="db-ip-name-elsewhere-unknown",
        ),
        pytest.param(
            {"country": {"iso_code": "FR"}, "city": {"names": {"fr": "Paris"}}},
            Location(country="FR"),
            id="city-without-english-name",
        ),
        pytest.param(
            {"country": {"iso_code": "FR"}, "city": {"names": {"en": 42}}},
            Location(country="FR"),
            id="city-name-not-text",
        ),
    ],
)
def test_record_shapes_are_read_defensively(tmp_path: Path, record: Any, expected: Location) -> None:
    db = write_db(tmp_path / "shapes.mmdb", {"85.0.1.0/24": record})
    with GeoResolver(db) as resolver:
        assert resolver.lookup("85.0.1.7") == expected


# -- reload ---------------------------------------------------------------------------------------


def test_replaced_database_is_reloaded(tmp_path: Path) -> None:
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    resolver = GeoResolver(path, check_interval=0)
    assert resolver.lookup("85.0.1.7").country == "FR"
    write_db(path, {"85.0.1.0/24": de_record()})  # os.replace over the open file
    assert resolver.lookup("85.0.1.7") == Location(
        country="DE", in_eu=True, subdivision="DE-BY", city="Munich"
    )
    resolver.close()


def test_corrupt_replacement_keeps_the_previous_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    resolver = GeoResolver(path, check_interval=0)
    assert resolver.lookup("85.0.1.7").country == "FR"
    bad = tmp_path / "bad.tmp"
    bad.write_bytes(b"\x00" * 4096)
    os.replace(bad, path)
    assert {resolver.lookup("85.0.1.7").country for _ in range(10)} == {"FR"}
    assert resolver.healthy
    assert len(geo_warnings(caplog)) == 1
    # A good file afterwards is picked up again.
    write_db(path, {"85.0.1.0/24": de_record()})
    assert resolver.lookup("85.0.1.7").country == "DE"
    resolver.close()


def test_deleted_database_keeps_serving_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    resolver = GeoResolver(path, check_interval=0)
    path.unlink()
    assert {resolver.lookup("85.0.1.7").country for _ in range(10)} == {"FR"}
    assert len(geo_warnings(caplog)) == 1
    resolver.close()


def test_database_appearing_later_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "later.mmdb"
    resolver = GeoResolver(path, check_interval=0)
    assert resolver.lookup("85.0.1.7") == UNKNOWN
    write_db(path, {"85.0.1.0/24": fr_record()})
    assert resolver.lookup("85.0.1.7").country == "FR"
    assert resolver.healthy
    resolver.close()


def test_file_is_checked_only_after_the_interval(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(geo_module, "clock", lambda: now[0])
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    resolver = GeoResolver(path, check_interval=30)
    write_db(path, {"85.0.1.0/24": de_record()})
    now[0] += 29
    assert resolver.lookup("85.0.1.7").country == "FR"
    now[0] += 2
    assert resolver.lookup("85.0.1.7").country == "DE"
    resolver.close()


def test_change_listeners_hear_of_each_new_database_and_of_the_close_and_the_next_check_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import math

    now = [1000.0]
    monkeypatch.setattr(geo_module, "clock", lambda: now[0])
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    resolver = GeoResolver(path, check_interval=30)
    heard: list[int] = []

    def broken() -> None:
        raise RuntimeError("listener broken")

    resolver.on_change(broken)  # reported, and the others are still told
    resolver.on_change(lambda: heard.append(resolver.generation()))
    assert resolver.next_check == 1030.0
    write_db(path, {"85.0.1.0/24": de_record()})
    now[0] += 29
    assert resolver.generation() == 1 and heard == []  # not due: the file was not looked at
    now[0] += 1
    assert resolver.generation() == 2 and heard == [2] and resolver.next_check == 1060.0
    assert resolver.lookup("85.0.1.7").country == "DE"
    assert "change listener failed" in caplog.text
    resolver.close()
    assert heard == [2, 3] and resolver.next_check == -math.inf
    assert GeoResolver(path, check_interval=0).next_check == -math.inf  # every call looks
    assert GeoResolver(None).next_check == math.inf  # nothing can change


# -- MaxMind's own test databases (only when available) -------------------------------------------


@needs_maxmind
@pytest.mark.parametrize("name", ["GeoIP2-City-Test.mmdb", "GeoLite2-City-Test.mmdb"])
@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("81.2.69.160", Location(country="GB", subdivision="GB-ENG", city="London")),
        ("2.125.160.216", Location(country="GB", subdivision="GB-ENG", city="Boxford")),
        ("216.160.83.56", Location(country="US", subdivision="US-WA", city="Milton")),
        ("::ffff:81.2.69.160", Location(country="GB", subdivision="GB-ENG", city="London")),
    ],
)
def test_maxmind_city_test_database(name: str, ip: str, expected: Location) -> None:
    with GeoResolver(MAXMIND / name) as resolver:
        assert resolver.lookup(ip) == expected


@needs_maxmind
def test_maxmind_city_test_database_eu_member() -> None:
    # 2a02:d040::/29 is Sweden in MaxMind's test data (is_in_european_union: true).
    with GeoResolver(MAXMIND / "GeoIP2-City-Test.mmdb") as resolver:
        location = resolver.lookup("2a02:d040::1")
    assert location.country == "SE"
    assert location.in_eu


@needs_maxmind
def test_maxmind_country_test_database() -> None:
    with GeoResolver(MAXMIND / "GeoLite2-Country-Test.mmdb") as resolver:
        assert resolver.lookup("81.2.69.160") == Location(country="GB")
        assert resolver.lookup("216.160.83.56") == Location(country="US")


@needs_maxmind
@pytest.mark.parametrize(
    "name",
    [
        "libmaxminddb-corrupt-search-tree.mmdb",
        "GeoIP2-City-Test-Broken-Double-Format.mmdb",
        "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
        "libmaxminddb-metadata-marker-only.mmdb",
        "libmaxminddb-offset-integer-overflow.mmdb",
    ],
)
def test_maxmind_broken_databases_are_unknown_without_exceptions(tmp_path: Path, name: str) -> None:
    copy = tmp_path / name
    shutil.copyfile(MAXMIND / name, copy)
    with GeoResolver(copy, check_interval=0) as resolver:
        for ip in ("81.2.69.160", "2.125.160.216", "216.160.83.56", "2001:218::1", "1.1.1.1"):
            assert resolver.lookup(ip) == UNKNOWN


def test_lookups_during_repeated_replacement_never_raise(tmp_path: Path) -> None:
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    resolver = GeoResolver(path, check_interval=0)
    seen: set[str | None] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def hammer() -> None:
        try:
            while not done.is_set():
                seen.add(resolver.lookup("85.0.1.7").country)
        except BaseException as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for i in range(20):
        write_db(path, {"85.0.1.0/24": de_record() if i % 2 == 0 else fr_record()})
    done.set()
    for thread in threads:
        thread.join()
    resolver.close()
    assert errors == []
    assert seen <= {"FR", "DE", None}
    assert seen & {"FR", "DE"}


def test_returning_addresses_are_remembered_under_a_keyed_hash_never_as_the_address(tmp_path: Path) -> None:
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record()})
    with GeoResolver(path) as resolver:
        first = resolver.lookup("85.0.1.7")
        assert resolver.lookup("85.0.1.7") == first and first.country == "FR"
        assert len(resolver._cache) == 1
        (key,) = resolver._cache
        assert isinstance(key, bytes) and b"85.0.1.7" not in key and b"\x55\x00\x01\x07" not in key
        with GeoResolver(path) as other:
            other.lookup("85.0.1.7")
            assert set(other._cache) != {key}  # per-process (per-reader) random key: not a plain digest


def test_a_location_found_through_a_callers_walk_is_remembered_under_what_decided_the_address(
    tmp_path: Path,
) -> None:
    path = write_db(tmp_path / "city.mmdb", {"85.0.1.0/24": fr_record(), "85.0.2.0/24": de_record()})
    walks: list[str] = []

    def walk(ip: str) -> Any:
        def address() -> str:
            walks.append(ip)
            return ip

        return address

    with GeoResolver(path, check_interval=0) as resolver:
        assert resolver.lookup_via(b"peer A", walk("85.0.1.7")).country == "FR"
        assert resolver.lookup_via(b"peer A", walk("85.0.2.7")).country == "FR"  # remembered: no walk
        assert resolver.lookup_via(b"peer B", walk("85.0.2.7")).country == "DE"
        assert walks == ["85.0.1.7", "85.0.2.7"]
        # Its own namespace: material that spells an address is not that address's entry, either way.
        assert resolver.lookup("85.0.2.7").country == "DE"
        assert resolver.lookup_via(b"85.0.2.7", walk("85.0.1.7")).country == "FR"
        assert resolver.lookup("85.0.1.7").country == "FR" and resolver.lookup("85.0.2.7").country == "DE"
        assert all(b"peer" not in key and b"85.0" not in key for key in resolver._cache)
        # What cannot be placed is not remembered: the walk runs again.
        walks.clear()
        for _ in range(2):
            assert resolver.lookup_via(b"peer C", walk("10.0.0.1")) == UNKNOWN
        assert walks == ["10.0.0.1", "10.0.0.1"]
        # A new database forgets every answer.
        write_db(path, {"85.0.1.0/24": de_record()})
        walks.clear()
        assert resolver.lookup_via(b"peer A", walk("85.0.1.7")).country == "DE"
        assert walks == ["85.0.1.7"]
    assert resolver.lookup_via(b"peer A", walk("85.0.1.7")) == UNKNOWN  # closed
    assert GeoResolver(None).lookup_via(b"peer A", walk("85.0.1.7")) == UNKNOWN
