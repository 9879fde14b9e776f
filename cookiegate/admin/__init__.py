"""The admin side: credentials, previews ("visit as") and the dashboard."""

from __future__ import annotations

from ._admin import Admin as Admin
from ._auth import PREVIEW_HEADER as PREVIEW_HEADER

__all__ = ["PREVIEW_HEADER", "Admin"]
