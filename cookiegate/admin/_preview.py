"""The admin preview ("visit as"): an authenticated request decided as if it came from another place.

A request with valid admin credentials and a header

    Cookiegate-Preview: country=FR; state=US-CA; consent=accept|reject|none|analytics,ads; gpc=1

is decided as if it came from that place in that consent state (every field optional: no country means an
unknown location; ``consent`` defaults to ``none``). The response carries ``Cookiegate-Decision``. Without
valid credentials the header is ignored and counted: a visitor can never choose their own region. Both
headers are removed from every request that carries the preview header, whatever the outcome (refused,
malformed, wrong token), before anything else reads it: the token never reaches the app or its logs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .._http import header_value, loggable
from .._runtime import Gateway
from .._visit import Preview
from .._visitor import client_ip
from ..policy._tag_matrix import ConsentSpecError, choice_for, location_for, parse_consent
from ._auth import PREVIEW_HEADER, AdminAuth

logger = logging.getLogger("cookiegate.admin")


def parse_preview_header(value: str) -> tuple[str | None, str | None, str | frozenset[str], bool]:
    """``country=FR; state=US-CA; consent=analytics,ads; gpc=1`` → (country, state, consent, gpc)."""
    fields: dict[str, str] = {}
    for part in value.split(";"):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ("country", "state", "consent", "gpc") or key in fields:
            raise ConsentSpecError(f"preview: bad field {part.strip()!r}")
        fields[key] = val.strip()
    gpc = fields.get("gpc", "0").lower()
    if gpc not in ("0", "1", "true", "false", ""):
        raise ConsentSpecError("preview: gpc must be 0 or 1")
    consent = parse_consent(fields.get("consent") or "none")
    return fields.get("country") or None, fields.get("state") or None, consent, gpc in ("1", "true")


class Previews:
    """Turns an admin's preview header into a :class:`Preview`; counts the headers it had to ignore."""

    def __init__(self, gateway: Gateway, auth: AdminAuth) -> None:
        self.gateway = gateway
        self.auth = auth
        #: Preview headers ignored because the request had no valid admin credentials.
        self.refused = 0
        self._warned = False

    def preview_for(self, scope: Mapping[str, Any], headers: Sequence[tuple[bytes, bytes]]) -> Preview | None:
        """The preview a request with ``headers`` (as sent, credentials included) asks for, if it carries valid
        admin credentials; else ``None`` (counted). The caller has already taken both headers off the scope."""
        raw = header_value(headers, PREVIEW_HEADER)
        if raw is None:
            return None
        status = self.auth.check(headers, client_ip(scope, self.gateway.trusted))
        if status != "ok":
            self._refuse(f"no valid admin credentials ({status})")
            return None
        try:
            country, state, consent, gpc = parse_preview_header(raw)
            location = location_for(country, state)
        except ConsentSpecError as exc:
            self._refuse(str(exc))
            return None
        regime = self.gateway.jurisdiction.regime_for(location)
        choice = choice_for(
            consent,
            regime_key=regime.key,
            regime_kind=regime.kind,
            policy_revision=self.gateway.config.policy_revision,
        )
        return Preview(location=location, choice=choice, gpc=gpc)

    def _refuse(self, why: str) -> None:
        self.refused += 1
        if not self._warned:
            self._warned = True
            logger.warning(
                "cookiegate: a Cookiegate-Preview header was ignored: %s (later ones only counted)", loggable(why)
            )
