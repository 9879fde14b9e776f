"""Who is asking: client IP through trusted proxies, user-agent class, privacy signals (GPC, DNT).

Plain functions over an ASGI ``scope`` (or its ``headers`` list of lower-case ``(bytes, bytes)``
pairs); no I/O, no ASGI calls.

Client IP rules (modelled on uvicorn's ``middleware/proxy_headers.py``):

* The socket peer (``scope["client"][0]``) is the answer unless it is a trusted proxy. Headers from an
  untrusted peer are ignored entirely, so a spoofed ``X-Forwarded-For`` changes nothing.
* From a trusted peer, ``X-Forwarded-For`` is read (all occurrences, joined by commas). Only when there
  is no ``X-Forwarded-For`` at all is the RFC 7239 ``Forwarded`` header read (its ``for=`` parameters).
  ``X-Forwarded-For`` wins because it is what nginx, HAProxy, Envoy, Caddy, Traefik and the cloud load
  balancers append by default; if your proxy writes only ``Forwarded``, make it drop any incoming
  ``X-Forwarded-For`` (otherwise clients could choose their own address).
* The list is walked from the right (the entry added by the proxy nearest to us) to the first host that
  is not a trusted proxy. If every host is trusted, the leftmost one is the client.
* An entry that is not an IP address (garbage, ``unknown``, an obfuscated ``_hidden`` identifier, an
  empty item) stops the walk: the answer is the last host reached (a trusted proxy, or the peer).
* A header over 8 KiB or with more than 64 hops is ignored and the peer is used.
* Ports, brackets and IPv6 zone ids are stripped; IPv4-mapped IPv6 (``::ffff:a.b.c.d``, as reported by
  dual-stack sockets) becomes plain IPv4; the result is ``ipaddress``'s normalized text.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "MAX_FORWARDED_BYTES",
    "MAX_FORWARDED_HOPS",
    "MAX_USER_AGENT_CHARS",
    "TrustedProxies",
    "UserAgentInfo",
    "client_ip",
    "dnt_signal",
    "gpc_signal",
    "user_agent_info",
]

#: A forwarding header longer than this is ignored (no real proxy chain needs it; parsing it costs CPU).
MAX_FORWARDED_BYTES = 8192
#: A forwarding header with more entries than this is ignored.
MAX_FORWARDED_HOPS = 64
#: User-agent strings are cut to this length before parsing: ua-parser's regexes are slow on long
#: input (hundreds of ms for 100 KB), and random huge UAs would also defeat the parse cache.
MAX_USER_AGENT_CHARS = 512

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _unmap(address: _IPAddress) -> _IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The set of proxy addresses whose forwarding headers are believed.

    Entries are IP addresses (``"127.0.0.1"``, ``"::1"``) or networks (``"10.0.0.0/8"``); a single
    string is split on commas (``"127.0.0.1, 10.0.0.0/8"``). ``"*"`` is rejected: trusting every peer
    lets any visitor choose the address (and so the consent regime) they are judged by. If that is
    really intended, say so with ``"0.0.0.0/0"`` and ``"::/0"``. Invalid entries raise ``ValueError``
    at start-up rather than silently trusting nothing.
    """

    __slots__ = ("_networks",)

    def __init__(self, cidrs: Iterable[str]) -> None:
        items = cidrs.split(",") if isinstance(cidrs, str) else list(cidrs)
        networks: list[_IPNetwork] = []
        for item in items:
            text = item.strip()
            if text == "*":
                raise ValueError(
                    "trusted proxy '*' is not supported: list your proxies' addresses or networks "
                    "(use '0.0.0.0/0' and '::/0' if you really mean every peer)"
                )
            if not text:
                raise ValueError("empty trusted proxy entry")
            try:
                # strict: "10.0.0.1/8" is almost certainly a typo for a host or for "10.0.0.0/8".
                network = ipaddress.ip_network(text, strict=True)
            except ValueError as exc:
                raise ValueError(f"invalid trusted proxy {text!r}: {exc}") from None
            networks.append(network)
        self._networks: tuple[_IPNetwork, ...] = tuple(networks)

    def __contains__(self, host: object) -> bool:
        """True when ``host`` (an address string, port and zone allowed) is inside a trusted network."""
        if not isinstance(host, str):
            return False
        address = _parse_host(host)
        return address is not None and self._trusts(address)

    def _trusts(self, address: _IPAddress) -> bool:
        # ip_network.__contains__ is False across families, so v4 and v6 entries can be mixed freely.
        return any(address in network for network in self._networks)

    def __bool__(self) -> bool:
        return bool(self._networks)

    def __repr__(self) -> str:
        return f"TrustedProxies({[str(n) for n in self._networks]!r})"


