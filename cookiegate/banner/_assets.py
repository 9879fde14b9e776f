"""The banner's static assets as served: its styles (inlined into pages that show the banner, a hashed URL
for the others) and its script (a hashed URL).

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

    __slots__ = ("css", "css_name", "js", "js_name", "pages_css")

    def __init__(self, directory: Path) -> None:
        #: Inlined into a page that shows the banner: no stylesheet request before the first paint.
        self.css = (directory / "banner.css").read_text("utf-8").strip()
        #: The same styles as a file, with a hash of their content (cached for good): what a visitor who has
        #: chosen gets, so every later page does not carry them again.
        self.css_name = f"banner.{hashlib.sha256(self.css.encode('utf-8')).hexdigest()[:12]}.css"
        #: The gateway's own pages (settings, cookie statement) add these.
        self.pages_css = (directory / "pages.css").read_text("utf-8").strip()
        self.js = compact_js((directory / "banner.js").read_text("utf-8")).encode("utf-8")
        #: The script's file name, with a hash of its content (cached for good).
        self.js_name = f"banner.{hashlib.sha256(self.js).hexdigest()[:12]}.js"
