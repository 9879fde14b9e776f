"""The consent endpoint: a visitor's choice made, proven (the decision log) and stored (the signed cookie).

Bad input gets a clear 4xx and changes nothing: cross-site POSTs, oversized or malformed bodies, unknown
categories, refusing ``necessary``, open redirects.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
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
from ..policy._consent import ACTIONS, MAX_VENDOR_CHOICES, Choice, new_consent_id
from ..policy._decision import Decision, decide
from ..policy._jurisdiction import SALE_SHARE_CATEGORIES
from ..store import ConsentRecord, StoreError
from ._same_site import check_same_site

logger = logging.getLogger("cookiegate.endpoint")

#: What a record keeps at most of the page path (percent-encoded) and of the other free-text fields: a record
#: is proof of a choice, not a copy of whatever a request carried.
RECORD_PATH_CHARS: Final = 256
RECORD_TEXT_CHARS: Final = 128


@dataclass(slots=True)
class ConsentBody:
    """What a consent POST asked for, parsed but not yet checked against the categories and vendors."""

    action: str = "save"
    #: Per category, given explicitly (JSON) or ticked (a form); ``None``: the JSON body named none.
    categories: dict[str, bool] | None = None
    #: Per vendor by name, given explicitly or ticked among those the form showed (``vendors_shown``).
    vendors: dict[str, bool] = field(default_factory=dict)
    next: str = "/"
    is_json: bool = False


def _booleans(raw: object, what: str) -> dict[str, bool]:
    if not isinstance(raw, dict):
        raise BadRequest(400, f"{what} must be an object of booleans")
    out: dict[str, bool] = {}
    for key, value in raw.items():
        if not isinstance(value, bool):
            raise BadRequest(400, f"{what}.{key} must be true or false")
        out[str(key)] = value
    return out


def parse_consent_body(content_type: str, body: bytes) -> ConsentBody:
    """The request from a form or JSON body; 400/415 on anything odd."""
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
        unknown_keys = set(data) - {"action", "categories", "vendors", "next"}
        if unknown_keys:
            raise BadRequest(400, f"unknown field {sorted(unknown_keys)[0]!r}")
        action = data.get("action", "save")
        if not isinstance(action, str):
            raise BadRequest(400, "action must be a string")
        raw_cats = data.get("categories")
        nxt = data.get("next", "/")
        if not isinstance(nxt, str):
            raise BadRequest(400, "next must be a string")
        return ConsentBody(
            action=action,
            categories=None if raw_cats is None else _booleans(raw_cats, "categories"),
            vendors=_booleans(data.get("vendors", {}), "vendors"),
            next=nxt,
            is_json=True,
        )
    if media == "application/x-www-form-urlencoded":
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=128
            )
        except (UnicodeDecodeError, ValueError):
            raise BadRequest(400, "malformed form body") from None
        parsed = ConsentBody(categories={})
        assert parsed.categories is not None
        ticked: set[str] = set()
        shown: list[str] = []
        for key, value in pairs:
            if key == "action":
                parsed.action = value
            elif key == "category":
                parsed.categories[value] = True
            elif key == "vendor":
                ticked.add(value)
            elif key == "vendors_shown":
                shown += value.split()
            elif key == "next":
                parsed.next = value
            elif key != "shown":
                raise BadRequest(400, f"unknown field {key!r}")
        # A form sends only what is ticked: a vendor it showed and that is not ticked was refused.
        parsed.vendors = {vendor: vendor in ticked for vendor in (*shown, *sorted(ticked - set(shown)))}
        return parsed
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
        return {c: current.allows(c) or bool(given.get(c)) for c in OPTIONAL_CATEGORIES}
    if action == "opt_out":
        return {c: current.allows(c) and c not in SALE_SHARE_CATEGORIES for c in OPTIONAL_CATEGORIES}
    if action == "acknowledge":
        # "OK" on a notice keeps what the regime allows by default; it grants nothing behind opt-in.
        return {c: current.allows(c) for c in OPTIONAL_CATEGORIES}
    raise BadRequest(400, f"unknown action {action!r}")


def new_vendors(
    action: str, given: Mapping[str, bool], categories: Mapping[str, bool], visit: Visit
) -> dict[str, bool]:
    """The vendors chosen by name after ``action``: only the choices that differ from their category's.

    ``accept_all``, ``reject_all`` and ``withdraw`` clear them; ``save`` takes what was given; the others keep
    the current ones and add what was given. 400 for a vendor the registry does not know, or too many."""
    category_of = visit.gateway.vendor_categories
    for vendor in given:
        if category_of.get(vendor) not in OPTIONAL_CATEGORIES:
            raise BadRequest(400, f"unknown vendor {vendor!r}")
    if action in ("accept_all", "reject_all", "withdraw"):
        return {}
    permissions = visit.decision.permissions
    chosen = {} if action == "save" else {
        **dict.fromkeys(permissions.vendors_on, True), **dict.fromkeys(permissions.vendors_off, False)
    }
    chosen.update(given)
    if action == "opt_out":
        chosen = {v: on for v, on in chosen.items() if not (on and category_of[v] in SALE_SHARE_CATEGORIES)}
    # A choice equal to its category's is no choice by name: the vendor follows its category.
    kept = {v: on for v, on in chosen.items() if on != categories.get(category_of[v], False)}
    if len(kept) > MAX_VENDOR_CHOICES:
        raise BadRequest(400, f"at most {MAX_VENDOR_CHOICES} vendors can be chosen by name")
    return kept


async def get_consent(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The visitor's decision as JSON (for single-page apps)."""
    visit = Visit(gateway, scope)
    await respond_json(send, 200, _with_state(gateway, visit.decision), [(b"vary", b"Cookie, Sec-GPC")])


