"""The gateway's own routes under the prefix: consent, settings, cookie statement, assets, CSP reports.

Bad input gets a clear 4xx and changes nothing: cross-site POSTs, oversized or malformed bodies, unknown
categories, refusing ``necessary``, open redirects.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any, Final

import anyio

from .._http import (
    BadRequest,
    build_set_cookie,
    cookie_names,
    header_value,
    read_body,
    refuse_declared_oversize,
    respond,
    respond_error,
    respond_json,
)
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from .._visit import Visit
from ..admin._admin import Admin
from ..policy._categories import NECESSARY, OPTIONAL_CATEGORIES
from ..policy._consent import ACTIONS, Choice, new_consent_id
from ..policy._decision import decide
from ..policy._jurisdiction import SALE_SHARE_CATEGORIES
from ..rewrite import SCAN_BACKEND
from ..store import ConsentRecord, StoreError

logger = logging.getLogger("cookiegate.endpoint")

GPC_JSON: Final = b'{"gpc": true, "lastUpdate": "2026-11-26"}'


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


def _query_next(scope: Scope) -> str:
    """The safe ``next`` path of the query string, ``/`` when absent or unsafe."""
    query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return safe_next((query.get("next") or ["/"])[0])


def _origin_of(url: str) -> str | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}" + ("" if port == default else f":{port}")


def _request_origin(scope: Scope) -> str | None:
    host = header_value(scope.get("headers", ()), b"host")
    if not host:
        server = scope.get("server")
        if not server:
            return None
        host = f"{server[0]}:{server[1]}"
    return _origin_of(f"{scope.get('scheme', 'http')}://{host}")


def check_same_site(scope: Scope, gateway: Gateway) -> None:
    """403 unless the POST comes from this site (Origin, else Referer; one of them is required)."""
    if header_value(scope.get("headers", ()), b"sec-fetch-site") == "cross-site":
        raise BadRequest(403, "cross-site request refused")
    origin = header_value(scope.get("headers", ()), b"origin")
    if origin is None or origin == "null":
        referer = header_value(scope.get("headers", ()), b"referer")
        origin = _origin_of(referer) if referer else None
    else:
        origin = _origin_of(origin)
    if origin is None:
        raise BadRequest(403, "missing or unusable Origin/Referer: consent is only accepted from this site")
    allowed = {_request_origin(scope), *gateway.config.allowed_origins}
    domain = (gateway.config.cookie_domain or "").lstrip(".")
    host = urllib.parse.urlsplit(origin).hostname or ""
    if origin in allowed:
        return
    if domain and origin.startswith("https://") and (host == domain or host.endswith("." + domain)):
        return
    raise BadRequest(403, "cross-site request refused")


def parse_consent_body(content_type: str, body: bytes) -> tuple[str, dict[str, bool] | None, str, bool]:
    """``(action, categories or None, next, is_json)`` from a form or JSON body; 400/415 on anything odd."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            # ValueError covers bad UTF-8, bad JSON and over-long integers (int max_str_digits);
            # RecursionError a few thousand nested brackets, which fit well inside the body limit.
            raise BadRequest(400, "malformed JSON") from None
        if not isinstance(data, dict):
            raise BadRequest(400, "expected a JSON object")
        unknown_keys = set(data) - {"action", "categories", "next"}
        if unknown_keys:
            raise BadRequest(400, f"unknown field {sorted(unknown_keys)[0]!r}")
        action = data.get("action", "save")
        raw_cats = data.get("categories")
        if not isinstance(action, str):
            raise BadRequest(400, "action must be a string")
        cats: dict[str, bool] | None = None
        if raw_cats is not None:
            if not isinstance(raw_cats, dict):
                raise BadRequest(400, "categories must be an object of booleans")
            cats = {}
            for key, value in raw_cats.items():
                if not isinstance(value, bool):
                    raise BadRequest(400, f"categories.{key} must be true or false")
                cats[str(key)] = value
        nxt = data.get("next", "/")
        if not isinstance(nxt, str):
            raise BadRequest(400, "next must be a string")
        return action, cats, nxt, True
    if media == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=32
            )
        except (UnicodeDecodeError, ValueError):
            raise BadRequest(400, "malformed form body") from None
        action = "save"
        form_cats: dict[str, bool] = {}
        nxt = "/"
        for key, value in pairs:
            if key == "action":
                action = value
            elif key == "category":
                form_cats[value] = True
            elif key == "next":
                nxt = value
            elif key != "shown":
                raise BadRequest(400, f"unknown field {key!r}")
        return action, form_cats, nxt, False
    raise BadRequest(415, "send application/x-www-form-urlencoded or application/json")


