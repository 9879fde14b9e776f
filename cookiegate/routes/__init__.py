"""The gateway's own routes (consent, settings, cookie statement, reports, records, health)."""

from __future__ import annotations

from ._router import GPC_PATH as GPC_PATH
from ._router import Router as Router

__all__ = ["GPC_PATH", "Router"]
