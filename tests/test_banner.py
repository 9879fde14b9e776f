"""The visitor's banner: variants per regime, languages, operator copy, re-consent, Consent Mode, pages."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from cookiegate import CookieGateMiddleware
from cookiegate._config import ConfigError
from cookiegate._resources import banner_assets_dir
from cookiegate.banner._renderer import BannerRenderer
from cookiegate.policy._catalog import BUILTIN_VENDORS, Vendor
from cookiegate.policy._categories import OPTIONAL_CATEGORIES
from cookiegate.policy._consent import Choice, ConsentCodec
from cookiegate.policy._consent_mode import CONSENT_MODE_TYPES, consent_mode_state
from cookiegate.policy._decision import Decision, decide
from cookiegate.policy._jurisdiction import REGIME_KINDS, Regime
from cookiegate.policy._location import Location

from .helpers import IP, KEY, ORIGIN, PAGE, client, make_config

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "pt-BR", "pl")
TEXTS = {lang: json.loads((banner_assets_dir() / "i18n" / f"{lang}.json").read_text("utf-8")) for lang in LANGUAGES}
# pt-BR holds only the texts that differ from pt's.
TEXTS["pt-BR"] = {**TEXTS["pt"], **TEXTS["pt-BR"]}
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class Controls(HTMLParser):
    """Collects the banner's controls: tag, attributes, and whether a checkbox is ticked."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[dict[str, str | None]] = []
        self.checkboxes: list[dict[str, str | None]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "button":
            self.buttons.append(a)
        elif tag == "input" and a.get("type") == "checkbox":
            self.checkboxes.append(a)
        elif tag == "a" and a.get("href"):
            self.links.append(str(a["href"]))


def controls(html: str) -> Controls:
    parser = Controls()
    parser.feed(html)
    return parser


def site() -> Starlette:
    async def home(request: Request) -> Response:
        return HTMLResponse(PAGE)

    return Starlette(routes=[Route("/", home), Route("/pricing", home)])


def gated(tmp_path: Path, **overrides: object) -> CookieGateMiddleware:
    return CookieGateMiddleware(site(), config=make_config(tmp_path, **overrides))


def banner_of(html: str) -> str:
    start = html.find('<div id="cookiegate-banner"')
    return "" if start < 0 else html[start : html.index('<i class="cg-end" hidden></i>', start)]


def renderer(**kwargs: Any) -> BannerRenderer:
    return BannerRenderer(prefix="/cookiegate/", vendors=(), **kwargs)


def no_choice(kind: str, gpc: bool = False) -> Decision:
    return decide(location=Location.unknown(), regime=Regime("t", kind), choice=None, gpc=gpc)  # type: ignore[arg-type]


# -- every variant × language ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", REGIME_KINDS)
@pytest.mark.parametrize("reconsent", [False, True], ids=["first", "reconsent"])
@pytest.mark.parametrize("gpc", [False, True], ids=["no-gpc", "gpc"])
def test_every_variant_renders_in_every_language_with_equal_buttons_ticked_as_it_runs(
    kind: str, lang: str, reconsent: bool, gpc: bool
) -> None:
    decision = no_choice(kind, gpc=gpc)
    html, banner_hash = renderer().banner(decision, next_path="/p", lang=lang, reconsent=reconsent)
    t = TEXTS[lang]
    assert f'lang="{lang}"' in html and f'data-variant="{kind}"' in html
    key = {"opt-in": "opt_in", "opt-out": "opt_out"}.get(kind, kind)
    title = t["title_reconsent"] if reconsent else t[f"title_{key}"]
    assert f'<h2 id="cookiegate-title" class="cg-title" tabindex="-1">{title}</h2>' in html.replace("&#39;", "'")
    # No raw key anywhere: every text came from a translation.
    assert not re.search(r">\s*(title|body|category|col)_[a-z_]+\s*<", html)
    found = controls(html)
    choices = [b for b in found.buttons if "cg-btn" in (b.get("class") or "").split()]
    # Every choice of the first layer is the same element with the same class (same size, colour, contrast).
    assert len(choices) >= 3 and all(b.get("type") == "submit" for b in choices)
    # Ticked: what runs now (nothing in opt-in regions; the regime's defaults, less what GPC refused, elsewhere).
    ticked = {str(c["value"]) for c in found.checkboxes if "checked" in c and "disabled" not in c}
    assert ticked == set(decision.allowed) - {"necessary"}
    if kind == "opt-in":
        assert not ticked
    values = {b.get("value") for b in choices}
    # GPC is applied where it turns something off before a choice (in Australia ads and social wait anyway).
    applied = gpc and kind in ("opt-out", "notice")
    text = html.replace("&#39;", "'")
    if kind in ("opt-in", "australia"):
        assert {"accept_all", "reject_all", "save"} <= values
    elif kind == "opt-out":
        assert "acknowledge" in values
        # With GPC the opt-out is already applied: said once, and no "Do Not Sell" button next to it.
        assert ("opt_out" in values) is not applied and (t["do_not_sell"] in text) is not applied
        assert (t["body_opt_out_gpc"] in text) is applied and (t["body_opt_out"] in text) is not applied
    else:
        assert "acknowledge" in values
    assert ('id="cookiegate-gpc-honoured"' in html) is applied
    assert any(b.get("formaction") == "/cookiegate/settings" for b in choices), "no Customize/Manage button"
    close = [b for b in found.buttons if b.get("class") == "cg-close"]
    assert len(close) == 1 and close[0]["value"] == ("reject_all" if kind == "opt-in" else "acknowledge")
    assert "/cookiegate/cookies" in found.links
    assert len(banner_hash) == 64


def test_the_reject_button_is_marked_for_element_timing_in_every_variant() -> None:
    # What bench/first_paint.py watches: the refusal of each first layer, painted with the page.
    for kind in REGIME_KINDS:
        html, _ = renderer().banner(no_choice(kind), next_path="/", lang="en")
        marked = re.findall(r'<button[^>]*elementtiming="cookiegate-reject"[^>]*value="([a-z_]+)"|'
                            r'<button[^>]*value="([a-z_]+)"[^>]*elementtiming="cookiegate-reject"', html)
        expected = {"opt-in": "reject_all", "australia": "reject_all", "opt-out": "opt_out"}.get(kind)
        assert [a or b for a, b in marked] == ([expected] if expected else []), (kind, marked)


def test_the_hash_covers_text_and_options_but_not_the_page() -> None:
    r = renderer()
    fr = r.banner(no_choice("opt-in"), next_path="/a", lang="fr")
    assert fr[1] == r.banner(no_choice("opt-in"), next_path="/b", lang="fr")[1]
    assert fr[1] != r.banner(no_choice("opt-in"), next_path="/a", lang="de")[1]
    assert fr[1] != r.banner(no_choice("opt-in"), next_path="/a", lang="fr", reconsent=True)[1]
    assert (
        r.banner(no_choice("opt-out"), next_path="/", lang="en")[1]
        != r.banner(no_choice("opt-out", gpc=True), next_path="/", lang="en")[1]
    )


# -- operator copy -----------------------------------------------------------------------------------


def test_operator_override_applies_to_its_language_only_and_missing_keys_fall_back() -> None:
    r = renderer(texts={"fr": {"accept_all": "J'accepte tout"}, "sv": {"accept_all": "Godkänn alla"}})
    fr, _ = r.banner(no_choice("opt-in"), next_path="/", lang="fr")
    de, _ = r.banner(no_choice("opt-in"), next_path="/", lang="de")
    sv, _ = r.banner(no_choice("opt-in"), next_path="/", lang="sv")
    assert "J&#39;accepte tout" in fr and TEXTS["fr"]["reject_all"] in fr
    assert TEXTS["de"]["accept_all"] in de
    # A language only the operator defines: their text, English for every other key, never a raw key.
    assert "Godkänn alla" in sv and TEXTS["en"]["reject_all"] in sv
    assert "sv" in r.translations.languages


def test_config_refuses_an_unknown_text_key_or_consent_mode(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"banner_texts\.fr\.accept_al"):
        make_config(tmp_path, banner_texts={"fr": {"accept_al": "x"}})
    with pytest.raises(ConfigError, match="banner_texts.FR"):
        make_config(tmp_path, banner_texts={"FR": {"accept_all": "x"}})
    with pytest.raises(ConfigError, match="consent_mode"):
        make_config(tmp_path, consent_mode="full")


# -- through the gateway -----------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("place", "accept", "lang", "variant"),
    [
        ("FR", None, "fr", "opt-in"),
        ("FR", "pl,en;q=0.5", "pl", "opt-in"),
        ("DE", "ja", "de", "opt-in"),
        ("US-CA", None, "en", "opt-out"),
        ("BR", None, "pt", "opt-in"),
        ("CA-QC", None, "fr", "opt-in"),
        ("AU", "it", "it", "australia"),
        ("JP", None, "en", "notice"),
    ],
)
async def test_the_page_gets_the_regime_variant_in_the_negotiated_language(
    tmp_path: Path, place: str, accept: str | None, lang: str, variant: str
) -> None:
    async with client(gated(tmp_path), IP[place]) as c:
        r = await c.get("/", headers={"accept-language": accept} if accept else {})
    banner = banner_of(r.text)
    assert f'data-variant="{variant}"' in banner and f'lang="{lang}"' in banner
    assert 'id="cookiegate-settings"' in r.text


