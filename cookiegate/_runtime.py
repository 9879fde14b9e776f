"""The gateway's shared runtime and the lazy per-request view of the visitor.

:class:`Gateway` is built once at start-up from a :class:`Config`. :class:`Visit` is made per request and
computes location, regime, stored choice and decision lazily, at most once each, and only when the
response (or the app) needs them. Any failure while computing gives the strictest decision.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from . import _geo as geo_module
from ._config import Config
from ._counters import Counters
from ._geo import GeoResolver
from ._visitor import (
    TrustedProxies,
    UserAgentInfo,
    client_ip,
    dnt_signal,
    gpc_signal,
    header_value,
    is_bot_user_agent,
    user_agent_info,
)
from .banner._renderer import BannerRenderer
from .catalog import TagRegistry, Vendor
from .policy._categories import NECESSARY
from .policy._consent import Choice, ConsentCodec, read_cookie
from .policy._csp import CspBuilder
from .policy._decision import Decision, decide, strictest
from .policy._jurisdiction import STRICTEST, Jurisdiction, Regime
from .policy._location import Location
from .store import DecisionStore, open_store

logger = logging.getLogger("cookiegate")

_UNKNOWN_UA: Final = UserAgentInfo(device="other", browser_family="Other", is_bot=False)


@dataclass(frozen=True, slots=True)
class Preview:
    """An authenticated admin's "visit as": a place, a consent state and a GPC flag, never a visitor's own."""

    location: Location
    choice: Choice | None
    gpc: bool


#: Google's own tags, which understand Consent Mode and may load in the denied state in "advanced" mode.
GOOGLE_CONSENT_MODE_VENDORS: Final = frozenset({"google-tag-manager", "google-analytics", "google-ads"})


class ConsentModeClassifier:
    """The registry as the rewriter sees it in Consent Mode "advanced": Google's tags are let through.

    They load for every visitor and obey the inline ``gtag('consent', 'default', …)`` the banner injects
    before them (denied until the visitor allows analytics/ads: cookieless pings, no cookies). Every other
    vendor is gated exactly as in "basic" mode, and Google's cookies set by the server are still dropped.
    A GTM container can carry non-Google tags that only its own consent settings govern: the README says so.
    """

    def __init__(self, registry: TagRegistry) -> None:
        self._registry = registry
        self._let_through: dict[str, Vendor] = {}
        for vendor in registry.vendors:
            if vendor.id in GOOGLE_CONSENT_MODE_VENDORS:
                self._let_through[vendor.id] = replace(vendor, category=NECESSARY)

    def _map(self, vendor: Vendor | None) -> Vendor | None:
        if vendor is None:
            return None
        return self._let_through.get(vendor.id, vendor)

    def vendor_for_url(self, url: str) -> Vendor | None:
        """As :meth:`TagRegistry.vendor_for_url`, with Google's tags let through."""
        return self._map(self._registry.vendor_for_url(url))

    def vendor_for_inline(self, text: str) -> Vendor | None:
        """As :meth:`TagRegistry.vendor_for_inline`, with Google's tags let through."""
        return self._map(self._registry.vendor_for_inline(text))

    def hosts_for_categories(self, categories: Collection[str]) -> tuple[str, ...]:
        """CSP hosts of the allowed categories plus Google's, which load for everyone in this mode."""
        hosts = set(self._registry.hosts_for_categories(categories))
        for vendor in self._let_through.values():
            hosts.update(vendor.hosts)
        return tuple(sorted(hosts))


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
        self._key = os.urandom(16)
        # The keyed hash, set up once: each lookup copies it rather than keying a new one (the key is
        # hashed as a block of its own; a copy skips that, ~0.2 us of the ~0.8 per lookup).
        self._keyed = hashlib.blake2b(digest_size=16, key=self._key)
        self._size = size
        self._table: dict[bytes, Remembered] = {}
        # Another database (or a closed resolver) forgets every entry, whichever lookup noticed it.
        geo.on_change(self._forget)
        self._recheck = geo.next_check

    def _forget(self) -> None:
        self._table = {}

    def get(self, material: bytes) -> tuple[Remembered | None, bytes]:
        """What is remembered under ``material`` (or None), and the digest to remember a decision under."""
        if geo_module._clock() >= self._recheck:
            # The resolver's file is due for a look (a returning visitor's page may be the only traffic):
            # a replaced database calls _forget. Not asked before then: this runs before every page's first
            # byte, where the call into the resolver measured ~1-2 % of the time to first byte.
            self._geo.generation()
            self._recheck = self._geo.next_check
        keyed = self._keyed.copy()
        keyed.update(material)
        digest = keyed.digest()
        entry = self._table.get(digest)
        if entry is None:
            return None, digest
        if time.time() >= entry.until:
            self._table.pop(digest, None)
            return None, digest
        return entry, digest

    def put(self, digest: bytes, decision: Decision, until: float) -> Remembered:
        """Remember ``decision`` under ``digest`` until ``until`` (POSIX time) at the latest."""
        table = self._table
        if len(table) >= self._size:
            table.clear()  # a flood of new visitors costs only misses
        entry = table[digest] = Remembered(decision, min(until, time.time() + DECISION_TTL))
        return entry


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



