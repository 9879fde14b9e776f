"""Tests for the vendor catalog and the TagRegistry that classifies URLs, inline scripts and cookies."""

from __future__ import annotations

import dataclasses

import pytest

from cookiegate.policy._catalog import BUILTIN_VENDORS, TagRegistry, Vendor, _required_literal
from cookiegate.policy._categories import ADS, ANALYTICS, FUNCTIONAL, SOCIAL

from .snippet_corpus import SNIPPETS, parse_snippet

REGISTRY = TagRegistry.builtin()


def _id(vendor: Vendor | None) -> str | None:
    return None if vendor is None else vendor.id


# ----------------------------------------------------------------------------------------------------------
# vendor_for_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # host and any subdomain
        ("https://google-analytics.com/analytics.js", "google-analytics"),
        ("https://www.google-analytics.com/analytics.js", "google-analytics"),
        ("https://region1.google-analytics.com/g/collect?v=2", "google-analytics"),
        ("https://static.hotjar.com/c/hotjar-1234567.js?sv=6", "hotjar"),
        ("https://bat.bing.com/bat.js", "microsoft-uet"),
        ("https://www.clarity.ms/tag/abcdefghij", "microsoft-clarity"),
        ("https://js-eu1.hs-scripts.com/1234567.js", "hubspot"),
        ("https://cdn.mxpnl.com/libs/mixpanel-2-latest.min.js", "mixpanel"),
        ("https://i.ytimg.com/vi/x/hqdefault.jpg", "youtube"),
        ("https://player.vimeo.com/video/76979871", "vimeo"),
        # lookalikes are not the vendor
        ("https://evilgoogle-analytics.com/analytics.js", None),
        ("https://google-analytics.com.evil.example/analytics.js", None),
        ("https://www.example.com/google-analytics.com/analytics.js", None),
        ("https://www.google-analytics.com@evil.example/analytics.js", None),
        ("https://static.hotjar.community/c/hotjar-1.js", None),
        # case, port, userinfo, trailing dot, protocol-relative, odd slashes: still the vendor
        ("HTTPS://WWW.Google-Analytics.COM/analytics.js", "google-analytics"),
        ("https://www.google-analytics.com:443/analytics.js", "google-analytics"),
        ("https://user:secret@www.google-analytics.com/analytics.js", "google-analytics"),
        ("https://www.google-analytics.com./analytics.js", "google-analytics"),
        ("//www.google-analytics.com/analytics.js", "google-analytics"),
        ("  \t//www.google-analytics.com/analytics.js\n", "google-analytics"),
        ("https:///www.google-analytics.com/analytics.js", "google-analytics"),
        ("https:\\\\www.google-analytics.com\\analytics.js", "google-analytics"),
        ("\\\\www.google-analytics.com/analytics.js", "google-analytics"),
        ("https://www.google-ana\nlytics.com/analytics.js", "google-analytics"),
        ("https://www%2Egoogle-analytics%2Ecom/analytics.js", "google-analytics"),
        ("https://ｗｗｗ.google-analytics。com/analytics.js", "google-analytics"),
        ("https://www.google-analytics.com?x=1", "google-analytics"),
        # URLs that fetch nothing from a host
        ("data:text/javascript,alert(1)", None),
        ("javascript:void(0)", None),
        ("JavaScript:loadScript('https://connect.facebook.net/en_US/fbevents.js')", None),
        ("blob:https://www.google-analytics.com/0b1c", None),
        ("mailto:hello@kactuce.example", None),
        ("about:blank", None),
        ("", None),
        ("https://", None),
        # relative URLs match only path-only url_patterns
        ("/js/app.js", None),
        ("js/google-analytics.com/x.js", None),
        ("/tr?id=1234567890&ev=PageView", None),
        ("/gtm.js?id=GTM-XXXXXXX", "google-tag-manager"),
        ("https://sst.kactuce.example/gtag/js?id=G-XXXXXXXXXX", "google-analytics"),
        # googletagmanager.com: the id decides; unknown ids fall back to GTM (ads)
        ("https://www.googletagmanager.com/gtm.js?id=GTM-XXXXXXX", "google-tag-manager"),
        ("https://www.googletagmanager.com/ns.html?id=GTM-XXXXXXX", "google-tag-manager"),
        ("https://www.googletagmanager.com/gtag/js?id=G-XXXXXXXXXX", "google-analytics"),
        ("https://www.googletagmanager.com/gtag/js?l=dataLayer&id=G-XXXXXXXXXX", "google-analytics"),
        ("https://www.googletagmanager.com/gtag/js?id=UA-12345-1", "google-analytics"),
        ("https://www.googletagmanager.com/gtag/js?id=AW-123456789", "google-ads"),
        ("https://www.googletagmanager.com/gtag/js?id=DC-1234567", "google-ads"),
        ("https://www.googletagmanager.com/gtag/js?id=GT-ABCDEFG", "google-tag-manager"),
        ("https://www.googletagmanager.com/gtag/destination?id=G-XXXX", "google-tag-manager"),
        # connect.facebook.net: fbevents.js is the pixel, the SDK is social; unknown paths are the pixel
        ("https://connect.facebook.net/en_US/fbevents.js", "meta-pixel"),
        ("https://connect.facebook.net/signals/config/1234567890?v=2.9.1", "meta-pixel"),
        ("https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v18.0", "facebook-social"),
        ("https://connect.facebook.net/de_DE/sdk/xfbml.customerchat.js", "facebook-social"),
        ("https://connect.facebook.net/en_US/something-new.js", "meta-pixel"),
        ("https://connect.facebook.net/en_US/sdk.js/../fbevents.js", "meta-pixel"),
        ("https://connect.facebook.net/en_US/sdk.js/%2e%2e/fbevents.js", "meta-pixel"),
        # facebook.com: only known tracker and plugin paths; a profile URL is nothing
        ("https://www.facebook.com/tr?id=1234567890&ev=PageView&noscript=1", "meta-pixel"),
        ("https://www.facebook.com/plugins/page.php?href=x", "facebook-social"),
        ("https://www.facebook.com/v18.0/plugins/like.php?href=x", "facebook-social"),
        ("https://www.facebook.com/kactuce", None),
        ("https://www.facebook.com/travel", None),
        # youtube.com is split by path; its CDN and nocookie domain are embeds outright
        ("https://www.youtube.com/embed/M7lc1UVf-VE", "youtube"),
        ("https://www.youtube.com/iframe_api", "youtube"),
        ("https://www.youtube-nocookie.com/embed/M7lc1UVf-VE", "youtube"),
        ("https://www.youtube.com/@kactuce", None),
        # Google: ads paths on google.com; reCAPTCHA, Maps and Fonts are vendors of their own
        ("https://www.google.com/pagead/1p-conversion/123456789/?label=x", "google-ads"),
        ("https://www.google.com/recaptcha/api.js", "google-recaptcha"),
        ("https://www.gstatic.com/recaptcha/releases/x/recaptcha__en.js", "google-recaptcha"),
        ("https://www.google.com/maps/embed?pb=x", "google-maps"),
        ("https://www.google.com/search?q=kactuce", None),
        ("https://fonts.googleapis.com/css2?family=Inter", "google-fonts"),
        ("https://www.gstatic.com/images/branding/x.png", None),
        ("https://analytics.google.com/g/collect", "google-analytics"),
        # X: the pixel and the widgets share twitter.com
        ("https://static.ads-twitter.com/uwt.js", "x-pixel"),
        ("https://analytics.twitter.com/i/adsct?txn_id=x", "x-pixel"),
        ("https://t.co/i/adsct?txn_id=x", "x-pixel"),
        ("https://t.co/abcdefghij", None),
        ("https://platform.twitter.com/widgets.js", "x-widgets"),
        ("https://twitter.com/kactuce", None),
        # Pinterest: only the tag's path on the shared image host
        ("https://s.pinimg.com/ct/core.js", "pinterest-tag"),
        ("https://s.pinimg.com/ct/lib/main.32f1dc50.js", "pinterest-tag"),
        ("https://s.pinimg.com/images/favicon.png", None),
        ("https://ct.pinterest.com/v3/?event=init&tid=2612345678901", "pinterest-tag"),
        ("https://www.pinterest.com/kactuce/", None),
    ],
)
def test_vendor_for_url(url: str, expected: str | None) -> None:
    assert _id(REGISTRY.vendor_for_url(url)) == expected


