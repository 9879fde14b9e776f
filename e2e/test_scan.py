"""``cookiegate scan`` in real Chromium: the demo through the admin preview, and a site that leaks."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from cookiegate.cli._scan import ScanError, format_report, leak_summary, scan
from e2e.conftest import ROOT, serve
from tests.fixtures.leaky_site import ADMIN_TOKEN

pytestmark = pytest.mark.e2e

TRACKING = frozenset({"analytics", "ads", "social"})


@pytest.fixture(scope="module")
def demo_admin_url() -> Iterator[str]:
    with serve("tests.fixtures.leaky_site:demo_admin_factory") as url:
        yield url


@pytest.fixture(scope="module")
def leaky_url() -> Iterator[str]:
    with serve("tests.fixtures.leaky_site:leaky_app_factory") as url:
        yield url


@pytest.mark.parametrize("path", ["/", "/pricing"])
def test_eu_visitor_before_consent_has_no_leaks_on_the_demo(browser: Browser, demo_admin_url: str, path: str) -> None:
    report = scan(demo_admin_url + path, token=ADMIN_TOKEN, country="FR", consent="none", browser=browser)
    assert report.allowed == {"necessary"}, report.decision_header
    assert not report.leaks, format_report(report)
    # Nothing of a tracking category was even attempted (the gateway neutralized every tag).
    assert not [r for r in report.requests if r.category in TRACKING], format_report(report)


def test_eu_visitor_after_accept_fires_the_demo_trackers_without_leaks(browser: Browser, demo_admin_url: str) -> None:
    report = scan(demo_admin_url + "/", token=ADMIN_TOKEN, country="DE", consent="accept", browser=browser)
    assert {"analytics", "ads"} <= report.allowed
    fired = {r.category for r in report.requests if not r.first_party}
    assert {"analytics", "ads"} <= fired, format_report(report)
    assert not report.leaks, leak_summary(report.leaks)


def test_a_tag_that_bypasses_the_gateway_is_reported_as_a_leak(browser: Browser, leaky_url: str) -> None:
    report = scan(leaky_url + "/", token=ADMIN_TOKEN, country="FR", consent="none", browser=browser)
    leaked = {(getattr(x, "vendor", None), x.category) for x in report.leaks}
    assert ("google-analytics", "analytics") in leaked, format_report(report)
    assert any(c.name == "_ga" and c.leak for c in report.cookies), format_report(report)


def test_the_same_page_is_clean_once_the_visitor_accepted_analytics(browser: Browser, leaky_url: str) -> None:
    report = scan(leaky_url + "/", token=ADMIN_TOKEN, country="FR", consent="analytics", browser=browser)
    assert any(r.vendor == "google-analytics" for r in report.requests), format_report(report)
    assert not report.leaks, format_report(report)


def test_scan_without_the_admin_token_fails_instead_of_scanning_the_wrong_visitor(
    browser: Browser, demo_admin_url: str
) -> None:
    with pytest.raises(ScanError, match="preview was not honoured"):
        scan(demo_admin_url + "/", token="wrong-" + "x" * 40, country="FR", browser=browser)


def test_scan_command_exits_non_zero_on_a_leak_and_zero_on_a_clean_page(leaky_url: str, demo_admin_url: str) -> None:
    env = {**os.environ, "COOKIEGATE_ADMIN_TOKEN": ADMIN_TOKEN}
    env.pop("COOKIEGATE_CONFIG", None)
    command = [sys.executable, "-m", "cookiegate.cli", "scan"]
    leaky = subprocess.run(
        [*command, leaky_url + "/", "--country", "FR", "--none"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert leaky.returncode == 1, leaky.stdout + leaky.stderr
    assert "LEAK" in leaky.stdout and "google-analytics" in leaky.stdout
    clean = subprocess.run(
        [*command, demo_admin_url + "/", "--country", "FR", "--reject"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "no leaks" in clean.stdout
