"""Whole pages remembered with what they became (``HtmlRewriter.document``): a page seen before is replayed
with the current visitor's own injections and placeholders, and the replay is exactly what rewriting the
page for that visitor gives."""

from __future__ import annotations

from collections.abc import Collection

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.pages import static_page
from cookiegate.policy._catalog import Vendor
from cookiegate.policy._decision import Permissions
from cookiegate.rewrite import Handlers, HtmlRewriter, Limits, Settings, TagEvent, replay_remembered
from cookiegate.rewrite._memo import Memos, PageResult, memos_for
from tests.test_rewrite import EVERY_CATEGORY, TableClassifier, make, realistic_page
from tests.test_rewrite_differential import hostile_documents

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

Result = tuple[bytes, list[TagEvent]]


class Visitor:
    """What differs between two visitors of the same page: injections and placeholder boxes."""

    def __init__(self, name: str) -> None:
        self.head = f"<script data-head={name}></script>".encode()
        self.body = f"<div id=banner-{name}>{name}</div>".encode()
        self.name = name
        self.asked: list[tuple[str | None, str]] = []

    def placeholder(self, vendor: Vendor | None, category: str) -> bytes:
        self.asked.append((vendor.id if vendor else None, category))
        return f"<div class=ph-{self.name}>{vendor.name if vendor else '-'} / {category}</div>".encode()

    def rewriter(self, classifier: object, allowed: Collection[str], limits: Limits | None = None) -> HtmlRewriter:
        return make(classifier, allowed, head=self.head, body=self.body, placeholder=self.placeholder, limits=limits)


def streamed(visitor: Visitor, doc: bytes, allowed: Collection[str]) -> Result:
    """The reference: a classifier with empty memos, the page fed in two pieces (never the page table)."""
    rewriter = visitor.rewriter(TableClassifier(), allowed)
    cut = len(doc) // 2
    out = rewriter.feed(doc[:cut]) + rewriter.feed(doc[cut:]) + rewriter.finish()
    return out, list(rewriter.events)


def whole(visitor: Visitor, classifier: object, doc: bytes, allowed: Collection[str],
          limits: Limits | None = None) -> Result:
    rewriter = visitor.rewriter(classifier, allowed, limits)
    return rewriter.document(doc), list(rewriter.events)


def pages(memos: Memos) -> list[PageResult]:
    """Every page the table keeps, oldest sibling first."""
    return [page for key in memos.pages for page in memos.pages.get(key) or ()]


EMBEDS = (b'<body class=page><iframe src="https://www.youtube.com/embed/abc"></iframe><p>text</p>'
          b'<img src="https://www.facebook.com/tr?id=1"><iframe src="https://www.youtube.com/embed/def"></iframe>')
PAGES = [static_page(), realistic_page(), b"<!doctype html><html><head><title>t</title></head>" + EMBEDS,
         EMBEDS, b"<p>a fragment, no document</p>", b"<title>no head, no body</title><p>x"]


