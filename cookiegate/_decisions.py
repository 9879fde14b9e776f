"""The decisions of returning visitors, remembered under a keyed hash of what a decision is made of."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Final

from . import _geo as geo_module
from ._cache import BoundedCache, KeyedHash
from ._geo import GeoResolver
from .policy._decision import Decision


class Remembered:
    """A decision kept by :class:`DecisionCache`, until when it may be used, and the visitor's language.

    The language is worked out after the decision (by the banner, for pages only) and kept with it: it is a
    function of the language cookie, ``Accept-Language`` and the place, which the cache key covers too."""

    __slots__ = ("decision", "until", "language")

    def __init__(self, decision: Decision, until: float) -> None:
        self.decision = decision
        self.until = until
        self.language: str | None = None


class DecisionCache:
    """Decisions of visitors seen lately, under a keyed hash of everything a decision is made of.

    A decision is a function of the peer and the forwarding headers (the place), the consent cookie (the
    choice, until it expires), ``Sec-GPC`` and the User-Agent (the bot flag), given the configuration and
    the geo database; the visitor's language adds ``Accept-Language`` (and the language cookie, which the
    Cookie header carries). A visitor who sends those again gets the decision made before, for one keyed
    hash instead of the proxy walk, the cookie's checks, the rules and the language negotiation: most of
    the gateway's work before the first byte of a page. An entry is used at most :data:`DECISION_TTL`
    seconds and never past its cookie's expiry, and a new geo database forgets every entry. Kept only when
    nothing was in doubt: a known place, and a cookie that was absent or accepted (a rejected cookie is
    counted and logged every time it comes). Keyed by a hash under a per-process random key: no header
    value is kept.
    """

    def __init__(self, geo: GeoResolver, size: int = 8192) -> None:
        self._geo = geo
        self._hash = KeyedHash()
        self._table: BoundedCache[bytes, Remembered] = BoundedCache(size)
        # Another database (or a closed resolver) forgets every entry, whichever lookup noticed it.
        geo.on_change(self._forget)
        self._recheck = geo.next_check

    def _forget(self) -> None:
        self._table.clear()

    def get(self, material: bytes) -> tuple[Remembered | None, bytes]:
        """What is remembered under ``material`` (or None), and the digest to remember a decision under."""
        if geo_module.clock() >= self._recheck:
            # The resolver's file is due for a look (a returning visitor's page may be the only traffic): a
            # replaced database clears the table. Not asked on every lookup: this runs before each first byte.
            self._geo.generation()
            self._recheck = self._geo.next_check
        digest = self._hash.digest(material)
        entry = self._table.get(digest)
        if entry is None:
            return None, digest
        if time.time() >= entry.until:
            self._table.pop(digest)
            return None, digest
        return entry, digest

    def put(self, digest: bytes, decision: Decision, until: float) -> Remembered:
        """Remember ``decision`` under ``digest`` until ``until`` (POSIX time) at the latest."""
        return self._table.put(digest, Remembered(decision, min(until, time.time() + DECISION_TTL)))


#: How long a remembered decision is used before it is made again.
DECISION_TTL: Final = 30.0

#: Request headers a remembered visit is made of besides the forwarding ones: the consent (and language)
#: cookie, GPC, the bot flag, and the languages the browser asks for.
_DECIDING_HEADERS: Final = frozenset({b"cookie", b"sec-gpc", b"user-agent", b"accept-language"})
#: The forwarding headers: with the peer, what decides the visitor's address.
_ADDRESS_HEADERS: Final = (b"x-forwarded-for", b"forwarded")
#: The lengths of all those names: a header of another length is none of them.
_MATERIAL_NAME_LENGTHS: Final = frozenset(len(n) for n in (*_DECIDING_HEADERS, *_ADDRESS_HEADERS))


def memo_materials(peer: bytes, headers: Iterable[tuple[bytes, bytes]]) -> tuple[bytes, bytes]:
    """The decision memo's key material for a request from ``peer`` with ``headers``: the address part (the
    peer, then each forwarding header as ``name len value``, names lower-cased) and the whole (that, a blank
    line, then the deciding headers the same way). See ``Visit._materials``."""
    address = [b"%d %s" % (len(peer), peer)]
    rest = []
    for name, value in headers:
        if len(name) not in _MATERIAL_NAME_LENGTHS:
            continue  # most headers (accept, sec-fetch-*, referer…): not even lower-cased
        lname = name.lower()
        if lname in _ADDRESS_HEADERS:
            address.append(b"%s %d %s" % (lname, len(value), value))
        elif lname in _DECIDING_HEADERS:
            rest.append(b"%s %d %s" % (lname, len(value), value))
    joined = b"\n".join(address)
    return joined, joined + b"\n\n" + b"\n".join(rest)
