"""The vendor catalogue as data: the schema of every file and entry, what the loader refuses, attribution per
family, the snippet corpus, the site's overrides, and the bundled Open Cookie Database with its update path."""

from __future__ import annotations

import csv
import http.server
import io
import re
import threading
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cookiegate._config import ConfigError, config_from_mapping
from cookiegate.policy._catalog import BUILTIN_VENDORS, TagRegistry, Vendor
from cookiegate.policy._categories import ADS, ANALYTICS, CATEGORIES, FUNCTIONAL, NECESSARY
from cookiegate.policy._cookie_database import (
    COLUMNS,
    CookieDatabaseError,
    bundled_database,
    bundled_directory,
    update_cookie_database,
)
from cookiegate.policy._patterns import clean_host, required_literal
from cookiegate.policy._vendor_data import ENTRY_KEYS, FAMILIES, VendorDataError, load_vendors, vendors_directory

from .snippet_corpus import CORPUS, MANIFEST, SNIPPETS, UNCLASSIFIED, parse_snippet

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = TagRegistry.builtin()
BY_ID = {v.id: v for v in BUILTIN_VENDORS}
VENDOR_FILES = sorted(vendors_directory().glob("*.toml"))
RAW_ENTRIES = [
    (path.name, index, entry)
    for path in VENDOR_FILES
    for index, entry in enumerate(tomllib.loads(path.read_text("utf-8"))["vendor"])
]


def _id(vendor: Vendor | None) -> str | None:
    return None if vendor is None else vendor.id


# ----------------------------------------------------------------------------------------------------------
# The schema: every file, every entry


def test_the_catalogue_has_every_family_and_at_least_150_vendors() -> None:
    assert {p.stem for p in VENDOR_FILES} == set(FAMILIES)
    assert len(BUILTIN_VENDORS) >= 150
    assert {v.family for v in BUILTIN_VENDORS} == set(FAMILIES)
    assert [v.id for v in BUILTIN_VENDORS] == [e["id"] for _, _, e in sorted(
        RAW_ENTRIES, key=lambda r: (FAMILIES.index(Path(r[0]).stem), r[1]))]


@pytest.mark.parametrize("path", VENDOR_FILES, ids=lambda p: p.name)
def test_a_family_file_holds_only_vendor_tables(path: Path) -> None:
    data = tomllib.loads(path.read_text("utf-8"))
    assert list(data) == ["vendor"] and data["vendor"]


@pytest.mark.parametrize(("file", "index", "entry"), RAW_ENTRIES, ids=[f"{f}:{e['id']}" for f, _, e in RAW_ENTRIES])
def test_every_catalogue_entry_follows_the_schema(file: str, index: int, entry: dict[str, Any]) -> None:
    assert set(entry) <= ENTRY_KEYS
    assert {"id", "name", "company", "category", "purpose"} <= set(entry)
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", entry["id"])
    assert entry["category"] in CATEGORIES
    assert entry["name"].strip() and entry["company"].strip()
    purpose = entry["purpose"]
    # One plain sentence: a full stop at the end and nowhere else.
    assert purpose.endswith(".") and ". " not in purpose and len(purpose) < 160, purpose
    assert entry.get("hosts") or entry.get("url_patterns")
    for host in (*entry.get("hosts", []), *entry.get("shared_hosts", [])):
        assert clean_host(host, entry["id"]) == host, host
    for pattern in entry.get("inline", []):
        compiled = re.compile(pattern)
        assert compiled.groups == 0
        literal = required_literal(pattern)
        assert literal is not None and len(literal) >= 3, pattern
    for url in entry.get("sources", []):
        assert url.startswith("https://"), url
    if not entry.get("sources"):
        assert entry.get("notes", "").strip(), "an entry without sources says why in notes"
    assert set(entry.get("identifiers_for", [])) <= set(CATEGORIES) - {NECESSARY}
    assert isinstance(entry.get("embed", False), bool) and isinstance(entry.get("csp_default", False), bool)
    vendor = BY_ID[entry["id"]]
    assert vendor.family == Path(file).stem
    assert vendor.cookie_lifetime.strip()
    database = bundled_database()
    for platform in entry.get("ocd_platform", []):
        assert database.rows_for(platform), platform
    held = {r.name for p in entry.get("ocd_platform", []) for r in database.rows_for(p)}
    assert not set(entry.get("cookie_lifetimes", {})) & held, "hand-written facts the database already holds"


