"""End-to-end harness: the demo under a real uvicorn, visited by a real Debian Chromium (Playwright).

One uvicorn subprocess and one browser per session; a new browser context (fresh cookies) per visitor.
Every request the browser makes to a host other than the demo server is recorded and answered locally
by the context's route, so nothing ever reaches the network and a test can say "no request of category
ads happened". Hosts and cookies are classified with the same tag registry the gateway uses.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Protocol
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    sync_playwright,
)

from cookiegate.cli._scan import CHROMIUM_ARGS as _SCAN_CHROMIUM_ARGS
from cookiegate.policy._categories import NECESSARY

if TYPE_CHECKING:
    from cookiegate.policy._catalog import TagRegistry

ROOT: Final = Path(__file__).resolve().parent.parent
ARTIFACTS: Final = Path(__file__).resolve().parent / "artifacts"

#: Hosts that are the demo server itself; everything else is "third party" and gets recorded + stubbed.
LOCAL_HOSTS: Final = frozenset({"127.0.0.1", "localhost"})
#: The demo's "visit as" cookie: the wrapper places loopback visitors where this cookie says.
PLACE_COOKIE: Final = "cookiegate_demo_place"
CONSENT_COOKIE: Final = "cookiegate_consent"
#: The categories that need a choice before anything of theirs may run in an opt-in regime.
TRACKING: Final = frozenset({"analytics", "ads", "social"})
#: Category given to a third-party request or cookie the registry does not know.
UNKNOWN: Final = "unknown"

# The same flags `cookiegate scan` launches Chromium with (one list, so the two cannot drift).
CHROMIUM_ARGS: Final = list(_SCAN_CHROMIUM_ARGS)

#: Default app: a function in this module, so the server needs nothing the suite does not control.
DEFAULT_FACTORY: Final = "e2e.conftest:demo_app_factory"
SERVER_START_TIMEOUT_S: Final = 60.0
#: How long :meth:`Visitor.check_harness` waits for an announced request to reach the route.
_SETTLE_SECONDS: Final = 5.0

# The smallest valid GIF (1x1, transparent): answers image requests so pixels "load".
GIF_1X1: Final = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
STUB_HTML: Final = "<!doctype html><title>cookiegate e2e stub</title><p>third-party frame stub</p>"

#: Cookies the stubbed vendor scripts set with document.cookie, like the real ones do on the first-party
#: site, so withdrawal has something to expire. Keyed by host suffix.
STUB_SCRIPT_COOKIES: Final[Mapping[str, str]] = {
    "googletagmanager.com": "_ga=GA1.1.1.1",
    "google-analytics.com": "_ga=GA1.1.1.1",
    "connect.facebook.net": "_fbp=fb.1.1.1",
}


def demo_app_factory() -> Any:
    """The app uvicorn serves (``--factory``): the cookiegate demo with its demo defaults."""
    from cookiegate import Config
    from cookiegate.demo import create_demo_app

    # A known key (instead of demo mode's ephemeral one) so a test can hold a cookie signed by this server
    # for an older policy revision: the re-consent scenario.
    secret = os.environ.get(E2E_SECRET_ENV)
    keys = {"secret_keys": (secret,)} if secret else {}
    return create_demo_app(Config.demo(log_url=own_log(), **keys))


def own_log() -> str:
    """A decision log of this server's own: the demo's default one is shared by every checkout on the machine,
    and one written by a newer cookiegate (a newer schema) cannot be opened by this one."""
    import tempfile

    return "sqlite:///" + tempfile.mkdtemp(prefix="cookiegate-e2e-") + "/log.db"


#: Signing key of the e2e servers (test-only; passed to the uvicorn subprocess through the environment).
E2E_SECRET: Final = "cookiegate-e2e-only-" + "k" * 32
E2E_SECRET_ENV: Final = "COOKIEGATE_E2E_SECRET"


#: Hostile variants of tracker tags, each named in its URL (``cgv=<name>``) so a leak names its variant.
#: Every one makes Chromium fetch a tracker URL unless the gateway neutralizes it; none is exotic for
#: a page assembled from pasted snippets, CMS output and minifiers.
HOSTILE_VARIANTS: Final[tuple[tuple[str, str], ...]] = (
    ("upper-case", '<SCRIPT SRC="https://connect.facebook.net/en_US/fbevents.js?cgv=upper-case"></SCRIPT>'),
    ("unquoted", "<script async src=https://www.googletagmanager.com/gtag/js?id=G-1&cgv=unquoted></script>"),
    ("single-quoted", "<script src='https://static.hotjar.com/c/hotjar-1.js?cgv=single-quoted'></script>"),
    ("newline-attrs", '<script\n  defer\n  src="https://snap.licdn.com/li.lms-analytics/insight.min.js'
                      '?cgv=newline-attrs"\n></script>'),
    ("entities", '<script src="https&#x3a;//connect&#46;facebook&#46;net/en_US/fbevents.js'
                 '?cgv=entities"></script>'),
    ("protocol-relative", '<img alt="" src="//www.facebook.com/tr?id=1&amp;cgv=protocol-relative">'),
    ("upper-host", '<script src="HTTPS://WWW.CLARITY.MS/tag/x?cgv=upper-host"></script>'),
    ("module", '<script type="module" src="https://connect.facebook.net/en_US/fbevents.js?cgv=module"></script>'),
    ("img", '<img alt="" width="1" height="1" src="https://www.facebook.com/tr?id=1&amp;cgv=img">'),
    ("srcset", '<img alt="" width="1" height="1" '
               'srcset="https://px.ads.linkedin.com/collect/?pid=1&amp;cgv=srcset 1x">'),
    ("picture-source", '<picture><source srcset="https://www.facebook.com/tr?id=1&amp;cgv=picture-source">'
                       '<img alt="" width="1" height="1" src="/cookiegate-e2e-missing.gif"></picture>'),
    ("input-image", '<input type="image" alt="go" src="https://www.facebook.com/tr?id=1&amp;cgv=input-image">'),
    ("video-poster", '<video width="2" height="2" '
                     'poster="https://www.facebook.com/tr?id=1&amp;cgv=video-poster"></video>'),
    ("audio", '<audio preload="auto" src="https://www.facebook.com/tr?id=1&amp;cgv=audio"></audio>'),
    ("svg-image", '<svg width="2" height="2">'
                  '<image href="https://www.facebook.com/tr?id=1&amp;cgv=svg-image"/></svg>'),
    ("preload", '<link rel="preload" as="script" '
                'href="https://connect.facebook.net/en_US/fbevents.js?cgv=preload">'),
    ("modulepreload", '<link rel="modulepreload" '
                      'href="https://connect.facebook.net/en_US/fbevents.js?cgv=modulepreload">'),
    ("stylesheet", '<link rel="stylesheet" href="https://www.clarity.ms/s.css?cgv=stylesheet">'),
    ("iframe", '<iframe title="v" src="https://www.youtube.com/embed/x?cgv=iframe"></iframe>'),
    ("srcdoc", '<iframe title="s" '
               'srcdoc="<img src=&quot;https://www.facebook.com/tr?id=1&amp;amp;cgv=srcdoc&quot;>"></iframe>'),
    ("object", '<object width="2" height="2" data="https://www.youtube.com/embed/x?cgv=object"></object>'),
    ("embed", '<embed width="2" height="2" src="https://www.youtube.com/embed/x?cgv=embed">'),
    ("inline-style", '<div style="width:2px;height:2px;'
                     'background-image:url(https://www.facebook.com/tr?id=1&amp;cgv=inline-style)"></div>'),
    ("style-block", '<style>.cgv-style{width:2px;height:2px;'
                    'background:url("https://www.facebook.com/tr?id=1&cgv=style-block")}</style>'
                    '<div class="cgv-style"></div>'),
    ("style-import", '<style>@import url("https://www.clarity.ms/i.css?cgv=style-import");</style>'),
    ("table-background", '<table background="https://www.facebook.com/tr?id=1&amp;cgv=table-background">'
                         '<tr><td>t</td></tr></table>'),
    ("minified-loader", '<script>!function(d){var s=d.createElement("script");s.async=!0;'
                        's.src="https://connect.facebook.net/en_US/fbevents.js?cgv=minified-loader";'
                        'd.head.appendChild(s)}(document);</script>'),
    ("escaped-slashes", '<script>(function(d){var s=d.createElement("script");'
                        's.src="https:\\/\\/static.hotjar.com\\/c\\/hotjar-1.js?cgv=escaped-slashes";'
                        'd.head.appendChild(s)})(document);</script>'),
    ("document-write", "<script>document.write('<scr'+'ipt src=\"https://snap.licdn.com/li.lms-analytics/"
                       "insight.min.js?cgv=document-write\"></scr'+'ipt>');</script>"),
    # Scripts and styles in foreign content, whose text the tokenizer reads in the data state: a CDATA section
    # or a comment hides the end tag, character references are decoded (issue 23, item 1).
    ("svg-cdata-script", '<svg width="2" height="2"><script><![CDATA[/*</script>*/]]>(function(d){var s='
                         'd.createElement("script");s.src="https://connect.facebook.net/en_US/fbevents.js?cgv=svg-cdata-script";'
                         'd.head.appendChild(s)})(document);</script></svg>'),
    ("svg-comment-script", '<svg width="2" height="2"><script><!--</script>-->(function(d){var s=d.createElement('
                           '"script");s.src="https://snap.licdn.com/li.lms-analytics/insight.min.js'
                           '?cgv=svg-comment-script";d.head.appendChild(s)})(document);</script></svg>'),
    ("svg-reference-script", '<svg width="2" height="2"><script>(function(d){var s=d.createElement(&quot;script&quot;);'
                             's.src=&quot;https:&#47;&#47;static&#46;hotjar&#46;com/c/hotjar-1.js'
                             '?cgv=svg-reference-script&quot;;d.head.appendChild(s)})(document);</script></svg>'),
    ("math-svg-script", '<math><mi><svg width="2" height="2"><script><![CDATA[/*</script>*/]]>(function(d){var s=d.'
                        'createElement("script");s.src="https://www.clarity.ms/tag/x?cgv=math-svg-script";'
                        'd.head.appendChild(s)})(document);</script></svg></mi></math>'),
    ("svg-style-cdata", '<svg width="2" height="2"><style><![CDATA[</style>]]>{}.cgv-svgstyle{width:2px;height:2px;'
                        'background:url(https://www.facebook.com/tr?id=1&cgv=svg-style-cdata)}</style></svg>'
                        '<div class="cgv-svgstyle"></div>'),
    # Hosts with code points UTS #46 ignores, raw, as a character reference, percent-encoded (issue 23, item 3).
    ("uts46-raw", '<img alt="" width="1" height="1" src="https://www.face\u2064book.com/tr?id=1&amp;cgv=uts46-raw">'),
    ("uts46-reference", '<img alt="" width="1" height="1" '
                        'src="https://www.face&#x180F;book.com/tr?id=1&amp;cgv=uts46-reference">'),
    ("uts46-percent", '<img alt="" width="1" height="1" '
                      'src="//www.face%E2%81%A4book.com/tr?id=1&amp;cgv=uts46-percent">'),
    ("uts46-astral", '<img alt="" width="1" height="1" '
                     'src="https://www.face\U0001bca0book.com/tr?id=1&amp;cgv=uts46-astral">'),
    ("analytics-js", "<script>(function(i,s,o,g,r,a,m){i['GoogleAnalyticsObject']=r;i[r]=i[r]||function(){"
                     "(i[r].q=i[r].q||[]).push(arguments)},i[r].l=1*new Date();a=s.createElement(o),"
                     "m=s.getElementsByTagName(o)[0];a.async=1;a.src=g;m.parentNode.insertBefore(a,m)})"
                     "(window,document,'script','https://www.google-analytics.com/analytics.js"
                     "?cgv=analytics-js','ga');ga('create','UA-1-1','auto');</script>"),
)  # fmt: skip
#: Variants that are scripts or script preloads: Chromium without JavaScript fetches none of them, gateway
#: or not (it refuses script preloads as if by CSP).
HOSTILE_SCRIPT_VARIANTS: Final = frozenset(
    name
    for name, html in HOSTILE_VARIANTS
    if html.lower().startswith("<script") or 'as="script"' in html or 'rel="modulepreload"' in html
    or name.endswith("-script")
)
#: Where :func:`hostile_app_factory` serves the page WITHOUT the gateway: the control that proves
#: Chromium really fetches every variant, so their absence behind the gateway means something.
UNGATED_HOSTILE_PATH: Final = "/ungated/hostile"

HOSTILE_PAGE: Final = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Hostile tags · é ü 漢字</title>\n'
    + "\n".join(html for name, html in HOSTILE_VARIANTS if name in ("preload", "modulepreload", "stylesheet"))
    + "\n</head>\n<body>\n<h1>Hostile tags</h1>\n"
    + "\n".join(
        f'<section data-variant="{name}">{html}</section>'
        for name, html in HOSTILE_VARIANTS
        if name not in ("preload", "modulepreload", "stylesheet")
    )
    + '\n<p id="hostile-end">end · ünïcödé · 漢字</p>\n</body></html>\n'
)
#: The streamed copy is cut into pieces this small, so tags, attributes, entities and multibyte
#: characters are split across body chunks.
HOSTILE_CHUNK_BYTES: Final = 7


def hostile_app_factory() -> Any:
    """:data:`HOSTILE_PAGE` behind the gateway with the demo defaults (CSP report-only)."""
    return _hostile_app()


def hostile_enforced_csp_app_factory() -> Any:
    """:data:`HOSTILE_PAGE` behind the gateway with the demo defaults but an enforced CSP."""
    return _hostile_app(csp_mode="enforce")


#: A Link header preloading a vendor's script and pixel (each marked with the ``cgv`` variant parameter).
HOSTILE_LINK_HEADER: Final = (
    "<https://www.googletagmanager.com/gtag/js?id=G-LINKHEADER&cgv=link-preload-script>; rel=preload; as=script, "
    "<https://www.facebook.com/tr?id=1&ev=PageView&cgv=link-preload-image>; rel=preload; as=image"
)


#: Pages of their own, each served gated at ``/hostile/page/NAME`` and ungated at ``UNGATED_HOSTILE_PATH +
#: "/page/NAME"``: (body, response headers). The tracker each one reaches is named in its URL (``cgv``).
HOSTILE_PAGES: Final[dict[str, tuple[str, tuple[tuple[str, str], ...]]]] = {
    # A body that ends inside a quoted attribute value (a visitor's comment cut short), then a page whose
    # tag has the same bytes up to its first ">" but ends further on, with a tracker (issue 23, item 4).
    "memo-poison": ('<!doctype html><html><body><p id="hostile-end">a comment: <img alt="a>', ()),
    "memo-poisoned": ('<!doctype html><html><body><p><img alt="a> " width="1" height="1" '
                      'src="https://www.facebook.com/tr?id=1&amp;cgv=memo-poisoned"></p>'
                      '<p id="hostile-end">end</p></body></html>', ()),
    # Refreshes whose delay is followed by whitespace, a tab or a spaced "URL =": a browser navigates
    # (https://html.spec.whatwg.org/multipage/semantics.html#shared-declarative-refresh-steps; item 2).
    "refresh-meta-space": ('<!doctype html><html><head><meta http-equiv="refresh" content="0 https://www.facebook.com'
                           '/tr?id=1&amp;cgv=refresh-meta-space"></head><body><p id="hostile-end">end</p>'
                           '</body></html>', ()),
    "refresh-meta-tab-url": ('<!doctype html><html><head><meta http-equiv="Refresh" content="0\tURL = \'https://www.'
                             'facebook.com/tr?id=1&amp;cgv=refresh-meta-tab-url\'"></head><body><p id="hostile-end">'
                             'end</p></body></html>', ()),
    "refresh-header-space": ('<!doctype html><html><body><p id="hostile-end">end</p></body></html>',
                             (("refresh", "0 https://www.facebook.com/tr?id=1&cgv=refresh-header-space"),)),
    # An iframe document first rewritten for a visitor who allows its tracker, then for one who does not.
    "memo-srcdoc": ('<!doctype html><html><body><iframe title="s" srcdoc="&lt;img src=&quot;'
                    'https://www.facebook.com/tr?id=1&amp;amp;cgv=memo-srcdoc&quot;&gt;"></iframe>'
                    '<p id="hostile-end">end</p></body></html>', ()),
}


def _hostile_app(**config_overrides: Any) -> Any:
    """``/hostile`` whole and ``/hostile/chunked`` in tiny pieces through ``VisitAs(CookieGateMiddleware())``
    like the demo; :data:`UNGATED_HOSTILE_PATH` serves the same bytes around the gateway (the control)."""
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import HTMLResponse, Response, StreamingResponse
    from starlette.routing import Route as StarletteRoute
    from starlette.types import Receive, Scope, Send

    from cookiegate import Config, CookieGateMiddleware
    from cookiegate.demo.visit_as import VisitAs
    from e2e.streaming import in_pieces

    body = HOSTILE_PAGE.encode("utf-8")

    async def whole(request: StarletteRequest) -> HTMLResponse:
        return HTMLResponse(body)

    async def chunked(request: StarletteRequest) -> StreamingResponse:
        return StreamingResponse(in_pieces(body, HOSTILE_CHUNK_BYTES), media_type="text/html; charset=utf-8")

    # The same page in UTF-16, which browsers read by its byte order mark or its Content-Type charset
    # (the page's own <meta charset> then does not count): whole with a little-endian mark and no charset,
    # and in pieces with no mark, the charset naming UTF-16 (little-endian, as the Encoding Standard says).
    utf16 = b"\xff\xfe" + HOSTILE_PAGE.encode("utf-16-le")
    utf16_bare = HOSTILE_PAGE.encode("utf-16-le")

    async def whole_utf16(request: StarletteRequest) -> HTMLResponse:
        return HTMLResponse(utf16, media_type="text/html")

    async def chunked_utf16(request: StarletteRequest) -> StreamingResponse:
        return StreamingResponse(in_pieces(utf16_bare, HOSTILE_CHUNK_BYTES),
                                 headers={"content-type": "text/html; charset=utf-16"})

    # The page with no Content-Type at all (an app that forgot it): browsers sniff it, and render it as HTML.
    async def sniffed(request: StarletteRequest) -> Response:
        return Response(body)

    # The page with Link headers that preload a vendor's script and pixel: the browser fetches those itself.
    async def linked(request: StarletteRequest) -> HTMLResponse:
        return HTMLResponse(body, headers={"link": HOSTILE_LINK_HEADER})

    async def page_of_its_own(request: StarletteRequest) -> HTMLResponse:
        page, headers = HOSTILE_PAGES[request.path_params["name"]]
        return HTMLResponse(page, headers=dict(headers))

    site = Starlette(routes=[StarletteRoute("/hostile", whole), StarletteRoute("/hostile/chunked", chunked),
                             StarletteRoute("/hostile/utf16", whole_utf16),
                             StarletteRoute("/hostile/utf16/chunked", chunked_utf16),
                             StarletteRoute("/hostile/sniffed", sniffed),
                             StarletteRoute("/hostile/linked", linked),
                             StarletteRoute("/hostile/page/{name}", page_of_its_own)])
    gated = VisitAs(CookieGateMiddleware(site, config=Config.demo(log_url=own_log(), **config_overrides)))
    # The controls: the same bytes and headers, served around the gateway.
    ungated: dict[str, Response] = {
        UNGATED_HOSTILE_PATH: HTMLResponse(body),
        UNGATED_HOSTILE_PATH + "/utf16": HTMLResponse(utf16, media_type="text/html"),
        UNGATED_HOSTILE_PATH + "/sniffed": Response(body),
        UNGATED_HOSTILE_PATH + "/linked": HTMLResponse(body, headers={"link": HOSTILE_LINK_HEADER}),
        **{f"{UNGATED_HOSTILE_PATH}/page/{name}": HTMLResponse(page, headers=dict(headers))
           for name, (page, headers) in HOSTILE_PAGES.items()},
    }

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        control = ungated.get(scope["path"]) if scope["type"] == "http" else None
        if control is not None:
            await control(scope, receive, send)
        else:
            await gated(scope, receive, send)  # lifespan included: the gateway starts and stops

    return app


# --------------------------------------------------------------------------------------------------
# Classification (the gateway's own registry, imported lazily so a missing piece fails one test loudly)


@functools.cache
def _registry() -> TagRegistry:
    # Imported here so a registry that is not built yet fails the tests that need it, loudly, and not
    # the uvicorn subprocess, which imports this module only for the app factory.
    from cookiegate.policy._catalog import TagRegistry

    return TagRegistry.builtin()


def category_for_url(url: str) -> tuple[str, str | None]:
    """(category, vendor id) of a third-party URL; ``("unknown", None)`` when the registry has no vendor."""
    vendor = _registry().vendor_for_url(url)
    if vendor is None:
        return UNKNOWN, None
    return str(vendor.category), str(vendor.id)


def category_for_cookie(name: str) -> str:
    """Category of a cookie name per the registry; our own consent/demo cookies are necessary."""
    if name in (CONSENT_COOKIE, PLACE_COOKIE):
        return NECESSARY
    category = _registry().category_for_cookie(name)
    return UNKNOWN if category is None else str(category)


def _host_matches(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)


# --------------------------------------------------------------------------------------------------
# Recording


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the browser made to a host that is not the demo server."""

    url: str
    host: str
    resource_type: str
    method: str
    category: str
    vendor: str | None
    #: The demo path the visitor was on (the last ``Visitor.goto``), for readable failures.
    during: str

    def __str__(self) -> str:
        kind = f"{self.resource_type} {self.method}"
        return f"[{self.category}/{self.vendor}] {kind} {self.url} (on {self.during})"


