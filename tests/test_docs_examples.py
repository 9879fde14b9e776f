"""The embedding page's examples (docs/examples/) run against the real gateway, as the page shows them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from cookiegate._resources import bundled_demo_database

from .helpers import IP, KEY, ORIGIN, client, make_config

pytestmark = pytest.mark.anyio

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
ACCEPT_ALL = {"action": "accept_all"}


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"cookiegate_docs_example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_starlette_template_renders_the_own_analytics_script_only_once_analytics_is_allowed(
    tmp_path: Path,
) -> None:
    app = load_example("starlette_app").create_app(make_config(tmp_path))
    async with client(app, IP["FR"]) as c:
        first = await c.get("/")
        await c.post("/cookiegate/consent", data=ACCEPT_ALL, headers=ORIGIN)
        after = await c.get("/")
    assert "Consent rules where you are: opt-in" in first.text
    assert "own-analytics.js" not in first.text and "cookiegate-banner" in first.text
    assert "own-analytics.js" in after.text


async def test_starlette_template_sees_the_notice_regime_default(tmp_path: Path) -> None:
    app = load_example("starlette_app").create_app(make_config(tmp_path))
    async with client(app, IP["JP"]) as c:
        page = await c.get("/")
    assert "Consent rules where you are: notice" in page.text and "own-analytics.js" in page.text


async def test_fastapi_dependency_measures_only_after_the_visitor_allows_analytics(tmp_path: Path) -> None:
    example = load_example("fastapi_app")
    app = example.create_app(make_config(tmp_path))
    async with client(app, IP["DE"]) as c:
        before = (await c.post("/api/signup-started")).json()
        await c.post("/cookiegate/consent", data=ACCEPT_ALL, headers=ORIGIN)
        after = (await c.post("/api/signup-started")).json()
    assert before == {"measured": False} and after == {"measured": True}
    assert example.events == ["signup-started"]


async def test_fastapi_dependency_follows_gpc_in_an_opt_out_state(tmp_path: Path) -> None:
    app = load_example("fastapi_app").create_app(make_config(tmp_path))
    async with client(app, IP["US-CA"]) as c:
        # Analytics is on by default in the US opt-out regime; GPC refuses ads and social, not analytics.
        answer = (await c.post("/api/signup-started", headers={"sec-gpc": "1"})).json()
    assert answer == {"measured": True}


_DJANGO_RUN = """
import asyncio, json, sys
sys.path.insert(0, sys.argv[1])
from django.conf import settings
settings.configure(ROOT_URLCONF="django_views", ALLOWED_HOSTS=["testserver"], SECRET_KEY="docs-example-" + "x" * 40,
                   MIDDLEWARE=[], INSTALLED_APPS=[], USE_TZ=True, DEBUG=False)
import httpx
import django_asgi

async def visit(ip, accept):
    transport = httpx.ASGITransport(app=django_asgi.application, client=(ip, 51000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        if accept:
            await c.post("/cookiegate/consent", data={"action": "accept_all"}, headers={"origin": "http://testserver"})
        r = await c.get("/pricing")
    cookies = [h.split("=")[0] for h in r.headers.get_list("set-cookie")]
    return {"status": r.status_code, "chat": "/static/js/chat.js" in r.text, "ab_cookie": "kactuce_ab" in cookies,
            "banner": "cookiegate-banner" in r.text}

async def main():
    print(json.dumps({"first": await visit(sys.argv[2], False), "accepted": await visit(sys.argv[2], True)}))

asyncio.run(main())
"""


def test_django_view_shows_the_chat_and_sets_its_ab_cookie_only_with_consent(tmp_path: Path) -> None:
    # A subprocess: Django's settings are process-wide, and tests/test_frameworks.py configures its own.
    config = tmp_path / "cookiegate.toml"
    config.write_text(
        f'secret_keys = ["{KEY}"]\ngeoip_database = "{bundled_demo_database()}"\n'
        f'log_url = "sqlite:///{tmp_path / "log.db"}"\ncookie_secure = false\n',
        "utf-8",
    )
    env = {**os.environ, "COOKIEGATE_CONFIG": str(config)}
    env.pop("COOKIEGATE_SECRET_KEYS", None)
    done = subprocess.run(
        [sys.executable, "-c", _DJANGO_RUN, str(EXAMPLES), IP["FR"]],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["first"] == {"status": 200, "chat": False, "ab_cookie": False, "banner": True}
    assert result["accepted"] == {"status": 200, "chat": True, "ab_cookie": True, "banner": False}
