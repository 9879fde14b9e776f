"""Server-side rendering of the banner, the settings control, placeholders and the gateway's pages.

One jinja2 environment with autoescaping: every visitor-controlled value (path, query, language) is
escaped, never markup. The banner's text depends only on (variant, language, GPC, re-consent), so it is
rendered once per combination and cached; its hash is what the consent log records as "what was shown".
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any, Final, Literal, Protocol, cast

import jinja2
from jinja2.filters import do_urlencode
from markupsafe import Markup, escape

from .._http import header_value, read_cookie
from .._resources import banner_assets_dir
from ..policy._catalog import BUILTIN_VENDORS, Vendor
from ..policy._categories import OPTIONAL_CATEGORIES
from ..policy._consent_mode import GOOGLE_CONSENT_MODE_VENDORS, consent_mode_state
from ..policy._decision import Decision, decide
from ..policy._jurisdiction import Regime, RegimeKind
from ..policy._location import Location
from ._i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, Translations, negotiate

__all__ = [
    "BannerRenderer",
    "DEFAULT_LANGUAGE",
    "LANGUAGE_COOKIE",
]

ConsentMode = Literal["basic", "advanced"]

#: The cookie that remembers a language picked in the switcher (a preference the visitor asked for).
LANGUAGE_COOKIE: Final = "cookiegate_lang"

_KIND_KEY: Final = {"opt-in": "opt_in", "opt-out": "opt_out", "australia": "australia", "notice": "notice"}
#: Regimes where a choice is required before anything optional runs: the banner takes focus there.
_CHOICE_REQUIRED: Final = frozenset({"opt-in", "australia"})

#: The catalog's English purposes. Only a vendor still carrying its built-in text is translated: a site's
#: [[tags]] entry that re-declares a built-in id with its own wording must keep that wording.
_BUILTIN_PURPOSES: Final = {v.id: v.purpose for v in BUILTIN_VENDORS}


class Viewer(Protocol):
    """What the renderer reads of a visit (a :class:`~cookiegate.Visit` is one)."""

    @property
    def scope(self) -> Mapping[str, Any]:
        """The request's ``client`` and ``headers``."""
        ...

    @property
    def location(self) -> Location:
        """Where the visitor is."""
        ...

    @property
    def decision(self) -> Decision:
        """The decision that gates the page."""
        ...

    @property
    def previous_revision(self) -> str | None:
        """The older policy revision the visitor consented under (re-consent), else None."""
        ...

    def language_by(self, negotiate: Callable[[Viewer], str]) -> str:
        """The visitor's language, worked out by ``negotiate`` at most once."""
        ...