@pytest.mark.anyio
async def test_a_page_negotiates_its_visitors_language_once_for_every_fragment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Head, banner, settings control and the embed placeholder all speak the same language, decided once.
    calls: list[object] = []
    original = BannerRenderer._negotiate

    def counted(self: BannerRenderer, visit: Any) -> str:
        calls.append(visit)
        return original(self, visit)

    monkeypatch.setattr(BannerRenderer, "_negotiate", counted)
    async with client(gated(tmp_path), IP["FR"]) as c:
        r = await c.get("/", headers={"accept-language": "de"})
    assert 'lang="de"' in banner_of(r.text) and "youtube" in PAGE.lower()
    assert len(calls) == 1


@pytest.mark.anyio
async def test_switcher_remembers_the_language_and_refuses_unknown_ones(tmp_path: Path) -> None:
    async with client(gated(tmp_path), IP["FR"]) as c:
        r = await c.post("/cookiegate/language", data={"lang": "nl", "next": "/pricing"}, headers=ORIGIN)
        assert r.status_code == 303 and r.headers["location"] == "/pricing"
        page = await c.get("/pricing", headers={"accept-language": "de"})
        assert 'lang="nl"' in banner_of(page.text) and TEXTS["nl"]["reject_all"] in page.text
        # Each language is a submit button of the switcher's own POST form, not of the consent form around it.
        banner = banner_of(page.text)
        assert re.search(r'<form id="cookiegate-lang-banner" method="post" action="/cookiegate/language"', banner)
        assert 'form="cookiegate-lang-banner" name="lang" value="nl"' in banner
        assert banner.index('id="cookiegate-lang-banner"') > banner.index("</form>")  # never nested in a form
        assert (await c.post("/cookiegate/language", data={"lang": "xx"}, headers=ORIGIN)).status_code == 400
        unsafe = await c.post("/cookiegate/language", data={"lang": "fr", "next": "//evil.example"}, headers=ORIGIN)
        assert unsafe.headers["location"] == "/"


