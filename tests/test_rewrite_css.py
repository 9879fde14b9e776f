"""CSS inside ``<style>`` elements: refused vendors' ``url()`` and ``@import`` never reach the browser."""

from __future__ import annotations

import pytest

from tests.test_rewrite import EVERY_CATEGORY, run

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

STYLE_CASES = [
    ("url_double_quoted",
     b'<style>.a{background:url("https://www.facebook.com/tr?id=1")}</style>',
     b'<style>.a{background:url("data:,")}</style>'),
    ("url_single_quoted_upper_case",
     b"<STYLE>.a{background:URL('//connect.facebook.net/p.png')}</STYLE>",
     b"<STYLE>.a{background:URL('data:,')}</STYLE>"),
    ("url_unquoted_with_spaces",
     b"<style>.a{background:url(  https://www.facebook.com/tr?x  )}</style>",
     b"<style>.a{background:url(  data:,  )}</style>"),
    ("import_string",
     b'<style>@import "https://www.google-analytics.com/x.css"; p{color:red}</style>',
     b'<style>@import "data:,"; p{color:red}</style>'),
    ("import_url",
     b"<style>@import url(https://www.youtube.com/s.css) screen;</style>",
     b"<style>@import url(data:,) screen;</style>"),
    ("only_the_vendor_url_changes",
     b'<style>.a{background:url(/hero.jpg)}.b{background:url("https://www.facebook.com/tr?id=1")}'
     b'.c{font-family:"Open Sans"}</style>',
     b'<style>.a{background:url(/hero.jpg)}.b{background:url("data:,")}.c{font-family:"Open Sans"}</style>'),
    ("escaped_url_keyword_drops_the_css",
     b"<style>.a{background:\\75rl(https://www.facebook.com/tr?id=1)}</style>",
     b"<style>/* cookiegate: blocked */</style>"),
    ("escaped_dot_in_host_drops_the_css",
     b"<style>.a{background:url(https://www\\2e facebook.com/tr?id=1)}</style>",
     b"<style>/* cookiegate: blocked */</style>"),
]
#: The same, for a visitor who refuses unclassified third parties too: the raw text's URL stops at the escape's
#: space, and its host ("www.") is one nobody classified, so it is pointed at ``data:`` before the escapes are read.
ESCAPED_DOT_UNCLASSIFIED_REFUSED = b"<style>.a{background:url(data:, facebook.com/tr?id=1)}</style>"


@pytest.mark.parametrize(("doc", "expected"), [c[1:] for c in STYLE_CASES], ids=[c[0] for c in STYLE_CASES])
def test_refused_vendor_url_in_a_style_element_is_neutralized(doc: bytes, expected: bytes) -> None:
    out, events = run(doc)
    assert out == (ESCAPED_DOT_UNCLASSIFIED_REFUSED if b"\\2e " in doc else expected)
    assert events and not any(e.fired for e in events)
    # Unclassified third parties allowed (a notice regime) and the vendor refused: the escapes are read.
    out, events = run(doc, unclassified=True)
    assert out == expected
    assert events and not any(e.fired and e.vendor_id for e in events)


@pytest.mark.parametrize(("doc", "_expected"), [c[1:] for c in STYLE_CASES], ids=[c[0] for c in STYLE_CASES])
def test_style_element_of_allowed_vendor_is_byte_identical(doc: bytes, _expected: bytes) -> None:
    out, events = run(doc, allowed=EVERY_CATEGORY)
    assert out == doc
    assert events and all(e.fired for e in events)


def test_first_party_css_is_byte_identical() -> None:
    doc = (b"<style>@import '/base.css';.hero{background:url(/img/h\\2e jpg) center/cover}"
           b"@font-face{src:url(data:font/woff2;base64,AAAA)}</style>")
    assert run(doc) == (doc, [])


def test_vendor_url_in_css_text_outside_style_elements_is_not_touched() -> None:
    doc = b'<p>url("https://www.facebook.com/tr?id=1")</p><textarea>@import "//www.youtube.com/a.css"</textarea>'
    assert run(doc)[0] == doc


def test_style_split_at_every_offset_matches_one_shot() -> None:
    doc = (b'<p>x</p><style>.a{background:url("https://www.facebook.com/tr?id=1")}'
           b"@import url(//www.youtube.com/s.css);</style><p>after</p>")
    whole = run(doc)[0]
    assert b"facebook" not in whole and b"youtube" not in whole
    for cut in range(1, len(doc)):
        assert run(doc, chunks=[cut])[0] == whole, cut
