"""The snippet corpus as a site: one page per catalogue family, behind the gateway and, as the control, bare.

``/corpus/<family>`` goes through ``VisitAs(CookieGateMiddleware())`` with the demo defaults (CSP
report-only), like the demo; ``/ungated/corpus/<family>`` serves the same bytes around the gateway.
"""

from __future__ import annotations

from html import escape
from typing import Any, Final

from tests.snippet_corpus import SNIPPETS, corpus_by_family

UNGATED_PREFIX: Final = "/ungated"


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


def corpus_app_factory() -> Any:
    """The corpus site under uvicorn (``e2e.corpus_site:corpus_app_factory``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route
    from starlette.types import Receive, Scope, Send

    from cookiegate import Config, CookieGateMiddleware
    from cookiegate.demo.visit_as import VisitAs

    pages = {family: corpus_page(family) for family in corpus_by_family()}

    async def page(request: Request) -> Response:
        body = pages.get(request.path_params["family"])
        return HTMLResponse(body) if body is not None else Response(status_code=404)

    gated = VisitAs(CookieGateMiddleware(Starlette(routes=[Route("/corpus/{family}", page)]), config=Config.demo()))
    ungated = {f"{UNGATED_PREFIX}/corpus/{family}": HTMLResponse(body) for family, body in pages.items()}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        control = ungated.get(scope["path"]) if scope["type"] == "http" else None
        if control is not None:
            await control(scope, receive, send)
        else:
            await gated(scope, receive, send)

    return app
