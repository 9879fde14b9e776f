"""The Kactuce CRM+ demo site (run bare, without the gateway) and the demo-only "visit as" switch."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from cookiegate.demo.site import PAGE_SNIPPETS, TEMPLATES_DIR, create_site
from cookiegate.demo.visit_as import (
    COOKIE_NAME,
    PLACES,
    SCOPE_KEY,
    VisitAs,
    VisitAsState,
    demo_ranges_path,
    load_place_addresses,
    safe_next,
)

# --- The vendors' official snippets, written out independently of the templates -----------------------
# Only the account IDs differ from what the vendors' consoles hand out. The site must serve them byte for
# byte: the gateway has to recognise tags as real sites paste them, with no markup added for it.

GTM_HEAD = """<!-- Google Tag Manager -->
<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':
new Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],
j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src=
'https://www.googletagmanager.com/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);
})(window,document,'script','dataLayer','GTM-KACTUCE');</script>
<!-- End Google Tag Manager -->"""

GTM_BODY = """<!-- Google Tag Manager (noscript) -->
<noscript><iframe src="https://www.googletagmanager.com/ns.html?id=GTM-KACTUCE"
height="0" width="0" style="display:none;visibility:hidden"></iframe></noscript>
<!-- End Google Tag Manager (noscript) -->"""

GA4 = """<!-- Google tag (gtag.js) -->
<script async src="https://www.googletagmanager.com/gtag/js?id=G-KACTUCE01"></script>
<script>
  window.dataLayer = window.dataLayer || [];
  function gtag(){dataLayer.push(arguments);}
  gtag('js', new Date());

  gtag('config', 'G-KACTUCE01');
</script>"""

META_PIXEL = """<!-- Meta Pixel Code -->
<script>
!function(f,b,e,v,n,t,s)
{if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};
if(!f._fbq)f._fbq=n;n.push=n;n.loaded=!0;n.version='2.0';
n.queue=[];t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];
s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');
fbq('init', '1234567890');
fbq('track', 'PageView');
</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1"
/></noscript>
<!-- End Meta Pixel Code -->"""

LINKEDIN = """<script type="text/javascript">
_linkedin_partner_id = "1234567";
window._linkedin_data_partner_ids = window._linkedin_data_partner_ids || [];
window._linkedin_data_partner_ids.push(_linkedin_partner_id);
</script><script type="text/javascript">
(function(l) {
if (!l){window.lintrk = function(a,b){window.lintrk.q.push([a,b])};
window.lintrk.q=[]}
var s = document.getElementsByTagName("script")[0];
var b = document.createElement("script");
b.type = "text/javascript";b.async = true;
b.src = "https://snap.licdn.com/li.lms-analytics/insight.min.js";
s.parentNode.insertBefore(b, s);})(window.lintrk);
</script>
<noscript>
<img height="1" width="1" style="display:none;" alt="" src="https://px.ads.linkedin.com/collect/?pid=1234567&fmt=gif" />
</noscript>"""  # noqa: E501 - the vendor ships this long line

HOTJAR = """<!-- Hotjar Tracking Code for https://kactuce.com -->
<script>
    (function(h,o,t,j,a,r){
        h.hj=h.hj||function(){(h.hj.q=h.hj.q||[]).push(arguments)};
        h._hjSettings={hjid:3456789,hjsv:6};
        a=o.getElementsByTagName('head')[0];
        r=o.createElement('script');r.async=1;
        r.src=t+h._hjSettings.hjid+j+h._hjSettings.hjsv;
        a.appendChild(r);
    })(window,document,'https://static.hotjar.com/c/hotjar-','.js?sv=');
