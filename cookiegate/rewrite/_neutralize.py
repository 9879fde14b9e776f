"""How a refused tag is made inert, and an allowed tag the site marked up for consent is made to run.

A refused tag's fetching attributes are renamed (``src`` becomes ``data-cookiegate-src``), a script or style
gets ``type=text/plain``, and the verdict is written on the tag; nothing else of it changes.
"""

from __future__ import annotations

import html

from ._attrs import decode, fetches, raw_urls
from ._edits import Edit, unquoted
from ._judge import Verdict, is_plain_text
from ._tokenizer import URL_ATTRS, Tag


def neutralize_edits(buf: bytes, tag: Tag, first: dict[bytes, bytes | None], verdict: Verdict,
                     *, insert: bool, tidy: bool = False) -> list[Edit]:
    """The edits that make ``tag`` (in ``buf``) fetch and run nothing; ``insert``: also say why on the tag."""
    name = tag.name
    edits: list[Edit] = []
    for attr, nstart, nend, value, _end in tag.attrs:
        if attr in URL_ATTRS and fetches(name, attr, first):
            if attr == b"style" and (value is None or not raw_urls(name, attr, value)):
                continue
        elif not ((name == b"script" or name == b"style") and attr == b"type"):
            continue
        edits.append((nstart, nend, b"data-cookiegate-" + attr))
    if insert:
        added = [b"data-cookiegate-blocked=" + unquoted(verdict.category)]
        if verdict.vendor is not None and verdict.vendor.id:
            added.append(b"data-cookiegate-vendor=" + unquoted(verdict.vendor.id))
        if name == b"script" or name == b"style":
            added.insert(0, b"type=text/plain")  # neither runs nor applies with a type it does not know
        # The trailing space keeps an unquoted value from running into a "/" (or, in hidden text, from forming
        # "-->" with what follows); before whitespace or ">" in a real tag it is noise.
        after = buf[tag.name_end : tag.name_end + 1]
        tail = b"" if after and (after in b"\t\n\f\r " or (tidy and after == b">")) else b" "
        edits.append((tag.name_end, tag.name_end, b" " + b" ".join(added) + tail))
    edits.sort(key=lambda e: e[0])
    return edits


def activation_edits(tag: Tag, first: dict[bytes, bytes | None]) -> list[Edit]:
    """An allowed ``<script type="text/plain" data-category=...>`` becomes a running script."""
    if tag.name != b"script" or not is_plain_text(first):
        return []
    wanted = decode(first.get(b"data-type") or b"").strip() or "text/javascript"
    for attr, nstart, _nend, _value, end in tag.attrs:
        if attr == b"type":
            quoted = html.escape(wanted, quote=True).encode("ascii", "xmlcharrefreplace")
            return [(nstart, end, b'type="' + quoted + b'"')]
    return []