def new_categories(action: str, given: dict[str, bool] | None, visit: Visit) -> dict[str, bool]:
    """The per-category result of ``action``; 400 for unknown categories or refusing ``necessary``."""
    given = given or {}
    for key, value in given.items():
        if key == NECESSARY:
            if not value:
                raise BadRequest(400, "the necessary category cannot be refused")
            continue
        if key not in OPTIONAL_CATEGORIES:
            raise BadRequest(400, f"unknown category {key!r}")
    current = visit.decision
    if action == "accept_all":
        return dict.fromkeys(OPTIONAL_CATEGORIES, True)
    if action in ("reject_all", "withdraw"):
        return dict.fromkeys(OPTIONAL_CATEGORIES, False)
    if action == "save":
        return {c: bool(given.get(c, False)) for c in OPTIONAL_CATEGORIES}
    if action == "allow":
        if not any(given.get(c) for c in OPTIONAL_CATEGORIES):
            raise BadRequest(400, "allow needs a category")
        return {c: current.allows(c) or bool(given.get(c)) for c in OPTIONAL_CATEGORIES}
    if action == "opt_out":
        return {c: current.allows(c) and c not in SALE_SHARE_CATEGORIES for c in OPTIONAL_CATEGORIES}
    if action == "acknowledge":
        # "OK" on a notice keeps what the regime allows by default; it grants nothing behind opt-in.
        return {c: current.allows(c) for c in OPTIONAL_CATEGORIES}
    raise BadRequest(400, f"unknown action {action!r}")