@pytest.mark.anyio
async def test_the_language_switch_is_same_site_only_and_its_get_changes_nothing(tmp_path: Path) -> None:
    async with client(gated(tmp_path), IP["FR"]) as c:
        forged = await c.post(
            "/cookiegate/language", data={"lang": "nl", "next": "/"}, headers={"origin": "https://evil.example"}
        )
        assert forged.status_code == 403 and "set-cookie" not in forged.headers
        linked = await c.get("/cookiegate/language", params={"lang": "nl", "next": "/pricing"})
        assert linked.status_code == 303 and linked.headers["location"] == "/pricing"
        assert "set-cookie" not in linked.headers
        page = await c.get("/pricing", headers={"accept-language": "de"})
        assert 'lang="de"' in banner_of(page.text)


@pytest.mark.anyio
async def test_bots_get_no_banner_no_control_no_script(tmp_path: Path) -> None:
    async with client(gated(tmp_path), IP["FR"]) as c:
        r = await c.get("/", headers={"user-agent": GOOGLEBOT})
    assert "cookiegate-banner" not in r.text and "cookiegate-settings" not in r.text
    assert "data-cookiegate-consent-mode" not in r.text
    assert "<h1>Kactuce CRM+ — café</h1>" in r.text


@pytest.mark.anyio
async def test_a_consent_of_an_older_policy_revision_gets_the_reconsent_banner_and_is_logged_as_such(
    tmp_path: Path,
) -> None:
    old = ConsentCodec((KEY,), policy_revision="2025-01", max_age=86400)
    choice = Choice(
        consent_id="old-id-0000000000000",
        categories=dict.fromkeys(OPTIONAL_CATEGORIES, True),
        policy_revision="2025-01",
        regime_key="FR",
        regime_kind="opt-in",
        action="accept_all",
        issued_at=int(time.time()),
    )
    app = gated(tmp_path, policy_revision="2026-11")
    async with client(app, IP["FR"], cookies={"cookiegate_consent": old.encode(choice)}) as c:
        r = await c.get("/", headers={"accept-language": "es"})
        banner = banner_of(r.text)
        assert 'data-reconsent="1"' in banner and TEXTS["es"]["title_reconsent"] in banner
        posted = await c.post(
            "/cookiegate/consent",
            data={"action": "reject_all", "next": "/"},
            headers={**ORIGIN, "accept-language": "es"},
            follow_redirects=False,
        )
        assert posted.status_code == 303
        consent_id = (await c.get("/cookiegate/consent")).json()["consent_id"]
    gateway = app.gateway
    records = await gateway.store.records_for(consent_id)
    assert records and records[-1]["banner_variant"] == "opt-in+reconsent" and records[-1]["language"] == "es"
    await gateway.shutdown()


