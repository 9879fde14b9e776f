"""README's two commands are the ones that CI and people run: they must not drift."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_command(marker: str) -> str:
    text = (ROOT / "README.md").read_text("utf-8")
    block = text.split(f"<!-- {marker} -->", 1)[1].split(f"<!-- /{marker} -->", 1)[0]
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("```")]
    assert len(lines) == 1, lines
    return lines[0]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    assert readme_command("test-command") in ci_lines


def test_the_readme_demo_command_starts_the_demo_on_embedded_defaults() -> None:
    command = readme_command("demo-command")
    assert command.endswith("cookiegate demo") and "--config" not in command
