"""The ``cookiegate`` command as scripts use it: --version, quiet closed pipes, and a light start-up."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

import cookiegate
from cookiegate.cli._main import CLOSED_PIPE, build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def _cli(*argv: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cookiegate.cli", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        **kwargs,  # type: ignore[call-overload]
    )


def _imported(importtime_stderr: str) -> set[str]:
    lines = importtime_stderr.splitlines()
    return {line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")}


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"cookiegate {cookiegate.__version__}\n"


def test_version_loads_neither_the_user_agent_parser_nor_the_templates_nor_the_middleware() -> None:
    run = _cli("--version")
    assert run.returncode == 0 and run.stdout.startswith("cookiegate ")
    imported = _imported(run.stderr)
    assert "cookiegate.cli._main" in imported  # the measurement saw the CLI itself
    heavy = {"user_agents", "ua_parser", "jinja2", "cookiegate._middleware", "cookiegate.rewrite"}
    assert imported & heavy == set()


def test_the_marketers_tags_table_does_not_load_the_user_agent_parser_or_the_templates() -> None:
    run = _cli("tags", "--country", "FR")
    assert run.returncode == 0 and "regime opt-in" in run.stdout
    assert _imported(run.stderr) & {"user_agents", "ua_parser", "jinja2"} == set()


def test_a_closed_pipe_ends_the_command_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write fails with EPIPE
    try:
        run = subprocess.run(
            [sys.executable, "-m", "cookiegate.cli", "tags"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert run.returncode == CLOSED_PIPE
    assert run.stderr == ""


def test_every_option_of_every_command_has_help() -> None:
    missing: list[str] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for option in parser._actions:
            if isinstance(option, argparse._SubParsersAction):
                for name, sub in option.choices.items():
                    walk(sub, f"{path} {name}")
            elif option.option_strings and not option.help:
                missing.append(f"{path} {option.option_strings[0]}")

    walk(build_parser(), "cookiegate")
    assert missing == []


def test_every_json_schema_is_published_in_the_docs_and_is_itself_valid() -> None:
    import json

    import jsonschema

    page = (ROOT / "docs" / "marketer.md").read_text()
    schemas = sorted((ROOT / "cookiegate" / "cli" / "schemas").glob("*.json"))
    assert [p.stem for p in schemas] == ["lint", "scan", "stats", "tags"]
    for path in schemas:
        assert f'--8<-- "cookiegate/cli/schemas/{path.name}"' in page
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))
