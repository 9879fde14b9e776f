"""The visitor's stored choice and the signed cookie that carries it.

The cookie is the only consent state the gateway keeps per visitor: it is signed (itsdangerous, salted,
key rotation), so the gateway stays stateless and any number of workers can verify it.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import itsdangerous
from itsdangerous.encoding import base64_encode

from .._cache import BoundedCache
from ._categories import NECESSARY, OPTIONAL_CATEGORIES

logger = logging.getLogger("cookiegate.consent")

#: Browsers cap a cookie at about 4 kB; anything larger was not written by us.
MAX_COOKIE_BYTES: Final = 4096
_SALT: Final = "cookiegate.consent.v1"

#: Actions that are an affirmative, explicit act for the categories they allow (valid GDPR consent).
EXPLICIT_ACTIONS: Final = frozenset({"accept_all", "save", "allow"})
#: Every action the consent endpoint accepts.
ACTIONS: Final = frozenset({"accept_all", "reject_all", "save", "allow", "withdraw", "opt_out", "acknowledge", "gpc"})
#: At most this many vendors chosen by name in one choice: the cookie stays far below its 4 kB cap.
MAX_VENDOR_CHOICES: Final = 32
_VENDOR_ID: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def is_vendor_id(value: object) -> bool:
    """Whether ``value`` has the shape of a vendor id (a lower-case slug)."""
    return isinstance(value, str) and _VENDOR_ID.fullmatch(value) is not None


def new_consent_id() -> str:
    """A random, unguessable consent id (128 bits), the key of the visitor's records in the log."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """What a visitor chose, as stored in their consent cookie."""

    consent_id: str
    #: Per optional category: allowed or not. ``necessary`` is never stored: it is always on.
    categories: Mapping[str, bool] = field(default_factory=dict)
    policy_revision: str
    #: The regime row and kind in force when the visitor chose.
    regime_key: str
    regime_kind: str
    #: The action that produced this choice (``accept_all``, ``reject_all``, ``save``, ``withdraw`` …).
    action: str
    #: Unix time (seconds) of the choice.
    issued_at: int
    #: Vendors chosen by name (vendor id: allowed or not); a vendor absent here follows its category.
    vendors: Mapping[str, bool] = field(default_factory=dict)

    @property
    def explicit(self) -> bool:
        """True when the allowed categories were granted by an affirmative act (valid opt-in consent)."""
        return self.action in EXPLICIT_ACTIONS

    def allows(self, category: str) -> bool:
        """Whether the stored choice allows ``category``."""
        return category == NECESSARY or bool(self.categories.get(category, False))

    def vendor_choice(self, vendor_id: str) -> bool | None:
        """The visitor's choice about ``vendor_id`` by name, or ``None`` when it follows its category."""
        return self.vendors.get(vendor_id)

    def to_payload(self) -> dict[str, Any]:
        """Compact JSON payload for the cookie (``o``, the vendors chosen by name, only when there are some)."""
        payload: dict[str, Any] = {
            "v": 1,
            "id": self.consent_id,
            "c": "".join("1" if self.categories.get(c) else "0" for c in OPTIONAL_CATEGORIES),
            "r": self.policy_revision,
            "g": self.regime_key,
            "k": self.regime_kind,
            "a": self.action,
            "t": self.issued_at,
        }
        if self.vendors:
            payload["o"] = {vendor: int(on) for vendor, on in sorted(self.vendors.items())}
        return payload

    @classmethod
    def from_payload(cls, data: object) -> Choice:
        """Rebuild a choice from a cookie payload; ``ValueError`` on any unexpected shape."""
        if not isinstance(data, dict) or data.get("v") != 1:
            raise ValueError("unknown consent payload version")
        flags, cid, rev = data.get("c"), data.get("id"), data.get("r")
        key, kind, action, issued = data.get("g"), data.get("k"), data.get("a"), data.get("t")
        if not (isinstance(flags, str) and len(flags) == len(OPTIONAL_CATEGORIES) and set(flags) <= {"0", "1"}):
            raise ValueError("bad category flags")
        if not (isinstance(cid, str) and 8 <= len(cid) <= 64 and cid.replace("-", "").replace("_", "").isalnum()):
            raise ValueError("bad consent id")
        for name, value in (("r", rev), ("g", key), ("k", kind), ("a", action)):
            if not (isinstance(value, str) and 0 < len(value) <= 64):
                raise ValueError(f"bad field {name}")
        if action not in ACTIONS:
            raise ValueError("bad action")
        if not isinstance(issued, int) or isinstance(issued, bool) or issued < 0:
            raise ValueError("bad time")
        vendors = data.get("o", {})
        if not (isinstance(vendors, dict) and len(vendors) <= MAX_VENDOR_CHOICES):
            raise ValueError("bad vendor choices")
        for vendor, flag in vendors.items():
            if not is_vendor_id(vendor) or flag not in (0, 1) or isinstance(flag, bool):
                raise ValueError("bad vendor choice")
        return cls(
            consent_id=cid,
            categories={c: f == "1" for c, f in zip(OPTIONAL_CATEGORIES, flags, strict=True)},
            policy_revision=str(rev),
            regime_key=str(key),
            regime_kind=str(kind),
            action=str(action),
            issued_at=issued,
            vendors={str(vendor): flag == 1 for vendor, flag in vendors.items()},
        )


