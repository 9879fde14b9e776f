"""The rewriter leaks of issue 23 (items 1-4), judged by Chromium: each page of its own fetches its tracker
when served bare, and fetches nothing refused behind the gateway (an EU visitor who has not chosen)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import HOSTILE_PAGES, TRACKING, UNGATED_HOSTILE_PATH, NewVisitor, Visitor, format_requests

pytestmark = pytest.mark.e2e


def _variants(visitor: Visitor) -> set[str]:
    return {parse_qs(urlsplit(r.url).query).get("cgv", ["?"])[0] for r in visitor.requests}


def _settle(visitor: Visitor, variant: str, expected: bool) -> None:
    """Wait until the variant's request was made (the control), or long enough that it would have been."""
    deadline = time.monotonic() + (10.0 if expected else 2.0)
    while time.monotonic() < deadline and (variant in _variants(visitor)) != expected:
        visitor.page.wait_for_timeout(100)


def _refused(visitor: Visitor) -> list[str]:
    return [str(r) for r in visitor.requests if r.category in TRACKING]


def test_a_page_cut_inside_a_quoted_value_cannot_switch_off_blocking_for_the_next_visitor(
    new_visitor: NewVisitor, hostile_server_url: str
) -> None:
    control = new_visitor("FR", server=hostile_server_url)
    control.goto(UNGATED_HOSTILE_PATH + "/page/memo-poisoned")
    _settle(control, "memo-poisoned", True)
    assert "memo-poisoned" in _variants(control), "Chromium did not fetch the tracker of the bare page"

    poisoner = new_visitor("FR", server=hostile_server_url)
    poisoner.goto("/hostile/page/memo-poison")
    victim = new_visitor("FR", server=hostile_server_url)
    victim.goto("/hostile/page/memo-poisoned")
    expect(victim.page.locator("#hostile-end")).to_have_text("end")
    _settle(victim, "memo-poisoned", False)
    assert not _refused(victim), "fetched behind the gateway:\n" + format_requests(victim.requests)


def test_what_a_srcdoc_became_for_a_visitor_who_allowed_its_tracker_is_not_what_the_next_one_gets(
    new_visitor: NewVisitor, hostile_server_url: str
) -> None:
    allowing = new_visitor("US-NY", server=hostile_server_url)  # a notice regime: everything on by default
    allowing.goto("/hostile/page/memo-srcdoc")
    _settle(allowing, "memo-srcdoc", True)
    assert "memo-srcdoc" in _variants(allowing), "the allowing visitor's page did not load its tracker"
    refusing = new_visitor("FR", server=hostile_server_url)
    refusing.goto("/hostile/page/memo-srcdoc")
    expect(refusing.page.locator("#hostile-end")).to_have_text("end")
    _settle(refusing, "memo-srcdoc", False)
    assert not _refused(refusing), "fetched behind the gateway:\n" + format_requests(refusing.requests)


@pytest.mark.parametrize("name", ["refresh-meta-space", "refresh-meta-tab-url", "refresh-header-space"])
def test_a_refresh_to_a_refused_vendor_does_not_navigate_there_however_its_delay_is_separated(
    new_visitor: NewVisitor, hostile_server_url: str, name: str
) -> None:
    control = new_visitor("FR", server=hostile_server_url)
    control.goto(f"{UNGATED_HOSTILE_PATH}/page/{name}")
    _settle(control, name, True)
    assert name in _variants(control), "Chromium did not follow the refresh of the bare page"
    visitor = new_visitor("FR", server=hostile_server_url)
    visitor.goto(f"/hostile/page/{name}")
    _settle(visitor, name, False)
    expect(visitor.page.locator("#hostile-end")).to_have_text("end")  # still on the page: no refresh
    assert not _refused(visitor), "fetched behind the gateway:\n" + format_requests(visitor.requests)


def test_every_page_of_its_own_has_a_tracker_named_in_it() -> None:
    # The controls above and below judge by the cgv name: each page must carry one (or be a poisoner).
    for name, (page, headers) in HOSTILE_PAGES.items():
        assert f"cgv={name}" in page + str(headers) or name.endswith("-poison"), name
