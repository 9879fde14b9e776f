"""Rules on how a vendor is written that both the registry and the catalogue loader apply (a leaf module).

A host entry is a bare host name; an inline pattern is a regular expression the registry can join with
others and prefilter by a literal it must contain; a url pattern has a path; a cookie pattern is not ``*``.
"""

from __future__ import annotations

import re
from typing import Final

from ._categories import CATEGORIES
from ._vendor import Vendor


class VendorError(ValueError):
    """A vendor the registry cannot use; ``key`` names the field at fault."""

    def __init__(self, message: str, key: str) -> None:
        super().__init__(message)
        self.key = key


HOST_RE: Final = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")

def clean_host(host: str, vendor_id: str) -> str:
    cleaned = host.strip().lower().removeprefix("*.").strip(".")
    if not HOST_RE.fullmatch(cleaned):
        raise VendorError(f"vendor {vendor_id!r}: {host!r} is not a host name (no scheme, path or port)", "hosts")
    return cleaned


def required_literal(pattern: str) -> str | None:
    """The longest literal text every match of ``pattern`` must contain, or ``None`` when unsure.

    Read conservatively from the top level of the regex source: groups, classes, escapes such as ``\\b``
    or ``\\s`` and optional or repeated atoms end a run; a top-level ``|`` gives ``None``.
    """
    runs: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        literal: str | None = None
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            i += 2
            if nxt and not nxt.isalnum():
                literal = nxt  # escaped punctuation: \. \( \$
        elif ch == "|":
            return None
        elif ch in "([":
            i = _skip_group(pattern, i)
        elif ch in "?*+{":
            i = _skip_quantifier(pattern, i)
        elif ch in ".^$":
            i += 1
        else:
            literal = ch
            i += 1
        if literal is not None and (i >= n or pattern[i] not in "?*{"):
            run.append(literal)
            if i < n and pattern[i] != "+":
                continue
        runs.append("".join(run))
        run = []
    runs.append("".join(run))
    best = max(runs, key=len)
    return best or None


def _skip_group(pattern: str, i: int) -> int:
    """Index just past the ``(...)`` group or ``[...]`` class starting at ``pattern[i]``."""
    if pattern[i] == "[":
        i += 1
        if pattern[i : i + 1] == "^":
            i += 1
        if pattern[i : i + 1] == "]":
            i += 1  # a leading ] is a literal member
        while i < len(pattern) and pattern[i] != "]":
            i += 2 if pattern[i] == "\\" else 1
        return i + 1
    depth = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _skip_group(pattern, i)
            continue
        depth += (ch == "(") - (ch == ")")
        i += 1
        if depth == 0:
            break
    return i


def _skip_quantifier(pattern: str, i: int) -> int:
    """Index just past a quantifier (``?``, ``*``, ``+``, ``{m,n}``, and a lazy or possessive suffix)."""
    if pattern[i] == "{":
        close = pattern.find("}", i)
        i = len(pattern) if close < 0 else close + 1
    else:
        i += 1
    while i < len(pattern) and pattern[i] in "?+":
        i += 1
    return i


def check_vendor(vendor: Vendor) -> None:
    """Fail loudly at start-up on a vendor the registry could not use correctly."""
    if not vendor.id:
        raise VendorError(f"vendor {vendor.name!r} has an empty id", "id")
    if vendor.category not in CATEGORIES:
        raise VendorError(f"vendor {vendor.id!r}: unknown category {vendor.category!r}", "category")
    for pattern in vendor.inline_patterns:
        try:
            compiled = re.compile(pattern)
            # Probe it inside an alternation: global flags like (?i) are only legal at the very start.
            re.compile(f"x|(?:{pattern})")
        except re.error as exc:
            raise VendorError(f"vendor {vendor.id!r}: bad inline pattern {pattern!r}: {exc}", "inline") from None
        if compiled.groups:
            # Patterns are joined into one regex; their own groups would shift numbering and clash.
            raise VendorError(
                f"vendor {vendor.id!r}: inline pattern {pattern!r} has capturing groups; use (?:...)", "inline"
            )
    for pattern in vendor.url_patterns:
        if "/" not in pattern:
            raise VendorError(
                f"vendor {vendor.id!r}: url pattern {pattern!r} needs a path ('/x' or 'host/x')", "url_patterns"
            )
    for name in vendor.cookies:
        if not name.strip("*"):
            raise VendorError(f"vendor {vendor.id!r}: cookie pattern {name!r} would match every cookie", "cookies")