#: Verified cookie values remembered per codec (about 1 MB at most with cookies at their usual size).
_VERIFIED_CACHE_SIZE = 4096


class ConsentCodec:
    """Signs and verifies the consent cookie.

    ``secret_keys`` are oldest first; the newest signs, every key verifies, so keys rotate without
    asking anyone again. Anything that does not verify — tampered, wrong salt, unknown key, expired,
    malformed, oversized, or from another policy revision — decodes to ``None`` (no choice).
    """

    __slots__ = (
        "_derived", "_serializer", "_signer", "_verified", "max_age", "policy_revision", "rejections", "stale_revisions"
    )

    def __init__(self, secret_keys: Sequence[str], *, policy_revision: str, max_age: int) -> None:
        if not secret_keys:
            raise ValueError("ConsentCodec needs at least one secret key")
        # itsdangerous treats a list as oldest-first and signs with the last one: the order we document.
        self._serializer = itsdangerous.URLSafeTimedSerializer(list(secret_keys), salt=_SALT)
        # The signer's derived keys, newest first, for the exception-free signature check below.
        signer = self._serializer.make_signer()
        self._signer = signer
        self._derived = tuple(signer.derive_key(key) for key in reversed(signer.secret_keys))
        self.policy_revision = policy_revision
        self.max_age = max_age
        #: cookie value -> (its choice, when it was signed): cookies that verified, so a returning visitor's
        #: next page costs a dict lookup and an expiry check instead of base64, JSON and an HMAC. Only
        #: values that verified under these keys get in; bounded, cleared when full.
        self._verified: BoundedCache[str, tuple[Choice, int]] = BoundedCache(_VERIFIED_CACHE_SIZE)
        #: Count of cookies refused since start (tampered, expired, …), for health and hardening reports.
        self.rejections = 0
        #: Count of validly signed cookies from another policy revision (asked again; not an attack).
        self.stale_revisions = 0

    def __repr__(self) -> str:  # never show key material
        return f"ConsentCodec(policy_revision={self.policy_revision!r}, max_age={self.max_age})"

    def encode(self, choice: Choice) -> str:
        """The signed cookie value for ``choice``."""
        return self._serializer.dumps(choice.to_payload())

    def decode(self, value: str | None) -> Choice | None:
        """The stored choice, or ``None`` when the cookie is absent or not to be trusted."""
        return self.read(value)[0]

    def read(self, value: str | None) -> tuple[Choice | None, str | None]:
        """:meth:`decode` and :meth:`previous_revision` with one signature check (a forged cookie is
        the expensive case: verifying it twice made a flood of them cost twice what it must)."""
        if value is None:
            return None, None
        if not value:
            # An empty value, or conflicting duplicates (read_cookie gives ""): nothing we wrote.
            return self._reject("empty or duplicated consent cookie"), None
        if len(value) > MAX_COOKIE_BYTES:
            return self._reject("oversized consent cookie"), None
        known = self._verified.get(value)
        if known is not None:
            choice, signed_at = known
            # The same age checks itsdangerous and the code below make, against the clock of now.
            now = time.time()
            age = int(now) - signed_at
            if age > self.max_age or age < 0 or now - choice.issued_at > self.max_age + 60:
                self._verified.pop(value)
                return self._reject("expired consent cookie"), None
            return choice, None
        if not self._signed_by_us(value):
            return self._reject("consent cookie failed verification"), None
        try:
            payload, signed = self._serializer.loads(value, max_age=self.max_age, return_timestamp=True)
            choice = Choice.from_payload(payload)
        except itsdangerous.SignatureExpired as exc:
            # Validly signed, only too old: its policy revision still tells a returning visitor.
            return self._reject("expired consent cookie"), self._other_revision(exc.payload)
        except itsdangerous.BadData:
            return self._reject("consent cookie failed verification"), None
        except (ValueError, TypeError, UnicodeError):
            return self._reject("malformed consent cookie"), None
        if choice.policy_revision != self.policy_revision:
            # A new policy revision asks everyone again: an older choice counts as none.
            self.stale_revisions += 1
            return None, choice.policy_revision
        if time.time() - choice.issued_at > self.max_age + 60:
            return self._reject("expired consent cookie"), None
        self._verified.put(value, (choice, int(signed.timestamp())))
        return choice, None

    def _signed_by_us(self, value: str) -> bool:
        """Whether ``value`` carries a signature one of our keys made (itsdangerous checks it again).

        A forged cookie is refused here without an exception: itsdangerous reports a bad signature by
        raising, and the exception, its traceback and the frame that keeps it form a reference cycle (16
        objects left to the cycle collector per forged cookie), on top of the verification. Only a value
        that passes goes on to the full check."""
        signed, sep, signature = value.encode("latin-1", "replace").rpartition(b".")
        if not sep:
            return False
        algorithm = self._signer.algorithm
        return any(
            hmac.compare_digest(base64_encode(algorithm.get_signature(key, signed)), signature)
            for key in self._derived
        )

    def _other_revision(self, payload: Any) -> str | None:
        """The policy revision in a verified but expired cookie's payload, when it is not the current one."""
        try:
            revision = Choice.from_payload(self._serializer.load_payload(payload)).policy_revision
        except (itsdangerous.BadData, ValueError, TypeError, UnicodeError):
            return None
        return revision if revision != self.policy_revision else None

    def valid_until(self, value: str) -> float:
        """When a cookie value :meth:`decode` accepted stops being accepted (POSIX time; 0.0: not known).

        For callers that remember what a choice led to: past this time, decode the cookie again.
        """
        known = self._verified.get(value)
        if known is None:
            return 0.0
        choice, signed_at = known
        return float(min(signed_at + self.max_age + 1, choice.issued_at + self.max_age + 60))

    def previous_revision(self, value: str | None) -> str | None:
        """The policy revision of a validly signed cookie from an *older* revision, else ``None``.

        Lets the banner say "our policy changed" instead of greeting a returning visitor as new.
        """
        if not value or len(value) > MAX_COOKIE_BYTES:
            return None
        try:
            choice = Choice.from_payload(self._serializer.loads(value))
        except (itsdangerous.BadData, ValueError, TypeError, UnicodeError):
            return None
        return choice.policy_revision if choice.policy_revision != self.policy_revision else None

    def _reject(self, why: str) -> Choice | None:
        self.rejections += 1
        logger.debug("%s; treated as no choice", why)
        return None  # typed as Choice | None so callers can ``return self._reject(...)``
