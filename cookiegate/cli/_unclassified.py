"""``lint``'s ``unclassified-host`` rule: third parties nobody classified that the gateway met on the site's pages.

Read from the counters in the decision log (every instance adds to them, so what is shown survives restarts): each
``unclassified:<host>`` key, unless the registry, the catalogue or the site (``cookie_domain``, ``csp_allow``)
claims the host by now. The gateway blocks such a host wherever consent is asked, so the page it is on breaks
until the operator classifies it: ``lint`` fails while one is left, and says what the host is probably for.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .._config import Config
from ..policy._catalog import TagRegistry
from ..policy._site import SiteHosts
from ..policy._suggestions import suggest_category
from ..rewrite._settings import UNCLASSIFIED_KEY
from ..store import CounterRow, open_store
from ._lint import Violation


def unclassified_violations(rows: Iterable[CounterRow], config: Config) -> list[Violation]:
    """One violation per host counted as unclassified and still claimed by nobody, most blocked first."""
    registry = TagRegistry.builtin(config.tags)
    site = SiteHosts.of(config.cookie_domain, config.csp_allow)
    counts: dict[str, list[int]] = {}
    for row in rows:
        if row.kind != "tag" or not row.subject.startswith(UNCLASSIFIED_KEY):
            continue
        host = row.subject[len(UNCLASSIFIED_KEY) :]
        if site.owns(host) or registry.vendor_for_url(f"https://{host}/") is not None:
            continue  # classified since it was counted
        cell = counts.setdefault(host, [0, 0])
        cell[0 if row.outcome == "blocked" else 1] += row.count
    out = []
    for host, (blocked, fired) in sorted(counts.items(), key=lambda item: (-item[1][0], item[0])):
        suggestion = suggest_category(host, vendors=registry.vendors)
        hint = f"probably {suggestion.category} ({suggestion.reason}); " if suggestion else ""
        out.append(Violation(
            "unclassified-host",
            f"unclassified host {host}",
            f"on the site's pages, blocked {blocked} times and let through {fired}; {hint}classify it: a [[tags]] "
            f'entry with hosts = ["{host}"] and its category, or csp_allow if it is the site\'s own',
        ))
    return out


async def stored_counters(config: Config) -> list[CounterRow]:
    """The counters of the configuration's decision log; ``[]`` where there is no log yet (none is created)."""
    if config.log_url.startswith("sqlite:///") and not Path(config.log_url.removeprefix("sqlite:///")).is_file():
        return []
    store = open_store(config.log_url, spool_dir=config.log_spool_dir)
    try:
        await store.open()
        reader = getattr(store, "counters", None)
        return list(await reader()) if reader is not None else []
    finally:
        await store.close()


__all__ = ["stored_counters", "unclassified_violations"]
