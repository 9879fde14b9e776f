"""The per-request view of the visitor: each fact is computed on first use, at most once.

The app sees a :class:`Visit` as ``scope["cookiegate"]``; the gate, the banner and every view read the same
:attr:`Visit.decision`. Any failure on the way to a fact gives the strictest answer for it.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ._decisions import DECISION_TTL, Remembered, memo_materials
from ._http import header_value, read_cookie
from ._visitor import UserAgentInfo, client_ip, dnt_signal, gpc_signal, is_bot_user_agent, user_agent_info
from .policy._consent import Choice
from .policy._decision import Decision, decide, strictest
from .policy._jurisdiction import STRICTEST, Regime
from .policy._location import Location

if TYPE_CHECKING:
    from ._runtime import Gateway

_UNKNOWN_UA: Final = UserAgentInfo(device="other", browser_family="Other", is_bot=False)


@dataclass(frozen=True, slots=True)
class Preview:
    """An authenticated admin's "visit as": a place, a consent state and a GPC flag, never a visitor's own."""

    location: Location
    choice: Choice | None
    gpc: bool


class Visit:
    """What the gateway knows about the visitor of one request; every fact is computed on first use.

    ``visit.decision.allows("analytics")`` (or ``visit.allows("analytics")``), ``visit.location``,
    ``visit.regime``, ``visit.choice``.
    """

    __slots__ = (
        "gateway", "preview", "_peer", "_headers", "_scope", "_ip", "_location", "_regime", "_choice",
        "_choice_done", "_cookie", "_previous", "_found", "_degraded", "_decision", "_ua", "_gpc", "_language",
        "_asked", "_digest", "_entry",
    )  # fmt: skip

    def __init__(self, gateway: Gateway, scope: Mapping[str, Any], *, preview: Preview | None = None) -> None:
        self.gateway = gateway
        #: Set only for an authenticated admin preview: overrides location, consent state and GPC.
        self.preview = preview
        # What the visit reads of the request: its peer and headers. Not the scope itself: the scope holds
        # the visit, and a visit holding the scope would make every request a reference cycle.
        self._peer: Any = scope.get("client")
        self._headers: Sequence[tuple[bytes, bytes]] = scope.get("headers", ())
        self._scope: Mapping[str, Any] | None = None
        self._ip: str | None | bool = False  # False: not computed yet (None is an answer)
        self._location: Location | None = None
        self._regime: Regime | None = None
        self._choice: Choice | None = None
        self._choice_done = False
        #: The consent cookie's value as read (None: absent).
        self._cookie: str | None = None
        #: The policy revision of a validly signed cookie from another revision (read with the choice).
        self._previous: str | None = None
        #: What decides the address and the decision (see ``_materials``); False: not worked out yet.
        self._found: tuple[bytes, bytes] | None | bool = False
        #: Something failed on the way to a fact (and the strictest answer stood in): nothing is remembered.
        self._degraded = False
        self._decision: Decision | None = None
        self._ua: UserAgentInfo | None = None
        self._gpc: bool | None = None
        self._language: str | None = None
        #: Whether the decision cache was asked yet, and the digest to remember this visit's decision under.
        self._asked = False
        self._digest = b""
        #: What the decision cache keeps for this visit (found there, or just put there), else None.
        self._entry: Remembered | None = None

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
                materials = self._materials()
                if materials is None:
                    self._location = self.gateway.geo.lookup(self.client_ip)
                else:
                    # The walk through trusted proxies costs more than the lookup: a visitor seen before is
                    # found by what decides their address (the peer and the forwarding headers).
                    self._location = self.gateway.geo.lookup_via(materials[0], lambda: self.client_ip)
            except Exception:
                self.gateway.errors.error("geo", "cookiegate: geo lookup failed; strictest regime applies")
                self._degraded = True
                self._location = Location.unknown()
        return self._location

    def _materials(self) -> tuple[bytes, bytes] | None:
        """What decides the address (the peer and every forwarding header), and what decides the decision and
        the language (that and the Cookie, Sec-GPC, User-Agent and Accept-Language headers); see
        :func:`memo_materials`. None when the peer is not an address string."""
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
                gateway = self.gateway
                raw = read_cookie(self._headers, gateway.consent_cookie)
                if raw is None and gateway.legacy_consent_cookie is not None:
                    raw = read_cookie(self._headers, gateway.legacy_consent_cookie)
                self._cookie = raw
                self._choice, self._previous = gateway.codec.read(raw)
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
                self._ua = user_agent_info(header_value(self._headers, b"user-agent"))
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
                    is_bot=is_bot_user_agent(header_value(self._headers, b"user-agent")),
                    unclassified=self.gateway.config.unclassified,
                    vendor_categories=self.gateway.vendor_categories,
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

    @property
    def language(self) -> str | None:
        """The language the gateway speaks to this visitor in, once the banner has worked it out (else None)."""
        return self._language

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
        decision = self._decision = entry.decision
        if self._location is None:
            self._location = decision.location
        if self._regime is None:
            self._regime = decision.regime
        if not self._choice_done:
            self._choice, self._choice_done = decision.choice, True
        return decision

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
            return "h:" + hmac.new(key, addr.packed, "sha256").hexdigest()[:32]
        prefix = 24 if addr.version == 4 else 48
        return str(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))
