"""The ``cookiegate`` command line: the demo, the marketer's tools (tags, lint, scan) and the decision log."""

from __future__ import annotations

from ._main import main as main

__all__ = ["main"]