# -- Google Consent Mode v2 --------------------------------------------------------------------------


def consent_default(html: str) -> dict[str, str] | None:
    head = html[: html.index("</head>")]
    found = re.search(r"\('consent','default',(\{[^}]*\})\)", head)
    return json.loads(found.group(1)) if found else None


def test_consent_mode_state_covers_all_seven_types() -> None:
    assert len(CONSENT_MODE_TYPES) == 7
    assert consent_mode_state(frozenset({"necessary", "analytics"})) == {
        "ad_storage": "denied",
        "ad_user_data": "denied",
        "ad_personalization": "denied",
        "analytics_storage": "granted",
        "functionality_storage": "denied",
        "personalization_storage": "denied",
        "security_storage": "granted",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "place", "headers", "expected"),
    [
        ("basic", "FR", {}, None),  # nothing Google may load: no Consent Mode at all
        ("advanced", "FR", {}, {"ad_storage": "denied", "analytics_storage": "denied"}),
        ("basic", "US-CA", {}, {"ad_storage": "granted", "analytics_storage": "granted"}),
        ("basic", "US-CA", {"sec-gpc": "1"}, {"ad_storage": "denied", "analytics_storage": "granted"}),
        ("basic", "AU", {}, {"ad_storage": "denied", "analytics_storage": "granted"}),
    ],
)
async def test_consent_mode_default_is_derived_from_regime_and_signals_and_precedes_every_google_tag(
    tmp_path: Path, mode: str, place: str, headers: dict[str, str], expected: dict[str, str] | None
) -> None:
    async with client(gated(tmp_path, consent_mode=mode), IP[place]) as c:
        r = await c.get("/", headers=headers)
    state = consent_default(r.text)
    if expected is None:
        assert state is None
        return
    assert state is not None and set(state) == set(CONSENT_MODE_TYPES)
    assert expected.items() <= state.items()
    assert state["security_storage"] == "granted"
    assert r.text.index("data-cookiegate-consent-mode") < r.text.index("googletagmanager.com")


