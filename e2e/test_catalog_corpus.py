"""The snippet corpus in Chromium: every catalogued vendor's official snippet, behind the gateway, from an EU
address (issue 19, "How it is shown to be true").

Per catalogue family, one page carries all of its corpus snippets (``e2e/corpus_site.py``):

- before any choice, with JavaScript on and off, nothing is fetched from a third party except what is
  ``necessary`` (payment, bot protection, public CDNs: never refused);
- the same bytes served bare make the requests: every snippet is live (with JavaScript off, every snippet
  with something a browser fetches without scripts: noscript pixels, embeds, stylesheets);
- after "Accept all" every catalogued vendor of the page fires (one of its hosts is requested).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest
from playwright.sync_api import ViewportSize

from cookiegate.policy._catalog import TagRegistry, Vendor
from cookiegate.policy._categories import NECESSARY
from e2e.conftest import NewVisitor, RecordedRequest, Visitor, format_requests, serve
from e2e.corpus_site import UNGATED_PREFIX
from tests.snippet_corpus import SNIPPETS, corpus_by_family, parse_snippet

from .test_consent_flows import allowed_categories, assert_regime, choose

pytestmark = pytest.mark.e2e

FAMILIES: Final = sorted(corpus_by_family())
#: Tall enough that no lazily loaded embed of a family page is off screen.
VIEWPORT: Final = ViewportSize(width=1280, height=12000)
_REGISTRY: Final = TagRegistry.builtin()


@pytest.fixture(scope="module")
def corpus_url() -> Iterator[str]:
    with serve("e2e.corpus_site:corpus_app_factory") as url:
        yield url


def _visit(new_visitor: NewVisitor, server: str, path: str, *, javascript: bool = True) -> Visitor:
    visitor = new_visitor("FR", javascript=javascript, server=server)
    visitor.page.set_viewport_size(VIEWPORT)
    visitor.goto(path)
    return visitor


def _vendor(vendor_id: str) -> Vendor:
    vendor = _REGISTRY.vendor(vendor_id)
    assert vendor is not None, vendor_id
    return vendor


def _fired(vendor: Vendor, requests: list[RecordedRequest]) -> bool:
    """A request the registry attributes to the vendor, or one to a host it declares (a loader on a shared
    host, such as VK's openapi.js for its retargeting pixel, is attributed to the shared host's other user)."""
    declared = {h for h in (*vendor.hosts, *vendor.shared_hosts)}
    return any(
        r.vendor == vendor.id or any(r.host == h or r.host.endswith("." + h) for h in declared) for r in requests
    )


def _live_without_javascript(snippet: dict[str, str]) -> bool:
    return any(f.without_javascript for f in parse_snippet(SNIPPETS / snippet["file"]).fetches)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("family", FAMILIES)
def test_before_any_choice_no_snippet_fetches_anything_but_necessary(
    new_visitor: NewVisitor, corpus_url: str, family: str, javascript: bool
) -> None:
    visitor = _visit(new_visitor, corpus_url, f"/corpus/{family}", javascript=javascript)
    state = visitor.consent_state()
    assert_regime(state, country="FR", name="opt-in")
    assert allowed_categories(state) == {NECESSARY}
    leaks = [r for r in visitor.requests if r.category != NECESSARY]
    assert not leaks, f"third-party requests before any choice ({family}):\n" + format_requests(leaks)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("family", FAMILIES)
def test_served_bare_every_snippet_is_live(
    new_visitor: NewVisitor, corpus_url: str, family: str, javascript: bool
) -> None:
    # The control: without the gateway the same bytes make Chromium fetch from every vendor, so the absence
    # of requests behind the gateway means something.
    visitor = _visit(new_visitor, corpus_url, f"{UNGATED_PREFIX}/corpus/{family}", javascript=javascript)
    snippets = corpus_by_family()[family]
    expected = [s for s in snippets if javascript or _live_without_javascript(s)]
    silent = [s["file"] for s in expected if not _fired(_vendor(s["vendor"]), visitor.requests)]
    assert not silent, f"snippets that fetched nothing served bare: {silent}\n" + format_requests(visitor.requests)
    unknown = [r for r in visitor.requests if r.vendor is None]
    assert not unknown, "requests the catalogue does not classify:\n" + format_requests(unknown)


@pytest.mark.parametrize("family", FAMILIES)
def test_after_accept_all_every_catalogued_vendor_fires(new_visitor: NewVisitor, corpus_url: str, family: str) -> None:
    visitor = _visit(new_visitor, corpus_url, f"/corpus/{family}")
    mark = visitor.mark()
    choose(visitor, "accept_all")
    after = visitor.requests_since(mark)
    silent = sorted({s["vendor"] for s in corpus_by_family()[family]} - {
        s["vendor"] for s in corpus_by_family()[family] if _fired(_vendor(s["vendor"]), after)
    })
    assert not silent, f"vendors that did not fire after Accept all ({family}): {silent}\n" + format_requests(after)
