"""The one URL reading (``cookiegate._urls``): the host a browser would contact, whatever the spelling, and
the same answer from every place that asks (registry, rewriter, gate)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cookiegate._urls import normalize_host, normalize_url, refresh_url, split_url

# (URL as written in a page, after character references are decoded; host and path the browser fetches)
SPLITS = [
    ("https://www.facebook.com/tr?id=1#x", ("www.facebook.com", "/tr?id=1")),
    ("//connect.facebook.net/en_US/fbevents.js", ("connect.facebook.net", "/en_us/fbevents.js")),
    ("HTTPS://WWW.FACEBOOK.COM./TR", ("www.facebook.com", "/tr")),
    ("https://user:pw@www.facebook.com:443/tr", ("www.facebook.com", "/tr")),
    ("https://a@b@www.facebook.com/tr", ("www.facebook.com", "/tr")),
    ("  https://www.face\tbook.com/tr\n", ("www.facebook.com", "/tr")),
    ("https:\\\\www.facebook.com\\tr", ("www.facebook.com", "/tr")),
    ("https:www.facebook.com/tr", ("www.facebook.com", "/tr")),
    ("https:///www.facebook.com/tr", ("www.facebook.com", "/tr")),
    ("https://www%2Efacebook%2ecom/tr", ("www.facebook.com", "/tr")),
    ("https://www.facebook.com/sdk.js/../tr", ("www.facebook.com", "/tr")),
    ("https://www.facebook.com?x", ("www.facebook.com", "/?x")),
    ("/gtm.js?id=GTM-1", ("", "/gtm.js?id=gtm-1")),
    ("https://[::1]/x", ("[::1]", "/x")),
    # Full-width letters and ideographic dots are mapped to ASCII (UTS #46).
    ("https://ｃｏｎｎｅｃｔ。ｆａｃｅｂｏｏｋ．net/x", ("connect.facebook.net", "/x")),
]


@pytest.mark.parametrize(("url", "expected"), SPLITS, ids=[u for u, _ in SPLITS])
def test_a_url_is_split_into_the_host_and_path_a_browser_would_fetch(url: str, expected: tuple[str, str]) -> None:
    assert split_url(url) == expected


@pytest.mark.parametrize("url", ["data:,x", "javascript:alert(1)", "mailto:a@b.c", "blob:https://x/1", "https://",
                                 "file:///etc/passwd", "//"])
def test_a_url_that_reaches_no_host_is_refused(url: str) -> None:
    assert split_url(url) is None


# Code points UTS #46 ignores: a browser drops them from the host (https://www.unicode.org/reports/tr46/).
IGNORED = ["\u00ad", "\u034f", "\u180b", "\u180f", "\u200b", "\u2060", "\u2064", "\ufe0f", "\ufeff", "\U0001bca0",
           "\U000e0100"]


@pytest.mark.parametrize("ignored", IGNORED, ids=[f"U+{ord(c):04X}" for c in IGNORED])
def test_code_points_uts46_ignores_vanish_from_the_host_raw_or_percent_encoded(ignored: str) -> None:
    encoded = "".join(f"%{b:02X}" for b in ignored.encode("utf-8"))
    for written in (f"https://www.face{ignored}book.com/tr", f"https://www.face{encoded}book.com/tr",
                    f"//connect.{ignored}facebook.net/x"):
        host = split_url(written)
        assert host is not None and host[0] in ("www.facebook.com", "connect.facebook.net"), written


def test_a_label_left_non_ascii_is_written_in_its_ascii_form_as_a_browser_resolves_it() -> None:
    # Transitional processing off: "ß" stays "ß" (it is not "ss"), as in current browsers.
    assert normalize_host("Faß.de") == "xn--fa-hia.de"
    assert normalize_host("bücher.example") == "xn--bcher-kva.example"
    assert normalize_host("xn--bcher-kva.example") == "xn--bcher-kva.example"


@pytest.mark.parametrize("host", ["www.face\x00book.com", "www.facebook.com%", "www.face%25book.com", "a b.com",
                                  "www.facebook.com\uff0fx", "x|y.com", "."])
def test_a_host_a_browser_refuses_is_no_host(host: str) -> None:
    # https://url.spec.whatwg.org/#forbidden-domain-code-point (U+FF0F maps to "/" first)
    assert normalize_host(host) == ""
    assert split_url(f"https://{host}/tr") is None


def test_a_code_point_the_mapping_table_refuses_is_read_as_ignored_so_no_vendor_hides_behind_it() -> None:
    # U+E000 (private use) is disallowed: the browser refuses the host, and no vendor is missed if a newer
    # table ignores it.
    assert normalize_host("www.face\ue000book.com") == "www.facebook.com"


def test_the_url_given_to_a_classifier_names_the_normalized_host() -> None:
    assert normalize_url("HTTPS://www.FACE\u2064BOOK.com:443/tr?x#y") == "https://www.facebook.com/tr?x#y"
    assert normalize_url("//u@www.face%E2%81%A4book.com/tr") == "//www.facebook.com/tr"
    assert normalize_url(" /local.png ") == "/local.png"
    assert normalize_url("data:,x") == "data:,x"
    assert normalize_url("") == ""


_PIECES = ["https:", "http:", "HTTPS:", "//", "/", "\\", "www", ".", "facebook", "com", "%2e", "%E2%81%A4", "\u2064",
           "\u3002", "ｆ", "@", ":443", "?", "#", "..", " ", "\t", "x", "data:", "[::1]", "ß"]


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(st.sampled_from(_PIECES), max_size=14))
def test_normalizing_a_url_first_never_changes_where_it_leads(parts: list[str]) -> None:
    url = "".join(parts)
    once = normalize_url(url)
    assert normalize_url(once) == once
    assert split_url(once) == split_url(url)


# -- against a browser-grade URL parser ----------------------------------------------------------------------

_LABEL_PIECES = ["www", "facebook", "FaceBook", "com", "net", "connect", "xn--bcher-kva", "bücher", "ß",
                 "ｆａｃｅ", "ＢＯＯＫ", "é", "É", "\ufb01", "\u2168", "\u212a", "\u0130", "\u00ad", "\u2064", "\u180f",
                 "\U0001bca0", "\u200b", "\u200d", "\u034f", "\ufe0f", "%E2%81%A4", "%C3%9F", "%2e", "%41", "-", "_",
                 "a1", "\u3002", "\uff0e", "\uff61", ".", "..", "\u0627", "\u05d0", "\u0915\u094d", "\u3042",
                 "\U0001f600", "ǆ", "ℌ"]


@settings(max_examples=2000, deadline=None)
@given(parts=st.lists(st.sampled_from(_LABEL_PIECES), min_size=1, max_size=8))
def test_every_host_a_browser_grade_parser_resolves_is_the_host_we_read(parts: list[str]) -> None:
    ada_url = pytest.importorskip("ada_url", reason="ada-url (the WHATWG URL parser of Node and others) not installed")
    url = "https://" + "".join(parts) + "/tr"
    try:
        browser = ada_url.URL(url).hostname
    except ValueError:
        return  # the browser refuses the URL: it fetches nothing, whatever we read
    if browser.replace(".", "").isdigit():
        return  # an IPv4 address (no vendor is one)
    read = split_url(url)
    assert (read[0] if read is not None else "") == browser.rstrip("."), url  # "." is no host we could match


# -- where a refresh goes ------------------------------------------------------------------------------------

# https://html.spec.whatwg.org/multipage/semantics.html#shared-declarative-refresh-steps
REFRESHES = [
    ("0; url=https://x/y", "https://x/y"),
    ("0 https://x/y", "https://x/y"),  # whitespace alone ends the delay
    ("0,https://x/y", "https://x/y"),
    ("0\thttps://x/y", "https://x/y"),
    ("0\n;\nhttps://x/y", "https://x/y"),
    ("  5  ,  URL=\"https://x/y\"tail", "https://x/y"),  # quotes end where the quote closes
    ("0 ; url = 'https://x/y' z", "https://x/y"),
    ("0;UrL=https://x/y", "https://x/y"),
    (".5 url=https://x/y", "https://x/y"),  # no digits: a "." is enough
    ("1.5.5;https://x/y", "https://x/y"),  # digits and dots after the delay are skipped
    ("0;'https://x/y", "https://x/y"),  # an unclosed quote runs to the end
    ("0;urx", "urx"),  # "ur" not followed by "l": the URL is the rest as it stands
    ("0;url", "url"),
    ("0;urlx=y", "urlx=y"),
    ("5 ,; x", "; x"),  # one separator only
    ("0; url=", ""),  # the page itself
]


@pytest.mark.parametrize(("value", "expected"), REFRESHES, ids=[v for v, _ in REFRESHES])
def test_a_refresh_goes_where_the_shared_declarative_refresh_steps_say(value: str, expected: str) -> None:
    assert refresh_url(value) == expected


@pytest.mark.parametrize("value", ["", "0", "0;", " 7 ", "x;url=https://x/y", "0x;url=https://x/y", "-1;url=a",
                                   "url=https://x/y"])
def test_a_refresh_the_steps_refuse_or_that_names_no_url_goes_nowhere(value: str) -> None:
    assert refresh_url(value) is None