@pytest.mark.anyio
async def test_consent_mode_default_after_a_choice_reflects_the_choice(tmp_path: Path) -> None:
    async with client(gated(tmp_path), IP["FR"]) as c:
        await c.post(
            "/cookiegate/consent", data={"action": "save", "category": "analytics", "next": "/"}, headers=ORIGIN
        )
        state = consent_default((await c.get("/")).text)
    assert state is not None
    assert state["analytics_storage"] == "granted" and state["ad_storage"] == "denied"


# -- the gateway's own pages -------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("lang", LANGUAGES)
async def test_cookie_statement_in_every_language_shows_choice_id_revision_and_controls(
    tmp_path: Path, lang: str
) -> None:
    app = gated(tmp_path, policy_revision="r7")
    async with client(app, IP["FR"]) as c:
        await c.get("/")  # the page carries GA4, Meta's pixel and a YouTube embed: now seen on the site
        before = await c.get("/cookiegate/cookies", headers={"accept-language": lang})
        assert f'<html lang="{lang}">' in before.text
        assert html.escape(TEXTS[lang]["defaults_shown"], quote=True).replace("&#x27;", "&#39;") in before.text
        # Nothing granted yet: "Reject all", nothing to withdraw.
        assert {"reject_all"} <= {b.get("value") for b in controls(before.text).buttons}
        assert "withdraw" not in {b.get("value") for b in controls(before.text).buttons}
        await c.post("/cookiegate/consent", data={"action": "accept_all", "next": "/"}, headers=ORIGIN)
        r = await c.get("/cookiegate/cookies", headers={"accept-language": lang})
    text = r.text
    assert TEXTS[lang]["cookie_statement"].replace("'", "&#39;") in text
    consent_id = re.search(r'id="cookiegate-consent-id">([^<]+)<', text)
    assert consent_id and consent_id.group(1) != "—"
    assert "<dd>r7</dd>" in text
    assert 'href="/cookiegate/my-records"' in text
    found = controls(text)
    # One refusal: once something was granted it is "Withdraw consent", with what it does said next to it.
    values = [b.get("value") for b in found.buttons]
    assert {"withdraw", "save", "accept_all"} <= set(values) and "reject_all" not in values
    assert 'id="cookiegate-withdraw-hint"' in text
    # The statement lists what the site uses: the vendors seen on its pages, with the day they were last seen.
    words = text.replace("<wbr>", "")  # names and hosts may wrap at their separators
    assert "Google Analytics 4" in words and "google-analytics.com" in words and "_ga" in words
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\d">', text)
    assert "Hotjar" not in text  # in the catalogue, never on this site
    await app.gateway.shutdown()


def test_banner_weight_script_prints_both_columns_and_stays_within_budget() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "banner_weight.py")], capture_output=True, text=True, timeout=60
    )
    assert "cookiegate total" in result.stdout and "vanilla-cookieconsent total" in result.stdout
    total = int(re.search(r"cookiegate total\s+(\d+)", result.stdout).group(1))  # type: ignore[union-attr]
    assert 0 < total <= 5 * 1024, result.stdout
    assert result.returncode == 0


# -- vendor purposes in the visitor's language -------------------------------------------------------


#: Vendors whose purpose the bundled translations carry (the catalogue's first twenty); the others are shown
#: in the catalogue's English until they are translated.
TRANSLATED_VENDORS = [v for v in BUILTIN_VENDORS if "vendor_purpose_" + v.id.replace("-", "_") in TEXTS["en"]]


