"""Demo-only "visit as": let a visitor on this machine see the site as if they were in another region.

A browser on localhost has no location, so the demo would only ever show the strictest regime. ``VisitAs``
sits OUTSIDE the gateway and, for direct loopback visitors only, replaces ``scope["client"]`` with an address
of the chosen place from the demo geo ranges; the gateway then resolves it like any real address. A visitor
reaching the server from anywhere else (or through a proxy) can never choose their own region.
"""

from __future__ import annotations

import csv
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs

from starlette.requests import cookie_parser
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .._http import safe_next
from .._resources import demo_ranges_csv

#: The cookie that remembers the chosen place.
COOKIE_NAME: Final = "cookiegate_demo_place"
#: The switch endpoint, served by :class:`VisitAs` itself.
SWITCH_PATH: Final = "/demo/visit-as"
#: The scope key under which :class:`VisitAs` tells the site what it did (a :class:`VisitAsState`).
SCOPE_KEY: Final = "cookiegate_demo"
#: The ``place`` value that removes the override.
REAL_IP: Final = "real"

#: The places offered, in menu order: an ISO country code, or an ISO 3166-2 subdivision where the regime
#: depends on it.
PLACES: Final[tuple[tuple[str, str], ...]] = (
    ("FR", "France"),
    ("DE", "Germany"),
    ("GB", "United Kingdom"),
    ("CH", "Switzerland"),
    ("US-CA", "United States — California"),
    ("US-TX", "United States — Texas"),
    ("US-NY", "United States — New York"),
    ("CA-QC", "Canada — Quebec"),
    ("BR", "Brazil"),
    ("AU", "Australia"),
    ("JP", "Japan"),
)

# Headers that mean the TCP peer is a proxy relaying someone else: a loopback peer is then not the visitor.
_PROXY_HEADERS: Final = frozenset({b"x-forwarded-for", b"forwarded", b"x-real-ip"})


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitAsState:
    """What :class:`VisitAs` did for one request, for the site's "visit as" bar."""

    #: The place named by the cookie (validated), or ``None``.
    place: str | None
    #: True when ``scope["client"]`` was replaced by an address of ``place``.
    applied: bool
    #: The menu: ``(code, label)`` pairs, the "real IP" entry last.
    places: tuple[tuple[str, str], ...]

    @property
    def selected(self) -> str:
        """The menu value to pre-select."""
        return self.place or REAL_IP


def demo_ranges_path() -> Path:
    """Where ``demo-ranges.csv`` is: the wheel's package data, else the source tree's ``geo/`` folder."""
    path = demo_ranges_csv()
    if not path.is_file():
        raise FileNotFoundError(f"demo-ranges.csv not found (looked for {path} and the wheel's _geo/ copy)")
    return path


def load_place_addresses(path: Path | None = None) -> dict[str, str]:
    """Map each code of :data:`PLACES` to the first address of its first network in the demo ranges.

    A two-letter code matches the ``country`` column, a ``XX-YY`` code the ``subdivision`` column. Raises
    ``ValueError`` when a place has no row, so a broken data file fails at start-up, not per request.
    """
    source = path if path is not None else demo_ranges_path()
    with source.open(newline="", encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip() and not line.lstrip().startswith("#")]
    rows = list(csv.DictReader(lines))
    addresses: dict[str, str] = {}
    for code, _label in PLACES:
        column = "subdivision" if "-" in code else "country"
        row = next((r for r in rows if (r.get(column) or "").strip() == code), None)
        if row is None:
            raise ValueError(f"no network for demo place {code!r} in {source}")
        addresses[code] = str(ipaddress.ip_network(row["network"].strip()).network_address)
    return addresses


def is_direct_loopback(scope: Scope) -> bool:
    """True when the TCP peer is this machine and no proxy header says it relays someone else."""
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if not address.is_loopback:
        return False
    return not any(name.lower() in _PROXY_HEADERS for name, _value in scope.get("headers", ()))


def _cookie_header(scope: Scope) -> str:
    parts = [value.decode("latin-1") for name, value in scope.get("headers", ()) if name.lower() == b"cookie"]
    return "; ".join(parts)


class VisitAs:
    """Pure ASGI wrapper for the demo: ``VisitAs(app)``; place it outside ``CookieGateMiddleware``.

    Serves ``GET /demo/visit-as?place=FR&next=/path`` (sets or clears the :data:`COOKIE_NAME` cookie, then
    redirects to ``next`` when it is a same-origin path). For every other http/websocket request it passes a
    copy of the scope with :data:`SCOPE_KEY` set and, for direct loopback peers whose cookie names a known
    place, ``client`` replaced by that place's demo address (the port is kept).
    """

    def __init__(self, app: ASGIApp, *, ranges_path: Path | None = None) -> None:
        self.app = app
        # Loaded now so a missing or broken CSV stops the demo at start-up.
        self.addresses = load_place_addresses(ranges_path)
        self.places: tuple[tuple[str, str], ...] = (*PLACES, (REAL_IP, "Real IP (no override)"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope["path"] == SWITCH_PATH:
            await self._switch(scope)(scope, receive, send)
            return

        place = cookie_parser(_cookie_header(scope)).get(COOKIE_NAME)
        if place not in self.addresses:
            place = None  # unknown or tampered values are ignored, not trusted
        applied = place is not None and is_direct_loopback(scope)

        inner = dict(scope)  # a copy: the caller's scope is never mutated
        inner[SCOPE_KEY] = VisitAsState(place=place, applied=applied, places=self.places)
        if applied and place is not None:
            port = scope["client"][1] if scope.get("client") else 0
            inner["client"] = (self.addresses[place], port)
        await self.app(inner, receive, send)

    def _switch(self, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        place = (query.get("place") or [""])[0]
        target = safe_next((query.get("next") or [None])[0])
        if place != REAL_IP and place not in self.addresses:
            known = ", ".join((*self.addresses, REAL_IP))
            return PlainTextResponse(f"Unknown place. Choose one of: {known}.", status_code=400)
        response = RedirectResponse(target, status_code=303)
        if place == REAL_IP:
            response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
        else:
            # Strictly necessary for the demo: it only chooses which regime this machine is shown.
            response.set_cookie(COOKIE_NAME, place, path="/", httponly=True, samesite="lax")
        return response
