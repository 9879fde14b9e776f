"""``cookiegate log …``: export, erase, purge, verify and stats against a real SQLite log."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from cookiegate._config import SECRETS_ENV
from cookiegate.cli._log import UsageError, add_log_parser, cutoff_for, run_log
from cookiegate.cli._main import main
from cookiegate.store._sqlite import SQLiteStore
from tests.helpers import schema
from tests.test_store import make_record


def cli(config: Any, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser(prog="cookiegate")
    add_log_parser(parser.add_subparsers(dest="command", required=True))
    out = io.StringIO()
    status = run_log(parser.parse_args(["log", *argv]), config, out=out)
    return status, out.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> SimpleNamespace:
    """A config with a log of six decisions by two visitors (France, and one in Germany)."""
    db = str(tmp_path / "log.db")

    async def fill() -> None:
        store = SQLiteStore(db)
        await store.open()
        for i in range(5):
            await store.record(make_record(i, "visitor-a" if i % 2 == 0 else "visitor-b"))
        await store.record(make_record(5, "visitor-c", country="DE", regime_key="EU-DE"))
        await store.close()

    asyncio.run(fill())
    return SimpleNamespace(log_url=f"sqlite:///{db}", log_retention="13mo")


def test_export_jsonl_gives_one_visitor_their_records(config: SimpleNamespace) -> None:
    status, out = cli(config, "export", "--consent-id", "visitor-a")
    lines = [json.loads(line) for line in out.splitlines()]
    assert status == 0
    assert [r["consent_id"] for r in lines] == ["visitor-a"] * 3
    assert lines[0]["categories"]["analytics"] is True and lines[0]["seq"] == 1


def test_export_csv_has_one_column_per_category(config: SimpleNamespace) -> None:
    status, out = cli(config, "export", "--since", "2026-03-01T00:00:03", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0
    assert [r["seq"] for r in rows] == ["4", "5", "6"]
    assert rows[0]["category_analytics"] == "no" and rows[1]["category_analytics"] == "yes"
    assert rows[0]["category_necessary"] == "yes"


def test_verify_passes_then_names_an_edited_record(config: SimpleNamespace) -> None:
    assert cli(config, "verify")[0] == 0
    import sqlite3

    conn = sqlite3.connect(config.log_url.removeprefix("sqlite:///"))
    with conn:
        conn.execute(
            "UPDATE cookiegate_log SET body = replace(body, '\"ads\":true', '\"ads\":false') WHERE seq = 3"
        )
    conn.close()
    status, out = cli(config, "verify")
    assert status == 1
    assert "edited" in out and "seq 3" in out


def test_verify_prints_an_anchor_that_a_later_verify_checks_the_chain_against(config: SimpleNamespace) -> None:
    status, out = cli(config, "verify")
    anchor = out.split("(anchor ")[1].split(")")[0]
    assert status == 0 and anchor.startswith("6:")
    assert cli(config, "verify", "--anchor", anchor, "--anchor", anchor.upper())[0] == 0
    import sqlite3

    # Someone with database access removes the last decision and sets the chain head back: the chain alone
    # still verifies, the published anchor does not.
    conn = sqlite3.connect(config.log_url.removeprefix("sqlite:///"))
    with conn:
        conn.execute("DELETE FROM cookiegate_log WHERE seq = 6")
        conn.execute(
            "UPDATE cookiegate_chain SET head_seq = 5, head_hash = (SELECT hash FROM cookiegate_log WHERE seq = 5)"
        )
    conn.close()
    assert cli(config, "verify")[0] == 0
    status, out = cli(config, "verify", "--anchor", anchor)
    assert status == 1 and "removed" in out and "ends at seq 5" in out


def test_verify_fails_an_emptied_log_whose_start_was_moved_to_its_head(config: SimpleNamespace) -> None:
    status, out = cli(config, "verify")
    anchor = out.split("(anchor ")[1].split(")")[0]
    import sqlite3

    conn = sqlite3.connect(config.log_url.removeprefix("sqlite:///"))
    with conn:
        conn.execute("DELETE FROM cookiegate_log")
        conn.execute("UPDATE cookiegate_chain SET start_seq = head_seq + 1, start_prev_hash = head_hash")
    conn.close()
    for argv in ((), ("--anchor", anchor)):
        status, out = cli(config, "verify", *argv)
        assert status == 1 and "ok:" not in out, out
        assert "BROKEN: removed record at seq 6" in out and "without a matching purge entry" in out


@pytest.mark.parametrize(
    "anchors",
    [["6"], ["6:abc"], ["0:" + "a" * 64], ["x:" + "a" * 64], ["6:" + "g" * 64], ["6:" + "a" * 64, "6:" + "b" * 64]],
)
def test_a_malformed_anchor_exits_with_status_2_naming_it(
    config: SimpleNamespace, anchors: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [arg for anchor in anchors for arg in ("--anchor", anchor)]
    assert cli(config, "verify", *argv)[0] == 2
    assert "--anchor" in capsys.readouterr().err


def test_erase_removes_a_visitor_and_verify_still_passes(config: SimpleNamespace) -> None:
    status, out = cli(config, "erase", "--consent-id", "visitor-a")
    assert (status, out.strip()) == (0, "erased 3 records of consent id visitor-a")
    assert cli(config, "export", "--consent-id", "visitor-a")[1] == ""
    assert cli(config, "verify")[0] == 0


def test_purge_uses_the_configured_retention_unless_told_otherwise(config: SimpleNamespace) -> None:
    # The records are from March 2026; a retention measured in years keeps them.
    config.log_retention = "5y"
    assert cli(config, "purge")[1].startswith("purged 0 records")
    status, out = cli(config, "purge", "--older-than", "1d")
    assert status == 0 and out.startswith("purged 6 records")
    assert cli(config, "export")[1] == ""
    assert cli(config, "verify")[0] == 0


def test_stats_prints_opt_in_rates_per_country(config: SimpleNamespace) -> None:
    status, out = cli(config, "stats", "--by", "country")
    table = [line.split() for line in out.splitlines()]
    assert status == 0
    assert table[0] == ["country", "decisions", "functional", "analytics", "ads", "social"]
    rows = {line[0]: line[1:] for line in table[1:]}
    assert rows["FR"][:3] == ["5", "60.0%", "60.0%"]
    assert rows["DE"][:2] == ["1", "0.0%"]


@pytest.mark.parametrize("argv", [["purge", "--older-than", "13 months"], ["export", "--since", "yesterday"]])
def test_bad_values_exit_with_status_2_before_touching_the_log(
    config: SimpleNamespace, argv: list[str]
) -> None:
    assert cli(config, *argv)[0] == 2


def test_unreadable_log_exits_with_status_3(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    assert cli(SimpleNamespace(log_url=f"sqlite:///{tmp_path}/dir.db"), "verify")[0] == 3


@pytest.mark.parametrize(
    ("age", "now", "expected"),
    [
        ("13mo", datetime(2026, 11, 26, 12, tzinfo=UTC), datetime(2025, 10, 26, 12, tzinfo=UTC)),
        ("1mo", datetime(2026, 3, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        ("1y", datetime(2024, 2, 29, tzinfo=UTC), datetime(2023, 2, 28, tzinfo=UTC)),
        ("2w", datetime(2026, 1, 10, tzinfo=UTC), datetime(2025, 12, 27, tzinfo=UTC)),
        ("90d", datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_retention_ages_count_back_calendar_months(age: str, now: datetime, expected: datetime) -> None:
    assert cutoff_for(age, now) == expected


def test_unknown_age_unit_is_refused() -> None:
    with pytest.raises(UsageError):
        cutoff_for("13m")


def test_stats_as_json_follows_its_documented_schema(config: SimpleNamespace) -> None:
    status, out = cli(config, "stats", "--by", "country", "--json")
    data = json.loads(out)
    assert status == 0
    jsonschema.validate(data, schema("stats"))
    rows = {r["group"]: r for r in data["rows"]}
    assert rows["FR"]["decisions"] == 5 and rows["FR"]["rates"]["analytics"] == 0.6
    assert rows["FR"]["granted"]["analytics"] == 3 and rows["DE"]["rates"]["analytics"] == 0.0


def test_reading_the_log_needs_no_secret_keys_but_writing_to_it_does(
    config: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SECRETS_ENV, raising=False)
    toml = tmp_path / "reader.toml"
    toml.write_text(f'log_url = "{config.log_url}"\n')
    assert main(["log", "stats", "--config", str(toml)]) == 0
    assert "FR" in capsys.readouterr().out
    assert main(["log", "export", "--config", str(toml), "--consent-id", "visitor-c"]) == 0
    assert json.loads(capsys.readouterr().out)["country"] == "DE"
    assert main(["log", "verify", "--config", str(toml)]) == 0
    capsys.readouterr()
    assert main(["log", "erase", "--config", str(toml), "--consent-id", "visitor-c"]) == 2
    assert "secret_keys" in capsys.readouterr().err
