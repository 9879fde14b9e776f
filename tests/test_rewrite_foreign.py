"""Scripts and styles in foreign content (SVG, MathML), where the tokenizer reads their text in the data state:
a CDATA section or a comment can hide the end tag and character references are decoded (issue 23, item 1).
Judged by what the rewriter writes and by html5lib's reading of its output."""

from __future__ import annotations

import pytest

from tests.test_rewrite import TableClassifier, blocked, run
from tests.test_rewrite_differential import leaks

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

LOADER = b"fbq('init','1')"
FOREIGN_SCRIPTS = [
    ("cdata_hides_the_end_tag", b"<svg><script><![CDATA[/*</script>*/]]>" + LOADER + b"</script></svg>"),
    ("comment_hides_the_end_tag", b"<svg><script><!--</script>-->" + LOADER + b"</script></svg>"),
    ("character_references_spell_the_loader", b"<svg><script>f&#98;q&#x28;'init','1')</script></svg>"),
    ("quoted_attribute_hides_the_end_tag", b"<svg><script><g title='</script>'/>" + LOADER + b"</script></svg>"),
    ("svg_inside_a_mathml_text_point", b"<math><mi><svg><script><![CDATA[/*</script>*/]]>" + LOADER
     + b"</script></svg></mi></math>"),
    ("svg_deep_in_foreign_elements", b"<svg><g><a><text><script><!--</script>-->" + LOADER + b"</script>"),
    ("after_html_inside_an_integration_point", b"<svg><foreignObject><div></svg></div></foreignObject>"
     b"<script><![CDATA[/*</script>*/]]>" + LOADER + b"</script>"),
    ("after_a_cdata_bogus_comment_outside_foreign_content", b"<p><![CDATA[ a > <svg><script><![CDATA[/*</script>*/]]>"
     + LOADER + b"</script>"),
    ("svg_start_tag_split_by_a_later_real_svg", b"<svg/><svg ><script><!--</script>-->" + LOADER + b"</script>"),
]


@pytest.mark.parametrize("doc", [d for _, d in FOREIGN_SCRIPTS], ids=[n for n, _ in FOREIGN_SCRIPTS])
def test_a_loader_in_a_foreign_script_is_neutralized_however_its_text_is_written(doc: bytes) -> None:
    assert leaks(doc, set()), "the oracle should see the loader run in the input"
    out, events = run(doc)
    assert leaks(out, set()) == []
    assert b"<script type=text/plain data-cookiegate-blocked=ads data-cookiegate-vendor=meta-pixel" in out
    assert events and not any(e.fired for e in events)
    assert run(doc, allowed=("ads",))[0] == doc  # allowed: byte-identical


@pytest.mark.parametrize("doc", [d for _, d in FOREIGN_SCRIPTS], ids=[n for n, _ in FOREIGN_SCRIPTS])
def test_a_foreign_script_split_at_every_offset_gives_the_same_bytes(doc: bytes) -> None:
    whole = run(doc)
    for cut in range(1, len(doc)):
        assert run(doc, chunks=[cut]) == whole, cut


FOREIGN_STYLES = [
    ("cdata_hides_the_end_tag", b"<svg><style><![CDATA[</style>]]>{}.a{background:url(https://www.facebook.com/x)}"
     b"</style></svg>"),
    ("character_references_spell_the_url", b"<svg><style>.a{background:url(https:&#47;&#47;www.facebook.com/x)}"
     b"</style></svg>"),
    ("comment_hides_the_end_tag", b"<svg><style><!--</style>-->.a{background:url(//www.facebook.com/x)}</style>"),
]


@pytest.mark.parametrize("doc", [d for _, d in FOREIGN_STYLES], ids=[n for n, _ in FOREIGN_STYLES])
def test_a_refused_url_in_a_foreign_style_is_dropped_however_its_text_is_written(doc: bytes) -> None:
    assert leaks(doc, set()), "the oracle should see the style fetch in the input"
    out, events = run(doc)
    assert leaks(out, set()) == []
    assert events and not any(e.fired for e in events)
    # allowed (and the garbage host the undecoded reading names, "&", let through): byte-identical
    assert run(doc, allowed=("ads",), unclassified=True)[0] == doc
    whole = run(doc)
    for cut in range(1, len(doc)):
        assert run(doc, chunks=[cut]) == whole, cut


# The same markup outside foreign content reads as HTML, and the rewriter leaves it exactly as it was.
HTML_AGAIN = [
    b"<svg><path d='M0 0'/></svg><script>var a = '<!--';</script><p>after</p>",
    b"<svg><g></svg><script>document.write('<![CDATA[')</script><p>after</p>",
    b"<svg><p>breaks out</p><script>var s = '<!--'</script><p>after</p>",
    b"<math><mi>x</mi></math><style>a::before{content:'<!--'}</style><p>after</p>",
    b"<svg/><script>var a = '<!--';</script><p>after</p>",
]


@pytest.mark.parametrize("doc", HTML_AGAIN)
def test_once_foreign_content_is_left_scripts_and_styles_end_as_in_html(doc: bytes) -> None:
    assert run(doc) == (doc, [])


def test_cdata_outside_foreign_content_is_a_bogus_comment_ending_at_its_first_gt() -> None:
    doc = b"<p><![CDATA[ x > <img src=https://www.facebook.com/tr> ]]>"
    out, events = run(doc)
    assert out == b"<p><![CDATA[ x > " + blocked(b"img", "ads", "meta-pixel") \
        + b" data-cookiegate-src=https://www.facebook.com/tr> ]]>"
    assert leaks(out, set()) == [] and len(events) == 1


def test_an_inline_svg_icon_in_a_page_changes_nothing_else() -> None:
    icon = b'<svg class=icon viewBox="0 0 24 24" aria-hidden=true><title>Star</title><path d="M12 2l3 7z"/></svg>'
    doc = b"<p>" + icon + b"<script>gtag('js')</script><style>p{color:red}</style>" + icon + b"<p>end"
    out, events = run(doc, allowed=("analytics",))
    assert out == doc and [e.fired for e in events] == [True]
    refused, _ = run(doc)
    assert refused.replace(b" type=text/plain data-cookiegate-blocked=analytics data-cookiegate-vendor="
                           b"google-analytics", b"") == doc


def test_the_classifier_sees_a_foreign_script_both_ways() -> None:
    # Raw (as an HTML script would read) and decoded (as the SVG script does): either may name the vendor.
    assert TableClassifier().vendor_for_inline("fbq(") is not None
    doc = b"<svg><script>f&#98;q(1)</script></svg>"
    assert b"type=text/plain" in run(doc)[0]