@dataclass(frozen=True, slots=True)
class SeenCookie:
    """One cookie in the browser context, classified."""

    name: str
    domain: str
    path: str
    category: str

    def __str__(self) -> str:
        return f"{self.name} [{self.category}] domain={self.domain} path={self.path}"


def _stub_response(route: Route, request: Request) -> None:
    """Answer a third-party request locally, shaped like what the browser expects for its type."""
    host = urlsplit(request.url).hostname or ""
    kind = request.resource_type
    cors = {"Access-Control-Allow-Origin": "*"}
    if kind == "script":
        lines = [f"/* cookiegate e2e stub for {host} */"]
        for suffix, cookie in STUB_SCRIPT_COOKIES.items():
            if _host_matches(host, suffix):
                lines.append(f'document.cookie = "{cookie}; path=/";')
        route.fulfill(status=200, content_type="application/javascript", body="\n".join(lines), headers=cors)
    elif kind == "image":
        route.fulfill(status=200, content_type="image/gif", body=GIF_1X1, headers=cors)
    elif kind == "document":
        route.fulfill(status=200, content_type="text/html", body=STUB_HTML)
    elif kind == "stylesheet":
        route.fulfill(status=200, content_type="text/css", body="", headers=cors)
    else:
        route.fulfill(status=200, content_type="text/plain", body="", headers=cors)


