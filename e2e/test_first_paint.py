"""The first-paint measurement runs end to end (``python -m bench.first_paint``): the banner's refusal is in
the page's first contentful paint and the banner adds no layout shift. Timings are reported, never asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from .conftest import ROOT, chromium_executable

pytestmark = pytest.mark.e2e


def test_the_banner_is_painted_with_the_pages_first_contentful_paint_and_shifts_nothing() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), COOKIEGATE_CHROMIUM=chromium_executable())
    done = subprocess.run([sys.executable, "-m", "bench.first_paint", "--runs", "2"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"^bare(\s+[\d.]+){4}\s+\d+$", out, re.M), out
    assert "refusal button in the first contentful paint: 2/2 runs" in out, out
    assert "layout shift added by the banner: 0.0000" in out, out
