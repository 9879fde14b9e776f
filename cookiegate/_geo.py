"""Coarse visitor location from a MaxMind DB (GeoIP2/GeoLite2 City or Country, DB-IP lite, the demo DB).

Only the country, its EU membership, the first-level subdivision and the English city name leave this
module (as :class:`~cookiegate.Location`); coordinates, postcode, accuracy radius and the IP
address are never returned or logged.

Failure is quiet per request and loud once: a missing, corrupt or unreadable database, or an address
that cannot be placed, gives ``Location.unknown()`` (the strictest regime) and never raises; each
distinct problem is logged once as a warning on the ``cookiegate.geo`` logger.

Databases are updated without a restart: the file's identity (inode, mtime, size) is checked at most
every ``check_interval`` seconds and a changed file is reopened. Replace the file atomically (write a
temporary file next to it, then rename); if the new file cannot be opened, or disappears, the
previous reader keeps serving.
"""

from __future__ import annotations

import inspect
import ipaddress
import logging
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from types import TracebackType
from typing import Any

import maxminddb

from ._cache import BoundedCache, KeyedHash
from ._visitor import ip_from_text
from .policy._location import Location

__all__ = ["GeoResolver"]

logger = logging.getLogger("cookiegate.geo")

_COUNTRY_RE = re.compile(r"[A-Z]{2}")
# The part of an ISO 3166-2 code after the dash, as MaxMind stores it ("IDF", "CA", "9").
_SUBDIVISION_RE = re.compile(r"[A-Z0-9]{1,3}")
# A city name is display text; anything longer than this is not a city name but bad data.
_MAX_CITY_LEN = 128

# DB-IP's lite databases name subdivisions but carry no ISO code. Consent rules that differ below the
# country level are (today) US-state and Canadian-province rules, so those names are mapped back to
# codes; elsewhere a name-only subdivision stays unknown and the country's rules apply.
_SUBDIVISION_CODES_BY_NAME: dict[str, dict[str, str]] = {
    "US": {
        "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
        "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
        "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN",
        "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
        "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO",
        "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ",
        "New Mexico": "NM", "New York": "NY", "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH",
        "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI",
        "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT",
        "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI",
        "Wyoming": "WY",
    },
    "CA": {
        "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
        "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON",
        "Prince Edward Island": "PE", "Quebec": "QC", "Québec": "QC", "Saskatchewan": "SK",
        "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
    },
}  # fmt: skip

_Fingerprint = tuple[int, int, int]

#: Addresses whose location is remembered (per loaded database).
_CACHE_SIZE = 8192

#: The clock reload checks are timed on; module-level so tests can drive it without sleeping.
clock = time.monotonic


