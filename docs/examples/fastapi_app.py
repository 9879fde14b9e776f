"""FastAPI: the visitor's decision as a dependency, so server-side tracking obeys the same choice."""

from typing import Annotated

from fastapi import Depends, FastAPI, Request

from cookiegate import Config, CookieGateMiddleware, Decision, load_config

#: Stands in for a server-side analytics client.
events: list[str] = []


def consent(request: Request) -> Decision:
    """The decision the gateway made for this request (the same one that gates the page)."""
    decision: Decision = request.scope["cookiegate"].decision
    return decision


Consent = Annotated[Decision, Depends(consent)]


def create_app(config: Config) -> FastAPI:
    app = FastAPI()
    app.add_middleware(CookieGateMiddleware, config=config)

    @app.post("/api/signup-started")
    async def signup_started(decision: Consent) -> dict[str, bool]:
        measured = decision.allows("analytics")
        if measured:
            events.append("signup-started")
        return {"measured": measured}

    return app


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(load_config("cookiegate.toml")))
