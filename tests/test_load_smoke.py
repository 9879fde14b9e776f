"""The load script in its bounded CI form (``python -m loadtest.run --quick``), and its tracker scanner."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from loadtest.run import leaks

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.anyio
async def test_the_load_scanner_sees_every_tracker_family_on_the_bare_demo_site() -> None:
    # Without this, a scanner that finds nothing would make every load run look clean.
    from cookiegate.demo import create_site

    transport = httpx.ASGITransport(app=create_site())
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        page = (await client.get("/community")).content
    found = leaks(page, frozenset())
    assert any("inline" in f for f in found) and any(" src=" in f for f in found)
    assert leaks(page, frozenset({"necessary", "functional", "analytics", "ads", "social"})) == []


def test_quick_load_run_serves_everything_loses_no_record_and_leaks_no_tracker() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "loadtest.run", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    assert result["requests"] > 0 and result["consents_acknowledged"] > 0 and result["pages_checked_for_trackers"] > 0
    assert (result["5xx_other_than_503"], result["records_lost"], result["tracker_leaks"]) == (0, 0, 0)
    assert result["records_found"] >= result["consents_acknowledged"]
    assert any("write-locked" in f for f in result["faults"])
