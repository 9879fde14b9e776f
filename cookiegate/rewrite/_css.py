"""The URLs in CSS text (a ``<style>`` element, a ``style`` attribute), read as the CSS tokenizer reads them.

https://www.w3.org/TR/css-syntax-3/#consume-url-token, https://www.w3.org/TR/css-syntax-3/#consume-escaped-code-point
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from ._edits import Edit, apply

_ESCAPE: Final = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\(.)", re.S)
#: ``url(...)`` in its three spellings, and quoted strings (``@import "..."``).
URL: Final = re.compile(r"url\(\s*(?:\"([^\"]*)\"|'([^']*)'|([^)\s]*))|\"([^\"]*)\"|'([^']*)'", re.I)
_URL_BYTES: Final = re.compile(URL.pattern.encode("ascii"), re.I)
#: What a style element's CSS becomes when its escapes still spell a refused URL.
BLOCKED: Final = b"/* cookiegate: blocked */"


def unescape(text: str) -> str:
    """CSS escapes resolved (``\\75 rl`` is ``url``; an escape out of range is U+FFFD)."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    return _ESCAPE.sub(one, text) if "\\" in text else text


def urls(text: str) -> list[str]:
    """Every URL (and quoted string) in ``text``, escapes resolved."""
    return [next(g for g in m.groups() if g is not None) for m in URL.finditer(unescape(text))]


def rewrite_css(css: bytes, refused: Callable[[str], bool]) -> bytes:
    """Point every ``url()``/``@import`` that ``refused`` says no to at ``data:,``.

    Positions come from the raw text, so everything else stays byte-identical. CSS escapes can spell a URL
    (``url(https://www\\2e facebook.com/tr)``) or the ``url`` keyword itself: when the unescaped text still
    reaches a refused URL after the raw-text pass, the whole CSS is dropped (the page loses a style, the
    visitor is not tracked).
    """
    if b"(" not in css and b'"' not in css and b"'" not in css:
        return css
    edits: list[Edit] = []
    for m in _URL_BYTES.finditer(css):
        group = next(g for g in range(1, 6) if m.group(g) is not None)
        if refused(unescape(m.group(group).decode("utf-8", "replace"))):
            edits.append((m.start(group), m.end(group), b"data:,"))
    rewritten = apply(css, edits, 0) if edits else css
    if b"\\" in rewritten:
        if any(refused(url) for url in urls(rewritten.decode("utf-8", "replace"))):
            return BLOCKED
    return rewritten