</script>"""

TIKTOK = """<!-- TikTok Pixel Code Start -->
<script>
!function (w, d, t) {
  w.TiktokAnalyticsObject=t;var ttq=w[t]=w[t]||[];ttq.methods=["page","track","identify","instances","debug","on","off","once","ready","alias","group","enableCookie","disableCookie","holdConsent","revokeConsent","grantConsent"],ttq.setAndDefer=function(t,e){t[e]=function(){t.push([e].concat(Array.prototype.slice.call(arguments,0)))}};for(var i=0;i<ttq.methods.length;i++)ttq.setAndDefer(ttq,ttq.methods[i]);ttq.instance=function(t){for(
var e=ttq._i[t]||[],n=0;n<ttq.methods.length;n++)ttq.setAndDefer(e,ttq.methods[n]);return e},ttq.load=function(e,n){var r="https://analytics.tiktok.com/i18n/pixel/events.js",o=n&&n.partner;ttq._i=ttq._i||{},ttq._i[e]=[],ttq._i[e]._u=r,ttq._t=ttq._t||{},ttq._t[e]=+new Date,ttq._o=ttq._o||{},ttq._o[e]=n||{};n=document.createElement("script")
;n.type="text/javascript",n.async=!0,n.src=r+"?sdkid="+e+"&lib="+t;e=document.getElementsByTagName("script")[0];e.parentNode.insertBefore(n,e)};


  ttq.load('CKACTUCE0123456789AB');
  ttq.page();
}(window, document, 'ttq');
</script>
<!-- TikTok Pixel Code End -->"""  # noqa: E501 - the vendor ships these long lines

CLARITY = """<script type="text/javascript">
    (function(c,l,a,r,i,t,y){
        c[a]=c[a]||function(){(c[a].q=c[a].q||[]).push(arguments)};
        t=l.createElement(r);t.async=1;t.src="https://www.clarity.ms/tag/"+i;
        y=l.getElementsByTagName(r)[0];y.parentNode.insertBefore(t,y);
    })(window, document, "clarity", "script", "kactuce01");