class Endpoint:
    """Dispatches requests under the prefix."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.prefix = gateway.prefix
        #: The one admin state of this gateway (auth, failure limiter, refused previews); the middleware's
        #: preview check uses it too.
        self.admin = Admin(gateway)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self._dispatch(scope, receive, tracked_send)
        except Exception:
            # A bug or a broken template/asset in the gateway's own routes: fail closed (no Set-Cookie, no
            # grant), log once with the route as context, answer 503 rather than a bare 500 traceback page.
            route = scope["path"][len(self.prefix) :].split("/", 1)[0][:32] or "-"
            self.gateway.errors.error(
                f"endpoint:{route}", "cookiegate: the %s route failed; answered 503", route
            )
            if started:
                raise
            await respond_error(send, BadRequest(503, "temporarily unavailable, please try again"))

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        sub = scope["path"][len(self.prefix) :]
        method = scope.get("method", "GET")
        try:
            if sub == "consent":
                if method == "POST":
                    await self.post_consent(scope, receive, send)
                elif method in ("GET", "HEAD"):
                    visit = Visit(self.gateway, scope)
                    await respond_json(send, 200, visit.decision.as_dict(), [(b"vary", b"Cookie, Sec-GPC")])
                else:
                    raise BadRequest(405, "method not allowed")
            elif sub == "settings" and method in ("GET", "HEAD"):
                await self.settings(scope, send, head=method == "HEAD")
            elif sub == "cookies" and method in ("GET", "HEAD"):
                visit = Visit(self.gateway, scope)
                html = self.gateway.renderer.statement_page(
                    visit, policy_revision=self.gateway.config.policy_revision, next_path=_query_next(scope)
                )
                await respond(
                    send,
                    200,
                    html.encode(),
                    b"text/html; charset=utf-8",
                    [(b"cache-control", b"private, no-cache"), (b"vary", b"Cookie, Accept-Language")],
                    head=method == "HEAD",
                )
            elif sub.startswith("assets/") and method in ("GET", "HEAD"):
                asset = self.gateway.renderer.assets.get(sub[len("assets/") :])
                if asset is None:
                    raise BadRequest(404, "not found")
                await respond(
                    send,
                    200,
                    asset[0],
                    asset[1].encode(),
                    [(b"cache-control", b"public, max-age=31536000, immutable")],
                    head=method == "HEAD",
                )
            elif sub == "csp-report" and method == "POST":
                await self.csp_report(scope, receive, send)
            elif sub == "my-records" and method in ("GET", "HEAD"):
                await self.my_records(scope, send)
            elif sub == "language" and method in ("GET", "HEAD"):
                await self.language(scope, send)
            elif sub == "health" and method in ("GET", "HEAD"):
                await self.health(send)
            elif sub == "admin" or sub.startswith("admin/"):
                # The dashboard: 404 unless an admin token is configured.
                await self.admin(scope, receive, send, sub[len("admin") :])
            else:
                raise BadRequest(404, "not found")
        except BadRequest as exc:
            await respond_error(send, exc)

    async def settings(self, scope: Scope, send: Send, *, head: bool) -> None:
        visit = Visit(self.gateway, scope)
        html = self.gateway.renderer.settings_page(
            visit, next_path=_query_next(scope), policy_revision=self.gateway.config.policy_revision
        )
        await respond(
            send,
            200,
            html.encode(),
            b"text/html; charset=utf-8",
            [(b"cache-control", b"private, no-store"), (b"vary", b"Cookie, Sec-GPC, Accept-Language")],
            head=head,
        )

    async def language(self, scope: Scope, send: Send) -> None:
        """The banner's language switcher (a plain GET form): remember the language, go back to the page."""
        from ..banner._renderer import LANGUAGE_COOKIE

        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        lang = (query.get("lang") or [""])[0]
        if lang not in self.gateway.renderer.translations.languages:
            raise BadRequest(400, "unknown language")
        # A preference the visitor just asked for: strictly necessary, no consent needed; a year, like the choice.
        cfg = self.gateway.config
        cookie = build_set_cookie(
            LANGUAGE_COOKIE, lang, max_age=365 * 86400, domain=cfg.cookie_domain, secure=cfg.cookie_secure
        )
        await respond(
            send,
            303,
            b"",
            b"text/plain; charset=utf-8",
            [
                (b"location", _query_next(scope).encode("latin-1", "replace")),
                (b"cache-control", b"no-store"),
                (b"set-cookie", cookie.encode("latin-1")),
            ],
        )

    async def post_consent(self, scope: Scope, receive: Receive, send: Send) -> None:
        gateway = self.gateway
        check_same_site(scope, gateway)
        refuse_declared_oversize(scope, gateway.config.max_body_bytes)
        body = await read_body(receive, gateway.config.max_body_bytes)
        content_type = header_value(scope.get("headers", ()), b"content-type") or ""
        action, given, raw_next, is_json = parse_consent_body(content_type, body)
        if action not in ACTIONS or action == "gpc":
            raise BadRequest(400, f"unknown action {action!r}")
        visit = Visit(gateway, scope)
        before = visit.decision
        categories = new_categories(action, given, visit)
        choice = Choice(
            consent_id=before.consent_id or new_consent_id(),
            categories=categories,
            policy_revision=gateway.config.policy_revision,
            regime_key=visit.regime.key,
            regime_kind=visit.regime.kind,
            action=action,
            issued_at=int(time.time()),
        )
        after = decide(location=visit.location, regime=visit.regime, choice=choice, gpc=visit.gpc, is_bot=False)
        next_path = safe_next(raw_next)
        grants_more = any(after.allows(c) and not before.allows(c) for c in OPTIONAL_CATEGORIES)
        try:
            await self._record(visit, choice, next_path)
        except StoreError:
            gateway.errors.error("store-write", "cookiegate: a consent record could not be made durable")
            if grants_more:
                # Consent we cannot prove is consent we must not rely on: nothing more is allowed.
                raise BadRequest(
                    503, "your choice could not be recorded; nothing was changed, please try again"
                ) from None
            # A refusal is honoured even when it cannot be logged.
        cfg = gateway.config
        headers = [
            (
                b"set-cookie",
                build_set_cookie(
                    cfg.cookie_name,
                    gateway.codec.encode(choice),
                    max_age=cfg.consent_max_age,
                    domain=cfg.cookie_domain,
                    secure=cfg.cookie_secure,
                ).encode("latin-1"),
            )
        ]
        headers += self._expire_refused(scope, after.allowed)
        if is_json:
            await respond_json(send, 200, after.as_dict(), headers)
        else:
            await respond(
                send,
                303,
                b"",
                b"text/plain; charset=utf-8",
                [(b"location", next_path.encode("latin-1", "replace")), (b"cache-control", b"no-store"), *headers],
            )

    def _expire_refused(self, scope: Scope, allowed: frozenset[str]) -> list[tuple[bytes, bytes]]:
        """Expire the cookies of refused categories the browser still has (host and cookie_domain)."""
        cfg = self.gateway.config
        out: list[tuple[bytes, bytes]] = []
        seen: set[str] = set()
        for name in cookie_names(scope.get("headers", ())):
            if name in seen or name == cfg.cookie_name:
                continue
            seen.add(name)
            category = self.gateway.registry.category_for_cookie(name)
            if category is None or category in allowed:
                continue
            domains: list[str | None] = [None]
            if cfg.cookie_domain:
                domains.append(cfg.cookie_domain)
            host = (header_value(scope.get("headers", ()), b"host") or "").split(":")[0]
            # Trackers set their cookies on the registrable domain (".kactuce.com"): expire it there too.
            labels = host.split(".")
            if len(labels) >= 2 and not host.replace(".", "").isdigit():
                domains.append(".".join(labels[-2:]))
            for domain in dict.fromkeys(domains):
                out.append(
                    (
                        b"set-cookie",
                        build_set_cookie(name, "", max_age=0, domain=domain, secure=False, http_only=False).encode(
                            "latin-1"
                        ),
                    )
                )
        return out

    async def _record(self, visit: Visit, choice: Choice, next_path: str) -> None:
        gateway = self.gateway
        await gateway.startup()
        if not gateway.store_ready:
            raise StoreError("decision log unavailable")
        ua = visit.user_agent
        location = visit.location
        variant, language, banner_hash = gateway.renderer.banner_proof(visit)
        record = ConsentRecord(
            consent_id=choice.consent_id,
            at=datetime.now(UTC).isoformat(timespec="microseconds"),
            action=choice.action,
            categories=dict(choice.categories),
            policy_revision=choice.policy_revision,
            regime_key=choice.regime_key,
            regime_kind=choice.regime_kind,
            banner_variant=variant,
            banner_hash=banner_hash,
            language=language,
            country=location.country,
            subdivision=location.subdivision,
            city=location.city,
            gpc=visit.gpc,
            dnt=visit.dnt,
            device=ua.device,
            browser=ua.browser_family,
            path=urllib.parse.urlsplit(next_path).path,
            ip=visit.ip_for_log(gateway.config.ip_log_mode, gateway.config.secret_keys[-1].encode()),
        )
        await gateway.store.record(record)
        gateway.counters.consent(choice.action, choice.categories, country=location.country, regime=choice.regime_key)

    async def csp_report(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive, 16384)
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            raise BadRequest(400, "malformed report") from None
        reports = data if isinstance(data, list) else [data]
        for item in reports[:20]:
            if not isinstance(item, dict):
                continue
            report = item.get("csp-report") or item.get("body") or {}
            if not isinstance(report, dict):
                continue
            blocked = str(report.get("blocked-uri") or report.get("blockedURL") or "")[:300]
            page = str(report.get("document-uri") or report.get("documentURL") or "")[:300]
            directive = str(report.get("violated-directive") or report.get("effectiveDirective") or "")[:100]
            host = urllib.parse.urlsplit(blocked).hostname or blocked[:100]
            page_path = urllib.parse.urlsplit(page).path[:200]
            entry = {"host": host, "page": page_path, "directive": directive}
            self.gateway.csp_reports.append(entry)
            del self.gateway.csp_reports[:-500]
            logger.info("CSP violation: host=%s page=%s directive=%s", host, page_path, directive)
        await respond(send, 204, b"", b"text/plain")

    async def my_records(self, scope: Scope, send: Send) -> None:
        """The visitor's own records, authorised only by their signed consent cookie (never a query value)."""
        consent_id = Visit(self.gateway, scope).decision.consent_id
        if consent_id is None:
            raise BadRequest(404, "no consent recorded for this browser")
        await self.gateway.startup()
        try:
            records = await self.gateway.store.records_for(consent_id)
        except StoreError:
            raise BadRequest(503, "the decision log is unavailable, please try again later") from None
        await respond_json(
            send,
            200,
            {"consent_id": consent_id, "records": records},
            [(b"content-disposition", b'attachment; filename="my-consent-records.json"')],
        )

    async def health(self, send: Send) -> None:
        gw = self.gateway
        await gw.startup()
        spooled = int(getattr(gw.store, "spooled", 0) or 0)
        store_ok = gw.store_ready and spooled == 0
        if store_ok:
            # A store can open while its database is unreachable (it spools until it is back): ask the
            # database itself with a cheap indexed read, bounded so a hung database cannot hang health.
            try:
                with anyio.fail_after(2.0):
                    await gw.store.records_for("cookiegate-health-probe")
            except Exception:
                store_ok = False
        checks = {
            "geo": "ok" if gw.geo.healthy else "degraded",
            # Records waiting in the local spool mean the database is (or was just) unreachable.
            "store": "ok" if store_ok else "degraded",
        }
        status = "ok" if all(v == "ok" for v in checks.values()) else "degraded"
        body = {
            "status": status,
            "checks": checks,
            "errors": dict(gw.errors.counts),
            "spooled_records": spooled,
            # Bad consent cookies seen (tampered, expired, oversized …): a rising count is worth a look.
            "rejected_cookies": gw.codec.rejections,
            # Which HTML skip scan runs: "c" (compiled at install) or "python" (same output, ~5x slower).
            "rewriter_scan": SCAN_BACKEND,
        }
        await respond_json(send, 200 if status == "ok" else 503, body)
