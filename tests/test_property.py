"""Property-based tests (hypothesis): the cookie codec, the proxy walk and the rewriter, for any input.

Each property is checked against something other than the code under test: the codec against what was
genuinely signed, the proxy walk against a structured model of the header it was given, the rewriter
against html5lib's reading of its output (``tests.test_rewrite_differential.leaks``).
"""

from __future__ import annotations

import ipaddress
import time

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cookiegate._http import read_cookie
from cookiegate._visitor import MAX_FORWARDED_HOPS, TrustedProxies, client_ip
from cookiegate.policy._consent import Choice, ConsentCodec

from .test_rewrite import run
from .test_rewrite_differential import TEMPLATES, TRACKER_URLS, leaks

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEY = "k" * 40
CODEC = ConsentCodec([KEY], policy_revision="1", max_age=3600)


# -- cookie codec ---------------------------------------------------------------------------------------

choices = st.builds(
    Choice,
    consent_id=st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True),
    categories=st.fixed_dictionaries({c: st.booleans() for c in ("functional", "analytics", "ads", "social")}),
    policy_revision=st.just("1"),
    regime_key=st.sampled_from(["FR", "US-CA", "unknown", "default"]),
    regime_kind=st.sampled_from(["opt-in", "opt-out", "notice", "australia"]),
    action=st.sampled_from(["accept_all", "reject_all", "save", "allow", "withdraw", "opt_out", "acknowledge"]),
    issued_at=st.just(int(time.time())),
)


@BOUNDED
@given(value=st.one_of(st.text(max_size=6000), st.binary(max_size=6000).map(lambda b: b.decode("latin-1"))))
def test_any_cookie_value_decodes_to_none_without_raising(value: str) -> None:
    assert CODEC.decode(value) is None
    assert CODEC.previous_revision(value) is None


@BOUNDED
@given(choice=choices, data=st.data())
def test_any_mutation_of_a_signed_cookie_is_refused_or_the_same_choice(choice: Choice, data: st.DataObject) -> None:
    value = CODEC.encode(choice)
    assert CODEC.decode(value) == choice
    kind = data.draw(st.sampled_from(["replace", "delete", "insert", "truncate", "swap_parts"]))
    i = data.draw(st.integers(0, len(value) - 1))
    char = data.draw(st.characters(codec="latin-1"))
    mutated = {
        "replace": value[:i] + char + value[i + 1 :],
        "delete": value[:i] + value[i + 1 :],
        "insert": value[:i] + char + value[i:],
        "truncate": value[:i],
        "swap_parts": ".".join(reversed(value.split("."))),
    }[kind]
    assume(mutated != value)
    decoded = CODEC.decode(mutated)
    # Base64 ignores a few spare bits in the last character: such a "mutation" still carries the same
    # signed bytes. Anything else is refused; nothing ever decodes to a different choice.
    assert decoded is None or decoded == choice


@BOUNDED
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from([b"cookie", b"Cookie", b"set-cookie", b"x"]),
            st.binary(max_size=300)
            | st.lists(
                st.sampled_from([b"cookiegate_consent", b"=", b";", b" ", b'"', b"v", b"\xff", b"\x00"]), max_size=30
            ).map(b"".join),
        ),
        max_size=5,
    )
)
def test_any_cookie_headers_read_without_raising(lines: list[tuple[bytes, bytes]]) -> None:
    value = read_cookie(lines, "cookiegate_consent")
    assert value is None or isinstance(value, str)
    assert CODEC.decode(value) is None


# -- proxy walk -----------------------------------------------------------------------------------------

TRUSTED = TrustedProxies(["10.0.0.0/8", "fd00::/8"])
TRUSTED_ADDRS = ["10.0.0.1", "10.9.8.7", "fd00::1", "fd12::34"]
UNTRUSTED_ADDRS = ["85.0.1.10", "72.0.1.10", "1.0.2.10", "2a01:e00::5", "2600:1700::9", "192.168.1.1", "::1"]


@st.composite
def xff_entry(draw: st.DrawFn) -> tuple[str | None, str]:
    """``(address it denotes or None for an unusable entry, how it is written)``."""
    if draw(st.integers(0, 5)) == 0:
        junk = draw(
            st.sampled_from(
                [
                    "unknown",
                    "_hidden",
                    "",
                    "garbage",
                    "1.2.3",
                    "[::1",
                    "::1]:80",
                    "1.2.3.4:99999",
                    "<script>",
                    "1.2.3.4 5.6.7.8",
                    "\xff\xfe",
                    "%eth0",
                ]
            )
        )
        return None, junk
    addr = draw(st.sampled_from(TRUSTED_ADDRS + UNTRUSTED_ADDRS))
    v6 = ":" in addr
    port = str(draw(st.integers(0, 65535)))
    forms = (
        [addr, f"[{addr}]", f"[{addr}]:{port}", f"{addr}%eth0", f"[{addr}%25en0]:{port}"]
        if v6
        else [addr, f"{addr}:{port}", f"::ffff:{addr}"]
    )
    written = draw(st.sampled_from(forms))
    pad = draw(st.sampled_from(["", " ", "\t", "  "]))
    return addr, pad + written + pad


def _norm(addr: str) -> str:
    return str(ipaddress.ip_address(addr))


