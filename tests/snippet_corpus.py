"""The snippet corpus (``tests/fixtures/snippets``) and the one reader of what a snippet makes a browser fetch,
shared by the unit tests and the Chromium corpus test."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

SNIPPETS: Final = Path(__file__).parent / "fixtures" / "snippets"
MANIFEST: Final = tomllib.loads((SNIPPETS / "SOURCES.toml").read_text("utf-8"))
#: One table per corpus file: ``file``, ``vendor``, ``family``, ``source``, ``what``.
CORPUS: Final[list[dict[str, str]]] = MANIFEST["snippet"]
#: An invented vendor's snippet: hosts and calls no catalogue knows.
UNCLASSIFIED: Final = SNIPPETS / "unclassified" / "quillmetrics.html"

#: (tag, attribute) pairs whose value a browser fetches. <a href>, data-href and canonical links do not.
_FETCH_ATTRS: Final = frozenset({
    ("script", "src"), ("img", "src"), ("img", "srcset"), ("iframe", "src"), ("video", "src"), ("video", "poster"),
    ("audio", "src"), ("source", "src"), ("source", "srcset"), ("embed", "src"), ("object", "data"),
})  # fmt: skip
_FETCH_RELS: Final = frozenset({"stylesheet", "preload", "modulepreload", "prefetch", "icon", "preconnect"})


@dataclass(frozen=True, slots=True)
class Fetch:
    """One URL a browser would fetch (``preconnect`` only opens a connection), and the element it is on."""

    tag: str
    url: str
    rel: str = ""

    @property
    def without_javascript(self) -> bool:
        """Fetched by Chromium with JavaScript off (no scripts, no script preloads, no bare connections)."""
        return self.tag not in ("script",) and self.rel not in ("preconnect", "modulepreload", "preload", "prefetch")


class SnippetParser(HTMLParser):
    """What a browser would fetch from some HTML, and its inline script texts (attributes entity-decoded, as in
    the rewriter). ``<noscript>`` content counts: a browser without JavaScript reads it as markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fetches: list[Fetch] = []
        self.inline_scripts: list[str] = []
        self._in_inline_script = False

    @property
    def urls(self) -> list[str]:
        """Every fetched URL, in document order."""
        return [f.url for f in self.fetches]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if (tag, name) in _FETCH_ATTRS:
                parts = [p.split()[0] for p in value.split(",") if p.strip()] if name == "srcset" else [value]
                self.fetches += [Fetch(tag, part) for part in parts]
        rels = set(values.get("rel", "").lower().split())
        if tag == "link" and _FETCH_RELS & rels:
            self.fetches.append(Fetch(tag, values["href"], " ".join(sorted(_FETCH_RELS & rels))))
        self._in_inline_script = tag == "script" and "src" not in values

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script and data.strip():
            self.inline_scripts.append(data)


def parse_snippet(path: Path) -> SnippetParser:
    """The fetches and inline scripts of one file."""
    parser = SnippetParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def corpus_by_family() -> dict[str, list[dict[str, str]]]:
    """The corpus grouped by catalogue family, in manifest order."""
    families: dict[str, list[dict[str, str]]] = {}
    for snippet in CORPUS:
        families.setdefault(snippet["family"], []).append(snippet)
    return families
