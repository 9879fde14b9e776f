"""The skip scan, in Python: the specification the C speedup (``_speedups.c``) is held to.

One pass consumes text, comments with nothing tag-shaped inside, end tags and start tags that cannot matter
(no attribute that may fetch, no special element), and stops at the first construct the rewriter must look
at. Start tags seen before that needed nothing (``plain``) are consumed too.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Container
from typing import Final

from ._tokenizer import (
    A_INTERESTING,
    FOREIGN_END_STOPS,
    FOREIGN_STOPS,
    INTERESTING_ATTRS,
    SPECIAL_NAMES,
    is_alpha,
)


def not_ending_in(names: Collection[bytes]) -> bytes:
    """Negative lookbehinds: the bytes just matched do not end with any of ``names`` (one per length).

    The end of a name is checked with one comparison per length instead of an alternation tried at its start;
    a name that merely ends like an interesting one (``data-src``) is only sent to the slow path.
    """
    by_length: dict[int, list[bytes]] = {}
    for name in names:
        by_length.setdefault(len(name), []).append(re.escape(name))
    checks = b"".join(rb"(?<!" + b"|".join(sorted(group)) + rb")" for _, group in sorted(by_length.items()))
    # Most names end in a letter no interesting name ends in: one class test settles them.
    last = sorted({n[-1:].lower() for n in names} | {n[-1:].upper() for n in names})
    return rb"(?:(?<![" + re.escape(b"".join(last)) + rb"])|" + checks + rb")"


def boring_attr(interesting: Collection[bytes]) -> bytes:
    """One attribute that cannot make the browser fetch anything (no ``<`` in it, for the safety net)."""
    value = rb"""(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+(?=[\t\n\f\r >])|(?=>))"""
    # a style value without "(", "&" or "\\" cannot hold a url(), even encoded
    safe_style = (rb"""(?:"[^"<(&\\]*+"|'[^'<(&\\]*+'"""
                  rb"""|[^\t\n\f\r >"'<(&\\][^\t\n\f\r ><(&\\]*+(?=[\t\n\f\r >])|(?=>))""")
    no_eq = rb"(?![\t\n\f\r ]*+=)"
    eq = rb"[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    return (
        rb"[\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+(?:"
        + not_ending_in(set(interesting) | {b"style"}) + rb"(?:" + eq + value + rb"|" + no_eq + rb")"
        rb"|(?<=style)(?:" + eq + safe_style + rb"|" + no_eq + rb"))"
    )


def plain_attr() -> bytes:
    """One attribute of an end tag (ignored by the browser): only ``<`` matters, for the safety net."""
    return (rb"[\t\n\f\r /]*+[^\t\n\f\r /><][^\t\n\f\r /=><]*+"
            rb"""(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"<]*+"|'[^'<]*+'|[^\t\n\f\r >"'<][^\t\n\f\r ><]*+))?""")


# One item inside foreign content (an open <svg> or <math> whose elements are all foreign): text, a comment, or a
# tag that cannot move the tree builder's stack past a foreign element's own opening and closing (no root, no
# integration point, nothing that breaks out) nor fetch.
_FOREIGN_ITEM: Final = (
    rb"[^<]++"
    rb"|</(?!(?:" + b"|".join(re.escape(n) for n in sorted(FOREIGN_END_STOPS)) + rb")[\t\n\f\r />])"
    rb"[A-Za-z][^\t\n\f\r /><]*+(?:" + plain_attr() + rb")*+[\t\n\f\r /]*+>"
    rb"|<[A-Za-z][^\t\n\f\r /><]*+" + not_ending_in({b"<" + n for n in FOREIGN_STOPS})
    + rb"(?:" + boring_attr(INTERESTING_ATTRS) + rb")*+[\t\n\f\r /]*+>"
    rb"|<(?=[^A-Za-z!/?])"
    rb"|<!--(?!-?>)(?:[^<-]++|-(?!-!?>))*+--!?>"
)
#: The skip inside foreign content, where every other tag is looked at (Python only: it runs within an SVG
#: subtree that the skip scan could not take whole).
FOREIGN_SKIP: Final = re.compile(rb"(?:" + _FOREIGN_ITEM + rb")*+", re.I)

