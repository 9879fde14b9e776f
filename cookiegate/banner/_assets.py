"""The banner's static assets as served: its styles and its script, each under a hashed URL.

The styles come in two parts. ``banner.css`` is what the first layer and the placeholders need to be drawn: it
is inlined into pages that show the banner, so nothing is fetched before the first paint. ``banner-later.css``
styles what only the banner's script shows (the choices' panel, the toast) and the pointer and keyboard states:
where the banner shows, it is fetched after the first frame, with the script. Both parts as one file are linked
for visitors who have chosen, and inlined into the gateway's own pages.

The script is served compacted (comment lines and indentation dropped, newlines kept, so no statement
changes meaning); what ``scripts/banner_weight.py`` weighs is what is served.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def compact_js(source: str) -> str:
    """``source`` without its comment lines, blank lines and indentation."""
    lines = (line.strip() for line in source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")) + "\n"


class BannerAssets:
    """The styles and the script of ``directory`` (``banner_assets/``), read once."""

    __slots__ = ("css", "css_name", "first_css", "js", "js_name", "later_css", "later_css_name", "pages_css")

    def __init__(self, directory: Path) -> None:
        #: Inlined into a page that shows the banner: no stylesheet request before the first paint.
        self.first_css = (directory / "banner.css").read_text("utf-8").strip()
        #: What only the banner's script shows; its file (:attr:`later_css_name`) is fetched after the first frame.
        self.later_css = (directory / "banner-later.css").read_text("utf-8").strip()
        #: All the banner's styles, in that order.
        self.css = self.first_css + "\n" + self.later_css
        #: :attr:`css` as a file, with a hash of its content (cached for good): what a visitor who has chosen gets,
        #: so every later page does not carry the styles again.
        self.css_name = _hashed("banner", self.css.encode("utf-8"), "css")
        self.later_css_name = _hashed("banner-later", self.later_css.encode("utf-8"), "css")
        #: The gateway's own pages (settings, cookie statement) add these.
        self.pages_css = (directory / "pages.css").read_text("utf-8").strip()
        self.js = compact_js((directory / "banner.js").read_text("utf-8")).encode("utf-8")
        #: The script's file name, with a hash of its content (cached for good).
        self.js_name = _hashed("banner", self.js, "js")


def _hashed(stem: str, content: bytes, suffix: str) -> str:
    return f"{stem}.{hashlib.sha256(content).hexdigest()[:12]}.{suffix}"
