"""The snippet corpus in Chromium: every catalogued vendor's official snippet, behind the gateway, from an EU
address (issue 19, "How it is shown to be true").

Per catalogue family, one page carries all of its corpus snippets (``e2e/corpus_site.py``):

- before any choice, with JavaScript on and off, nothing is fetched from a third party except what is
  ``necessary`` (payment, bot protection, public CDNs: never refused);
- the same bytes served bare make the requests: every snippet is live (with JavaScript off, every snippet
  with something a browser fetches without scripts: noscript pixels, embeds, stylesheets);
- after "Accept all" every catalogued vendor of the page fires (one of its hosts is requested);
- an invented vendor's snippet (hosts nobody classified) fetches nothing before a choice, with JavaScript on and
  off, and still nothing after "Accept all"; it shows up in the dashboard's data and in ``cookiegate lint``;
- an unknown ``<img>``, ``<iframe>``, ``<link rel=stylesheet>``, ``<link rel=preload>`` and inline loader stay
  blocked before a choice, whole and in 7-byte chunks;
- the embeds of maps, audio, video, posts and booking widgets show a placeholder before a choice, and a map's
  placeholder loads the map on request.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from playwright.sync_api import ViewportSize, expect

from cookiegate.policy._catalog import TagRegistry, Vendor
from cookiegate.policy._categories import NECESSARY
from e2e.conftest import NewVisitor, RecordedRequest, Visitor, format_requests, serve
from e2e.corpus_site import ADMIN_TOKEN, LOG_ENV, UNGATED_PREFIX, UNKNOWN_ELEMENTS, UNKNOWN_HOST
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


# -- hosts nobody classified ------------------------------------------------------------------------------

INVENTED: Final = "quillmetrics-invented.example"


def _invented(requests: list[RecordedRequest]) -> list[RecordedRequest]:
    return [r for r in requests if r.host == INVENTED or r.host.endswith("." + INVENTED)]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_invented_vendor_fetches_nothing_before_a_choice_and_its_bare_page_does(
    new_visitor: NewVisitor, corpus_url: str, javascript: bool
) -> None:
    visitor = _visit(new_visitor, corpus_url, "/corpus/unclassified", javascript=javascript)
    assert not visitor.requests, "third-party requests before any choice:\n" + format_requests(visitor.requests)
    bare = _visit(new_visitor, corpus_url, f"{UNGATED_PREFIX}/corpus/unclassified", javascript=javascript)
    hosts = {r.host for r in _invented(bare.requests)}
    # With JavaScript: the inline loader, the script, the frame; without: the noscript pixel and the frame.
    expected = {f"cdn.{INVENTED}", f"tag.{INVENTED}", f"widgets.{INVENTED}"} if javascript else {
        f"px.{INVENTED}", f"widgets.{INVENTED}"}
    assert hosts == expected, format_requests(bare.requests)


def _admin_json(base: str, path: str) -> Any:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local test server
        return json.loads(response.read())


def test_the_invented_vendor_stays_blocked_after_accept_all_and_shows_in_the_dashboard_and_lint(
    new_visitor: NewVisitor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "corpus-log.db"
    monkeypatch.setenv(LOG_ENV, str(log))
    with serve("e2e.corpus_site:corpus_app_factory") as url:
        visitor = _visit(new_visitor, url, "/corpus/unclassified")
        mark = visitor.mark()
        choose(visitor, "accept_all")
        visitor.reload()
        assert allowed_categories(visitor.consent_state()) == {NECESSARY, "functional", "analytics", "ads", "social"}
        leaks = _invented(visitor.requests_since(mark))
        assert not leaks, "the invented vendor loaded after Accept all:\n" + format_requests(leaks)
        data = _admin_json(url, "/cookiegate/admin/data.json")
        counted = {(row["tag"], row["blocked_24h"]) for row in data["tag_counts"]}
        for host in ("cdn", "tag", "widgets", "px"):
            assert any(tag == f"unclassified:{host}.{INVENTED}" and blocked >= 1 for tag, blocked in counted), (
                host, sorted(counted))
    # The server stopped: its counters are in the log, where lint reads what the gateway met on the pages.
    config = tmp_path / "cookiegate.toml"
    config.write_text(f'log_url = "sqlite:///{log}"\n')
    linted = subprocess.run([sys.executable, "-m", "cookiegate.cli", "lint", "--config", str(config)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert linted.returncode == 1, linted.stdout + linted.stderr
    out = linted.stdout
    for host in ("cdn", "tag", "widgets", "px"):
        assert f"VIOLATION unclassified-host: unclassified host {host}.{INVENTED}:" in out, out


@pytest.mark.parametrize("path", ["/unknown", "/unknown/chunked"], ids=["whole", "7-byte-chunks"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_unknown_elements_stay_blocked_before_a_choice(
    new_visitor: NewVisitor, corpus_url: str, path: str, javascript: bool
) -> None:
    visitor = _visit(new_visitor, corpus_url, path, javascript=javascript)
    expect(visitor.page.locator("#unknown-end")).to_have_count(1)
    assert not visitor.requests, "fetched before any choice:\n" + format_requests(visitor.requests)


def test_the_unknown_elements_are_live_served_bare(new_visitor: NewVisitor, corpus_url: str) -> None:
    visitor = _visit(new_visitor, corpus_url, f"{UNGATED_PREFIX}/unknown")
    fetched = {r.host.split(".", 1)[0] for r in visitor.requests if r.host.endswith(UNKNOWN_HOST)}
    assert fetched == {"img", "frame", "css", "preload", "loader"}, format_requests(visitor.requests)
    assert len(UNKNOWN_ELEMENTS) == len(fetched)


# -- placeholders for embeds ---------------------------------------------------------------------------------

#: The embeds issue 19 names, by corpus file, and the page (family) they are on.
EMBEDS: Final = ("google-maps", "spotify", "soundcloud", "wistia", "instagram-embed", "x-widgets",
                 "facebook-social", "tiktok-embed", "calendly", "typeform")


@pytest.mark.parametrize("vendor_id", EMBEDS)
def test_a_refused_embed_shows_a_placeholder_naming_its_vendor(
    new_visitor: NewVisitor, corpus_url: str, vendor_id: str
) -> None:
    snippet = next(s for f in FAMILIES for s in corpus_by_family()[f] if s["vendor"] == vendor_id)
    visitor = _visit(new_visitor, corpus_url, f"/corpus/{snippet['family']}")
    box = visitor.page.locator(f'section[data-snippet="{snippet["file"]}"] .cookiegate-placeholder').first
    expect(box).to_be_visible()
    expect(box).to_contain_text(_vendor(vendor_id).name)


def test_a_maps_placeholder_loads_the_map_on_request(new_visitor: NewVisitor, corpus_url: str) -> None:
    visitor = _visit(new_visitor, corpus_url, "/corpus/maps")
    maps = _vendor("google-maps")
    assert not [r for r in visitor.requests if r.category != NECESSARY]
    box = visitor.page.locator('section[data-snippet="google-maps.html"] .cookiegate-placeholder').first
    expect(box.locator("button[type=submit]")).to_contain_text(maps.name)  # "Always allow Google Maps"
    # "Load this once": the map's own script runs in this page view, nothing is stored.
    mark = visitor.mark()
    with visitor.page.expect_request(lambda r: _REGISTRY.vendor_for_url(r.url) == maps):
        box.locator("[data-cg-once]").click()
    visitor.page.wait_for_load_state("networkidle")
    assert _fired(maps, visitor.requests_since(mark)), format_requests(visitor.requests_since(mark))
    # Only what the visitor asked for: no analytics, ads or social on the way.
    assert not [r for r in visitor.requests_since(mark) if r.category in ("analytics", "ads", "social")]