</script>"""

YOUTUBE = (
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/aqz-KE-bpKQ?si=kactuceLaunch01" '
    'title="YouTube video player" frameborder="0" allow="accelerometer; autoplay; clipboard-write; '
    'encrypted-media; gyroscope; picture-in-picture; web-share" '
    'referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>'
)

VIMEO = (
    '<div style="padding:56.25% 0 0 0;position:relative;"><iframe '
    'src="https://player.vimeo.com/video/76979871?badge=0&amp;autopause=0&amp;player_id=0&amp;app_id=58479" '
    'frameborder="0" allow="autoplay; fullscreen; picture-in-picture; clipboard-write; encrypted-media; '
    'web-share" referrerpolicy="strict-origin-when-cross-origin" '
    'style="position:absolute;top:0;left:0;width:100%;height:100%;" title="Kactuce CRM+ launch"></iframe>'
    '</div><script src="https://player.vimeo.com/api/player.js"></script>'
)

X_TIMELINE = (
    '<a class="twitter-timeline" href="https://twitter.com/kactuce?ref_src=twsrc%5Etfw">'
    "Tweets by kactuce</a> "
    '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
)

FACEBOOK_PAGE = (
    '<div id="fb-root"></div>\n'
    '<script async defer crossorigin="anonymous" '
    'src="https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v19.0" nonce="Kt7cE2qA"></script>\n'
    '<div class="fb-page" data-href="https://www.facebook.com/kactuce" data-tabs="timeline" data-width="" '
    'data-height="" data-small-header="false" data-adapt-container-width="true" data-hide-cover="false" '
    'data-show-facepile="true"><blockquote cite="https://www.facebook.com/kactuce" '
    'class="fb-xfbml-parse-ignore"><a href="https://www.facebook.com/kactuce">Kactuce CRM+</a>'
    "</blockquote></div>"
)

EVERY_PAGE = (GTM_HEAD, GTM_BODY, GA4, META_PIXEL, LINKEDIN, HOTJAR)
PAGES: dict[str, tuple[str, ...]] = {
    "/": (*EVERY_PAGE, CLARITY),
    "/pricing": (*EVERY_PAGE, TIKTOK),
    "/blog/launch": (*EVERY_PAGE, YOUTUBE, VIMEO),
    "/community": (*EVERY_PAGE, X_TIMELINE, FACEBOOK_PAGE),
    "/privacy": EVERY_PAGE,
}


def client_for(app: Any, peer: tuple[str, int] = ("127.0.0.1", 50123)) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=peer),
        base_url="http://kactuce.test",
        follow_redirects=False,
    )


# --- The site, bare ----------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(("path", "snippets"), PAGES.items(), ids=list(PAGES))
async def test_every_page_serves_the_official_vendor_snippets_unmodified(
    path: str, snippets: tuple[str, ...]
) -> None:
    async with client_for(create_site()) as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for snippet in snippets:
        assert snippet in response.text, f"{path} lost or altered: {snippet[:60]!r}"


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["/", "/pricing"])
async def test_page_specific_tags_stay_on_their_page(path: str) -> None:
    async with client_for(create_site()) as client:
        text = (await client.get(path)).text
    assert ("clarity.ms" in text) == (path == "/")
    assert ("analytics.tiktok.com" in text) == (path == "/pricing")


@pytest.mark.anyio
@pytest.mark.parametrize("path", list(PAGE_SNIPPETS))
async def test_page_snippets_table_names_templates_the_page_really_serves(path: str) -> None:
    # Other tests (gateway, e2e) use PAGE_SNIPPETS to know which tags a page carries; it must not drift.
    async with client_for(create_site()) as client:
        text = (await client.get(path)).text
    for name in PAGE_SNIPPETS[path]:
        assert (TEMPLATES_DIR / name).read_text(encoding="utf-8").rstrip("\n") in text


@pytest.mark.anyio
async def test_pages_have_a_language_and_working_first_party_assets() -> None:
    async with client_for(create_site()) as client:
        page = (await client.get("/")).text
        script = await client.get("/static/site.js")
        logo = await client.get("/static/logo.svg")
        css = await client.get("/static/site.css")
    assert '<html lang="en">' in page
    assert '<script src="/static/site.js"></script>' in page
    assert '<img src="/static/logo.svg"' in page
    assert script.status_code == logo.status_code == css.status_code == 200
    assert "menu-toggle" in script.text
    assert logo.headers["content-type"].startswith("image/svg+xml")
    # No external stylesheet or font: everything the layout needs is first-party.
    assert "fonts.googleapis.com" not in page and "fonts.googleapis.com" not in css.text


@pytest.mark.anyio
async def test_site_works_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    async with client_for(create_site()) as client:
        assert (await client.get("/pricing")).status_code == 200
        assert (await client.get("/static/site.css")).status_code == 200


@pytest.mark.anyio
async def test_privacy_page_states_the_policy_and_links_the_cookie_statement() -> None:
    async with client_for(create_site()) as client:
        text = (await client.get("/privacy")).text
    for statement in (
        "city and country",
        "cookies, pixels and web beacons",
        "Social-network widgets",
        "European Union or from Australia",
        "direct marketing unless you choose to allow it",
        "withdraw your consent at any time",
        "significant change",
        "ask for\nyour consent again",
        'href="/cookiegate/cookies"',
    ):
        assert statement in text


@pytest.mark.anyio
async def test_home_sets_a_session_cookie_and_a_server_side_analytics_cookie() -> None:
    async with client_for(create_site()) as client:
        response = await client.get("/")
        again = await client.get("/", headers={"cookie": "kactuce_session=abc"})
    cookies = response.headers.get_list("set-cookie")
    assert any(c.startswith("kactuce_session=") and "HttpOnly" in c for c in cookies)
    assert "_ga=GA1.1.123.456; Path=/; Max-Age=63072000" in cookies
    # An existing session is kept; the analytics cookie is (re)sent on every home page view.
    assert [c for c in again.headers.get_list("set-cookie") if c.startswith("kactuce_session=")] == []
    assert "_ga=GA1.1.123.456; Path=/; Max-Age=63072000" in again.headers.get_list("set-cookie")


@pytest.mark.anyio
async def test_without_the_gateway_the_footer_says_gateway_not_active() -> None:
    async with client_for(create_site()) as client:
        text = (await client.get("/privacy")).text
    assert "What cookiegate decided for this request" in text
    assert "gateway not active" in text


def with_decision(app: Any, decision: object) -> Any:
    """Stand in for the gateway: put a decision on the scope the way CookieGateMiddleware does."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "cookiegate": decision}, receive, send)

    return wrapper


