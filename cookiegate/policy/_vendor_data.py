"""The vendor catalogue's data files: one schema for the built-in entries and the site's ``[[tags]]``.

The catalogue is ``cookiegate/policy/vendors/*.toml`` (package data, one file per family, ``[[vendor]]``
tables; the schema is in that directory's README.md). :func:`load_builtin_vendors` reads every file once and
refuses, loudly, anything the registry could not use correctly. :func:`vendor_from_entry` turns one table
into a :class:`Vendor`; the site's configuration uses it too, so a ``[[tags]]`` entry takes the same keys
and, given an id the catalogue has, overrides that entry key by key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from ._categories import CATEGORIES, NECESSARY
from ._cookie_database import CookieDatabase, bundled_database, claimable
from ._patterns import VendorError, check_vendor, clean_host, required_literal
from ._vendor import SENSITIVITY, CookieFact, Vendor

#: The order families are read in; a file not listed here is read after them, by name.
FAMILIES: Final = (
    "ads",
    "analytics",
    "session_replay",
    "ab_testing",
    "chat_support",
    "scheduling_forms",
    "video_audio",
    "maps",
    "social_share",
    "reviews",
    "fonts",
    "necessary",
)

#: Keys of a catalogue entry (a ``[[vendor]]`` table).
ENTRY_KEYS: Final = frozenset(
    {
        "id",
        "name",
        "company",
        "category",
        "purpose",
        "hosts",
        "shared_hosts",
        "url_patterns",
        "inline",
        "embed",
        "csp_default",
        "cookies",
        "cookie_lifetimes",
        "ocd_platform",
        "ocd_cookies",
        "identifiers_for",
        "sources",
        "notes",
    }
)
#: Keys the site's ``[[tags]]`` entries have always taken, as aliases, and the statement's lifetime text.
TAG_ALIASES: Final[Mapping[str, str]] = {"vendor": "name", "src": "url_patterns"}
TAG_ONLY_KEYS: Final = frozenset({"cookie_lifetime"})
_ID_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class VendorDataError(ValueError):
    """An entry the registry cannot use; the message names the entry and the key."""


def _strings(raw: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise VendorDataError(f"{where}.{key}: expected a list of non-empty strings")
    return tuple(value)


def _text(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    if key not in raw:
        return None
    value = raw[key]
    if not isinstance(value, str):
        raise VendorDataError(f"{where}.{key}: expected a string")
    return value


def vendor_from_entry(
    raw: Mapping[str, Any],
    *,
    where: str,
    base: Vendor | None = None,
    family: str = "",
    database: CookieDatabase | None = None,
    site: bool = False,
) -> Vendor:
    """A :class:`Vendor` from one catalogue or ``[[tags]]`` table.

    With ``base`` (the catalogue entry of the same id) the table overrides it: every key given replaces the
    entry's value, every other value is kept. ``site`` admits the ``[[tags]]`` aliases (``vendor``, ``src``)
    and an explicit ``cookie_lifetime``. Raises :class:`VendorDataError` naming ``where`` and the key.
    """
    aliases = TAG_ALIASES if site else {}
    allowed = ENTRY_KEYS | set(aliases) | (TAG_ONLY_KEYS if site else frozenset())
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise VendorDataError(f"{where}.{unknown[0]}: unknown key (expected {', '.join(sorted(allowed))})")
    data = dict(raw)
    for alias, key in aliases.items():
        if alias in data:
            if key in data:
                raise VendorDataError(f"{where}.{alias}: give {key} or {alias}, not both")
            data[key] = data.pop(alias)
    vendor_id = data.get("id")
    if not isinstance(vendor_id, str) or not _ID_RE.fullmatch(vendor_id):
        raise VendorDataError(f"{where}.id: expected a lower-case slug (letters, digits, - and _)")
    if base is None:
        for key in ("category",) if site else ("name", "company", "category", "purpose"):
            if key not in data:
                raise VendorDataError(f"{where}.{key}: missing")
    category = data.get("category", base.category if base else None)
    if category not in CATEGORIES:
        raise VendorDataError(f"{where}.category: expected one of {', '.join(CATEGORIES)}, not {category!r}")
    embed = data.get("embed", base.embed if base else False)
    csp_default = data.get("csp_default", base.csp_default if base else False)
    for key, flag in (("embed", embed), ("csp_default", csp_default)):
        if not isinstance(flag, bool):
            raise VendorDataError(f"{where}.{key}: expected true or false")

    def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        found = _strings(data, key, where)
        return default if found is None else found

    def text(key: str, default: str) -> str:
        found = _text(data, key, where)
        return default if found is None else found

    identifiers_for = strings("identifiers_for", base.identifiers_for if base else ())
    for other in identifiers_for:
        if other not in CATEGORIES or other == NECESSARY:
            raise VendorDataError(f"{where}.identifiers_for: {other!r} is not an optional category")
    lifetimes: dict[str, str] = {}
    if "cookie_lifetimes" in data:
        table = data["cookie_lifetimes"]
        if not isinstance(table, dict) or not all(isinstance(v, str) and v.strip() for v in table.values()):
            raise VendorDataError(f"{where}.cookie_lifetimes: expected a table of cookie name = lifetime")
        lifetimes = dict(table)
    ocd = strings("ocd_platform", base.ocd_platforms if base else ())
    if ocd and database is not None:
        missing = [p for p in ocd if p not in database.platforms]
        if missing:
            raise VendorDataError(f"{where}.ocd_platform: {missing[0]!r} is not a Platform of the cookie database")
    ocd_cookies = strings("ocd_cookies", base.ocd_cookies if base else ())
    if ocd_cookies and not ocd:
        raise VendorDataError(f"{where}.ocd_cookies: only meaningful with ocd_platform")
    name = text("name", base.name if base else vendor_id)
    vendor = Vendor(
        id=vendor_id,
        name=name,
        category=str(category),
        purpose=text("purpose", base.purpose if base else ""),
        hosts=_hosts(strings("hosts", base.hosts if base else ())),
        shared_hosts=_hosts(strings("shared_hosts", base.shared_hosts if base else ())),
        url_patterns=strings("url_patterns", base.url_patterns if base else ()),
        inline_patterns=strings("inline", base.inline_patterns if base else ()),
        cookies=strings("cookies", base.cookies if base else ()),
        company=text("company", base.company if base else ""),
        embed=embed,
        csp_default=csp_default,
        identifiers_for=identifiers_for,
        sources=strings("sources", base.sources if base else ()),
        ocd_platforms=ocd,
        ocd_cookies=ocd_cookies,
        family=base.family if base else family,
        notes=text("notes", base.notes if base else ""),
        cookie_facts=base.cookie_facts if base else (),
        cookie_lifetime=base.cookie_lifetime if base else "",
    )
    try:
        check_vendor(vendor)
        for host in (*vendor.hosts, *vendor.shared_hosts):
            clean_host(host, vendor.id)
    except VendorError as exc:
        raise VendorDataError(f"{where}.{exc.key}: {exc}") from None
    if not (vendor.hosts or vendor.url_patterns or vendor.inline_patterns):
        raise VendorDataError(f"{where}: say how to recognise it (hosts, url_patterns/src or inline)")
    if base is None or {"cookies", "cookie_lifetimes", "ocd_platform", "ocd_cookies"} & data.keys():
        vendor = _with_cookie_facts(vendor, lifetimes, database, where)
    explicit = _text(data, "cookie_lifetime", where) if site else None
    if explicit is not None:
        vendor = replace(vendor, cookie_lifetime=explicit)
    elif site and base is None and not vendor.cookie_facts:
        # A site tag says nothing about lifetimes unless its operator does: no guessed text in the statement.
        vendor = replace(vendor, cookie_lifetime="")
    return vendor


def _hosts(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(h.strip().lower().strip(".") for h in values)


def _more_sensitive(category: str, than: str) -> bool:
    return SENSITIVITY.get(category, 0) > SENSITIVITY.get(than, 0)


def _with_cookie_facts(
    vendor: Vendor, lifetimes: Mapping[str, str], database: CookieDatabase | None, where: str
) -> Vendor:
    """Facts from the cookie database's rows of the vendor's platforms, then the hand-written lifetimes (which
    may only name cookies the database does not hold); claims grow by the database's first-party names."""
    facts: list[CookieFact] = []
    claims = list(vendor.cookies)
    held: set[str] = set()
    only = [re.compile(_glob(name)) for name in vendor.ocd_cookies]
    for platform in vendor.ocd_platforms:
        for row in database.rows_for(platform) if database is not None else ():
            fact = row.fact()
            if only and not any(rx.fullmatch(row.name) or rx.fullmatch(fact.name) for rx in only):
                continue
            held.update((row.name, fact.name))
            facts.append(fact)
            # A row filed under a more sensitive purpose is not this vendor's to let through with its consent.
            if claimable(row) and not _more_sensitive(row.category, vendor.category):
                if not row.wildcard:
                    claims.append(row.name)
                elif not row.name[-1].isalnum():
                    claims.append(row.name + "*")
    for name, lifetime in lifetimes.items():
        if name in held or name.rstrip("*") in held:
            raise VendorDataError(
                f"{where}.cookie_lifetimes.{name}: the cookie database already holds it; drop the hand-written fact"
            )
        facts.append(CookieFact(name=name, lifetime=lifetime, origin="vendor"))
    claims = list(dict.fromkeys(claims))
    return replace(
        vendor,
        cookies=tuple(claims),
        cookie_facts=tuple(facts),
        cookie_lifetime=_lifetime_summary(claims, facts),
    )


