"""Deterministic pages for the benchmark: a realistic ~100 KB marketing/blog page carrying real vendor
snippets, and a streamed page of any size built from the same parts.

The page is what a CMS emits: a head with the vendors' snippets (GTM, GA4, Meta Pixel, Hotjar, LinkedIn,
Clarity), a first-party stylesheet and scripts, then an article with many first-party links, images,
``srcset``s, inline SVG icons, a ``<style>`` block, a JSON-LD script, a YouTube embed and the vendors'
``<noscript>`` pixels. Nothing random: the same bytes every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Final

_TEMPLATES: Final = Path(__file__).resolve().parent.parent / "cookiegate" / "demo" / "templates"
_HEAD_SNIPPETS: Final = ("vendor_gtm_head.html", "vendor_ga4.html", "vendor_meta_pixel.html",
                         "vendor_hotjar.html", "vendor_clarity.html")
_BODY_SNIPPETS: Final = ("vendor_gtm_body.html", "vendor_linkedin.html")


def _snippet(name: str) -> str:
    return (_TEMPLATES / name).read_text("utf-8")


@lru_cache(maxsize=1)
def head() -> bytes:
    """Doctype, ``<head>`` with first-party assets and the vendors' head snippets, and ``<body>``."""
    parts = [
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        "<title>Kactuce CRM+ &mdash; the friendly CRM for growing teams</title>\n",
        "<link rel=\"stylesheet\" href=\"/static/site.css?v=3\">\n",
        "<link rel=\"icon\" href=\"/static/logo.svg\" type=\"image/svg+xml\">\n",
        "<link rel=\"preconnect\" href=\"https://fonts.kactuce.com\" crossorigin>\n",
        "<style>:root{--accent:#2b7a4b}.hero{background:url(/static/hero.jpg) center/cover}"
        "@font-face{font-family:K;src:url(https://fonts.kactuce.com/k.woff2) format('woff2')}</style>\n",
        "<script type=\"application/ld+json\">{\"@context\":\"https://schema.org\",\"@type\":\"Organization\","
        "\"name\":\"Kactuce\",\"url\":\"https://kactuce.com\",\"logo\":\"https://kactuce.com/static/logo.svg\"}"
        "</script>\n",
        "<script src=\"/static/site.js\" defer></script>\n",
    ]
    parts += [_snippet(name) for name in _HEAD_SNIPPETS]
    parts.append("</head>\n<body class=\"page\">\n")
    parts += [_snippet(name) for name in _BODY_SNIPPETS]
    parts.append("<header class=\"top\"><nav><a href=\"/\"><img src=\"/static/logo.svg\" alt=\"Kactuce\" "
                 "width=\"120\" height=\"32\"></a><ul>"
                 + "".join(f"<li><a href=\"/{p}\">{p.title()}</a></li>"
                           for p in ("pricing", "blog", "community", "privacy", "docs", "careers"))
                 + "</ul></nav></header>\n<main>\n")
    return "".join(parts).encode("utf-8")


_ICON: Final = ("<svg class=\"icon\" viewBox=\"0 0 24 24\" aria-hidden=\"true\"><path d=\"M12 2l3 7h7l-5.5 4 2 7"
                "L12 16l-6.5 4 2-7L2 9h7z\"/></svg>")


def section(i: int) -> bytes:
    """One article section (~1.6 KB): headings, prose with links, a responsive image, a list, an icon."""
    return (
        f"<section id=\"s{i}\" class=\"card\">\n<h2>{_ICON} Chapter {i}: pipelines that sell &amp; support</h2>\n"
        f"<p>Teams that adopt Kactuce report shorter sales cycles. In chapter {i} we look at how the "
        "<a href=\"/docs/pipelines\" title=\"Pipelines guide\">pipeline view</a> and the "
        "<a href=\"/docs/inbox\">shared inbox</a> keep every conversation on the customer record, so "
        "nobody asks twice &mdash; and why <em>automations</em> you can read beat the ones you cannot.</p>\n"
        f"<figure><img src=\"/static/img/chapter-{i}.jpg\" srcset=\"/static/img/chapter-{i}@2x.jpg 2x, "
        f"/static/img/chapter-{i}@3x.jpg 3x\" alt=\"Screenshot {i}\" loading=\"lazy\" width=\"800\" "
        "height=\"450\"><figcaption>The forecast updates as you drag deals between stages.</figcaption>"
        "</figure>\n<ul class=\"features\"><li>Drag-and-drop stages</li><li>Forecast by owner, team, region"
        "</li><li>Reminders that respect time zones</li><li>Audit trail on every field</li></ul>\n"
        "<p>Data stays in Paris and Frankfurt, encrypted at rest. Read the "
        "<a href=\"/privacy#storage\">storage notes</a> or <a href=\"mailto:hello@kactuce.com\">write to us"
        "</a>. Prices start at &euro;12 per seat and month, billed yearly; cancel any time.</p>\n"
        "<blockquote><p>&ldquo;We replaced three tools with one calm place.&rdquo;</p><cite>Head of Sales, "
        "a 40-person team in Lyon</cite></blockquote>\n</section>\n"
    ).encode()


@lru_cache(maxsize=1)
def foot() -> bytes:
    """A YouTube embed, the footer, a first-party inline script, ``</body></html>``."""
    return (
        b"<div class=\"video\"><iframe width=\"560\" height=\"315\" src=\"https://www.youtube.com/embed/"
        b"dQw4w9WgXcQ\" title=\"Kactuce in 2 minutes\" allowfullscreen></iframe></div>\n"
        b"</main>\n<footer><p>&copy; Kactuce SAS &middot; <a href=\"/privacy\">Privacy</a> &middot; "
        b"<a href=\"/cookiegate/settings\">Cookie settings</a></p></footer>\n"
        b"<script>document.documentElement.classList.add('js');"
        b"for(const a of document.querySelectorAll('a[href^=\"#\"]')){a.addEventListener('click',()=>0)}"
        b"</script>\n</body>\n</html>\n"
    )


def static_page(size: int = 100 * 1024) -> bytes:
    """The page, padded with sections to about ``size`` bytes (never less)."""
    top, bottom = head(), foot()
    body: list[bytes] = []
    total = len(top) + len(bottom)
    i = 0
    while total < size:
        i += 1
        body.append(section(i))
        total += len(body[-1])
    return top + b"".join(body) + bottom


def streamed_chunks(size: int, chunk: int = 16 * 1024) -> Iterator[bytes]:
    """The same page, ``size`` bytes or more, as ``chunk``-sized pieces produced lazily (constant memory)."""
    yield head()
    produced = 0
    i = 0
    pending = b""
    while produced < size:
        while len(pending) < chunk:
            i += 1
            pending += section(i)
        yield pending[:chunk]
        produced += chunk
        pending = pending[chunk:]
    yield pending + foot()
