"""Fixtures for both suites (tests/ and e2e/)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Demo mode keeps its decision log in the temp directory: give this run (and the servers it starts) a
    private one, so test runs side by side never share a log (or its schema version)."""
    private = str(tmp_path_factory.mktemp("tmpdir"))
    saved = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = private, None
    try:
        yield
    finally:
        if saved[0] is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved[0]
        tempfile.tempdir = saved[1]