#: The first-party page's third-party resources: each is a catalogued vendor of its own.
SITE_OWN_THIRD_PARTIES = {
    "https://fonts.googleapis.com/": "google-fonts",
    "https://cdn.jsdelivr.net/": "jsdelivr",
    "https://www.google.com/recaptcha/": "google-recaptcha",
    "https://www.google.com/maps/embed": "google-maps",
}


def test_first_party_page_attributes_only_its_third_party_resources_to_vendors() -> None:
    parsed = parse_snippet(SNIPPETS / "site-own.html")
    assert len(parsed.urls) >= 10  # the extractor saw the page's own assets
    expected = {
        url: next((v for prefix, v in SITE_OWN_THIRD_PARTIES.items() if url.startswith(prefix)), None)
        for url in parsed.urls
    }
    assert set(expected.values()) == {None, *SITE_OWN_THIRD_PARTIES.values()}
    assert {url: _id(REGISTRY.vendor_for_url(url)) for url in parsed.urls} == expected


def test_first_party_page_has_no_inline_script_attributed_to_a_vendor() -> None:
    parsed = parse_snippet(SNIPPETS / "site-own.html")
    assert len(parsed.inline_scripts) >= 5
    assert [REGISTRY.vendor_for_inline(text) for text in parsed.inline_scripts] == [None] * len(
        parsed.inline_scripts
    )


