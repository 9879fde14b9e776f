"""No earlier response can change a later one's output: what a classifier's memos keep (start tags, the skip
scan's known tags, hidden regions, whole pages) is a cache of a function of the page's bytes and the
permissions, whatever pages came before, hostile ones included (issue 23, item 4)."""

from __future__ import annotations

from collections.abc import Collection

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cookiegate.rewrite import TagEvent
from tests.test_rewrite import TableClassifier, make
from tests.test_rewrite_differential import hostile_documents

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

Result = tuple[bytes, list[TagEvent]]
TRACKER = b"https://www.facebook.com/tr?id=1"


def rewrite(classifier: object, doc: bytes, allowed: Collection[str] = (), how: str = "whole") -> Result:
    """``doc`` rewritten fed whole, in pieces, or given to ``document`` (which keeps and replays pages)."""
    rewriter = make(classifier, allowed, head=b"<H>", body=b"<B>")
    if how == "document":
        return rewriter.document(doc), list(rewriter.events)
    pieces = [doc] if how == "whole" else [doc[i : i + 5] for i in range(0, len(doc), 5)]
    out = b"".join(rewriter.feed(piece) for piece in pieces)
    return out + rewriter.finish(), list(rewriter.events)


def test_a_page_ending_inside_a_quoted_value_does_not_teach_the_memo_a_harmless_tag() -> None:
    # The body ends inside alt="...": the tag never closed, so it must not be remembered as the harmless tag
    # "<img alt="a>". A later page whose tag has the same bytes up to the first ">" really ends further on.
    classifier = TableClassifier()
    for how in ("whole", "pieces", "document"):
        rewrite(classifier, b'<p>comment: <img alt="a>', how=how)
    later = b'<p><img alt="a> " src="' + TRACKER + b'"><p>after'
    for how in ("whole", "pieces", "document"):
        out = rewrite(classifier, later, how=how)
        assert out == rewrite(TableClassifier(), later, how=how)
        assert b'data-cookiegate-src="' + TRACKER in out[0]


def test_a_srcdoc_seen_by_a_visitor_who_allowed_it_is_still_blocked_for_one_who_did_not() -> None:
    # What a srcdoc document counts as must not depend on who saw the tag first.
    classifier = TableClassifier()
    doc = b'<p><iframe srcdoc="&lt;img src=' + TRACKER + b'&gt;"></iframe>'
    allowed = rewrite(classifier, doc, ("ads",))
    assert allowed[0] == doc and allowed[1] == [TagEvent("meta-pixel", "ads", True)]
    refused = rewrite(classifier, doc)
    assert refused == rewrite(TableClassifier(), doc)
    assert b"data-cookiegate-srcdoc=" in refused[0]


QUOTED = ['<img alt="{a}> {b}" src="{u}">', "<img alt='{a}>' src={u}>", '<div title="{a}"><img src={u}></div>',
          '<a href=/x title="{a}>{b}"><img src={u}></a>', '<img data-x="{a}<{b}" src="{u}">',
          '<script title="{a}>">fbq("init")</script>', '<noscript title="{a}>"><img src={u}></noscript>']
JUNK = ["", "a", " ", "<", ">", "/", "=", "'", '"', "--", "<!--", "</script>", "x y", "&quot;"]
URLS = [TRACKER.decode(), "/local.png", "//connect.facebook.net/x.js", "https://www.youtube.com/embed/x"]


@st.composite
def quoted_documents(draw: st.DrawFn) -> bytes:
    """Pages whose tags hold ">" and "<" in quoted values: their first ">" is not their end."""
    parts = [draw(st.sampled_from(QUOTED)).format(a=draw(st.sampled_from(JUNK)), b=draw(st.sampled_from(JUNK)),
                                                   u=draw(st.sampled_from(URLS)))
             for _ in range(draw(st.integers(1, 4)))]
    return ("<p>" + "".join(parts) + "<p>end").encode()


@st.composite
def histories(draw: st.DrawFn, target: bytes) -> list[tuple[bytes, frozenset[str], str]]:
    """Earlier responses: the target cut anywhere (inside a quote, a tag, a region), other hostile pages, each
    for some visitor, fed whole, in pieces or as a document."""
    earlier: list[tuple[bytes, frozenset[str], str]] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["prefix", "prefix", "hostile", "quoted", "target"]))
        if kind == "prefix":
            page = target[: draw(st.integers(1, max(1, len(target) - 1)))]
        elif kind == "hostile":
            page = draw(hostile_documents())
        elif kind == "quoted":
            page = draw(quoted_documents())
        else:
            page = target
        allowed = frozenset(draw(st.sets(st.sampled_from(["analytics", "ads", "social", "functional"]))))
        earlier.append((page, allowed, draw(st.sampled_from(["whole", "pieces", "document"]))))
    return earlier


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), allowed=st.sets(st.sampled_from(["analytics", "ads", "social"])))
def test_no_sequence_of_earlier_responses_changes_a_later_ones_output(data: st.DataObject, allowed: set[str]) -> None:
    target = data.draw(st.one_of(quoted_documents(), hostile_documents()))
    warmed = TableClassifier()
    for page, seen_allowed, how in data.draw(histories(target)):
        rewrite(warmed, page, seen_allowed, how)
    for how in ("whole", "pieces", "document", "document"):  # the page memo records, then replays
        assert rewrite(warmed, target, allowed, how) == rewrite(TableClassifier(), target, allowed, how), how