@BOUNDED
@given(
    peer=st.sampled_from(TRUSTED_ADDRS + UNTRUSTED_ADDRS),
    entries=st.lists(xff_entry(), max_size=80),
    split=st.integers(0, 80),
)
def test_proxy_walk_never_returns_an_address_an_untrusted_hop_chose(
    peer: str, entries: list[tuple[str | None, str]], split: int
) -> None:
    written = [w for _, w in entries]
    # The same list, sent as one header or as two header lines.
    headers = (
        [
            (b"x-forwarded-for", ",".join(written[:split]).encode("latin-1")),
            (b"x-forwarded-for", ",".join(written[split:]).encode("latin-1")),
        ]
        if 0 < split < len(written)
        else ([(b"x-forwarded-for", ",".join(written).encode("latin-1"))] if written else [])
    )
    got = client_ip({"client": (peer, 1), "headers": headers}, TRUSTED)
    assert got is not None and ipaddress.ip_address(got)
    if peer not in TRUSTED or not entries or len(entries) > MAX_FORWARDED_HOPS:
        assert got == _norm(peer)
        return
    # The model: walk from the right through trusted hops only.
    expected = _norm(peer)
    for addr, _ in reversed(entries):
        if addr is None:
            break
        expected = _norm(addr)
        if addr not in TRUSTED:
            break
    assert got == expected
    # The security property, stated directly: every hop to the right of the answer is a trusted proxy.
    if got != _norm(peer):
        index = max(i for i, (a, _) in enumerate(entries) if a is not None and _norm(a) == got)
        assert all(a is not None and a in TRUSTED for a, _ in entries[index + 1 :])


@BOUNDED
@given(
    peer=st.sampled_from(TRUSTED_ADDRS + UNTRUSTED_ADDRS + ["not-an-ip", "", "fe80::1%eth0"]),
    headers=st.lists(
        st.tuples(
            st.sampled_from([b"x-forwarded-for", b"forwarded", b"X-Forwarded-For", b"Forwarded"]),
            st.binary(max_size=400)
            | st.text(alphabet='0123456789abcdef.:[]%,;=" _forwardFOR\t', max_size=400).map(str.encode),
        ),
        max_size=4,
    ),
)
def test_any_forwarding_header_gives_a_valid_address_or_none(peer: str, headers: list[tuple[bytes, bytes]]) -> None:
    got = client_ip({"client": (peer, 1), "headers": headers}, TRUSTED)
    if got is not None:
        ipaddress.ip_address(got)
    try:
        peer_addr = _norm(peer.split("%")[0])
    except ValueError:
        assert got is None
        return
    if peer_addr not in TRUSTED:
        assert got == peer_addr


# -- rewriter -------------------------------------------------------------------------------------------

NASTY = [
    "<img/src={u}>",
    "<IMG SRC={u}>",
    "<img src=/ok.png src={u}>",
    "<img\nsrc\n=\n{u}>",
    "<img src = '{u}' alt='>'>",
    "<script src={u}></script>",
    "<script>var s='</scr'+'ipt>';fbq('init','1')</script>",
    "<script>fbq('init')//</script>",
    "<script><!--fbq('init')--></script>",
    '<script>"</script>"',
    '<iframe srcdoc="<img src={u}>"></iframe>',
    '<link rel="preload stylesheet" href={u}>',
    '<div style="background:url({u})">',
    '<meta http-equiv=refresh content="0;url={u}">',
    "<img src={u}",
    "<script src={u}",
    "<object data={u}></object>",
    '<img srcset="{u} 1x,{u} 2x">',
]
BREAKERS = [
    b"\x00",
    b"\xff",
    b"\xc3",
    b"\xe2\x82",
    b"\r",
    b"<!--",
    b"-->",
    b"</script",
    b"<script>",
    b"'",
    b'"',
    b"<",
    b">",
    b"<svg>",
    b"<math>",
    b"<noscript>",
    b"</noscript>",
    b"<template>",
    b"<textarea>",
    b"<title>",
]


@st.composite
def nastier_documents(draw: st.DrawFn) -> bytes:
    parts: list[bytes] = []
    for _ in range(draw(st.integers(1, 10))):
        roll = draw(st.integers(0, 3))
        if roll <= 1:
            template = draw(st.sampled_from(NASTY + TEMPLATES))
            url = draw(st.sampled_from(TRACKER_URLS))
            part = template.format(u=url, q=draw(st.sampled_from(['"', "'", ""]))).encode("utf-8")
            if draw(st.booleans()):
                part = part.swapcase()
        elif roll == 2:
            part = draw(st.sampled_from(BREAKERS))
        else:
            part = draw(st.binary(max_size=8))
        parts.append(part)
    return b"".join(parts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    doc=nastier_documents(),
    allowed=st.sets(st.sampled_from(["analytics", "ads", "social"])),
    cuts=st.lists(st.integers(0, 600), max_size=12),
)
def test_nastier_documents_leak_nothing_and_any_chunking_gives_the_same_bytes(
    doc: bytes, allowed: set[str], cuts: list[int]
) -> None:
    out, _ = run(doc, allowed=allowed)
    assert leaks(out, allowed) == []
    chunks = sorted({min(c, len(doc)) for c in cuts})
    assert run(doc, allowed=allowed, chunks=chunks)[0] == out


def test_a_ten_megabyte_page_in_small_chunks_is_rewritten_and_leaks_nothing() -> None:
    tracker = b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script>'
    filler = b"<p>" + b"caf\xc3\xa9 " * 2000 + b"</p>\n"
    doc = b"<html><head>" + tracker + b"</head><body>" + filler * (10_000_000 // len(filler) + 1) + tracker + b"</body>"
    assert len(doc) >= 10_000_000
    out, events = run(doc, chunks=list(range(65536, len(doc), 65536)))
    assert out.count(b"data-cookiegate-src=") == 2 and len(events) == 2
    assert b'<script async src="https://www.googletagmanager.com' not in out
