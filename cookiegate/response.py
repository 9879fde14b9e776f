"""The gate every response passes through: headers first, then (for HTML) the streaming rewrite.

Pure ASGI send wrapper in the manner of Starlette's GZipMiddleware: the ``http.response.start`` message
is looked at, and only when it shows work to do (HTML; another document a browser renders: no Content-Type,
XHTML, SVG, XML; or a ``Set-Cookie``) is the decision computed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import anyio

from .categories import CATEGORIES
from .decision import Decision, strictest
from .gateway import Gateway, Visit
from .rewrite import Handlers, HtmlRewriter, Settings, Utf16Rewriter, attribute_urls, could_start_a_bom, utf16_codec

Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

decision_log = logging.getLogger("cookiegate.decision")

_NO_BODY_STATUS: Final = frozenset({204, 205, 304})
_PASS, _HEADERS_ONLY, _REWRITE = 0, 1, 2

#: What a response's Content-Type makes it for a browser: not a page, an HTML page (rewritten), or another
#: document a browser may render and run scripts in (not rewritten: an enforced policy instead).
NOT_A_PAGE, HTML_PAGE, OTHER_DOCUMENT = 0, 1, 2
#: Media types a browser sniffs (it renders HTML-looking bytes as HTML), and the XML ones it renders as
#: documents (XHTML, SVG, XML with a stylesheet); any ``+xml`` type counts too.
_SNIFFED_OR_XML: Final = frozenset(
    {b"", b"unknown/unknown", b"application/unknown", b"*/*", b"text/xml", b"application/xml"}
)


def page_kind(content_type: bytes | None) -> int:
    """:data:`NOT_A_PAGE`, :data:`HTML_PAGE` or :data:`OTHER_DOCUMENT` for a response's (last) Content-Type,
    ``None`` when it has none, which a browser sniffs: an HTML-looking body is rendered as HTML."""
    if content_type is None:
        return OTHER_DOCUMENT
    # Browsers strip the value's leading whitespace and read the type in any case.
    value = content_type.lstrip(b" \t")
    if value[:9].lower() == b"text/html":
        return HTML_PAGE
    media = bytes(value.split(b";", 1)[0].strip(b" \t").lower())  # bytes: a bytearray is no set member
    if media in _SNIFFED_OR_XML or media.endswith(b"+xml"):
        return OTHER_DOCUMENT
    return NOT_A_PAGE


def _cookie_name(set_cookie: bytes) -> str:
    return set_cookie.split(b"=", 1)[0].strip().decode("latin-1")


def merge_vary(headers: list[tuple[bytes, bytes]], names: tuple[str, ...]) -> None:
    """Add ``names`` to the ``Vary`` header without duplicating what is already there."""
    existing: list[str] = []
    rest = []
    for key, value in headers:
        if key == b"vary":
            existing.extend(v.strip() for v in value.decode("latin-1").split(",") if v.strip())
        else:
            rest.append((key, value))
    if "*" in existing:
        merged = ["*"]
    else:
        merged = existing + [n for n in names if n.lower() not in {e.lower() for e in existing}]
    headers[:] = rest + [(b"vary", ", ".join(merged).encode("latin-1"))]


def make_private(headers: list[tuple[bytes, bytes]]) -> None:
    """``Cache-Control: private`` so no shared cache mixes visitors (drops ``public`` and ``s-maxage``)."""
    directives: list[str] = []
    rest = []
    for key, value in headers:
        if key == b"cache-control":
            directives.extend(d.strip() for d in value.decode("latin-1").split(",") if d.strip())
        else:
            rest.append((key, value))
    kept = [d for d in directives if d.split("=")[0].strip().lower() not in ("public", "s-maxage", "private")]
    headers[:] = rest + [(b"cache-control", ", ".join(["private", *kept]).encode("latin-1"))]


_PER_VISITOR_VARY: Final = ("Cookie", "Sec-GPC")
#: What a response that set neither Vary nor Cache-Control gets: the two headers above, already made.
_PERSONAL_HEADERS: Final = (
    (b"vary", ", ".join(_PER_VISITOR_VARY).encode("latin-1")),
    (b"cache-control", b"private"),
)


def _personalize(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``merge_vary`` for Cookie and Sec-GPC and ``make_private`` in one pass (lower-case names)."""
    rest: list[tuple[bytes, bytes]] = []
    for header in headers:
        key = header[0]
        if key == b"vary" or key == b"cache-control":
            # The app set its own: merged by the general forms (rare; most pages set neither).
            merge_vary(headers, _PER_VISITOR_VARY)
            make_private(headers)
            return headers
        rest.append(header)
    rest.extend(_PERSONAL_HEADERS)
    return rest


