"""Unclassified third parties in the rewriter (issue 19): every reference the gateway reads whose host is neither
the site's own nor claimed by a vendor is neutralized as a refused vendor's would be, unless the visitor's
permissions let unclassified third parties load; inline scripts count when they request such a URL."""

from __future__ import annotations

import re

import pytest

from cookiegate.policy._site import SiteHosts
from cookiegate.rewrite import TagEvent
from tests.helpers import fetches
from tests.snippet_corpus import UNCLASSIFIED
from tests.test_rewrite import EVERY_CATEGORY, TableClassifier, make, run

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

X = "cdn.invented.example"
SITE = SiteHosts.of("kactuce.com", ["https://static.kactuce-cdn.net"])


def ev(host: str = X, fired: bool = False) -> TagEvent:
    return TagEvent(None, "unclassified", fired, host)


def _blocked(name: str, rest: str) -> bytes:
    return f"<{name} data-cookiegate-blocked=unclassified{rest}".encode()


# (id, input, expected output) for a visitor who refuses unclassified third parties.
REFERENCES = [
    ("img_src", f'<img src="https://{X}/p.gif" alt="">',
     _blocked("img", f' data-cookiegate-src="https://{X}/p.gif" alt="">')),
    ("iframe", f'<iframe src="//{X}/embed"></iframe>',
     _blocked("iframe", f' data-cookiegate-src="//{X}/embed"></iframe>')),
    ("stylesheet", f'<link rel=stylesheet href="https://{X}/a.css">',
     _blocked("link", f' rel=stylesheet data-cookiegate-href="https://{X}/a.css">')),
    ("preload", f'<link rel=preload as=script href="https://{X}/a.js">',
     _blocked("link", f' rel=preload as=script data-cookiegate-href="https://{X}/a.js">')),
    ("script_src", f'<script async src="https://{X}/a.js"></script>',
     f'<script type=text/plain data-cookiegate-blocked=unclassified async data-cookiegate-src="https://{X}/a.js">'
     "</script>".encode()),
    ("srcset", f'<img src="/a.png" srcset="/a.png 1x, https://{X}/b.png 2x">',
     _blocked("img", f' data-cookiegate-src="/a.png" data-cookiegate-srcset="/a.png 1x, https://{X}/b.png 2x">')),
    ("object_data", f'<object data="https://{X}/o"></object>', _blocked("object", f' data-cookiegate-data="https://{X}/o"></object>')),
    ("video_poster", f'<video poster="https://{X}/p.jpg"></video>',
     _blocked("video", f' data-cookiegate-poster="https://{X}/p.jpg"></video>')),
    ("imagesrcset", f'<link rel=preload as=image imagesrcset="https://{X}/i.png 2x">',
     _blocked("link", f' rel=preload as=image data-cookiegate-imagesrcset="https://{X}/i.png 2x">')),
    ("style_attribute", f'<div style="background:url(https://{X}/bg.png)">',
     _blocked("div", f' data-cookiegate-style="background:url(https://{X}/bg.png)">')),
    ("meta_refresh", f'<meta http-equiv=refresh content="0; url=https://{X}/go">',
     _blocked("meta", f' http-equiv=refresh data-cookiegate-content="0; url=https://{X}/go">')),
    ("inline_loader",
     f'<script>var s=document.createElement("script");s.src="https://{X}/qm.js";document.head.append(s)</script>',
     f'<script type=text/plain data-cookiegate-blocked=unclassified>var s=document.createElement("script");'
     f's.src="https://{X}/qm.js";document.head.append(s)</script>'.encode()),
    ("style_element", f"<style>.a{{background:url(https://{X}/bg.png)}}</style>",
     b"<style>.a{background:url(data:,)}</style>"),
]


@pytest.mark.parametrize(("doc", "expected"), [c[1:] for c in REFERENCES], ids=[c[0] for c in REFERENCES])
def test_an_unclassified_reference_is_neutralized_like_a_refused_vendors(doc: str, expected: bytes) -> None:
    # "Accept all" where consent is asked: every category, and still no unclassified third party.
    out, events = run(doc.encode(), allowed=EVERY_CATEGORY, unclassified=False)
    assert out == expected
    assert events == [ev()]


@pytest.mark.parametrize("doc", [c[1] for c in REFERENCES], ids=[c[0] for c in REFERENCES])
def test_an_unclassified_reference_loads_where_its_permissions_let_it(doc: str) -> None:
    out, events = run(doc.encode(), unclassified=True)
    assert out == doc.encode()
    assert events == [ev(fired=True)]