# A root (not self-closing: its "/>" is never taken for one), foreign items only, and its own end tag.
_SUBTREE: Final = (
    rb"|<%b(?=[\t\n\f\r />])(?:" + boring_attr(INTERESTING_ATTRS).replace(b"%", b"%%")
    + rb")*+[\t\n\f\r /]*+(?<!/)>(?:" + _FOREIGN_ITEM.replace(b"%", b"%%") + rb")*+</%b[\t\n\f\r /]*+>"
)

# Text, a lone "<", and complete tags that cannot matter; stops at the first construct that may. Ordered by
# frequency; the branches exclude each other by their first bytes or by the tag name.
SKIP: Final = re.compile(
    rb"(?:[^<]++"
    rb"|</[A-Za-z][^\t\n\f\r /><\"'=]*+>"  # the usual end tag; the next branch would match it the same way
    rb"|</[A-Za-z][^\t\n\f\r /><]*+(?:" + plain_attr() + rb")*+[\t\n\f\r /]*+>"
    # <a> before the general start tag: the general branch refuses it only after reading its name
    rb"|<(?:a|area)(?=[\t\n\f\r />])(?:" + boring_attr(A_INTERESTING) + rb")*+[\t\n\f\r /]*+>"
    # a whole SVG or MathML subtree that opens, holds only foreign items, and closes (an inline icon)
    + b"".join(_SUBTREE % (root, root) for root in (b"svg", b"math")) +
    rb"|<[A-Za-z][^\t\n\f\r /><]*+" + not_ending_in({b"<" + n for n in SPECIAL_NAMES})
    + rb"(?:" + boring_attr(INTERESTING_ATTRS) + rb")*+[\t\n\f\r /]*+>"
    rb"|<(?=[^A-Za-z!/?])"
    rb"|<!--(?!-?>)(?:[^<-]++|-(?!-!?>))*+--!?>"  # a comment with nothing tag-shaped inside
    rb")*+",
    re.I,
)

#: The name tables the C speedup was compiled with must be these (checked when it is loaded).
NAME_TABLES: Final = (
    tuple(sorted(SPECIAL_NAMES)),
    tuple(sorted(INTERESTING_ATTRS | {b"style"})),
    tuple(sorted(A_INTERESTING | {b"style"})),
    tuple(sorted(FOREIGN_STOPS)),
    tuple(sorted(FOREIGN_END_STOPS)),
)


def skip(buf: bytes, pos: int, plain: Container[bytes] | None) -> int:
    """Where the skip scan stops: ``SKIP`` from ``pos``, then on over every start tag whose bytes up to its
    first ``>`` are in ``plain`` (start tags seen before that need nothing), and ``SKIP`` again."""
    n = len(buf)
    while True:
        skipped = SKIP.match(buf, pos)
        assert skipped is not None  # the pattern also matches the empty string
        end = skipped.end()
        # Every key is a whole tag whose only ">" outside quotes is its last byte, and a tag tokenizes the
        # same wherever it stands: the bytes up to the next ">" either are such a tag or no key at all.
        if plain is None or end + 1 >= n or not is_alpha(buf[end + 1]):
            return end
        gt = buf.find(b">", end)
        if gt < 0 or buf[end : gt + 1] not in plain:
            return end
        pos = gt + 1


def has_explicit_markup(data: bytes) -> bool:
    """Whether ``data`` holds ``data-cookiegate`` or ``data-category`` in any case (one pass for both)."""
    lowered = data.lower()
    i = lowered.find(b"data-c")
    while i >= 0:
        if lowered.startswith(b"ookiegate", i + 6) or lowered.startswith(b"ategory", i + 6):
            return True
        i = lowered.find(b"data-c", i + 6)
    return False
