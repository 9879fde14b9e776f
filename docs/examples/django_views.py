"""Django: a view that reads the gateway's decision from the ASGI request's scope."""

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.urls import path

CHAT_WIDGET = '<script src="/static/js/chat.js" defer></script>'


def pricing(request: ASGIRequest) -> HttpResponse:
    # Under ASGI, Django's request keeps the scope the gateway filled in.
    decision = request.scope["cookiegate"].decision
    chat = CHAT_WIDGET if decision.allows("functional") else ""
    response = HttpResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Pricing</title></head>"
        f"<body><h1>Pricing</h1>{chat}</body></html>"
    )
    if decision.allows("analytics"):
        # The site's own A/B test cookie: set only for a visitor who allows analytics.
        response.set_cookie("kactuce_ab", "pricing-b", max_age=30 * 86400, samesite="Lax")
    return response


urlpatterns = [path("pricing", pricing)]
