"""What the site uses: its own tags, the vendors seen on its pages (kept in the store, shared, surviving
restarts) and the unclassified hosts; and the pages that list them, in the site's own look."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware
from cookiegate._config import ConfigError
from cookiegate._site_vendors import SiteVendors, site_usage
from cookiegate.policy._catalog import TagRegistry, Vendor
from cookiegate.store._base import CounterRow

from .helpers import IP, PAGE, client, make_config

HOTJAR = '<script src="https://static.hotjar.com/c/hotjar-1.js?sv=6"></script>'
ACME = Vendor(
    id="acme-chat", name="Acme chat", category="functional", purpose="Runs the chat.", hosts=("acme.example",)
)


def site(page: str = PAGE) -> Starlette:
    async def home(request: Request) -> Response:
        return HTMLResponse(page)

    return Starlette(routes=[Route("/", home)])


def test_usage_lists_declared_tags_seen_vendors_and_unclassified_hosts_in_category_order() -> None:
    registry = TagRegistry.builtin((ACME,))
    seen = {"hotjar": "2026-03-02", "unclassified:cdn.example": "2026-03-01", "-": "2026-03-02", "gone": "2026-01-01"}
    usage = site_usage(registry, (ACME,), seen)
    assert [(u.vendor.id, u.last_seen) for u in usage.vendors] == [("acme-chat", None), ("hotjar", "2026-03-02")]
    assert [(h.host, h.last_seen) for h in usage.hosts] == [("cdn.example", "2026-03-01")]
    assert [u.vendor.id for u in usage.in_category("analytics")] == ["hotjar"]


@pytest.mark.anyio
async def test_a_refresh_adds_the_counts_not_flushed_yet_and_changes_the_key_only_when_the_content_changes() -> None:
    pending: list[CounterRow] = []
    vendors = SiteVendors(TagRegistry.builtin(), (), lambda: pending)
    first = await vendors.refresh(None)
    assert first.vendors == () and (await vendors.refresh(None)).key == first.key
    pending.append(CounterRow("2026-03-05", "tag", "youtube", "FR", "FR", "blocked", 1))
    second = await vendors.refresh(None)
    assert [u.vendor.id for u in second.vendors] == ["youtube"] and second.key != first.key


@pytest.mark.anyio
async def test_vendors_seen_by_one_instance_are_listed_by_another_after_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    first = CookieGateMiddleware(site(PAGE.replace("</head>", HOTJAR + "</head>")), config=config)
    await first.gateway.startup()  # what a server's lifespan start does
    async with client(first, IP["FR"]) as c:
        await c.get("/")
    await first.gateway.shutdown()  # flushes the counters: the store now knows what was seen

    second = CookieGateMiddleware(site(), config=config)
    async with client(second, IP["DE"], headers={"accept-language": "en"}) as c:
        statement = html.unescape((await c.get("/cookiegate/cookies")).text)
    await second.gateway.shutdown()
    hotjar = statement[statement.index("<h3>Hotjar</h3>") :].split("</li>", 1)[0]
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\d">', hotjar)
    assert "<h3>Microsoft Clarity</h3>" not in statement  # in the catalogue, never on this site


@pytest.mark.anyio
async def test_an_unclassified_host_counted_is_named_as_such_on_the_statement(tmp_path: Path) -> None:
    app = CookieGateMiddleware(site(), config=make_config(tmp_path))
    app.gateway.counters.tags([("unclassified:cdn.thirdparty.example", False)], country="FR", regime="FR")
    async with client(app, IP["FR"], headers={"accept-language": "en"}) as c:
        statement = html.unescape((await c.get("/cookiegate/cookies")).text)
    await app.gateway.shutdown()
    assert 'Unclassified host <span class="cg-name">cdn.<wbr>thirdparty.<wbr>example</span>' in statement


def test_a_long_cookie_name_or_host_may_wrap_at_its_separators_and_nowhere_else() -> None:
    from cookiegate.banner._renderer import breakable

    assert breakable("_zdsession_talk_embeddables_service: Session") == (
        "_zdsession_<wbr>talk_<wbr>embeddables_<wbr>service: Session"
    )
    assert breakable("www.facebook.com/tr") == "www.<wbr>facebook.<wbr>com/<wbr>tr"
    assert breakable('<img src=x onerror="a">') == "&lt;img src=x onerror=&#34;a&#34;&gt;"  # still escaped


@pytest.mark.anyio
async def test_the_statement_and_settings_render_in_the_sites_look(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    # The operator's page wraps the gateway's pages in the site's header; their statement adds a line.
    (templates / "page.html").write_text(
        '<!doctype html><html lang="{{ lang }}"><head><title>{{ title }}</title><style>{{ banner_css }}</style>'
        '{% for href in page_stylesheets %}<link rel="stylesheet" href="{{ href }}">{% endfor %}{{ api_script }}'
        '</head><body><header class="site-header">Kactuce</header><main>{{ content }}</main>{{ control }}</body></html>'
    )
    (templates / "statement.html").write_text(
        '<h1>{{ t("cookie_statement") }}</h1><p id="ours">Questions: privacy@kactuce.example</p>'
        '{% for u in usage.vendors %}<p class="vendor">{{ u.vendor.name }}</p>{% endfor %}'
    )
    config = make_config(tmp_path, templates_dir=str(templates), page_stylesheets=("/static/site.css",))
    app = CookieGateMiddleware(site(), config=config)
    async with client(app, IP["FR"]) as c:
        await c.get("/")
        statement = (await c.get("/cookiegate/cookies")).text
        settings = (await c.get("/cookiegate/settings")).text
    await app.gateway.shutdown()
    for page in (statement, settings):
        assert '<header class="site-header">Kactuce</header>' in page
        assert '<link rel="stylesheet" href="/static/site.css">' in page
        assert "data-cookiegate-api" in page  # window.cookiegate
    assert '<p id="ours">' in statement and '<p class="vendor">YouTube embeds</p>' in statement
    assert 'id="cookiegate-settings-form"' in settings  # the bundled settings body, inside the site's page


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("templates_dir", "/nonexistent/templates", "templates_dir"),
        ("page_stylesheets", ("javascript:alert(1)",), "page_stylesheets"),
        ("page_stylesheets", ("//evil.example/x.css",), "page_stylesheets"),
        ("page_stylesheets", ('/x.css"><script>',), "page_stylesheets"),
        ("banner_position", "top", "banner_position"),
    ],
)
def test_config_refuses_a_bad_look(tmp_path: Path, key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_config(tmp_path, **{key: value})


@pytest.mark.anyio
@pytest.mark.parametrize("position", ["bottom", "corner"])
async def test_the_banner_sits_where_the_config_says(tmp_path: Path, position: str) -> None:
    app = CookieGateMiddleware(site(), config=make_config(tmp_path, banner_position=position))
    async with client(app, IP["FR"]) as c:
        page = (await c.get("/")).text
    await app.gateway.shutdown()
    assert f'data-position="{position}"' in page
