"""When nothing can be refused, the page comes out as it went in (plus the injections), and still every tag on it
is counted as fired: what the counters, the preview header and the scan report (issue 20)."""

from __future__ import annotations

import pytest

from tests.test_rewrite import EVERY_CATEGORY, TableClassifier, make, run

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

HEAD = b'<!doctype html><html><head><script src="https://www.googletagmanager.com/gtag/js"></script></head>'
BODY = (b'<body><img src="https://www.facebook.com/tr?id=1"><!-- <body> -->'
        b'<iframe src="https://www.youtube.com/embed/x"></iframe><img src="https://px.invented.example/p.gif">'
        b"<p>end</p></body></html>")
EVERY_TAG = [("google-analytics", True), ("meta-pixel", True), ("youtube", True), ("unclassified:px.invented.example",
                                                                                     True)]


def test_every_category_allowed_leaves_the_page_as_it_was_and_counts_every_tag_as_fired() -> None:
    out, events = run(HEAD + BODY, allowed=EVERY_CATEGORY, head=b"<H>", body=b"<B>")
    assert out == HEAD.replace(b"<head>", b"<head><H>") + BODY.replace(b"<body>", b"<body><B>", 1)
    # Tags after the body injection too, the unclassified host included (nothing can be refused here).
    assert [(e.key, e.fired) for e in events] == EVERY_TAG


def test_the_output_and_the_count_do_not_depend_on_chunking() -> None:
    doc = HEAD + BODY
    whole = run(doc, allowed=EVERY_CATEGORY, body=b"<B>")
    for cut in range(1, len(doc)):
        assert run(doc, allowed=EVERY_CATEGORY, body=b"<B>", chunks=[cut]) == whole, cut


def test_every_category_allowed_where_consent_is_asked_still_refuses_the_unclassified_host() -> None:
    # "Accept all" in an opt-in regime: every category, but no consent covers what no purpose was disclosed for.
    out, events = run(HEAD + BODY, allowed=EVERY_CATEGORY, unclassified=False)
    assert b'data-cookiegate-src="https://px.invented.example/p.gif"' in out
    assert [(e.key, e.fired) for e in events] == [*EVERY_TAG[:3], ("unclassified:px.invented.example", False)]


def test_one_refused_category_keeps_the_rest_firing() -> None:
    out, events = run(HEAD + BODY, allowed=("functional", "analytics", "ads"))
    assert b'data-cookiegate-src="https://www.youtube.com/embed/x"' in out
    assert ("youtube", False) in [(e.key, e.fired) for e in events]


def test_explicit_markup_in_the_body_is_activated_when_everything_is_allowed() -> None:
    doc = HEAD + b'<body><p>x</p><script type="text/plain" data-category="analytics">go()</script></body>'
    out, events = run(doc, allowed=EVERY_CATEGORY)
    assert b'<script type="text/javascript" data-category="analytics">go()</script>' in out
    assert [(e.key, e.fired) for e in events] == [("google-analytics", True), ("explicit:analytics", True)]


def test_explicit_markup_with_an_unknown_category_is_still_neutralized() -> None:
    doc = HEAD + b'<body><img data-cookiegate="marketing" src="/px.gif"></body>'
    out, _ = run(doc, allowed=EVERY_CATEGORY)
    assert b'data-cookiegate-src="/px.gif"' in out


def test_explicit_markup_first_seen_in_a_later_streamed_chunk_is_activated() -> None:
    rewriter = make(TableClassifier(), EVERY_CATEGORY)
    first = rewriter.feed(HEAD + b"<body><p>x</p>")
    late = b'<script type="text/plain" data-category="analytics">go()</script></body>'
    out = first + rewriter.feed(late) + rewriter.finish()
    assert out.endswith(b'<script type="text/javascript" data-category="analytics">go()</script></body>')
