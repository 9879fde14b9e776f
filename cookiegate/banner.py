"""Server-side rendering of the banner, the settings control, placeholders and the gateway's pages.

One jinja2 environment with autoescaping: every visitor-controlled value (path, query, language) is
escaped, never markup.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import jinja2
from markupsafe import Markup

from .catalog import Vendor
from .categories import OPTIONAL_CATEGORIES
from .decision import Decision
from .resources import banner_assets_dir

if TYPE_CHECKING:
    from .gateway import Visit

DEFAULT_LANGUAGE: Final = "en"

_KIND_KEY: Final = {"opt-in": "opt_in", "opt-out": "opt_out", "australia": "australia", "notice": "notice"}


class Translations:
    """Texts per language, with fallback to English: a missing key never shows raw."""

    def __init__(self, directory: Path, overrides: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._texts: dict[str, dict[str, str]] = {}
        for file in sorted(directory.glob("*.json")):
            self._texts[file.stem] = json.loads(file.read_text("utf-8"))
        for lang, texts in (overrides or {}).items():
            self._texts.setdefault(lang, {}).update(texts)
        if DEFAULT_LANGUAGE not in self._texts:
            raise RuntimeError(f"banner translations: {DEFAULT_LANGUAGE}.json is missing in {directory}")

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with a translation file."""
        return tuple(sorted(self._texts))

    def get(self, lang: str, key: str) -> str:
        """The text for ``key`` in ``lang``, else in English, else a readable form of the key."""
        return self._texts.get(lang, {}).get(key) or self._texts[DEFAULT_LANGUAGE].get(key) or key.replace("_", " ")


class BannerRenderer:
    """Renders every piece of gateway markup. Asset URLs carry a content hash (immutable caching)."""

    def __init__(self, *, prefix: str, vendors: Sequence[Vendor]) -> None:
        self.prefix = prefix
        self.assets_dir = banner_assets_dir()
        self.translations = Translations(self.assets_dir / "i18n")
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
        self._render_cached = lru_cache(maxsize=256)(self._render_banner)

    def _t(self, lang: str) -> Any:
        return lambda key: self.translations.get(lang, key)

    def language(self, visit: Visit) -> str:
        """The language to speak to this visitor in."""
        return DEFAULT_LANGUAGE

    def head_html(self, visit: Visit, decision: Decision) -> str:
        """What goes right after ``<head>``: the banner stylesheet."""
        return f'<link rel="stylesheet" href="{self.css_url}" data-cookiegate>'

    def banner_proof(self, visit: Visit) -> tuple[str, str, str]:
        """``(variant, language, hash)`` of the banner this visitor was shown, for the consent record."""
        decision = visit.decision
        lang = self.language(visit)
        return decision.regime.kind, lang, self.banner_hash(decision.regime.kind, lang, decision.gpc)

    def variant(self, decision: Decision) -> str:
        """The banner variant for the decision's regime."""
        return decision.regime.kind

    def _render_banner(self, kind: str, lang: str, gpc: bool, next_path: str) -> tuple[str, str]:
        template = self.env.get_template("banner.html")
        # The hash covers the banner without the per-request path: it proves which text and options were shown.
        probe = template.render(
            t=self._t(lang),
            prefix=self.prefix,
            next_path="",
            banner_hash="",
            variant=kind,
            kind_key=_KIND_KEY[kind],
            lang=lang,
            gpc=gpc,
            categories=OPTIONAL_CATEGORIES,
            checked={},
        )
        banner_hash = hashlib.sha256(probe.encode("utf-8")).hexdigest()
        html = template.render(
            t=self._t(lang),
            prefix=self.prefix,
            next_path=next_path,
            banner_hash=banner_hash,
            variant=kind,
            kind_key=_KIND_KEY[kind],
            lang=lang,
            gpc=gpc,
            categories=OPTIONAL_CATEGORIES,
            checked={},
        )
        return html, banner_hash

    def banner(self, decision: Decision, *, next_path: str, lang: str = DEFAULT_LANGUAGE) -> tuple[str, str]:
        """The first-layer banner and the hash of what it shows."""
        return self._render_cached(decision.regime.kind, lang, decision.gpc, next_path)

    def banner_hash(self, kind: str, lang: str, gpc: bool) -> str:
        """The hash of the banner text a visitor in ``kind`` saw (for the consent record)."""
        kind = kind if kind in _KIND_KEY else "opt-in"
        return self._render_cached(kind, lang, gpc, "")[1]

    def body_html(self, visit: Visit, decision: Decision, *, next_path: str) -> str:
        """What goes right after ``<body>``: the banner when a choice is needed, the settings control, the script."""
        lang = self.language(visit)
        parts = []
        if decision.needs_banner:
            parts.append(self.banner(decision, next_path=next_path, lang=lang)[0])
        if not decision.is_bot:
            parts.append(
                self.env.get_template("control.html").render(t=self._t(lang), prefix=self.prefix, next_path=next_path)
            )
            parts.append(f'<script src="{self.js_url}" defer data-cookiegate></script>')
        return "".join(parts)

    def placeholder(self, visit: Visit, vendor: Vendor | None, category: str, *, next_path: str) -> str:
        """The box shown instead of a blocked embed, naming the vendor and purpose, with a control to allow it."""
        t = self._t(self.language(visit))
        return self.env.get_template("placeholder.html").render(
            t=t,
            prefix=self.prefix,
            category=category,
            vendor_name=vendor.name if vendor else t("category_" + category),
            purpose=(vendor.purpose if vendor and vendor.purpose else t("category_" + category + "_desc")),
            next_path=next_path,
        )

    def _page(self, title: str, content: str, lang: str) -> str:
        return self.env.get_template("page.html").render(
            title=title, content=Markup(content), lang=lang, css_url=self.css_url
        )

    def settings_page(self, visit: Visit, *, next_path: str, policy_revision: str) -> str:
        """The full settings page (works without JavaScript), with withdrawal once a choice exists."""
        decision = visit.decision
        lang = self.language(visit)
        t = self._t(lang)
        checked = {c: decision.allows(c) for c in OPTIONAL_CATEGORIES} if decision.choice else {}
        body = self.env.get_template("settings.html").render(
            t=t,
            prefix=self.prefix,
            next_path=next_path,
            categories=OPTIONAL_CATEGORIES,
            checked=checked,
            chosen=decision.choice is not None,
            consent_id=decision.consent_id,
            gpc=decision.gpc,
            policy_revision=policy_revision,
        )
        return self._page(t("settings_title"), body, lang)

    def statement_page(self, visit: Visit, *, policy_revision: str) -> str:
        """The cookie statement, generated from the same registry the gateway blocks with."""
        decision = visit.decision
        lang = self.language(visit)
        t = self._t(lang)
        by_cat: dict[str, list[Vendor]] = {}
        for vendor in self._vendors:
            by_cat.setdefault(vendor.category, []).append(vendor)
        body = self.env.get_template("statement.html").render(
            t=t,
            prefix=self.prefix,
            categories=OPTIONAL_CATEGORIES,
            vendors_by_category=by_cat,
            allowed=decision.allowed,
            consent_id=decision.consent_id,
            policy_revision=policy_revision,
        )
        return self._page(t("cookie_statement"), body, lang)
