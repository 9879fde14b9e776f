"""Starlette: the gateway as middleware, and a Jinja template that reads the visitor's decision."""

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from cookiegate import Config, CookieGateMiddleware, load_config

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


async def home(request: Request) -> Response:
    # The template reads request.scope["cookiegate"] itself (templates/home.html).
    return templates.TemplateResponse(request, "home.html")


def create_app(config: Config) -> Starlette:
    return Starlette(
        routes=[Route("/", home)],
        middleware=[Middleware(CookieGateMiddleware, config=config)],
    )


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(load_config("cookiegate.toml")))