def test_no_two_vendors_claim_the_same_host_url_pattern_or_exact_cookie() -> None:
    for attr in ("hosts", "url_patterns"):
        claimed = [h.lower() for v in BUILTIN_VENDORS for h in getattr(v, attr)]
        assert len(claimed) == len(set(claimed)), attr
    exact = [c for v in BUILTIN_VENDORS for c in v.cookies if "*" not in c]
    assert len(exact) == len(set(exact))


def test_cookie_facts_come_from_the_database_where_it_has_the_platform() -> None:
    hotjar = BY_ID["hotjar"]
    assert hotjar.ocd_platforms == ("Hotjar",)
    assert {f.origin for f in hotjar.cookie_facts} == {"ocd"}
    assert any(f.name == "_hjSessionUser_*" and f.lifetime == "365 days" for f in hotjar.cookie_facts)
    assert "_hjSession_*: 30 minutes" in hotjar.cookie_lifetime
    snap = BY_ID["snap-pixel"]  # the database has _scid; Snap's own page gives _sctr, which it lacks
    assert {(f.name, f.origin) for f in snap.cookie_facts} >= {("_scid", "ocd"), ("_sctr", "vendor")}
    assert "_sctr: 1 year" in snap.cookie_lifetime


def test_a_vendor_does_not_claim_a_database_cookie_of_a_more_sensitive_purpose() -> None:
    # _gac_ is filed under Google Analytics in the database but is an advertising cookie.
    assert "_gac_*" not in BY_ID["google-analytics"].cookies
    assert _id(REGISTRY.vendor_for_cookie("_gac_UA-1")) == "google-ads"
    # Cookies set on the vendor's own domain never classify the site's own cookies.
    assert "sessionid" not in BY_ID["instagram-embed"].cookies


# ----------------------------------------------------------------------------------------------------------
# What the loader refuses, loudly


GOOD = {"id": "acme", "name": "Acme", "company": "Acme Inc.", "category": "analytics",
        "purpose": "Counts visits.", "hosts": ["acme.example"], "sources": ["https://acme.example/docs"]}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'''" + value + "'''" if "\\" in value or '"' in value else '"' + value + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"


def _write_family(directory: Path, name: str, *entries: dict[str, Any]) -> None:
    text = "".join("[[vendor]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in e.items()) + "\n" for e in entries)
    (directory / f"{name}.toml").write_text(text, encoding="utf-8")


def test_a_well_formed_family_loads(tmp_path: Path) -> None:
    _write_family(tmp_path, "analytics", GOOD)
    (vendor,) = load_vendors(tmp_path, bundled_database())
    assert vendor.id == "acme" and vendor.family == "analytics" and vendor.hosts == ("acme.example",)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"colour": "red"}, "colour"),
        ({"category": "marketing"}, "category"),
        ({"purpose": "Counts visits"}, "purpose"),
        ({"hosts": ["https://acme.example/"]}, "hosts"),
        ({"inline": ["acme("]}, "inline"),
        ({"inline": ["(acme)\\("]}, "inline"),
        ({"inline": ["\\d+"]}, "inline"),
        ({"url_patterns": ["other.example/x"]}, "url_patterns"),
        ({"cookies": ["*"]}, "cookies"),
        ({"sources": []}, "sources"),
        ({"sources": ["http://acme.example"]}, "sources"),
        ({"identifiers_for": ["necessary"]}, "identifiers_for"),
        ({"embed": "yes"}, "embed"),
        ({"csp_default": "no"}, "csp_default"),
        ({"ocd_platform": ["No Such Platform"]}, "ocd_platform"),
        ({"ocd_platform": ["Hotjar"], "cookie_lifetimes": {"_hjid": "1 year"}}, "cookie_lifetimes"),
        ({"ocd_cookies": ["_x"]}, "ocd_cookies"),
    ],
)
def test_the_loader_refuses_an_unusable_entry_naming_the_key(
    tmp_path: Path, changes: dict[str, Any], named: str
) -> None:
    _write_family(tmp_path, "analytics", {**GOOD, **changes})
    with pytest.raises(VendorDataError, match=rf"analytics\.toml:acme\.{named}"):
        load_vendors(tmp_path, bundled_database())


