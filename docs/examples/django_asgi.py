"""Django: the project's asgi.py, with the gateway around Django's ASGI handler."""

import os

from django.core.asgi import get_asgi_application

from cookiegate import CookieGateMiddleware, load_config

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

# load_config(): --config is not there in a server, so $COOKIEGATE_CONFIG, else ./cookiegate.toml.
application = CookieGateMiddleware(get_asgi_application(), config=load_config())
