"""The properties every input must keep, checked by the atheris fuzzer (``fuzz/fuzz_rewriter.py``) and by the
suite's short runs: for any bytes and any permissions,

1. nothing a refused vendor serves is fetched or run from the rewriter's output, as html5lib reads it;
2. the output does not depend on how the body is cut into pieces, nor on the skip scan (C or Python);
3. what earlier pages left in the memos (tags, skip, regions, whole pages) does not change the output;
4. the C skip scan stops where its Python specification stops, with and without known tags.
"""

from __future__ import annotations

import functools
from typing import Final

from cookiegate.policy._catalog import TagRegistry, Vendor
from cookiegate.policy._decision import Permissions
from cookiegate.rewrite import Handlers, HtmlRewriter, Settings, TagEvent, _backend, _scan
from cookiegate.rewrite._tokenizer import is_alpha
from fuzz.oracle import leaks

#: The visitors an input is rewritten for (its first byte picks one).
_EVERY: Final = frozenset({"necessary", "functional", "analytics", "ads", "social"})
PERMISSIONS: Final = (
    Permissions(frozenset({"necessary"})),
    Permissions(frozenset({"necessary", "analytics"})),
    Permissions(frozenset({"necessary", "ads", "social"})),
    Permissions(_EVERY, vendors_off=frozenset({"meta-pixel"})),
    Permissions(_EVERY, unclassified=True),
)
HANDLERS: Final = Handlers(head=b"<script src=/_cg/b.js></script>", body=b"<div id=cg></div>",
                           placeholder=lambda vendor, category: b"<div class=cg-placeholder></div>")
#: The oracle reads at most this much of a document (html5lib is slow; the rewriter is not the bottleneck).
ORACLE_MAX: Final = 16 * 1024


@functools.cache
def registry() -> TagRegistry:
    """The built-in catalogue: the rewriter's classifier and the oracle's."""
    return TagRegistry.builtin()


class Fresh:
    """The registry behind an object of its own: the rewriter's memos are per classifier object, so each
    ``Fresh()`` starts with empty ones."""

    __slots__ = ("__weakref__",)

    def vendor_for_url(self, url: str) -> Vendor | None:
        return registry().vendor_for_url(url)

    def vendor_for_inline(self, text: str) -> Vendor | None:
        return registry().vendor_for_inline(text)


#: Memos warmed by every input checked in this process.
WARM: Final = Fresh()


def rewrite(doc: bytes, classifier: object, permissions: Permissions, cuts: tuple[int, ...] = (),
            whole: bool = False) -> tuple[bytes, list[TagEvent]]:
    """``doc`` rewritten, fed in pieces cut at ``cuts`` (or given whole to ``document``)."""
    rewriter = HtmlRewriter(Settings(classifier, permissions), HANDLERS)  # type: ignore[arg-type]
    if whole:
        return rewriter.document(doc), list(rewriter.events)
    bounds = [0, *cuts, len(doc)]
    out = b"".join(rewriter.feed(doc[a:b]) for a, b in zip(bounds, bounds[1:], strict=False))
    return out + rewriter.finish(), list(rewriter.events)


def check(data: bytes, *, oracle: bool = True) -> None:
    """Every property above, for one input: ``data[0]`` picks the permissions, ``data[1]`` a cut, the rest is
    the document."""
    if len(data) < 2:
        return
    permissions = PERMISSIONS[data[0] % len(PERMISSIONS)]
    doc = data[2:]
    cut = min(len(doc), data[1] * max(1, len(doc)) // 255)
    expected = rewrite(doc, Fresh(), permissions)
    assert rewrite(doc, Fresh(), permissions, (cut,)) == expected, "chunking changed the output"
    assert rewrite(doc, Fresh(), permissions, tuple(range(1, len(doc), 7))) == expected, "small pieces"
    assert rewrite(doc, WARM, permissions) == expected, "warmed memos changed the output"
    assert rewrite(doc, WARM, permissions, whole=True) == expected, "the page memo (recorded)"
    assert rewrite(doc, WARM, permissions, whole=True) == expected, "the page memo (replayed)"
    speedups = _backend.load_speedups()
    if speedups is not None:
        _check_scans(doc, speedups.skip)
        saved = _backend.skip
        _backend.skip = _scan.skip
        try:
            assert rewrite(doc, Fresh(), permissions) == expected, "the Python scan rewrote otherwise"
        finally:
            _backend.skip = saved
    if oracle and len(doc) <= ORACLE_MAX:
        found = leaks(expected[0], registry(), lambda vendor, category: permissions.fires(
            vendor.id if vendor else None, category))
        assert not found, f"fetched although refused: {found}"


def _check_scans(doc: bytes, skip: object) -> None:
    known = {doc[i : doc.find(b">", i) + 1] for i in range(len(doc) - 1)
             if doc[i] == 0x3C and is_alpha(doc[i + 1]) and doc.find(b">", i) > 0}
    for start in range(0, len(doc) + 1, max(1, len(doc) // 16)):
        for plain in (None, known):
            got = skip(doc, start, plain)  # type: ignore[operator]
            assert got == _scan.skip(doc, start, plain), f"C and Python scans differ at {start} ({plain is not None})"