def test_every_translated_vendor_purpose_matches_the_catalogue_and_is_in_every_language() -> None:
    assert len(TRANSLATED_VENDORS) >= 20
    for vendor in TRANSLATED_VENDORS:
        key = "vendor_purpose_" + vendor.id.replace("-", "_")
        assert TEXTS["en"].get(key) == vendor.purpose, f"en.json: {key} differs from the catalog"
        for lang in LANGUAGES:
            assert TEXTS[lang].get(key, "").strip(), f"{lang}.json: missing {key}"
            if lang != "en":
                assert TEXTS[lang][key] != vendor.purpose, f"{lang}.json: {key} is left in English"


def test_every_vendor_purpose_key_in_the_translations_names_a_built_in_vendor() -> None:
    ids = {"vendor_purpose_" + v.id.replace("-", "_") for v in BUILTIN_VENDORS}
    assert {k for k in TEXTS["en"] if k.startswith("vendor_purpose_")} <= ids


def test_an_untranslated_built_in_purpose_is_shown_in_the_catalogues_english() -> None:
    r = renderer()
    untranslated = next(v for v in BUILTIN_VENDORS if v not in TRANSLATED_VENDORS)
    assert r.purpose("de", untranslated) == untranslated.purpose


@pytest.mark.anyio
async def test_statement_and_placeholder_show_built_in_purposes_in_the_visitors_language(tmp_path: Path) -> None:
    app = gated(tmp_path)
    async with client(app, IP["FR"]) as c:
        page = html.unescape((await c.get("/", headers={"accept-language": "fr"})).text)
        statement = html.unescape((await c.get("/cookiegate/cookies", headers={"accept-language": "fr"})).text)
    await app.gateway.shutdown()
    assert TEXTS["fr"]["vendor_purpose_meta_pixel"] in statement
    assert TEXTS["en"]["vendor_purpose_meta_pixel"] not in statement
    # The blocked YouTube embed in PAGE is replaced by a placeholder naming its purpose, in French too.
    assert TEXTS["fr"]["vendor_purpose_youtube"] in page
    assert TEXTS["en"]["vendor_purpose_youtube"] not in page
    assert "vendor_purpose" not in statement + page and "vendor purpose" not in statement + page


@pytest.mark.anyio
async def test_a_site_tags_own_purpose_is_shown_untranslated_on_a_french_statement(tmp_path: Path) -> None:
    own = Vendor(id="acme-chat", name="Acme chat", category="functional", purpose="Runs the Acme support chat.")
    # A site tag re-declaring a built-in id with its own wording keeps that wording, untranslated.
    redeclared = Vendor(id="meta-pixel", name="Meta Pixel", category="ads", purpose="Our own Meta Pixel wording.")
    app = gated(tmp_path, tags=(own, redeclared))
    async with client(app, IP["FR"]) as c:
        await c.get("/")  # YouTube is seen on the page
        statement = html.unescape((await c.get("/cookiegate/cookies", headers={"accept-language": "fr"})).text)
    await app.gateway.shutdown()
    # The site's own tags are listed whether seen or not.
    assert "Runs the Acme support chat." in statement
    assert "Our own Meta Pixel wording." in statement
    assert TEXTS["fr"]["vendor_purpose_meta_pixel"] not in statement
    assert TEXTS["fr"]["not_seen_yet"] in statement
    # Other built-in vendors are still translated next to the site's tags.
    assert TEXTS["fr"]["vendor_purpose_youtube"] in statement


# -- cached fragments -----------------------------------------------------------------------------------