def test_links_to_vendor_profiles_are_not_fetchable_urls_of_the_first_party_page() -> None:
    parsed = parse_snippet(SNIPPETS / "site-own.html")
    assert "https://www.facebook.com/kactuce" not in parsed.urls
    assert REGISTRY.vendor_for_url("https://www.facebook.com/kactuce") is None


# ----------------------------------------------------------------------------------------------------------
# vendor_for_inline beyond the fixtures


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a vendor host in a URL-ish context, however the snippet was minified or escaped
        ("var s='https://connect.facebook.net/en_US/fbevents.js';", "meta-pixel"),
        ('load("//static.hotjar.com/c/hotjar-"+id+".js")', "hotjar"),
        ('{"src":"https:\\/\\/snap.licdn.com\\/li.lms-analytics\\/insight.min.js"}', "linkedin-insight"),
        ("s.src='//connect.facebook.net/en_US/sdk.js';", "facebook-social"),
        ("x.src='https://WWW.GOOGLETAGMANAGER.COM/gtag/js?id=G-1'", "google-analytics"),
        # official calls
        ("fbq('track', 'Purchase', {value: 1});", "meta-pixel"),
        ("gtag('config', 'G-XXXXXXXXXX');", "google-analytics"),
        ('gtag("config","AW-123456789")', "google-ads"),
        ("ttq.track('CompletePayment')", "tiktok-pixel"),
        ("window.uetq = window.uetq || []; window.uetq.push('event', 'purchase', {});", "microsoft-uet"),
        ("amplitude.getInstance().init('KEY')", "amplitude"),
        # several vendors: the most sensitive category wins (GA4 + Ads config is gated as ads)
        ("gtag('config', 'G-XXXXXXXXXX'); gtag('config', 'AW-123456789');", "google-ads"),
        ("new YT.Player('p'); fbq('init', '1');", "meta-pixel"),
        ("mixpanel.init('t'); new Vimeo.Player(el);", "vimeo"),
        # not trackers
        ("gtag('consent', 'default', {'ad_storage': 'denied'});", None),
        ("window.dataLayer = window.dataLayer || [];", None),
        ("var analytics = {}; // analytics, ads, facebook, youtube", None),
        ("location.href = 'https://www.facebook.com/kactuce';", None),
        ("fetch('//api.kactuce.example/analytics/summary')", None),
        ("myfbq(1); fbqx(2); thj('event')", None),
        ("", None),
    ],
)
def test_vendor_for_inline(text: str, expected: str | None) -> None:
    assert _id(REGISTRY.vendor_for_inline(text)) == expected


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        (r"\bfbq\(", "fbq("),
        (r"""['"]gtm\.start['"]""", "gtm.start"),
        (r"\bnew\s+UET\(", "UET("),
        (r"a?bc", "bc"),
        (r"x{0,2}yz", "yz"),
        (r"ab+c", "ab"),
        (r"(?:x|y)abcd(?:e)?", "abcd"),
        (r"[ab]]xyz", "]xyz"),
        (r"ab|cd", None),
        (r"[ab]c?", None),
        (r"\d+", None),
    ],
)
def test_required_literal_is_text_every_match_contains(pattern: str, literal: str | None) -> None:
    assert _required_literal(pattern) == literal


