"""Unclassified third parties seen on the site's pages, as the dashboard, ``tags`` and ``lint`` show them.

Read from the counters (every instance adds to the same table), so what is shown survives restarts: per host,
the pages it appeared on (kind ``page``) and how often its tags were blocked or let through (kind ``tag``,
subject ``unclassified:<host>``). A host counted while unclassified but claimed by the registry since then is
not shown: the operator has classified it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._config import Config
from .policy._catalog import TagRegistry, Vendor
from .policy._outcomes import unclassified_host
from .policy._site import SiteHosts
from .policy._suggestions import Suggestion, suggest_category
from .store import CounterRow, StoreError, open_store

#: Pages listed per host (busiest first).
PAGES_SHOWN: Final = 10


@dataclass(frozen=True, slots=True)
class Sighting:
    """One unclassified host: where it appeared and what happened to its tags."""

    host: str
    #: ``(path, page views with the host)``, busiest first.
    pages: tuple[tuple[str, int], ...]
    blocked: int
    fired: int
    first_seen: str
    last_seen: str
    #: What the host is probably for, where the catalogue can guess (:func:`~cookiegate.policy.suggest_category`).
    suggestion: Suggestion | None = None


def sightings(
    rows: Iterable[CounterRow],
    *,
    classified: Callable[[str], bool] | None = None,
    vendors: Sequence[Vendor] | None = None,
) -> list[Sighting]:
    """Every host counted as unclassified and not ``classified`` now, most blocked first, each with a suggested
    category where ``vendors`` (the registry's; default: the built-in catalogue) let one be guessed."""
    pages: dict[str, dict[str, int]] = {}
    counts: dict[str, list[int]] = {}
    days: dict[str, list[str]] = {}
    for row in rows:
        host = unclassified_host(row.subject)
        if host is None or host == "*" or row.kind not in ("tag", "page"):
            continue
        seen = days.setdefault(host, [row.day, row.day])
        seen[0], seen[1] = min(seen[0], row.day), max(seen[1], row.day)
        if row.kind == "page":
            by_page = pages.setdefault(host, {})
            by_page[row.outcome] = by_page.get(row.outcome, 0) + row.count
        else:
            cell = counts.setdefault(host, [0, 0])
            cell[0 if row.outcome == "blocked" else 1] += row.count
    out = [
        Sighting(
            host=host,
            pages=tuple(sorted(pages.get(host, {}).items(), key=lambda p: (-p[1], p[0]))[:PAGES_SHOWN]),
            blocked=counts.get(host, [0, 0])[0],
            fired=counts.get(host, [0, 0])[1],
            first_seen=first,
            last_seen=last,
            suggestion=suggest_category(host, vendors=vendors),
        )
        for host, (first, last) in days.items()
        if classified is None or not classified(host)
    ]
    out.sort(key=lambda s: (-s.blocked, -s.fired, s.host))
    return out


def classified_by(config: Config, registry: TagRegistry | None = None) -> Callable[[str], bool]:
    """Whether a host is claimed now: by the registry or the catalogue, or as the site's own (``cookie_domain``
    and its subdomains, ``csp_allow``: :class:`~cookiegate.policy._site.SiteHosts`, as the gate decides)."""
    registry = registry or TagRegistry.builtin(config.tags)
    site = SiteHosts.of(config.cookie_domain, config.csp_allow)

    def check(host: str) -> bool:
        return site.owns(host) or registry.vendor_for_url(f"https://{host}/") is not None

    return check


async def stored_counters(config: Config) -> list[CounterRow]:
    """The counters in the decision log, or ``[]`` where there is no log yet (a SQLite file is not created).

    Raises :class:`~cookiegate.store.StoreError` when a log exists but cannot be read."""
    if config.log_url.startswith("sqlite:///") and not Path(config.log_url.removeprefix("sqlite:///")).is_file():
        return []
    store = open_store(config.log_url, spool_dir=config.log_spool_dir)
    try:
        await store.open()
        rows = await store.counters()
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"decision log: could not read the counters: {exc}") from exc
    finally:
        await store.close()
    return rows


__all__ = ["PAGES_SHOWN", "Sighting", "classified_by", "sightings", "stored_counters"]
