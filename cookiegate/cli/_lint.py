"""``cookiegate lint``: the configuration checked against the regulatory rules.

Rules (each has an id, printed with every violation):

``config``                    the configuration loads at all.
``tag-category``              every new ``[[tags]]`` entry has a category (functional, analytics, ads, social), and
                              no tag files a catalog vendor's host under a less sensitive category. A table that
                              names a catalogue id overrides that entry (its category and hosts come from it); a
                              less sensitive category there is the operator's choice, and only warned about.
``necessary-only-essential``  no new tag is marked ``necessary``: that category is for what the site cannot work
                              without, and it can never be refused. A catalogue entry the site marks necessary
                              (reCAPTCHA on a form that needs it) is warned about when its identifiers also serve
                              other purposes (its ``identifiers_for``).
``vendor-hosts``              every vendor host is known: a tag says which hosts it talks to (or is a
                              first-party ``src``), its hosts are plain host names, and ``csp_allow`` (allowed
                              for everyone) admits no tracker host.
``opt-in-reject``             every place whose law needs opt-in (EU/EEA, UK, CH, Québec, Brazil, unknown
                              locations; Australia for ads) still gets a first-layer "Reject all" button.
``no-pre-ticked``             in those places nothing that needs opt-in is on before the visitor chooses, and no
                              optional category's checkbox is pre-ticked.
``settings-control``          the persistent "Cookie settings" control is on every page, chosen or not.
``unclassified-host``         no third-party host that no registry or catalogue entry claims appears on a page
                              the gateway has served (read from the stored counters, with a config file).

The banner rules are checked on the banner the gateway actually renders for each place, so they hold
whatever made it so (a regime override, a template or a text).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

from .._config import BUILTIN_BY_ID, Config, ConfigError, config_from_mapping
from .._sightings import Sighting
from ..banner._renderer import BannerRenderer, Viewer
from ..policy._catalog import TagRegistry, Vendor
from ..policy._categories import CATEGORIES, NECESSARY, OPTIONAL_CATEGORIES
from ..policy._decision import Decision, decide
from ..policy._jurisdiction import BUILTIN_REGIMES, Jurisdiction, Regime
from ..policy._location import Location
from ..policy._tag_matrix import choice_for, location_for
from ..policy._vendor import SENSITIVITY

RULES: Final[dict[str, str]] = {
    "config": "the configuration loads",
    "tag-category": "every tag has a category, and none files a catalog vendor under a less sensitive one",
    "necessary-only-essential": "no non-essential tag is marked necessary",
    "vendor-hosts": "every vendor host is known; csp_allow admits no tracker host for everyone",
    "opt-in-reject": "opt-in regions keep a first-layer 'Reject all'",
    "no-pre-ticked": "nothing needing opt-in is on before a choice; no pre-ticked category",
    "settings-control": "a persistent settings control is on every page",
    "unclassified-host": "no unclassified third party on the site's pages",
}
#: Places where the law needs opt-in for some category: the built-in table's opt-in rows, Australia (ads and
#: social, per the privacy policy) and unknown locations (strictest).
LEGAL_OPT_IN_PLACES: Final[tuple[str, ...]] = tuple(
    sorted(k for k, kind in BUILTIN_REGIMES.items() if kind in ("opt-in", "australia"))
)
_HOST: Final = re.compile(r"(?:\*\.)?[a-z0-9_-]+(?:\.[a-z0-9_-]+)+")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: its id, where (a key, a tag, a place) and what to do. A ``warning`` names a choice the
    configuration may make on purpose: reported, but ``lint`` does not fail on it."""

    rule: str
    where: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.rule}: {self.where}: {self.message}"


# ------------------------------------------------------------------------------------------------------
# Entry points


def lint_file(path: str | os.PathLike[str]) -> list[Violation]:
    """Lint a TOML configuration file (violations the loader would refuse are reported by rule too)."""
    try:
        with Path(path).open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return [Violation("config", str(path), str(exc))]
    return lint_mapping(data, base_dir=Path(path).parent)