@pytest.mark.parametrize("vendor", [v for v in BUILTIN_VENDORS if v.inline_patterns], ids=lambda v: v.id)
def test_every_builtin_inline_pattern_has_a_literal_for_the_fast_prefilter(vendor: Vendor) -> None:
    for pattern in vendor.inline_patterns:
        literal = _required_literal(pattern)
        assert literal is not None and len(literal) >= 3, pattern


def test_site_inline_pattern_without_a_literal_is_still_matched() -> None:
    site_tag = Vendor(id="digits", name="Digits", category=ANALYTICS, inline_patterns=(r"[0-9]{4}-[a-z]{2}",))
    registry = TagRegistry.builtin([site_tag])
    assert registry.vendor_for_inline("track('1234-ab')") is site_tag
    assert registry.vendor_for_inline("track('12-ab')") is None


# ----------------------------------------------------------------------------------------------------------
# cookies


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("_ga", "google-analytics"),
        ("_ga_ABC123DEF", "google-analytics"),
        ("_gid", "google-analytics"),
        ("_gat", "google-analytics"),
        ("_gat_UA-12345-1", "google-analytics"),
        ("_gcl_au", "google-ads"),
        ("_fbp", "meta-pixel"),
        ("_fbc", "meta-pixel"),
        ("li_fat_id", "linkedin-insight"),
        ("lidc", "linkedin-insight"),
        ("bcookie", "linkedin-insight"),
        ("UserMatchHistory", "linkedin-insight"),
        ("AnalyticsSyncHistory", "linkedin-insight"),
        ("_ttp", "tiktok-pixel"),
        ("_uetsid", "microsoft-uet"),
        ("_uetvid", "microsoft-uet"),
        ("_clck", "microsoft-clarity"),
        ("_clsk", "microsoft-clarity"),
        ("_hjSessionUser_1234567", "hotjar"),
        ("hubspotutk", "hubspot"),
        ("__hstc", "hubspot"),
        ("__hssc", "hubspot"),
        ("__hssrc", "hubspot"),
        ("ajs_anonymous_id", "segment"),
        ("mp_0123456789abcdef_mixpanel", "mixpanel"),
        ("AMP_0123456789", "amplitude"),
        ("_pin_unauth", "pinterest-tag"),
        ("_scid", "snap-pixel"),
        ("muc_ads", "x-pixel"),
        ("personalization_id", "x-pixel"),
        ("guest_id", "x-widgets"),
        ("YSC", "youtube"),
        ("VISITOR_INFO1_LIVE", "youtube"),
        ("vuid", "vimeo"),
        # exact names are exact, globs need their literal part: the site's own cookies are not claimed
        ("_gax", None),
        ("_gateway_session", None),
        ("_g", None),
        ("mp_session", None),
        ("ysc", None),
        ("sessionid", None),
        ("csrftoken", None),
        ("cookiegate", None),
        ("", None),
    ],
)
def test_vendor_for_cookie(name: str, expected: str | None) -> None:
    assert _id(REGISTRY.vendor_for_cookie(name)) == expected


