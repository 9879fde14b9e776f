"""Client IP through trusted proxies, user-agent classification, GPC/DNT signals."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
import user_agents
from hypothesis import given, settings
from hypothesis import strategies as st

import cookiegate._visitor as visitor
from cookiegate._visitor import (
    MAX_FORWARDED_BYTES,
    MAX_FORWARDED_HOPS,
    MAX_USER_AGENT_CHARS,
    TrustedProxies,
    UserAgentInfo,
    client_ip,
    dnt_signal,
    gpc_signal,
    ip_from_text,
    user_agent_info,
)

TRUSTED = TrustedProxies(["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"])


def make_scope(peer: str | None, *headers: tuple[str, str], port: int = 1234) -> dict[str, Any]:
    return {
        "type": "http",
        "client": None if peer is None else (peer, port),
        "headers": [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers],
    }


def xff(value: str) -> tuple[str, str]:
    return ("x-forwarded-for", value)


def fwd(value: str) -> tuple[str, str]:
    return ("forwarded", value)


# -- client_ip ------------------------------------------------------------------------------------

UNTRUSTED_PEER_CASES = [
    pytest.param("1.2.3.4", [xff("5.6.7.8")], "1.2.3.4", id="spoofed-xff"),
    pytest.param("1.2.3.4", [xff("10.0.0.1")], "1.2.3.4", id="spoofed-xff-claiming-trusted-proxy"),
    pytest.param("1.2.3.4", [fwd("for=5.6.7.8")], "1.2.3.4", id="spoofed-forwarded"),
    pytest.param("1.2.3.4", [xff("5.6.7.8"), fwd("for=9.9.9.9")], "1.2.3.4", id="spoofed-both"),
    pytest.param("192.168.1.1", [xff("5.6.7.8")], "192.168.1.1", id="private-but-untrusted-peer"),
    pytest.param("2a01:e00::1", [xff("5.6.7.8")], "2a01:e00::1", id="ipv6-untrusted-peer"),
    pytest.param("1.2.3.4", [xff("x" * (MAX_FORWARDED_BYTES * 2))], "1.2.3.4", id="huge-spoof-ignored"),
]


@pytest.mark.parametrize(("peer", "headers", "expected"), UNTRUSTED_PEER_CASES)
def test_spoofed_forwarding_headers_from_untrusted_peer_are_ignored(
    peer: str, headers: list[tuple[str, str]], expected: str
) -> None:
    assert client_ip(make_scope(peer, *headers), TRUSTED) == expected


XFF_CASES = [
    pytest.param("127.0.0.1", [], "127.0.0.1", id="trusted-peer-no-header"),
    pytest.param("127.0.0.1", [xff("1.2.3.4")], "1.2.3.4", id="one-hop"),
    pytest.param("127.0.0.1", [xff("9.9.9.9, 1.2.3.4")], "1.2.3.4", id="client-spoofed-leftmost-ignored"),
    pytest.param("127.0.0.1", [xff("9.9.9.9, 1.2.3.4, 10.0.0.5")], "1.2.3.4", id="walks-past-trusted-hop"),
    pytest.param("10.1.1.1", [xff("1.2.3.4,10.0.0.2,10.0.0.3")], "1.2.3.4", id="no-spaces"),
    pytest.param("127.0.0.1", [xff("10.0.0.1, 10.0.0.2")], "10.0.0.1", id="all-trusted-takes-leftmost"),
    pytest.param("127.0.0.1", [xff("9.9.9.9"), xff("1.2.3.4, 10.0.0.2")], "1.2.3.4", id="occurrences-joined"),
    pytest.param("127.0.0.1", [xff("1.2.3.4"), xff("10.0.0.2")], "1.2.3.4", id="occurrences-in-order"),
    pytest.param("127.0.0.1", [("X-Forwarded-For", "1.2.3.4")], "1.2.3.4", id="name-case-insensitive"),
    pytest.param("127.0.0.1", [xff("  1.2.3.4  ")], "1.2.3.4", id="whitespace"),
    pytest.param("127.0.0.1", [xff("1.2.3.4:5678")], "1.2.3.4", id="ipv4-port"),
    pytest.param("127.0.0.1", [xff("2a01:e00::1")], "2a01:e00::1", id="ipv6-bare"),
    pytest.param("127.0.0.1", [xff("2A01:0E00:0000:0000::0001")], "2a01:e00::1", id="ipv6-normalized"),
    pytest.param("127.0.0.1", [xff("[2a01:e00::1]")], "2a01:e00::1", id="ipv6-brackets"),
    pytest.param("127.0.0.1", [xff("[2a01:e00::1]:443")], "2a01:e00::1", id="ipv6-brackets-port"),
    pytest.param("127.0.0.1", [xff("fe80::1%eth0")], "fe80::1", id="ipv6-zone"),
    pytest.param("127.0.0.1", [xff("[fe80::1%25eth0]:80")], "fe80::1", id="ipv6-escaped-zone-port"),
    pytest.param("127.0.0.1", [xff("::ffff:1.2.3.4")], "1.2.3.4", id="ipv4-mapped-unmapped"),
    pytest.param("::ffff:127.0.0.1", [xff("1.2.3.4")], "1.2.3.4", id="ipv4-mapped-peer-trusted"),
    pytest.param("::1", [xff("1.2.3.4, fd00::7")], "1.2.3.4", id="ipv6-trusted-chain"),
    pytest.param("127.0.0.1", [xff("1.2.3.4, ::ffff:10.0.0.9")], "1.2.3.4", id="mapped-trusted-hop"),
]


@pytest.mark.parametrize(("peer", "headers", "expected"), XFF_CASES)
def test_trusted_peer_x_forwarded_for_is_walked_from_the_right(
    peer: str, headers: list[tuple[str, str]], expected: str
) -> None:
    assert client_ip(make_scope(peer, *headers), TRUSTED) == expected


GARBAGE_CASES = [
    pytest.param(xff("1.2.3.4, garbage"), "127.0.0.1", id="rightmost-garbage-gives-peer"),
    pytest.param(xff("garbage, 1.2.3.4"), "1.2.3.4", id="garbage-left-of-client-unread"),
    pytest.param(xff("1.2.3.4, garbage, 10.0.0.2"), "10.0.0.2", id="garbage-stops-at-last-trusted"),
    pytest.param(xff("unknown"), "127.0.0.1", id="unknown"),
    pytest.param(xff(""), "127.0.0.1", id="empty"),
    pytest.param(xff("1.2.3.4,"), "127.0.0.1", id="trailing-comma"),
    pytest.param(xff("1.2.3.4, , 10.0.0.2"), "10.0.0.2", id="empty-item"),
    pytest.param(xff("1.2.3.4:99999999"), "127.0.0.1", id="port-too-long"),
    pytest.param(xff("1.2.3.4:abc"), "127.0.0.1", id="port-not-numeric"),
    pytest.param(xff("[2a01:e00::1"), "127.0.0.1", id="unterminated-bracket"),
    pytest.param(xff("[2a01:e00::1]x"), "127.0.0.1", id="junk-after-bracket"),
    pytest.param(xff("01.2.3.4"), "127.0.0.1", id="leading-zero-octet"),
    pytest.param(xff("1.2.3.4 5.6.7.8"), "127.0.0.1", id="space-separated"),
    pytest.param(xff("1.2.3.256"), "127.0.0.1", id="octet-out-of-range"),
    pytest.param(xff("\u0661.\u0662.\u0663.\u0664".encode().decode("latin-1")), "127.0.0.1", id="non-ascii"),
    pytest.param(xff("example.com"), "127.0.0.1", id="hostname"),
]


@pytest.mark.parametrize(("header", "expected"), GARBAGE_CASES)
def test_garbage_entry_stops_the_walk_at_the_last_trusted_host(
    header: tuple[str, str], expected: str
) -> None:
    assert client_ip(make_scope("127.0.0.1", header), TRUSTED) == expected


FORWARDED_CASES = [
    pytest.param("for=1.2.3.4", "1.2.3.4", id="token"),
    pytest.param("For=1.2.3.4", "1.2.3.4", id="name-case-insensitive"),
    pytest.param('for="1.2.3.4:8080"', "1.2.3.4", id="quoted-ipv4-port"),
    pytest.param('for="[2a01:e00::1]:4711"', "2a01:e00::1", id="quoted-ipv6-port"),
    pytest.param('for="[2a01:e00::1]"', "2a01:e00::1", id="quoted-ipv6"),
    pytest.param("for=[2a01:e00::1]:4711", "2a01:e00::1", id="unquoted-ipv6-port-lenient"),
    pytest.param('for="[fe80::1%25eth0]:80"', "fe80::1", id="ipv6-zone"),
    pytest.param("for=1.2.3.4;proto=https;by=10.0.0.1", "1.2.3.4", id="with-other-params"),
    pytest.param("proto=https;for=1.2.3.4", "1.2.3.4", id="for-not-first"),
    pytest.param("for=1.2.3.4 ; proto=https", "1.2.3.4", id="spaces-around-semicolon"),
    pytest.param("for=9.9.9.9, for=1.2.3.4", "1.2.3.4", id="spoofed-leftmost-ignored"),
    pytest.param("for=1.2.3.4, for=10.0.0.2", "1.2.3.4", id="walks-past-trusted"),
    pytest.param("for=10.0.0.1, for=10.0.0.2", "10.0.0.1", id="all-trusted-takes-leftmost"),
    pytest.param('for=1.2.3.4;proto=http, for="_hidden"', "127.0.0.1", id="obfuscated-stops"),
    pytest.param("for=1.2.3.4, for=unknown", "127.0.0.1", id="unknown-stops"),
    pytest.param("for=_hidden, for=1.2.3.4", "1.2.3.4", id="obfuscated-left-of-client-unread"),
    pytest.param("for=1.2.3.4, for=_gazonk, for=10.0.0.2", "10.0.0.2", id="obfuscated-after-trusted"),
    pytest.param('for="1.2.3.4:_port"', "1.2.3.4", id="obfuscated-port"),
    pytest.param("proto=https", "127.0.0.1", id="no-for"),
    pytest.param("for=1.2.3.4, proto=https", "127.0.0.1", id="rightmost-element-without-for"),
    pytest.param("for=1.2.3.4;for=5.6.7.8", "127.0.0.1", id="duplicate-for"),
    pytest.param('for="1.2.3.4', "127.0.0.1", id="unterminated-quote"),
    pytest.param("for=1.2.3.4, garbage", "127.0.0.1", id="garbage-element"),
    pytest.param('for="1.2.3.4,5.6.7.8"', "127.0.0.1", id="quoted-comma-is-not-a-list"),
    pytest.param('for=9.9.9.9;x="a,b", for=1.2.3.4', "1.2.3.4", id="quoted-comma-in-other-param"),
    pytest.param('for="\\1.2.3.4"', "1.2.3.4", id="quoted-pair"),
    pytest.param("for=", "127.0.0.1", id="empty-value"),
    pytest.param("", "127.0.0.1", id="empty-header"),
    pytest.param(",,,", "127.0.0.1", id="only-commas"),
]


@pytest.mark.parametrize(("value", "expected"), FORWARDED_CASES)
def test_trusted_peer_forwarded_header_is_walked_from_the_right(value: str, expected: str) -> None:
    assert client_ip(make_scope("127.0.0.1", fwd(value)), TRUSTED) == expected


def test_forwarded_occurrences_are_joined_in_order() -> None:
    scope = make_scope("127.0.0.1", fwd("for=9.9.9.9"), fwd("for=1.2.3.4"), fwd("for=10.0.0.2"))
    assert client_ip(scope, TRUSTED) == "1.2.3.4"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([xff("1.2.3.4"), fwd("for=5.6.7.8")], id="xff-first"),
        pytest.param([fwd("for=5.6.7.8"), xff("1.2.3.4")], id="forwarded-first"),
        pytest.param([fwd("for=5.6.7.8"), xff("1.2.3.4, 10.0.0.3")], id="xff-chain"),
    ],
)
def test_x_forwarded_for_wins_when_both_headers_are_present(headers: list[tuple[str, str]]) -> None:
    assert client_ip(make_scope("127.0.0.1", *headers), TRUSTED) == "1.2.3.4"


def _chain(hops: int) -> str:
    return ", ".join(["1.2.3.4"] + ["10.0.0.1"] * (hops - 1))


def test_chain_at_the_hop_limit_is_walked() -> None:
    assert client_ip(make_scope("127.0.0.1", xff(_chain(MAX_FORWARDED_HOPS))), TRUSTED) == "1.2.3.4"


def test_chain_over_the_hop_limit_is_ignored() -> None:
    assert client_ip(make_scope("127.0.0.1", xff(_chain(MAX_FORWARDED_HOPS + 1))), TRUSTED) == "127.0.0.1"


def test_forwarded_over_the_hop_limit_is_ignored() -> None:
    value = ", ".join(["for=1.2.3.4"] + ["for=10.0.0.1"] * MAX_FORWARDED_HOPS)
    assert client_ip(make_scope("127.0.0.1", fwd(value)), TRUSTED) == "127.0.0.1"


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param([xff(" " * MAX_FORWARDED_BYTES + "1.2.3.4")], id="one-big-xff"),
        pytest.param(
            [xff(" " * (MAX_FORWARDED_BYTES // 2)), xff(" " * (MAX_FORWARDED_BYTES // 2))], id="split"
        ),
        pytest.param([fwd(" " * MAX_FORWARDED_BYTES + "for=1.2.3.4")], id="one-big-forwarded"),
    ],
)
def test_header_over_the_size_limit_is_ignored(headers: list[tuple[str, str]]) -> None:
    assert client_ip(make_scope("127.0.0.1", *headers), TRUSTED) == "127.0.0.1"


def test_header_at_the_size_limit_is_walked() -> None:
    value = "1.2.3.4".rjust(MAX_FORWARDED_BYTES)
    assert len(value) == MAX_FORWARDED_BYTES
    assert client_ip(make_scope("127.0.0.1", xff(value)), TRUSTED) == "1.2.3.4"


def test_oversize_forwarded_does_not_hide_a_valid_x_forwarded_for() -> None:
    scope = make_scope("127.0.0.1", fwd("x" * (MAX_FORWARDED_BYTES * 3)), xff("1.2.3.4"))
    assert client_ip(scope, TRUSTED) == "1.2.3.4"


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param({"type": "http", "client": None, "headers": []}, id="client-none"),
        pytest.param({"type": "http", "headers": []}, id="client-missing"),
        pytest.param(make_scope("testclient", xff("1.2.3.4")), id="peer-not-an-ip"),
        pytest.param(make_scope("", xff("1.2.3.4")), id="peer-empty"),
    ],
)
def test_unknown_peer_gives_no_client_ip(scope: dict[str, Any]) -> None:
    assert client_ip(scope, TRUSTED) is None


def test_peer_address_is_normalized() -> None:
    assert client_ip(make_scope("2A01:0E00::0001"), TRUSTED) == "2a01:e00::1"
    assert client_ip(make_scope("::ffff:85.0.1.7"), TRUSTED) == "85.0.1.7"


def test_headers_missing_from_scope_gives_peer() -> None:
    assert client_ip({"type": "http", "client": ("127.0.0.1", 1)}, TRUSTED) == "127.0.0.1"


def test_no_trusted_proxies_means_every_header_is_ignored() -> None:
    assert client_ip(make_scope("127.0.0.1", xff("1.2.3.4")), TrustedProxies([])) == "127.0.0.1"


# -- TrustedProxies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", False),
        ("10.255.0.1", True),
        ("11.0.0.1", False),
        ("::1", True),
        ("[::1]:8000", True),
        ("fd12::1", True),
        ("fe80::1", False),
        ("::ffff:10.0.0.1", True),
        ("10.0.0.1:443", True),
        ("garbage", False),
        ("", False),
    ],
)
def test_trusted_proxies_membership(host: str, expected: bool) -> None:
    assert (host in TRUSTED) is expected


def test_trusted_proxies_membership_of_non_string_is_false() -> None:
    assert (None in TRUSTED) is False


def test_trusted_proxies_accepts_a_comma_separated_string() -> None:
    proxies = TrustedProxies("127.0.0.1, 10.0.0.0/8")
    assert "10.1.1.1" in proxies
    assert "127.0.0.1" in proxies
    assert "1" not in proxies


@pytest.mark.parametrize(
    "entries",
    [
        pytest.param(["*"], id="wildcard"),
        pytest.param(["10.0.0.1/8"], id="host-bits-set"),
        pytest.param(["proxy.internal"], id="hostname"),
        pytest.param([""], id="empty"),
        pytest.param(["10.0.0.0/33"], id="bad-prefix"),
    ],
)
def test_trusted_proxies_rejects_invalid_entries(entries: list[str]) -> None:
    with pytest.raises(ValueError):
        TrustedProxies(entries)


def test_explicit_everything_networks_trust_every_peer() -> None:
    everyone = TrustedProxies(["0.0.0.0/0", "::/0"])
    assert client_ip(make_scope("8.8.8.8", xff("1.2.3.4")), everyone) == "1.2.3.4"


# -- user agent -----------------------------------------------------------------------------------

CHROME_DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"


@pytest.mark.parametrize(
    ("ua", "device", "browser_family", "is_bot"),
    [
        pytest.param(CHROME_DESKTOP, "desktop", "Chrome", False, id="chrome-desktop"),
        pytest.param(IPHONE_SAFARI, "mobile", "Mobile Safari", False, id="iphone"),
        pytest.param(ANDROID_CHROME, "mobile", "Chrome Mobile", False, id="android"),
        pytest.param(IPAD_SAFARI, "tablet", "Mobile Safari", False, id="ipad"),
        pytest.param(GOOGLEBOT, "bot", "Googlebot", True, id="googlebot"),
        pytest.param(BINGBOT, "bot", "bingbot", True, id="bingbot"),
        pytest.param("curl/8.5.0", "other", "curl", False, id="curl"),
        pytest.param("", "other", "Other", False, id="empty"),
        pytest.param(None, "other", "Other", False, id="none"),
    ],
)
def test_user_agent_is_classified(ua: str | None, device: str, browser_family: str, is_bot: bool) -> None:
    assert user_agent_info(ua) == UserAgentInfo(device=device, browser_family=browser_family, is_bot=is_bot)


def test_huge_user_agent_is_truncated_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real_parse = user_agents.parse

    def recording_parse(ua: str) -> Any:
        seen.append(len(ua))
        return real_parse(ua)

    monkeypatch.setattr(user_agents, "parse", recording_parse)
    visitor._parse_user_agent.cache_clear()
    huge = CHROME_DESKTOP + " " + "x" * 100_000
    info = user_agent_info(huge)
    assert seen == [MAX_USER_AGENT_CHARS]
    # The classification comes from the (intact) start of the string.
    assert info == UserAgentInfo(device="desktop", browser_family="Chrome", is_bot=False)


def test_user_agent_parse_is_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_parse = user_agents.parse

    def recording_parse(ua: str) -> Any:
        calls.append(ua)
        return real_parse(ua)

    monkeypatch.setattr(user_agents, "parse", recording_parse)
    visitor._parse_user_agent.cache_clear()
    first = user_agent_info(IPHONE_SAFARI)
    second = user_agent_info(IPHONE_SAFARI)
    assert first == second
    assert calls == [IPHONE_SAFARI]


def test_user_agent_cache_is_bounded() -> None:
    maxsize = visitor._parse_user_agent.cache_info().maxsize
    assert maxsize is not None and maxsize > 0


# -- privacy signals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([(b"sec-gpc", b"1")], True, id="set"),
        pytest.param([(b"sec-gpc", b" 1 ")], True, id="whitespace"),
        pytest.param([(b"Sec-GPC", b"1")], True, id="name-case"),
        pytest.param([(b"sec-gpc", b"0")], False, id="zero"),
        pytest.param([(b"sec-gpc", b"true")], False, id="not-one"),
        pytest.param([(b"sec-gpc", b"")], False, id="empty"),
        pytest.param([(b"dnt", b"1")], False, id="dnt-is-not-gpc"),
        pytest.param([], False, id="absent"),
        pytest.param([(b"sec-gpc", b"0"), (b"sec-gpc", b"1")], True, id="any-occurrence"),
    ],
)
def test_gpc_signal(headers: list[tuple[bytes, bytes]], expected: bool) -> None:
    assert gpc_signal(headers) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        pytest.param([(b"dnt", b"1")], True, id="set"),
        pytest.param([(b"DNT", b"1")], True, id="name-case"),
        pytest.param([(b"dnt", b"0")], False, id="zero"),
        pytest.param([(b"dnt", b"null")], False, id="null"),
        pytest.param([(b"sec-gpc", b"1")], False, id="gpc-is-not-dnt"),
        pytest.param([], False, id="absent"),
    ],
)
def test_dnt_signal(headers: list[tuple[bytes, bytes]], expected: bool) -> None:
    assert dnt_signal(headers) is expected


# The cheap crawler check must agree with user-agents on real traffic (it decides banner and trackers).
_AGREEMENT_UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) "
    "Chrome/116.0.1938.76 Safari/537.36",
    "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
    "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Mozilla/5.0 (compatible; DuckDuckBot-Https/1.1; https://duckduckgo.com/duckduckbot)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
]


@pytest.mark.parametrize("ua", _AGREEMENT_UAS)
def test_cheap_bot_check_agrees_with_user_agents_on_real_traffic(ua: str) -> None:
    from cookiegate._visitor import is_bot_user_agent

    assert is_bot_user_agent(ua) == user_agent_info(ua).is_bot


def test_cheap_bot_check_on_empty_and_huge_input() -> None:
    from cookiegate._visitor import is_bot_user_agent

    assert not is_bot_user_agent(None) and not is_bot_user_agent("")
    assert not is_bot_user_agent("Mozilla/5.0 " + "x" * 100_000 + " bot")  # only the first 512 characters count


def _reference(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _fast(text: str) -> str | None:
    try:
        return str(ip_from_text(text))
    except ValueError:
        return None


_QUADS = st.lists(
    st.one_of(st.integers(0, 300).map(str), st.sampled_from(["00", "01", "007", "0x1", "-1", "+1", "", " 1", "1 ",
                                                           "\u0661", "1\x00", "٣"])),
    min_size=1, max_size=6,
).map(".".join)


@settings(max_examples=1500, deadline=None)
@given(text=st.one_of(_QUADS, st.text(max_size=20), st.ip_addresses().map(str)))
def test_the_fast_address_parse_gives_the_answers_of_ipaddress(text: str) -> None:
    assert _fast(text) == _reference(text)