def _page_headers(raw: Any) -> tuple[list[tuple[bytes, bytes]], bool, bytes] | None:
    """An uncompressed page's headers as the gate sends them, in one pass, whether a length was sent, and
    its (last) Content-Type.

    Names lower-cased, the length and strong validator dropped (the body changes), ``Vary: Cookie,
    Sec-GPC`` and ``Cache-Control: private`` added: what :func:`_personalize` and the general path give.
    ``None`` when the page needs that general path: the app set its own Vary or Cache-Control (merged),
    a Content-Encoding (a compressed body is not rewritten and keeps its length), or a Link or Refresh
    header (which may make the browser fetch from a vendor: checked there)."""
    headers: list[tuple[bytes, bytes]] = []
    has_length = False
    content_type = b""
    for key, value in raw:
        key = key.lower()
        if key == b"content-length":
            has_length = True
        elif (
            key == b"vary" or key == b"cache-control" or key == b"content-encoding" or key == b"link"
            or key == b"refresh"
        ):
            return None
        elif key != b"etag":
            if key == b"content-type":
                content_type = value
            headers.append((key, value))
    headers.extend(_PERSONAL_HEADERS)
    return headers, has_length, content_type


def split_link_header(value: bytes) -> list[bytes]:
    """A ``Link`` header's link-values: split at the commas outside ``<...>`` and quoted strings (RFC 8288)."""
    parts: list[bytes] = []
    start, in_target, quoted, escaped = 0, False, False, False
    for i, c in enumerate(value):
        if quoted:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                quoted = False
        elif in_target:
            in_target = c != 0x3E  # ">"
        elif c == 0x3C:  # "<"
            in_target = True
        elif c == 0x22:
            quoted = True
        elif c == 0x2C:  # ","
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [part.strip(b" \t") for part in parts if part.strip(b" \t")]


_LINK_TARGET: Final = re.compile(rb"[ \t]*<([^>]*)>")
_IMAGESRCSET: Final = re.compile(
    rb';[ \t]*imagesrcset[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;]*))', re.IGNORECASE
)


def link_fetches(link_value: bytes) -> list[str] | None:
    """What one link-value of a ``Link`` header may make a browser fetch or contact (preload, prefetch,
    preconnect, modulepreload, a stylesheet): its target and its ``imagesrcset`` candidates, as URLs.
    ``None`` when it does not start with ``<target>`` (a browser ignores it)."""
    target = _LINK_TARGET.match(link_value)
    if target is None:
        return None
    urls = attribute_urls(b"link", b"href", target.group(1))
    for found in _IMAGESRCSET.finditer(link_value, target.end()):
        srcset = found.group(1) if found.group(1) is not None else found.group(2)
        urls.extend(attribute_urls(b"link", b"imagesrcset", srcset.replace(b'\\"', b'"')))
    return urls


def scrub_hosts(data: bytes, hosts: tuple[bytes, ...], codec: str | None = None) -> bytes:
    """Fail-safe when the rewriter itself failed: make every refused vendor host unreachable in the bytes
    (of a page in ``codec`` when it is not ASCII-compatible: UTF-16)."""
    blocked = b"cookiegate-blocked.invalid"
    if codec is not None:
        hosts = tuple(host.decode("ascii").encode(codec) for host in hosts)
        blocked = blocked.decode("ascii").encode(codec)
    for host in hosts:
        data = re.sub(re.escape(host), blocked, data, flags=re.IGNORECASE)
    return data