def test_every_reference_stays_blocked_whatever_the_chunking() -> None:
    doc = "".join(c[1] for c in REFERENCES).encode()
    whole = run(doc, unclassified=False)
    assert whole[1] == [ev()] * len(REFERENCES)
    assert run(doc, unclassified=False, chunks=list(range(7, len(doc), 7))) == whole
    for cut in range(1, len(doc), 3):
        assert run(doc, unclassified=False, chunks=[cut]) == whole, cut


@pytest.mark.parametrize("url", [
    "/static/a.png",
    "https://kactuce.com/a.png",
    "https://www.kactuce.com/a.png",
    "//eu.media.kactuce.com/a.png",
    "https://static.kactuce-cdn.net/a.png",
    "https://shop.example.org/a.png",  # the request's own host
    "data:image/gif;base64,R0lGODlhAQABAAAAACw=",
    "javascript:void(0)",
])
def test_the_sites_own_hosts_the_requests_host_and_hostless_urls_are_first_party(url: str) -> None:
    doc = f'<img src="{url}"><link rel=stylesheet href="{url}">'.encode()
    rewriter = make(TableClassifier(), site=SITE, host="shop.example.org")
    assert rewriter.feed(doc) + rewriter.finish() == doc
    assert rewriter.events == []


@pytest.mark.parametrize("url", [
    "https://kactuce.com.evil.example/a.png",
    "https://x.static.kactuce-cdn.net/a.png",
    "https://example.org/a.png",  # the request's parent domain is not the request's host
    "https://[::1]/a.png",
])
def test_hosts_that_only_look_like_the_sites_are_third_parties(url: str) -> None:
    rewriter = make(TableClassifier(), site=SITE, host="shop.example.org")
    rewriter.feed(f'<img src="{url}">'.encode())
    rewriter.finish()
    assert [(e.category, e.fired) for e in rewriter.events] == [("unclassified", False)]


def test_a_vendors_url_is_the_vendors_even_on_the_sites_own_host() -> None:
    # The registry first: a site's copy of a vendor's tag is that vendor's, wherever it is served from.
    out, events = run(b'<script src="https://www.google-analytics.com/x.js"></script>', unclassified=True)
    assert [e.vendor_id for e in events] == ["google-analytics"] and b"data-cookiegate-src" in out


def test_a_tag_reaching_a_refused_vendor_and_an_unclassified_host_is_the_vendors() -> None:
    doc = f'<img src="https://www.facebook.com/tr?id=1" srcset="https://{X}/a.png 2x">'.encode()
    assert [e.key for e in run(doc)[1]] == ["meta-pixel"]
    # The vendor allowed, the unclassified host refused: blocked for the host.
    out, events = run(doc, allowed=EVERY_CATEGORY, unclassified=False)
    assert events == [ev()] and b"data-cookiegate-srcset" in out
    assert run(doc, allowed=EVERY_CATEGORY, unclassified=True)[1] == [TagEvent("meta-pixel", "ads", True)]


def test_the_sites_markup_classifies_an_unclassified_host() -> None:
    doc = f'<img data-cookiegate="analytics" src="https://{X}/p.gif">'.encode()
    out, events = run(doc, allowed=("analytics",), unclassified=False)
    assert out == doc and [(e.key, e.fired) for e in events] == [("explicit:analytics", True)]


def test_links_that_only_name_a_page_are_not_fetches() -> None:
    doc = (f'<link rel=canonical href="https://{X}/"><link rel="alternate" hreflang=de href="https://{X}/de/">'
           f'<a href="https://{X}/x">x</a><link rel="alternate stylesheet" href="https://{X}/alt.css">').encode()
    out, events = run(doc)
    assert events == [ev()]
    assert out.endswith(f'<link data-cookiegate-blocked=unclassified rel="alternate stylesheet" '
                        f'data-cookiegate-href="https://{X}/alt.css">'.encode())


def test_an_unclassified_embed_gets_no_placeholder_no_consent_would_load_it() -> None:
    boxes: list[tuple[str | None, str]] = []

    def placeholder(vendor: object, category: str) -> bytes:
        boxes.append((None, category))
        return b"<div>box</div>"

    doc = f'<iframe src="https://{X}/e"></iframe><iframe src="https://www.youtube.com/embed/x"></iframe>'.encode()
    out, _ = run(doc, placeholder=placeholder)
    assert boxes == [(None, "social")] and out.count(b"<div>box</div>") == 1


