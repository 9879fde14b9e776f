"""The send wrapper every response passes through: headers first, then (for HTML) the streaming rewrite.

Pure ASGI, in the manner of Starlette's ``GZipResponder``: the ``http.response.start`` message is looked at,
and only when it shows work to do (HTML; another document a browser renders: no Content-Type, XHTML, SVG,
XML; or a ``Set-Cookie``) is the decision computed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Sequence
from typing import Final

from .._http import header_value
from .._runtime import Gateway
from .._types import Headers, Message, Scope, Send
from .._visit import Visit
from ..policy._catalog import Vendor
from ..policy._decision import Decision, strictest
from ..policy._outcomes import decision_header
from ..rewrite import (
    Handlers,
    HtmlRewriter,
    PageResult,
    Settings,
    TagEvent,
    Utf16Rewriter,
    could_start_a_bom,
    replay_remembered,
    url_refusal,
    utf16_codec,
)
from ._files import send_path, send_zerocopy
from ._headers import (
    HTML_PAGE,
    NOT_A_PAGE,
    OTHER_DOCUMENT,
    filter_cookies,
    filter_fetching,
    page_kind,
    personalize,
)

decision_log = logging.getLogger("cookiegate.decision")

_NO_BODY_STATUS: Final = frozenset({204, 205, 304})
_PASS, _REWRITE = 0, 1
#: Where a refused vendor's host goes when the rewriter itself failed (see :func:`scrub_hosts`).
_BLOCKED_HOST: Final = b"cookiegate-blocked.invalid"


def scrub_hosts(data: bytes, hosts: tuple[bytes, ...], codec: str | None = None) -> bytes:
    """Fail-safe when the rewriter itself failed: make every refused vendor host unreachable in the bytes (of a
    page in ``codec`` when it is not ASCII-compatible: UTF-16)."""
    blocked = _BLOCKED_HOST
    if codec is not None:
        hosts = tuple(host.decode("ascii").encode(codec) for host in hosts)
        blocked = blocked.decode("ascii").encode(codec)
    for host in hosts:
        data = re.sub(re.escape(host), blocked, data, flags=re.IGNORECASE)
    return data


class ResponseGate:
    """The per-request send wrapper; it holds the request's state, the middleware none."""

    __slots__ = ("gateway", "visit", "send", "scope", "mode", "start", "rewriter", "replayed", "failed", "decision",
                 "refused_hosts", "held", "content_type", "codec", "lead")

    def __init__(self, gateway: Gateway, visit: Visit, send: Send, scope: Scope) -> None:
        self.gateway = gateway
        self.visit = visit
        self.send = send
        self.scope = scope
        self.mode = _PASS
        # The rest is set when gating starts (_begin): most responses (assets, APIs) pass through untouched.

    def _begin(self) -> None:
        #: The start message held back until the body's new length is known (or a preview's header is added).
        self.start: Message | None = None
        self.rewriter: HtmlRewriter | Utf16Rewriter | None = None
        #: A page seen before, replayed whole without a rewriter: what it became (its events and outcomes).
        self.replayed: PageResult | None = None
        self.failed = False
        self.decision: Decision | None = None
        self.refused_hosts: tuple[bytes, ...] = ()
        #: An admin preview's rewritten body, held until the end.
        self.held: list[bytes] | None = None
        #: The page's (last) Content-Type (set when the body is to be rewritten).
        self.content_type = b""
        #: The page's codec when it is UTF-16 (None: ASCII-compatible, read as it is).
        self.codec: str | None = None
        #: The body's first bytes, kept while they could still be the start of a byte order mark.
        self.lead = b""

    def __call__(self, message: Message) -> Awaitable[None]:
        # Not a coroutine itself: it returns the awaitable that does the work (the app awaits what ``send``
        # returns), so a message that passes through costs one call, not one more coroutine frame.
        kind = message["type"]
        if kind == "http.response.start":
            return self._on_start(message)
        if self.mode != _REWRITE:
            return self.send(message)
        if kind == "http.response.body":
            return self._on_body(message.get("body", b""), bool(message.get("more_body", False)))
        if kind == "http.response.pathsend":
            return send_path(message["path"], self._on_body)
        if kind == "http.response.zerocopysend":
            return send_zerocopy(message, self._on_body)
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
        self._begin()
        if type(message) is not dict:
            # ASGI messages are dicts, but a mapping that is not one may be read-only: the gate sends its own.
            message = dict(message)
        status = int(message.get("status", 200))
        if not is_html and not has_cookie and not self._rendered(status):
            # Another document kind (no Content-Type, XML) that no browser renders here: nothing to add.
            await self.send(message)
            return
        decision = self._decide()
        headers: Headers = [(k.lower(), v) for k, v in message.get("headers", ())]
        # One pass for what the rest asks of the headers (the filters below leave these ones as they are).
        content_type = encoding = None
        has_length = fetching = False
        for key, value in headers:
            if key == b"content-type":
                content_type = value
            elif key == b"content-encoding":
                encoding = value
            elif key == b"content-length":
                has_length = True
            elif key == b"link" or key == b"refresh":
                fetching = True
        if has_cookie:
            headers = filter_cookies(headers, self.gateway.registry.category_for_cookie,
                                     self.gateway.config.cookie_name, decision.permissions, self._cookie_error)
        if fetching:
            headers = filter_fetching(headers, url_refusal(self._settings(decision)), self._header_error)
        # Which cookies survive (and, for a page, which tags) depends on the visitor's consent: a shared cache
        # must not hand one visitor's page or (tracker) Set-Cookie to another.
        headers = personalize(headers)
        if not is_html:
            if page_kind(content_type) == OTHER_DOCUMENT and self._rendered(status):
                # A document a browser may render (an HTML-looking body without a Content-Type, which it sniffs;
                # XHTML, SVG, XML) and that is not rewritten (an XML parser would refuse the rewriter's unquoted
                # attributes): the enforced policy keeps refused vendors out instead.
                self._add_csp(headers, decision, force_enforce=True)
            message["headers"] = headers
            await self.send(message)
            return
        encoded = encoding is not None and encoding.strip().lower() not in (b"", b"identity")
        self._add_csp(headers, decision, force_enforce=encoded)
        if self.scope.get("method") == "HEAD" or status in _NO_BODY_STATUS or status < 200 or encoded:
            if encoded:
                # A compressed body is not rewritten; the enforced CSP above keeps refused vendors out. Compress
                # outside cookiegate (GZipMiddleware wrapping it) to get both.
                self.gateway.errors.error(
                    "compressed-html", "cookiegate: compressed HTML passed through unrewritten (CSP enforced)",
                    exc_info=False,
                )
            else:
                headers = [(k, v) for k, v in headers if k not in (b"content-length", b"etag")]
            message["headers"] = headers
            await self.send(message)
            return
        # The body changes: its length and strong validator no longer hold.
        self.content_type = content_type or b""
        kept = [(k, v) for k, v in headers if k != b"content-length" and k != b"etag"]
        if self._begin_rewrite(message, kept, has_length):
            await self.send(message)

    def _cookie_error(self) -> None:
        self.gateway.errors.error("cookie-classifier", "cookiegate: cookie classification failed")

    def _header_error(self) -> None:
        self.gateway.errors.error("fetching-header", "cookiegate: could not read a Link/Refresh header")

    def _rendered(self, status: int) -> bool:
        """Whether a browser may render this response's body as a document (not a HEAD, a redirect or a status
        without a body)."""
        return (
            self.scope.get("method") != "HEAD" and 200 <= status and not 300 <= status < 400
            and status not in _NO_BODY_STATUS
        )

    def _begin_rewrite(self, message: Message, headers: Headers, has_length: bool) -> bool:
        """Set the page's headers and start rewriting; True when the start message is to leave now."""
        message["headers"] = headers
        self.mode = _REWRITE  # the rewriter is built with the first body bytes, after a streamed start left
        if not has_length and self.visit.preview is None:
            # The app sent no length (a stream, or framing left to the server): there is none to correct, so
            # the headers leave now and time to first byte stays the app's own. An admin preview still waits:
            # it adds what fired as a header at the end.
            return True
        self.start = message
        return False

    def _add_csp(self, headers: Headers, decision: Decision, *, force_enforce: bool) -> None:
        mode = self.gateway.config.csp_mode
        if mode == "off" and not force_enforce:
            return
        enforce = mode == "enforce" or force_enforce
        name = b"content-security-policy" if enforce else b"content-security-policy-report-only"
        try:
            headers.append((name, self.gateway.csp.header_value(decision.allowed)))
        except Exception:
            self.gateway.errors.error("csp", "cookiegate: CSP could not be built")

    @property
    def next_path(self) -> str:
        """Where the banner's forms send the visitor back to: this request's path and query."""
        qs = self.scope.get("query_string", b"")
        path = self.scope.get("path", "/") or "/"
        return str(path) + ("?" + qs.decode("latin-1") if qs else "")

    def _settings(self, decision: Decision) -> Settings:
        """What the rewriter (and the headers' URLs) are decided with for this request."""
        return self.gateway.settings_for(decision.permissions, header_value(self.scope.get("headers", ()), b"host"))

    def _handlers(self, decision: Decision) -> Handlers:
        renderer = self.gateway.renderer
        next_path = self.next_path
        visit = self.visit

        def placeholder(vendor: Vendor | None, category: str) -> bytes:
            return renderer.placeholder(visit, vendor, category, next_path=next_path)

        return Handlers(renderer.head_bytes(visit, decision), renderer.body_bytes(visit, decision, next_path=next_path),
                        placeholder)

    def _fail_safe(self, decision: Decision) -> None:
        self.failed = True
        self.rewriter = None
        hosts: set[bytes] = set()
        for vendor in self.gateway.registry.vendors:
            if decision.permissions.fires(vendor.id, vendor.category):
                continue
            hosts.update(h.encode("ascii", "ignore") for h in vendor.hosts)
            # Shared hosts (googletagmanager.com, facebook.com) appear only in path-level rules: take the host.
            for pattern in vendor.url_patterns:
                head = pattern.split("/", 1)[0]
                if "." in head and "*" not in head:
                    hosts.add(head.encode("ascii", "ignore"))
        self.refused_hosts = tuple(sorted(hosts, key=len, reverse=True))

    def _rewrite(self, data: bytes, final: bool) -> bytes:
        if self.rewriter is None and not self.failed:
            if self.lead:
                data, self.lead = self.lead + data, b""
            if len(data) < 3 and not final and could_start_a_bom(data):
                # A browser reads the page by its byte order mark first: wait until it is whole.
                self.lead = data
                return b""
            try:
                found = utf16_codec(data, self.content_type)
                if found is not None:
                    self.codec = found[0]  # known before anything can fail: the fail-safe scrub needs it
                decision = self._decide()
                settings = self._settings(decision)
                handlers = self._handlers(decision)
                if final and found is None:
                    # A whole page seen before (the common case): replayed without building a rewriter.
                    again = replay_remembered(settings, handlers, data)
                    if again is not None:
                        out, self.replayed = again
                        self._log_events()
                        return out
                rewriter = HtmlRewriter(settings, handlers)
                # UTF-16: no tag is visible in its bytes; its text is rewritten, then encoded back.
                self.rewriter = rewriter if found is None else Utf16Rewriter(rewriter, *found)
            except Exception:
                self.gateway.errors.error("rewriter-init", "cookiegate: could not build the rewriter; fail-safe scrub")
                # No banner or notice can reach this visitor, so nothing optional may fire, whatever the regime.
                self._fail_safe(strictest())
        if not self.failed and self.rewriter is not None:
            # What earlier pieces left with the rewriter (a tag or script split across them): if it fails now,
            # that goes out too, scrubbed with this piece, so the page loses nothing.
            held = self.rewriter.held_back()
            try:
                if not final:
                    return self.rewriter.feed(data)
                # A whole page in one message is the common case, and a page seen before is replayed.
                out = self.rewriter.document(data)
                self._log_events()
                return out
            except Exception:
                self.gateway.errors.error("rewriter",
                                          "cookiegate: the HTML rewriter failed; fail-safe scrub for the rest")
                # Our neutralization can no longer be trusted: nothing optional fires, whatever was allowed.
                self._fail_safe(strictest())
                data = held + data
        return scrub_hosts(data, self.refused_hosts, self.codec)

    def _log_events(self) -> None:
        events: Sequence[TagEvent]
        if self.replayed is not None:
            outcomes, events = self.replayed.outcomes, self.replayed.events
        elif self.rewriter is not None:
            outcomes, events = self.rewriter.outcomes(), self.rewriter.events
        else:
            return
        decision = self._decide()
        country, regime = decision.location.country, decision.regime.key
        # Every vendor on the site's pages, fired or not, is one the CSP lists for whoever allows it.
        self.gateway.registry.csp.see(outcomes)
        if self.visit.preview is None:  # admin previews and scans must not skew the marketers' counts
            # The path: where unclassified hosts appear (the dashboard lists their pages; a first sighting is logged).
            page = self.scope.get("path", "/") or "/"
            self.gateway.counters.tags(outcomes, country=country, regime=regime, page=page)
        if not decision_log.isEnabledFor(logging.DEBUG):
            return
        for event in events:
            decision_log.debug("tag=%s category=%s fired=%s country=%s regime=%s", event.vendor_id, event.category,
                               event.fired, country or "-", regime)

    async def _on_body(self, body: bytes, more: bool) -> None:
        if more and self.start is not None and self.visit.preview is None:
            # A streamed body: its length is unknown anyway, so the headers leave now, before the first chunk is
            # rewritten; time to first byte stays the app's own.
            start, self.start = self.start, None
            await self.send(start)
        out = self._rewrite(body, final=not more)
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
        """``Cookiegate-Decision``: every tag the rewriter saw, the allowed categories and what unclassified third
        parties get (:func:`~cookiegate.policy._outcomes.decision_header`, as every view reads it)."""
        if self.replayed is not None:
            events: Sequence[TagEvent] = self.replayed.events
        else:
            events = self.rewriter.events if self.rewriter is not None else ()
        return decision_header(events, self._decide()).encode("latin-1", "replace")
