"""ISO 3166 country and subdivision codes: what the operator and the marketer may name, with a hint when not.

The codes come from ``iso3166/codes.json`` (built from pycountry by ``scripts/build_iso3166.py``); the hints
for look-alikes (``UK``, ``EU``, ``XX``) from ``iso3166/reserved.toml``. Geo lookups are not checked here: a
database answers what it answers, and an unlisted code follows the regime table's ``default`` row.
"""

from __future__ import annotations

import difflib
import functools
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

_DATA: Final = Path(__file__).resolve().parent / "iso3166"


class UnknownCodeError(ValueError):
    """A code that is not ISO 3166; the message says what was probably meant."""


@dataclass(frozen=True, slots=True)
class _Codes:
    countries: dict[str, str]  # alpha-2 -> name
    alpha3: dict[str, str]  # alpha-3 -> alpha-2
    names: dict[str, str]  # lower-case name -> alpha-2
    subdivisions: dict[str, frozenset[str]]  # alpha-2 -> full subdivision codes
    withdrawn: dict[str, tuple[str, str | None]]  # old alpha-2 -> (name, successor)
    reserved: dict[str, dict[str, Any]]
    user_assigned: frozenset[str]
    user_assigned_why: str


@functools.cache
def _codes() -> _Codes:
    data = json.loads((_DATA / "codes.json").read_text("utf-8"))
    with (_DATA / "reserved.toml").open("rb") as fh:
        reserved = tomllib.load(fh)
    user_assigned: set[str] = set()
    for span in reserved["user_assigned"]["ranges"]:
        first, _, last = span.partition("-")
        last = last or first
        user_assigned.update(first[0] + chr(c) for c in range(ord(first[1]), ord(last[1]) + 1))
    countries = {code: entry["name"] for code, entry in data["countries"].items()}
    accepted = {code: entry for code, entry in reserved["codes"].items() if entry.get("accept")}
    return _Codes(
        countries=countries,
        alpha3={entry["alpha_3"]: code for code, entry in data["countries"].items()},
        names={name.lower(): code for code, name in countries.items()},
        subdivisions={
            country: frozenset(f"{country}-{rest}" for rest in codes.split())
            for country, codes in data["subdivisions"].items()
        },
        withdrawn={code: (entry["name"], entry["now"]) for code, entry in data["withdrawn"].items()},
        reserved=reserved["codes"],
        user_assigned=frozenset(user_assigned - set(accepted)),
        user_assigned_why=reserved["user_assigned"]["why"],
    )


def is_country(code: str) -> bool:
    """Whether ``code`` (upper case) is an ISO 3166-1 alpha-2 code, or one the geo databases use (XK)."""
    codes = _codes()
    return code in codes.countries or bool(codes.reserved.get(code, {}).get("accept"))


def country_code(text: str) -> str:
    """``text`` as an upper-case ISO 3166-1 alpha-2 code; :class:`UnknownCodeError` with a hint otherwise."""
    code = text.strip().upper()
    if is_country(code):
        return code
    raise UnknownCodeError(_country_hint(text.strip(), code))


def _country_hint(text: str, code: str) -> str:
    codes = _codes()
    reserved = codes.reserved.get(code)
    if reserved is not None:
        use = " or ".join(reserved["use"])
        return f"{code} is not a country code; did you mean {use}? ({reserved['why']})"
    if code in codes.user_assigned:
        return f"{code} is not a country code: {codes.user_assigned_why}"
    if code in codes.withdrawn:
        name, now = codes.withdrawn[code]
        if now:
            return f"{code} is not a country code any more ({name}, withdrawn from ISO 3166); did you mean {now}?"
        return f"{code} is not a country code any more ({name}, withdrawn from ISO 3166)"
    if code in codes.alpha3:
        return f"{code} is an ISO 3166-1 alpha-3 code; did you mean {codes.alpha3[code]}?"
    if text.lower() in codes.names:
        return f"{text} is a country name; did you mean {codes.names[text.lower()]}?"
    close = difflib.get_close_matches(text.lower(), codes.names, n=1, cutoff=0.8) if len(text) > 3 else []
    if close:
        match = codes.names[close[0]]
        return f"{text!r} is not a country code; did you mean {match} ({codes.countries[match]})?"
    return f"{text!r} is not an ISO 3166-1 country code (two letters, such as FR, GB, US)"


def subdivision_code(text: str) -> str:
    """``text`` (``US-CA``) as an upper-case ISO 3166-2 code; :class:`UnknownCodeError` with a hint otherwise."""
    code = text.strip().upper()
    country, sep, rest = code.partition("-")
    if not sep or not rest:
        raise UnknownCodeError(f"{text!r} is not a subdivision code: write the country, a dash and the code (US-CA)")
    country = country_code(country)  # the country part gets the country's hints (UK-ENG: did you mean GB?)
    known = _codes().subdivisions.get(country, frozenset())
    if f"{country}-{rest}" in known:
        return f"{country}-{rest}"
    if not known:
        raise UnknownCodeError(f"{code} is not a subdivision code: ISO 3166-2 lists no subdivisions of {country}")
    close = difflib.get_close_matches(f"{country}-{rest}", sorted(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; {country} has {len(known)}, such as {min(known)}"
    raise UnknownCodeError(f"{code} is not an ISO 3166-2 subdivision code{hint}")


def country_name(code: str) -> str | None:
    """The English short name of an ISO 3166-1 alpha-2 code (``"GB"`` → ``"United Kingdom"``)."""
    return _codes().countries.get(code)


__all__ = ["UnknownCodeError", "country_code", "country_name", "is_country", "subdivision_code"]