def fake_decision(city: str = "Paris") -> SimpleNamespace:
    return SimpleNamespace(
        location=SimpleNamespace(country="FR", in_eu=True, subdivision="FR-IDF", city=city),
        regime=SimpleNamespace(name="opt-in", key="EU"),
        allowed=frozenset({"social", "necessary", "analytics"}),
        gpc=False,
    )


@pytest.mark.anyio
async def test_footer_shows_what_the_gateway_decided() -> None:
    async with client_for(with_decision(create_site(), fake_decision())) as client:
        text = (await client.get("/")).text
        status = (await client.get("/api/status")).json()
    assert "gateway not active" not in text
    assert 'data-regime="opt-in"' in text and 'data-country="FR"' in text
    assert "<dd>FR-IDF</dd>" in text and "<dd>Paris</dd>" in text and "opt-in (EU)" in text
    # Allowed categories are listed in the canonical order, whatever order the set iterates in.
    assert '<dd id="gateway-allowed">necessary, analytics, social</dd>' in text
    assert status["gateway"]["allowed"] == ["necessary", "analytics", "social"]
    assert status["gateway"]["regime"] == "opt-in"


@pytest.mark.anyio
async def test_footer_escapes_what_it_prints() -> None:
    async with client_for(with_decision(create_site(), fake_decision(city="<b>Paris</b>"))) as client:
        text = (await client.get("/")).text
    assert "&lt;b&gt;Paris&lt;/b&gt;" in text and "<b>Paris</b>" not in text


@pytest.mark.anyio
async def test_api_status_is_json_without_the_gateway() -> None:
    async with client_for(create_site()) as client:
        response = await client.get("/api/status")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ok", "site": "Kactuce CRM+", "gateway": None}


async def call_raw(app: Any, scope: Scope) -> list[Message]:
    """Drive an ASGI app with a hand-built scope; return every message it sends."""
    sent: list[Message] = []
    requested = False

    async def receive() -> Message:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        # Then behave like a client that stays connected: streaming responses wait here for a disconnect.
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def http_scope(
    path: str, *, client: tuple[str, int] | None = ("127.0.0.1", 50123), cookie: str = ""
) -> Scope:
    headers = [(b"host", b"kactuce.test")]
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": client,
        "server": ("kactuce.test", 80),
    }


@pytest.mark.anyio
async def test_stream_page_arrives_in_several_chunks_that_cut_tracker_tags() -> None:
    messages = await call_raw(create_site(), http_scope("/stream"))
    bodies = [m for m in messages if m["type"] == "http.response.body"]
    chunks = [m.get("body", b"") for m in bodies]
    assert sum(1 for m in bodies if m.get("more_body")) >= 3
    assert all("content-length" != name.lower() for name, _ in messages[0]["headers"])
    page = b"".join(chunks).decode("utf-8")
    for snippet in EVERY_PAGE:
        assert snippet in page
    # The cuts fall inside the tags the gateway has to recognise, not between them.
    for whole in (META_PIXEL.encode(), GA4.encode(), b"<body>", "café".encode()):
        assert b"".join(chunks).count(whole) >= 1
        assert not any(whole in chunk for chunk in chunks), whole[:40]
    # One chunk boundary splits a two-byte UTF-8 character.
    with pytest.raises(UnicodeDecodeError):
        for chunk in chunks:
            chunk.decode("utf-8")


# --- "Visit as" -------------------------------------------------------------------------------------


