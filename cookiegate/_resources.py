"""Where the bundled files live: inside the wheel, or in the source checkout during development."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _first_existing(*candidates: Path) -> Path:
    for candidate in candidates:
        if candidate.exists():
            return candidate
    return candidates[0]


def bundled_demo_database() -> Path:
    """The demo/test geo database built from ``geo/demo-ranges.csv``."""
    return _first_existing(_PACKAGE / "_geo" / "demo-city.mmdb", _CHECKOUT / "geo" / "demo-city.mmdb")


def demo_ranges_csv() -> Path:
    """The CSV the demo database is built from (the demo's "visit as" switch reads it)."""
    return _first_existing(_PACKAGE / "_geo" / "demo-ranges.csv", _CHECKOUT / "geo" / "demo-ranges.csv")


def banner_assets_dir() -> Path:
    """Templates, CSS, JS and translations of the banner."""
    return _first_existing(_PACKAGE / "_banner_assets", _CHECKOUT / "banner_assets")
