"""The demo app as the load test serves it: ``uvicorn --factory loadtest.app:create``.

Every worker must verify every other worker's cookies and write the same log, so the secret, the log
database and the spool come from the environment (``Config.demo()`` would give each worker its own key).
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp

from cookiegate import Config, CookieGateMiddleware
from cookiegate.demo import VisitAs, create_site


def create() -> ASGIApp:
    """Build the demo app from ``COOKIEGATE_LOAD_*`` variables (set by ``loadtest.run``)."""
    config = Config.demo(
        secret_keys=(os.environ["COOKIEGATE_LOAD_SECRET"],),
        log_url=os.environ["COOKIEGATE_LOAD_LOG_URL"],
        log_spool_dir=os.environ["COOKIEGATE_LOAD_SPOOL"],
    )
    gateway = CookieGateMiddleware(create_site(), config=config)
    store = gateway.gateway.store
    # A locked database should send records to the spool quickly instead of holding each POST for the
    # default five-second busy timeout: the load test wants to see the spool and the replay under load.
    backend = getattr(store, "backend", None)
    if backend is not None and hasattr(backend, "busy_timeout"):
        backend.busy_timeout = float(os.environ.get("COOKIEGATE_LOAD_BUSY_TIMEOUT", "0.2"))
    if hasattr(store, "retry_interval"):
        store.retry_interval = 0.2
    return VisitAs(gateway)