def client_ip(scope: Mapping[str, Any], trusted: TrustedProxies) -> str | None:
    """The visitor's IP address as normalized text, or ``None`` when it is not known.

    ``None`` when ``scope["client"]`` is missing/``None`` or the peer is not an IP address (a Unix
    socket, a test client's placeholder name). See the module docstring for the proxy rules.
    """
    client = scope.get("client")
    if not client:
        return None
    peer_host = client[0]
    if not isinstance(peer_host, str):
        return None
    peer = _parse_host(peer_host)
    if peer is None:
        return None
    if not trusted._trusts(peer):
        return str(peer)
    header = _forwarding_header(scope.get("headers") or ())
    if header is None:
        return str(peer)
    kind, value = header
    if value is None:
        return str(peer)  # over MAX_FORWARDED_BYTES
    entries = _split_xff(value) if kind == "xff" else _split_forwarded(value)
    if len(entries) > MAX_FORWARDED_HOPS:
        return str(peer)
    result = peer
    for entry in reversed(entries):
        address = _parse_host(entry) if entry is not None else None
        if address is None:
            break
        result = address
        if not trusted._trusts(address):
            break
    return str(result)


# X-Forwarded-For first: see the module docstring for why.
_HEADER_PREFERENCE: tuple[tuple[bytes, Literal["xff", "forwarded"]], ...] = (
    (b"x-forwarded-for", "xff"),
    (b"forwarded", "forwarded"),
)


def _forwarding_header(
    headers: Iterable[tuple[bytes, bytes]],
) -> tuple[Literal["xff", "forwarded"], str | None] | None:
    """The header to walk: all X-Forwarded-For values, else all Forwarded values, else ``None``.

    The value is ``None`` when the chosen header's occurrences, joined by commas, exceed
    ``MAX_FORWARDED_BYTES``; values past the limit are not even kept.
    """
    found: dict[bytes, list[bytes]] = {b"x-forwarded-for": [], b"forwarded": []}
    sizes = dict.fromkeys(found, -1)  # -1: n values need n-1 joining commas
    for name, value in headers:
        lname = name.lower()
        values = found.get(lname)
        if values is None:
            continue
        sizes[lname] += len(value) + 1
        if sizes[lname] <= MAX_FORWARDED_BYTES:
            values.append(value)
    for name, kind in _HEADER_PREFERENCE:
        if sizes[name] >= 0:
            if sizes[name] > MAX_FORWARDED_BYTES:
                return kind, None
            # latin-1 maps every byte to one character: a lossless view of whatever was sent.
            return kind, ",".join(v.decode("latin-1") for v in found[name])
    return None


def _split_xff(value: str) -> list[str | None]:
    return [item.strip() for item in value.split(",")]


# One forwarded-pair: token "=" (token | quoted-string). Unquoted values are taken leniently (up to
# the next separator) because proxies often omit the quotes RFC 7239 requires around "[v6]:port".
_FORWARDED_PAIR = re.compile(
    r"""[ \t]*([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^;,"\s]*)[ \t]*""", re.ASCII
)
_QUOTED_PAIR = re.compile(r"\\(.)")


def _split_forwarded(value: str) -> list[str | None]:
    """The ``for=`` node of each forwarded-element, left to right; ``None`` for an unusable element.

    Unusable: a syntax error, no ``for=``, or a repeated ``for=``. Parsing continues after an error at
    the next comma so that only elements the walk actually reaches matter.
    """
    nodes: list[str | None] = []
    pos, end = 0, len(value)
    while True:
        node: str | None = None
        seen_for = ok = False
        while True:
            match = _FORWARDED_PAIR.match(value, pos)
            if match is None:
                break
            pos = match.end()
            if match.group(1).lower() == "for":
                if seen_for:
                    ok = False
                    break
                seen_for = ok = True
                raw = match.group(2)
                node = _QUOTED_PAIR.sub(r"\1", raw[1:-1]) if raw.startswith('"') else raw
            if pos < end and value[pos] == ";":
                pos += 1
                continue
            break
        if pos < end and value[pos] != ",":
            # Syntax error inside this element: skip to the next comma outside a quoted string.
            ok = False
            pos = _next_element(value, pos)
        nodes.append(node if ok and seen_for else None)
        if pos >= end:
            return nodes
        pos += 1  # the comma


def _next_element(value: str, pos: int) -> int:
    in_quote = escaped = False
    for i in range(pos, len(value)):
        char = value[i]
        if escaped:
            escaped = False
        elif char == "\\" and in_quote:
            escaped = True
        elif char == '"':
            in_quote = not in_quote
        elif char == "," and not in_quote:
            return i
    return len(value)


# 0-65535 only: an out-of-range port means the entry is garbage, and garbage stops the walk.
_PORT = re.compile(
    r"6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}|_[A-Za-z0-9._-]+", re.ASCII
)


def _parse_host(text: str) -> _IPAddress | None:
    """An address from ``1.2.3.4``, ``1.2.3.4:80``, ``[::1]``, ``[::1]:80``, ``::1``, ``fe80::1%eth0``.

    ``None`` for anything else, including RFC 7239's ``unknown`` and obfuscated ``_identifiers``.
    """
    text = text.strip()
    if not text:
        return None
    if text.startswith("["):
        close = text.find("]")
        if close == -1:
            return None
        host, rest = text[1:close], text[close + 1 :]
        if rest and not (rest[0] == ":" and _PORT.fullmatch(rest[1:])):
            return None
    elif text.count(":") == 1:
        host, port = text.split(":")
        if not _PORT.fullmatch(port):
            return None
    else:
        host = text
    # Zone ids name an interface on the proxy's host: meaningless here, and not part of the address.
    # "%25" is the URI-escaped form some proxies write.
    host = host.split("%", 1)[0]
    if not host.isascii():
        return None
    try:
        address = ip_from_text(host)
    except ValueError:
        return None
    return _unmap(address)


