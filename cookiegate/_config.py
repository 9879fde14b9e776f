"""Configuration: a frozen, validated object, loaded from TOML or built in Python.

Bad configuration stops start-up with a message naming the key; per request, nothing here can fail.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, Literal, cast

from ._resources import banner_assets_dir, bundled_demo_database
from ._visitor import TrustedProxies
from .policy._catalog import BUILTIN_VENDORS, Vendor
from .policy._categories import NECESSARY
from .policy._cookie_database import bundled_database
from .policy._decision import UNCLASSIFIED_MODES, UnclassifiedMode
from .policy._jurisdiction import validate_regime_table
from .policy._vendor_data import VendorDataError, vendor_from_entry

#: The catalogue by id: a ``[[tags]]`` entry with one of these ids overrides that entry key by key.
BUILTIN_BY_ID: Final = {vendor.id: vendor for vendor in BUILTIN_VENDORS}
#: Secrets that ship in examples and docs; start-up refuses them outside demo mode.
DEFAULT_SECRETS: Final = frozenset({"", "change-me", "changeme", "secret", "cookiegate-demo", "CHANGE_ME"})
MIN_SECRET_LENGTH: Final = 32
CONFIG_ENV: Final = "COOKIEGATE_CONFIG"
SECRETS_ENV: Final = "COOKIEGATE_SECRET_KEYS"
ADMIN_TOKEN_ENV: Final = "COOKIEGATE_ADMIN_TOKEN"
DEFAULT_CONFIG_FILE: Final = "cookiegate.toml"

#: https://httpwg.org/http-extensions/draft-ietf-httpbis-rfc6265bis.html#name-cookie-name-prefixes
HOST_PREFIX: Final = "__Host-"
_PREFIXES: Final = (HOST_PREFIX, "__Secure-")

CspMode = Literal["report-only", "enforce", "off"]
BannerPosition = Literal["bottom", "corner"]
IpLogMode = Literal["truncate", "hash", "none"]


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """Everything the gateway needs to know, validated at construction.

    Build it with :func:`load_config` from a TOML file, or directly in Python::

        Config(secret_keys=("…32+ random chars…",), geoip_database="GeoLite2-City.mmdb")
    """

    #: Signing keys, oldest first. The newest signs; all verify (rotation without logging anyone out).
    secret_keys: tuple[str, ...] = ()
    #: Path to a MaxMind-format City or Country database. ``None``: every visitor is ``unknown`` (strictest).
    geoip_database: str | None = None
    #: Peers (CIDRs or addresses) whose ``X-Forwarded-For`` / ``Forwarded`` headers are believed.
    trusted_proxies: tuple[str, ...] = ()
    #: Name of the consent cookie (signed, HttpOnly, SameSite=Lax). Host-only and ``Secure``, it is sent with
    #: the ``__Host-`` prefix (``__Host-cookiegate_consent``), which no subdomain can set; the plain name is
    #: still read during the migration period.
    cookie_name: str = "cookiegate_consent"
    #: ``Domain`` of the consent cookie (``kactuce.com`` shares it with every subdomain), or host-only. Setting it
    #: trusts every subdomain: any of them can set the cookie for the whole site (no ``__Host-`` prefix then).
    cookie_domain: str | None = None
    #: Domains on which the site's trackers set their cookies (analytics sets ``_ga`` on ``kactuce.com``): a
    #: withdrawal expires the refused ones there too, besides host-only and ``cookie_domain``. Never taken from the
    #: request's ``Host``.
    tracker_cookie_domains: tuple[str, ...] = ()
    #: Send the gateway's cookies with ``Secure`` (HTTPS only); demo mode turns it off for plain-HTTP localhost.
    cookie_secure: bool = True
    #: Changing it asks every visitor again.
    policy_revision: str = "1"
    #: How long a consent lasts (opt-in consent: six months by default).
    consent_max_age_days: int = 180
    #: Where decisions are recorded: ``sqlite:///path`` (embedded default) or ``postgresql://…``.
    log_url: str = "sqlite:///cookiegate.db"
    #: How long consent records are kept (``cookiegate log purge`` default): ``13mo``, ``400d``, ``2y``.
    log_retention: str = "13mo"
    #: Where records are spooled (fsync'd) while the log database is unreachable; default next to the log.
    log_spool_dir: str | None = None
    #: How the visitor's IP appears in the log: a truncated prefix (default), a keyed hash, or not at all.
    ip_log_mode: IpLogMode = "truncate"
    #: Where the gateway's own routes live (consent endpoint, settings, assets, CSP reports).
    prefix: str = "/cookiegate/"
    #: The site's own tag registry (``[[tags]]``), matched before the built-in catalog.
    tags: tuple[Vendor, ...] = ()
    #: What a third-party host that neither ``[[tags]]`` nor the catalogue claims gets: ``block`` (wherever the
    #: visitor's regime asks consent, and after "Accept all" too: no purpose was disclosed for it) or ``ads``
    #: (treated as the strictest category). Regimes that ask no consent let it through either way.
    unclassified: UnclassifiedMode = "block"
    #: A directory holding the site's copy of the Open Cookie Database (``open-cookie-database.csv``, kept up to
    #: date with ``cookiegate catalog update-cookies``) to classify cookies nobody claims; ``None``: the bundled copy.
    cookie_database: str | None = None
    #: Regime overrides: ``{"US-VA": "opt-out", "JP": "opt-in", "default": "notice"}``.
    regimes: Mapping[str, str] = field(default_factory=dict)
    #: The Content-Security-Policy the gateway adds to pages: ``report-only`` reports what would leak, ``enforce``
    #: makes the browser refuse every host not allowed for this visitor, ``off`` sends none.
    csp_mode: CspMode = "report-only"
    #: The operator's CSP allow-list (sources allowed for everyone), e.g. ``["https://cdn.kactuce.com"]``.
    csp_allow: tuple[str, ...] = ()
    #: Extra origins allowed to POST a choice (besides the request's own origin and ``cookie_domain`` hosts).
    allowed_origins: tuple[str, ...] = ()
    #: Largest consent request body accepted, in bytes.
    max_body_bytes: int = 8192
    #: Consent choices one client (an address; an IPv6 /64) may record per minute, in a burst; more are answered
    #: 429 and write nothing. A visitor needs a few at most. ``0``: no limit (say, behind a proxy that
    #: ``trusted_proxies`` does not name, where every visitor would share one address).
    consent_writes_per_minute: int = 10
    #: CSP violation reports one client may send per minute, in a burst; more are answered 429 and not counted.
    #: ``0``: no limit.
    csp_reports_per_minute: int = 30
    #: Banner copy overrides per language: ``{"fr": {"accept_all": "J'accepte"}}``. Missing keys fall back
    #: to the bundled translation, then English; unknown keys stop start-up.
    banner_texts: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: Google Consent Mode v2: ``basic`` (Google tags blocked until consent) or ``advanced`` (they load in
    #: the denied state and send cookieless pings).
    consent_mode: Literal["basic", "advanced"] = "basic"
    #: Where the banner sits on wide screens: a ``bottom`` bar or a box in the bottom-right ``corner`` (phones
    #: always get a bottom bar).
    banner_position: BannerPosition = "bottom"
    #: A directory of the operator's templates: a file there replaces the bundled template of the same name
    #: (``page.html`` to wrap the gateway's pages in the site's header and footer, ``statement.html`` …).
    templates_dir: str | None = None
    #: The site's stylesheets, linked by the gateway's own pages (settings, cookie statement) after their own
    #: styles, so the site's look applies: ``["/static/site.css"]``.
    page_stylesheets: tuple[str, ...] = ()
    #: Demo mode: ephemeral secret, no Secure flag, the bundled demo geo database, no consent write limit (its
    #: "visit as" gives every visitor from one place the same address).
    demo_mode: bool = False
    #: Admin token (or ``COOKIEGATE_ADMIN_TOKEN``): turns on the dashboard and previews. ``None``: both off (404).
    admin_token: str | None = None

    def __post_init__(self) -> None:
        _validate(self)

    def __repr__(self) -> str:
        # Secret values never appear in logs or reprs.
        hidden = {
            "secret_keys": f"<{len(self.secret_keys)} secret keys>",
            "admin_token": "<hidden>",
            # A PostgreSQL URL may carry a password.
            "log_url": repr(redact_url(self.log_url)),
        }
        shown = ", ".join(
            f"{f.name}={hidden[f.name] if f.name in hidden and getattr(self, f.name) else repr(getattr(self, f.name))}"
            for f in fields(self)
        )
        return f"Config({shown})"

    @property
    def consent_cookie(self) -> str:
        """The consent cookie's name as sent: ``__Host-`` + ``cookie_name`` when it is host-only and ``Secure``
        (a subdomain or a plain-HTTP page can then never set it), else ``cookie_name``."""
        if self.cookie_domain is None and self.cookie_secure and not self.cookie_name.startswith(_PREFIXES):
            return HOST_PREFIX + self.cookie_name
        return self.cookie_name

    @property
    def legacy_consent_cookie(self) -> str | None:
        """The name the consent cookie had before the ``__Host-`` prefix, still read (migration period)."""
        return self.cookie_name if self.consent_cookie != self.cookie_name else None

    @property
    def consent_max_age(self) -> int:
        """Consent lifetime in seconds."""
        return self.consent_max_age_days * 86400

    @classmethod
    def demo(cls, **overrides: Any) -> Config:
        """Demo configuration: an ephemeral secret, the bundled demo geo database, a local SQLite log."""
        base: dict[str, Any] = {
            "secret_keys": (secrets.token_urlsafe(32),),
            "geoip_database": str(bundled_demo_database()),
            "cookie_secure": False,
            "log_url": "sqlite:///" + str(Path(tempfile.gettempdir()) / "cookiegate-demo.db"),
            "consent_writes_per_minute": 0,
            "demo_mode": True,
        }
        base.update(overrides)
        return cls(**base)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``postgresql://user:***@host/db``)."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^:/@]*):[^@/]*@", r"\1:***@", url)


_HOST_NAME: Final = re.compile(r"\.?([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}")


def _validate(cfg: Config) -> None:
    if not isinstance(cfg.secret_keys, tuple) or not all(isinstance(k, str) for k in cfg.secret_keys):
        raise ConfigError("secret_keys: expected a list of strings")
    if not cfg.demo_mode:
        if not cfg.secret_keys:
            raise ConfigError(
                f"secret_keys: missing. Set secret_keys in the config file or {SECRETS_ENV} "
                "(comma-separated, oldest first); only `cookiegate demo` runs without one"
            )
        for key in cfg.secret_keys:
            if key.strip() in DEFAULT_SECRETS or len(key) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    f"secret_keys: a key is a default or shorter than {MIN_SECRET_LENGTH} characters; "
                    "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
    elif not cfg.secret_keys:
        raise ConfigError("secret_keys: demo mode still needs a key (Config.demo() makes one)")
    for cidr in cfg.trusted_proxies:
        try:
            TrustedProxies([cidr])
        except ValueError as exc:
            raise ConfigError(f"trusted_proxies: {cidr!r}: {exc}") from None
    if not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}", cfg.cookie_name):
        raise ConfigError(f"cookie_name: {cfg.cookie_name!r} is not a valid cookie name")
    if cfg.cookie_name.startswith(_PREFIXES) and not cfg.cookie_secure:
        raise ConfigError(f"cookie_name: {cfg.cookie_name!r}: browsers keep a prefixed cookie only with cookie_secure")
    if cfg.cookie_name.startswith(HOST_PREFIX) and cfg.cookie_domain is not None:
        raise ConfigError(f"cookie_name: {cfg.cookie_name!r}: a __Host- cookie cannot have a cookie_domain")
    if cfg.cookie_domain is not None and not _HOST_NAME.fullmatch(cfg.cookie_domain):
        raise ConfigError(f"cookie_domain: {cfg.cookie_domain!r} is not a lower-case host name")
    for domain in cfg.tracker_cookie_domains:
        if not _HOST_NAME.fullmatch(domain):
            raise ConfigError(f"tracker_cookie_domains: {domain!r} is not a lower-case host name")
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", cfg.policy_revision):
        raise ConfigError("policy_revision: use 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    if not 1 <= cfg.consent_max_age_days <= 400:
        # Browsers cap cookie lifetimes at 400 days.
        raise ConfigError("consent_max_age_days: expected 1..400")
    if not (cfg.log_url.startswith("sqlite:///") or cfg.log_url.startswith(("postgresql://", "postgres://"))):
        raise ConfigError("log_url: expected sqlite:///path or postgresql://…")
    if not re.fullmatch(r"\d{1,4}(d|w|mo|y)", cfg.log_retention):
        raise ConfigError(f"log_retention: {cfg.log_retention!r}; expected a number and d, w, mo or y (13mo)")
    if cfg.ip_log_mode not in ("truncate", "hash", "none"):
        raise ConfigError("ip_log_mode: expected truncate, hash or none")
    if not re.fullmatch(r"/([A-Za-z0-9._~-]+/)+", cfg.prefix):
        raise ConfigError(f"prefix: {cfg.prefix!r} must look like /cookiegate/ (leading and trailing slash)")
    if cfg.unclassified not in UNCLASSIFIED_MODES:
        raise ConfigError(f"unclassified: expected {' or '.join(UNCLASSIFIED_MODES)}, not {cfg.unclassified!r}")
    if cfg.csp_mode not in ("report-only", "enforce", "off"):
        raise ConfigError("csp_mode: expected report-only, enforce or off")
    for src in cfg.csp_allow:
        if not re.fullmatch(r"[A-Za-z0-9*.:/'_-]+", src):
            raise ConfigError(f"csp_allow: {src!r} is not a CSP source expression")
    for origin in cfg.allowed_origins:
        if not re.fullmatch(r"https?://[a-z0-9.-]+(:\d+)?", origin):
            raise ConfigError(f"allowed_origins: {origin!r} is not an origin like https://www.example.com")
    if not 256 <= cfg.max_body_bytes <= 1_048_576:
        raise ConfigError("max_body_bytes: expected 256..1048576")
    if not 0 <= cfg.consent_writes_per_minute <= 10_000:
        raise ConfigError("consent_writes_per_minute: expected 0 (no limit) to 10000")
    if not 0 <= cfg.csp_reports_per_minute <= 10_000:
        raise ConfigError("csp_reports_per_minute: expected 0 (no limit) to 10000")
    _validate_banner_texts(cfg.banner_texts)
    if cfg.consent_mode not in ("basic", "advanced"):
        raise ConfigError("consent_mode: expected basic or advanced")
    if cfg.banner_position not in ("bottom", "corner"):
        raise ConfigError("banner_position: expected bottom or corner")
    if cfg.templates_dir is not None and not Path(cfg.templates_dir).is_dir():
        raise ConfigError(f"templates_dir: {cfg.templates_dir!r} is not a directory")
    for href in cfg.page_stylesheets:
        if not re.fullmatch(r"(https://[A-Za-z0-9.-]+(:\d+)?)?(?!//)/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*", href):
            raise ConfigError(
                f"page_stylesheets: {href!r}: expected a path on the site (/static/site.css) or an https URL"
            )
    if cfg.admin_token is not None and (len(cfg.admin_token) < MIN_SECRET_LENGTH or cfg.admin_token in DEFAULT_SECRETS):
        raise ConfigError(f"admin_token: use {MIN_SECRET_LENGTH}+ random characters (secrets.token_urlsafe(32))")
    try:
        validate_regime_table(cfg.regimes)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    seen: set[str] = set()
    for tag in cfg.tags:
        if tag.id in seen:
            raise ConfigError(f"tags.{tag.id}: duplicate id")
        seen.add(tag.id)


def _validate_banner_texts(texts: Mapping[str, Mapping[str, str]]) -> None:
    known = frozenset(json.loads((banner_assets_dir() / "i18n" / "en.json").read_text("utf-8")))
    if not isinstance(texts, Mapping):
        raise ConfigError("banner_texts: expected a table of languages")
    for lang, table in texts.items():
        if not isinstance(lang, str) or not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", lang):
            raise ConfigError(f"banner_texts.{lang}: expected a language code such as fr or pt-BR")
        if not isinstance(table, Mapping):
            raise ConfigError(f"banner_texts.{lang}: expected a table of texts")
        for key, value in table.items():
            if key not in known:
                raise ConfigError(f"banner_texts.{lang}.{key}: unknown text key (see banner_assets/i18n/en.json)")
            if not isinstance(value, str):
                raise ConfigError(f"banner_texts.{lang}.{key}: expected a string")


_TAG_ID: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _tag_from_toml(i: int, raw: object) -> Vendor:
    """One ``[[tags]]`` table: a new site tag, or, with the id of a catalogue entry, an override of that entry.

    The keys are the catalogue's (``cookiegate/policy/vendors/README.md``) plus the older ``vendor``, ``src``
    and ``cookie_lifetime``. An override replaces only the keys it gives; a new tag needs a category and a way
    to recognise it. ``necessary`` is only for re-declaring a catalogue entry (reCAPTCHA on a site that cannot
    work without it); ``cookiegate lint`` says when that entry's identifiers serve other purposes too.
    """
    where = f"tags[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    tag_id = raw.get("id")
    if not isinstance(tag_id, str) or not _TAG_ID.fullmatch(tag_id):
        raise ConfigError(f"{where}.id: expected a lower-case slug")
    where = f"tags.{tag_id}"
    base = BUILTIN_BY_ID.get(tag_id)
    if base is None and raw.get("category") == NECESSARY:
        raise ConfigError(
            f"{where}.category: a third-party tag cannot be 'necessary' (only a catalogue entry re-declared by id)"
        )
    try:
        return vendor_from_entry(raw, where=where, base=base, database=bundled_database(), site=True)
    except VendorDataError as exc:
        raise ConfigError(str(exc)) from None


_TYPES: Final[dict[str, tuple[type, ...]]] = {
    "secret_keys": (list,),
    "geoip_database": (str,),
    "trusted_proxies": (list,),
    "cookie_name": (str,),
    "cookie_domain": (str,),
    "tracker_cookie_domains": (list,),
    "cookie_secure": (bool,),
    "policy_revision": (str, int),
    "consent_max_age_days": (int,),
    "log_url": (str,),
    "ip_log_mode": (str,),
    "log_retention": (str,),
    "log_spool_dir": (str,),
    "prefix": (str,),
    "tags": (list,),
    "unclassified": (str,),
    "cookie_database": (str,),
    "regimes": (dict,),
    "csp_mode": (str,),
    "csp_allow": (list,),
    "allowed_origins": (list,),
    "max_body_bytes": (int,),
    "consent_writes_per_minute": (int,),
    "csp_reports_per_minute": (int,),
    "banner_texts": (dict,),
    "consent_mode": (str,),
    "banner_position": (str,),
    "templates_dir": (str,),
    "page_stylesheets": (list,),
    "demo_mode": (bool,),
    "admin_token": (str,),
}


def config_from_mapping(
    data: Mapping[str, Any], *, base_dir: Path | None = None, demo: bool = False, signing: bool = True
) -> Config:
    """Build a :class:`Config` from parsed TOML; unknown keys and bad types raise :class:`ConfigError`.

    ``signing=False`` is for tools that only read the decision log: they sign nothing, so the configured
    keys are neither needed nor checked (a throwaway key stands in)."""
    kwargs: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in _TYPES:
            raise ConfigError(f"{key}: unknown configuration key")
        types = _TYPES[key]
        if not isinstance(raw, types) or (isinstance(raw, bool) and bool not in types):
            raise ConfigError(f"{key}: expected {' or '.join(t.__name__ for t in types)}, got {type(raw).__name__}")
        value = cast(Any, raw)  # its type was just checked against _TYPES
        if key == "tags":
            kwargs[key] = tuple(_tag_from_toml(i, t) for i, t in enumerate(value))
        elif key in ("secret_keys", "trusted_proxies", "csp_allow", "allowed_origins", "tracker_cookie_domains",
                     "page_stylesheets"):
            if not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key}: expected a list of strings")
            kwargs[key] = tuple(value)
        elif key == "regimes":
            kwargs[key] = {str(k): v for k, v in value.items()}
            for k, v in kwargs[key].items():
                if not isinstance(v, str):
                    raise ConfigError(f"regimes.{k}: expected a regime name")
        elif key == "policy_revision":
            kwargs[key] = str(value)
        elif key in ("geoip_database", "cookie_database", "templates_dir") and base_dir is not None:
            kwargs[key] = str((base_dir / value).resolve()) if not os.path.isabs(value) else value
        else:
            kwargs[key] = value
    env_keys = os.environ.get(SECRETS_ENV)
    if env_keys:
        kwargs["secret_keys"] = tuple(k.strip() for k in env_keys.split(",") if k.strip())
    env_admin = os.environ.get(ADMIN_TOKEN_ENV)
    if env_admin:
        kwargs["admin_token"] = env_admin
    if not signing:
        kwargs["secret_keys"] = (secrets.token_urlsafe(32),)
    if demo or kwargs.get("demo_mode"):
        defaults = Config.demo()
        kwargs.setdefault("secret_keys", defaults.secret_keys)
        kwargs.setdefault("geoip_database", defaults.geoip_database)
        kwargs.setdefault("cookie_secure", False)
        kwargs.setdefault("log_url", defaults.log_url)
        kwargs.setdefault("consent_writes_per_minute", 0)
        kwargs["demo_mode"] = True
    try:
        return Config(**kwargs)
    except TypeError as exc:  # pragma: no cover - guarded by _TYPES above
        raise ConfigError(str(exc)) from None


def resolve_config_path(path: str | os.PathLike[str] | None) -> Path | None:
    """``--config FILE``, else ``$COOKIEGATE_CONFIG``, else ``./cookiegate.toml`` if present, else ``None``."""
    if path:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path(DEFAULT_CONFIG_FILE)
    return local if local.is_file() else None


def load_config(path: str | os.PathLike[str] | None = None, *, demo: bool = False, signing: bool = True) -> Config:
    """Load the configuration the way every ``cookiegate`` subcommand does.

    ``path``, else ``$COOKIEGATE_CONFIG``, else ``./cookiegate.toml``, else built-in defaults (which, outside
    demo mode, still need ``$COOKIEGATE_SECRET_KEYS``, unless ``signing=False``: see
    :func:`config_from_mapping`). Raises :class:`ConfigError` naming the bad key.
    """
    resolved = resolve_config_path(path)
    data: dict[str, Any] = {}
    base_dir: Path | None = None
    if resolved is not None:
        try:
            with resolved.open("rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file {str(resolved)!r} not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(resolved)!r}: {exc}") from None
        base_dir = resolved.parent
    return config_from_mapping(data, base_dir=base_dir, demo=demo, signing=signing)


def with_overrides(cfg: Config, **changes: Any) -> Config:
    """A copy of ``cfg`` with ``changes`` applied and validated again."""
    return replace(cfg, **changes)


__all__: Sequence[str] = ["Config", "ConfigError", "load_config", "resolve_config_path", "config_from_mapping"]