def lint_mapping(data: Mapping[str, Any], *, base_dir: Path | None = None) -> list[Violation]:
    """Lint parsed TOML: raw ``[[tags]]`` checks first, then :func:`lint_config` on what loads."""
    out: list[Violation] = []
    raw_tags = data.get("tags", [])
    kept: list[Any] = []
    if isinstance(raw_tags, list):
        for index, raw in enumerate(raw_tags):
            found = _raw_tag(index, raw)
            out += found
            if not found:
                kept.append(raw)
    rest = {**data, "tags": kept} if "tags" in data else dict(data)
    try:
        # Demo defaults fill in secrets and the geo database: lint is about the rules, `check-config` about
        # whether the gateway can start.
        config = config_from_mapping(rest, base_dir=base_dir, demo=True)
    except ConfigError as exc:
        return [*out, Violation("config", "-", str(exc))]
    return out + lint_config(config)


def lint_config(config: Config) -> list[Violation]:
    """Every rule that can be checked on a loaded configuration."""
    registry = TagRegistry.builtin(config.tags)
    jurisdiction = Jurisdiction(config.regimes)
    renderer = BannerRenderer(prefix=config.prefix, vendors=registry.vendors)
    out = _tag_rules(config.tags)
    out += _csp_allow(config.csp_allow, registry)
    out += _banner_rules(config, jurisdiction, renderer)
    return out


# ------------------------------------------------------------------------------------------------------
# Tags


def _raw_tag(index: int, raw: object) -> list[Violation]:
    if not isinstance(raw, dict):
        return [Violation("config", f"tags[{index}]", "expected a table")]
    where = f"tags.{raw.get('id') or index}"
    if raw.get("id") in BUILTIN_BY_ID:
        # Names a catalogue entry: it lists or overrides that entry, whose category and hosts it keeps unless it
        # gives its own (the loader checks those; the loaded configuration is linted below).
        return []
    out: list[Violation] = []
    category = raw.get("category")
    if category is None:
        out.append(Violation("tag-category", where, f"no category; give one of {', '.join(OPTIONAL_CATEGORIES)}"))
    elif category == NECESSARY:
        out.append(
            Violation(
                "necessary-only-essential",
                where,
                "marked necessary: only what the site cannot work without is necessary, and it can never be "
                "refused; file the tag under functional, analytics, ads or social",
            )
        )
    elif category not in CATEGORIES:
        out.append(Violation("tag-category", where, f"unknown category {category!r}"))
    hosts = raw.get("hosts", [])
    hosts = [hosts] if isinstance(hosts, str) else hosts
    for host in hosts if isinstance(hosts, list) else []:
        if not isinstance(host, str) or not _HOST.fullmatch(host.lower().strip(".")):
            out.append(
                Violation("vendor-hosts", where, f"{host!r} is not a host name (write cdn.example.com, no scheme/path)")
            )
    if not hosts and not raw.get("src"):
        out.append(
            Violation(
                "vendor-hosts",
                where,
                "the hosts it talks to are unknown (only inline patterns): list them in hosts so the CSP admits "
                "them after consent and reports them otherwise",
            )
        )
    return out


def _tag_rules(tags: Sequence[Vendor]) -> list[Violation]:
    builtin = TagRegistry.builtin()
    out: list[Violation] = []
    for tag in tags:
        where = f"tags.{tag.id}"
        same = builtin.vendor(tag.id)
        claimed = [same] if same is not None else []
        claimed += [v for h in tag.hosts if (v := builtin.vendor_for_url(f"https://{h}/")) is not None]
        claimed += [v for s in tag.url_patterns if (v := builtin.vendor_for_url(s)) is not None]
        for vendor in dict.fromkeys(claimed):
            if SENSITIVITY[vendor.category] > SENSITIVITY.get(tag.category, 0):
                out.append(
                    Violation(
                        "tag-category",
                        where,
                        f"{vendor.name} is {vendor.category} in the catalog; filing it as {tag.category} lets it "
                        f"fire without {vendor.category} consent",
                        # Re-declaring the entry by its id is the documented way to choose that on purpose.
                        warning=vendor is same,
                    )
                )
        if tag.category == NECESSARY and same is not None and tag.identifiers_for:
            out.append(
                Violation(
                    "necessary-only-essential",
                    where,
                    f"{tag.name} is marked necessary, but the identifiers it stores also serve "
                    f"{', '.join(tag.identifiers_for)}: it will load for every visitor, refusals included; keep it "
                    "only where the site cannot work without it, and say so in the privacy policy",
                    warning=True,
                )
            )
    return out


