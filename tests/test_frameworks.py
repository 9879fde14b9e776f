"""The gateway in front of FastAPI and Django's ASGI handler, not only Starlette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from cookiegate import CookieGateMiddleware

from .helpers import IP, ORIGIN, PAGE, client, fetches, make_config

pytestmark = pytest.mark.anyio


async def test_fastapi_app_behind_the_gateway(tmp_path: Path) -> None:
    api = FastAPI()

    @api.get("/", response_class=HTMLResponse)
    async def home() -> str:
        return PAGE

    @api.get("/decision")
    async def decision(request: Request) -> dict[str, Any]:
        return {"analytics": request.scope["cookiegate"].decision.allows("analytics")}

    api.add_middleware(CookieGateMiddleware, config=make_config(tmp_path))
    async with client(api, IP["FR"]) as c:
        page = await c.get("/")
        before = (await c.get("/decision")).json()
        await c.post("/cookiegate/consent", data={"action": "accept_all"}, headers=ORIGIN)
        after = (await c.get("/decision")).json()
    assert "cookiegate-banner" in page.text and not fetches(page.text, "www.googletagmanager.com")
    assert before == {"analytics": False} and after == {"analytics": True}


def _django_app() -> Any:
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="django-test-" + "x" * 40,
            ROOT_URLCONF=__name__,
            ALLOWED_HOSTS=["testserver"],
            MIDDLEWARE=[],
            INSTALLED_APPS=[],
            USE_TZ=True,
        )
        django.setup()
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


def _django_view(request: Any) -> Any:
    from django.http import HttpResponse

    response = HttpResponse(PAGE, content_type="text/html; charset=utf-8")
    response.set_cookie("_ga", "GA1.1.1.1")
    response.set_cookie("csrftoken", "t")
    return response


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("", _django_view)]


def __getattr__(name: str) -> Any:
    # Django imports ROOT_URLCONF lazily and reads ``urlpatterns`` from this module.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


async def test_django_asgi_app_behind_the_gateway(tmp_path: Path) -> None:
    app = CookieGateMiddleware(_django_app(), config=make_config(tmp_path))
    async with client(app, IP["DE"]) as c:
        r = await c.get("/")
    assert r.status_code == 200
    assert "cookiegate-banner" in r.text and not fetches(r.text, "www.googletagmanager.com")
    names = [h.split("=")[0] for h in r.headers.get_list("set-cookie")]
    assert "csrftoken" in names and "_ga" not in names
    # Django leaves the framing to the server (no Content-Length): the rewritten page is framed the same way,
    # its headers having left before the body was rewritten (no stale length either way).
    async with client(_django_app(), IP["DE"]) as c:
        bare = await c.get("/")
    assert "content-length" not in bare.headers and "content-length" not in r.headers
