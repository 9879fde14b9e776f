"""Leaf helpers for HTTP over ASGI: request headers, the one Cookie parser, Set-Cookie, and plain responses."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Iterator
from http.cookies import SimpleCookie
from typing import Final

from ._types import Receive, Scope, Send

Headers = Iterable[tuple[bytes, bytes]]


def header_value(headers: Headers, name: bytes) -> str | None:
    """The first value of request header ``name`` (lower-case bytes) among ASGI headers, decoded as latin-1."""
    for key, value in headers:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def cookie_pairs(headers: Headers, only: bytes | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Every ``(name, value)`` the browser sent in its Cookie headers, in order; value quotes removed.

    With ``only``, a Cookie header that does not contain those bytes is not split (most requests carry
    none of a given cookie)."""
    for key, raw in headers:
        if key != b"cookie" or (only is not None and only not in raw):
            continue
        for part in raw.split(b";"):
            name, sep, value = part.strip().partition(b"=")
            if not sep or not name:
                continue
            value = value.strip()
            if len(value) >= 2 and value[:1] == b'"' and value[-1:] == b'"':
                value = value[1:-1]
            yield name, value


def read_cookie(headers: Headers, name: str) -> str | None:
    """The value of cookie ``name``, or None.

    Duplicated names with different values count as no cookie (``""``; fail closed): a browser sends both
    when a host cookie and a domain cookie coexist, and which one is current cannot be told.
    """
    needle = name.encode("latin-1")
    found: bytes | None = None
    for key, value in cookie_pairs(headers, needle):
        if key != needle:
            continue
        if found is not None and found != value:
            return ""
        found = value
    return None if found is None else found.decode("latin-1")


def cookie_names(headers: Headers) -> list[str]:
    """Names of every cookie the browser sent (for expiring withdrawn categories)."""
    return [name.decode("latin-1") for name, _ in cookie_pairs(headers)]


def build_set_cookie(
    name: str,
    value: str,
    *,
    max_age: int,
    domain: str | None,
    secure: bool,
    http_only: bool = True,
    path: str = "/",
) -> str:
    """A ``Set-Cookie`` header value (SameSite=Lax)."""
    morsel: SimpleCookie = SimpleCookie()
    morsel[name] = value
    m = morsel[name]
    m["path"] = path
    m["max-age"] = str(max_age)
    m["samesite"] = "Lax"
    if domain:
        m["domain"] = domain
    if secure:
        m["secure"] = True
    if http_only:
        m["httponly"] = True
    if max_age <= 0:
        m["expires"] = "Thu, 01 Jan 1970 00:00:00 GMT"
    return m.OutputString()


_SECURITY_HEADERS: Final = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class BadRequest(Exception):
    """A client error with a status, a message safe to show, and any headers the answer needs."""

    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra: list[tuple[bytes, bytes]] | None = None,
    *,
    head: bool = False,
) -> None:
    """Send a complete response."""
    headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        *_SECURITY_HEADERS,
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


async def respond_json(send: Send, status: int, data: object, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """Send JSON, never cached."""
    body = json.dumps(data, separators=(",", ":")).encode()
    await respond(send, status, body, b"application/json", [(b"cache-control", b"no-store"), *(extra or [])])


async def respond_error(send: Send, exc: BadRequest) -> None:
    """A plain-text client error (never reflects input as markup)."""
    await respond(
        send,
        exc.status,
        exc.message.encode("utf-8"),
        b"text/plain; charset=utf-8",
        [(b"cache-control", b"no-store"), *exc.headers],
    )


def refuse_declared_oversize(scope: Scope, limit: int) -> None:
    """413 before reading anything when ``Content-Length`` already says the body is over ``limit``."""
    declared = header_value(scope.get("headers", ()), b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared.strip()[:20]) > limit:
        raise BadRequest(413, f"request body larger than {limit} bytes")


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading them all."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest(400, "client disconnected")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BadRequest(413, f"request body larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def loggable(value: str, limit: int = 300) -> str:
    """``value`` (from a request) safe inside a log line: cut to ``limit`` characters, and every control or
    line-breaking character (newlines, ESC, U+2028 …) escaped as Python writes it, so it cannot start a line."""
    text = value[:limit]
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def safe_next(value: str | None) -> str:
    """A same-origin path to go back to, or ``/``: never ``//host``, ``/\\host``, a scheme, or control characters."""
    if not value or len(value) > 2048:
        return "/"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return "/"
    if not value.startswith("/") or value.startswith("//") or value.startswith("/\\") or "\\" in value[:3]:
        return "/"
    parts = urllib.parse.urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    # The value ends up in a Location header and in markup: percent-encode anything outside printable
    # ASCII so the header is plain ASCII (no latin-1 guessing, no stray bytes a proxy might mangle).
    return urllib.parse.quote(value, safe="".join(chr(c) for c in range(0x21, 0x7F)))


def query_next(scope: Scope) -> str:
    """The safe ``next`` path of the query string, ``/`` when absent or unsafe."""
    query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return safe_next((query.get("next") or ["/"])[0])
