"""Print the gzipped weight of the banner's JS and CSS, as served, beside vanilla-cookieconsent's.

Usage: ``python scripts/banner_weight.py``. Each asset is gzipped on its own: the script (compacted, as served),
the styles inlined into a page that shows the banner, the rest of them fetched after its first frame, both parts
as one file (what a visitor who has chosen gets), the styles of the gateway's own pages, and the inline
``window.cookiegate`` script. The budget applies to what one page brings, for each kind of page (the banner's
styles reach a page in one of three ways); the total is the largest. The comparison figures are
vanilla-cookieconsent 3.x as published (bundlephobia / its README): about 10 kB of JS and 5 kB of CSS, gzipped.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cookiegate.banner._assets import BannerAssets  # noqa: E402
from cookiegate.banner._state import api_script  # noqa: E402

ASSETS = ROOT / "banner_assets"
#: The budget the issue sets for banner JS + CSS together, gzipped.
BUDGET_BYTES = 5 * 1024
#: vanilla-cookieconsent 3.x, gzipped (approximate, as published).
REFERENCE = {"cookieconsent.umd.js": 10_000, "cookieconsent.css": 5_000}


def gzipped_size(data: bytes) -> int:
    """Size of ``data`` gzipped at the level web servers commonly use (9, no name/mtime in the header)."""
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def measure() -> dict[str, tuple[int, int]]:
    """``{asset: (raw bytes, gzipped bytes)}`` for the banner's JS and CSS as served."""
    served = BannerAssets(ASSETS)
    state = {"categories": {}, "vendors": {}, "regime": "opt-in", "policyRevision": "1", "gpc": False,
             "chosen": False}  # fmt: skip
    script_url = f"/cookiegate/assets/{served.js_name}"
    styles_url = f"/cookiegate/assets/{served.later_css_name}"
    parts = {
        "banner.js": served.js,
        "banner.css (inline)": served.first_css.encode(),
        "banner-later.css": served.later_css.encode(),
        "banner styles as one file": served.css.encode(),
        "banner + pages styles (inline)": (served.css + served.pages_css).encode(),
        "window.cookiegate (inline)": api_script(state, "/cookiegate/", script_url, styles_url).encode(),
    }
    return {name: (len(data), gzipped_size(data)) for name, data in parts.items()}


#: What each kind of page brings of the assets above.
PAGES = {
    "a page with the banner": ("banner.js", "banner.css (inline)", "banner-later.css", "window.cookiegate (inline)"),
    "a page after a choice": ("banner.js", "banner styles as one file", "window.cookiegate (inline)"),
    "the gateway's own pages": ("banner.js", "banner + pages styles (inline)", "window.cookiegate (inline)"),
}


def main() -> int:
    """Print the table; exit 1 when a page brings more than the budget."""
    sizes = measure()
    per_page = {page: sum(sizes[name][1] for name in names) for page, names in PAGES.items()}
    total = max(per_page.values())
    ref_total = sum(REFERENCE.values())
    print(f"{'asset':<42}{'raw':>9}{'gzipped':>10}")
    for name, (raw, gz) in sizes.items():
        print(f"{'cookiegate ' + name:<42}{raw:>9}{gz:>10}")
    for page, gz in per_page.items():
        print(f"{'cookiegate, ' + page:<42}{'':>9}{gz:>10}")
    print(f"{'cookiegate total':<42}{'':>9}{total:>10}")
    for name, gz in REFERENCE.items():
        print(f"{'vanilla-cookieconsent ' + name.split('.')[-1]:<42}{'':>9}{'~' + str(gz):>10}")
    print(f"{'vanilla-cookieconsent total':<42}{'':>9}{'~' + str(ref_total):>10}")
    verdict = "within" if total <= BUDGET_BYTES else "OVER"
    print(f"budget {BUDGET_BYTES} bytes gzipped: {verdict} ({total / ref_total:.0%} of vanilla-cookieconsent)")
    return 0 if total <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