def test_an_iframe_srcdoc_with_an_unclassified_reference_is_neutralized() -> None:
    doc = f'<iframe srcdoc="<img src=&quot;https://{X}/p.gif&quot;>"></iframe>'.encode()
    out, events = run(doc)
    assert events == [ev()] and b"data-cookiegate-srcdoc" in out
    assert run(doc, unclassified=True) == (doc, [ev(fired=True)])


# -- inline scripts: loaders and mentions ------------------------------------------------------------------

LOADERS = [
    ("created_script",
     f'(function(d){{var s=d.createElement("script");s.src="//{X}/a.js";d.head.appendChild(s)}})(document)'),
    ("image_pixel", f'new Image().src = "https://{X}/px?e=view";'),
    ("iframe", f'var f=document.createElement("iframe");f.setAttribute("src", "https://{X}/frame");'),
    ("fetch", f'fetch("https://{X}/collect", {{method: "POST", body: "x"}});'),
    ("xhr", f'var r=new XMLHttpRequest();r.open("GET", "https://{X}/data");r.send();'),
    ("beacon", f'navigator.sendBeacon("https://{X}/b", JSON.stringify({{a: 1}}));'),
    ("import_scripts", f'importScripts("https://{X}/worker.js");'),
    ("computed_src", f'(function(w,d,u){{var s=d.createElement("script");s.src=u+"?v=1";d.body.append(s)}})'
                     f'(window,document,"https://{X}/loader.js");'),
    ("config_then_fetch", f'var cfg={{api:"https:\\/\\/{X}\\/v1"}};fetch(cfg.api+"/hit");'),
    ("document_write", f"document.write('<scr'+'ipt src=\"https://{X}/w.js\"></scr'+'ipt>');"),
]
MENTIONS = [
    ("link_in_a_string", f'var profile = "https://{X}/kactuce"; console.log(profile);'),
    ("share_button",
     f'document.querySelector(".share").href = "https://{X}/share?u=" + encodeURIComponent(location.href);'),
    ("config_object", f'window.siteConfig = {{ partner: "https://{X}/", endpoint: "/api/summary" }};'
                      'fetch("/api/summary").then(function (r) { return r.json(); });'),
    ("navigation", f'document.getElementById("go").onclick = function () {{ window.open("https://{X}/"); }};'),
]


@pytest.mark.parametrize("script", [c[1] for c in LOADERS], ids=[c[0] for c in LOADERS])
def test_an_inline_script_that_requests_an_unclassified_url_is_a_loader(script: str) -> None:
    doc = f"<script>{script}</script>".encode()
    out, events = run(doc, allowed=EVERY_CATEGORY, unclassified=False)
    assert out.startswith(b"<script type=text/plain data-cookiegate-blocked=unclassified>")
    assert events[-1] == ev() or events[0] == ev()
    assert run(doc, unclassified=True) == (doc, [ev(fired=True)])


@pytest.mark.parametrize("script", [c[1] for c in MENTIONS], ids=[c[0] for c in MENTIONS])
def test_a_first_party_script_that_merely_mentions_an_outside_url_still_runs(script: str) -> None:
    doc = f"<script>{script}</script>".encode()
    assert run(doc) == (doc, [])


def test_structured_data_and_templates_are_no_loaders_whatever_they_hold() -> None:
    doc = (f'<script type="application/ld+json">{{"@context":"https://schema.org","url":"https://{X}/",'
           f'"sameAs":["https://{X}/a"],"image":"fetch(\\"https://{X}/x\\")"}}</script>'
           f'<script type="text/x-template">fetch("https://{X}/t")</script>').encode()
    assert run(doc) == (doc, [])


def test_the_invented_vendors_snippet_is_blocked_everywhere_and_named_by_its_hosts() -> None:
    doc = UNCLASSIFIED.read_bytes()
    out, events = run(doc, allowed=EVERY_CATEGORY, unclassified=False)
    assert [(e.key, e.fired) for e in events] == [
        ("unclassified:cdn.quillmetrics-invented.example", False),
        ("unclassified:tag.quillmetrics-invented.example", False),
        ("unclassified:px.quillmetrics-invented.example", False),
        ("unclassified:widgets.quillmetrics-invented.example", False),
    ]
    inert = re.sub(r"<script type=text/plain.*?</script>", "", out.decode(), flags=re.S)
    assert not fetches(inert, "quillmetrics-invented.example")
    assert out.count(b"data-cookiegate-blocked=unclassified") == 4
    assert out.count(b"<script type=text/plain") == 2  # the inline loader and the script tag
