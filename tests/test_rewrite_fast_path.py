"""The fast path when nothing can be refused: after the body injection the rest passes through untouched."""

from __future__ import annotations

import pytest

from tests.test_rewrite import EVERY_CATEGORY, TableClassifier, make, run

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

HEAD = b'<!doctype html><html><head><script src="https://www.googletagmanager.com/gtag/js"></script></head>'
BODY = (b'<body><img src="https://www.facebook.com/tr?id=1"><!-- <body> -->'
        b'<iframe src="https://www.youtube.com/embed/x"></iframe><p>end</p></body></html>')


def test_every_category_allowed_passes_the_page_through_after_the_injection() -> None:
    out, events = run(HEAD + BODY, allowed=EVERY_CATEGORY, head=b"<H>", body=b"<B>")
    assert out == HEAD.replace(b"<head>", b"<head><H>") + BODY.replace(b"<body>", b"<body><B>", 1)
    # Tags before the switch are still recorded (and fired); the rest is not looked at.
    assert [(e.vendor_id, e.fired) for e in events] == [("google-analytics", True)]


def test_fast_path_output_does_not_depend_on_chunking() -> None:
    doc = HEAD + BODY
    whole = run(doc, allowed=EVERY_CATEGORY, body=b"<B>")[0]
    for cut in range(1, len(doc)):
        assert run(doc, allowed=EVERY_CATEGORY, body=b"<B>", chunks=[cut])[0] == whole, cut


def test_one_refused_category_keeps_the_full_rewrite() -> None:
    out, _ = run(HEAD + BODY, allowed=("functional", "analytics", "ads"))
    assert b'data-cookiegate-src="https://www.youtube.com/embed/x"' in out


def test_explicit_markup_in_the_body_is_still_activated_when_everything_is_allowed() -> None:
    doc = HEAD + b'<body><p>x</p><script type="text/plain" data-category="analytics">go()</script></body>'
    out, _ = run(doc, allowed=EVERY_CATEGORY)
    assert b'<script type="text/javascript" data-category="analytics">go()</script>' in out


def test_explicit_markup_with_an_unknown_category_is_still_neutralized() -> None:
    doc = HEAD + b'<body><img data-cookiegate="marketing" src="/px.gif"></body>'
    out, _ = run(doc, allowed=EVERY_CATEGORY)
    assert b'data-cookiegate-src="/px.gif"' in out


def test_explicit_markup_first_seen_in_a_later_streamed_chunk_stays_inert() -> None:
    rewriter = make(TableClassifier(), EVERY_CATEGORY)
    first = rewriter.feed(HEAD + b"<body><p>x</p>")
    late = b'<script type="text/plain" data-category="analytics">go()</script></body>'
    out = first + rewriter.feed(late) + rewriter.finish()
    assert out.endswith(late)  # documented: not activated, i.e. the safe side