class Recorder:
    """A tiny inner app that remembers the scope it was called with."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})


# The first address of each place's network in geo/demo-ranges.csv.
@pytest.mark.anyio
@pytest.mark.parametrize(
    ("place", "address"),
    [
        ("FR", "85.0.1.0"),
        ("GB", "85.0.20.0"),
        ("US-CA", "72.0.1.0"),
        ("US-NY", "72.0.4.0"),
        ("CA-QC", "72.0.20.0"),
        ("BR", "177.0.1.0"),
        ("AU", "1.0.1.0"),
        ("JP", "1.0.2.0"),
    ],
)
async def test_loopback_visitor_with_a_place_cookie_is_seen_from_that_place(place: str, address: str) -> None:
    inner = Recorder()
    await call_raw(
        VisitAs(inner), http_scope("/", client=("127.0.0.1", 50123), cookie=f"{COOKIE_NAME}={place}")
    )
    assert inner.scopes[0]["client"] == (address, 50123)
    state = inner.scopes[0][SCOPE_KEY]
    assert isinstance(state, VisitAsState) and state.place == place and state.applied


@pytest.mark.anyio
@pytest.mark.parametrize("peer", ["::1", "::ffff:127.0.0.1", "127.0.0.2"])
async def test_every_form_of_loopback_counts_as_this_machine(peer: str) -> None:
    inner = Recorder()
    await call_raw(VisitAs(inner), http_scope("/", client=(peer, 1), cookie=f"{COOKIE_NAME}=DE"))
    assert inner.scopes[0]["client"] == ("85.0.2.0", 1)


@pytest.mark.anyio
async def test_websocket_from_loopback_is_also_placed() -> None:
    inner = Recorder()
    scope = {**http_scope("/ws", cookie=f"{COOKIE_NAME}=JP"), "type": "websocket"}
    await VisitAs(inner)(scope, call_raw_receive, call_raw_send)
    assert inner.scopes[0]["client"] == ("1.0.2.0", 50123)


async def call_raw_receive() -> Message:
    return {"type": "websocket.connect"}


async def call_raw_send(message: Message) -> None:
    return None


@pytest.mark.anyio
@pytest.mark.parametrize("peer", [("81.2.69.160", 4000), ("192.168.1.20", 4000), ("testclient", 4000), None])
async def test_visitor_not_on_this_machine_can_never_choose_a_region(peer: tuple[str, int] | None) -> None:
    inner = Recorder()
    await call_raw(VisitAs(inner), http_scope("/", client=peer, cookie=f"{COOKIE_NAME}=US-CA"))
    assert inner.scopes[0]["client"] == peer
    assert inner.scopes[0][SCOPE_KEY].applied is False


@pytest.mark.anyio
@pytest.mark.parametrize("header", [b"x-forwarded-for", b"forwarded", b"x-real-ip"])
async def test_loopback_peer_relaying_for_a_proxy_is_not_rewritten(header: bytes) -> None:
    # A reverse proxy on the same machine makes every visitor a loopback peer; they must not pick a region.
    inner = Recorder()
    scope = http_scope("/", cookie=f"{COOKIE_NAME}=FR")
    scope["headers"].append((header, b"203.0.113.9"))
    await call_raw(VisitAs(inner), scope)
    assert inner.scopes[0]["client"] == ("127.0.0.1", 50123)


@pytest.mark.anyio
@pytest.mark.parametrize("value", ["XX", "fr", "real", "85.0.1.1", ""])
async def test_unknown_place_cookie_is_ignored(value: str) -> None:
    inner = Recorder()
    await call_raw(VisitAs(inner), http_scope("/", cookie=f"{COOKIE_NAME}={value}"))
    assert inner.scopes[0]["client"] == ("127.0.0.1", 50123)
    assert inner.scopes[0][SCOPE_KEY].place is None


@pytest.mark.anyio
async def test_the_callers_scope_is_never_mutated() -> None:
    inner = Recorder()
    scope = http_scope("/", cookie=f"{COOKIE_NAME}=FR")
    before = dict(scope)
    await call_raw(VisitAs(inner), scope)
    assert scope == before
    assert inner.scopes[0] is not scope


@pytest.mark.anyio
async def test_lifespan_passes_through_untouched() -> None:
    inner = Recorder()
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    await VisitAs(inner)(scope, call_raw_receive, call_raw_send)
    assert inner.scopes == [scope]


@pytest.mark.anyio
async def test_switch_sets_the_place_cookie_and_redirects_back() -> None:
    async with client_for(VisitAs(Recorder())) as client:
        response = await client.get("/demo/visit-as", params={"place": "CA-QC", "next": "/pricing?x=1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/pricing?x=1"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=CA-QC;") and "Path=/" in cookie and "SameSite=lax" in cookie


@pytest.mark.anyio
async def test_switch_to_real_ip_removes_the_place_cookie() -> None:
    async with client_for(VisitAs(Recorder())) as client:
        response = await client.get("/demo/visit-as", params={"place": "real", "next": "/"})
    assert response.status_code == 303
    assert response.headers["set-cookie"].startswith(f'{COOKIE_NAME}="";')
    assert "Max-Age=0" in response.headers["set-cookie"]


@pytest.mark.anyio
@pytest.mark.parametrize("place", ["XX", "", "FR;evil=1", "<script>"])
async def test_switch_refuses_a_place_not_in_the_list(place: str) -> None:
    async with client_for(VisitAs(Recorder())) as client:
        response = await client.get("/demo/visit-as", params={"place": place})
    assert response.status_code == 400
    assert "set-cookie" not in response.headers


@pytest.mark.anyio
async def test_switch_answers_only_get() -> None:
    async with client_for(VisitAs(Recorder())) as client:
        response = await client.post("/demo/visit-as", params={"place": "FR"})
    assert response.status_code == 405


HOSTILE_NEXT = [
    "//evil.example",
    "https://evil.example",
    "https://evil.example/path",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "evil.example",
    "",
]


@pytest.mark.anyio
@pytest.mark.parametrize("target", HOSTILE_NEXT)
async def test_switch_never_redirects_off_site(target: str) -> None:
    async with client_for(VisitAs(Recorder())) as client:
        response = await client.get("/demo/visit-as", params={"place": "FR", "next": target})
    assert response.status_code == 303
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/pricing", "/pricing"),
        ("/blog/launch#video", "/blog/launch#video"),
        (None, "/"),
        *[(t, "/") for t in HOSTILE_NEXT],
    ],
)
def test_safe_next_keeps_only_same_origin_paths(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.mark.anyio
async def test_site_behind_visit_as_shows_the_switch_bar_with_the_current_place() -> None:
    async with client_for(VisitAs(create_site())) as client:
        text = (await client.get("/community", headers={"cookie": f"{COOKIE_NAME}=AU"})).text
    assert '<form method="get" action="/demo/visit-as" id="visit-as-form">' in text
    assert '<option value="AU" selected>Australia</option>' in text
    assert '<input type="hidden" name="next" value="/community">' in text
    for code, _label in PLACES:
        assert f'<option value="{code}"' in text
    assert '<option value="real">' in text


@pytest.mark.anyio
async def test_bare_site_shows_no_switch_bar() -> None:
    async with client_for(create_site()) as client:
        text = (await client.get("/")).text
    assert "/demo/visit-as" not in text


def test_demo_ranges_are_found_and_cover_every_place() -> None:
    assert demo_ranges_path().name == "demo-ranges.csv"
    assert set(load_place_addresses()) == {code for code, _ in PLACES}


def test_ranges_missing_a_place_stop_the_demo_at_start_up(tmp_path: Path) -> None:
    rows = [line for line in demo_ranges_path().read_text().splitlines() if ",JP," not in line]
    broken = tmp_path / "demo-ranges.csv"
    broken.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match="'JP'"):
        VisitAs(Recorder(), ranges_path=broken)


@pytest.mark.anyio
@pytest.mark.parametrize(("place", "country"), [("FR", "FR"), ("US-CA", "US"), ("JP", "JP")])
async def test_demo_app_shows_the_gateway_deciding_for_the_chosen_place(place: str, country: str) -> None:
    # The whole demo chain: VisitAs rewrites the client, the gateway locates it, the site prints the decision.
    from cookiegate import Config
    from cookiegate.demo import create_demo_app

    app = create_demo_app(Config.demo())
    async with client_for(app) as client:
        switched = await client.get("/demo/visit-as", params={"place": place, "next": "/pricing"})
        page = await client.get("/pricing", headers={"cookie": f"{COOKIE_NAME}={place}"})
    assert switched.status_code == 303 and switched.headers["location"] == "/pricing"
    assert page.status_code == 200
    assert f'data-country="{country}"' in page.text
    assert "gateway not active" not in page.text
