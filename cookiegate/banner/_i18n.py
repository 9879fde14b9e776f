"""Which language to speak to a visitor in: explicit choice, then ``Accept-Language``, then the country's language.

Plain Python, no ASGI: header values and a :class:`Location` go in, a language code comes out.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Final

from ..policy._location import Location

#: The language spoken when nothing else matches.
DEFAULT_LANGUAGE: Final = "en"

#: Autonyms for the language switcher (a visitor looks for their language in their language).
LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    "en": "English",
    "fr": "Français",
    "de": "Deutsch",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt": "Português",
    "pt-BR": "Português (Brasil)",
    "pl": "Polski",
}

#: The main language of a country or subdivision, for visitors whose browser asks for nothing we have.
#: Subdivisions win over countries (Quebec speaks French, the rest of Canada English).
PLACE_LANGUAGE: Final[Mapping[str, str]] = {
    "CA-QC": "fr",
    **dict.fromkeys("FR MC LU SN CI CM MG ML NE BF CD CG GA HT".split(), "fr"),
    **dict.fromkeys(("DE", "AT", "CH", "LI"), "de"),
    **dict.fromkeys("ES MX AR CO CL PE VE EC GT CU BO DO HN PY SV NI CR PA UY GQ".split(), "es"),
    **dict.fromkeys(("IT", "SM", "VA"), "it"),
    # Belgium: more Dutch than French speakers; Accept-Language usually settles it first anyway.
    **dict.fromkeys(("NL", "BE", "SR"), "nl"),
    **dict.fromkeys(("PT", "AO", "MZ", "CV", "GW", "ST", "TL"), "pt"),
    "BR": "pt-BR",
    "PL": "pl",
}

#: Accept-Language headers longer than this are cut: a hostile header cannot make negotiation slow.
_MAX_HEADER: Final = 512
_MAX_ITEMS: Final = 24


def parse_accept_language(header: str | None) -> list[str]:
    """The language tags of ``Accept-Language`` in preference order (q-values, then position).

    Each is its primary subtag, with its region when it has one (``"de-CH"``, ``"pt-BR"``, ``"fr"``); other
    subtags are dropped. ``"de-CH,fr;q=0.8,*;q=0.1"`` → ``["de-CH", "fr"]``. Malformed items and ``q=0`` are
    skipped; never raises.
    """
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:_MAX_HEADER].split(",")[:_MAX_ITEMS]):
        tag, _, params = item.strip().partition(";")
        subtags = tag.strip().split("-")
        primary = subtags[0].lower()
        if not primary.isascii() or not primary.isalpha() or not 1 <= len(primary) <= 8:
            continue  # "*" and garbage carry no language
        region = next((s.upper() for s in subtags[1:] if len(s) == 2 and s.isascii() and s.isalpha()), None)
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not 0.0 < q <= 1.0:
            continue
        ranked.append((-q, position, f"{primary}-{region}" if region else primary))
    ranked.sort()
    seen: dict[str, None] = {}
    for _, _, found in ranked:
        seen.setdefault(found, None)
    return list(seen)


@lru_cache(maxsize=1024)
def _from_header(header: str, available: frozenset[str]) -> str | None:
    # RFC 4647 lookup: the tag as asked ("pt-BR"), then its language alone ("pt").
    for tag in parse_accept_language(header):
        if tag in available:
            return tag
        primary = tag.split("-", 1)[0]
        if primary in available:
            return primary
    return None


def place_language(location: Location) -> str | None:
    """The main language of the visitor's subdivision or country, if we know one."""
    if location.subdivision and location.subdivision in PLACE_LANGUAGE:
        return PLACE_LANGUAGE[location.subdivision]
    if location.country:
        return PLACE_LANGUAGE.get(location.country)
    return None


def negotiate(
    available: Collection[str],
    *,
    chosen: str | None = None,
    accept_language: str | None = None,
    location: Location | None = None,
) -> str:
    """The visitor's language among ``available``.

    Order: the language they picked in the switcher (``chosen``), the first ``Accept-Language`` entry
    we have, the language of their country, English. Every input is untrusted and may be anything.
    """
    pool = frozenset(available)
    if chosen and chosen in pool:
        return chosen
    if accept_language:
        found = _from_header(accept_language, pool)
        if found is not None:
            return found
    if location is not None:
        lang = place_language(location)
        if lang is not None and lang in pool:
            return lang
    return DEFAULT_LANGUAGE


__all__ = ["DEFAULT_LANGUAGE", "LANGUAGE_NAMES", "PLACE_LANGUAGE", "negotiate", "parse_accept_language"]


def base_language(lang: str) -> str | None:
    """The language a regional variant falls back to (``pt-BR`` → ``pt``), else ``None``."""
    primary, sep, _ = lang.partition("-")
    return primary if sep else None


class Translations:
    """Texts per language: the operator's override, else the bundled file, else English. Never a raw key.

    A regional file (``pt-BR.json``) holds only the texts that differ from its language's (``pt.json``)."""

    def __init__(self, directory: Path, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._texts: dict[str, dict[str, str]] = {}
        for file in sorted(directory.glob("*.json")):
            self._texts[file.stem] = json.loads(file.read_text("utf-8"))
        if DEFAULT_LANGUAGE not in self._texts:
            raise RuntimeError(f"banner translations: {DEFAULT_LANGUAGE}.json is missing in {directory}")
        self.keys: frozenset[str] = frozenset(self._texts[DEFAULT_LANGUAGE])
        for lang, texts in (overrides or {}).items():
            unknown = set(texts) - self.keys
            if unknown:
                raise ValueError(f"banner_texts.{lang}.{sorted(unknown)[0]}: unknown text key")
            # Empty overrides are ignored: a blank field in the operator's file must not blank the banner.
            self._texts.setdefault(lang, {}).update({k: v for k, v in texts.items() if v.strip()})
        # Read on every HTML response (language negotiation); the set of languages is fixed from here on.
        self._languages = (DEFAULT_LANGUAGE, *sorted(k for k in self._texts if k != DEFAULT_LANGUAGE))

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with texts (bundled or configured), English first."""
        return self._languages

    def get(self, lang: str, key: str) -> str:
        """The text for ``key`` in ``lang``, else in its base language, else in English, else the key made
        readable."""
        found = self._texts.get(lang, {}).get(key)
        if not found:
            base = base_language(lang)
            found = self._texts.get(base, {}).get(key) if base else None
        return found or self._texts[DEFAULT_LANGUAGE].get(key) or key.replace("_", " ")
