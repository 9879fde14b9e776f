"""The streaming HTML rewriter: bytes in, bytes out, no ASGI.

It scans a page as a browser's tokenizer does and rewrites only the start tags of elements that belong to a
vendor the visitor's permissions refuse, so the browser never fetches them; every other byte passes through
unchanged. Shaped like lol-html's API (https://docs.rs/lol_html): settings (the classifier, the permissions,
the limits) plus handlers (what goes into the page), then ``feed``/``finish``, or ``document`` for a body given
whole::

    rewriter = HtmlRewriter(Settings(registry, decision.permissions), Handlers(head=..., body=...))
    out = rewriter.feed(chunk) + ... + rewriter.finish()
"""

from ._attrs import attribute_urls as attribute_urls
from ._backend import SCAN_BACKEND as SCAN_BACKEND
from ._judge import url_refusal as url_refusal
from ._memo import PageResult as PageResult
from ._rewriter import HtmlRewriter as HtmlRewriter
from ._rewriter import replay_remembered as replay_remembered
from ._settings import Handlers as Handlers
from ._settings import Limits as Limits
from ._settings import Placeholder as Placeholder
from ._settings import Settings as Settings
from ._settings import TagClassifier as TagClassifier
from ._settings import TagEvent as TagEvent
from ._utf16 import Utf16Rewriter as Utf16Rewriter
from ._utf16 import could_start_a_bom as could_start_a_bom
from ._utf16 import utf16_codec as utf16_codec

__all__ = [
    "SCAN_BACKEND",
    "Handlers",
    "HtmlRewriter",
    "Limits",
    "PageResult",
    "Placeholder",
    "Settings",
    "TagClassifier",
    "TagEvent",
    "Utf16Rewriter",
    "attribute_urls",
    "could_start_a_bom",
    "replay_remembered",
    "url_refusal",
    "utf16_codec",
]