def test_category_for_cookie_is_the_category_of_the_vendor_that_sets_it() -> None:
    assert REGISTRY.category_for_cookie("_ga_ABC") == ANALYTICS
    assert REGISTRY.category_for_cookie("_fbp") == ADS
    assert REGISTRY.category_for_cookie("YSC") == SOCIAL
    assert REGISTRY.category_for_cookie("sessionid") is None


def test_more_specific_cookie_glob_wins_over_a_shorter_one() -> None:
    registry = TagRegistry(
        [
            Vendor(id="broad", name="Broad", category=ANALYTICS, hosts=("broad.example",), cookies=("_x*",)),
            Vendor(id="narrow", name="Narrow", category=ADS, hosts=("narrow.example",), cookies=("_xy_*",)),
        ]
    )
    assert _id(registry.vendor_for_cookie("_xy_1")) == "narrow"
    assert _id(registry.vendor_for_cookie("_xz")) == "broad"


# ----------------------------------------------------------------------------------------------------------
# hosts for the CSP


def test_hosts_for_categories_lists_every_host_of_the_allowed_categories_sorted() -> None:
    analytics = REGISTRY.hosts_for_categories([ANALYTICS])
    assert analytics == tuple(sorted(analytics))
    assert len(set(analytics)) == len(analytics)
    assert {"google-analytics.com", "googletagmanager.com", "static.hotjar.com"} - set(analytics) == {
        "static.hotjar.com"  # hosts are suffixes: hotjar.com covers static.hotjar.com
    }
    assert "hotjar.com" in analytics
    assert "doubleclick.net" not in analytics
    assert "connect.facebook.net" not in analytics


def test_hosts_for_categories_includes_shared_hosts_a_vendor_needs() -> None:
    social = REGISTRY.hosts_for_categories([SOCIAL])
    assert {"connect.facebook.net", "facebook.com", "youtube.com", "player.vimeo.com"} <= set(social)
    ads = REGISTRY.hosts_for_categories({ADS})
    assert {"connect.facebook.net", "facebook.com", "googletagmanager.com", "doubleclick.net"} <= set(ads)
    both = REGISTRY.hosts_for_categories([SOCIAL, ADS])
    assert set(both) == set(social) | set(ads)


def test_hosts_for_no_category_or_an_unknown_one_is_empty() -> None:
    assert REGISTRY.hosts_for_categories([]) == ()
    assert REGISTRY.hosts_for_categories(["nonsense"]) == ()


def test_the_csp_lists_the_common_vendors_and_every_catalogue_entry_the_site_names() -> None:
    # The whole catalogue's hosts would not fit a proxy's header buffer: only csp_default entries and the
    # site's own [[tags]] (a catalogue id re-declared as is counts) are listed.
    assert "js.stripe.com" not in REGISTRY.hosts_for_categories(["necessary"])
    assert "redditstatic.com" not in REGISTRY.hosts_for_categories([ADS])
    stripe, reddit = REGISTRY.vendor("stripe"), REGISTRY.vendor("reddit-pixel")
    assert stripe is not None and reddit is not None
    registry = TagRegistry.builtin([stripe, reddit])
    assert "js.stripe.com" in registry.hosts_for_categories(["necessary"])
    assert "redditstatic.com" in registry.hosts_for_categories([ADS])
    # Classification does not depend on it.
    assert _id(REGISTRY.vendor_for_url("https://www.redditstatic.com/ads/pixel.js")) == "reddit-pixel"


