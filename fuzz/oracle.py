"""The judge: what a browser would fetch or run from a document, read by html5lib's tree builder (the WHATWG
parsing algorithm, written independently of the rewriter's tokenizer), with scripting on and off.

An element fetches through its URL attributes (``href`` only off ``<a>``/``<area>``), its ``style``, a
``<meta http-equiv=refresh>``'s ``content`` and an ``<iframe srcdoc>`` document; a script (HTML or SVG) of a
JavaScript type runs its text; a style element (HTML or SVG) of the CSS type applies its CSS.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any, Final, Protocol

import html5lib

from cookiegate._urls import normalize_url, refresh_url
from cookiegate.policy._catalog import Vendor

XLINK: Final = "{http://www.w3.org/1999/xlink}"
#: Scripts run and style sheets apply in these namespaces (a MathML "script" or "style" is nothing).
_RUNNABLE: Final = ("{http://www.w3.org/1999/xhtml}", "{http://www.w3.org/2000/svg}")
JS_TYPES: Final = frozenset({"", "text/javascript", "application/javascript", "module", "text/ecmascript",
                             "application/ecmascript", "text/jscript", "text/livescript", "application/x-javascript",
                             "text/x-javascript", "javascript1.0", "javascript1.5"})
URL_ATTRS: Final = frozenset({"src", "srcset", "imagesrcset", "href", XLINK + "href", "data", "poster", "background",
                              "ping", "codebase", "archive", "manifest", "lowsrc", "dynsrc", "attributionsrc"})
LIST_ATTRS: Final = frozenset({"srcset", "imagesrcset", "ping", "archive", "attributionsrc"})
_CSS_ESCAPE: Final = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?|\\(.)", re.S)
_CSS_URL: Final = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))|@import\s*(?:"([^"]*)"|'([^']*)')""",
                             re.I)


class Classifier(Protocol):
    def vendor_for_url(self, url: str) -> Vendor | None: ...

    def vendor_for_inline(self, text: str) -> Vendor | None: ...


def _css_urls(css: str) -> Iterator[str]:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(2)
        code = int(m.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"

    for m in _CSS_URL.finditer(_CSS_ESCAPE.sub(one, css)):
        yield next(g for g in m.groups() if g is not None)


def _text(element: Any) -> str:
    """The element's child text content (its own text nodes, not its descendants')."""
    return (element.text or "") + "".join(child.tail or "" for child in element)


def _urls(name: str, attr: str, value: str, attrs: dict[str, str]) -> Iterator[str]:
    if attr in ("href", XLINK + "href") and name in ("a", "area"):
        return
    if attr in LIST_ATTRS:
        yield from (u for u in re.split(r"[\s,]+", value) if u)
    elif attr in URL_ATTRS:
        yield value
    elif attr == "style":
        yield from _css_urls(value)
    elif attr == "content" and name == "meta" and attrs.get("http-equiv", "").strip().lower() == "refresh":
        url = refresh_url(value)
        if url is not None:
            yield url


def leaks(document: bytes, classifier: Classifier, fires: Callable[[Vendor | None, str], bool]) -> list[str]:
    """Every fetch or script of ``document`` that reaches a vendor ``fires`` refuses, as the browser reads it."""
    found: list[str] = []
    for scripting in (False, True):
        tree = html5lib.parse(document, treebuilder="etree", namespaceHTMLElements=True, scripting=scripting,
                              transport_encoding="utf-8")
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            name = element.tag.rpartition("}")[2]
            attrs: dict[str, str] = dict(element.attrib)
            explicit = attrs.get("data-cookiegate", "").strip().lower() or None

            def refused(vendor: Vendor | None, explicit: str | None = explicit) -> bool:
                return vendor is not None and not fires(vendor, explicit or vendor.category)

            for attr, value in attrs.items():
                if attr == "srcdoc" and name == "iframe":
                    found += [f"srcdoc>{leak}" for leak in leaks(html.unescape(value).encode("utf-8", "surrogatepass"),
                                                                 classifier, fires)]
                    continue
                for url in _urls(name, attr, value, attrs):
                    if refused(classifier.vendor_for_url(normalize_url(url))):
                        found.append(f"{element.tag} {attr}={url[:80]!r} (scripting={scripting})")
            kind = attrs.get("type", "").strip().lower()
            runnable = element.tag.startswith(_RUNNABLE)
            if name == "script" and runnable and "src" not in attrs and kind in JS_TYPES:
                text = _text(element)
                if text and refused(classifier.vendor_for_inline(text)):
                    found.append(f"{element.tag} running {text[:60]!r} (scripting={scripting})")
            if name == "style" and runnable and kind in ("", "text/css"):
                for url in _css_urls(_text(element)):
                    if refused(classifier.vendor_for_url(normalize_url(url))):
                        found.append(f"{element.tag} css {url[:80]!r} (scripting={scripting})")
    return found
