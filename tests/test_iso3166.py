"""Country and subdivision codes that are not ISO 3166 are refused everywhere, with a hint; the data's schema."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cookiegate import Config, ConfigError, CookieGateMiddleware
from cookiegate.cli._main import main
from cookiegate.policy._iso3166 import UnknownCodeError, country_code, is_country, subdivision_code
from cookiegate.policy._jurisdiction import Jurisdiction
from cookiegate.policy._tag_matrix import ConsentSpecError, location_for

from .helpers import IP, KEY, PAGE, client, make_config

DATA = Path(__file__).resolve().parent.parent / "cookiegate" / "policy" / "iso3166"
TOKEN = "admin-token-" + "q" * 40
BEARER = {"authorization": f"Bearer {TOKEN}"}


# ---------------------------------------------------------------------------------------------------------
# The data files


def test_the_code_list_has_every_country_with_a_name_and_alpha3_and_subdivisions_of_known_countries() -> None:
    data = json.loads((DATA / "codes.json").read_text("utf-8"))
    countries = data["countries"]
    assert len(countries) >= 249
    for code, entry in countries.items():
        assert re.fullmatch(r"[A-Z]{2}", code) and re.fullmatch(r"[A-Z]{3}", entry["alpha_3"]) and entry["name"]
    assert set(data["subdivisions"]) <= set(countries)
    for codes in data["subdivisions"].values():
        assert all(re.fullmatch(r"[A-Z0-9]{1,3}", c) for c in codes.split())
    for old, entry in data["withdrawn"].items():
        assert old not in countries and (entry["now"] is None or entry["now"] in countries)
    assert "LGPL" in data["source"] and "GNU LESSER GENERAL PUBLIC LICENSE" in (DATA / "LICENSE").read_text()


def test_the_hand_written_look_alikes_are_not_countries_and_suggest_real_ones() -> None:
    with (DATA / "reserved.toml").open("rb") as fh:
        reserved = tomllib.load(fh)
    countries = json.loads((DATA / "codes.json").read_text("utf-8"))["countries"]
    for code, entry in reserved["codes"].items():
        assert code not in countries and set(entry) <= {"use", "why", "accept"} and entry["why"]
        for use in entry["use"]:
            suggested = re.findall(r"\b[A-Z]{2}\b", use)
            assert suggested and all(s in countries for s in suggested), (code, use)


# ---------------------------------------------------------------------------------------------------------
# The rule


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("UK", "UK is not a country code; did you mean GB?"),
        ("uk", "UK is not a country code; did you mean GB?"),
        ("EU", "EU is not a country code; did you mean a member state such as FR or DE?"),
        ("XX", "XX is not a country code: a user-assigned code"),
        ("ZZ", "ZZ is not a country code: a user-assigned code"),
        ("EL", "did you mean GR?"),
        ("FRA", "FRA is an ISO 3166-1 alpha-3 code; did you mean FR?"),
        ("Germany", "did you mean DE?"),
        ("BU", "withdrawn from ISO 3166); did you mean MM?"),
        ("F1", "is not an ISO 3166-1 country code"),
    ],
)
def test_a_code_that_is_not_iso_3166_is_refused_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(UnknownCodeError) as caught:
        country_code(text)
    assert hint in str(caught.value)


@pytest.mark.parametrize(("text", "hint"), [("US-XX", "did you mean"), ("UK-ENG", "did you mean GB?"), ("CA", "US-CA")])
def test_a_subdivision_that_is_not_iso_3166_2_is_refused_with_a_hint(text: str, hint: str) -> None:
    with pytest.raises(UnknownCodeError) as caught:
        subdivision_code(text)
    assert hint in str(caught.value)


def test_real_codes_pass_in_any_case_and_kosovo_as_the_geo_databases_write_it() -> None:
    assert country_code("gb") == "GB" and country_code(" ke ") == "KE" and is_country("XK")
    assert subdivision_code("us-ca") == "US-CA" and subdivision_code("GB-ENG") == "GB-ENG"
    assert subdivision_code("CA-QC") == "CA-QC"


def test_a_valid_but_unlisted_country_follows_the_table_default() -> None:
    assert Jurisdiction().regime_for(location_for("KE")).key == "default"
    assert Jurisdiction({"default": "opt-in"}).regime_for(location_for("KE")).kind == "opt-in"


# ---------------------------------------------------------------------------------------------------------
# Everywhere


@pytest.mark.parametrize("argv", [["--country", "UK"], ["--country", "EU"], ["--country", "XX"], ["--state", "UK-ENG"]])
def test_cookiegate_tags_refuses_a_non_iso_country_instead_of_answering_notice(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tags", *argv]) == 2
    err = capsys.readouterr().err
    assert "is not a country code" in err


def test_cookiegate_tags_refuses_a_non_iso_state(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tags", "--country", "US", "--state", "XX"]) == 2
    assert "US-XX is not an ISO 3166-2 subdivision code" in capsys.readouterr().err
    with pytest.raises(ConsentSpecError, match="did you mean GB"):
        location_for(None, "UK-ENG")


@pytest.mark.parametrize(("key", "hint"), [("UK", "did you mean GB"), ("EU", "member state"), ("US-XX", "US-XX")])
def test_config_refuses_regime_keys_that_are_not_iso_3166(key: str, hint: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=hint):
        Config(secret_keys=(KEY,), regimes={key: "opt-in"})
    toml = tmp_path / "c.toml"
    toml.write_text(f'secret_keys = ["{KEY}"]\n[regimes]\n{key} = "opt-in"\n')
    assert main(["check-config", "--config", str(toml)]) == 2


def _app(seen: list[str | None]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["cookiegate"].location.country)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": PAGE.encode()})

    return app


@pytest.mark.anyio
async def test_admin_preview_form_and_preview_header_refuse_a_non_iso_country(tmp_path: Path) -> None:
    seen: list[str | None] = []
    mw = CookieGateMiddleware(_app(seen), config=make_config(tmp_path, admin_token=TOKEN))
    async with client(mw, IP["JP"]) as c:
        form = await c.get("/cookiegate/admin/preview?country=UK", headers=BEARER)
        page = await c.get("/", headers={"cookiegate-preview": "country=UK; consent=accept", **BEARER})
        valid = await c.get("/", headers={"cookiegate-preview": "country=GB; consent=none", **BEARER})
    assert form.status_code == 400 and "did you mean GB?" in form.text
    # Refused, not previewed as "notice, everything fires": the visitor's own view applies, and it is counted.
    assert "cookiegate-decision" not in page.headers and seen[0] == "JP" and mw.admin.refused_previews == 1
    assert "cookiegate-decision" in valid.headers and seen[1] == "GB"