# ----------------------------------------------------------------------------------------------------------
# site tags and validation


def test_site_tag_with_a_builtin_id_replaces_the_builtin_vendor() -> None:
    gtm_as_analytics = dataclasses.replace(
        REGISTRY.vendor("google-tag-manager") or pytest.fail("no GTM"), category=ANALYTICS
    )
    registry = TagRegistry.builtin([gtm_as_analytics])
    assert registry.vendor("google-tag-manager") is gtm_as_analytics
    assert [v.id for v in registry.vendors].count("google-tag-manager") == 1
    assert registry.vendor_for_url("https://www.googletagmanager.com/gtm.js?id=GTM-X") is gtm_as_analytics
    assert registry.vendor_for_inline("w.push({'gtm.start': 1})") is gtm_as_analytics


def test_site_tag_url_patterns_match_first_party_urls_relative_or_absolute() -> None:
    site_tag = Vendor(
        id="hotjar-selfhosted",
        name="Hotjar (self-hosted loader)",
        category=ANALYTICS,
        purpose="Loads Hotjar.",
        url_patterns=("/static/js/hotjar-loader.js",),
    )
    registry = TagRegistry.builtin([site_tag])
    assert registry.vendor_for_url("/static/js/hotjar-loader.js?v=3") is site_tag
    assert registry.vendor_for_url("https://www.kactuce.example/static/js/hotjar-loader.js") is site_tag
    assert registry.vendor_for_url("static/js/hotjar-loader.js") is site_tag
    assert registry.vendor_for_url("/static/js/app.js") is None


def test_earlier_vendor_wins_a_host_both_claim() -> None:
    site_tag = Vendor(id="site-hotjar", name="Hotjar", category=FUNCTIONAL, hosts=("static.hotjar.com",))
    registry = TagRegistry.builtin([site_tag])
    assert registry.vendor_for_url("https://static.hotjar.com/c/hotjar-1.js") is site_tag
    assert _id(registry.vendor_for_url("https://script.hotjar.com/modules.js")) == "hotjar"


@pytest.mark.parametrize(
    "vendor",
    [
        Vendor(id="x", name="X", category="marketing", hosts=("x.example",)),
        Vendor(id="", name="X", category=ADS, hosts=("x.example",)),
        Vendor(id="x", name="X", category=ADS, hosts=("https://x.example/",)),
        Vendor(id="x", name="X", category=ADS, hosts=("x.example:8080",)),
        Vendor(id="x", name="X", category=ADS, inline_patterns=(r"(fbq)\(",)),
        Vendor(id="x", name="X", category=ADS, inline_patterns=(r"(?i)fbq",)),
        Vendor(id="x", name="X", category=ADS, inline_patterns=(r"fbq(",)),
        Vendor(id="x", name="X", category=ADS, url_patterns=("x.example",)),
        Vendor(id="x", name="X", category=ADS, cookies=("*",)),
    ],
)
def test_unusable_vendor_is_refused_at_construction(vendor: Vendor) -> None:
    with pytest.raises(ValueError, match="vendor"):
        TagRegistry([vendor])


def test_host_entries_are_normalised_from_loose_site_config() -> None:
    site_tag = Vendor(id="x", name="X", category=ADS, hosts=("*.Tracker.Example.",))
    registry = TagRegistry([site_tag])
    assert registry.vendor_for_url("https://cdn.tracker.example/t.js") is site_tag
    assert registry.hosts_for_categories([ADS]) == ("tracker.example",)


# ----------------------------------------------------------------------------------------------------------
# the catalog itself (schema, families, corpus: tests/test_vendor_data.py)


def test_registry_looks_up_vendors_by_id() -> None:
    assert _id(REGISTRY.vendor("hotjar")) == "hotjar"
    assert REGISTRY.vendor("nonexistent") is None
