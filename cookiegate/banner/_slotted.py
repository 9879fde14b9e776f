"""Rendered fragments with slots for the request's path, so a fragment is rendered once and filled per page.

The slot is a token of plain ASCII letters and dashes, so autoescaping and ``urlencode`` leave it as it is,
and no template or translation contains it (tests compare the filled fragments with direct renders). The
path is escaped the way the template would have escaped it, then put in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from jinja2.filters import do_urlencode
from markupsafe import escape

SLOT: Final = "cookiegate-next-path-slot-q7w3z"


def html_value(path: str) -> str:
    """``{{ next_path }}`` under autoescape."""
    return str(escape(path))


def query_value(path: str) -> str:
    """``{{ next_path | urlencode }}`` under autoescape."""
    return str(escape(do_urlencode(path)))


class Slotted:
    """A rendered fragment with slots for the request's path."""

    __slots__ = ("parts", "escape")

    def __init__(self, rendered: str, escape_path: Callable[[str], str]) -> None:
        self.parts = rendered.split(SLOT)
        self.escape = escape_path

    def fill(self, next_path: str) -> str:
        """The fragment with ``next_path`` (escaped) in every slot."""
        if len(self.parts) == 1:
            return self.parts[0]
        return self.escape(next_path).join(self.parts)
