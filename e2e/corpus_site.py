"""The snippet corpus as a site: one page per catalogue family, behind the gateway and, as the control, bare.

``/corpus/<family>`` goes through ``VisitAs(CookieGateMiddleware())`` with the demo defaults (CSP
report-only), like the demo; ``/ungated/corpus/<family>`` serves the same bytes around the gateway.
``/corpus/unclassified`` is the invented vendor's snippet (no catalogue knows it), and ``/unknown`` (whole) and
``/unknown/chunked`` (in 7-byte pieces) a page of elements that fetch from a host nobody classified; both have
their bare controls under ``/ungated`` too. The gateway has an admin token (:data:`ADMIN_TOKEN`) and writes its
decision log where ``COOKIEGATE_CORPUS_LOG`` says (else the demo's default).
"""

from __future__ import annotations

import os
from html import escape
from typing import Any, Final

from e2e.streaming import in_pieces
from tests.snippet_corpus import SNIPPETS, UNCLASSIFIED, corpus_by_family

UNGATED_PREFIX: Final = "/ungated"
#: The corpus gateway's admin token (the dashboard's data), and where its decision log goes.
ADMIN_TOKEN: Final = "cookiegate-e2e-corpus-admin-" + "a" * 16
LOG_ENV: Final = "COOKIEGATE_CORPUS_LOG"
#: The host nobody classified that :data:`UNKNOWN_PAGE` fetches from, one subdomain per element.
UNKNOWN_HOST: Final = "unknown-e2e.example"
#: Elements that make a browser fetch from a host nobody classified, each from its own subdomain.
UNKNOWN_ELEMENTS: Final[dict[str, str]] = {
    "img": f'<img alt="" width="1" height="1" src="https://img.{UNKNOWN_HOST}/p.gif">',
    "iframe": f'<iframe title="u" width="2" height="2" src="https://frame.{UNKNOWN_HOST}/embed"></iframe>',
    "stylesheet": f'<link rel="stylesheet" href="https://css.{UNKNOWN_HOST}/s.css">',
    "preload": f'<link rel="preload" as="image" href="https://preload.{UNKNOWN_HOST}/i.png">',
    "inline-loader": '<script>(function(d){var s=d.createElement("script");s.async=true;'
                     f's.src="https://loader.{UNKNOWN_HOST}/l.js";d.head.appendChild(s)}})(document);</script>',
}
#: Pieces this small split tags, attributes and the loader's text across body chunks.
UNKNOWN_CHUNK_BYTES: Final = 7


def corpus_page(family: str) -> bytes:
    """Every corpus snippet of ``family`` in one page, each in a section named after its file."""
    sections = "\n".join(
        f'<section data-snippet="{escape(s["file"])}">\n{(SNIPPETS / s["file"]).read_text("utf-8")}</section>'
        for s in corpus_by_family()[family]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Corpus: {escape(family)}</title></head>\n<body>\n<h1>{escape(family)}</h1>\n{sections}\n"
        '<p id="corpus-end">end</p>\n</body></html>\n'
    ).encode()


def unclassified_page() -> bytes:
    """The invented vendor's snippet as a page."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Corpus: unclassified</title></head>\n'
        f'<body>\n<section data-snippet="quillmetrics">\n{UNCLASSIFIED.read_text("utf-8")}</section>\n'
        '<p id="corpus-end">end</p>\n</body></html>\n'
    ).encode()


def unknown_page() -> bytes:
    """:data:`UNKNOWN_ELEMENTS` in one page (the links in the head, the rest in the body)."""
    links = "\n".join(UNKNOWN_ELEMENTS[k] for k in ("stylesheet", "preload"))
    body = "\n".join(f'<section data-element="{k}">{v}</section>' for k, v in UNKNOWN_ELEMENTS.items()
                     if k not in ("stylesheet", "preload"))
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Unknown hosts</title>\n{links}\n'
        f'</head>\n<body>\n<h1>Unknown hosts</h1>\n{body}\n<p id="unknown-end">end</p>\n</body></html>\n'
    ).encode()


def corpus_app_factory() -> Any:
    """The corpus site under uvicorn (``e2e.corpus_site:corpus_app_factory``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response, StreamingResponse
    from starlette.routing import Route
    from starlette.types import Receive, Scope, Send

    from cookiegate import Config, CookieGateMiddleware
    from cookiegate.demo.visit_as import VisitAs

    pages = {family: corpus_page(family) for family in corpus_by_family()}
    pages["unclassified"] = unclassified_page()
    unknown = unknown_page()

    async def page(request: Request) -> Response:
        body = pages.get(request.path_params["family"])
        return HTMLResponse(body) if body is not None else Response(status_code=404)

    async def unknown_whole(request: Request) -> Response:
        return HTMLResponse(unknown)

    async def unknown_chunked(request: Request) -> Response:
        return StreamingResponse(in_pieces(unknown, UNKNOWN_CHUNK_BYTES), media_type="text/html; charset=utf-8")

    log = os.environ.get(LOG_ENV)
    config = Config.demo(admin_token=ADMIN_TOKEN, **({"log_url": f"sqlite:///{log}"} if log else {}))
    routes = [Route("/corpus/{family}", page), Route("/unknown", unknown_whole),
              Route("/unknown/chunked", unknown_chunked)]
    gated = VisitAs(CookieGateMiddleware(Starlette(routes=routes), config=config))
    ungated = {f"{UNGATED_PREFIX}/corpus/{family}": HTMLResponse(body) for family, body in pages.items()}
    ungated[f"{UNGATED_PREFIX}/unknown"] = HTMLResponse(unknown)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        control = ungated.get(scope["path"]) if scope["type"] == "http" else None
        if control is not None:
            await control(scope, receive, send)
        else:
            await gated(scope, receive, send)

    return app
