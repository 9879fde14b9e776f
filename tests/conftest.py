"""Shared fixtures: async tests run on anyio's pytest plugin (anyio ships with Starlette) with asyncio."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