class ResponseGate:
    """Per-request send wrapper. Holds all per-request state; the middleware keeps none."""

    # Per-request state starts as class-level defaults: a response that passes through (most of them) sets
    # four attributes only.
    mode = _PASS
    #: The start message held back until the body's new length is known (or a preview's header is added).
    start: Message | None = None
    rewriter: HtmlRewriter | Utf16Rewriter | None = None
    failed = False
    decision: Decision | None = None
    refused_hosts: tuple[bytes, ...] = ()
    #: An admin preview's rewritten body, held until the end (made for the first piece).
    held: list[bytes] | None = None
    #: The page's (last) Content-Type (set when the body is to be rewritten).
    content_type = b""
    #: The page's codec when it is UTF-16 (None: ASCII-compatible, read as it is).
    codec: str | None = None
    #: The body's first bytes, kept while they could still be the start of a byte order mark.
    lead = b""

    def __init__(self, gateway: Gateway, visit: Visit, send: Send, scope: MutableMapping[str, Any]) -> None:
        self.gateway = gateway
        self.visit = visit
        self.send = send
        self.scope = scope  # the rest is worked out only for responses that need it (most need nothing)

    def __call__(self, message: Message) -> Awaitable[None]:
        # Not a coroutine itself: it returns the awaitable that does the work (the app awaits what ``send``
        # returns), so a message that passes through costs one call, not one more coroutine frame. Most
        # responses (assets, APIs) pass through whole; this is the only code they meet after the start.
        kind = message["type"]
        if kind == "http.response.start":
            return self._on_start(message)
        if self.mode != _REWRITE:
            return self.send(message)
        if kind == "http.response.body":
            return self._on_body(message.get("body", b""), bool(message.get("more_body", False)))
        if kind == "http.response.pathsend":
            return self._on_pathsend(message["path"])
        if kind == "http.response.zerocopysend":
            return self._on_zerocopysend(message)
        return self.send(message)

    def _decide(self) -> Decision:
        if self.decision is None:
            self.decision = self.visit.decision
        return self.decision

    def _on_start(self, message: Message) -> Awaitable[None]:
        content_type = None
        has_cookie = False
        for key, value in message.get("headers", ()):
            # ASGI asks for lower-case names, but not every framework complies (Django sends "Content-Type").
            # The length is compared first: most names are neither, and need no lower-cased copy.
            size = len(key)
            if size == 12 and key.lower() == b"content-type":
                content_type = value
            elif size == 10 and key.lower() == b"set-cookie":
                has_cookie = True
        kind = page_kind(content_type)
        if kind == NOT_A_PAGE and not has_cookie:
            # The common case for assets and APIs: nothing computed, the message goes out as it came.
            return self.send(message)
        return self._gate_start(message, is_html=kind == HTML_PAGE, has_cookie=has_cookie)

    async def _gate_start(self, message: Message, is_html: bool, has_cookie: bool) -> None:
        if type(message) is not dict:
            # ASGI messages are dicts, but a mapping that is not one may be read-only: the gate sends its own.
            message = dict(message)
        raw_headers = message.get("headers", ())
        status = int(message.get("status", 200))
        if not is_html and not has_cookie and not self._rendered(status):
            # Another document kind (no Content-Type, XML) that no browser renders here: nothing to add.
            await self.send(message)
            return
        decision = self._decide()
        if is_html and not has_cookie and status == 200 and self.scope.get("method") != "HEAD":
            page = _page_headers(raw_headers)
            if page is not None:
                # The common page: its headers made in one pass (what the general steps below give).
                headers, has_length, self.content_type = page
                csp = self._csp_header(decision, force_enforce=False)
                if csp is not None:
                    headers.append(csp)
                if self._begin_rewrite(message, headers, has_length):
                    await self.send(message)
                return
        headers = [(k.lower(), v) for k, v in raw_headers]
        if has_cookie:
            headers = self._filter_cookies(headers, decision)
        if any(k == b"link" or k == b"refresh" for k, _ in headers):
            headers = self._filter_fetching_headers(headers, decision)
        # Which cookies survive (and, for a page, which tags) depends on the visitor's consent: a shared
        # cache must not hand one visitor's page or (tracker) Set-Cookie to another.
        headers = _personalize(headers)
        if not is_html:
            content_type = next((v for k, v in reversed(headers) if k == b"content-type"), None)
            if page_kind(content_type) == OTHER_DOCUMENT and self._rendered(status):
                # A document a browser may render (an HTML-looking body without a Content-Type, which it
                # sniffs; XHTML, SVG, XML) and that is not rewritten (an XML parser would refuse the
                # rewriter's unquoted attributes): the enforced policy keeps refused vendors out instead.
                csp = self._csp_header(decision, force_enforce=True)
                if csp is not None:
                    headers.append(csp)
            message["headers"] = headers
            await self.send(message)
            return
        encoding = next((v for k, v in reversed(headers) if k == b"content-encoding"), b"")
        encoded = encoding.strip().lower() not in (b"", b"identity")
        csp = self._csp_header(decision, force_enforce=encoded)
        if csp is not None:
            headers.append(csp)
        if self.scope.get("method") == "HEAD" or status in _NO_BODY_STATUS or status < 200 or encoded:
            if encoded:
                # We cannot rewrite a compressed body; the enforced CSP above keeps refused vendors out.
                # Compress outside cookiegate (GZipMiddleware wrapping it) to get both.
                self.gateway.errors.error(
                    "compressed-html",
                    "cookiegate: compressed HTML passed through unrewritten (CSP enforced)",
                    exc_info=False,
                )
            else:
                headers = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
            message["headers"] = headers
            await self.send(message)
            return
        # The body changes: its length and strong validator no longer hold.
        self.content_type = next((v for k, v in reversed(headers) if k == b"content-type"), b"")
        has_length = any(k == b"content-length" for k, _ in headers)
        kept = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
        if self._begin_rewrite(message, kept, has_length):
            await self.send(message)

    def _rendered(self, status: int) -> bool:
        """Whether a browser may render this response's body as a document (not a HEAD, a redirect or a
        status without a body)."""
        return (
            self.scope.get("method") != "HEAD" and 200 <= status and not 300 <= status < 400
            and status not in _NO_BODY_STATUS
        )

    def _begin_rewrite(self, message: Message, headers: list[tuple[bytes, bytes]], has_length: bool) -> bool:
        """Set the page's headers and start rewriting; True when the start message is to leave now."""
        message["headers"] = headers
        self.mode = _REWRITE  # the rewriter is built with the first body bytes, after a streamed start left
        if not has_length and self.visit.preview is None:
            # The app sent no length (a stream, or framing left to the server): there is none to correct,
            # so the headers leave now and time to first byte stays the app's own, framed as the app framed
            # it. An admin preview still waits: it adds what fired as a header at the end.
            return True
        self.start = message
        return False

    def _filter_cookies(self, headers: list[tuple[bytes, bytes]], decision: Decision) -> list[tuple[bytes, bytes]]:
        registry = self.gateway.registry
        own = self.gateway.config.cookie_name
        kept = []
        for key, value in headers:
            if key == b"set-cookie":
                name = _cookie_name(value)
                if name != own:
                    try:
                        category = registry.category_for_cookie(name)
                    except Exception:
                        self.gateway.errors.error("cookie-classifier", "cookiegate: cookie classification failed")
                        # Unknown because the classifier failed (not because no vendor claims it): drop
                        # it unless the visitor allows every category.
                        if all(decision.allows(c) for c in CATEGORIES):
                            kept.append((key, value))
                        continue
                    if category is not None and not decision.allows(category):
                        continue
            kept.append((key, value))
        return kept

    def _filter_fetching_headers(
        self, headers: list[tuple[bytes, bytes]], decision: Decision
    ) -> list[tuple[bytes, bytes]]:
        """Drop what in ``Link`` and ``Refresh`` headers would reach a refused vendor: a preload, prefetch or
        preconnect of a vendor's script, pixel or host, or a refresh to it. A browser acts on these itself,
        before and whatever the body says (and the default CSP only reports)."""
        registry = self.gateway.registry

        def refused(urls: list[str] | None) -> bool:
            for url in urls or ():
                vendor = registry.vendor_for_url(url)
                if vendor is not None and not decision.allows(vendor.category):
                    return True
            return False

        kept: list[tuple[bytes, bytes]] = []
        for key, value in headers:
            try:
                if key == b"link":
                    links = [link for link in split_link_header(value) if not refused(link_fetches(link))]
                    if not links:
                        continue
                    value = b", ".join(links)
                elif key == b"refresh" and refused(attribute_urls(b"meta", b"content", value)):
                    continue
            except Exception:
                # Never fail the page: a header that cannot be read for vendors is not sent.
                self.gateway.errors.error("fetching-header", "cookiegate: could not read a Link/Refresh header")
                continue
            kept.append((key, value))
        return kept

    def _csp_header(self, decision: Decision, *, force_enforce: bool) -> tuple[bytes, bytes] | None:
        mode = self.gateway.config.csp_mode
        if mode == "off" and not force_enforce:
            return None
        name = (
            b"content-security-policy"
            if (mode == "enforce" or force_enforce)
            else b"content-security-policy-report-only"
        )
        try:
            return name, self.gateway.csp.header_value(decision.allowed)
        except Exception:
            self.gateway.errors.error("csp", "cookiegate: CSP could not be built")
            return None

    @property
    def next_path(self) -> str:
        """Where the banner's forms send the visitor back to: this request's path and query."""
        qs = self.scope.get("query_string", b"")
        path = self.scope.get("path", "/") or "/"
        return str(path) + ("?" + qs.decode("latin-1") if qs else "")

    def _make_rewriter(self, decision: Decision) -> HtmlRewriter:
        renderer = self.gateway.renderer
        next_path = self.next_path

        visit = self.visit

        def placeholder(vendor: Any, category: str) -> bytes:
            return renderer.placeholder(visit, vendor, category, next_path=next_path).encode("utf-8")

        return HtmlRewriter(
            Settings(self.gateway.classifier, decision.permissions),
            Handlers(
                head=renderer.head_bytes(visit, decision),
                body=renderer.body_bytes(visit, decision, next_path=next_path),
                placeholder=placeholder,
            ),
        )

    def _fail_safe(self, decision: Decision | None = None) -> None:
        self.failed = True
        self.rewriter = None
        decision = decision or self._decide()
        registry = self.gateway.registry
        hosts: set[bytes] = set()
        for vendor in registry.vendors:
            if decision.allows(vendor.category):
                continue
            hosts.update(h.encode("ascii", "ignore") for h in vendor.hosts)
            # Shared hosts (googletagmanager.com, facebook.com) appear only in path-level rules: take the host part.
            for pattern in vendor.url_patterns:
                head = pattern.split("/", 1)[0]
                if "." in head and "*" not in head:
                    hosts.add(head.encode("ascii", "ignore"))
        self.refused_hosts = tuple(sorted(hosts, key=len, reverse=True))

    def _rewrite(self, data: bytes, last: bool) -> bytes:
        if self.rewriter is None and not self.failed:
            if self.lead:
                data, self.lead = self.lead + data, b""
            if len(data) < 3 and not last and could_start_a_bom(data):
                # A browser reads the page by its byte order mark first: wait until it is whole.
                self.lead = data
                return b""
            try:
                found = utf16_codec(data, self.content_type)
                if found is not None:
                    self.codec = found[0]  # known before anything can fail: the fail-safe scrub needs it
                rewriter = self._make_rewriter(self._decide())
                # UTF-16: no tag is visible in its bytes; its text is rewritten, then encoded back.
                self.rewriter = rewriter if found is None else Utf16Rewriter(rewriter, *found)
            except Exception:
                self.gateway.errors.error(
                    "rewriter-init", "cookiegate: could not build the rewriter; fail-safe scrub"
                )
                # No banner or notice can reach this visitor, so nothing optional may fire, whatever the regime.
                self._fail_safe(strictest())
        if not self.failed and self.rewriter is not None:
            # What earlier pieces left with the rewriter (a tag or script split across them): if it fails
            # now, that goes out too, scrubbed with this piece, so the page loses nothing.
            held = self.rewriter.held_back()
            try:
                if not last:
                    return self.rewriter.feed(data)
                # A whole page in one message is the common case, and a page seen before is replayed.
                out = self.rewriter.document(data)
                self._log_events()
                return out
            except Exception:
                self.gateway.errors.error(
                    "rewriter", "cookiegate: the HTML rewriter failed; fail-safe scrub for the rest"
                )
                # Our neutralization can no longer be trusted: nothing optional fires, whatever was allowed.
                self._fail_safe(strictest())
                data = held + data
        return scrub_hosts(data, self.refused_hosts, self.codec)

    def _log_events(self) -> None:
        if self.rewriter is None:
            return
        decision = self._decide()
        counters = self.gateway.counters
        country, regime = decision.location.country, decision.regime.key
        if self.visit.preview is None:  # admin previews and scans must not skew the marketers' counts
            counters.tags(self.rewriter.outcomes(), country=country, regime=regime)
        if not decision_log.isEnabledFor(logging.DEBUG):
            return
        for event in self.rewriter.events:
            decision_log.debug(
                "tag=%s category=%s fired=%s country=%s regime=%s",
                event.vendor_id,
                event.category,
                event.fired,
                decision.location.country or "-",
                decision.regime.key,
            )

    async def _on_body(self, body: bytes, more: bool) -> None:
        if more and self.start is not None and self.visit.preview is None:
            # A streamed body: its length is unknown anyway, so the headers leave now, before the first
            # chunk is rewritten; time to first byte stays the app's own.
            start, self.start = self.start, None
            await self.send(start)
        out = self._rewrite(body, last=not more)
        if self.visit.preview is not None and self.start is not None:
            # Admin preview: hold the page so the start message can carry what fired (Cookiegate-Decision).
            if self.held is None:
                self.held = []
            self.held.append(out)
            if more:
                return
            out = b"".join(self.held)
            self.held = None
            self.start["headers"] = [*self.start["headers"], (b"cookiegate-decision", self._decision_header())]
        if self.start is not None:
            start, self.start = self.start, None
            if not more:
                start["headers"] = [*start["headers"], (b"content-length", str(len(out)).encode("ascii"))]
            await self.send(start)
        if out or not more:
            await self.send({"type": "http.response.body", "body": out, "more_body": more})

    def _decision_header(self) -> bytes:
        """``vendor=fired|blocked`` for every tag the rewriter saw, then the allowed categories."""
        seen: dict[str, str] = {}
        for event in self.rewriter.events if self.rewriter is not None else ():
            name = event.vendor_id or f"explicit:{event.category}"
            # A vendor counts as fired only if none of its tags was blocked.
            if seen.get(name) != "blocked":
                seen[name] = "fired" if event.fired else "blocked"
        parts = [f"{name}={state}" for name, state in sorted(seen.items())]
        parts.append("allowed=" + "+".join(sorted(self._decide().allowed)))
        return ", ".join(parts).encode("latin-1", "replace")

    async def _on_read_body(self, read: Callable[[], Awaitable[bytes]], more_after: bool = False) -> None:
        # A body the server was to read from a file, read here piece by piece (``read`` gives b"" at its end)
        # and rewritten like any other; one piece is read ahead so the last goes out with more_body false
        # (true when the app said more follows).
        chunk = await read()
        while True:
            following = await read()
            await self._on_body(chunk, more=bool(following) or more_after)
            if not following:
                break
            chunk = following

    async def _on_pathsend(self, path: str) -> None:
        # An HTML file sent by path: read it ourselves so it is rewritten like any other body.
        async with await anyio.open_file(path, "rb") as fh:
            await self._on_read_body(lambda: fh.read(65536))

    async def _on_zerocopysend(self, message: Message) -> None:
        # A page the server was to copy from a file straight to the socket (the zero-copy send extension)
        # would leave unrewritten: read it ourselves, as the server would have (from ``offset``, or from the
        # file's current position, which then advances; ``count`` bytes, or to the end), and rewrite it like
        # any other body.
        fd = message["file"].fileno()
        offset: int | None = message.get("offset")
        left: int | None = message.get("count")
        more_after = bool(message.get("more_body", False))

        def read() -> bytes:
            nonlocal offset, left
            size = 65536 if left is None else min(65536, left)
            if size <= 0:
                return b""
            data = os.read(fd, size) if offset is None else os.pread(fd, size, offset)
            if offset is not None:
                offset += len(data)
            if left is not None:
                left -= len(data)
            return data

        await self._on_read_body(lambda: anyio.to_thread.run_sync(read), more_after)
