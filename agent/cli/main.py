"""The spacesmith command line: parse, call one function, translate errors once.

Each command group lives in its own module of this package (``spaces``, ``splat``, ``site``,
``agent``, …) with a ``register(subparsers)`` function; heavy imports happen inside the
handlers so that ``spacesmith --help`` and cold starts stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

Handler = Callable[[argparse.Namespace], int]

GROUPS = tuple(f"spacesmith.agent.cli.{name}"
               for name in ("spaces", "splat", "site", "agent", "doctor", "mcp"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spacesmith",
        description="Turn one sentence into a deployed 3D Gaussian-splat gallery.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a group not written yet
            if exc.name != name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from spacesmith.tools.errors import SpacesmithError
    from spacesmith.tools.redact import scrub_streams

    scrub_streams()  # the one choke point for stdout and stderr (--json, logs, tracebacks)
    try:
        return handler(args)
    except SpacesmithError as exc:
        if args.debug or os.environ.get("SPACESMITH_DEBUG"):
            raise
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