@pytest.mark.parametrize(
    ("other", "named"),
    [
        ({**GOOD, "hosts": ["other.example"]}, "duplicate id"),
        ({**GOOD, "id": "other"}, "acme.example is also other's"),
        ({**GOOD, "id": "other", "hosts": ["other.example"], "cookies": ["_acme"]}, "_acme is also other's"),
    ],
)
def test_the_loader_refuses_entries_that_contradict_each_other(tmp_path: Path, other: dict[str, Any],
                                                              named: str) -> None:
    _write_family(tmp_path, "analytics", {**GOOD, "cookies": ["_acme"]})
    _write_family(tmp_path, "ads", other)
    with pytest.raises(VendorDataError, match=named):
        load_vendors(tmp_path, bundled_database())


def test_a_shared_host_split_by_path_is_accepted(tmp_path: Path) -> None:
    pixel = {**GOOD, "hosts": ["px.acme.example"], "shared_hosts": ["acme.example"],
             "url_patterns": ["acme.example/tr"]}
    widget = {**GOOD, "id": "acme-widget", "category": "social", "hosts": ["cdn.acme.example"],
              "shared_hosts": ["acme.example"], "url_patterns": ["acme.example/embed/"]}
    _write_family(tmp_path, "ads", pixel, widget)
    registry = TagRegistry(load_vendors(tmp_path, bundled_database()))
    assert _id(registry.vendor_for_url("https://www.acme.example/tr?id=1")) == "acme"
    assert _id(registry.vendor_for_url("https://acme.example/embed/42")) == "acme-widget"
    assert registry.vendor_for_url("https://acme.example/about") is None


# ----------------------------------------------------------------------------------------------------------
# Attribution, at least one per family (the corpus below has many more)


@pytest.mark.parametrize(
    ("family", "probe", "expected"),
    [
        ("ads", "https://www.redditstatic.com/ads/pixel.js", "reddit-pixel"),
        ("ads", "window.criteo_q = window.criteo_q || [];", "criteo"),
        ("ads", "https://top-fwz1.mail.ru/js/code.js", "top-mail-ru"),
        ("ads", "https://vk.com/rtrg?p=VK-RTRG-1", "vk-retargeting"),
        ("analytics", "ym(12345678, 'init', {clickmap:true});", "yandex-metrica"),
        ("analytics", "https://hm.baidu.com/hm.js?abc", "baidu-tongji"),
        ("analytics", "var _czc = _czc || [];", "cnzz-umeng"),
        ("analytics", "https://s4.cnzz.com/z_stat.php?id=1", "cnzz-umeng"),
        ("analytics", "https://tajs.qq.com/stats?sId=1", "tencent-mta"),
        ("analytics", "_paq.push(['trackPageView']);", "matomo-cloud"),
        ("session_replay", "window['_fs_org'] = 'o-1';", "fullstory"),
        ("session_replay", "https://cdn.mouseflow.com/projects/x.js", "mouseflow"),
        ("ab_testing", "window._vwo_code || (function(){})();", "vwo"),
        ("ab_testing", "https://cdn.optimizely.com/js/1.js", "optimizely"),
        ("chat_support", "window.intercomSettings = {app_id: 'x'};", "intercom"),
        ("chat_support", "https://static.zdassets.com/ekr/snippet.js?key=x", "zendesk-messaging"),
        ("scheduling_forms", "https://assets.calendly.com/assets/external/widget.js", "calendly"),
        ("scheduling_forms", "https://docs.google.com/forms/d/e/x/viewform?embedded=true", "google-forms"),
        ("video_audio", "https://open.spotify.com/embed/track/x", "spotify"),
        ("video_audio", "https://w.soundcloud.com/player/?url=x", "soundcloud"),
        ("maps", "https://www.google.com/maps/embed?pb=x", "google-maps"),
        ("maps", "https://api.map.baidu.com/api?v=3.0", "baidu-maps"),
        ("social_share", "https://www.instagram.com/embed.js", "instagram-embed"),
        ("social_share", "https://www.tiktok.com/embed.js", "tiktok-embed"),
        ("social_share", "wx.config({appId: 'x'});", "wechat-jssdk"),
        ("reviews", "https://widget.trustpilot.com/bootstrap/v5/tp.widget.bootstrap.min.js", "trustpilot"),
        ("fonts", "https://fonts.gstatic.com/s/roboto/v30/x.woff2", "google-fonts"),
        ("fonts", "https://use.typekit.net/abc.css", "adobe-fonts"),
        ("necessary", "https://js.stripe.com/v3/", "stripe"),
        ("necessary", "https://challenges.cloudflare.com/turnstile/v0/api.js", "cloudflare-turnstile"),
        ("necessary", "https://cdnjs.cloudflare.com/ajax/libs/x.js", "cdnjs"),
    ],
)
def test_attribution_per_family(family: str, probe: str, expected: str) -> None:
    found = REGISTRY.vendor_for_url(probe) if probe.startswith("https://") else REGISTRY.vendor_for_inline(probe)
    assert _id(found) == expected
    assert BY_ID[expected].family == family


