"""A new policy revision asks everyone again: an older consent no longer fires anything."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from cookiegate.policy._categories import OPTIONAL_CATEGORIES
from cookiegate.policy._consent import Choice, ConsentCodec, new_consent_id

from .conftest import E2E_SECRET, TRACKING, NewVisitor
from .test_consent_flows import BANNER, choose

pytestmark = pytest.mark.e2e


def old_revision_cookie() -> str:
    """A consent cookie this server signed for policy revision "0" (the demo is at revision "1")."""
    codec = ConsentCodec([E2E_SECRET], policy_revision="0", max_age=180 * 86400)
    return codec.encode(
        Choice(
            consent_id=new_consent_id(),
            categories=dict.fromkeys(OPTIONAL_CATEGORIES, True),
            policy_revision="0",
            regime_key="FR",
            regime_kind="opt-in",
            action="accept_all",
            issued_at=int(time.time()),
        )
    )


def test_after_a_policy_change_an_old_consent_fires_nothing_and_the_banner_asks_again(
    new_visitor: NewVisitor,
) -> None:
    visitor = new_visitor("FR")
    visitor.context.add_cookies(
        [{"name": "cookiegate_consent", "value": old_revision_cookie(), "url": visitor.base_url + "/"}]
    )
    visitor.goto("/")
    banner = visitor.page.locator(BANNER)
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-reconsent", "1")
    expect(banner.locator("#cookiegate-title")).to_have_text("Our cookie policy has changed")
    assert not visitor.requests_of(TRACKING), f"an old revision's consent must not fire:\n{visitor.describe()}"

    mark = visitor.mark()
    choose(visitor, "accept_all")
    assert visitor.requests_of(TRACKING, mark), f"consent under the new revision fires:\n{visitor.describe()}"
