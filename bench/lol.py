"""A minimal rewriter on Cloudflare's lol-html (``python-lolhtml``, alpha) for the microbenchmark only.

It does what the selector engine makes cheap: every element with a ``src``/``href`` is classified by the
same registry and neutralized like cookiegate does (``type=text/plain`` + attribute renamed). It does not
classify inline scripts, ``srcset``, ``style`` or the other hostile variants; it is a speed reference, not
a replacement (see the README's performance notes).
"""

from __future__ import annotations

import html
from collections.abc import Collection
from typing import Any

from cookiegate.policy._catalog import TagRegistry


def lolhtml_available() -> bool:
    """Whether the bindings import."""
    try:
        import lolhtml  # noqa: F401
    except ImportError:
        return False
    return True


class _Handler:
    def __init__(self, registry: TagRegistry, allowed: Collection[str]) -> None:
        self.registry = registry
        self.allowed = frozenset(allowed) | {"necessary"}

    def element(self, el: Any) -> None:
        for attr in ("src", "href"):
            value = el.get_attribute(attr)
            if value is None:
                continue
            vendor = self.registry.vendor_for_url(html.unescape(value))
            if vendor is not None and vendor.category not in self.allowed:
                el.remove_attribute(attr)
                el.set_attribute("data-cookiegate-" + attr, value)
                el.set_attribute("data-cookiegate-blocked", vendor.category)
                if el.tag_name == "script":
                    el.set_attribute("type", "text/plain")


def lolhtml_rewrite(page: bytes, registry: TagRegistry, allowed: Collection[str], chunk: int = 0) -> bytes:
    """Rewrite ``page`` with lol-html (one write, or ``chunk``-sized writes)."""
    import lolhtml

    out: list[bytes] = []

    def sink(chunk: Any) -> None:
        out.append(bytes(chunk))

    rewriter = lolhtml.HTMLRewriter(sink)
    rewriter.on("script[src], img[src], iframe[src], link[href]", _Handler(registry, allowed))
    if chunk:
        for i in range(0, len(page), chunk):
            rewriter.write(page[i : i + chunk])
    else:
        rewriter.write(page)
    rewriter.end()
    return b"".join(out)
