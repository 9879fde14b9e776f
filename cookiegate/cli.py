"""The ``cookiegate`` command. Every subcommand takes ``--config FILE`` (else ``$COOKIEGATE_CONFIG``, else
``./cookiegate.toml``, else built-in defaults)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import Config, ConfigError, load_config


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config (default: $COOKIEGATE_CONFIG, ./cookiegate.toml)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="cookiegate", description="Server-side cookie and tracker consent gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="serve the demo site behind the gateway (uvicorn, embedded defaults)")
    _add_config(demo)
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    from .logcli import add_log_parser

    add_log_parser(sub)
    check = sub.add_parser("check-config", help="load and validate the configuration, print it (secrets hidden)")
    _add_config(check)
    return parser


def _demo(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("cookiegate demo needs uvicorn: pip install 'cookiegate[serve]'", file=sys.stderr)
        return 2
    from .demo import create_demo_app

    config = load_config(args.config, demo=True)
    print(f"cookiegate demo on http://{args.host}:{args.port}/  (visit-as switch at the top of every page)")
    uvicorn.run(create_demo_app(config), host=args.host, port=args.port, log_level="info", lifespan="on")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cookiegate`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "log":
            from .logcli import run_log

            return run_log(args, load_config(args.config))
        if args.command == "check-config":
            config: Config = load_config(args.config)
            print(repr(config))
            return 0
    except ConfigError as exc:
        print(f"cookiegate: configuration error: {exc}", file=sys.stderr)
        return 2
    return 1  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
