"""The one reading of a URL as a browser's URL parser reads it, as far as finding the host it would contact.

Every place that asks "which vendor would this URL reach" (the tag registry, the HTML rewriter, the gate's
``Link`` and ``Refresh`` headers) reads URLs here, so no two of them can disagree with each other or drift
from the browser. The rules are the WHATWG URL Standard's (https://url.spec.whatwg.org/#concept-basic-url-parser)
for the parts that decide the host: tabs and newlines removed, C0 controls and spaces trimmed, ``\\`` read as
``/``, any number of slashes after a special scheme, the last ``@`` ending the credentials, the host
percent-decoded and mapped by UTS #46 (https://url.spec.whatwg.org/#concept-domain-to-ascii).
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote

import idna

#: Browsers strip leading and trailing C0 controls and spaces, and remove tabs and newlines anywhere.
_C0_AND_SPACE: Final = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE: Final = str.maketrans("", "", "\t\n\r")
_SCHEME: Final = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
#: Schemes whose URLs name a host; every other one (data:, javascript:, blob:, mailto:, file:) reaches no vendor.
_HOST_SCHEMES: Final = frozenset({"http", "https", "ws", "wss", "ftp"})
_AUTHORITY_END: Final = re.compile(r"[/?#]")
#: https://infra.spec.whatwg.org/#ascii-whitespace and #ascii-digit
_ASCII_WHITESPACE: Final = "\t\n\f\r "
_DIGITS: Final = "0123456789"
#: https://url.spec.whatwg.org/#forbidden-domain-code-point: a host holding one is no host at all.
_FORBIDDEN_DOMAIN: Final = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
#: A URL taken as written: http(s) or protocol-relative, no userinfo, no percent-encoded, bracketed or forbidden
#: code point in the host, no backslash, whitespace or control character anywhere.
_PLAIN_URL: Final = re.compile(
    r"(?:[hH][tT][tT][pP][sS]?:)?//([^/\\?#@%\[\]\x00-\x20<>^|\x7f]+)((?:[/?#][^\\\x00-\x20]*)?)\Z"
)


def normalize_host(host: str) -> str:
    """The host a browser resolves: percent-decoded, mapped by UTS #46, lower-cased, trailing dot dropped;
    ``""`` for a host the browser refuses (https://url.spec.whatwg.org/#concept-host-parser).

    Code points UTS #46 ignores (U+00AD, U+2064, U+180F, U+1BCA0 …) vanish and full-width letters and dots
    become ASCII, as in Chromium; a label left non-ASCII is written as its ``xn--`` form.
    """
    if "%" in host:
        host = unquote(host)
    if host.isascii():
        host = host.lower()
    else:
        try:
            # https://www.unicode.org/reports/tr46/#Processing (nontransitional, no STD3 rules: the URL Standard's)
            host = _to_ascii(idna.uts46_remap(host, std3_rules=False, transitional=False))
        except idna.IDNAError:
            # A code point this table disallows (the browser's, newer, may ignore it): read as if it were ignored,
            # so a vendor's host written around it is still found (at worst something unreachable is blocked).
            host = "".join(c for c in host if c.isascii()).lower()
    return "" if _FORBIDDEN_DOMAIN.search(host) else host.rstrip(".")


def _to_ascii(mapped: str) -> str:
    labels = []
    for label in mapped.split("."):
        if not label.isascii():
            try:
                label = "xn--" + label.encode("punycode").decode("ascii")
            except UnicodeError:
                pass
        labels.append(label)
    return ".".join(labels)


def remove_dot_segments(path_and_query: str) -> str:
    """Resolve ``.``/``..`` segments (also ``%2e``) so ``/sdk.js/../fbevents.js`` cannot pass as sdk.js."""
    path, sep, query = path_and_query.partition("?")
    if "%2e" in path:
        path = path.replace("%2e", ".")  # https://url.spec.whatwg.org/#single-dot-path-segment
    if "/." in path:
        segments = path.split("/")[1:]
        out: list[str] = []
        last = len(segments) - 1
        for index, segment in enumerate(segments):
            if segment in (".", ".."):
                if segment == ".." and out:
                    out.pop()
                if index == last:
                    out.append("")
            else:
                out.append(segment)
        path = "/" + "/".join(out)
    return path + sep + query


def _clean(url: str) -> str:
    s = url.strip(_C0_AND_SPACE)
    if "\t" in s or "\n" in s or "\r" in s:
        s = s.translate(_TAB_NEWLINE)
    if "\\" in s:
        s = s.replace("\\", "/")  # for the special schemes (the only ones with a vendor host) "\" is "/"
    return s


def _read(url: str) -> tuple[str, str | None, str] | None:
    """``(scheme and colon or "", host, the rest)`` of a URL; the host is ``None`` for a relative URL (the rest
    is then the whole cleaned URL); ``None`` stands for a URL that reaches no host (``data:``, ``javascript:``)."""
    s = _clean(url)
    match = _SCHEME.match(s)
    if match is not None:
        scheme = match.group(1).lower()
        if scheme not in _HOST_SCHEMES:
            return None
        # "https:host/x" and "https:///host/x" both reach host: a special scheme skips any number of slashes.
        rest = s[match.end() :].lstrip("/")
        prefix = scheme + ":"
    elif s.startswith("//"):
        rest = s.lstrip("/")
        prefix = ""
    else:
        return "", None, s
    end = _AUTHORITY_END.search(rest)
    authority, tail = (rest, "") if end is None else (rest[: end.start()], rest[end.start() :])
    host = authority.rpartition("@")[2]
    if host.startswith("["):
        host = host.partition("]")[0] + "]"  # an IPv6 literal: no vendor, but not empty either
    else:
        host = normalize_host(host.partition(":")[0])
    return prefix, host, tail


def split_url(url: str) -> tuple[str, str] | None:
    """``(host, path_and_query)`` of a URL as a browser would fetch it, lower-cased, fragment dropped.

    ``host`` is ``""`` for a relative URL. ``None`` means the URL cannot reach a vendor host (``data:``,
    ``javascript:``, an empty host).
    """
    fast = _PLAIN_URL.match(url)
    if fast is not None:
        host = fast.group(1).partition(":")[0]
        host = host.lower().rstrip(".") if host.isascii() else normalize_host(host)
        if not host:
            return None
        path = fast.group(2).partition("#")[0].lower()
    else:
        read = _read(url)
        if read is None:
            return None
        _scheme, read_host, path = read
        if read_host == "":
            return None
        host = read_host or ""
        path = path.partition("#")[0].lower()
    if not path.startswith("/"):
        path = "/" + path  # "https://host?x" has the path "/"
    if "/." in path or "%2e" in path:
        path = remove_dot_segments(path)
    return host, path


def normalize_url(url: str) -> str:
    """The URL with its host as a browser reads it (``scheme://host/rest`` or ``//host/rest``, no credentials or
    port), for a classifier that matches hosts; a relative or host-less URL comes back cleaned only."""
    read = _read(url)
    if read is None or read[1] == "":
        return _clean(url)  # no host is reached: nothing for a classifier to find either
    scheme, host, rest = read
    return rest if host is None else f"{scheme}//{host}{rest}"


def refresh_url(value: str) -> str | None:
    """The URL a ``<meta http-equiv=refresh>`` content or a ``Refresh`` header sends the browser to, or ``None``
    when it names none (a reload of the same page, or a value the browser ignores).

    https://html.spec.whatwg.org/multipage/semantics.html#shared-declarative-refresh-steps, step by step: the
    delay, then ``;``, ``,`` or whitespace, then the URL, with ``url=`` and quotes optional.
    """
    n = len(value)
    i = _skip_whitespace(value, 0)
    start = i
    while i < n and value[i] in _DIGITS:
        i += 1
    if i == start and (i >= n or value[i] != "."):
        return None
    while i < n and (value[i] in _DIGITS or value[i] == "."):
        i += 1
    if i < n:
        if value[i] not in ";," and value[i] not in _ASCII_WHITESPACE:
            return None
        i = _skip_whitespace(value, i)
        if i < n and value[i] in ";,":
            i += 1
        i = _skip_whitespace(value, i)
    if i >= n:
        return None
    remainder = value[i:]
    if value[i] in "Uu":
        # "url" in any case, whitespace, "=", whitespace; anything else and the remainder is the URL.
        if value[i + 1 : i + 2] not in ("R", "r") or value[i + 2 : i + 3] not in ("L", "l"):
            return remainder
        i = _skip_whitespace(value, i + 3)
        if value[i : i + 1] != "=":
            return remainder
        i = _skip_whitespace(value, i + 1)
    quote = value[i : i + 1]
    if quote in ("'", '"'):
        url = value[i + 1 :]
        return url[: url.index(quote)] if quote in url else url
    return value[i:]


def _skip_whitespace(value: str, i: int) -> int:
    n = len(value)
    while i < n and value[i] in _ASCII_WHITESPACE:
        i += 1
    return i
