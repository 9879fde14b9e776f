"""``cookiegate catalog``: the catalogue's data a site keeps up to date.

``cookiegate catalog update-cookies FILE|URL`` validates a newer Open Cookie Database CSV, reports the rows it
adds, removes and changes (against the site's copy, or the bundled one before there is any), and writes it as the
site's copy: the directory of ``--into``, else the configuration's ``cookie_database`` (never the installed
package's bundled copy). The gateway reads that copy at start-up to classify the cookies no registry or catalogue
entry names.
"""

from __future__ import annotations

import argparse
import sys

from .._config import load_config
from ..policy._cookie_database import CSV_NAME, CookieDatabaseError, bundled_directory, update_cookie_database


def add_catalog_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``cookiegate catalog …``."""
    catalog = sub.add_parser("catalog", help="keep the catalogue's data up to date (the Open Cookie Database copy)")
    actions = catalog.add_subparsers(dest="catalog_command", required=True)
    update = actions.add_parser(
        "update-cookies",
        help="validate a newer Open Cookie Database CSV (file or URL), report what changes, write the site's copy",
    )
    update.add_argument("--config", metavar="FILE", help="TOML config (default: $COOKIEGATE_CONFIG, ./cookiegate.toml)")
    update.add_argument("source", metavar="FILE|URL", help="the CSV: a path or an http(s) URL")
    update.add_argument("--into", metavar="DIR", help=f"where the site's {CSV_NAME} goes (default: cookie_database)")
    update.add_argument("--check", action="store_true",
                        help="report what would change (against the site's copy, else the bundled one); write nothing")


def run_catalog(args: argparse.Namespace) -> int:
    """Run ``cookiegate catalog``: 0 done, 1 the source was refused, 2 nowhere to write."""
    target = args.into or load_config(args.config, demo=True).cookie_database
    if target is None and not args.check:
        print(
            "cookiegate catalog update-cookies: say where the site's copy goes: --into DIR, or cookie_database = "
            '"DIR" in the configuration (the gateway then reads it)',
            file=sys.stderr,
        )
        return 2
    try:
        report = update_cookie_database(args.source, target or bundled_directory(), write=not args.check,
                                        baseline_dir=bundled_directory())
    except (CookieDatabaseError, OSError, UnicodeDecodeError) as exc:
        print(f"cookiegate catalog update-cookies: {args.source}: not used: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    if report.written:
        print(f"written: {target}/{CSV_NAME}; restart the gateway to use it")
    return 0