def _fingerprint(st: os.stat_result) -> _Fingerprint:
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class GeoResolver:
    """Map an IP address to a coarse :class:`Location` using a MaxMind DB file.

    ``database=None`` disables geolocation: every lookup is unknown. ``check_interval`` is how often
    (seconds, monotonic clock) a lookup may ``stat`` the file to notice an update; 0 checks on every
    lookup. Safe to share between threads and the event loop: a lookup is a few microseconds with the
    C reader and never blocks on I/O except that occasional ``stat``.
    """

    def __init__(self, database: str | os.PathLike[str] | None, *, check_interval: float = 5.0) -> None:
        if check_interval < 0:
            raise ValueError("check_interval must be >= 0")
        self._path = os.fspath(database) if database is not None else None
        self._check_interval = check_interval
        # The reader and whether it is IPv4-only, swapped as one value so a lookup never pairs a new
        # reader with the old reader's flag.
        self._current: tuple[maxminddb.Reader, bool] | None = None
        self._fingerprint: _Fingerprint | None = None
        self._next_check = 0.0
        self._read_error = False
        self._closed = False
        self._reload_lock = threading.Lock()
        self._warned: set[Hashable] = set()
        #: keyed hash of the ip text -> location, for the reader in ``_current`` (a new dict on every reload).
        #: Visitors come back many times per visit, and parsing the address plus walking the tree is most of
        #: a lookup's cost. Keyed by a hash under a per-process random key, not by the address: the
        #: gateway keeps no raw IP, not even in memory between requests.
        self._cache: BoundedCache[bytes, Location] = BoundedCache(_CACHE_SIZE)
        self._generation = 0
        #: Called whenever the generation changes (see :meth:`on_change`); each held as a callable giving the
        #: listener, or None once a bound method's object is gone.
        self._listeners: list[Callable[[], Callable[[], None] | None]] = []
        self._hash = KeyedHash()
        if self._path is not None:
            self._check_file()

    # -- public API ---------------------------------------------------------------------------

    @property
    def healthy(self) -> bool:
        """True when a database is open and no lookup has failed with a reader error since it opened."""
        return self._current is not None and not self._read_error

    @property
    def database_type(self) -> str | None:
        """The open database's ``database_type`` metadata (``"GeoLite2-City"`` …), or ``None``."""
        current = self._current
        if current is None:
            return None
        try:
            return str(current[0].metadata().database_type)
        except Exception:  # a reader closed under us: report nothing rather than fail a health page
            return None

    def generation(self) -> int:
        """A number that changes whenever another database is loaded or the resolver is closed.

        Checks the file for an update as a lookup does (at most every ``check_interval`` seconds), so a
        caller that remembers answers derived from lookups can forget them when it changes.
        """
        if self._path is not None and not self._closed and (
            self._check_interval == 0 or clock() >= self._next_check
        ):
            self._maybe_reload()
        return self._generation

    def on_change(self, listener: Callable[[], None]) -> None:
        """Have ``listener`` called (no arguments) whenever the generation changes: another database was
        loaded, or the resolver was closed. What a caller remembered from lookups is stale from then on.

        A bound method is held weakly: its object (a cache) does not live on for the resolver's sake."""
        if inspect.ismethod(listener):
            self._listeners.append(weakref.WeakMethod(listener))
        else:
            self._listeners.append(lambda: listener)

    def _changed(self) -> None:
        self._generation += 1
        live = []
        for ref in self._listeners:
            listener = ref()
            if listener is None:
                continue
            live.append(ref)
            try:
                listener()
            except Exception:  # a listener must not keep the new database (or the close) from taking effect
                logger.exception("cookiegate: a geo database change listener failed")
        self._listeners = live

    @property
    def next_check(self) -> float:
        """When (on this module's ``clock``) :meth:`generation` next looks at the file: until then it returns
        what it last returned, so a caller that remembers answers may skip asking. ``-inf``: every call may
        change it (closed, or checking at every call); ``inf``: never (no database configured)."""
        if self._closed or self._check_interval == 0:
            return -math.inf
        if self._path is None:
            return math.inf
        return self._next_check

    def lookup(self, ip: str | None) -> Location:
        """The coarse location of ``ip``; ``Location.unknown()`` whenever it cannot be placed.

        Unknown for ``None``, invalid strings, non-global addresses (private, loopback, link-local,
        multicast, reserved, unspecified, shared/CGNAT), addresses not in the database, records with
        no valid country, and any reader error. Never raises.
        """
        if ip is None or self._path is None or self._closed:
            return Location.unknown()
        return self._cached(ip.encode("utf-8", "replace"), lambda: ip)

    def lookup_via(self, material: bytes, address: Callable[[], str | None]) -> Location:
        """As ``lookup(address())``, remembered under ``material``: bytes that determine the address.

        For a caller that finds the address by work of its own (the client address walked through
        trusted proxies from the peer and the forwarding headers): given those inputs as ``material``,
        a visitor seen before costs one keyed hash, and ``address`` is not called. Remembered like
        :meth:`lookup` (keyed hash, never the bytes; forgotten when the database changes), in a
        namespace of its own.
        """
        if self._path is None or self._closed:
            return Location.unknown()
        return self._cached(b"\x00" + material, address)

    def _cached(self, material: bytes, address: Callable[[], str | None]) -> Location:
        if self._check_interval == 0 or clock() >= self._next_check:
            self._maybe_reload()
        # The cache first, then the reader: a reload installs the reader before the new (empty) cache,
        # so a cache seen here is never newer than the reader read next.
        cache = self._cache
        digest = self._hash.digest(material)
        cached = cache.get(digest)
        current = self._current
        if current is None:
            return Location.unknown()
        if cached is not None:
            return cached
        ip = address()
        if ip is None:
            return Location.unknown()
        reader, ipv4_only = current
        address_ = _global_address(ip)
        if address_ is None:
            return Location.unknown()
        if address_.version == 6 and ipv4_only:
            # An IPv4-only database (some DB-IP/legacy exports) raises on IPv6 input: it cannot place them.
            return Location.unknown()
        try:
            record = reader.get(address_)
        except Exception as exc:
            if current is not self._current:
                # Closed by a concurrent reload()/close() (the C reader's lock makes that a clean
                # ValueError): not a database problem, and this one request is merely unknown.
                return Location.unknown()
            # InvalidDatabaseError: corrupt data section or search tree. The message names the IP,
            # so log only the exception type.
            self._read_error = True
            self._warn_once(
                ("lookup", self._fingerprint, type(exc).__name__),
                "geo database %s: lookup failed with %s; treating visitors as unknown location",
                self._path,
                type(exc).__name__,
            )
            return Location.unknown()
        return cache.put(digest, _location_from_record(record))

    def close(self) -> None:
        """Close the database; later lookups are unknown. Idempotent."""
        self._closed = True
        with self._reload_lock:
            current, self._current = self._current, None
            self._changed()
        if current is not None:
            current[0].close()

    def __enter__(self) -> GeoResolver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GeoResolver({self._path!r}, healthy={self.healthy})"

    # -- file handling --------------------------------------------------------------------------

    def _maybe_reload(self) -> None:
        # One thread checks; the others keep serving the current reader instead of queueing on stat().
        if not self._reload_lock.acquire(blocking=False):
            return
        try:
            if not self._closed:
                self._check_file()
        finally:
            self._reload_lock.release()

    def _check_file(self) -> None:
        assert self._path is not None
        self._next_check = clock() + self._check_interval
        try:
            fingerprint = _fingerprint(os.stat(self._path))
        except OSError as exc:
            # Missing or unreadable: keep the previous reader if there is one (a delete-then-copy
            # update must not drop every visitor to "unknown"), warn once per kind of failure.
            kept = " (keeping the previously loaded database)" if self._current is not None else ""
            self._warn_once(
                ("stat", type(exc).__name__),
                "geo database %s unavailable: %s%s",
                self._path,
                exc.strerror or type(exc).__name__,
                kept,
            )
            return
        if fingerprint == self._fingerprint:
            return
        reader: maxminddb.Reader | None = None
        try:
            reader = maxminddb.open_database(self._path, maxminddb.MODE_AUTO)
            metadata = reader.metadata()
            ip_version = int(metadata.ip_version)
        except Exception as exc:
            # InvalidDatabaseError (corrupt/truncated), OSError (vanished between stat and open),
            # ValueError. Remember the fingerprint so the same bad file is not reopened every check.
            if reader is not None:
                reader.close()
            self._fingerprint = fingerprint
            kept = " (keeping the previously loaded database)" if self._current is not None else ""
            self._warn_once(
                ("open", fingerprint),
                "geo database %s cannot be opened: %s%s",
                self._path,
                exc,
                kept,
            )
            return
        previous, self._current = self._current, (reader, ip_version == 4)
        self._cache = BoundedCache(_CACHE_SIZE)
        self._changed()
        self._fingerprint = fingerprint
        self._read_error = False
        # A good file clears the memory of past problems, so a later breakage is reported again.
        self._warned.clear()
        if type(reader).__module__ != "maxminddb.extension":
            # MODE_AUTO fell back to pure Python (no compiled extension for this platform): still
            # correct, but each lookup costs tens of microseconds instead of a few.
            self._warn_once(
                ("pure-python",),
                "geo database %s is read by the pure-Python maxminddb reader; install a maxminddb "
                "wheel with the C extension for faster lookups",
                self._path,
            )
        if previous is None:
            logger.info("geo database %s opened (%s)", self._path, metadata.database_type)
        else:
            logger.info("geo database %s reloaded (%s)", self._path, metadata.database_type)
            previous[0].close()

    def _warn_once(self, key: Hashable, msg: str, *args: Any) -> None:
        if key in self._warned:
            return
        self._warned.add(key)
        logger.warning(msg, *args)


