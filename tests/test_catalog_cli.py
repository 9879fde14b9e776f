"""``cookiegate catalog update-cookies``: a newer Open Cookie Database copy validated, reported and written where
the gateway reads it (``cookie_database``), never over the bundled copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from cookiegate import Config
from cookiegate._config import config_from_mapping
from cookiegate.cli._main import main
from cookiegate.policy._catalog import TagRegistry
from cookiegate.policy._cookie_database import CSV_NAME, bundled_directory, site_database

BUNDLED = (bundled_directory() / CSV_NAME).read_text("utf-8")
COOKIE = "_dcid"


def newer(tmp_path: Path) -> Path:
    """The bundled copy with one row's category changed and one row added."""
    lines = [line.replace(",Marketing,", ",Analytics,") if f",{COOKIE}," in line else line
             for line in BUNDLED.splitlines(keepends=True)]
    lines.append("cg-test-1,Kactuce,Analytics,kactuce_seen,,Test row,1 day,Kactuce SAS,,0\n")
    path = tmp_path / "newer.csv"
    path.write_text("".join(lines), "utf-8")
    return path


def test_an_update_is_reported_and_written_into_the_sites_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "ocd"
    assert main(["catalog", "update-cookies", str(newer(tmp_path)), "--into", str(copy)]) == 0
    out = capsys.readouterr().out
    assert "+ Kactuce: kactuce_seen (analytics)" in out and f": {COOKIE}: ocd_category, category" in out
    assert "1 added, 0 removed" in out and f"written: {copy}/{CSV_NAME}" in out
    # The running gateway reads it when the configuration points at it.
    registry = TagRegistry.builtin(cookie_database=site_database(str(copy)))
    assert registry.category_for_cookie(COOKIE) == "analytics" and registry.category_for_cookie("kactuce_seen")
    assert (bundled_directory() / CSV_NAME).read_text("utf-8") == BUNDLED


def test_the_configurations_cookie_database_is_the_default_target(tmp_path: Path) -> None:
    copy = tmp_path / "ocd"
    config = tmp_path / "cookiegate.toml"
    config.write_text('cookie_database = "ocd"\n')
    assert main(["catalog", "update-cookies", str(newer(tmp_path)), "--config", str(config)]) == 0
    assert (copy / CSV_NAME).is_file()
    loaded = config_from_mapping({"cookie_database": "ocd"}, base_dir=tmp_path, demo=True)
    assert loaded.cookie_database == str(copy)


def test_check_writes_nothing_and_compares_with_the_bundled_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalog", "update-cookies", str(newer(tmp_path)), "--check"]) == 0
    assert "1 added, 0 removed, 1 changed (nothing written)" in capsys.readouterr().out


def test_an_unusable_copy_is_refused_and_nothing_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Platform,Name\nx,y\n", "utf-8")
    assert main(["catalog", "update-cookies", str(bad), "--into", str(tmp_path / "ocd")]) == 1
    assert "not used" in capsys.readouterr().err and not (tmp_path / "ocd").exists()


def test_without_a_target_it_says_where_to_put_one(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COOKIEGATE_CONFIG", raising=False)
    assert main(["catalog", "update-cookies", str(newer(tmp_path))]) == 2
    assert "cookie_database" in capsys.readouterr().err


def test_the_default_is_the_bundled_copy() -> None:
    assert Config.demo().cookie_database is None
    assert site_database(None).rows == site_database(str(bundled_directory())).rows