@dataclass
class Visitor:
    """A browser context placed somewhere, with every third-party request it made recorded."""

    context: BrowserContext
    page: Page
    base_url: str
    place: str | None
    requests: list[RecordedRequest] = field(default_factory=list)
    current_path: str = "(none)"
    harness_errors: list[str] = field(default_factory=list)
    #: Third-party requests Chromium refused itself (``requestfailed``: CSP, aborted navigations).
    blocked_by_browser: list[str] = field(default_factory=list)
    _routed: list[Request] = field(default_factory=list, repr=False)
    _announced: list[Request] = field(default_factory=list, repr=False)
    _failed: list[Request] = field(default_factory=list, repr=False)

    # -- navigation ---------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of a demo path."""
        return self.base_url + path

    def goto(self, path: str) -> Response:
        """Navigate to ``path`` and wait until the network has been idle, so late tags are counted."""
        self.current_path = path
        response = self.page.goto(self.url(path), wait_until="networkidle")
        self.check_harness()
        assert response is not None, f"no response for {path}"
        assert response.status == 200, f"GET {path} answered {response.status}"
        return response

    def reload(self) -> None:
        """Reload the current page and wait for network idle."""
        response = self.page.reload(wait_until="networkidle")
        self.check_harness()
        assert response is not None and response.status == 200, f"reload of {self.current_path} failed"

    def click_and_wait(self, target: Locator) -> Response:
        """Click something that navigates (a form button, a link) and wait for the new page's network idle.

        The response is the final one, after redirects; ``response.request.redirected_from`` is the
        request that was redirected (the consent POST answered 303).
        """
        with self.page.expect_navigation(wait_until="networkidle") as navigation:
            target.click()
        response = navigation.value
        self.current_path = urlsplit(self.page.url).path or "/"
        self.check_harness()
        assert response is not None, f"no response after clicking {target}"
        return response

    # -- what happened ------------------------------------------------------------------------------

    def mark(self) -> int:
        """A position in the request log; pass it to :meth:`requests_since`."""
        return len(self.requests)

    def requests_since(self, mark: int = 0) -> list[RecordedRequest]:
        """Third-party requests recorded after ``mark``."""
        self.check_harness()
        return self.requests[mark:]

    def requests_of(self, categories: frozenset[str] | set[str], mark: int = 0) -> list[RecordedRequest]:
        """Third-party requests after ``mark`` whose category is one of ``categories``."""
        self.check_harness()
        return [r for r in self.requests[mark:] if r.category in categories]

    def cookies(self) -> list[SeenCookie]:
        """Every cookie of the context, classified by the registry."""
        return [
            SeenCookie(
                name=c.get("name", ""),
                domain=c.get("domain", ""),
                path=c.get("path", ""),
                category=category_for_cookie(c.get("name", "")),
            )
            for c in self.context.cookies()
        ]

    def cookies_of(self, categories: frozenset[str] | set[str]) -> list[SeenCookie]:
        """Cookies of the context whose category is one of ``categories``."""
        return [c for c in self.cookies() if c.category in categories]

    def has_cookie(self, name: str) -> bool:
        """True when the context holds a cookie called ``name``."""
        return any(c.name == name for c in self.cookies())

    def consent_state(self) -> dict[str, Any]:
        """``GET /cookiegate/consent`` with this visitor's cookies and headers: the gateway's decision."""
        response = self.context.request.get(self.url("/cookiegate/consent"))
        assert response.ok, f"GET /cookiegate/consent answered {response.status}"
        data = response.json()
        assert isinstance(data, dict), f"consent state is not an object: {data!r}"
        return data

    def describe(self) -> str:
        """Readable dump of everything recorded, for assertion messages and artifacts."""
        lines = [f"visitor place={self.place} url={self.page.url}", "third-party requests:"]
        lines += [f"  {r}" for r in self.requests] or ["  (none)"]
        lines.append("third-party requests the browser refused itself:")
        lines += [f"  {b}" for b in self.blocked_by_browser] or ["  (none)"]
        lines.append("cookies:")
        lines += [f"  {c}" for c in self.cookies()] or ["  (none)"]
        return "\n".join(lines)

    # -- wiring -------------------------------------------------------------------------------------

    # Recording happens where a request would leave the browser: the route. A request Chromium refuses
    # itself (an enforced CSP) raises the "request" event but never reaches the route, so it is not a
    # leak. The "request"/"requestfailed" events are kept only to prove nothing slipped past the route.

    def _route(self, route: Route, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
            return
        try:
            self._routed.append(request)
            self._record(request, host)
            _stub_response(route, request)
        except Exception as exc:  # noqa: BLE001 - never let a third-party request through or hang
            self.harness_errors.append(f"recording or stubbing {request.url}: {exc!r}")
            route.abort()

    def _record(self, request: Request, host: str) -> None:
        category, vendor = category_for_url(request.url)
        self.requests.append(
            RecordedRequest(
                url=request.url,
                host=host,
                resource_type=request.resource_type,
                method=request.method,
                category=category,
                vendor=vendor,
                during=self.current_path,
            )
        )

    def _on_request(self, request: Request) -> None:
        if _is_third_party(request.url):
            self._announced.append(request)

    def _on_request_failed(self, request: Request) -> None:
        if _is_third_party(request.url):
            self._failed.append(request)
            self.blocked_by_browser.append(f"{request.url} ({request.failure})")

    def _unrouted(self) -> list[str]:
        routed = {id(r) for r in self._routed} | {id(r) for r in self._failed}
        return [r.url for r in self._announced if id(r) not in routed]

    def check_harness(self) -> None:
        """Fail loudly if recording or stubbing broke (e.g. the tag registry could not be built), or if
        the browser announced a third-party request that neither reached the route nor failed."""
        assert not self.harness_errors, "e2e harness errors:\n" + "\n".join(self.harness_errors)
        # The "request" event can be dispatched before the route handler of the same request (an iframe
        # that a click just created, while the page itself is already idle). Pump Playwright's event loop
        # until every announced request has reached the route or failed, for a bounded time.
        deadline = time.monotonic() + _SETTLE_SECONDS
        while self._unrouted() and time.monotonic() < deadline and not self.page.is_closed():
            self.page.wait_for_timeout(25)
        unrouted = self._unrouted()
        assert not unrouted, "third-party requests that bypassed the recording route:\n" + "\n".join(unrouted)


def _is_third_party(url: str) -> bool:
    """True for an http(s)/ws(s) URL whose host is not the demo server (data:, blob:, about: stay local)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https", "ws", "wss") and (parts.hostname or "") not in LOCAL_HOSTS


def format_requests(requests: Sequence[RecordedRequest]) -> str:
    """One request per line, for assertion messages."""
    return "\n".join(f"  {r}" for r in requests) or "  (none)"


def format_cookies(cookies: Sequence[SeenCookie]) -> str:
    """One cookie per line, for assertion messages."""
    return "\n".join(f"  {c}" for c in cookies) or "  (none)"


# --------------------------------------------------------------------------------------------------
# Server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _log_tail(log: IO[str]) -> str:
    log.flush()
    log.seek(0)
    return log.read()[-4000:]


def _wait_until_answering(proc: subprocess.Popen[bytes], base_url: str, log: IO[str]) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    last_error = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited with {proc.returncode} before answering:\n{_log_tail(log)}")
        try:
            with urllib.request.urlopen(base_url + "/", timeout=2) as response:
                response.read()
                return
        except urllib.error.HTTPError as exc:
            exc.close()
            return  # it answered, even if not 200: the tests will say what is wrong with the page
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            last_error = repr(exc)
        time.sleep(0.1)
    raise RuntimeError(f"uvicorn did not answer {base_url} ({last_error}):\n{_log_tail(log)}")


@contextlib.contextmanager
def serve(factory: str) -> Iterator[str]:
    """Run ``uvicorn <factory> --factory`` on 127.0.0.1 and a free port; yield its base URL; stop it."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "uvicorn", factory, "--factory",
        "--app-dir", str(ROOT),
        "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with tempfile.TemporaryFile("w+", encoding="utf-8", prefix="cookiegate-e2e-uvicorn") as log:
        env = {**os.environ, E2E_SECRET_ENV: E2E_SECRET}
        proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_until_answering(proc, base_url, log)
            yield base_url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Base URL of the demo served by a real uvicorn subprocess (killed at session end).

    ``COOKIEGATE_E2E_FACTORY`` (``module:function``) serves another app factory instead of the demo.
    """
    with serve(os.environ.get("COOKIEGATE_E2E_FACTORY", DEFAULT_FACTORY)) as url:
        yield url


@pytest.fixture(scope="session")
def hostile_server_url() -> Iterator[str]:
    """Base URL of :func:`hostile_app_factory` under its own uvicorn (started only if a test needs it)."""
    with serve("e2e.conftest:hostile_app_factory") as url:
        yield url


@pytest.fixture(scope="session")
def hostile_enforced_csp_server_url() -> Iterator[str]:
    """Base URL of :func:`hostile_enforced_csp_app_factory` under its own uvicorn."""
    with serve("e2e.conftest:hostile_enforced_csp_app_factory") as url:
        yield url


# --------------------------------------------------------------------------------------------------
# Browser


def chromium_executable() -> str:
    """The Chromium to drive: ``$COOKIEGATE_CHROMIUM`` or Debian's ``/usr/bin/chromium``."""
    return os.environ.get("COOKIEGATE_CHROMIUM", "/usr/bin/chromium")


def _require_chromium(path: str) -> None:
    """Fail (CI, and by default) or skip (only when asked) when the browser is missing — never pass."""
    resolved = shutil.which(path) if os.sep not in path else (path if os.access(path, os.X_OK) else None)
    if resolved is not None:
        return
    message = (
        f"Chromium not found or not executable at {path!r}. Install Debian's chromium "
        "(apt-get install chromium) or point COOKIEGATE_CHROMIUM at a Chromium binary; "
        "`playwright install` is not used by this suite."
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI is set: e2e tests must run.)", pytrace=False)
    if os.environ.get("COOKIEGATE_E2E_SKIP_MISSING") == "1":
        pytest.skip(message + " (COOKIEGATE_E2E_SKIP_MISSING=1)")
    pytest.fail(message + " Set COOKIEGATE_E2E_SKIP_MISSING=1 to skip the e2e suite locally.", pytrace=False)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    """The Playwright driver for the session."""
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole session."""
    path = chromium_executable()
    _require_chromium(path)
    browser = playwright_instance.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


_PHASE_REPORTS: Final = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item so fixtures can tell a failed test at teardown."""
    report = yield
    item.stash.setdefault(_PHASE_REPORTS, {})[report.when] = report
    return report


class NewVisitor(Protocol):
    """Signature of the :func:`new_visitor` fixture's factory."""

    def __call__(
        self,
        place: str | None,
        *,
        headers: dict[str, str] | None = None,
        javascript: bool = True,
        server: str | None = None,
    ) -> Visitor: ...


@pytest.fixture
def new_visitor(browser: Browser, server_url: str, request: pytest.FixtureRequest) -> Iterator[NewVisitor]:
    """Factory of visitors: ``new_visitor("FR", headers={...}, javascript=False, server=url)``.

    Each visitor is a fresh browser context (no cookies) with the demo place cookie set, a route that
    stubs every third-party request and a recorder. On failure a screenshot and the request log of
    every visitor are written to ``e2e/artifacts/``.
    """
    visitors: list[Visitor] = []

    def make(
        place: str | None,
        *,
        headers: dict[str, str] | None = None,
        javascript: bool = True,
        server: str | None = None,
    ) -> Visitor:
        base_url = server or server_url
        context = browser.new_context(
            java_script_enabled=javascript,
            extra_http_headers=headers,
            service_workers="block",  # a worker's fetches would bypass page-level accounting
        )
        if place is not None:
            context.add_cookies([{"name": PLACE_COOKIE, "value": place, "url": base_url + "/"}])
        page = context.new_page()
        visitor = Visitor(context=context, page=page, base_url=base_url, place=place)
        context.on("request", visitor._on_request)
        context.on("requestfailed", visitor._on_request_failed)
        context.route("**/*", visitor._route)
        visitors.append(visitor)
        return visitor

    yield make

    reports = request.node.stash.get(_PHASE_REPORTS, {})
    failed = any(r.failed for r in reports.values())
    for index, visitor in enumerate(visitors):
        if failed:
            _save_artifacts(request.node.name, index, visitor)
        visitor.context.close()


def _save_artifacts(test_name: str, index: int, visitor: Visitor) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / f"{test_name}-{index}"
    try:
        visitor.page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
    except Exception as exc:  # noqa: BLE001 - a broken page must not hide the real failure
        stem.with_suffix(".png.error").write_text(repr(exc), encoding="utf-8")
    try:
        stem.with_suffix(".txt").write_text(visitor.describe(), encoding="utf-8")
    except Exception as exc:  # noqa: BLE001
        stem.with_suffix(".txt").write_text(f"could not describe visitor: {exc!r}", encoding="utf-8")
