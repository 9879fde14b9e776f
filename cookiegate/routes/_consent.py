"""The consent endpoint: a visitor's choice made, proven (the decision log) and stored (the signed cookie).

Bad input gets a clear 4xx and changes nothing: cross-site POSTs, oversized or malformed bodies, unknown
categories, refusing ``necessary``, open redirects.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Final

from .._http import (
    BadRequest,
    build_set_cookie,
    cookie_names,
    header_value,
    read_body,
    read_cookie,
    refuse_declared_oversize,
    respond,
    respond_json,
    safe_next,
)
from .._limits import client_key
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from .._visit import Visit
from ..policy._categories import NECESSARY, OPTIONAL_CATEGORIES
from ..policy._consent import ACTIONS, Choice, new_consent_id
from ..policy._decision import decide
from ..policy._jurisdiction import SALE_SHARE_CATEGORIES
from ..store import ConsentRecord, StoreError
from ._same_site import check_same_site

logger = logging.getLogger("cookiegate.endpoint")

#: What a record keeps at most of the page path (percent-encoded) and of the other free-text fields: a record
#: is proof of a choice, not a copy of whatever a request carried.
RECORD_PATH_CHARS: Final = 256
RECORD_TEXT_CHARS: Final = 128


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


async def get_consent(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The visitor's decision as JSON (for single-page apps)."""
    visit = Visit(gateway, scope)
    await respond_json(send, 200, visit.decision.as_dict(), [(b"vary", b"Cookie, Sec-GPC")])


async def post_consent(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
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
        consent_id=_consent_id(before.choice, categories),
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
    _limit_writes(gateway, visit)
    try:
        await _record(gateway, visit, choice, next_path)
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
                gateway.consent_cookie,
                gateway.codec.encode(choice),
                max_age=cfg.consent_max_age,
                domain=cfg.cookie_domain,
                secure=cfg.cookie_secure,
            ).encode("latin-1"),
        )
    ]
    legacy = gateway.legacy_consent_cookie
    if legacy is not None and read_cookie(scope.get("headers", ()), legacy) is not None:
        # The cookie under its old name is replaced by the prefixed one: expire it (it was host-only too).
        headers.append(
            (b"set-cookie", build_set_cookie(legacy, "", max_age=0, domain=None, secure=cfg.cookie_secure).encode())
        )
    headers += _expire_refused(gateway, scope, after.allowed)
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


def _consent_id(before: Choice | None, categories: dict[str, bool]) -> str:
    """The consent id a new choice is recorded under: the visitor's own once they have granted something on this
    device, and a fresh one with their first grant. A cookie someone else planted (a choice granting nothing,
    under an id whose records they can read) is never carried into the grant that follows."""
    granted_before = before is not None and any(before.categories.get(c) for c in OPTIONAL_CATEGORIES)
    if before is not None and (granted_before or not any(categories.values())):
        return before.consent_id
    return new_consent_id()


def _limit_writes(gateway: Gateway, visit: Visit) -> None:
    """429 (nothing written, no cookie) when this client has made too many choices in the last minute."""
    limiter = gateway.consent_limiter
    if limiter is None:
        return
    wait = limiter.take(client_key(visit.client_ip))
    if not wait:
        return
    if limiter.refused == 1:
        logger.warning(
            "cookiegate: a client made more than consent_writes_per_minute choices; refused with 429 (later ones "
            "are only counted on the health endpoint). If every visitor seems to share one address, set "
            "trusted_proxies"
        )
    raise BadRequest(
        429,
        "too many choices from your address; nothing was changed, please try again in a minute",
        [(b"retry-after", limiter.retry_after(wait))],
    )


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, never inside a percent-escape."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    escape = cut.find("%", limit - 2)
    return cut[:escape] if escape != -1 else cut


def _expire_refused(gateway: Gateway, scope: Scope, allowed: frozenset[str]) -> list[tuple[bytes, bytes]]:
    """Expire the cookies of refused categories the browser still has: host-only, and on the domains the
    configuration names (``cookie_domain``, ``tracker_cookie_domains``); never on one taken from the request."""
    cfg = gateway.config
    domains = dict.fromkeys([None, cfg.cookie_domain, *cfg.tracker_cookie_domains])  # host-only first, once
    own = {gateway.consent_cookie, gateway.legacy_consent_cookie}
    out: list[tuple[bytes, bytes]] = []
    for name in dict.fromkeys(cookie_names(scope.get("headers", ()))):
        if name in own:
            continue
        category = gateway.registry.category_for_cookie(name)
        if category is None or category in allowed:
            continue
        for domain in domains:
            out.append(
                (
                    b"set-cookie",
                    build_set_cookie(name, "", max_age=0, domain=domain, secure=False, http_only=False).encode(
                        "latin-1"
                    ),
                )
            )
    return out


async def _record(gateway: Gateway, visit: Visit, choice: Choice, next_path: str) -> None:
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
        city=_clip(location.city, RECORD_TEXT_CHARS) if location.city else None,
        gpc=visit.gpc,
        dnt=visit.dnt,
        device=ua.device,
        browser=_clip(ua.browser_family, RECORD_TEXT_CHARS),
        path=_clip(urllib.parse.urlsplit(next_path).path, RECORD_PATH_CHARS),
        ip=visit.ip_for_log(gateway.config.ip_log_mode, gateway.config.secret_keys[-1].encode()),
    )
    await gateway.store.record(record)
    gateway.counters.consent(choice.action, choice.categories, country=location.country, regime=choice.regime_key)
