"""The per-classifier memos (attribute values, whole start tags) never change what the rewriter outputs."""

from __future__ import annotations

from cookiegate.catalog import Vendor
from cookiegate.rewrite import HtmlRewriter
from tests.test_rewrite import EVERY_CATEGORY, META, TableClassifier

PAGE = (b'<html><head><link rel=stylesheet href="/site.css"></head><body>'
        b'<img src="/logo.png" alt=logo><img src="https://www.facebook.com/tr?id=1">'
        b'<iframe src="https://www.youtube.com/embed/x"></iframe><p>text</p></body></html>')


def test_second_rewrite_of_the_same_page_gives_the_same_bytes_and_events() -> None:
    classifier = TableClassifier()
    results = []
    for _ in range(3):
        rewriter = HtmlRewriter(classifier=classifier, allowed=())
        out = rewriter.feed(PAGE) + rewriter.finish()
        results.append((out, rewriter.events))
    assert results[0] == results[1] == results[2]
    assert b'data-cookiegate-src="https://www.facebook.com/tr?id=1"' in results[0][0]


def test_a_tag_first_seen_allowed_is_still_blocked_for_a_visitor_who_refused() -> None:
    classifier = TableClassifier()
    allowed = HtmlRewriter(classifier=classifier, allowed=EVERY_CATEGORY)
    assert allowed.feed(PAGE) + allowed.finish() == PAGE
    refused = HtmlRewriter(classifier=classifier, allowed=())
    out = refused.feed(PAGE) + refused.finish()
    assert b"data-cookiegate-blocked=ads" in out and b"data-cookiegate-blocked=social" in out


def test_first_party_tag_remembered_as_harmless_still_switches_to_raw_text() -> None:
    classifier = TableClassifier()
    doc = b"<textarea class=x><body></textarea><body><p>"
    for _ in range(2):  # the second time the <textarea> start tag comes from the memo
        rewriter = HtmlRewriter(classifier=classifier, allowed=(), body_inject=b"<banner>")
        assert rewriter.feed(doc) + rewriter.finish() == b"<textarea class=x><body></textarea><body><banner><p>"


class SlottedClassifier:
    """A classifier that cannot be weakly referenced: the rewriter must work without memos."""

    __slots__ = ()

    def vendor_for_url(self, url: str) -> Vendor | None:
        return META if "facebook.com" in url else None

    def vendor_for_inline(self, text: str) -> Vendor | None:
        return None


def test_classifier_without_weak_references_is_classified_every_time() -> None:
    for _ in range(2):
        rewriter = HtmlRewriter(classifier=SlottedClassifier(), allowed=())
        out = rewriter.feed(PAGE) + rewriter.finish()
        assert b'data-cookiegate-src="https://www.facebook.com/tr?id=1"' in out
        assert b'<img src="/logo.png" alt=logo>' in out


def test_a_remembered_tag_with_a_quoted_gt_is_recognised_and_a_tracker_sharing_its_start_is_not_mistaken() -> None:
    classifier = TableClassifier()
    harmless = b'<p><img alt="a>b" src="/a.png"><img src="/a.png"></p>'
    for _ in range(2):  # the second time both tags come from the memo
        rewriter = HtmlRewriter(classifier=classifier, allowed=())
        assert rewriter.feed(harmless) + rewriter.finish() == harmless
    # Same bytes up to the first ">" as the remembered tag, then a tracker URL.
    tracker = b'<p><img alt="a>" src="https://www.facebook.com/tr?id=1"><img src="/a.png"></p>'
    rewriter = HtmlRewriter(classifier=classifier, allowed=())
    out = rewriter.feed(tracker) + rewriter.finish()
    assert b'data-cookiegate-src="https://www.facebook.com/tr?id=1"' in out
    assert out.endswith(b'<img src="/a.png"></p>')


def test_a_remembered_tag_split_across_chunks_is_held_until_its_end() -> None:
    classifier = TableClassifier()
    doc = b'<p><img src="/a.png" alt="x"></p><img src="https://www.facebook.com/tr?id=2">'
    whole = HtmlRewriter(classifier=classifier, allowed=())
    expected = whole.feed(doc) + whole.finish()
    for cut in range(1, len(doc)):
        rewriter = HtmlRewriter(classifier=classifier, allowed=())
        assert rewriter.feed(doc[:cut]) + rewriter.feed(doc[cut:]) + rewriter.finish() == expected, cut