@pytest.mark.parametrize(
    "probe",
    [
        "https://yandex.ru/search/?text=kactuce",
        "https://www.baidu.com/s?wd=kactuce",
        "https://www.tiktok.com/@kactuce",
        "https://open.spotify.com/artist/xyz",
        "https://vk.com/kactuce",
        "https://calendly.com/kactuce/30min",
        "https://tally.so/r/abc",
        "var analytics = {track: function () {}}; track('x');",
    ],
)
def test_links_and_look_alike_code_are_not_vendors(probe: str) -> None:
    found = REGISTRY.vendor_for_url(probe) if probe.startswith("https://") else REGISTRY.vendor_for_inline(probe)
    assert found is None


def test_the_chinese_and_russian_majors_are_catalogued() -> None:
    assert {"baidu-tongji", "cnzz-umeng", "tencent-mta", "wechat-jssdk", "weibo-widgets", "baidu-maps", "amap",
            "yandex-metrica", "yandex-maps", "vk-retargeting", "vk-widgets", "top-mail-ru"} <= set(BY_ID)


def test_essential_third_parties_are_necessary_and_fonts_and_maps_are_not() -> None:
    necessary = {v.id for v in BUILTIN_VENDORS if v.category == NECESSARY}
    assert {"stripe", "paypal", "adyen", "hcaptcha", "cloudflare-turnstile", "cdnjs", "jsdelivr", "unpkg"} <= necessary
    assert BY_ID["google-recaptcha"].category == FUNCTIONAL and BY_ID["google-recaptcha"].identifiers_for == (ADS,)
    assert "ads" in BY_ID["paypal"].identifiers_for
    for vendor_id in ("google-fonts", "adobe-fonts", "google-maps", "mapbox", "openstreetmap"):
        assert BY_ID[vendor_id].category != NECESSARY, vendor_id


def test_the_csp_default_vendors_are_the_common_ones_and_keep_the_policy_small() -> None:
    listed = {v.id for v in BUILTIN_VENDORS if v.csp_default}
    assert {"google-tag-manager", "google-analytics", "meta-pixel", "hotjar", "youtube"} <= listed
    assert len(listed) <= 25
    assert not {v.category for v in BUILTIN_VENDORS if v.csp_default} & {NECESSARY, FUNCTIONAL}


def test_a_site_tag_naming_a_catalogue_entry_as_is_lists_its_hosts_in_the_csp() -> None:
    (stripe,) = _tags({"id": "stripe"})
    assert stripe == BY_ID["stripe"]
    assert "js.stripe.com" in TagRegistry.builtin([stripe]).hosts_for_categories([NECESSARY])
    assert "js.stripe.com" not in REGISTRY.hosts_for_categories([NECESSARY])


def test_the_vendors_whose_script_draws_an_embed_are_marked() -> None:
    # Their script, refused, gets a placeholder too; YouTube's and Vimeo's player API scripts draw nothing (their
    # iframes get the placeholder, as every iframe does).
    assert {"google-maps", "spotify", "soundcloud", "wistia", "instagram-embed", "x-widgets",
            "facebook-social", "tiktok-embed", "calendly", "typeform"} <= {v.id for v in BUILTIN_VENDORS if v.embed}
    assert not BY_ID["google-analytics"].embed
    assert not BY_ID["youtube"].embed and not BY_ID["vimeo"].embed


