"""A visitor's own consent records, for access and portability requests."""

from __future__ import annotations

from .._http import BadRequest, respond_json
from .._runtime import Gateway
from .._types import Receive, Scope, Send
from .._visit import Visit
from ..store import StoreError


async def my_records(gateway: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    """The visitor's own records, authorised only by their signed consent cookie (never a query value)."""
    consent_id = Visit(gateway, scope).decision.consent_id
    if consent_id is None:
        raise BadRequest(404, "no consent recorded for this browser")
    await gateway.startup()
    try:
        records = await gateway.store.records_for(consent_id)
    except StoreError:
        raise BadRequest(503, "the decision log is unavailable, please try again later") from None
    await respond_json(
        send,
        200,
        {"consent_id": consent_id, "records": records},
        [(b"content-disposition", b'attachment; filename="my-consent-records.json"')],
    )
