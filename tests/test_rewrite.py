"""Table tests for cookiegate.rewrite: what is neutralized, what stays byte-identical, and streaming."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

import pytest

from cookiegate.policy._catalog import Vendor
from cookiegate.policy._decision import Permissions
from cookiegate.policy._site import SiteHosts
from cookiegate.rewrite import (
    Handlers,
    HtmlRewriter,
    Limits,
    Placeholder,
    Settings,
    TagEvent,
    Utf16Rewriter,
    utf16_codec,
)
from cookiegate.rewrite._settings import DEFAULT_LIMITS, NO_SITE

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

GA = Vendor(id="google-analytics", name="Google Analytics", category="analytics",
            hosts=("google-analytics.com", "googletagmanager.com"))
META = Vendor(id="meta-pixel", name="Meta Pixel", category="ads", hosts=("facebook.net", "facebook.com"))
YOUTUBE = Vendor(id="youtube", name="YouTube", category="social", hosts=("youtube.com",))
VENDORS = (GA, META, YOUTUBE)
EVERY_CATEGORY = ("functional", "analytics", "ads", "social")

_HOST = re.compile(r"(?:[a-z][a-z0-9+.\-]*:)?//([^/?#:]*)", re.I)


class TableClassifier:
    """A small stand-in for the tag registry: host suffixes and two inline signatures."""

    def vendor_for_url(self, url: str) -> Vendor | None:
        m = _HOST.match(url)
        if m is None:
            return None
        host = m.group(1).lower().rstrip(".")
        for vendor in VENDORS:
            if any(host == h or host.endswith("." + h) for h in vendor.hosts):
                return vendor
        return None

    def vendor_for_inline(self, text: str) -> Vendor | None:
        if "fbq(" in text:
            return META
        if "gtag(" in text:
            return GA
        return None


def make(classifier: object, allowed: Collection[str] = (), *, head: bytes = b"", body: bytes = b"",
         placeholder: Placeholder | None = None, limits: Limits | None = None, unclassified: bool | None = None,
         site: SiteHosts = NO_SITE, host: str = "") -> HtmlRewriter:
    """A rewriter for a visitor who allows ``allowed`` (and ``necessary``); unclassified third parties load when
    ``unclassified`` says so (default: when every category is allowed, as where no consent is asked)."""
    categories = frozenset(allowed) | {"necessary"}
    if unclassified is None:
        unclassified = categories.issuperset(EVERY_CATEGORY)
    permissions = Permissions(categories, unclassified=unclassified)
    settings = Settings(classifier, permissions, limits or DEFAULT_LIMITS, site=site, host=host)  # type: ignore[arg-type]
    return HtmlRewriter(settings, Handlers(head, body, placeholder))


def run(doc: bytes, allowed: Collection[str] = (), chunks: Sequence[int] | None = None,
        **kwargs: object) -> tuple[bytes, list[TagEvent]]:
    """Rewrite ``doc``; ``chunks`` are split offsets (None: one feed)."""
    rewriter = make(TableClassifier(), allowed, **kwargs)  # type: ignore[arg-type]
    bounds = [0, *(chunks or []), len(doc)]
    out = b"".join(rewriter.feed(doc[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    return out + rewriter.finish(), rewriter.events


def blocked(name: bytes, category: str, vendor: str, script: bool = False) -> bytes:
    added = b"type=text/plain " if script else b""
    return b"<" + name + b" " + added + b"data-cookiegate-blocked=" + category.encode() + \
        b" data-cookiegate-vendor=" + vendor.encode()


PIXEL = b"https://www.facebook.com/tr?id=1&ev=PageView&noscript=1"

# (id, input, expected output) with every optional category refused.
NEUTRALIZED = [
    ("external_script",
     b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>',
     blocked(b"script", "analytics", "google-analytics", True)
     + b' async data-cookiegate-src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'),
    ("script_type_kept_aside",
     b'<script type="module" src="//connect.facebook.net/x.js"></script>',
     blocked(b"script", "ads", "meta-pixel", True)
     + b' data-cookiegate-type="module" data-cookiegate-src="//connect.facebook.net/x.js"></script>'),
    ("mixed_case_unquoted_protocol_relative",
     b"<SCRIPT SRC=//CONNECT.FACEBOOK.NET/en_US/fbevents.js></SCRIPT>",
     blocked(b"SCRIPT", "ads", "meta-pixel", True)
     + b" data-cookiegate-src=//CONNECT.FACEBOOK.NET/en_US/fbevents.js></SCRIPT>"),
    ("single_quoted_pixel", b"<img src='" + PIXEL + b"'>",
     blocked(b"img", "ads", "meta-pixel") + b" data-cookiegate-src='" + PIXEL + b"'>"),
    ("duplicate_attributes_all_renamed", b'<img src="' + PIXEL + b'" SRC="/local.png">',
     blocked(b"img", "ads", "meta-pixel") + b' data-cookiegate-src="' + PIXEL
     + b'" data-cookiegate-src="/local.png">'),
    ("entity_encoded_url",
     b'<script src="https&#x3a;//connect&#46;facebook&#46;net/x.js"></script>',
     blocked(b"script", "ads", "meta-pixel", True)
     + b' data-cookiegate-src="https&#x3a;//connect&#46;facebook&#46;net/x.js"></script>'),
    ("tab_inside_url", b'<img src="https://www.face\tbook.com/tr">',
     blocked(b"img", "ads", "meta-pixel") + b' data-cookiegate-src="https://www.face\tbook.com/tr">'),
    ("srcset_list", b'<img src="/a.png" srcset="/a.png 1x, https://www.facebook.com/tr?x 2x">',
     blocked(b"img", "ads", "meta-pixel")
     + b' data-cookiegate-src="/a.png"'
     + b' data-cookiegate-srcset="/a.png 1x, https://www.facebook.com/tr?x 2x">'),
    ("link_preconnect", b'<link rel=preconnect href="https://www.google-analytics.com">',
     blocked(b"link", "analytics", "google-analytics")
     + b' rel=preconnect data-cookiegate-href="https://www.google-analytics.com">'),
    ("link_preload_imagesrcset",
     b'<link rel="preload" as="image" imagesrcset="https://www.facebook.com/a.png 2x">',
     blocked(b"link", "ads", "meta-pixel")
     + b' rel="preload" as="image" data-cookiegate-imagesrcset="https://www.facebook.com/a.png 2x">'),
    ("link_dns_prefetch_self_closing", b"<link rel=dns-prefetch href=//connect.facebook.net/>",
     blocked(b"link", "ads", "meta-pixel")
     + b" rel=dns-prefetch data-cookiegate-href=//connect.facebook.net/>"),
    ("source_in_video", b'<video><source src="https://www.youtube.com/v.mp4"></video>',
     b"<video>" + blocked(b"source", "social", "youtube")
     + b' data-cookiegate-src="https://www.youtube.com/v.mp4"></video>'),
    ("input_image", b'<input type=image src="https://www.facebook.com/b.png">',
     blocked(b"input", "ads", "meta-pixel") + b' type=image data-cookiegate-src="https://www.facebook.com/b.png">'),
    ("a_ping_keeps_href", b'<a href="/next" ping="https://www.google-analytics.com/p">n</a>',
     blocked(b"a", "analytics", "google-analytics")
     + b' href="/next" data-cookiegate-ping="https://www.google-analytics.com/p">n</a>'),
    ("svg_image_href", b'<svg><image href="https://www.facebook.com/i.png"/></svg>',
     b"<svg>" + blocked(b"image", "ads", "meta-pixel") + b' data-cookiegate-href="https://www.facebook.com/i.png"/></svg>'),
    ("svg_use_xlink_href", b'<svg><use xlink:href="https://www.facebook.com/s.svg#a"/></svg>',
     b"<svg>" + blocked(b"use", "ads", "meta-pixel")
     + b' data-cookiegate-xlink:href="https://www.facebook.com/s.svg#a"/></svg>'),
    ("object_data_codebase", b'<object data="https://www.youtube.com/v" codebase="https://www.youtube.com/"></object>',
     blocked(b"object", "social", "youtube")
     + b' data-cookiegate-data="https://www.youtube.com/v"'
     + b' data-cookiegate-codebase="https://www.youtube.com/"></object>'),
    ("video_poster", b'<video poster="https://www.youtube.com/p.jpg" controls></video>',
     blocked(b"video", "social", "youtube")
     + b' data-cookiegate-poster="https://www.youtube.com/p.jpg" controls></video>'),
    ("body_background", b'<table background="https://www.facebook.com/bg.png"></table>',
     blocked(b"table", "ads", "meta-pixel")
     + b' data-cookiegate-background="https://www.facebook.com/bg.png"></table>'),
    ("style_url_entity_and_css_escaped", b'<div style="background:u\\72l(&quot;https://www.facebook.com/b.png&quot;)">',
     blocked(b"div", "ads", "meta-pixel")
     + b' data-cookiegate-style="background:u\\72l(&quot;https://www.facebook.com/b.png&quot;)">'),
    ("meta_refresh", b'<meta http-equiv="refresh" content="0; url=https://www.facebook.com/r">',
     blocked(b"meta", "ads", "meta-pixel")
     + b' http-equiv="refresh" data-cookiegate-content="0; url=https://www.facebook.com/r">'),
    ("meta_refresh_space_after_delay", b'<meta http-equiv=refresh content="0 https://www.facebook.com/r">',
     blocked(b"meta", "ads", "meta-pixel")
     + b' http-equiv=refresh data-cookiegate-content="0 https://www.facebook.com/r">'),
    ("meta_refresh_comma_quoted_no_url_key", b"<meta http-equiv=Refresh content=\"1,'//www.facebook.com/r'\">",
     blocked(b"meta", "ads", "meta-pixel")
     + b" http-equiv=Refresh data-cookiegate-content=\"1,'//www.facebook.com/r'\">"),
    ("meta_refresh_tab_and_spaced_url_key", b'<meta content=".5\tURL = https://www.facebook.com/r" http-equiv=refresh>',
     blocked(b"meta", "ads", "meta-pixel")
     + b' data-cookiegate-content=".5\tURL = https://www.facebook.com/r" http-equiv=refresh>'),
    # Code points UTS #46 ignores vanish from the host, raw, as character references or percent-encoded.
    ("uts46_ignored_code_point_raw", "<img src=https://www.face\u2064book.com/tr>".encode(),
     blocked(b"img", "ads", "meta-pixel") + " data-cookiegate-src=https://www.face\u2064book.com/tr>".encode()),
    ("uts46_ignored_code_point_as_reference", b'<img src="https://www.face&#x180F;book.com/tr">',
     blocked(b"img", "ads", "meta-pixel") + b' data-cookiegate-src="https://www.face&#x180F;book.com/tr">'),
    ("uts46_ignored_code_point_percent_encoded", b'<img src="//www.face%F0%9B%B2%A0book.com/tr">',
     blocked(b"img", "ads", "meta-pixel") + b' data-cookiegate-src="//www.face%F0%9B%B2%A0book.com/tr">'),
    ("attributionsrc", b'<img src="/i.png" attributionsrc="https://www.facebook.com/a">',
     blocked(b"img", "ads", "meta-pixel") + b' data-cookiegate-src="/i.png" data-cookiegate-attributionsrc="https://www.facebook.com/a">'),
    ("slash_between_attributes", b"<img/src=https://www.facebook.com/tr/>",
     blocked(b"img", "ads", "meta-pixel") + b" /data-cookiegate-src=https://www.facebook.com/tr/>"),
    ("inline_loader", b"<script>!function(f){f.fbq=1}(window);fbq('init','1');</script>",
     blocked(b"script", "ads", "meta-pixel", True)
     + b">!function(f){f.fbq=1}(window);fbq('init','1');</script>"),
    ("noscript_pixel", b'<noscript><img height="1" src="' + PIXEL + b'"/></noscript>',
     b"<noscript>" + blocked(b"img", "ads", "meta-pixel") + b' height="1" data-cookiegate-src="' + PIXEL
     + b'"/></noscript>'),
    ("unclosed_tag_at_eof", b"<p>x<img src=https://www.facebook.com/tr",
     b"<p>x" + blocked(b"img", "ads", "meta-pixel") + b" data-cookiegate-src=https://www.facebook.com/tr"),
    ("nul_in_tag_name", b"<img\x00 src=https://www.facebook.com/tr>",
     blocked(b"img\x00", "ads", "meta-pixel") + b" data-cookiegate-src=https://www.facebook.com/tr>"),
]


@pytest.mark.parametrize(("doc", "expected"), [c[1:] for c in NEUTRALIZED], ids=[c[0] for c in NEUTRALIZED])
def test_refused_tag_is_neutralized_and_nothing_else_changes(doc: bytes, expected: bytes) -> None:
    out, events = run(doc)
    assert out == expected
    assert events and not any(e.fired for e in events)


@pytest.mark.parametrize(("doc", "_expected"), [c[1:] for c in NEUTRALIZED], ids=[c[0] for c in NEUTRALIZED])
def test_allowed_categories_come_out_byte_identical(doc: bytes, _expected: bytes) -> None:
    out, events = run(doc, allowed=EVERY_CATEGORY)
    assert out == doc
    assert all(e.fired for e in events)


def test_placeholder_is_inserted_before_a_blocked_embed_only() -> None:
    doc = b'<iframe src="https://www.youtube.com/embed/x"></iframe><img src="https://www.youtube.com/i.png">'
    calls: list[tuple[str | None, str]] = []

    def placeholder(vendor: Vendor | None, category: str) -> bytes:
        calls.append((vendor.id if vendor else None, category))
        return b"<div class=blocked></div>"

    out, _ = run(doc, placeholder=placeholder)
    assert out.startswith(b"<div class=blocked></div>" + blocked(b"iframe", "social", "youtube"))
    assert out.count(b"class=blocked") == 1
    assert calls == [("youtube", "social")]


def test_navigation_and_forms_to_a_vendor_are_left_alone() -> None:
    doc = (b'<a href="https://www.facebook.com/page">f</a><form action="https://www.facebook.com/x">'
           b'<button formaction="https://www.facebook.com/y">b</button></form>')
    out, events = run(doc)
    assert out == doc
    assert events == []


def test_first_duplicate_decides_so_a_later_tracker_duplicate_is_inert() -> None:
    doc = b'<img src="/local.png" src="https://www.facebook.com/tr">'
    assert run(doc)[0] == doc


def test_site_own_markup_is_byte_identical() -> None:
    doc = (b"<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop &amp; co</title>"
           b"<link rel=stylesheet href=/s.css><style>a>b{color:red}</style><script src=/app.js></script>"
           b"<script>if (a < b && c > d) { document.write('<p>hi</p>') }</script></head>"
           b"<body class=x><!-- nav --><img src=/logo.png srcset='/logo@2x.png 2x' alt='<logo>'>"
           b"<a href=//example.org ping=/p>x</a><svg><use href='#i'/></svg><textarea><b></textarea>"
           b"<div style='color: red'>\xc3\xa9\xff\xfe</div></body></html>")
    out, events = run(doc)
    assert out == doc
    assert events == []


@pytest.mark.parametrize("doc", [
    b"<!-- <img src=https://www.facebook.com/tr> -->",
    b"<!-- --!><img src=https://www.facebook.com/tr> --!>",
    b"<!x <img src=https://www.facebook.com/tr>",
    b"<?php <img src=https://www.facebook.com/tr> ?>",
    b"<textarea><img src=https://www.facebook.com/tr></textarea>",
    b"<title><img src=https://www.facebook.com/tr></title>",
    b"<style>/*<img src=https://www.facebook.com/tr>*/</style>",
    b"<plaintext><img src=https://www.facebook.com/tr>",
    b'<div title="<img src=https://www.facebook.com/tr>">',
    b"<svg><style><img src=https://www.facebook.com/tr></style></svg>",
    b"<svg><![CDATA[ > <img src=https://www.facebook.com/tr> ]]></svg>",
])
def test_safety_net_neutralizes_tracker_shaped_text_in_hidden_places(doc: bytes) -> None:
    out, _ = run(doc)
    assert b" src=https://www.facebook.com" not in out
    assert out.replace(b"data-cookiegate-blocked=ads data-cookiegate-vendor=meta-pixel ", b"") \
        .replace(b"data-cookiegate-src", b"src") == doc


@pytest.mark.parametrize("doc", [
    b"<!--> <img src=https://www.facebook.com/tr>",
    b"<!---> <img src=https://www.facebook.com/tr>",
    b"</ 3> <img src=https://www.facebook.com/tr>",
    b"<script><!--</script><img src=https://www.facebook.com/tr>",
    b"<style></style ><img src=https://www.facebook.com/tr>",
    b"<textarea></TEXTAREA\n><img src=https://www.facebook.com/tr>",
])
def test_abrupt_and_end_tag_variants_end_the_hidden_region_as_in_a_browser(doc: bytes) -> None:
    out, events = run(doc)
    assert out.endswith(blocked(b"img", "ads", "meta-pixel") + b" data-cookiegate-src=https://www.facebook.com/tr>")
    assert events == [TagEvent("meta-pixel", "ads", False)]


def test_script_end_tag_inside_a_js_string_does_not_end_the_script() -> None:
    doc = b'<script>var s = "</scr" + "ipt>"; fbq("init", "1");</script><p>after</p>'
    out, events = run(doc)
    assert out == blocked(b"script", "ads", "meta-pixel", True) + doc[len(b"<script"):]
    assert events == [TagEvent("meta-pixel", "ads", False)]


def test_double_escaped_script_runs_past_the_first_end_tag() -> None:
    # "<!--<script>" makes the browser skip the next "</script>": the fbq call is script text.
    doc = b"<script><!--<script></script>fbq('init');</script>--></script><p>x</p>"
    out, events = run(doc)
    assert out == blocked(b"script", "ads", "meta-pixel", True) + doc[len(b"<script"):]
    assert events == [TagEvent("meta-pixel", "ads", False)]


def test_dashes_leave_the_escaped_script_state() -> None:
    doc = b"<script><!--<script>--></script><script>gtag('js')</script>"
    out, events = run(doc)
    assert out == (b"<script><!--<script>--></script>"
                   + blocked(b"script", "analytics", "google-analytics", True) + b">gtag('js')</script>")
    assert events == [TagEvent("google-analytics", "analytics", False)]


def test_tag_hidden_in_noscript_behind_an_early_end_is_seen_by_both_views() -> None:
    doc = b"<noscript><!--</noscript><img src=https://www.facebook.com/tr>--></noscript>"
    out, _ = run(doc)
    assert b" src=" not in out


def test_explicit_text_plain_script_is_activated_when_allowed() -> None:
    doc = b'<script type="text/plain" data-category="analytics">gtag("js")</script>'
    out, events = run(doc, allowed={"analytics"})
    assert out == b'<script type="text/javascript" data-category="analytics">gtag("js")</script>'
    assert events == [TagEvent(None, "analytics", True)]


def test_explicit_activation_uses_data_type() -> None:
    doc = b"<script type=text/plain data-type=module data-category=functional src=/m.js></script>"
    out, _ = run(doc, allowed={"functional"})
    assert out == b'<script type="module" data-type=module data-category=functional src=/m.js></script>'


def test_explicit_text_plain_script_stays_inert_when_refused() -> None:
    doc = b'<script type="text/plain" data-category="analytics">x()</script>'
    out, events = run(doc)
    assert out == (b"<script type=text/plain data-cookiegate-blocked=analytics"
                   b' data-cookiegate-type="text/plain" data-category="analytics">x()</script>')
    assert events == [TagEvent(None, "analytics", False)]


def test_data_cookiegate_marks_a_first_party_tag() -> None:
    out, events = run(b'<img data-cookiegate="ads" src="/pixel.gif">')
    assert out == b'<img data-cookiegate-blocked=ads data-cookiegate="ads" data-cookiegate-src="/pixel.gif">'
    assert events == [TagEvent(None, "ads", False)]


def test_data_cookiegate_necessary_pins_a_vendor_tag_as_never_blocked() -> None:
    doc = b'<script data-cookiegate="necessary" src="https://www.googletagmanager.com/gtm.js"></script>'
    out, events = run(doc)
    assert out == doc
    assert events == [TagEvent("google-analytics", "necessary", True)]


def test_iframe_srcdoc_with_a_tracker_is_neutralized() -> None:
    doc = b'<iframe srcdoc="&lt;img src=&quot;https://www.facebook.com/tr&quot;&gt;"></iframe>'
    out, _ = run(doc)
    assert out == (blocked(b"iframe", "ads", "meta-pixel")
                   + b' data-cookiegate-srcdoc="&lt;img src=&quot;https://www.facebook.com/tr&quot;&gt;"></iframe>')


def test_two_vendors_on_one_element_the_refused_one_decides() -> None:
    doc = b'<video poster="https://www.youtube.com/p.jpg" src="https://www.facebook.com/v.mp4"></video>'
    out, events = run(doc, allowed={"social"})
    assert b" src=" not in out and b" poster=" not in out
    assert events == [TagEvent("meta-pixel", "ads", False)]


def test_broken_utf8_and_nul_bytes_pass_through() -> None:
    doc = b"<p>\xff\xfe\x00\xc3</p><img alt=\"\xc3\x28\" src=\"https://www.facebook.com/tr\x00\">\xe2\x82"
    out, _ = run(doc)
    assert out == (b"<p>\xff\xfe\x00\xc3</p>" + blocked(b"img", "ads", "meta-pixel")
                   + b" alt=\"\xc3\x28\" data-cookiegate-src=\"https://www.facebook.com/tr\x00\">\xe2\x82")


@pytest.mark.parametrize("doc", [b"<!-- open", b"<script>fbq(", b"<style>x", b"<img src=", b"<", b"</", b"<!",
                                 b"<![CDATA[x", b"<textarea>", b"<p title='x"])
def test_unterminated_constructs_at_eof_are_flushed(doc: bytes) -> None:
    out, _ = run(doc, allowed=EVERY_CATEGORY)
    assert out == doc


# -- injection --------------------------------------------------------------------------------------

INJECT = {"head": b"<script src=/_cg/b.js></script>", "body": b"<div id=cg></div>"}


@pytest.mark.parametrize(("doc", "expected"), [
    (b"<html><HEAD lang=x><title>t</title></head><body class=a>x</body></html>",
     b"<html><HEAD lang=x><script src=/_cg/b.js></script><title>t</title></head>"
     b"<body class=a><div id=cg></div>x</body></html>"),
    (b"<html><body>x</body></html>",
     b"<html><body><script src=/_cg/b.js></script><div id=cg></div>x</body></html>"),
    (b"<html><p>x</p>", b"<html><p>x</p><script src=/_cg/b.js></script><div id=cg></div>"),
    (b"<p>fragment</p>", b"<p>fragment</p>"),
    (b"<!-- <head> --><textarea><body></textarea>", b"<!-- <head> --><textarea><body></textarea>"),
])
def test_head_and_body_injection(doc: bytes, expected: bytes) -> None:
    out, _ = run(doc, **INJECT)
    assert out == expected


# -- streaming --------------------------------------------------------------------------------------

def realistic_page() -> bytes:
    snippets = b"""
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XYZ"></script>
<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}
gtag('js',new Date());gtag('config','G-XYZ');</script>
<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;n=f.fbq=function(){n.callMethod?
n.callMethod.apply(n,arguments):n.queue.push(arguments)};t=b.createElement(e);t.async=!0;
t.src=v;s=b.getElementsByTagName(e)[0];s.parentNode.insertBefore(t,s)}(window, document,'script',
'https://connect.facebook.net/en_US/fbevents.js');fbq('init','123');fbq('track','PageView');</script>
<noscript><img height="1" width="1" style="display:none"
src="https://www.facebook.com/tr?id=123&amp;ev=PageView&amp;noscript=1"/></noscript>
<link rel=preconnect href=//www.google-analytics.com>
"""
    body = b"".join(
        b"<section class=card><h2>Caf\xc3\xa9 n\xc2\xb0%d</h2><p>Lorem ipsum &amp; <b>dolor</b> sit "
        b"<a href=/p/%d>amet</a>.</p><img src=/img/%d.png alt='x > y'><!-- card %d --></section>\n"
        % (i, i, i, i)
        for i in range(60)
    )
    return (b"<!DOCTYPE html><html><head><meta charset=utf-8><title>Demo</title>" + snippets
            + b"<style>.card>h2{margin:0}</style></head><body>" + body
            + b'<iframe width=560 src="https://www.youtube-nocookie.com/embed/x"></iframe>'
            + b'<iframe src="https://www.youtube.com/embed/abc" allowfullscreen></iframe>'
            + b"<script><!--<script></script>gtag('event')</script>--></script></body></html>")


@pytest.fixture(scope="module")
def page() -> bytes:
    doc = realistic_page()
    assert 8_000 < len(doc) < 14_000
    return doc


@pytest.mark.parametrize("allowed", [(), ("analytics",), EVERY_CATEGORY])
def test_two_chunks_split_at_every_offset_match_one_shot(page: bytes, allowed: tuple[str, ...]) -> None:
    kwargs = {**INJECT, "allowed": allowed}
    whole, whole_events = run(page, **kwargs)  # type: ignore[arg-type]
    if allowed == EVERY_CATEGORY:
        assert whole.replace(INJECT["head"], b"").replace(INJECT["body"], b"") == page
    else:
        assert whole != page
    # Every offset for the refusing visitor; a stride for the others keeps the suite quick.
    for cut in range(0, len(page) + 1, 1 if not allowed else 7):
        out, events = run(page, chunks=[cut], **kwargs)  # type: ignore[arg-type]
        assert out == whole, cut
        assert events == whole_events


def test_one_byte_chunks_match_one_shot(page: bytes) -> None:
    whole, whole_events = run(page, **INJECT)
    out, events = run(page, chunks=list(range(1, len(page))), **INJECT)
    assert out == whole
    assert events == whole_events


@pytest.mark.parametrize("doc", [
    # Found by the atheris fuzzer: the end of the script is found, the step waits for the safety net (a
    # tag-shaped "<script" inside reads on as data-state text), and the search must resume where it stopped.
    b"a><script><!-<script><!--<scrip\x01\x00ut </</script><tr><html 123=456>inpua/<scr/g><>",
    b"<script><!--<script x></script><p>what the safety net reads on <!-- as data</script><html>x",
])
def test_a_script_whose_end_was_found_while_the_step_waited_ends_there_whatever_the_chunking(doc: bytes) -> None:
    whole = run(doc, **INJECT)
    assert whole[0].endswith(INJECT["head"] + INJECT["body"])  # the <html> after the script was seen
    for cut in range(1, len(doc)):
        assert run(doc, chunks=[cut], **INJECT) == whole, cut


def test_feed_holds_back_only_the_incomplete_tag() -> None:
    rewriter = make(TableClassifier())
    assert rewriter.feed(b"<p>hello</p><img sr") == b"<p>hello</p>"
    assert rewriter.feed(b"c=//connect.facebook.net/x.gif>tail") == (
        blocked(b"img", "ads", "meta-pixel") + b" data-cookiegate-src=//connect.facebook.net/x.gif>tail")
    assert rewriter.finish() == b""


def test_inline_script_is_held_until_its_end_tag() -> None:
    rewriter = make(TableClassifier())
    assert rewriter.feed(b"<p>a</p><script>var x = 1;\n") == b"<p>a</p>"
    assert rewriter.feed(b"fbq('init');</scr") == b""
    assert rewriter.feed(b"ipt><p>b</p>") == (blocked(b"script", "ads", "meta-pixel", True)
                                              + b">var x = 1;\nfbq('init');</script><p>b</p>")


def test_region_past_the_cap_is_decided_on_its_first_bytes() -> None:
    capped = Limits(region_cap=64)
    doc = b"<script>fbq('init');" + b"x" * 300 + b"</script><p>after</p>"
    expected = blocked(b"script", "ads", "meta-pixel", True) + doc[len(b"<script"):]
    rewriter = make(TableClassifier(), limits=capped)
    first = rewriter.feed(doc[:200])
    assert len(first) > len(expected) - len(doc) + 64  # streamed before the end tag arrived
    assert first + rewriter.feed(doc[200:]) + rewriter.finish() == expected
    late = b"<script>" + b"x" * 300 + b"fbq('init');</script>"
    assert run(late, limits=capped)[0] == late  # only the first 64 bytes are classified, in one shot as in chunks
    assert run(late, chunks=[100, 200], limits=capped)[0] == late


_UNCHANGED = (b"<!doctype html><html><head><title>T &amp; t</title><style>p{color:red}</style>"
              b"<script>var a = '<img src=x>';</script><!-- a <script> in a comment --></head>"
              b"<body><p class=\"x\" data-y='z'>Hello</p><img src=/static/logo.svg alt=\"a > b\">"
              b"<textarea><script>not a tag</script></textarea><script>" + b"y" * 90 + b"</script>"
              b"<iframe src=/embed></iframe><p>end</p></body></html>")


@pytest.mark.parametrize("cap", [16, 1 << 16])
def test_what_the_rewriter_holds_back_is_all_of_its_input_not_yet_emitted(cap: int) -> None:
    # A page the rewrite leaves as it is: after any first piece, what came out plus what is held back is
    # exactly that piece. (A gate whose rewriter fails sends the held-back bytes on, scrubbed.)
    limits = Limits(region_cap=cap)
    assert run(_UNCHANGED, limits=limits)[0] == _UNCHANGED
    for split in range(1, len(_UNCHANGED)):
        rewriter = make(TableClassifier(), limits=limits)
        out = rewriter.feed(_UNCHANGED[:split])
        assert out + rewriter.held_back() == _UNCHANGED[:split], split
        rest = rewriter.feed(_UNCHANGED[split:]) + rewriter.finish()
        assert out + rest == _UNCHANGED and rewriter.held_back() == b""


def test_a_rewriter_holds_back_only_the_unfinished_end_of_a_page_it_changes() -> None:
    page = b"<p>a</p><img src=//connect.facebook.net/x.gif><script>fbq('init');</script><p>b</p>"
    for split in range(1, len(page)):
        rewriter = make(TableClassifier())
        rewriter.feed(page[:split])
        assert page[:split].endswith(rewriter.held_back()), split


# --- pages in UTF-16 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "content_type", "expected"),
    [
        (b"\xff\xfe<\x00", b"text/html", ("utf-16-le", 2)),
        (b"\xfe\xff\x00<", b"text/html; charset=utf-8", ("utf-16-be", 2)),  # the byte order mark wins
        (b"\xef\xbb\xbf<", b"text/html; charset=utf-16", None),  # so does UTF-8's
        (b"<\x00h\x00", b"text/html; charset=utf-16", ("utf-16-le", 0)),
        (b"\x00<\x00h", b'text/html; Charset="UTF-16BE"', ("utf-16-be", 0)),
        (b"<\x00", b"text/html;charset=ucs-2", ("utf-16-le", 0)),
        (b"<\x00", b"text/html; charset=unicodeFFFE", ("utf-16-be", 0)),
        (b"<ht", b"text/html; charset=utf-8", None),
        (b"<ht", b"text/html; charset=iso-8859-16", None),
        (b"<ht", b"text/html", None),
        (b"", b"text/html; charset=utf-16le", ("utf-16-le", 0)),
    ],
)
def test_a_page_is_read_as_utf16_exactly_when_a_browser_would(
    first: bytes, content_type: bytes, expected: tuple[str, int] | None
) -> None:
    assert utf16_codec(first, content_type) == expected


_UTF16_PAGE = (
    "<!doctype html><html><head><title>Café — 😀</title>"
    "<script src=https://www.googletagmanager.com/gtag/js?id=G-1></script></head>"
    "<body><p>naïve €</p><img src=//connect.facebook.net/x.gif><script>fbq('init');</script>"
    "<iframe src=https://www.youtube.com/embed/x></iframe><p>fin 👋</p></body></html>"
)


@pytest.mark.parametrize(("codec", "bom"), [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                            ("utf-16-le", b"")])
def test_a_utf16_page_is_rewritten_as_its_text_would_be_in_utf8(codec: str, bom: bytes) -> None:
    whole, whole_events = run(_UTF16_PAGE.encode(), **INJECT)
    assert b"data-cookiegate-blocked" in whole
    expected = bom + whole.decode("utf-8").encode(codec)
    body = bom + _UTF16_PAGE.encode(codec)
    for split in [None, *range(1, len(body))]:  # every split: inside the mark, a code unit, a surrogate pair
        inner = make(TableClassifier(), (), **INJECT)  # type: ignore[arg-type]
        rewriter = Utf16Rewriter(inner, codec, len(bom))
        if split is None:
            out = rewriter.document(body)
        else:
            out = rewriter.feed(body[:split]) + rewriter.feed(body[split:]) + rewriter.finish()
        assert out == expected, split
        assert rewriter.events == whole_events


def test_a_utf16_page_keeps_its_own_bytes_and_what_is_held_back_is_all_not_yet_emitted() -> None:
    # Lone surrogates and an odd byte at the end are not characters, but they are the page's bytes.
    body = "<p>a\ud800b</p><script>var s = '\udfff';</script><p>end</p>".encode("utf-16-le", "surrogatepass") + b"\x00"
    for split in range(1, len(body)):
        rewriter = Utf16Rewriter(make(TableClassifier()), "utf-16-le")
        out = rewriter.feed(body[:split])
        assert out + rewriter.held_back() == body[:split], split
        assert out + rewriter.feed(body[split:]) + rewriter.finish() == body
