"""What a page's tags did, as every view names it: outcome keys and the ``Cookiegate-Decision`` header.

The rewriter reports each tag it sees as an event (vendor id or ``None``, category, fired, and for an
unclassified third party its host). Counters count the event's *outcome key*; the admin preview header,
``cookiegate scan``, the dashboard, ``tags`` and ``lint`` read the same keys, so none of them decides anything
again. Plain Python, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from ._categories import UNCLASSIFIED
from ._decision import Decision

#: Outcome keys of unclassified references: ``unclassified:<host>``.
UNCLASSIFIED_PREFIX: Final = "unclassified:"
#: Outcome keys of the site's own markup that names only a category (``data-cookiegate="analytics"``).
EXPLICIT_PREFIX: Final = "explicit:"
FIRED: Final = "fired"
BLOCKED: Final = "blocked"


class TagEventLike(Protocol):
    """The shape of the rewriter's events (``host`` only on unclassified references)."""

    @property
    def vendor_id(self) -> str | None: ...

    @property
    def category(self) -> str: ...

    @property
    def fired(self) -> bool: ...


def outcome_key(vendor_id: str | None, category: str, host: str | None = None) -> str:
    """The key counters count a tag under: the vendor id, ``unclassified:<host>`` or ``explicit:<category>``."""
    if vendor_id:
        return vendor_id
    if category == UNCLASSIFIED and host:
        return UNCLASSIFIED_PREFIX + host
    return EXPLICIT_PREFIX + category


def event_key(event: TagEventLike) -> str:
    """:func:`outcome_key` of one event."""
    return outcome_key(event.vendor_id, event.category, getattr(event, "host", None))


def unclassified_host(key: str) -> str | None:
    """The host of an ``unclassified:<host>`` key, else ``None``."""
    return key[len(UNCLASSIFIED_PREFIX) :] if key.startswith(UNCLASSIFIED_PREFIX) else None


def describe_key(key: str, names: Mapping[str, str] | None = None) -> str:
    """How views name a key: ``unclassified host t.example``, the vendor's name, or ``site markup (analytics)``."""
    host = unclassified_host(key)
    if host is not None:
        return f"unclassified host {host}"
    if key.startswith(EXPLICIT_PREFIX):
        return f"site markup ({key[len(EXPLICIT_PREFIX) :]})"
    return (names or {}).get(key, key)


@dataclass(frozen=True, slots=True)
class DecisionHeader:
    """A ``Cookiegate-Decision`` header, read back (``cookiegate scan`` reads the gateway's answer with it)."""

    #: Outcome key -> ``fired`` or ``blocked``, for every tag on the page.
    tags: Mapping[str, str]
    allowed: frozenset[str]
    #: Whether unclassified third parties may load for this visitor (``None``: the header did not say).
    unclassified: bool | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        """The unclassified hosts on the page."""
        return tuple(sorted(h for key in self.tags if (h := unclassified_host(key)) is not None))

    def describe(self, names: Mapping[str, str] | None = None) -> str:
        """One human line: what was allowed, what fired, what was blocked."""
        fired = [describe_key(k, names) for k, v in sorted(self.tags.items()) if v == FIRED]
        blocked = [describe_key(k, names) for k, v in sorted(self.tags.items()) if v == BLOCKED]
        parts = [f"allowed {', '.join(sorted(self.allowed))}"]
        if self.unclassified is not None:
            parts.append(f"unclassified third parties {'allowed' if self.unclassified else 'blocked'}")
        parts.append(f"fired: {', '.join(fired) or 'nothing'}")
        parts.append(f"blocked: {', '.join(blocked) or 'nothing'}")
        return "; ".join(parts)


def decision_header(events: Iterable[TagEventLike], decision: Decision) -> str:
    """``key=fired|blocked`` for every tag on the page (a key counts as fired only if none of its tags was
    blocked), then ``allowed=`` the categories and ``unclassified=`` what unclassified third parties get."""
    seen: dict[str, str] = {}
    for event in events:
        key = event_key(event)
        if seen.get(key) != BLOCKED:
            seen[key] = FIRED if event.fired else BLOCKED
    parts = [f"{key}={state}" for key, state in sorted(seen.items())]
    parts.append("allowed=" + "+".join(sorted(decision.allowed)))
    parts.append("unclassified=" + ("allowed" if decision.permissions.unclassified else BLOCKED))
    return ", ".join(parts)


def parse_decision_header(value: str) -> DecisionHeader:
    """Read a ``Cookiegate-Decision`` header back; ``ValueError`` without ``allowed=``."""
    tags: dict[str, str] = {}
    allowed: frozenset[str] | None = None
    unclassified: bool | None = None
    for part in value.split(","):
        key, _, state = part.strip().partition("=")
        if key == "allowed":
            allowed = frozenset(c for c in state.split("+") if c)
        elif key == UNCLASSIFIED:
            unclassified = state == "allowed"
        elif key and state in (FIRED, BLOCKED):
            tags[key] = state
    if allowed is None:
        raise ValueError(f"Cookiegate-Decision header without allowed=: {value!r}")
    return DecisionHeader(tags=tags, allowed=allowed, unclassified=unclassified)


__all__ = [
    "BLOCKED",
    "FIRED",
    "UNCLASSIFIED",
    "UNCLASSIFIED_PREFIX",
    "DecisionHeader",
    "decision_header",
    "describe_key",
    "event_key",
    "outcome_key",
    "parse_decision_header",
    "unclassified_host",
]
