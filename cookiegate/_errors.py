"""Problems met while serving requests: each is logged once, then only counted."""

from __future__ import annotations

import logging
import threading
from collections import Counter

logger = logging.getLogger("cookiegate")


class OnceLogger:
    """Logs each distinct problem once (with context), then only counts it: never one line per request."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def error(self, key: str, msg: str, *args: object, exc_info: bool = True) -> None:
        """Log ``msg`` the first time ``key`` happens; count every time."""
        with self._lock:
            self.counts[key] += 1
            first = self.counts[key] == 1
        if first:
            logger.error(msg + " (logged once; later occurrences are only counted)", *args, exc_info=exc_info)
