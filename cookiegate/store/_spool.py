"""The local append-only spool: where records go, fsync'd, while the database is unreachable.

Each store instance writes its own file, ``cookiegate-<db key>-<pid>-<random>.spool``, and holds an
exclusive ``flock`` on it while it lives. A spool file whose lock can be taken belongs to a process that
died (or closed with the database still down): the next store to open adopts it and replays it. Lines are
JSON records; a torn last line (a crash mid-write) was never acknowledged and is skipped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any, BinaryIO

logger = logging.getLogger("cookiegate.store")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_lines(fh: BinaryIO) -> list[dict[str, Any]]:
    fh.seek(0)
    out: list[dict[str, Any]] = []
    for line in fh.read().split(b"\n"):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            logger.warning("cookiegate: skipping a torn spool line (a record that was never acknowledged)")
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


class Spool:
    """One process's spool file plus the orphaned files it adopted. Blocking I/O: call from a thread."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.key = key
        self.path = directory / f"cookiegate-{key}-{os.getpid()}-{uuid.uuid4().hex[:8]}.spool"
        self._fh: BinaryIO | None = None
        self._adopted: list[tuple[Path, BinaryIO]] = []
        #: Entries known to be waiting (own file and adopted files).
        self.pending = 0

    def _own(self) -> BinaryIO:
        if self._fh is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            fh = open(self.path, "a+b")  # noqa: SIM115 - held open for the life of the store
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            _fsync_dir(self.directory)
            self._fh = fh
        return self._fh

    def adopt_orphans(self) -> int:
        """Take over spool files of this database left by dead processes; return their entry count."""
        if not self.directory.is_dir():
            return 0
        for path in sorted(
            self.directory.glob(f"cookiegate-{self.key}-*.spool"), key=lambda p: p.stat().st_mtime
        ):
            if path == self.path or any(p == path for p, _ in self._adopted):
                continue
            fh = open(path, "r+b")  # noqa: SIM115 - held while adopted
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.close()  # a live process's spool
                continue
            if not path.exists():  # replayed and removed by another process between glob and lock
                fh.close()
                continue
            self._adopted.append((path, fh))
            self.pending += len(_read_lines(fh))
        return self.pending

    def append(self, items: list[dict[str, Any]]) -> None:
        """Append and fsync: on return, the items survive a crash."""
        fh = self._own()
        fh.seek(0, os.SEEK_END)
        fh.write(b"".join(json.dumps(i, separators=(",", ":")).encode("utf-8") + b"\n" for i in items))
        fh.flush()
        os.fsync(fh.fileno())
        self.pending += len(items)

    def read(self) -> list[dict[str, Any]]:
        """Everything waiting, adopted files first (oldest first), then this process's own."""
        items: list[dict[str, Any]] = []
        for _, fh in self._adopted:
            items += _read_lines(fh)
        if self._fh is not None:
            items += _read_lines(self._fh)
        return items

    def clear(self) -> None:
        """Everything read was replayed: remove adopted files, empty our own."""
        for path, fh in self._adopted:
            path.unlink(missing_ok=True)
            fh.close()
        self._adopted.clear()
        if self._fh is not None:
            self._fh.truncate(0)
            os.fsync(self._fh.fileno())
        self.pending = 0

    def close(self) -> None:
        """Release the locks; an empty own file is removed, a non-empty one is left for adoption."""
        for _, fh in self._adopted:
            fh.close()
        self._adopted.clear()
        if self._fh is not None:
            empty = os.fstat(self._fh.fileno()).st_size == 0
            if empty:
                self.path.unlink(missing_ok=True)
            self._fh.close()
            self._fh = None