# ----------------------------------------------------------------------------------------------------------
# The snippet corpus


def test_the_manifest_names_every_snippet_file_and_a_vendor_of_the_catalogue() -> None:
    files = {p.name for p in SNIPPETS.glob("*.html")}
    listed = [s["file"] for s in CORPUS]
    assert len(listed) == len(set(listed))
    assert set(listed) | set(MANIFEST["first_party"]) == files
    for snippet in CORPUS:
        assert set(snippet) == {"file", "vendor", "family", "source", "what"}
        assert snippet["vendor"] in BY_ID and BY_ID[snippet["vendor"]].family == snippet["family"]
        assert snippet["source"].startswith("https://") and snippet["what"].strip()


def test_the_corpus_covers_60_vendors_every_family_noscript_pixels_and_plain_embeds() -> None:
    assert len({s["vendor"] for s in CORPUS}) >= 60
    assert {s["family"] for s in CORPUS} == set(FAMILIES)
    texts = {s["file"]: (SNIPPETS / s["file"]).read_text("utf-8") for s in CORPUS}
    assert sum("<noscript" in t and "<img" in t for t in texts.values()) >= 10
    plain_embeds = [f for f, t in texts.items() if "<iframe" in t and "<script" not in t]
    assert len(plain_embeds) >= 8
    without_javascript = [
        s for s in CORPUS if any(f.without_javascript for f in parse_snippet(SNIPPETS / s["file"]).fetches)
    ]
    assert len(without_javascript) >= 20


@pytest.mark.parametrize("snippet", CORPUS, ids=lambda s: s["file"])
def test_every_corpus_snippet_is_attributed_to_its_vendor(snippet: dict[str, str]) -> None:
    parsed = parse_snippet(SNIPPETS / snippet["file"])
    assert parsed.urls or parsed.inline_scripts
    found_urls = {url: _id(REGISTRY.vendor_for_url(url)) for url in parsed.urls}
    assert found_urls == dict.fromkeys(parsed.urls, snippet["vendor"])
    found = [_id(REGISTRY.vendor_for_inline(text)) for text in parsed.inline_scripts]
    assert found == [snippet["vendor"]] * len(parsed.inline_scripts)


def test_the_invented_vendor_snippet_is_known_to_no_catalogue() -> None:
    parsed = parse_snippet(UNCLASSIFIED)
    assert len(parsed.urls) >= 3 and parsed.inline_scripts
    assert [REGISTRY.vendor_for_url(url) for url in parsed.urls] == [None] * len(parsed.urls)
    assert [REGISTRY.vendor_for_inline(text) for text in parsed.inline_scripts] == [None] * len(parsed.inline_scripts)


# ----------------------------------------------------------------------------------------------------------
# The site's [[tags]]: extend or override any entry by id


def _tags(*tables: dict[str, Any]) -> tuple[Vendor, ...]:
    return config_from_mapping({"tags": list(tables)}, demo=True).tags


def test_a_site_tag_with_a_catalogue_id_overrides_only_the_keys_it_gives() -> None:
    (gtm,) = _tags({"id": "google-tag-manager", "category": "analytics"})
    builtin = BY_ID["google-tag-manager"]
    assert gtm.category == ANALYTICS
    assert (gtm.hosts, gtm.url_patterns, gtm.inline_patterns, gtm.purpose) == (
        builtin.hosts, builtin.url_patterns, builtin.inline_patterns, builtin.purpose)
    registry = TagRegistry.builtin([gtm])
    assert registry.vendor_for_url("https://www.googletagmanager.com/gtm.js?id=GTM-1") is gtm


def test_an_override_and_its_catalogue_entry_are_different_keys_of_one_cache() -> None:
    (gtm,) = _tags({"id": "google-tag-manager", "category": "analytics"})
    builtin = BY_ID["google-tag-manager"]
    assert gtm != builtin and hash(gtm) == hash(builtin)
    cache = {builtin: "ads", gtm: "analytics"}
    assert (cache[builtin], cache[gtm]) == ("ads", "analytics")


