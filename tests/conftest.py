"""Shared fixtures: async tests run on anyio's pytest plugin (anyio ships with Starlette) with asyncio."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=["c", "python"])
def scan_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a rewriter test module once per skip-scan backend: the C accelerator and the pure-Python scan
    that specifies it (module-scoped, so hypothesis tests may use it; the C run is skipped where the
    accelerator is not built)."""
    from cookiegate.rewrite import _backend, _scan

    saved = _backend.skip, _backend.has_explicit_markup
    if request.param == "python":
        _backend.skip, _backend.has_explicit_markup = _scan.skip, _scan.has_explicit_markup
    elif _backend.SCAN_BACKEND != "c":
        pytest.skip("the C skip scan is not built here (COOKIEGATE_NATIVE=skip, no compiler) or is switched off "
                    "(COOKIEGATE_PURE_PYTHON=1)")
    try:
        yield request.param
    finally:
        _backend.skip, _backend.has_explicit_markup = saved


