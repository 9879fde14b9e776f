"""Kactuce CRM+: a small marketing site carrying real, unmodified vendor tracking snippets.

The site knows nothing about consent. It pastes the vendors' official snippets like any marketing team
would, drops a server-side analytics cookie, and only *reads* ``scope["cookiegate"]`` to show what the
gateway decided. It also runs bare (without the gateway), which is how the tests check the snippets.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import anyio
import jinja2
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from cookiegate.demo.visit_as import SCOPE_KEY as VISIT_AS_SCOPE_KEY

from ..policy._categories import CATEGORIES

_HERE: Final = Path(__file__).resolve().parent
#: Jinja2 templates of the site, resolved from the package so it works installed from a wheel.
TEMPLATES_DIR: Final = _HERE / "templates"
#: First-party static files (CSS, JS, logo), served under ``/static``.
STATIC_DIR: Final = _HERE / "static"

#: Which vendor snippet templates each page carries (file names under :data:`TEMPLATES_DIR`).
BASE_SNIPPETS: Final[tuple[str, ...]] = (
    "vendor_gtm_head.html",
    "vendor_ga4.html",
    "vendor_meta_pixel.html",
    "vendor_hotjar.html",
    "vendor_gtm_body.html",
    "vendor_linkedin.html",
)
PAGE_SNIPPETS: Final[Mapping[str, tuple[str, ...]]] = {
    "/": (*BASE_SNIPPETS, "vendor_clarity.html"),
    "/pricing": (*BASE_SNIPPETS, "vendor_tiktok.html"),
    "/blog/launch": (*BASE_SNIPPETS, "embed_youtube.html", "embed_vimeo.html"),
    "/community": (*BASE_SNIPPETS, "embed_x_timeline.html", "embed_facebook_page.html"),
    "/privacy": BASE_SNIPPETS,
    "/stream": BASE_SNIPPETS,
}

#: Cookies the home page sets. ``_ga`` imitates a server-side Google Analytics integration on purpose:
#: the gateway must drop it from the response headers when analytics is refused.
SESSION_COOKIE: Final = "kactuce_session"
SERVER_SIDE_GA_COOKIE: Final = "_ga=GA1.1.123.456; Path=/; Max-Age=63072000"

_NAV: Final = (
    ("/", "Home"),
    ("/pricing", "Pricing"),
    ("/blog/launch", "Blog"),
    ("/community", "Community"),
    ("/privacy", "Privacy"),
)

_PLANS: Final = (
    {
        "name": "Starter",
        "price": "€12",
        "tagline": "For freelancers and tiny teams.",
        "features": ("1 pipeline", "Shared inbox", "Email support"),
        "featured": False,
    },
    {
        "name": "Growth",
        "price": "€29",
        "tagline": "For teams that sell every day.",
        "features": ("Unlimited pipelines", "Automations", "Chat and phone support"),
        "featured": True,
    },
    {
        "name": "Scale",
        "price": "€59",
        "tagline": "For companies with many teams.",
        "features": ("SSO and audit log", "Sandbox", "Dedicated success manager"),
        "featured": False,
    },
)

_FAQ: Final = (
    ("Can I try Kactuce CRM+ for free?", "Yes: every plan starts with 14 free days, no credit card needed."),
    ("Where is my data stored?", "In data centres in Paris and Frankfurt, encrypted at rest and in transit."),
    ("Can I change plans later?", "Any time. Upgrades apply at once; downgrades at the next billing date."),
    ("Do you offer discounts for non-profits?", "Yes, 50% off any plan. Write to hello@kactuce.com."),
)

_CHANGELOG: Final = (
    "3.0.2 — Pipeline board: faster drag and drop on large boards.",
    "3.0.1 — Shared inbox: threads from the same café chain now merge correctly.",
    "3.0.0 — New pipeline board, shared inbox and readable automations.",
)

# Where /stream cuts its bytes: (marker, offset inside the marker). Each cut lands where a naive rewriter
# breaks: inside a tracker tag name, inside an inline loader, inside <body>, inside a UTF-8 character.
_STREAM_CUTS: Final = (
    (b'<script async src="https://www.googletagmanager.com/gtag/js', 4),
    (b"https://connect.facebook.net/en_US/fbevents.js", 26),
    (b"<body>", 3),
    ("café".encode(), 4),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayView:
    """What the footer box shows about the gateway's decision for this request."""

    country: str | None
    subdivision: str | None
    city: str | None
    regime: str
    regime_key: str | None
    allowed: tuple[str, ...]
    gpc: bool


