"""Where consent decisions are recorded, as proof of consent."""

from __future__ import annotations

from ._base import ConsentRecord, DecisionStore, StoreError, open_store

__all__ = ["ConsentRecord", "DecisionStore", "StoreError", "open_store"]
