"""The benchmark's quick mode runs end to end and prints its table (speed is reported, never asserted)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("uvicorn")


def test_quick_benchmark_prints_a_result_for_every_goal_and_the_microbenchmarks() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "bench", "--quick"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert out.startswith("machine: ")
    for goal in ("1", "2", "3", "4", "5a", "5b", "6"):
        row = re.search(rf"^\| {goal} \|.*\| (pass|short) \|$", out, re.M)
        assert row is not None, f"goal {goal} missing from the table:\n{out}"
    # Goal 1 is judged in server CPU per request over bare; its throughput is a note.
    assert re.search(r"^\| 1 \| JSON route, no cookie set: server CPU per request \| [\d.,]+ us \| [\d.,]+ us \|"
                     r" [\d.]+ \| <= bare \+ 2\.5 us \|", out, re.M), out
    assert re.search(r"^- goal 1: the gate's CPU over bare: [+-][\d.]+ us; no-op pure ASGI middleware [+-][\d.]+ us",
                     out, re.M), out
    assert re.search(r"^- goal 1: throughput on the same runs: gated [\d.]+ x bare", out, re.M), out
    assert "### In-process microbenchmarks" in out
    assert re.search(r"^machine: .*, (c|python) skip scan$", out, re.M)
    assert re.search(r"^\| cookiegate rewriter \((c|python) skip scan\), \d+ KB page, EU first visit .*"
                     r"\| [\d.]+ (ms|µs) \|", out, re.M)
    assert re.search(r"^summary: \d/7 goals pass", out, re.M)
