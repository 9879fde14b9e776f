"""A suggested category for an unclassified third party: what the operator who classifies a host starts from.

Views that list unclassified hosts (the dashboard, ``cookiegate tags``, ``lint``, ``scan``) call
:func:`suggest_category` with the host (and, where they know them, paths it was requested with)::

    suggestion = suggest_category("px.ads.linkedin-cdn.example", ["/collect"])
    if suggestion is not None:
        print(f"probably {suggestion.category}: {suggestion.reason}")

The evidence, strongest first:

1. **The same company**: the host's registrable domain, or the name in it (``hotjar`` in ``insights.hotjar.net``),
   is one a catalogue (or registry) vendor talks to; the suggestion is the most sensitive category among that
   company's vendors on that name (a refusal has to cover whatever it is), named with the company.
2. **A well-known path**: a segment of a path it was requested with (``/collect``, ``/pixel``, ``/tr``), from
   ``suggestions.toml`` beside this module.
3. **A well-known host label**: the host's first label (``px.``, ``analytics.``), from the same file.

Only a hint: the gateway never decides anything by it. ``None`` when nothing points anywhere.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Final

from ._catalog import BUILTIN_VENDORS
from ._categories import CATEGORIES, NECESSARY
from ._vendor import SENSITIVITY, Vendor

#: Second-level labels under which a country code top-level domain registers names (``example.co.uk``).
_SECOND_LEVEL: Final = frozenset({"co", "com", "net", "org", "gov", "ac", "edu", "ne", "or", "go", "gob", "nic"})
_SEGMENT: Final = re.compile(r"[/?&=#;]+")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A category an unclassified host is probably for, and why (one line a view can show as it is)."""

    category: str
    reason: str


def registrable_domain(host: str) -> str:
    """``host``'s registrable domain, approximately (no public suffix list): its last two labels, or three under
    a country code's second level (``example.co.uk``)."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _name(domain: str) -> str:
    """The name a company registers (``hotjar`` of ``hotjar.com`` and of ``hotjar.io``)."""
    return domain.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class _Hints:
    paths: Mapping[str, str]
    labels: Mapping[str, str]


@cache
def hints() -> _Hints:
    """The words of ``suggestions.toml``: path segment or host label -> category (the most sensitive one when a
    word is listed under several)."""
    data = tomllib.loads((files("cookiegate") / "policy" / "suggestions.toml").read_text("utf-8"))
    paths: dict[str, str] = {}
    labels: dict[str, str] = {}
    for hint in data["hint"]:
        category = hint["category"]
        for table, words in ((paths, hint.get("paths", [])), (labels, hint.get("labels", []))):
            for word in words:
                held = table.get(word)
                if held is None or SENSITIVITY[category] > SENSITIVITY[held]:
                    table[word] = category
    return _Hints(paths, labels)


_ByKey = Mapping[str, tuple[Vendor, ...]]


@lru_cache(maxsize=4)
def _companies(vendors: tuple[Vendor, ...]) -> tuple[_ByKey, _ByKey]:
    """Vendors by the registrable domains of their hosts, and by the names in those domains."""
    by_domain: dict[str, list[Vendor]] = {}
    by_name: dict[str, list[Vendor]] = {}
    for vendor in vendors:
        for host in (*vendor.hosts, *vendor.shared_hosts):
            domain = registrable_domain(host)
            for table, key in ((by_domain, domain), (by_name, _name(domain))):
                found = table.setdefault(key, [])
                if vendor not in found:
                    found.append(vendor)
    return ({k: tuple(v) for k, v in by_domain.items()}, {k: tuple(v) for k, v in by_name.items()})


def _strictest(found: Iterable[str]) -> str:
    return max(found, key=lambda category: SENSITIVITY.get(category, 0))


def suggest_category(
    host: str, paths: Iterable[str] = (), vendors: Sequence[Vendor] | None = None
) -> Suggestion | None:
    """What ``host`` (an unclassified third party, normalized) is probably for; ``paths``: paths (and queries) it was
    requested with, when known; ``vendors``: the registry's vendors (default: the built-in catalogue)."""
    if vendors is None:
        vendors = BUILTIN_VENDORS
    host = host.lower().rstrip(".")
    domain = registrable_domain(host)
    by_domain, by_name = _companies(tuple(vendors))
    kin = by_domain.get(domain) or (by_name.get(_name(domain)) if "." in domain else None)
    if kin:
        # What a company's necessary service (a payment form) is, its unknown host is not shown to be.
        category = _strictest([v.category for v in kin if v.category != NECESSARY] or [NECESSARY])
        companies = sorted({v.company or v.name for v in kin})
        names = ", ".join(sorted(v.name for v in kin)[:3])
        return Suggestion(category, f"same company as {names} ({'; '.join(companies)})")
    table = hints()
    found = [(word, table.paths[word]) for path in paths for word in _words(path) if word in table.paths]
    if found:
        category = _strictest(c for _, c in found)
        word = next(w for w, c in found if c == category)
        return Suggestion(category, f"requested at a well-known {category} path (/{word})")
    label = host.split(".", 1)[0]
    if label in table.labels and host != domain:
        return Suggestion(table.labels[label], f"a well-known {table.labels[label]} host name ({label}.)")
    return None


def _words(path: str) -> list[str]:
    """The segments of a path and query, each also without its extension (``pixel.gif`` gives ``pixel``)."""
    out: list[str] = []
    for segment in _SEGMENT.split(path.lower()):
        if segment:
            out.append(segment)
            stem = segment.split(".", 1)[0]
            if stem and stem != segment:
                out.append(stem)
    return out


def check_hints(data: Mapping[str, object]) -> list[str]:
    """What is wrong with a ``suggestions.toml`` document (its schema), as messages; ``[]`` when nothing."""
    problems: list[str] = []
    entries = data.get("hint")
    if set(data) != {"hint"} or not isinstance(entries, list) or not entries:
        return ["only [[hint]] tables belong in suggestions.toml"]
    for index, hint in enumerate(entries):
        where = f"hint[{index}]"
        if not isinstance(hint, dict) or set(hint) - {"category", "paths", "labels"}:
            problems.append(f"{where}: keys are category, paths and labels")
            continue
        if hint.get("category") not in CATEGORIES or hint.get("category") == NECESSARY:
            problems.append(f"{where}.category: an optional category, not {hint.get('category')!r}")
        for key in ("paths", "labels"):
            words = hint.get(key, [])
            if not isinstance(words, list) or not all(isinstance(w, str) and w == w.strip().lower() and w
                                                      and "/" not in w for w in words):
                problems.append(f"{where}.{key}: lower-case words without slashes")
    return problems


__all__ = ["Suggestion", "check_hints", "hints", "registrable_domain", "suggest_category"]