def test_a_site_tag_replaces_a_list_and_takes_the_older_key_names() -> None:
    (matomo,) = _tags({"id": "matomo-cloud", "hosts": ["matomo.cloud", "stats.kactuce.example"],
                       "src": ["/js/matomo.js"], "vendor": "Our Matomo"})
    assert matomo.hosts == ("matomo.cloud", "stats.kactuce.example")
    assert matomo.url_patterns == ("/js/matomo.js",) and matomo.name == "Our Matomo"
    assert matomo.inline_patterns == BY_ID["matomo-cloud"].inline_patterns
    registry = TagRegistry.builtin([matomo])
    assert registry.vendor_for_url("https://stats.kactuce.example/matomo.php") is matomo


def test_a_site_may_re_declare_a_catalogue_entry_necessary_but_not_invent_a_necessary_tag() -> None:
    (recaptcha,) = _tags({"id": "google-recaptcha", "category": "necessary"})
    assert recaptcha.category == NECESSARY and recaptcha.identifiers_for == (ADS,)
    with pytest.raises(ConfigError, match="tags.stats.category"):
        _tags({"id": "stats", "category": "necessary", "hosts": ["stats.example"]})


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"id": "hotjar", "colour": "red"}, "tags.hotjar.colour"),
        ({"id": "hotjar", "category": "marketing"}, "tags.hotjar.category"),
        ({"id": "hotjar", "inline": ["(x"]}, "tags.hotjar.inline"),
        ({"id": "hotjar", "hosts": ["https://x.example/"]}, "tags.hotjar.hosts"),
        ({"id": "hotjar", "name": "A", "vendor": "B"}, "tags.hotjar.vendor"),
        ({"id": "new-tag", "category": "ads"}, "tags.new-tag"),
    ],
)
def test_a_bad_site_tag_stops_startup_naming_the_key(table: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(named)):
        _tags(table)


# ----------------------------------------------------------------------------------------------------------
# The Open Cookie Database


def test_the_bundled_database_carries_its_licence_and_attribution() -> None:
    directory = bundled_directory()
    assert "Apache License" in (directory / "LICENSE").read_text("utf-8")
    notice = (directory / "NOTICE").read_text("utf-8")
    assert "jkwakman/Open-Cookie-Database" in notice and "0ee5a17" in notice
    assert len(bundled_database().rows) > 2000


@pytest.mark.parametrize(
    ("name", "vendor", "category"),
    [
        # the registry first: catalogue claims, some grown from the database
        ("_ga", "google-analytics", ANALYTICS),
        ("_pk_id.1.abcd", "matomo-cloud", ANALYTICS),
        ("Hm_lvt_0123abcd", "baidu-tongji", ANALYTICS),
        ("_ym_uid", "yandex-metrica", ANALYTICS),
        ("__qca", "quantcast", ADS),
        ("intercom-session-abc123", "intercom", FUNCTIONAL),
        # then the database, for names no vendor claims
        ("__cf_bm", "ocd-cloudflare-necessary", NECESSARY),
        ("PHPSESSID", "ocd-php-net-necessary", NECESSARY),
        ("_sn_m", "ocd-sleeknote-ads", ADS),
        ("_sp_id.1fff", "ocd-snowplow-analytics", ANALYTICS),
        # too short or too generic to be anybody's, and rows set on the platform's own domain
        ("mp_session", None, None),
        ("_gateway_session", None, None),
        ("sessionid", None, None),
        ("lang", None, None),
        ("i", None, None),
        ("csrftoken", None, None),
    ],
)
def test_cookie_classification_asks_the_registry_then_the_database(name: str, vendor: str | None,
                                                                   category: str | None) -> None:
    assert _id(REGISTRY.vendor_for_cookie(name)) == vendor
    assert REGISTRY.category_for_cookie(name) == category


def test_a_registry_built_without_the_database_does_not_use_it() -> None:
    assert TagRegistry(BUILTIN_VENDORS).vendor_for_cookie("__cf_bm") is None