class _NextValues(HTMLParser):
    """Every place a fragment sends the visitor back to: hidden ``next`` inputs and ``?next=`` links."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name") == "next":
            self.values.append(a.get("value") or "")
        href = a.get("href") or ""
        if tag == "a" and "?next=" in href:
            from urllib.parse import parse_qs, urlsplit

            self.values.append(parse_qs(urlsplit(href).query, keep_blank_values=True)["next"][0])


TRICKY_PATHS = ["/", "/pricing?plan=pro&seats=3", '/a"><script>alert(1)</script>', "/é/ü?q=%20x#top",
                "/cookiegate-next-path-slot-q7w3z", "/a'b<c>&amp;d", "/" + "x" * 300]


@pytest.mark.parametrize("path", TRICKY_PATHS)
def test_cached_banner_control_and_placeholder_send_the_visitor_back_to_their_own_page(path: str) -> None:
    r = renderer()
    for kind in REGIME_KINDS:
        for lang in ("en", "fr"):
            r.banner(no_choice(kind), next_path="/warm-the-cache", lang=lang)
            banner = r.banner(no_choice(kind), next_path=path, lang=lang)[0]
            found = _NextValues()
            found.feed(banner)
            assert found.values and all(v == path for v in found.values), (kind, lang, found.values)
            assert "<script>alert" not in banner
    control = r._control_cached("de").fill(path)
    found = _NextValues()
    found.feed(control)
    assert found.values == [path]
    youtube = next(v for v in BUILTIN_VENDORS if v.id == "youtube")
    placeholder = r._placeholder_cached("es", youtube, youtube.category).fill(path)
    found = _NextValues()
    found.feed(placeholder)
    assert found.values == [path] and "YouTube" in placeholder


def test_cached_fragments_are_byte_identical_to_a_direct_render() -> None:
    r = renderer()
    path = '/über?a=1&b="2"<x>'
    direct = r.env.get_template("control.html").render(t=r.t("it"), prefix=r.prefix, next_path=path, lang="it")
    assert r._control_cached("it").fill(path).startswith(direct)
    youtube = next(v for v in BUILTIN_VENDORS if v.id == "youtube")
    t = r.t("pt")
    direct = r.env.get_template("placeholder.html").render(
        t=t, prefix=r.prefix, category=youtube.category, vendor_id=youtube.id, name=youtube.name,
        purpose=r.purpose("pt", youtube), once=True, next_path=path,
    )
    assert r._placeholder_cached("pt", youtube, youtube.category).fill(path) == direct


def test_the_remembered_body_injection_is_each_visitors_own_language_banner_and_path() -> None:
    from types import SimpleNamespace

    r = renderer()
    paths = [*TRICKY_PATHS, "/" + "y" * 600, "/pricing"]
    for round_ in range(2):  # the second round is served from what the first remembered
        for kind in REGIME_KINDS:
            for lang in ("en", "fr"):
                for reconsent in (False, True):
                    for path in paths:
                        visit = SimpleNamespace(
                            language_by=lambda _negotiate, lang=lang: lang,
                            previous_revision="old" if reconsent else None,
                        )
                        decision = no_choice(kind, gpc=round_ == 1)
                        body = r.body_bytes(visit, decision, next_path=path)  # type: ignore[arg-type]
                        banner, _ = r.banner(decision, next_path=path, lang=lang, reconsent=reconsent)
                        assert body == (banner + r._control_cached(lang).fill(path)).encode()
                        assert r.body_html(visit, decision, next_path=path) == body.decode()  # type: ignore[arg-type]
                        found = _NextValues()
                        found.feed(body.decode())
                        assert found.values and all(v == path for v in found.values)
    kept = len(r._bodies)
    assert kept
    r.body_bytes(SimpleNamespace(language_by=lambda _negotiate: "en", previous_revision=None), no_choice("opt-in"),  # type: ignore[arg-type]
                 next_path="/" + "z" * 600)
    assert len(r._bodies) == kept  # a long path is filled in, not remembered
    bot = decide(location=Location.unknown(), regime=Regime("t", "opt-in"), choice=None, is_bot=True)
    assert r.body_bytes(SimpleNamespace(language_by=lambda _negotiate: "en"), bot, next_path="/") == b""  # type: ignore[arg-type]