class Gateway:
    """Everything built once per process: codec, geo reader, regime table, registry, renderer, store."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.prefix = config.prefix
        self.codec = ConsentCodec(
            config.secret_keys, policy_revision=config.policy_revision, max_age=config.consent_max_age
        )
        self.trusted = TrustedProxies(config.trusted_proxies)
        self.geo = GeoResolver(config.geoip_database)
        self.decisions = DecisionCache(self.geo)
        self.jurisdiction = Jurisdiction(config.regimes)
        self.registry = TagRegistry.builtin(config.tags)
        self.renderer = BannerRenderer(
            prefix=config.prefix,
            vendors=self.registry.vendors,
            texts=config.banner_texts,
            consent_mode=config.consent_mode,
        )
        #: What the rewriter and the CSP classify with: the registry, or its Consent Mode "advanced" view.
        self.classifier: TagRegistry | ConsentModeClassifier = (
            ConsentModeClassifier(self.registry) if config.consent_mode == "advanced" else self.registry
        )
        self.csp = CspBuilder(
            allow=config.csp_allow,
            report_uri=config.prefix + "csp-report",
            hosts_for=self.classifier.hosts_for_categories,
        )
        self.store: DecisionStore = open_store(config.log_url, spool_dir=config.log_spool_dir)
        self.store_ready = False
        #: Fired/blocked counts per tag × country × regime and consent outcomes, flushed to the store.
        self.counters = Counters()
        self.errors = OnceLogger()
        #: Recent CSP violation reports (host, page, directive), newest last; bounded.
        self.csp_reports: list[dict[str, str]] = []

    async def startup(self) -> None:
        """Open the decision log (create or migrate its schema)."""
        if self.store_ready:
            return
        try:
            await self.store.open()
            self.store_ready = True
            self.counters.start(self.store, 60.0)
        except Exception:
            self.errors.error("store-open", "cookiegate: could not open the decision log")

    async def shutdown(self) -> None:
        """Flush the counters, close the decision log and the geo reader."""
        try:
            if self.store_ready:
                await self.counters.stop(self.store)
        except Exception:
            self.errors.error("counters-flush", "cookiegate: counters could not be flushed at shutdown")
        try:
            await self.store.close()
        finally:
            self.geo.close()


class Visit:
    """What the gateway knows about the visitor of one request; every fact is computed on first use.

    The app sees this object as ``scope["cookiegate"]``: ``visit.decision.allows("analytics")`` (or
    ``visit.allows("analytics")``), ``visit.location``, ``visit.regime``.
    """

    # Every fact starts as a class-level "not computed yet": making a visit (once per request, most of them
    # never asking anything) sets two attributes only.
    _location: Location | None = None
    _ip: str | None | bool = False  # False: not computed yet (None is a valid answer)
    _regime: Regime | None = None
    _choice: Choice | None = None
    _choice_done = False
    #: The consent cookie's value as read (None: absent).
    _cookie: str | None = None
    #: The policy revision of a validly signed cookie from another revision (read with the choice).
    _previous: str | None = None
    #: What decides the address and the decision (see ``_materials``); False: not worked out yet.
    _found: tuple[bytes, bytes] | None | bool = False
    #: Something failed on the way to a fact (and the strictest answer stood in): nothing is remembered.
    _degraded = False
    _decision: Decision | None = None
    _ua: UserAgentInfo | None = None
    _gpc: bool | None = None
    #: The language the gateway speaks to this visitor in (set by the banner renderer the first time; read
    #: it through ``BannerRenderer.language``: it is None until the response is gated).
    _language: str | None = None
    #: Set only for an authenticated admin preview: overrides location, consent state and GPC.
    preview: Preview | None = None
    _scope: Mapping[str, Any] | None = None

    def __init__(self, gateway: Gateway, scope: Mapping[str, Any], *, preview: Preview | None = None) -> None:
        self.gateway = gateway
        if preview is not None:
            self.preview = preview
        # What the visit reads of the request: its peer and headers. Not the scope itself: the scope holds
        # the visit (``scope["cookiegate"]``), and a visit holding the scope would make every request a
        # reference cycle, freed only by the cyclic garbage collector. Two attributes, not a dict: most
        # visits are never asked anything.
        self._peer: Any = scope.get("client")
        self._headers: Sequence[tuple[bytes, bytes]] = scope.get("headers", ())

    @property
    def scope(self) -> Mapping[str, Any]:
        """What the visit reads of the request, shaped as a scope: ``{"client": ..., "headers": ...}``."""
        if self._scope is None:
            self._scope = {"client": self._peer, "headers": self._headers}
        return self._scope

    def __repr__(self) -> str:
        return f"<cookiegate.Visit decided={self._decision is not None}>"

    @property
    def client_ip(self) -> str | None:
        """The visitor's address, walked through trusted proxies only (computed once; never stored anywhere)."""
        if self._ip is False:
            self._ip = client_ip(self.scope, self.gateway.trusted)
        assert self._ip is not True
        return self._ip

    @property
    def location(self) -> Location:
        """Coarse location from the client IP (through trusted proxies only)."""
        if self.preview is not None:
            return self.preview.location
        if self._location is None:
            self._remembered()  # a remembered decision brings its place along
        if self._location is None:
            try:
                material = self._address_material()
                if material is None:
                    self._location = self.gateway.geo.lookup(self.client_ip)
                else:
                    # The walk through trusted proxies costs more than the lookup itself: a visitor seen
                    # before is found by what decides their address (the peer and the forwarding headers).
                    self._location = self.gateway.geo.lookup_via(material, lambda: self.client_ip)
            except Exception:
                self.gateway.errors.error("geo", "cookiegate: geo lookup failed; strictest regime applies")
                self._degraded = True
                self._location = Location.unknown()
        return self._location

    def _address_material(self) -> bytes | None:
        """The peer and every forwarding header, unambiguously joined: all :func:`client_ip` reads."""
        materials = self._materials()
        return None if materials is None else materials[0]

    def _materials(self) -> tuple[bytes, bytes] | None:
        """What decides the address (see above), and what decides the decision and the language: that and
        the Cookie, Sec-GPC, User-Agent and Accept-Language headers. Every header is length-prefixed and
        named, so no two requests that differ in any of them give the same bytes. None when the peer is not
        an address string."""
        if self._found is not False:
            assert self._found is not True
            return self._found
        client = self._peer
        host = client[0] if client else None
        if not isinstance(host, str):
            self._found = None
            return None
        self._found = memo_materials(host.encode("utf-8", "surrogateescape"), self._headers)
        return self._found

    @property
    def regime(self) -> Regime:
        """The consent regime at the visitor's location (strictest when unknown)."""
        if self._regime is None:
            try:
                self._regime = self.gateway.jurisdiction.regime_for(self.location)
            except Exception:
                self.gateway.errors.error("regime", "cookiegate: regime lookup failed; strictest regime applies")
                self._degraded = True
                self._regime = STRICTEST
        return self._regime

    @property
    def choice(self) -> Choice | None:
        """The visitor's valid stored choice, or ``None``."""
        if not self._choice_done:
            self._choice_done = True
            if self.preview is not None:
                self._choice = self.preview.choice
                return self._choice
            try:
                raw = self._cookie = read_cookie(self._headers, self.gateway.config.cookie_name)
                self._choice, self._previous = self.gateway.codec.read(raw)
            except Exception:
                self.gateway.errors.error("cookie", "cookiegate: consent cookie decoding failed; no choice assumed")
                self._degraded = True
                self._choice = None
        return self._choice

    @property
    def user_agent(self) -> UserAgentInfo:
        """Device class, browser family, bot flag (parsed once per distinct UA, cached)."""
        if self._ua is None:
            try:
                self._ua = user_agent_info(header_value(self.scope, b"user-agent"))
            except Exception:
                self.gateway.errors.error("ua", "cookiegate: user-agent parsing failed")
                self._ua = _UNKNOWN_UA
        return self._ua

    @property
    def gpc(self) -> bool:
        """True when the browser sent ``Sec-GPC: 1``."""
        if self.preview is not None:
            return self.preview.gpc
        if self._gpc is None:
            self._gpc = gpc_signal(self._headers)
        return self._gpc

    @property
    def previous_revision(self) -> str | None:
        """The older policy revision the visitor consented under, when the policy changed since (re-consent)."""
        if self.preview is not None or self.choice is not None:
            return None
        return self._previous  # found with the choice: one signature check per cookie

    @property
    def dnt(self) -> bool:
        """True when the browser sent ``DNT: 1``."""
        return dnt_signal(self._headers)

    @property
    def decision(self) -> Decision:
        """The one decision every later step reads (computed once; strictest on any failure)."""
        if self._decision is None:
            try:
                known = self._remembered()
                if known is not None:
                    return known
                decision = self._decision = decide(
                    location=self.location,
                    regime=self.regime,
                    choice=self.choice,
                    gpc=self.gpc,
                    is_bot=is_bot_user_agent(header_value(self.scope, b"user-agent")),
                )
                digest = self._digest  # set only when the cache was asked (and missed)
                if digest and not self._degraded and decision.location.country is not None:
                    if self._cookie is None:
                        self._entry = self.gateway.decisions.put(digest, decision, time.time() + DECISION_TTL)
                    elif decision.choice is not None:
                        until = self.gateway.codec.valid_until(self._cookie)
                        self._entry = self.gateway.decisions.put(digest, decision, until)
            except Exception:
                self.gateway.errors.error("decision", "cookiegate: decision failed; strictest treatment applies")
                self._decision = strictest()
        return self._decision

    #: Whether the decision cache was asked yet, and the digest to remember this visit's decision under.
    _asked: bool = False
    _digest = b""
    #: What the decision cache keeps for this visit (found there, or just put there), else None.
    _entry: Remembered | None = None

    def language_by(self, negotiate: Callable[[Visit], str]) -> str:
        """The visitor's language: worked out by ``negotiate`` once per visit, and kept with a remembered
        decision, so a returning visitor's language is not negotiated again."""
        if self._language is None:
            entry = self._entry
            language = entry.language if entry is not None else None
            if language is None:
                language = negotiate(self)
                if entry is not None:
                    entry.language = language
            self._language = language
        return self._language

    def _remembered(self) -> Decision | None:
        """This visitor's remembered decision, taken with its place, regime and choice (asked once).

        Whichever fact is asked for first (the demo's pages ask for the place), the cache answers it: one
        keyed hash per request rather than one for the place and another for the decision."""
        if self._asked or self.preview is not None:
            return None
        self._asked = True
        try:
            materials = self._materials()
            if materials is None:
                return None
            entry, self._digest = self.gateway.decisions.get(materials[1])
        except Exception:
            self.gateway.errors.error("decision-cache", "cookiegate: decision cache failed; deciding afresh")
            return None
        if entry is None:
            return None
        self._entry = entry
        self._adopt(entry.decision)
        return entry.decision

    def _adopt(self, decision: Decision) -> None:
        """Take a remembered decision, and the place, regime and choice it was made of."""
        self._decision = decision
        if self._location is None:
            self._location = decision.location
        if self._regime is None:
            self._regime = decision.regime
        if not self._choice_done:
            self._choice, self._choice_done = decision.choice, True

    # Conveniences so templates can write ``cookiegate.allows("analytics")``.
    def allows(self, category: str) -> bool:
        """Whether ``category`` may fire for this request."""
        return self.decision.allows(category)

    @property
    def allowed(self) -> frozenset[str]:
        """The allowed categories."""
        return self.decision.allowed

    @property
    def needs_banner(self) -> bool:
        """Whether the visitor still has to be asked."""
        return self.decision.needs_banner

    @property
    def is_bot(self) -> bool:
        """Whether the user-agent is a crawler."""
        return self.decision.is_bot

    def ip_for_log(self, mode: str, key: bytes) -> str | None:
        """The IP as the log may keep it: a truncated prefix (/24, /48), a keyed hash, or nothing."""
        ip = self.client_ip
        if ip is None or mode == "none":
            return None
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if mode == "hash":
            import hmac

            return "h:" + hmac.new(key, addr.packed, "sha256").hexdigest()[:32]
        prefix = 24 if addr.version == 4 else 48
        return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))
