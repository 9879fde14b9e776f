"""CSP violation reports, summarised per blocked host: what the dashboard's leak section shows.

Reports are unauthenticated, so nothing here is a list a flood can push a genuine report out of: each host
keeps a count, its pages (a bounded few, the rest counted together), its directives, when it was first and
last reported, and how many distinct clients reported it, counted by a keyed hash of the client (never its
address). A host reported from a single client may well be forged. The table holds at most ``max_hosts``
hosts; a new one beyond that replaces the host reported by the fewest clients, least recently, so hosts that
many visitors' browsers report outlast any number of forged ones from a few addresses.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ._cache import KeyedHash

MAX_HOSTS: Final = 500
#: Per host: pages kept by name, directives kept, distinct clients counted.
MAX_PAGES: Final = 20
MAX_DIRECTIVES: Final = 16
MAX_CLIENTS: Final = 1000


@dataclass(frozen=True, slots=True)
class HostLeaks:
    """What was reported about one blocked host (a snapshot)."""

    host: str
    total: int
    #: (page path, reports), most reported first.
    pages: tuple[tuple[str, int], ...]
    #: Reports from pages beyond the ones kept by name.
    other_pages: int
    directives: tuple[str, ...]
    #: Distinct reporting clients (at most :data:`MAX_CLIENTS` counted); 0 when no client address was known.
    clients: int
    #: Reported from one client only: it may well be forged.
    single_address: bool
    #: Unix times.
    first_seen: float
    last_seen: float


class _Host:
    __slots__ = ("total", "pages", "other_pages", "directives", "clients", "first_seen", "last_seen")

    def __init__(self, now: float) -> None:
        self.total = 0
        self.pages: dict[str, int] = {}
        self.other_pages = 0
        self.directives: set[str] = set()
        self.clients: set[bytes] = set()
        self.first_seen = now
        self.last_seen = now


class LeakReports:
    """Per-host summaries of CSP violation reports, bounded in memory; thread-safe."""

    def __init__(self, *, max_hosts: int = MAX_HOSTS, clock: Callable[[], float] = time.time) -> None:
        self.max_hosts = max_hosts
        self.clock = clock
        self._hosts: dict[str, _Host] = {}
        self._hash = KeyedHash(8)
        self._lock = threading.Lock()

    def add(self, host: str, page: str, directive: str, client: str | None) -> None:
        """Count one report of ``host`` blocked on ``page``, from ``client`` (a client key, or None)."""
        now = self.clock()
        with self._lock:
            entry = self._hosts.get(host)
            if entry is None:
                if len(self._hosts) >= self.max_hosts:
                    del self._hosts[self._weakest()]
                entry = self._hosts[host] = _Host(now)
            entry.total += 1
            entry.last_seen = now
            if page in entry.pages or len(entry.pages) < MAX_PAGES:
                entry.pages[page] = entry.pages.get(page, 0) + 1
            else:
                entry.other_pages += 1
            if directive and len(entry.directives) < MAX_DIRECTIVES:
                entry.directives.add(directive)
            if client is not None and len(entry.clients) < MAX_CLIENTS:
                entry.clients.add(self._hash.digest(client.encode()))

    def _weakest(self) -> str:
        """The host reported by the fewest clients, least recently: the first to give way."""
        return min(self._hosts.items(), key=lambda item: (len(item[1].clients), item[1].last_seen))[0]

    def hosts(self) -> list[HostLeaks]:
        """Every host's summary, most reported first."""
        with self._lock:
            out = [
                HostLeaks(
                    host=host,
                    total=e.total,
                    pages=tuple(sorted(e.pages.items(), key=lambda p: (-p[1], p[0]))),
                    other_pages=e.other_pages,
                    directives=tuple(sorted(e.directives)),
                    clients=len(e.clients),
                    single_address=len(e.clients) == 1,
                    first_seen=e.first_seen,
                    last_seen=e.last_seen,
                )
                for host, e in self._hosts.items()
            ]
        out.sort(key=lambda h: (-h.total, h.host))
        return out

    def __len__(self) -> int:
        return len(self._hosts)