class BannerRenderer:
    """Renders every piece of gateway markup. Asset URLs carry a content hash (immutable caching).

    ``texts`` are the operator's per-language overrides (``{"fr": {"accept_all": "…"}}``); ``consent_mode``
    is ``"basic"`` (Google tags blocked until consent; the default) or ``"advanced"`` (they load denied).
    """

    def __init__(
        self,
        *,
        prefix: str,
        vendors: Sequence[Vendor],
        texts: Mapping[str, Mapping[str, str]] | None = None,
        consent_mode: ConsentMode = "basic",
    ) -> None:
        self.prefix = prefix
        self.consent_mode = consent_mode
        self.assets_dir = banner_assets_dir()
        self.translations = Translations(self.assets_dir / "i18n", texts)
        self.languages: tuple[tuple[str, str], ...] = tuple(
            (code, LANGUAGE_NAMES.get(code, code)) for code in self.translations.languages
        )
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.assets_dir / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=False,
        )
        self.assets: dict[str, tuple[bytes, str]] = {}
        for name, media in (("banner.css", "text/css; charset=utf-8"), ("banner.js", "text/javascript; charset=utf-8")):
            data = (self.assets_dir / name).read_bytes()
            digest = hashlib.sha256(data).hexdigest()[:12]
            stem, ext = name.rsplit(".", 1)
            self.assets[f"{stem}.{digest}.{ext}"] = (data, media)
        self.css_url = prefix + "assets/" + next(k for k in self.assets if k.endswith(".css"))
        self.js_url = prefix + "assets/" + next(k for k in self.assets if k.endswith(".js"))
        self._vendors = tuple(vendors)
        #: Categories under which a Google tag may run (basic mode emits Consent Mode only when one is on).
        self._google_categories = frozenset(v.category for v in self._vendors if v.id in GOOGLE_CONSENT_MODE_VENDORS)
        self._render_cached = lru_cache(maxsize=256)(self._render_banner)
        self._control_cached = lru_cache(maxsize=64)(self._render_control)
        self._head_cached = lru_cache(maxsize=64)(self._render_head)
        self._body_cached = lru_cache(maxsize=1024)(self._render_body)
        self._placeholder_cached = lru_cache(maxsize=1024)(self._render_placeholder)

    def _t(self, lang: str) -> Callable[[str], str]:
        return lambda key: self.translations.get(lang, key)

    def _purpose(self, lang: str, vendor: Vendor) -> str:
        key = "vendor_purpose_" + vendor.id.replace("-", "_")
        if key not in self.translations.keys or _BUILTIN_PURPOSES.get(vendor.id) != vendor.purpose:
            return vendor.purpose
        # The key is in en.json, so get() falls back to English (the catalog's own text), never to the key.
        return self.translations.get(lang, key)

    # -- per-visitor facts -------------------------------------------------------------------------

    def language(self, visit: Viewer) -> str:
        """The language to speak to this visitor in: switcher choice, ``Accept-Language``, country, English.

        Worked out once per visit (the head, the banner, the control and every embed placeholder ask), and
        kept with the visitor's remembered decision."""
        return visit.language_by(self._negotiate)

    def _negotiate(self, visit: Viewer) -> str:
        available = self.translations.languages
        chosen = read_cookie(visit.scope["headers"], LANGUAGE_COOKIE)
        if chosen in available:
            return chosen
        accept = header_value(visit.scope["headers"], b"accept-language")
        if accept:
            lang = negotiate(available, accept_language=accept)
            if lang != DEFAULT_LANGUAGE or accept.lower().startswith("en"):
                return lang
        # Only now is the location needed (a geo lookup): most browsers send a usable Accept-Language.
        return negotiate(available, accept_language=accept, location=visit.location)

    def variant(self, visit: Viewer) -> str:
        """The banner variant: the regime kind, with ``+reconsent`` after a policy change."""
        kind = visit.decision.regime.kind
        return kind + "+reconsent" if visit.previous_revision is not None else kind

    def banner_proof(self, visit: Viewer) -> tuple[str, str, str]:
        """``(variant, language, hash)`` of the banner this visitor was shown, for the consent record."""
        decision = visit.decision
        lang = self.language(visit)
        reconsent = visit.previous_revision is not None
        variant = decision.regime.kind + ("+reconsent" if reconsent else "")
        return variant, lang, self.banner_hash(decision.regime.kind, lang, decision.gpc, reconsent=reconsent)

    # -- head: stylesheet and Google Consent Mode ---------------------------------------------------

    def consent_mode_script(self, allowed: frozenset[str], *, is_bot: bool) -> str:
        """The inline ``gtag('consent', 'default', …)`` for a decision allowing ``allowed``, or ``""`` when no
        Google tag can run.

        It is injected right after ``<head>``, so it precedes every Google tag on the page. After a choice,
        the page is reloaded (or the banner script calls ``gtag('consent', 'update', …)`` when it stays),
        so the next page's default already carries the choice.
        """
        if is_bot:
            return ""
        if self.consent_mode == "basic" and not (self._google_categories & allowed):
            return ""  # basic mode: every Google tag is blocked for this visitor, nothing to configure
        state = consent_mode_state(allowed)
        parts = [
            "window.dataLayer=window.dataLayer||[];",
            # A local gtag: the site's own snippet defines the global one the same way.
            "(function(){dataLayer.push(arguments)})('consent','default',",
            json.dumps(state, separators=(",", ":"), sort_keys=False),
            ");",
        ]
        if state["ad_storage"] == "denied":
            parts.append("(function(){dataLayer.push(arguments)})('set','ads_data_redaction',true);")
        return "<script data-cookiegate-consent-mode>" + "".join(parts) + "</script>"

    def head_html(self, visit: Viewer, decision: Decision) -> str:
        """What goes right after ``<head>``: Consent Mode defaults (before any Google tag), then the stylesheet."""
        return self.head_bytes(visit, decision).decode("utf-8")

    def head_bytes(self, visit: Viewer, decision: Decision) -> bytes:
        """:meth:`head_html`, encoded: what the rewriter injects."""
        return self._head_cached(decision.allowed, decision.is_bot)

    def _render_head(self, allowed: frozenset[str], is_bot: bool) -> bytes:
        return (self.consent_mode_script(allowed, is_bot=is_bot) + (
            f'<link rel="stylesheet" href="{self.css_url}" data-cookiegate>'
        )).encode("utf-8")

    # -- the banner ---------------------------------------------------------------------------------

    def _render_banner(self, kind: str, lang: str, gpc: bool, reconsent: bool) -> tuple[_Slotted, str]:
        template = self.env.get_template("banner.html")
        # The default decision of a visitor without a choice depends only on the regime kind and GPC.
        default = decide(location=Location.unknown(), regime=Regime(kind, cast(RegimeKind, kind)), choice=None, gpc=gpc)

        def render(next_path: str, banner_hash: str) -> str:
            return template.render(
                t=self._t(lang),
                prefix=self.prefix,
                next_path=next_path,
                banner_hash=banner_hash,
                variant=kind,
                kind_key=_KIND_KEY[kind],
                lang=lang,
                languages=self.languages,
                switcher_id="banner",
                gpc=gpc,
                reconsent=reconsent,
                required=kind in _CHOICE_REQUIRED or reconsent,
                allowed=" ".join(sorted(default.allowed)),
                close_action="reject_all" if kind == "opt-in" else "acknowledge",
                categories=OPTIONAL_CATEGORIES,
                checked={},
            )

        # The hash covers the banner without the per-request path: it proves which text and options were shown.
        banner_hash = hashlib.sha256(render("", "").encode("utf-8")).hexdigest()
        return _Slotted(render(_SLOT, banner_hash), _html_value), banner_hash

    def banner(
        self, decision: Decision, *, next_path: str, lang: str = DEFAULT_LANGUAGE, reconsent: bool = False
    ) -> tuple[str, str]:
        """The first-layer banner and the hash of what it shows."""
        kind = decision.regime.kind if decision.regime.kind in _KIND_KEY else "opt-in"
        slotted, banner_hash = self._render_cached(kind, lang, decision.gpc, reconsent)
        return slotted.fill(next_path), banner_hash

    def banner_hash(self, kind: str, lang: str, gpc: bool, *, reconsent: bool = False) -> str:
        """The hash of the banner text a visitor in ``kind`` saw (for the consent record)."""
        kind = kind if kind in _KIND_KEY else "opt-in"
        return self._render_cached(kind, lang, gpc, reconsent)[1]

    def body_html(self, visit: Viewer, decision: Decision, *, next_path: str) -> str:
        """What goes right after ``<body>``: the banner when a choice is needed, the settings control, the script."""
        return self.body_bytes(visit, decision, next_path=next_path).decode("utf-8")

    def body_bytes(self, visit: Viewer, decision: Decision, *, next_path: str) -> bytes:
        """:meth:`body_html`, encoded: what the rewriter injects (remembered per language, banner and path)."""
        if decision.is_bot:
            return b""  # crawlers get the page as people do, minus the gateway's own interface
        lang = self.language(visit)
        banner: tuple[str, bool, bool] | None = None
        if decision.needs_banner:
            kind = decision.regime.kind if decision.regime.kind in _KIND_KEY else "opt-in"
            banner = (kind, decision.gpc, visit.previous_revision is not None)
        if len(next_path) > _REMEMBERED_PATH_MAX:
            return self._render_body(lang, banner, next_path)
        # Most page views are of a few pages, by visitors in a few languages: one render and one encoding
        # each (the banner is ~4 KB), where filling in the path and encoding cost more than the lookup.
        return self._body_cached(lang, banner, next_path)

    def _render_body(self, lang: str, banner: tuple[str, bool, bool] | None, next_path: str) -> bytes:
        parts = []
        if banner is not None:
            kind, gpc, reconsent = banner
            parts.append(self._render_cached(kind, lang, gpc, reconsent)[0].fill(next_path))
        parts.append(self._control_cached(lang).fill(next_path))
        return "".join(parts).encode("utf-8")

    def _render_control(self, lang: str) -> _Slotted:
        control = self.env.get_template("control.html").render(
            t=self._t(lang), prefix=self.prefix, next_path=_SLOT, lang=lang
        )
        script = f'<script src="{self.js_url}" defer data-cookiegate></script>'
        return _Slotted(control + script, _query_value)

    def placeholder(self, visit: Viewer, vendor: Vendor | None, category: str, *, next_path: str) -> str:
        """The box shown instead of a blocked embed, naming the vendor and purpose, with a control to allow it."""
        return self._placeholder_cached(self.language(visit), vendor, category).fill(next_path)

    def _render_placeholder(self, lang: str, vendor: Vendor | None, category: str) -> _Slotted:
        t = self._t(lang)
        return _Slotted(
            self.env.get_template("placeholder.html").render(
                t=t,
                prefix=self.prefix,
                category=category,
                vendor_name=vendor.name if vendor else t("category_" + category),
                purpose=(
                    self._purpose(lang, vendor) if vendor and vendor.purpose else t("category_" + category + "_desc")
                ),
                next_path=_SLOT,
            ),
            _html_value,
        )

    # -- the gateway's own pages --------------------------------------------------------------------

    def _page(self, title: str, content: str, lang: str, next_path: str, page_path: str) -> str:
        return self.env.get_template("page.html").render(
            title=title,
            content=Markup(content),
            lang=lang,
            css_url=self.css_url,
            t=self._t(lang),
            prefix=self.prefix,
            languages=self.languages,
            switcher_id="page",
            # The switcher comes back to this page, which in turn remembers where the visitor came from.
            next_path=page_path,
        )

    def _choice_context(self, visit: Viewer, lang: str, next_path: str, policy_revision: str) -> dict[str, object]:
        decision = visit.decision
        return {
            "t": self._t(lang),
            "prefix": self.prefix,
            "next_path": next_path,
            "categories": OPTIONAL_CATEGORIES,
            "checked": {c: decision.allows(c) for c in OPTIONAL_CATEGORIES} if decision.choice else {},
            "chosen": decision.choice is not None,
            "consent_id": decision.consent_id,
            "gpc": decision.gpc,
            "policy_revision": policy_revision,
        }

    def settings_page(self, visit: Viewer, *, next_path: str, policy_revision: str) -> str:
        """The full settings page (works without JavaScript), with withdrawal once a choice exists."""
        lang = self.language(visit)
        context = self._choice_context(visit, lang, next_path, policy_revision)
        body = self.env.get_template("settings.html").render(**context)
        page_path = f"{self.prefix}settings?next={_quote(next_path)}"
        return self._page(self.translations.get(lang, "settings_title"), body, lang, next_path, page_path)

    def statement_page(self, visit: Viewer, *, policy_revision: str, next_path: str = "/") -> str:
        """The cookie statement, generated from the same registry the gateway blocks with.

        It shows the visitor's current choice with the controls to change or withdraw it, their consent
        id (with a link to download their own records) and the policy revision.
        """
        lang = self.language(visit)
        by_cat: dict[str, list[Vendor]] = {}
        for vendor in self._vendors:
            by_cat.setdefault(vendor.category, []).append(vendor)
        context = self._choice_context(visit, lang, next_path, policy_revision)
        body = self.env.get_template("statement.html").render(
            **context,
            vendors_by_category=by_cat,
            allowed=visit.decision.allowed,
            purpose=lambda vendor: self._purpose(lang, vendor),
        )
        page_path = f"{self.prefix}cookies?next={_quote(next_path)}"
        return self._page(self.translations.get(lang, "cookie_statement"), body, lang, next_path, page_path)


# Rendered fragments are cached per variant and language with this token where the request's path goes;
# the path is escaped the way the template would have escaped it, then put in. The token is plain ASCII
# letters and dashes, so autoescaping and ``urlencode`` leave it as it is, and no template or translation
# contains it (tests compare the cached fragments with direct renders).
_SLOT: Final = "cookiegate-next-path-slot-q7w3z"


def _html_value(path: str) -> str:
    """``{{ next_path }}`` under autoescape."""
    return str(escape(path))


#: Paths longer than this are filled in every time rather than remembered with the body they went into.
_REMEMBERED_PATH_MAX = 512


def _query_value(path: str) -> str:
    """``{{ next_path | urlencode }}`` under autoescape."""
    return str(escape(do_urlencode(path)))


class _Slotted:
    """A rendered fragment with slots for the request's path."""

    __slots__ = ("parts", "escape")

    def __init__(self, rendered: str, escape_path: Callable[[str], str]) -> None:
        self.parts = rendered.split(_SLOT)
        self.escape = escape_path

    def fill(self, next_path: str) -> str:
        """The fragment with ``next_path`` (escaped) in every slot."""
        if len(self.parts) == 1:
            return self.parts[0]
        return self.escape(next_path).join(self.parts)


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")
