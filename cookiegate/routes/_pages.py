"""The visitor's pages under the prefix: the settings page, the cookie statement, the language switch, assets."""

from __future__ import annotations

import urllib.parse
from typing import Final

from .._http import (
    BadRequest,
    build_set_cookie,
    header_value,
    query_next,
    read_body,
    refuse_declared_oversize,
    respond,
    safe_next,
)
from .._runtime import Gateway
from .._site_vendors import SiteUsage
from .._types import Receive, Scope, Send
from .._visit import Visit
from ..banner._renderer import LANGUAGE_COOKIE
from ._same_site import check_same_site

#: A language switch is two short fields.
_LANGUAGE_BODY_BYTES: Final = 4096


async def settings(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The choices, on a page of their own (works without JavaScript), with the vendors the site uses now."""
    visit = Visit(gateway, scope)
    await _refresh_usage(gateway)
    html = gateway.renderer.settings_page(visit, next_path=query_next(scope))
    await respond(
        send,
        200,
        html.encode(),
        b"text/html; charset=utf-8",
        [(b"cache-control", b"private, no-store"), (b"vary", b"Cookie, Sec-GPC, Accept-Language")],
        head=scope.get("method") == "HEAD",
    )


async def statement(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The cookie statement (``/cookies``): what the site uses, read afresh from the store."""
    visit = Visit(gateway, scope)
    usage = await _refresh_usage(gateway)
    html = gateway.renderer.statement_page(visit, next_path=query_next(scope), usage=usage)
    await respond(
        send,
        200,
        html.encode(),
        b"text/html; charset=utf-8",
        [(b"cache-control", b"private, no-cache"), (b"vary", b"Cookie, Sec-GPC, Accept-Language")],
        head=scope.get("method") == "HEAD",
    )


async def _refresh_usage(gateway: Gateway) -> SiteUsage:
    """What the site uses, read afresh: the pages that list it are asked for rarely, and must be current."""
    await gateway.startup()
    return await gateway.site_vendors.refresh(gateway.store if gateway.store_ready else None)


async def banner(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The banner as this visitor's decision shows it (what ``cookiegate.show()`` opens after a choice)."""
    visit = Visit(gateway, scope)
    await _refresh_usage(gateway)
    renderer = gateway.renderer
    html, _ = renderer.banner(
        visit.decision,
        next_path=query_next(scope),
        lang=renderer.language(visit),
        reconsent=visit.previous_revision is not None,
    )
    await respond(
        send,
        200,
        html.encode(),
        b"text/html; charset=utf-8",
        [(b"cache-control", b"private, no-store"), (b"vary", b"Cookie, Sec-GPC, Accept-Language")],
        head=scope.get("method") == "HEAD",
    )


async def asset(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The banner's CSS and JS, under content-hashed names (cached for good)."""
    found = gateway.renderer.assets.get(scope["path"][len(gateway.prefix) + len("assets/") :])
    if found is None:
        raise BadRequest(404, "not found")
    await respond(
        send,
        200,
        found[0],
        found[1].encode(),
        [(b"cache-control", b"public, max-age=31536000, immutable")],
        head=scope.get("method") == "HEAD",
    )


async def language(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The banner's language switcher, a POST form checked same-site like a choice: remember the language and
    go back to the page."""
    check_same_site(scope, gateway)
    refuse_declared_oversize(scope, _LANGUAGE_BODY_BYTES)
    body = await read_body(receive, _LANGUAGE_BODY_BYTES)
    media = (header_value(scope.get("headers", ()), b"content-type") or "").split(";", 1)[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise BadRequest(415, "send application/x-www-form-urlencoded")
    try:
        fields = dict(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=4))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest(400, "malformed form body") from None
    lang = fields.get("lang", "")
    if lang not in gateway.renderer.translations.languages:
        raise BadRequest(400, "unknown language")
    # A preference the visitor just asked for: strictly necessary, no consent needed; a year, like the choice.
    cfg = gateway.config
    cookie = build_set_cookie(
        LANGUAGE_COOKIE, lang, max_age=365 * 86400, domain=cfg.cookie_domain, secure=cfg.cookie_secure
    )
    await _back_to(send, safe_next(fields.get("next")), [(b"set-cookie", cookie.encode("latin-1"))])


async def language_link(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """A GET of the switcher (an old link, a prefetch, a page elsewhere): back to the page, nothing changed."""
    await _back_to(send, query_next(scope), [])


async def _back_to(send: Send, next_path: str, extra: list[tuple[bytes, bytes]]) -> None:
    await respond(
        send,
        303,
        b"",
        b"text/plain; charset=utf-8",
        [(b"location", next_path.encode("latin-1", "replace")), (b"cache-control", b"no-store"), *extra],
    )