def _glob(name: str) -> str:
    return ".*".join(re.escape(part) for part in name.split("*"))


def _lifetime_summary(claims: Sequence[str], facts: Sequence[CookieFact]) -> str:
    """``"_ga: 2 years; _gid: 24 hours"`` for the claimed cookies with a known lifetime."""
    if not claims:
        return "no cookies documented" if not facts else "none on the visited site"
    by_name: dict[str, str] = {}
    for fact in facts:
        by_name.setdefault(fact.name, fact.lifetime)
        by_name.setdefault(fact.name.rstrip("*"), fact.lifetime)
    parts = [f"{claim}: {by_name[claim]}" for claim in claims if by_name.get(claim)]
    parts += [
        f"{claim}: {by_name[claim.rstrip('*')]}"
        for claim in claims
        if not by_name.get(claim) and by_name.get(claim.rstrip("*"))
    ]
    return "; ".join(parts) if parts else "lifetimes not documented by the vendor"


# --------------------------------------------------------------------------------------------------------
# The built-in catalogue


def vendors_directory() -> Path:
    """The catalogue's data files (package data)."""
    return Path(str(files("cookiegate") / "policy" / "vendors"))


def _family_files(directory: Path) -> list[Path]:
    found = {p.stem: p for p in directory.glob("*.toml")}
    return [found[f] for f in FAMILIES if f in found] + sorted(p for s, p in found.items() if s not in FAMILIES)