def _global_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse ``ip``; ``None`` unless it is a publicly routable unicast address."""
    try:
        address = ip_from_text(ip.strip())
    except ValueError:
        return None
    if address.version == 6:
        mapped = address.ipv4_mapped
        if mapped is not None:
            # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; place them as IPv4.
            address = mapped
    if (
        not address.is_global
        or address.is_multicast
        or address.is_private
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    ):
        return None
    return address


def _location_from_record(record: Any) -> Location:
    """Keep the four coarse fields of a GeoIP2-shaped record; anything malformed means unknown."""
    if not isinstance(record, dict):
        return Location.unknown()
    country = record.get("country")
    if not isinstance(country, dict):
        return Location.unknown()
    code = country.get("iso_code")
    if not isinstance(code, str) or not _COUNTRY_RE.fullmatch(code):
        return Location.unknown()
    return Location(
        country=code,
        in_eu=country.get("is_in_european_union") is True,
        subdivision=_subdivision(record.get("subdivisions"), code),
        city=_english_name(record.get("city")),
    )


def _subdivision(subdivisions: Any, country: str) -> str | None:
    # The first entry is the largest (first-level) subdivision: England before West Berkshire.
    if not isinstance(subdivisions, list) or not subdivisions or not isinstance(subdivisions[0], dict):
        return None
    code = subdivisions[0].get("iso_code")
    if code is None:
        name = _english_name(subdivisions[0])
        code = _SUBDIVISION_CODES_BY_NAME.get(country, {}).get(name or "")
    if not isinstance(code, str):
        return None
    if code.startswith(country + "-"):
        # Some non-MaxMind databases store the full ISO 3166-2 code.
        code = code[len(country) + 1 :]
    if not _SUBDIVISION_RE.fullmatch(code):
        return None
    return f"{country}-{code}"


def _english_name(entity: Any) -> str | None:
    if not isinstance(entity, dict):
        return None
    names = entity.get("names")
    if not isinstance(names, dict):
        return None
    name = names.get("en")
    if not isinstance(name, str):
        return None
    name = name.strip()
    if not name or len(name) > _MAX_CITY_LEN:
        return None
    return name