def ip_from_text(text: str) -> _IPAddress:
    """``ipaddress.ip_address(text)``, with dotted-quad IPv4 (most traffic) parsed by the C library.

    ``inet_pton`` accepts exactly the strict dotted quad ``ip_address`` does (four decimal parts of at most
    255, no leading zeros, nothing around them; a property test holds the two to the same answers) in a
    quarter of the time. Raises ``ValueError`` for anything that is not an address.
    """
    if ":" not in text:
        try:
            return ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, text))
        except OSError:
            raise ValueError(f"not an IPv4 address: {text!r}") from None
    return ipaddress.ip_address(text)


# -- user agent ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UserAgentInfo:
    """What the gateway needs from a User-Agent header.

    ``device`` is one of ``"mobile"``, ``"tablet"``, ``"desktop"``, ``"bot"``, ``"other"``;
    ``browser_family`` is ua-parser's family (``"Chrome"``, ``"Mobile Safari"``, ``"Googlebot"``,
    ``"Other"``).
    """

    device: str
    browser_family: str
    is_bot: bool


_UNKNOWN_UA = UserAgentInfo(device="other", browser_family="Other", is_bot=False)


# Crawler tokens, checked with one precompiled search instead of a full ``user-agents`` parse (hundreds of
# microseconds for every new string): the per-request decision only needs "is this a bot", and a flood of
# random User-Agents must not buy a full parse each. The full parse is kept for consent records.
_BOT_RE = re.compile(
    r"bot\b|bot/|bot;|crawl|spider|slurp|mediapartners|facebookexternalhit|facebookcatalog|embedly|"
    r"quora link preview|vkshare|w3c_validator|whatsapp/|skypeuripreview|bingpreview|yandex(?:bot|images)|"
    r"baiduspider|ia_archiver|petalbot|semrush|ahrefs|python-requests|python-urllib|go-http-client|"
    r"\bcurl/|\bwget/|libwww-perl|okhttp|apache-httpclient|feedfetcher|lighthouse|pagespeed|google-inspectiontool"
)  # matched against the lower-cased string: re.IGNORECASE makes this search four times slower


def is_bot_user_agent(ua: str | None) -> bool:
    """Cheap crawler check (a few microseconds for a new string, a dict lookup for a seen one), used for
    the per-request decision."""
    if not ua:
        return False
    return _is_bot(ua[:MAX_USER_AGENT_CHARS])


@functools.lru_cache(maxsize=4096)
def _is_bot(ua: str) -> bool:
    # A site's traffic repeats a few hundred User-Agents; a flood of new ones only costs the search.
    return _BOT_RE.search(ua.lower()) is not None


def user_agent_info(ua: str | None) -> UserAgentInfo:
    """Classify a User-Agent string (cached; the string is cut to ``MAX_USER_AGENT_CHARS`` first)."""
    if not ua:
        return _UNKNOWN_UA
    # Truncate before the cache so the cache key is bounded too.
    return _parse_user_agent(ua[:MAX_USER_AGENT_CHARS])


@functools.lru_cache(maxsize=2048)
def _parse_user_agent(ua: str) -> UserAgentInfo:
    # Imported here, where a consent record is written: its regex table takes longer to load than the whole
    # command line tool (see docs/performance.md).
    import user_agents

    parsed = user_agents.parse(ua)
    is_bot = bool(parsed.is_bot)
    if is_bot:
        device = "bot"
    elif parsed.is_tablet:
        device = "tablet"
    elif parsed.is_mobile:
        device = "mobile"
    elif parsed.is_pc:
        device = "desktop"
    else:
        device = "other"
    family = parsed.browser.family
    return UserAgentInfo(
        device=device, browser_family=family if isinstance(family, str) else "Other", is_bot=is_bot
    )


# -- privacy signals -------------------------------------------------------------------------------


def _has_flag(headers: Iterable[tuple[bytes, bytes]], header: bytes) -> bool:
    size = len(header)
    for name, value in headers:
        # A plain loop (asked on every page): the length first, so most names need no lower-cased copy.
        if len(name) == size and name.lower() == header and value.strip() == b"1":
            return True
    return False


def gpc_signal(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """True when the request carries Global Privacy Control (``Sec-GPC: 1``).

    ``headers`` is the ASGI ``scope["headers"]`` list of ``(bytes, bytes)`` pairs. Any occurrence with
    the value ``1`` counts: a duplicated header is the browser's doing, never an opt-back-in.
    """
    return _has_flag(headers, b"sec-gpc")


def dnt_signal(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """True when the request carries Do Not Track (``DNT: 1``); same rules as :func:`gpc_signal`."""
    return _has_flag(headers, b"dnt")
