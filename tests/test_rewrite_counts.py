"""What the rewriter counts, on every path, and what its memos may not carry from one response to another
(issues 19 and 20): a page replayed from memory counts and reads exactly as the same page rewritten from scratch,
for every set of permissions and every request host; an unclassified host leaks under no tokenizer state."""

from __future__ import annotations

from collections.abc import Collection

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cookiegate.policy._decision import Permissions
from cookiegate.policy._site import SiteHosts
from cookiegate.rewrite import Handlers, HtmlRewriter, Settings
from cookiegate.rewrite._memo import memos_for
from cookiegate.rewrite._settings import DEFAULT_LIMITS
from tests.test_rewrite import EVERY_CATEGORY, TableClassifier, run
from tests.test_rewrite_differential import hostile_documents, leaks

# Each test runs on the C skip scan and on the pure-Python scan that specifies it.
pytestmark = pytest.mark.usefixtures("scan_backend")

SITE = SiteHosts.of("kactuce.com")
#: Hosts a request may be made to: none, one the site owns, and two it does not (one named in the pages).
HOSTS = ("", "www.kactuce.com", "shop.invented.example", "preview.example.net")
UNKNOWN_PARTS = [
    '<img src="https://shop.invented.example/a.png">', '<img src="https://px.invented.example/p.gif">',
    '<link rel=stylesheet href="//shop.invented.example/s.css">', '<iframe src="https://www.kactuce.com/x"></iframe>',
    '<script>fetch("https://px.invented.example/c")</script>', "<noscript><img src=//px.invented.example/n></noscript>",
    '<iframe srcdoc="<img src=https://shop.invented.example/i>"></iframe>',
    '<style>.a{background:url(https://px.invented.example/b.png)}</style>',
    '<img data-cookiegate=analytics src="https://px.invented.example/e.gif">',
]


def _permissions(categories: Collection[str], on: Collection[str], off: Collection[str],
                 unclassified: bool) -> Permissions:
    return Permissions(frozenset({"necessary", *categories}), frozenset(on), frozenset(off), unclassified)


def _rewriter(classifier: object, permissions: Permissions, host: str) -> HtmlRewriter:
    handlers = Handlers(b"<h>", b"<b>", lambda vendor, category: f"<i>{category}</i>".encode())
    return HtmlRewriter(Settings(classifier, permissions, site=SITE, host=host), handlers)  # type: ignore[arg-type]


def _fresh(doc: bytes, permissions: Permissions, host: str) -> tuple[bytes, list[object], tuple[object, ...]]:
    """The reference: a classifier nobody used (empty memos), the page fed in two pieces."""
    rewriter = _rewriter(TableClassifier(), permissions, host)
    cut = len(doc) // 2
    out = rewriter.feed(doc[:cut]) + rewriter.feed(doc[cut:]) + rewriter.finish()
    return out, list(rewriter.events), rewriter.outcomes()


SHARED = TableClassifier()  # its memos fill across the examples, for every permissions and host


@st.composite
def pages(draw: st.DrawFn) -> bytes:
    parts = [draw(hostile_documents())]
    for _ in range(draw(st.integers(0, 4))):
        parts.append(draw(st.sampled_from(UNKNOWN_PARTS)).encode())
        parts.append(draw(hostile_documents()))
    return b"".join(parts)


@settings(max_examples=250, deadline=None)
@given(doc=pages(), categories=st.sets(st.sampled_from(EVERY_CATEGORY)),
       on=st.sets(st.sampled_from(["google-analytics", "meta-pixel", "youtube"])),
       off=st.sets(st.sampled_from(["google-analytics", "meta-pixel", "youtube"])),
       unclassified=st.booleans(), hosts=st.lists(st.sampled_from(HOSTS), min_size=2, max_size=3))
def test_a_replayed_page_counts_and_reads_as_the_same_page_rewritten_from_scratch(
    doc: bytes, categories: set[str], on: set[str], off: set[str], unclassified: bool, hosts: list[str]
) -> None:
    permissions = _permissions(categories, on, off, unclassified)
    for host in hosts:  # recorded for the first host, replayed (or recorded anew) for the others
        for _ in range(2):
            rewriter = _rewriter(SHARED, permissions, host)
            out = rewriter.document(doc)
            assert (out, list(rewriter.events), rewriter.outcomes()) == _fresh(doc, permissions, host)


@settings(max_examples=200, deadline=None)
@given(doc=hostile_documents(), cut=st.integers(0, 400))
def test_an_unclassified_host_leaks_under_no_tokenizer_state(doc: bytes, cut: int) -> None:
    # The hostile documents' Meta URLs moved to a host nobody classified; the visitor allows every category but
    # not unclassified third parties. Moved back, the output must show the oracle no Meta fetch.
    moved = doc.replace(b"facebook", b"invented1").replace(b"FACEBOOK", b"INVENTED1")
    out, _ = run(moved, allowed=EVERY_CATEGORY, unclassified=False, chunks=[min(cut, len(moved))])
    back = out.replace(b"invented1", b"facebook").replace(b"INVENTED1", b"FACEBOOK")
    # Meta's inline snippet (fbq(...)) is recognised by its code, not by a host, and the visitor allowed ads: it
    # runs. What is in question is every fetch from the moved hosts.
    fetched = [leak for leak in leaks(back, {"analytics", "social", "functional"}) if "inline script" not in leak]
    assert fetched == []


def test_the_leak_check_above_sees_an_unclassified_fetch_let_through() -> None:
    # Without this, a broken substitution would pass the property above.
    out, _ = run(b'<img src="https://www.invented1.com/tr">', unclassified=True)
    assert leaks(out.replace(b"invented1", b"facebook"), {"analytics", "social", "functional"}) != []


# -- nothing one request's host decided is handed to another ------------------------------------------------

OWN_HOST_PAGE = (b"<!doctype html><html><head><title>t</title></head><body>"
                 b'<img src="https://shop.invented.example/logo.png"><noscript><img src="//shop.invented.example/n">'
                 b'</noscript><link rel=stylesheet href="https://shop.invented.example/s.css"></body></html>')


@pytest.mark.parametrize("whole", [True, False], ids=["document", "streamed"])
def test_what_a_page_became_for_its_own_host_is_not_what_another_host_gets(whole: bool) -> None:
    classifier = TableClassifier()
    refused = _permissions((), (), (), False)
    for host, blocked in (("shop.invented.example", 0), ("other.example", 3), ("shop.invented.example", 0),
                          ("", 3)):
        rewriter = _rewriter(classifier, refused, host)
        out = rewriter.document(OWN_HOST_PAGE) if whole else rewriter.feed(OWN_HOST_PAGE) + rewriter.finish()
        assert out.count(b"data-cookiegate-blocked=unclassified") == blocked, host
        assert (out, list(rewriter.events)) == _fresh(OWN_HOST_PAGE, refused, host)[:2]


def test_a_start_tag_first_party_only_by_the_request_host_is_not_remembered_as_harmless() -> None:
    classifier = TableClassifier()
    refused = _permissions((), (), (), False)
    tag = b'<img src="https://shop.invented.example/logo.png">'
    _rewriter(classifier, refused, "shop.invented.example").feed(tag)
    memos = memos_for(classifier, DEFAULT_LIMITS, SITE)
    assert memos is not None and memos.tags.get(tag) is None and memos.plain.get(tag) is None
    # A tag first party for every request (the site's own host) is remembered.
    own = b'<img src="https://www.kactuce.com/logo.png">'
    rewriter = _rewriter(classifier, refused, "shop.invented.example")
    rewriter.feed(own + b"<p>")
    assert memos.tags.get(own) == b"img"