def load_vendors(directory: Path, database: CookieDatabase | None) -> tuple[Vendor, ...]:
    """Every entry of every family file in ``directory``, validated one by one and against each other."""
    vendors: list[Vendor] = []
    for path in _family_files(directory):
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise VendorDataError(f"{path.name}: {exc}") from None
        if set(data) - {"vendor"}:
            raise VendorDataError(f"{path.name}: only [[vendor]] tables belong here, not {sorted(set(data))}")
        entries = data.get("vendor", [])
        if not isinstance(entries, list) or not entries:
            raise VendorDataError(f"{path.name}: no [[vendor]] entries")
        for index, raw in enumerate(entries):
            where = f"{path.name}[{index}]"
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                where = f"{path.name}:{raw['id']}"
            vendor = vendor_from_entry(raw, where=where, family=path.stem, database=database)
            _check_catalogue_entry(vendor, raw, where)
            vendors.append(vendor)
    check_catalogue(vendors)
    return tuple(vendors)


def _check_catalogue_entry(vendor: Vendor, raw: Mapping[str, Any], where: str) -> None:
    """What the built-in entries promise beyond what a site tag must say."""
    if not vendor.purpose.strip().endswith("."):
        raise VendorDataError(f"{where}.purpose: one plain sentence, ending with a full stop")
    if not vendor.hosts and not vendor.url_patterns:
        raise VendorDataError(f"{where}.hosts: a catalogue entry names the hosts it talks to")
    if not vendor.sources and not vendor.notes:
        raise VendorDataError(f"{where}.sources: name the documentation, or say in notes why there is none")
    for source in vendor.sources:
        if not source.startswith("https://"):
            raise VendorDataError(f"{where}.sources: {source!r} is not an https URL")
    for pattern in vendor.inline_patterns:
        literal = required_literal(pattern)
        if literal is None or len(literal) < 3:
            raise VendorDataError(f"{where}.inline: {pattern!r} has no literal of 3+ characters for the prefilter")


def check_catalogue(vendors: Sequence[Vendor]) -> None:
    """Rules between entries: unique ids, one owner per host, url pattern and exact cookie name."""
    ids: dict[str, Vendor] = {}
    hosts: dict[str, str] = {}
    patterns: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for vendor in vendors:
        if vendor.id in ids:
            raise VendorDataError(f"{vendor.family}.toml:{vendor.id}: duplicate id (also in {ids[vendor.id].family})")
        ids[vendor.id] = vendor
        for host in vendor.hosts:
            cleaned = clean_host(host, vendor.id)
            if cleaned in hosts:
                raise VendorDataError(
                    f"{vendor.family}.toml:{vendor.id}.hosts: {cleaned} is also {hosts[cleaned]}'s; split a shared "
                    "host by path (shared_hosts + url_patterns)"
                )
            hosts[cleaned] = vendor.id
        for pattern in vendor.url_patterns:
            key = pattern.lower()
            if key in patterns:
                raise VendorDataError(
                    f"{vendor.family}.toml:{vendor.id}.url_patterns: {pattern!r} is also {patterns[key]}'s"
                )
            patterns[key] = vendor.id
        for cookie in vendor.cookies:
            if "*" not in cookie:
                if cookie in cookies:
                    raise VendorDataError(
                        f"{vendor.family}.toml:{vendor.id}.cookies: {cookie} is also {cookies[cookie]}'s"
                    )
                cookies[cookie] = vendor.id
    for vendor in vendors:
        for pattern in vendor.url_patterns:
            if pattern.startswith("/"):
                continue
            host = clean_host(pattern.partition("/")[0], vendor.id)
            declared = [clean_host(h, vendor.id) for h in (*vendor.hosts, *vendor.shared_hosts)]
            if not any(host == d or host.endswith("." + d) for d in declared):
                raise VendorDataError(
                    f"{vendor.family}.toml:{vendor.id}.url_patterns: {pattern!r} is on no host it declares"
                )


@cache
def load_builtin_vendors() -> tuple[Vendor, ...]:
    """The built-in catalogue, read from the package's data files once per process."""
    return load_vendors(vendors_directory(), bundled_database())
