"""The response side of the gateway: every response's headers, and the rewrite of every HTML body."""

from ._body import ResponseGate as ResponseGate
from ._body import scrub_hosts as scrub_hosts
from ._headers import HTML_PAGE as HTML_PAGE
from ._headers import NOT_A_PAGE as NOT_A_PAGE
from ._headers import OTHER_DOCUMENT as OTHER_DOCUMENT
from ._headers import make_private as make_private
from ._headers import merge_vary as merge_vary
from ._headers import page_kind as page_kind

__all__ = [
    "HTML_PAGE",
    "NOT_A_PAGE",
    "OTHER_DOCUMENT",
    "ResponseGate",
    "make_private",
    "merge_vary",
    "page_kind",
    "scrub_hosts",
]