def _with_state(gateway: Gateway, decision: Decision) -> dict[str, object]:
    """The decision as JSON, with ``state``: what ``window.cookiegate.choice()`` answers for it."""
    return {**decision.as_dict(), "state": gateway.renderer.client_state(decision)}


async def post_consent(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    check_same_site(scope, gateway)
    refuse_declared_oversize(scope, gateway.config.max_body_bytes)
    body = await read_body(receive, gateway.config.max_body_bytes)
    content_type = header_value(scope.get("headers", ()), b"content-type") or ""
    asked = parse_consent_body(content_type, body)
    action = asked.action
    if action not in ACTIONS or action == "gpc":
        raise BadRequest(400, f"unknown action {action!r}")
    visit = Visit(gateway, scope)
    before = visit.decision
    categories = new_categories(action, asked.categories, visit)
    given = asked.categories or {}
    if action == "allow" and not any(given.get(c) for c in OPTIONAL_CATEGORIES) and not any(asked.vendors.values()):
        raise BadRequest(400, "allow needs a category or a vendor")
    vendors = new_vendors(action, asked.vendors, categories, visit)
    choice = Choice(
        consent_id=_consent_id(before.choice, categories, vendors),
        categories=categories,
        policy_revision=gateway.config.policy_revision,
        regime_key=visit.regime.key,
        regime_kind=visit.regime.kind,
        action=action,
        issued_at=int(time.time()),
        vendors=vendors,
    )
    after = decide(
        location=visit.location,
        regime=visit.regime,
        choice=choice,
        gpc=visit.gpc,
        is_bot=False,
        vendor_categories=gateway.vendor_categories,
    )
    next_path = safe_next(asked.next)
    grants_more = any(after.allows(c) and not before.allows(c) for c in OPTIONAL_CATEGORIES) or bool(
        after.permissions.vendors_on - before.permissions.vendors_on
    )
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
    headers += _expire_refused(gateway, scope, after)
    if asked.is_json:
        await respond_json(send, 200, _with_state(gateway, after), headers)
    else:
        await respond(
            send,
            303,
            b"",
            b"text/plain; charset=utf-8",
            [(b"location", next_path.encode("latin-1", "replace")), (b"cache-control", b"no-store"), *headers],
        )


def _consent_id(before: Choice | None, categories: dict[str, bool], vendors: Mapping[str, bool]) -> str:
    """The consent id a new choice is recorded under: the visitor's own once they have granted something on this
    device, and a fresh one with their first grant. A cookie someone else planted (a choice granting nothing,
    under an id whose records they can read) is never carried into the grant that follows."""
    granted_before = before is not None and (
        any(before.categories.get(c) for c in OPTIONAL_CATEGORIES) or any(before.vendors.values())
    )
    if before is not None and (granted_before or not (any(categories.values()) or any(vendors.values()))):
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


def _expire_refused(gateway: Gateway, scope: Scope, after: Decision) -> list[tuple[bytes, bytes]]:
    """Expire the cookies of refused vendors the browser still has: host-only, and on the domains the
    configuration names (``cookie_domain``, ``tracker_cookie_domains``); never on one taken from the request."""
    cfg = gateway.config
    domains = dict.fromkeys([None, cfg.cookie_domain, *cfg.tracker_cookie_domains])  # host-only first, once
    own = {gateway.consent_cookie, gateway.legacy_consent_cookie}
    out: list[tuple[bytes, bytes]] = []
    for name in dict.fromkeys(cookie_names(scope.get("headers", ()))):
        if name in own:
            continue
        vendor = gateway.registry.vendor_for_cookie(name)
        if vendor is None or after.allows_vendor(vendor.id, vendor.category):
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
        vendors=dict(choice.vendors),
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