def _csv(rows: list[list[str]], header: tuple[str, ...] = COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


ROW_A = ["id-a", "Acme", "Analytics", "_acme", "", "Counts visits", "1 year", "Acme", "https://acme.example", "0"]
ROW_B = ["id-b", "Acme", "Marketing", "_acme_ad_", "", "Targets ads", "90 days", "Acme", "https://acme.example", "1"]
ROW_C = ["id-c", "Beta", "Security", "beta_csrf", "", "Stops forgery", "session", "Beta", "https://beta.example", "0"]


def test_an_update_reports_rows_added_removed_and_changed_and_writes_the_new_copy(tmp_path: Path) -> None:
    target = tmp_path / "ocd"
    target.mkdir()
    (target / "open-cookie-database.csv").write_text(_csv([ROW_A, ROW_B]), encoding="utf-8")
    newer = tmp_path / "newer.csv"
    changed_b = [*ROW_B[:6], "13 months", *ROW_B[7:]]
    newer.write_text(_csv([changed_b, ROW_C]), encoding="utf-8")

    report = update_cookie_database(newer, target)

    assert [r.id for r in report.added] == ["id-c"] and [r.id for r in report.removed] == ["id-a"]
    ((old, new, columns),) = report.changed
    assert (old.retention, new.retention, columns) == ("90 days", "13 months", ("retention",))
    assert report.rows == 2 and report.written
    assert (target / "open-cookie-database.csv").read_bytes() == newer.read_bytes()
    assert "1 added, 1 removed, 1 changed" in report.summary()


def test_an_update_with_the_same_copy_changes_nothing(tmp_path: Path) -> None:
    report = update_cookie_database(bundled_directory() / "open-cookie-database.csv", bundled_directory(), write=False)
    assert (report.added, report.removed, report.changed, report.written) == ((), (), (), False)
    assert report.rows == len(bundled_database().rows)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_csv([ROW_A], header=COLUMNS[:-1]), "expected the columns"),
        (_csv([[*ROW_A[:2], "Advertising", *ROW_A[3:]]]), "unknown category 'Advertising'"),
        (_csv([[*ROW_A[:3], "", *ROW_A[4:]]]), "empty cookie name"),
        (_csv([[*ROW_A[:9], "yes"]]), "wildcard match"),
        (_csv([ROW_A, ROW_A]), "duplicate ID"),
        (_csv([ROW_A[:5]]), "fields"),
        (_csv([]), "no rows"),
    ],
)
def test_an_unusable_update_is_refused_and_nothing_is_written(tmp_path: Path, text: str, message: str) -> None:
    target = tmp_path / "ocd"
    target.mkdir()
    original = _csv([ROW_A])
    (target / "open-cookie-database.csv").write_text(original, encoding="utf-8")
    newer = tmp_path / "newer.csv"
    newer.write_text(text, encoding="utf-8")
    with pytest.raises(CookieDatabaseError, match=message):
        update_cookie_database(newer, target)
    assert (target / "open-cookie-database.csv").read_text("utf-8") == original
    assert [p.name for p in target.iterdir()] == ["open-cookie-database.csv"]


@pytest.fixture
def served_csv(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "ocd.csv").write_text(_csv([ROW_A, ROW_C]), encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ocd.csv"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_an_update_can_come_from_a_url(tmp_path: Path, served_csv: str) -> None:
    target = tmp_path / "target"
    report = update_cookie_database(served_csv, target)
    assert [r.id for r in report.added] == ["id-a", "id-c"] and report.written
    assert (target / "open-cookie-database.csv").exists()


# ----------------------------------------------------------------------------------------------------------
# Packaging


def test_the_wheel_carries_the_catalogue_and_the_cookie_database(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from hatchling.builders.wheel import WheelBuilder

    monkeypatch.setenv("COOKIEGATE_NATIVE", "skip")  # the C scan is not what this test is about
    (wheel,) = WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"cookiegate/policy/vendors/{p.name}" for p in VENDOR_FILES} <= names
    assert "cookiegate/policy/vendors/README.md" in names
    assert {"cookiegate/policy/open_cookie_database/open-cookie-database.csv",
            "cookiegate/policy/open_cookie_database/LICENSE",
            "cookiegate/policy/open_cookie_database/NOTICE"} <= names
    assert not any(n.startswith(("cookiegate/policy/vendors/", "cookiegate/policy/open_cookie_database/"))
                   and n.endswith(".py") for n in names)  # data, not code