@pytest.mark.parametrize("allowed", [(), ("analytics",), ("social", "ads"), EVERY_CATEGORY])
@pytest.mark.parametrize("doc", PAGES, ids=range(len(PAGES)))
def test_a_page_seen_before_is_replayed_with_this_visitors_injections_and_placeholders(
    doc: bytes, allowed: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    classifier = TableClassifier()
    first, second = Visitor("first"), Visitor("second")
    assert whole(first, classifier, doc, allowed) == streamed(Visitor("first"), doc, allowed)
    memos = memos_for(classifier, Limits())
    assert memos is not None and len(pages(memos)) == 1

    def not_again(self: HtmlRewriter, data: bytes) -> bytes:
        raise AssertionError("the page was rewritten again instead of replayed")

    monkeypatch.setattr(HtmlRewriter, "feed", not_again)
    replayed = whole(second, classifier, doc, allowed)
    monkeypatch.undo()
    assert replayed == streamed(Visitor("second"), doc, allowed)
    assert first.body not in replayed[0] and f"ph-{first.name}".encode() not in replayed[0]
    # The second visitor's placeholders were drawn for them, for the same vendors, in the same order.
    assert second.asked == first.asked


@pytest.mark.parametrize("allowed", [(), ("analytics",), EVERY_CATEGORY])
@pytest.mark.parametrize("doc", PAGES, ids=range(len(PAGES)))
def test_a_remembered_page_is_replayed_without_a_rewriter_as_document_gives_it(
    doc: bytes, allowed: tuple[str, ...]
) -> None:
    classifier = TableClassifier()
    second = Visitor("second")
    handlers = Handlers(second.head, second.body, second.placeholder)

    def settings(permitted: tuple[str, ...], host: str = "") -> Settings:
        categories = frozenset(permitted) | {"necessary"}
        permissions = Permissions(categories, unclassified=categories.issuperset(EVERY_CATEGORY))
        return Settings(classifier, permissions, host=host)

    assert replay_remembered(settings(allowed), handlers, doc) is None  # not seen yet
    whole(Visitor("first"), classifier, doc, allowed)
    found = replay_remembered(settings(allowed), handlers, doc)
    assert found is not None
    out, known = found
    assert (out, list(known.events)) == streamed(Visitor("second"), doc, allowed)
    assert known.outcomes == tuple((event.key, event.fired) for event in known.events)
    # Other permissions, a request host that alone makes hosts first party, another page: not this memo's.
    other = ("ads",) if allowed != ("ads",) else ()
    assert replay_remembered(settings(other), handlers, doc) is None
    assert replay_remembered(settings(allowed, host="shop.invented.example"), handlers, doc) is None
    assert replay_remembered(settings(allowed), handlers, doc + b" ") is None


@pytest.mark.parametrize("doc", PAGES, ids=range(len(PAGES)))
def test_visitors_who_get_the_same_pieces_are_sent_the_very_bytes_sent_before(doc: bytes) -> None:
    classifier = TableClassifier()
    first = Visitor("same").rewriter(classifier, ()).document(doc)
    again = Visitor("same").rewriter(classifier, ()).document(doc)
    assert again is first
    # Pieces as long as the first visitor's but not the same bytes: put in, not the first one's kept.
    other = Visitor("sane").rewriter(classifier, ()).document(doc)
    assert other == streamed(Visitor("sane"), doc, ())[0]
    assert (other != first) == (b"banner-same" in first or b"ph-same" in first or b"data-head=same" in first)


def test_a_page_equal_to_a_remembered_one_but_another_object_is_replayed() -> None:
    classifier = TableClassifier()
    doc = realistic_page()
    whole(Visitor("a"), classifier, doc, ())
    copy = bytearray(doc)
    rewriter = Visitor("b").rewriter(classifier, ())
    assert rewriter.document(copy) == streamed(Visitor("b"), doc, ())[0]
    memos = memos_for(classifier, Limits())
    assert memos is not None and len(pages(memos)) == 1


def test_pages_that_differ_only_in_the_middle_are_each_rewritten_on_their_own() -> None:
    classifier = TableClassifier()
    edge = b"<html><head><title>" + b"x" * 80 + b"</title></head><body>"
    tail = b"<p>" + b"y" * 80 + b"</p></body></html>"
    # Same length, same first and last bytes: a tracker, a first-party image, a per-request token.
    middles = [b'<img src="https://www.facebook.com/tr?id=1">', b'<img src="https://kactuce.com/tr?id=1">',
               b'<input name=csrf value="0123456789abcdef0">', b'<input name=csrf value="fedcba9876543210f">',
               b'<iframe src=https://www.youtube.com/e/1>']
    middles = [m.ljust(48) for m in middles]
    assert len({len(m) for m in middles}) == 1
    for _ in range(2):
        for middle in middles:
            doc = edge + middle + tail
            assert whole(Visitor("v"), classifier, doc, ()) == streamed(Visitor("v"), doc, ())
    memos = memos_for(classifier, Limits())
    assert memos is not None
    (key,) = memos.pages
    siblings = memos.pages.get(key) or ()
    assert len(siblings) == Limits().memo_page_siblings  # the oldest went
    # What is kept is counted; what a sibling that went kept stays counted until the table is emptied.
    assert sum(p.weight(memos.limits) for p in siblings) <= memos.pages.weight <= memos.limits.memo_page_bytes


def test_the_page_table_is_cleared_rather_than_keep_more_than_its_cap() -> None:
    limits = Limits(memo_page_bytes=60_000)
    classifier = TableClassifier()
    doc = realistic_page()
    for i in range(24):
        # Half of them share their first and last bytes (one key, siblings), half do not.
        page = (doc.replace(b"<title>Demo</title>", b"<title>Demo %02d</title>" % i) if i >= 12
                else doc.replace(b"<h2>Caf", b"<h2>%02d Caf" % i, 1))
        whole(Visitor("v"), classifier, page, (), limits)
        memos = memos_for(classifier, limits)
        assert memos is not None
        kept = pages(memos)
        assert sum(p.weight(limits) for p in kept) <= memos.pages.weight <= 60_000
        assert kept and kept[-1].page == page


def test_a_flood_of_tiny_distinct_pages_is_held_to_the_cap_by_what_each_entry_costs() -> None:
    classifier = TableClassifier()
    for i in range(3000):
        make(classifier).document(b"<p>%d</p>" % i)
    memos = memos_for(classifier, Limits())
    assert memos is not None
    entries = len(pages(memos))
    assert entries == 3000 and memos.pages.weight >= entries * memos.limits.memo_page_entry
    assert memos.limits.memo_page_bytes // memos.limits.memo_page_entry < 20_000  # so a flood never keeps more


def test_a_page_is_remembered_per_set_of_allowed_categories() -> None:
    classifier = TableClassifier()
    doc = realistic_page()
    refused = whole(Visitor("v"), classifier, doc, ())
    allowed = whole(Visitor("v"), classifier, doc, EVERY_CATEGORY)
    assert b"data-cookiegate-blocked" in refused[0] and b"data-cookiegate-blocked" not in allowed[0]
    assert whole(Visitor("v"), classifier, doc, ()) == refused
    assert whole(Visitor("v"), classifier, doc, EVERY_CATEGORY) == allowed


def test_a_page_rewritten_without_placeholders_is_not_replayed_to_a_visitor_who_gets_them() -> None:
    classifier = TableClassifier()
    bare = make(classifier)
    without = bare.document(EMBEDS)
    assert b"ph-v" not in without
    assert whole(Visitor("v"), classifier, EMBEDS, ()) == streamed(Visitor("v"), EMBEDS, ())
    assert b"ph-v" in whole(Visitor("v"), classifier, EMBEDS, ())[0]


def test_a_rewriter_already_fed_or_a_page_over_the_limit_is_rewritten_as_a_stream() -> None:
    classifier = TableClassifier()
    doc = realistic_page()
    rewriter = Visitor("v").rewriter(classifier, ())
    half = len(doc) // 2
    out = rewriter.feed(doc[:half]) + rewriter.document(doc[half:])
    assert (out, list(rewriter.events)) == streamed(Visitor("v"), doc, ())
    limits = Limits(memo_page_max=len(doc) - 1)
    assert whole(Visitor("v"), classifier, doc, (), limits) == streamed(Visitor("v"), doc, ())
    memos = memos_for(classifier, limits)
    assert memos is not None and not memos.pages and memos.pages.weight == 0
    with pytest.raises(RuntimeError):
        rewriter.document(b"<p>after the end</p>")


SHARED = TableClassifier()  # the page table fills across the generated documents below


@settings(max_examples=200, deadline=None)
@given(head=hostile_documents(), body=hostile_documents(),
       allowed=st.sets(st.sampled_from(["analytics", "ads", "social", "functional"])),
       shape=st.sampled_from(["document", "body only", "fragment"]))
def test_replayed_pages_are_what_rewriting_gives_for_every_visitor(
    head: bytes, body: bytes, allowed: set[str], shape: str
) -> None:
    if shape == "document":
        doc = b"<!doctype html><html><head>" + head + b"</head>" + EMBEDS + body
    elif shape == "body only":
        doc = EMBEDS + head + body
    else:
        doc = head + body
    for name in ("one", "two", "three"):
        assert whole(Visitor(name), SHARED, doc, allowed) == streamed(Visitor(name), doc, allowed)


@pytest.mark.parametrize("doc", PAGES, ids=range(len(PAGES)))
def test_what_the_counters_count_of_a_replayed_page_is_what_its_events_say(doc: bytes) -> None:
    classifier = TableClassifier()
    for _ in range(2):  # recorded, then replayed
        rewriter = Visitor("v").rewriter(classifier, ("analytics",))
        rewriter.document(doc)
        assert rewriter.outcomes() == tuple((e.key, e.fired) for e in rewriter.events)
    assert rewriter.outcomes() is rewriter.outcomes()
