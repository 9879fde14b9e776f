"""The ``cookiegate`` command. Every subcommand takes ``--config FILE`` (else ``$COOKIEGATE_CONFIG``, else
``./cookiegate.toml``, else built-in defaults)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from .._sightings import Sighting
    from ..policy._catalog import TagRegistry


def schema_path(name: str) -> Path:
    """The JSON schema of ``--json`` output: ``tags``, ``lint``, ``scan`` or ``stats`` (``log stats``)."""
    return Path(__file__).resolve().parent / "schemas" / f"{name}.json"


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config (default: $COOKIEGATE_CONFIG, ./cookiegate.toml)")


#: The exit status of a command whose output pipe was closed early (``cookiegate tags | head -1``): what a
#: shell reports for a Unix tool ended by SIGPIPE.
CLOSED_PIPE: Final = 141


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (importlib.metadata is not free)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        import cookiegate

        print(f"cookiegate {cookiegate.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="cookiegate", description="Server-side cookie and tracker consent gateway")
    parser.add_argument("--version", action=_Version)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="serve the demo site behind the gateway (uvicorn, embedded defaults)")
    _add_config(demo)
    demo.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)"
    )
    demo.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    from ._log import add_log_parser

    add_log_parser(sub)
    check = sub.add_parser(
        "check-config",
        help="load and validate the configuration, print it (secrets hidden) and what will not work as expected",
    )
    _add_config(check)
    _add_marketer_parsers(sub)
    from ._catalog import add_catalog_parser

    add_catalog_parser(sub)
    return parser


def _add_json(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--json", action="store_true", help=f"print JSON (schema: cookiegate/cli/schemas/{name}.json)"
    )


def _add_visitor(parser: argparse.ArgumentParser, *, none_flag: bool) -> None:
    parser.add_argument("--country", metavar="CC", help="ISO country code of the visitor (FR, US, JP …)")
    parser.add_argument("--state", metavar="SUB", help="first-level subdivision: US-CA, or CA with --country US")
    group = parser.add_mutually_exclusive_group()
    if not none_flag:
        group.add_argument("--consent", metavar="CATS", help="categories granted, e.g. analytics,ads")
    group.add_argument("--accept", action="store_true", help="the visitor accepted everything")
    group.add_argument("--reject", action="store_true", help="the visitor refused everything")
    if none_flag:
        group.add_argument("--none", action="store_true", help="the visitor has not chosen yet (default)")
    parser.add_argument("--gpc", action="store_true", help="the browser sends Global Privacy Control")


def _add_marketer_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tags = sub.add_parser(
        "tags", help="which tags fire for a visitor, with the reason; without filters: the full matrix"
    )
    _add_config(tags)
    _add_visitor(tags, none_flag=False)
    _add_json(tags, "tags")
    lint = sub.add_parser(
        "lint",
        help="check the configuration against the regulatory rules, and the site's pages for unclassified hosts "
        "(exit 1 on a violation)",
    )
    _add_config(lint)
    _add_json(lint, "lint")
    scan = sub.add_parser("scan", help="open URL in headless Chromium as a previewed visitor; exit 1 on a leak")
    _add_config(scan)
    _add_json(scan, "scan")
    scan.add_argument("url")
    _add_visitor(scan, none_flag=True)
    scan.add_argument("--token", help="admin token (default: $COOKIEGATE_ADMIN_TOKEN or the config's admin_token)")
    scan.add_argument("--live", action="store_true", help="let third-party requests reach the network")


def _consent_arg(args: argparse.Namespace) -> str:
    if getattr(args, "accept", False):
        return "accept"
    if getattr(args, "reject", False):
        return "reject"
    return getattr(args, "consent", None) or "none"


def _print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def _seen_hosts(args: argparse.Namespace, registry: TagRegistry) -> list[Sighting]:
    """Unclassified hosts from the stored counters of the configured log (with a config file only: the
    built-in defaults name no site's log); a note on stderr, and none, when the log cannot be read."""
    import asyncio

    from .._config import resolve_config_path
    from .._sightings import classified_by, sightings, stored_counters
    from ..store import StoreError

    path = resolve_config_path(args.config)
    if path is None:
        return []
    try:
        # Not in demo mode: the site's own log_url, not the demo's; reading signs nothing.
        config = load_config(path, signing=False)
    except ConfigError:
        return []
    try:
        rows = asyncio.run(stored_counters(config))
    except StoreError as exc:
        print(f"cookiegate: unclassified hosts not shown: {exc}", file=sys.stderr)
        return []
    return sightings(rows, classified=classified_by(config, registry), vendors=registry.vendors)


def _tags(args: argparse.Namespace) -> int:
    from ..policy._catalog import TagRegistry
    from ..policy._consent_mode import classifier_for
    from ..policy._jurisdiction import Jurisdiction
    from ..policy._tag_matrix import build_matrix, decision_for, location_for, parse_consent, tag_rows, unclassified_row
    from ._tags import format_matrix, format_tag_rows, matrix_json, visitor_json

    config = load_config(args.config, demo=True)
    registry = TagRegistry.builtin(config.tags)
    classifier = classifier_for(registry, config.consent_mode)
    jurisdiction = Jurisdiction(config.regimes)
    filtered = args.country or args.state or args.consent or args.accept or args.reject or args.gpc
    if not filtered:
        matrix = build_matrix(
            registry,
            jurisdiction,
            policy_revision=config.policy_revision,
            classifier=classifier,
            unclassified=config.unclassified,
        )
        hosts = _seen_hosts(args, registry)
        if args.json:
            _print_json(matrix_json(matrix, hosts, config.consent_mode))
        else:
            print(format_matrix(matrix, hosts))
        return 0
    location = location_for(args.country, args.state)
    decision = decision_for(
        jurisdiction,
        location,
        parse_consent(_consent_arg(args)),
        gpc=args.gpc,
        policy_revision=config.policy_revision,
        unclassified=config.unclassified,
    )
    rows = tag_rows(registry, decision, classifier)
    hosts = _seen_hosts(args, registry)
    if args.json:
        _print_json(visitor_json(decision, rows, unclassified_row(decision), hosts, config.consent_mode))
    else:
        print(format_tag_rows(decision, rows, unclassified_row(decision), hosts))
    return 0


def _lint(args: argparse.Namespace) -> int:

    from .._config import resolve_config_path
    from ..policy._catalog import TagRegistry
    from ._lint import failed, format_violations, lint_config, lint_file, unclassified_violations, violations_json

    path = resolve_config_path(args.config)
    violations = lint_file(path) if path is not None else lint_config(load_config(None, demo=True))
    hosts: list[Sighting] = []
    if path is not None and not any(v.rule == "config" for v in violations):
        registry = TagRegistry.builtin(load_config(path, demo=True).tags)
        hosts = _seen_hosts(args, registry)
        violations += unclassified_violations(hosts)
    if args.json:
        _print_json(violations_json(violations, hosts))
    else:
        print(format_violations(violations))
    return 1 if failed(violations) else 0


def _scan(args: argparse.Namespace) -> int:
    from .._sightings import classified_by
    from ..policy._catalog import TagRegistry
    from ._scan import ScanError, format_report, report_json, scan

    config = load_config(args.config, demo=True)
    token = args.token or config.admin_token
    if not token:
        print("cookiegate scan: no admin token (--token, COOKIEGATE_ADMIN_TOKEN or admin_token)", file=sys.stderr)
        return 2
    try:
        report = scan(
            args.url,
            token=token,
            country=args.country,
            state=args.state,
            consent=_consent_arg(args),
            gpc=args.gpc,
            registry=TagRegistry.builtin(config.tags),
            consent_cookie=config.consent_cookie,
            live=args.live,
            consent_mode=config.consent_mode,
            own=classified_by(config),
        )
    except ScanError as exc:
        print(f"cookiegate scan: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(report_json(report))
    else:
        print(format_report(report))
    return 1 if report.leaks else 0


def _demo(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("cookiegate demo needs uvicorn: pip install 'cookiegate[serve]'", file=sys.stderr)
        return 2
    from ..demo import create_demo_app

    config = load_config(args.config, demo=True)
    print(f"cookiegate demo on http://{args.host}:{args.port}/  (visit-as switch at the top of every page)")
    uvicorn.run(create_demo_app(config), host=args.host, port=args.port, log_level="info", lifespan="on")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cookiegate`` console script."""
    args = build_parser().parse_args(argv)
    try:
        status = _run(args)
        # Flushed here, inside the guard: a pipe closed early otherwise fails at interpreter exit.
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``| head -1``): stop quietly. Later writes and the exit flush go nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return CLOSED_PIPE
    return status


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "log":
            from ._log import READ_ONLY_ACTIONS, run_log

            return run_log(args, load_config(args.config, signing=args.log_command not in READ_ONLY_ACTIONS))
        if args.command in ("tags", "lint", "scan"):
            from ..policy._tag_matrix import ConsentSpecError

            try:
                return {"tags": _tags, "lint": _lint, "scan": _scan}[args.command](args)
            except ConsentSpecError as exc:
                print(f"cookiegate {args.command}: {exc}", file=sys.stderr)
                return 2
        if args.command == "catalog":
            from ._catalog import run_catalog

            return run_catalog(args)
        if args.command == "check-config":
            from .._diagnostics import config_notes, config_warnings

            config: Config = load_config(args.config)
            print(repr(config))
            for warning in config_warnings(config):
                print(f"WARNING {warning}")
            for note in config_notes(config):
                print(f"note    {note}")
            return 0
    except ConfigError as exc:
        print(f"cookiegate: configuration error: {exc}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse requires a command