def gateway_view(scope: Mapping[str, Any]) -> GatewayView | None:
    """Read ``scope["cookiegate"]`` (the gateway's ``Decision``), or ``None`` when no gateway ran."""
    facts = _gateway_facts(scope)
    return None if facts is None else _view_of(facts)


def _view_of(facts: tuple[Any, ...]) -> GatewayView:
    return GatewayView(**dict(zip((field.name for field in fields(GatewayView)), facts, strict=True)))


@lru_cache(maxsize=64)
def _in_order(allowed: frozenset[str]) -> tuple[str, ...]:
    return tuple(c for c in CATEGORIES if c in allowed)


def _gateway_facts(scope: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """:class:`GatewayView`'s fields, in order, as a plain tuple (cheaper to build and hash)."""
    decision = scope.get("cookiegate")
    if decision is None:
        return None
    # Read by attribute name only: the site must not import the gateway (it also runs bare).
    location = getattr(decision, "location", None)
    regime = getattr(decision, "regime", None)
    allowed = frozenset(getattr(decision, "allowed", ()))
    return (
        getattr(location, "country", None),
        getattr(location, "subdivision", None),
        getattr(location, "city", None),
        str(getattr(regime, "name", "unknown")),
        getattr(regime, "key", None),
        _in_order(allowed),
        bool(getattr(decision, "gpc", False)),
    )


def _split_at_cuts(page: bytes) -> list[bytes]:
    cuts: set[int] = set()
    for marker, offset in _STREAM_CUTS:
        at = page.find(marker)
        if at < 0:
            raise RuntimeError(f"stream page lost its marker {marker!r}")
        cuts.add(at + offset)
    chunks: list[bytes] = []
    start = 0
    for cut in sorted(cuts):
        chunks.append(page[start:cut])
        start = cut
    chunks.append(page[start:])
    return chunks


def create_site() -> Starlette:
    """Build the Kactuce CRM+ marketing site (a plain Starlette app)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    box_template = env.get_template("gateway_box.html")

    # The footer box shows the visitor's decision, and there are few distinct boxes (place × regime ×
    # choices): each is rendered once, then reused as markup.
    @lru_cache(maxsize=256)
    def gateway_box(facts: tuple[Any, ...] | None) -> Markup:
        return Markup(box_template.render(gateway=None if facts is None else _view_of(facts)))

    def page_context(request: Request) -> dict[str, Any]:
        return {
            "nav": _NAV,
            "gateway_box": gateway_box(_gateway_facts(request.scope)),
            "visit_as": request.scope.get(VISIT_AS_SCOPE_KEY),
        }

    templates = Jinja2Templates(env=env, context_processors=[page_context])

    def page(template: str, **context: Any) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return templates.TemplateResponse(request, template, context)

        return endpoint

    async def home(request: Request) -> Response:
        response = templates.TemplateResponse(request, "home.html")
        if SESSION_COOKIE not in request.cookies:
            response.set_cookie(
                SESSION_COOKIE, secrets.token_urlsafe(16), path="/", httponly=True, samesite="lax"
            )
        # Written raw, as a server-side analytics integration would append it.
        response.headers.append("set-cookie", SERVER_SIDE_GA_COOKIE)
        return response

    async def stream(request: Request) -> Response:
        context = page_context(request) | {"request": request, "entries": _CHANGELOG}
        chunks = _split_at_cuts(env.get_template("stream.html").render(context).encode("utf-8"))

        async def body() -> AsyncIterator[bytes]:
            for chunk in chunks:
                yield chunk
                await anyio.sleep(0)  # let each chunk go out as its own message, as a slow renderer would

        return StreamingResponse(body(), media_type="text/html; charset=utf-8")

    async def api_status(request: Request) -> Response:
        view = gateway_view(request.scope)
        return JSONResponse(
            {"status": "ok", "site": "Kactuce CRM+", "gateway": asdict(view) if view is not None else None}
        )

    routes = [
        Route("/", home, name="home"),
        Route("/pricing", page("pricing.html", plans=_PLANS, faq=_FAQ), name="pricing"),
        Route("/blog/launch", page("blog_launch.html"), name="blog_launch"),
        Route("/community", page("community.html"), name="community"),
        Route("/privacy", page("privacy.html"), name="privacy"),
        Route("/stream", stream, name="stream"),
        Route("/api/status", api_status, name="api_status"),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    return Starlette(routes=routes)
