"""Which URLs an inline script makes the browser request: what makes it a loader.

A script is a loader of a URL when it hands that URL to something that fetches: it sets an element's ``src`` (a
script, image or iframe it created), calls ``fetch``, ``navigator.sendBeacon``, ``importScripts`` or an
``XMLHttpRequest``'s ``open``, writes markup with ``document.write``, or starts a worker, an event source or a
web socket. A script that merely mentions a URL (a link in a string, a share button's ``href``, a config object,
structured data) requests nothing and is no loader.

Read from the source text, without running it:

* a URL string literal handed straight to a fetching call or ``src`` assignment is requested;
* a fetching call or ``src`` assignment whose argument is not a string literal (``s.src = u``, ``fetch(url)``)
  may request any URL the script holds: then every URL string literal of the script counts;
* otherwise nothing is requested.

``<script>`` element markup inside the text (``document.write('<img src=…>')``) is the safety net's: it is
read there as a tag.
"""

from __future__ import annotations

import re
from typing import Final

#: A string literal that starts with an absolute or protocol-relative URL (slashes may be JSON-escaped).
_URL_LITERAL: Final = re.compile(
    r"""(["'`])((?:[A-Za-z][A-Za-z0-9+.\-]*:)?(?:\\?/){2}[^"'`\s\\]*(?:\\/[^"'`\s\\]*)*)"""
)
#: What hands the value that follows it to a fetch: a call's first argument, an ``src`` assignment, the URL
#: argument of ``open``, a module specifier. Matched so that it ends right where the argument starts; a
#: ``document.write`` (group ``markup``) writes markup, so whatever it writes counts as computed.
_SINK: Final = re.compile(
    r"""(?:\bfetch|\.sendBeacon|\bimportScripts|\bnew\s+(?:Shared)?Worker|\bnew\s+EventSource|\bnew\s+WebSocket"""
    r"""|\bgetScript|\bimport)\s*\(\s*"""
    r"""|(?P<markup>\bdocument\s*\.\s*write(?:ln)?\s*\()"""
    r"""|\.src\s*=(?!=)\s*"""
    r"""|\.setAttribute\s*\(\s*(["'])src\2\s*,\s*"""
    r"""|\.open\s*\(\s*(["'])[A-Za-z]+\3\s*,\s*"""
    r"""|\bimport\s+(?:[\w$*{}\s,]+\s+from\s*)?(?=["'])"""
)
#: The script types a browser runs (https://html.spec.whatwg.org/multipage/scripting.html#prepare-the-script-element):
#: none, a JavaScript MIME type, or ``module``; every other type is a data block (JSON-LD, templates).
_JAVASCRIPT_TYPES: Final = frozenset(
    {"", "module", "application/ecmascript", "application/javascript", "application/x-ecmascript",
     "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0", "text/javascript1.1",
     "text/javascript1.2", "text/javascript1.3", "text/javascript1.4", "text/javascript1.5", "text/jscript",
     "text/livescript", "text/x-ecmascript", "text/x-javascript"}
)
#: The characters that open a string literal.
_QUOTES: Final = "\"'`"


def _host_is_static(url: str) -> bool:
    """Whether the host of a URL literal is written out (not cut short by a template substitution)."""
    rest = url.split("//", 1)[-1] if "//" in url else url
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return bool(host) and "${" not in host


def requested_urls(text: str) -> list[str]:
    """The absolute URLs ``text`` (an inline script) makes the browser request, in order: those handed straight
    to a fetching call first, then, when some fetching call takes a computed value, every other URL literal."""
    if "//" not in text and "\\/\\/" not in text:
        return []
    named = [m for m in _URL_LITERAL.finditer(text) if _host_is_static(m.group(2))]
    if not named:
        return []
    direct: list[str] = []
    computed = False
    for sink in _SINK.finditer(text):
        at = sink.end()
        if sink.group("markup") is not None:
            computed = True
        elif at < len(text) and text[at] in _QUOTES:
            literal = _URL_LITERAL.match(text, at)
            if literal is not None and _host_is_static(literal.group(2)):
                direct.append(literal.group(2).replace("\\/", "/"))
            elif literal is not None:
                computed = True  # a template literal whose host is computed
        else:
            computed = True
    if not computed:
        return direct
    return direct + [url for m in named if (url := m.group(2).replace("\\/", "/")) not in direct]


def runs(script_type: str | None) -> bool:
    """Whether a ``<script>`` of this ``type`` attribute (``None``: none) is run by the browser, not a data block."""
    return script_type is None or script_type.strip().lower() in _JAVASCRIPT_TYPES


__all__ = ["requested_urls", "runs"]
