"""Rendered fragments with slots for the request's path, so a fragment is rendered once and filled per page.

Two slots: :data:`SLOT` where the template writes ``{{ next_path }}`` (an HTML attribute or text) and
:data:`QUERY_SLOT` where it writes the path as a query value. The slots are tokens of plain ASCII letters and
dashes, so autoescaping and ``urlencode`` leave them as they are, and no template or translation contains them
(tests compare the filled fragments with direct renders). The path is escaped the way the template would have
escaped it, then put in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from jinja2.filters import do_urlencode
from markupsafe import escape

SLOT: Final = "cookiegate-next-path-slot-q7w3z"
QUERY_SLOT: Final = "cookiegate-next-query-slot-k4v8p"
_SLOTS: Final = re.compile(f"({SLOT}|{QUERY_SLOT})")


def html_value(path: str) -> str:
    """``{{ next_path }}`` under autoescape."""
    return str(escape(path))


def query_value(path: str) -> str:
    """``{{ next_path | urlencode }}`` under autoescape."""
    return str(escape(do_urlencode(path)))


class Slotted:
    """A rendered fragment with slots for the request's path.

    ``escape_path`` is how :data:`SLOT` is filled (:func:`html_value`, or :func:`query_value` where the template
    urlencoded it); :data:`QUERY_SLOT` is always filled as a query value."""

    __slots__ = ("parts", "escapes")

    def __init__(self, rendered: str, escape_path: Callable[[str], str]) -> None:
        pieces = _SLOTS.split(rendered)
        self.parts = pieces[0::2]
        self.escapes = tuple(escape_path if slot == SLOT else query_value for slot in pieces[1::2])

    def fill(self, next_path: str) -> str:
        """The fragment with ``next_path`` (escaped as each slot needs) in every slot."""
        if len(self.parts) == 1:
            return self.parts[0]
        filled: dict[Callable[[str], str], str] = {}
        out = [self.parts[0]]
        for escape_path, part in zip(self.escapes, self.parts[1:], strict=True):
            value = filled.get(escape_path)
            if value is None:
                value = filled[escape_path] = escape_path(next_path)
            out.append(value)
            out.append(part)
        return "".join(out)
