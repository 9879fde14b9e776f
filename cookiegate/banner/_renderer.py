"""Server-side rendering of what the gateway puts into the site's pages: head, banner, control, placeholders.

One jinja2 environment with autoescaping: every visitor-controlled value (path, query, language) is
escaped, never markup. Every fragment is derived from the decision that gates the page: the banner's ticks,
``window.cookiegate`` and the Consent Mode defaults. Fragments are rendered once per combination of what
they show and cached; the banner's hash is what the consent log records as "what was shown".
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import jinja2
from jinja2.filters import do_urlencode
from markupsafe import Markup

from .._cache import BoundedCache
from .._http import header_value, read_cookie
from .._resources import banner_assets_dir
from .._site_vendors import SiteUsage
from ..policy._catalog import BUILTIN_VENDORS, Vendor
from ..policy._consent_mode import GOOGLE_CONSENT_MODE_VENDORS, consent_mode_state
from ..policy._decision import Decision, Permissions
from ..policy._location import Location
from ._assets import BannerAssets
from ._choices import CategoryRow, choice_rows, gpc_refused
from ._i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, Translations, negotiate
from ._slotted import QUERY_SLOT, SLOT, Slotted, html_value, query_value
from ._state import api_script, client_state

__all__ = [
    "BannerRenderer",
    "DEFAULT_LANGUAGE",
    "LANGUAGE_COOKIE",
]

ConsentMode = Literal["basic", "advanced"]
Position = Literal["bottom", "corner"]

#: The cookie that remembers a language picked in the switcher (a preference the visitor asked for).
LANGUAGE_COOKIE: Final = "cookiegate_lang"

_KIND_KEY: Final = {"opt-in": "opt_in", "opt-out": "opt_out", "australia": "australia", "notice": "notice"}
#: Regimes where a choice is required before anything optional runs: the banner takes focus there.
_CHOICE_REQUIRED: Final = frozenset({"opt-in", "australia"})

#: The catalog's English purposes. Only a vendor still carrying its built-in text is translated: a site's
#: [[tags]] entry that re-declares a built-in id with its own wording must keep that wording.
_BUILTIN_PURPOSES: Final = {v.id: v.purpose for v in BUILTIN_VENDORS}
#: Paths longer than this are filled in every time rather than remembered with the body they went into.
_REMEMBERED_PATH_MAX: Final = 512

#: What a banner shows: kind, language, reconsent, focus taken, what fires, what GPC turned off, usage key.
BannerKey = tuple[str, str, bool, bool, Permissions, frozenset[str], int]


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


def _empty_usage() -> SiteUsage:
    return SiteUsage()


class BannerRenderer:
    """Renders every piece of gateway markup. Asset URLs carry a content hash (immutable caching).

    ``texts`` are the operator's per-language overrides (``{"fr": {"accept_all": "…"}}``); ``consent_mode``
    is ``"basic"`` (Google tags blocked until consent; the default) or ``"advanced"`` (they load denied).
    ``usage`` gives the current snapshot of the vendors the site uses; ``templates_dir`` holds the operator's
    templates, which replace the bundled ones of the same name; ``load_once`` offers "Load this once" on
    placeholders (not under an enforced CSP, which would refuse the embed's host anyway).
    """

    def __init__(
        self,
        *,
        prefix: str,
        vendors: Sequence[Vendor],
        texts: Mapping[str, Mapping[str, str]] | None = None,
        consent_mode: ConsentMode = "basic",
        usage: Callable[[], SiteUsage] = _empty_usage,
        policy_revision: str = "1",
        position: Position = "bottom",
        templates_dir: str | None = None,
        page_stylesheets: Sequence[str] = (),
        load_once: bool = True,
    ) -> None:
        self.prefix = prefix
        self.consent_mode = consent_mode
        self.usage = usage
        self.policy_revision = policy_revision
        self.position = position
        self.page_stylesheets = tuple(page_stylesheets)
        self.load_once = load_once
        self.assets_dir = banner_assets_dir()
        self.translations = Translations(self.assets_dir / "i18n", texts)
        self.languages: tuple[tuple[str, str], ...] = tuple(
            (code, LANGUAGE_NAMES.get(code, code)) for code in self.translations.languages
        )
        bundled = jinja2.FileSystemLoader(self.assets_dir / "templates")
        loader: jinja2.BaseLoader = (
            jinja2.ChoiceLoader([jinja2.FileSystemLoader(Path(templates_dir)), bundled]) if templates_dir else bundled
        )
        self.env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
        self.env.filters["breakable"] = breakable
        static = BannerAssets(self.assets_dir)
        self.css = static.css
        self.first_css = static.first_css
        self.pages_css = static.pages_css
        self.js_url = f"{prefix}assets/{static.js_name}"
        self.css_url = f"{prefix}assets/{static.css_name}"
        self.later_css_url = f"{prefix}assets/{static.later_css_name}"
        #: What ``{prefix}assets/<name>`` serves: (bytes, media type).
        self.assets: dict[str, tuple[bytes, str]] = {
            static.js_name: (static.js, "text/javascript; charset=utf-8"),
            static.css_name: (static.css.encode("utf-8"), "text/css; charset=utf-8"),
            static.later_css_name: (static.later_css.encode("utf-8"), "text/css; charset=utf-8"),
        }
        self._vendors = tuple(vendors)
        #: Categories under which a Google tag may run (basic mode emits Consent Mode only when one is on).
        self._google_categories = frozenset(v.category for v in self._vendors if v.id in GOOGLE_CONSENT_MODE_VENDORS)
        # Keyed by everything the fragment shows (never by the decision itself): decisions that show the same
        # share one rendering.
        self._banners: BoundedCache[BannerKey, tuple[Slotted, str]] = BoundedCache(256)
        self._heads: BoundedCache[tuple[object, ...], bytes] = BoundedCache(256)
        self._bodies: BoundedCache[tuple[object, ...], bytes] = BoundedCache(1024)
        self._filled: BoundedCache[tuple[Slotted, str], bytes] = BoundedCache(1024)
        self._control_cached = lru_cache(maxsize=64)(self._render_control)
        self._placeholder_cached = lru_cache(maxsize=1024)(self._render_placeholder)

    def t(self, lang: str) -> Callable[[str], str]:
        """The text getter templates call as ``t("key")``, in ``lang``."""
        return lambda key: self.translations.get(lang, key)

    def purpose(self, lang: str, vendor: Vendor) -> str:
        """A vendor's purpose in ``lang``: the built-in text translated, a site's own wording as written."""
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
        lang = self.language(visit)
        reconsent = visit.previous_revision is not None
        return self.variant(visit), lang, self._banner(visit.decision, lang, reconsent, self.usage())[1]

    # -- head: Consent Mode, the styles, window.cookiegate ------------------------------------------------

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

    def client_state(self, decision: Decision) -> dict[str, Any]:
        """What ``window.cookiegate.choice()`` answers for ``decision``."""
        return client_state(decision, self.usage(), self.policy_revision)

    def head_html(self, visit: Viewer, decision: Decision) -> str:
        """What goes right after ``<head>``: Consent Mode defaults, the banner's styles, ``window.cookiegate``."""
        return self.head_bytes(visit, decision).decode("utf-8")

    def head_bytes(self, visit: Viewer, decision: Decision) -> bytes:
        """:meth:`head_html`, encoded: what the rewriter injects (remembered per decision as shown)."""
        usage = self.usage()
        key = (decision.permissions, decision.is_bot, decision.regime.kind, gpc_refused(decision),
               decision.choice is not None, decision.needs_banner, usage.key)  # fmt: skip
        found = self._heads.get(key)
        if found is None:
            later = ""
            if decision.is_bot:
                styles = ""
            elif decision.needs_banner:
                # Inline, what the first layer needs: a stylesheet request here would hold its first paint back.
                # The rest comes after the first frame, with the script that shows what it styles.
                styles = f"<style data-cookiegate>{self.first_css}</style>"
                later = self.later_css_url
            else:
                # No banner (the visitor has chosen): the styles from a hashed URL, fetched once and then kept by
                # the browser for good, rather than carried in every page they see.
                styles = f'<link rel="stylesheet" href="{self.css_url}" data-cookiegate>'
            # Crawlers get the state (a site's script may ask) but not the banner's script: there is no banner.
            script = "" if decision.is_bot else self.js_url
            api = api_script(client_state(decision, usage, self.policy_revision), self.prefix, script, later)
            head = self.consent_mode_script(decision.allowed, is_bot=decision.is_bot) + styles + api
            found = self._heads.put(key, head.encode("utf-8"))
        return found

    # -- the banner ---------------------------------------------------------------------------------

    def _banner(self, decision: Decision, lang: str, reconsent: bool, usage: SiteUsage) -> tuple[Slotted, str]:
        """The banner for ``decision`` with its hash, rendered once per everything it shows."""
        kind = decision.regime.kind if decision.regime.kind in _KIND_KEY else "opt-in"
        required = (kind in _CHOICE_REQUIRED or reconsent) and decision.needs_banner
        gpc_off = gpc_refused(decision)
        key = (kind, lang, reconsent, required, decision.permissions, gpc_off, usage.key)
        found = self._banners.get(key)
        if found is None:
            found = self._banners.put(key, self._render_banner(key, choice_rows(decision, usage)))
        return found

    def _render_banner(self, key: BannerKey, rows: tuple[CategoryRow, ...]) -> tuple[Slotted, str]:
        kind, lang, reconsent, required, _permissions, gpc_off, _usage = key
        template = self.env.get_template("banner.html")

        def render(next_path: str, banner_hash: str) -> str:
            return template.render(
                t=self.t(lang),
                prefix=self.prefix,
                next_path=next_path,
                next_query=QUERY_SLOT if next_path == SLOT else _quote_value(next_path),
                banner_hash=banner_hash,
                variant=kind,
                position=self.position,
                kind_key=_KIND_KEY[kind],
                lang=lang,
                languages=self.languages,
                switcher_id="banner",
                gpc_applied=bool(gpc_off),
                reconsent=reconsent,
                required=required,
                close_action="reject_all" if kind == "opt-in" else "acknowledge",
                rows=rows,
                vendors_shown=" ".join(v.id for row in rows for v in row.vendors),
            )

        # The hash covers the banner without the per-request path: it proves which text and options were shown.
        banner_hash = hashlib.sha256(render("", "").encode("utf-8")).hexdigest()
        return Slotted(render(SLOT, banner_hash), html_value), banner_hash

    def banner(
        self, decision: Decision, *, next_path: str, lang: str = DEFAULT_LANGUAGE, reconsent: bool = False
    ) -> tuple[str, str]:
        """The first-layer banner for ``decision`` (ticked as it decides) and the hash of what it shows."""
        slotted, banner_hash = self._banner(decision, lang, reconsent, self.usage())
        return slotted.fill(next_path), banner_hash

    def body_html(self, visit: Viewer, decision: Decision, *, next_path: str) -> str:
        """What goes right after ``<body>``: the banner when a choice is needed, the settings control, the script."""
        return self.body_bytes(visit, decision, next_path=next_path).decode("utf-8")

    def body_bytes(self, visit: Viewer, decision: Decision, *, next_path: str) -> bytes:
        """:meth:`body_html`, encoded: what the rewriter injects (remembered per language, banner and path)."""
        if decision.is_bot:
            return b""  # crawlers get the page as people do, minus the gateway's own interface
        lang = self.language(visit)
        banner = (
            self._banner(decision, lang, visit.previous_revision is not None, self.usage())[0]
            if decision.needs_banner
            else None
        )
        if len(next_path) > _REMEMBERED_PATH_MAX:
            return self._render_body(lang, banner, next_path)
        # Most page views are of a few pages, by visitors in a few languages: one render and one encoding
        # each (the banner is ~4 KB), where filling in the path and encoding cost more than the lookup.
        key = (lang, banner, next_path)
        found = self._bodies.get(key)
        if found is None:
            found = self._bodies.put(key, self._render_body(lang, banner, next_path))
        return found

    def _render_body(self, lang: str, banner: Slotted | None, next_path: str) -> bytes:
        parts = [] if banner is None else [banner.fill(next_path)]
        parts.append(self._control_cached(lang).fill(next_path))
        return "".join(parts).encode("utf-8")

    def _render_control(self, lang: str) -> Slotted:
        control = self.env.get_template("control.html").render(
            t=self.t(lang), prefix=self.prefix, next_path=SLOT, lang=lang
        )
        return Slotted(control, query_value)

    # -- placeholders ---------------------------------------------------------------------------------

    def placeholder(self, visit: Viewer, vendor: Vendor | None, category: str, *, next_path: str) -> bytes:
        """The box shown instead of a blocked embed: the vendor and purpose, "Load this once" and "Always allow"
        (encoded, as the rewriter puts it in; remembered per box and path, as the body is)."""
        slotted = self._placeholder_cached(self.language(visit), vendor, category)
        if len(next_path) > _REMEMBERED_PATH_MAX:
            return slotted.fill(next_path).encode("utf-8")
        key = (slotted, next_path)
        found = self._filled.get(key)
        if found is None:
            found = self._filled.put(key, slotted.fill(next_path).encode("utf-8"))
        return found

    def _render_placeholder(self, lang: str, vendor: Vendor | None, category: str) -> Slotted:
        t = self.t(lang)
        return Slotted(
            self.env.get_template("placeholder.html").render(
                t=t,
                prefix=self.prefix,
                category=category,
                vendor_id=vendor.id if vendor else None,
                name=vendor.name if vendor else t("category_" + category),
                purpose=(
                    self.purpose(lang, vendor) if vendor and vendor.purpose else t("category_" + category + "_desc")
                ),
                once=self.load_once,
                next_path=SLOT,
            ),
            html_value,
        )

    # -- the gateway's own pages --------------------------------------------------------------------

    def _page(self, title: str, content: str, lang: str, decision: Decision, page_path: str) -> str:
        t = self.t(lang)
        status = self.env.get_template("status.html").render(t=t, lang=lang)
        return self.env.get_template("page.html").render(
            title=title,
            content=Markup(content),
            lang=lang,
            banner_css=Markup(self.css),
            pages_css=Markup(self.pages_css),
            page_stylesheets=self.page_stylesheets,
            api_script=Markup(api_script(self.client_state(decision), self.prefix, self.js_url)),
            control=Markup(status),
            t=t,
            prefix=self.prefix,
            languages=self.languages,
            switcher_id="page",
            # The switcher comes back to this page, which in turn remembers where the visitor came from.
            next_path=page_path,
            next_query=_quote_value(page_path),
        )

    def _choice_context(self, decision: Decision, lang: str, next_path: str, usage: SiteUsage) -> dict[str, Any]:
        rows = choice_rows(decision, usage)
        return {
            "t": self.t(lang),
            "prefix": self.prefix,
            "next_path": next_path,
            "rows": rows,
            "vendors_shown": " ".join(v.id for row in rows for v in row.vendors),
            "chosen": decision.choice is not None,
            "withdrawable": decision.choice is not None and any(r.on or any(v.on for v in r.vendors) for r in rows),
            "consent_id": decision.consent_id,
            "gpc_applied": bool(gpc_refused(decision)),
            "policy_revision": self.policy_revision,
        }

    def settings_page(self, visit: Viewer, *, next_path: str) -> str:
        """The full settings page (works without JavaScript), ticked as the page's decision runs."""
        lang = self.language(visit)
        context = self._choice_context(visit.decision, lang, next_path, self.usage())
        body = self.env.get_template("settings.html").render(**context)
        page_path = f"{self.prefix}settings?next={_quote(next_path)}"
        return self._page(self.translations.get(lang, "settings_title"), body, lang, visit.decision, page_path)

    def statement_page(self, visit: Viewer, *, next_path: str = "/", usage: SiteUsage | None = None) -> str:
        """The cookie statement: what the site uses (its own tags and the vendors seen on its pages, with the
        day each was last seen, and the unclassified hosts), the visitor's choice with the controls to change
        or withdraw it, their consent id (with a link to their own records) and the policy revision."""
        lang = self.language(visit)
        usage = usage if usage is not None else self.usage()
        context = self._choice_context(visit.decision, lang, next_path, usage)
        body = self.env.get_template("statement.html").render(
            **context, usage=usage, purpose=lambda vendor: self.purpose(lang, vendor)
        )
        page_path = f"{self.prefix}cookies?next={_quote(next_path)}"
        return self._page(self.translations.get(lang, "cookie_statement"), body, lang, visit.decision, page_path)


def _quote(path: str) -> str:
    return urllib.parse.quote(path, safe="/")


def _quote_value(path: str) -> str:
    """``path`` as a query value (what ``QUERY_SLOT`` is filled with; the template escapes it for HTML)."""
    return str(do_urlencode(path))


_BREAK_AFTER: Final = re.compile(r"(?<=[^\s_.:/][_.:/])(?=[^\s_.:/])")


def breakable(text: str) -> Markup:
    """``text`` escaped, with a line-break opportunity after each ``_``, ``.``, ``:`` and ``/`` inside a word.

    Cookie names and hosts are long identifiers with no space (``_zdsession_talk_embeddables_service``):
    on a phone they must wrap at their own separators rather than overflow or break between two letters."""
    return Markup(_BREAK_AFTER.sub("<wbr>", str(Markup.escape(text))))
