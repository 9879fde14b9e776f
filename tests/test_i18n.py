"""Language negotiation: switcher choice, then Accept-Language, then the country's language, then English."""

from __future__ import annotations

import json

import pytest

from cookiegate._resources import banner_assets_dir
from cookiegate.banner._i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_NAMES,
    Translations,
    base_language,
    negotiate,
    parse_accept_language,
    place_language,
)
from cookiegate.policy._location import Location

AVAILABLE = ("en", "fr", "de", "es", "it", "nl", "pt", "pt-BR", "pl")
I18N = banner_assets_dir() / "i18n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-CH,fr;q=0.8,*;q=0.1", ["de-CH", "fr"]),
        ("fr;q=0.5, pl", ["pl", "fr"]),
        ("en-GB, en-US;q=0.9, en;q=0.8", ["en-GB", "en-US", "en"]),
        ("it;q=0, es", ["es"]),
        ("*", []),
        ("", []),
        ("xx-;q=abc, ;;;, pt-br", ["pt-BR"]),
        ("zh-Hant-TW, sr-Latn", ["zh-TW", "sr"]),
        ("nl;q=2", []),
        ("de ; q = 0.7 , fr", ["fr", "de"]),
    ],
)
def test_accept_language_is_ranked_by_quality_then_position(header: str, expected: list[str]) -> None:
    assert parse_accept_language(header) == expected


def test_huge_accept_language_header_is_cut_and_never_raises() -> None:
    header = ",".join(["zz;q=0.1"] * 5000) + ",fr"
    assert "fr" not in parse_accept_language(header)
    assert len(parse_accept_language(header)) <= 24


@pytest.mark.parametrize(
    ("chosen", "accept", "location", "expected"),
    [
        ("pl", "de", Location(country="FR"), "pl"),  # the switcher wins over everything
        ("xx", "de", Location(country="FR"), "de"),  # an unknown choice is ignored
        (None, "ja, es;q=0.5", Location(country="FR"), "es"),  # first header language we have
        (None, "ja", Location(country="FR"), "fr"),  # nothing usable in the header: the country's language
        (None, None, Location(country="BR"), "pt-BR"),
        (None, None, Location(country="PT"), "pt"),
        (None, "pt-BR,pt;q=0.9", Location(country="PT"), "pt-BR"),  # Brazilian Portuguese, asked for by name
        (None, "pt-PT", Location(country="BR"), "pt"),  # a region we have no texts for: its language
        (None, "pt", Location(country="BR"), "pt"),
        (None, "de-AT", Location(country="FR"), "de"),
        (None, None, Location(country="CA", subdivision="CA-QC"), "fr"),  # the subdivision's language
        (None, None, Location(country="CA", subdivision="CA-ON"), "en"),
        (None, None, Location(country="JP"), "en"),  # no translation for the country: English
        (None, None, Location.unknown(), "en"),
        (None, "en-US", Location(country="DE"), "en"),  # a browser asking for English gets English
    ],
)
def test_negotiation_order(chosen: str | None, accept: str | None, location: Location, expected: str) -> None:
    assert negotiate(AVAILABLE, chosen=chosen, accept_language=accept, location=location) == expected


def test_every_bundled_language_has_a_switcher_name_and_a_country() -> None:
    bundled = {f.stem for f in I18N.glob("*.json")}
    assert bundled >= set(AVAILABLE)
    assert bundled <= set(LANGUAGE_NAMES)
    countries = ("FR", "DE", "ES", "IT", "NL", "PT", "BR", "PL")
    assert {place_language(Location(country=c)) for c in countries} == set(AVAILABLE) - {DEFAULT_LANGUAGE}


def test_every_translation_file_has_every_key_and_no_stray_or_empty_one() -> None:
    reference = json.loads((I18N / "en.json").read_text("utf-8"))
    for file in sorted(I18N.glob("*.json")):
        texts = json.loads(file.read_text("utf-8"))
        base = base_language(file.stem)
        if base is not None:
            # A regional file holds only what differs from its language's texts, and differs in each.
            own = json.loads((I18N / f"{base}.json").read_text("utf-8"))
            assert set(texts) <= set(reference), f"{file.name}: extra {set(texts) - set(reference)}"
            assert not [k for k, v in texts.items() if own[k] == v], f"{file.name}: texts equal to {base}.json"
            texts = {**own, **texts}
        assert set(texts) == set(reference), (
            f"{file.name}: missing {set(reference) - set(texts)}, extra {set(texts) - set(reference)}"
        )
        empty = [k for k, v in texts.items() if not isinstance(v, str) or not v.strip()]
        assert not empty, f"{file.name}: empty texts {empty}"
        # Placeholders the templates fill in must survive translation.
        for key, value in reference.items():
            for token in ("{vendor}", "{purpose}", "{category}"):
                if token in value:
                    assert token in texts[key], f"{file.name}: {key} lost {token}"


def test_a_regional_language_falls_back_to_its_language_then_english() -> None:
    texts = Translations(I18N)
    assert texts.get("pt-BR", "save") == "Salvar escolhas"  # pt-BR's own
    assert texts.get("pt-BR", "reject_all") == texts.get("pt", "reject_all")  # the same as pt
    assert "pt-BR" in texts.languages
