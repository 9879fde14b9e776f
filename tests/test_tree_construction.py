"""Every html5lib tree-construction document with trackers injected at many points, rewritten for a visitor who
refuses them, judged by html5lib (issue 23, item 5): whatever markup surrounds a tracker, the browser fetches
nothing refused from the output. The fuzzers' long runs inject at every point (docs/hardening.md)."""

from __future__ import annotations

import pytest

from cookiegate.policy._decision import Permissions
from fuzz.harness import Fresh, registry, rewrite
from fuzz.oracle import leaks
from fuzz.seeds import tree_construction_documents

REFUSE_ALL = Permissions(frozenset({"necessary"}))
TRACKERS = [
    b'<img src="https://www.facebook.com/tr?id=1&amp;ev=PageView">',
    b"<script src=https://connect.facebook.net/en_US/fbevents.js></script>",
    b"<script>fbq('init','1');fbq('track','PageView')</script>",
    b"<svg><script><![CDATA[/*</script>*/]]>fbq('init','1')</script></svg>",
    b"<iframe src=//www.youtube.com/embed/x></iframe>",
    b"<style>.a{background:url(https://www.facebook.com/tr?id=1)}</style>",
]


def _points(document: bytes) -> list[int]:
    """Where to inject: the start, the end, and before each "<" and after each ">" (every fourth, for time)."""
    points = {0, len(document)}
    points.update(i for i, c in enumerate(document) if c == 0x3C)
    points.update(i + 1 for i, c in enumerate(document) if c == 0x3E)
    return sorted(points)[::4] or [0]


def _fires(vendor: object, category: str) -> bool:
    return REFUSE_ALL.fires(getattr(vendor, "id", None), category)


@pytest.mark.parametrize("part", range(4))
def test_no_tracker_injected_into_any_tree_construction_document_is_fetched(part: int) -> None:
    documents = tree_construction_documents()
    checked = 0
    for index in range(part, len(documents), 4):
        document = documents[index]
        for n, point in enumerate(_points(document)):
            tracker = TRACKERS[(index + n) % len(TRACKERS)]
            page = document[:point] + tracker + document[point:]
            out, _ = rewrite(page, Fresh(), REFUSE_ALL)
            found = leaks(out, registry(), _fires)
            assert not found, (index, point, page, found)
            checked += 1
    assert checked > 800