def _csp_allow(sources: Sequence[str], registry: TagRegistry) -> list[Violation]:
    out: list[Violation] = []
    for source in sources:
        bare = source.strip("'").lower()
        if bare in ("*", "https:", "http:", "https://*", "http://*"):
            out.append(Violation("vendor-hosts", f"csp_allow {source!r}", "admits every host for everyone"))
            continue
        host = re.sub(r"^[a-z]+://", "", bare).split("/")[0].split(":")[0].removeprefix("*.")
        vendor = registry.vendor_for_url(f"https://{host}/") if host else None
        if vendor is not None and vendor.category != NECESSARY:
            out.append(
                Violation(
                    "vendor-hosts",
                    f"csp_allow {source!r}",
                    f"is {vendor.name} ({vendor.category}): csp_allow is for everyone, consented or not; the "
                    "gateway adds a vendor's hosts itself once its category is allowed",
                )
            )
    return out


# ------------------------------------------------------------------------------------------------------
# Banner rules, on the banner the gateway renders


class _Controls(HTMLParser):
    """Collects buttons (outside ``<details>``: the first layer) and checkbox states."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.details = 0
        self.first_layer: list[tuple[str, list[str]]] = []  # (value, text parts)
        self.checked: list[str] = []
        self._button: tuple[str, list[str]] | None = None
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "details":
            self.details += 1
        elif tag == "button" and self.details == 0:
            self._button = (a.get("value", ""), [])
            self.first_layer.append(self._button)
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a and "disabled" not in a:
            self.checked.append(a.get("value", "?"))
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self.details = max(self.details - 1, 0)
        elif tag == "button":
            self._button = None

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[1].append(data)


def _controls(html: str) -> _Controls:
    parser = _Controls()
    parser.feed(html)
    parser.close()
    return parser


@dataclass(frozen=True, slots=True)
class _Sample:
    """A visitor from one place, in English, who has chosen (refused everything) or not: what the banner is
    rendered for. Decided by the same rules as every visit."""

    location: Location
    decision: Decision
    scope: Mapping[str, Any] = field(default_factory=lambda: {"client": None, "headers": [(b"accept-language", b"en")]})
    previous_revision: str | None = None

    def language_by(self, negotiate: Callable[[Viewer], str]) -> str:
        return negotiate(self)


def _sample(config: Config, jurisdiction: Jurisdiction, location: Location, chosen: bool) -> _Sample:
    regime = jurisdiction.regime_for(location)
    choice = (
        choice_for("reject", regime_key=regime.key, regime_kind=regime.kind, policy_revision=config.policy_revision)
        if chosen
        else None
    )
    return _Sample(location, decide(location=location, regime=regime, choice=choice))


def _place(key: str) -> Location:
    if key == "unknown":
        return Location.unknown()
    country, _, sub = key.partition("-")
    return location_for(country, key if sub else None)


def _banner_rules(config: Config, jurisdiction: Jurisdiction, renderer: BannerRenderer) -> list[Violation]:
    out: list[Violation] = []
    settings_href = config.prefix + "settings"
    for key in LEGAL_OPT_IN_PLACES:
        location = _place(key)
        legal = Regime(key, BUILTIN_REGIMES[key])
        visit = _sample(config, jurisdiction, location, chosen=False)
        decision = visit.decision
        where = f"visitors from {key}" + (
            f" (regime row {decision.regime.key}: {decision.regime.kind})" if decision.regime.kind != legal.kind else ""
        )
        html = renderer.body_html(visit, decision, next_path="/")
        controls = _controls(html)
        if not any(value == "reject_all" and "".join(text).strip() for value, text in controls.first_layer):
            out.append(
                Violation("opt-in-reject", where, "the first layer of the banner has no 'Reject all' button")
            )
        early = sorted(c for c in legal.opt_in if decision.allows(c))
        if early:
            out.append(
                Violation(
                    "no-pre-ticked",
                    where,
                    f"{', '.join(early)} {'is' if len(early) == 1 else 'are'} on before the visitor chooses; "
                    "the law there needs opt-in",
                )
            )
        # The banner ticks what runs; a box ticked for a category the law there puts behind opt-in is wrong.
        ticked = [c for c in controls.checked if c in legal.opt_in and c not in early]
        if ticked:
            out.append(Violation("no-pre-ticked", where, f"pre-ticked in the banner: {', '.join(ticked)}"))
        for chosen in (False, True):
            sample = _sample(config, jurisdiction, location, chosen=chosen)
            page = renderer.body_html(sample, sample.decision, next_path="/")
            if not any(href.startswith(settings_href) for href in _controls(page).links):
                state = "after a choice" if chosen else "before a choice"
                out.append(
                    Violation("settings-control", where, f"no link to {settings_href} on the page {state}")
                )
    # One line per rule and message is enough when many places break the same way.
    return _dedupe(out)


def _dedupe(violations: list[Violation]) -> list[Violation]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for v in violations:
        grouped.setdefault((v.rule, v.message), []).append(v.where)
    out = []
    for (rule, message), wheres in grouped.items():
        where = wheres[0] if len(wheres) == 1 else f"{wheres[0]} and {len(wheres) - 1} more places"
        out.append(Violation(rule, where, message))
    return out


def failed(violations: Sequence[Violation]) -> bool:
    """Whether ``lint`` fails (exit 1): a violation that is not a warning."""
    return any(not v.warning for v in violations)


def unclassified_violations(hosts: Sequence[Sighting]) -> list[Violation]:
    """One violation per unclassified host seen on the site's pages: the gateway blocks it where consent is
    asked (no purpose was disclosed for it), so either the page breaks or the host needs a classification.
    Where the catalogue could guess what the host is for (the same company's hosts, a telling host label), the
    guess is given."""
    out = []
    for s in hosts:
        pages = ", ".join(path for path, _ in s.pages[:3]) + (" …" if len(s.pages) > 3 else "")
        suggestion = s.suggestion
        hint = f"probably {suggestion.category} ({suggestion.reason}); " if suggestion else ""
        out.append(
            Violation(
                "unclassified-host",
                f"unclassified host {s.host}",
                f"seen on {pages or 'the site'} (blocked {s.blocked} times and let through {s.fired}, "
                f"{s.first_seen} to {s.last_seen}); {hint}classify it: a [[tags]] entry with "
                f'hosts = ["{s.host}"] and its category, or csp_allow if it is the site\'s own',
            )
        )
    return out


def format_violations(violations: Sequence[Violation]) -> str:
    """Human report: one line per violation (warnings after), then the rules that passed."""
    lines = [f"VIOLATION {v}" for v in violations if not v.warning]
    lines += [f"WARNING   {v}" for v in violations if v.warning]
    broken = {v.rule for v in violations if not v.warning}
    lines += [f"ok        {rule}: {text}" for rule, text in RULES.items() if rule not in broken]
    return "\n".join(lines)


def violations_json(violations: Sequence[Violation], hosts: Sequence[Sighting]) -> dict[str, Any]:
    """``cookiegate lint --json`` (schema: cookiegate/cli/schemas/lint.json)."""
    from ._tags import hosts_json

    broken = {v.rule for v in violations if not v.warning}
    return {
        "ok": not failed(violations),
        "violations": [
            {"rule": v.rule, "where": v.where, "message": v.message, "warning": v.warning} for v in violations
        ],
        "rules": [{"id": rule, "text": text, "ok": rule not in broken} for rule, text in RULES.items()],
        "unclassified_hosts": hosts_json(hosts),
    }


__all__ = [
    "LEGAL_OPT_IN_PLACES",
    "RULES",
    "Violation",
    "failed",
    "format_violations",
    "lint_config",
    "lint_file",
    "lint_mapping",
    "unclassified_violations",
    "violations_json",
]
