"""The consent-log benchmark keeps running (its quick form); no assertion on its numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_consent_log_benchmark_quick_prints_both_tables() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "bench_consent_log.py"), "--quick", "--clients", "8"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert "records/s" in out.stdout and "POSTs/s" in out.stdout
    assert "SQLite, grouped" in out.stdout and "no-op (writes nothing)" in out.stdout
