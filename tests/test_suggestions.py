"""Suggested categories for unclassified hosts (issue 19): the same company's other hosts first, then a well-known
path, then a well-known host label; and the schema of the hints' data file."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from typing import Any

import pytest

from cookiegate.policy._categories import ADS, ANALYTICS, FUNCTIONAL, SOCIAL
from cookiegate.policy._suggestions import check_hints, registrable_domain, suggest_category
from cookiegate.policy._vendor import Vendor

HINTS: dict[str, Any] = tomllib.loads((files("cookiegate") / "policy" / "suggestions.toml").read_text("utf-8"))


def test_the_hints_file_follows_its_schema() -> None:
    assert check_hints(HINTS) == []


@pytest.mark.parametrize(("data", "problem"), [
    ({"hint": [{"category": "marketing", "paths": ["x"]}]}, "category"),
    ({"hint": [{"category": "ads", "paths": ["/pixel"]}]}, "paths"),
    ({"hint": [{"category": "ads", "labels": ["PX"]}]}, "labels"),
    ({"hint": [{"category": "necessary", "paths": ["x"]}]}, "category"),
    ({"hint": [{"category": "ads", "words": ["x"]}]}, "keys"),
    ({"hints": []}, "[[hint]]"),
])
def test_a_broken_hints_file_is_refused_naming_what_is_wrong(data: dict[str, Any], problem: str) -> None:
    problems = check_hints(data)
    assert problems and problem in problems[0]


@pytest.mark.parametrize(("host", "domain"), [
    ("a.b.example.com", "example.com"),
    ("shop.example.co.uk", "example.co.uk"),
    ("example.de", "example.de"),
    ("x.y.example.com.au", "example.com.au"),
])
def test_registrable_domain(host: str, domain: str) -> None:
    assert registrable_domain(host) == domain


@pytest.mark.parametrize(("host", "paths", "category", "because"), [
    # The company: a host of one of its vendors' domains, or another domain with the same name.
    ("insights.hotjar.net", (), ANALYTICS, "Hotjar"),
    ("new-endpoint.clarity.ms", ("/collect",), ANALYTICS, "Microsoft"),
    ("www.google.com", ("/images/branding.png",), ADS, "Google LLC"),  # its most sensitive vendor there
    # A well-known path, then a well-known host label.
    ("px.quillmetrics-invented.example", ("/collect?site=QM-1",), ANALYTICS, "/collect"),
    ("t.invented.example", ("/v2/pixel.gif?e=1",), ADS, "/pixel"),
    ("t.invented.example", ("/tr?id=1",), ADS, "/tr"),
    ("t.invented.example", ("/collect", "/tr"), ADS, "/tr"),  # the most sensitive of what is found
    ("widgets.quillmetrics-invented.example", ("/embed/reviews",), SOCIAL, "/embed"),
    ("fonts.invented.example", ("/s/inter.woff2",), FUNCTIONAL, "fonts."),
    ("analytics.example.co.uk", (), ANALYTICS, "analytics."),
])
def test_a_suggestion_names_its_category_and_its_evidence(
    host: str, paths: tuple[str, ...], category: str, because: str
) -> None:
    suggestion = suggest_category(host, paths)
    assert suggestion is not None and suggestion.category == category and because in suggestion.reason


@pytest.mark.parametrize(("host", "paths"), [
    ("cdn.quillmetrics-invented.example", ("/qm.js",)),
    ("example.org", ()),
    ("px.example", ()),  # a label is a hint only below a registrable domain
    ("t.invented.example", ("/pixels-of-art/a.png",)),  # words are matched whole
])
def test_no_suggestion_where_nothing_points_anywhere(host: str, paths: tuple[str, ...]) -> None:
    assert suggest_category(host, paths) is None


def test_the_sites_own_registry_counts_as_company_evidence() -> None:
    tag = Vendor(id="quill", name="QuillMetrics", company="Quill Inc.", category=ADS, hosts=("tag.quill.example",))
    suggestion = suggest_category("cdn.quill.example", vendors=(tag,))
    assert suggestion is not None and suggestion.category == ADS and "Quill Inc." in suggestion.reason
