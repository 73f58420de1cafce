"""The ``perfgate`` command line: a thin layer over the library.

Each command lives in its own module ``perfgate.cli._<name>`` with two
functions: ``register(subparsers)`` adds its parser (help text with
examples) and ``run(args) -> int`` parses, calls one library function and
returns the exit code. Errors derived from PerfgateError become a clean
one-line message and their exit code (2 unless they say otherwise).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from perfgate import __version__
from perfgate.errors import PerfgateError

__all__ = ["main"]

# Command modules, in the order `perfgate --help` lists them.
COMMANDS: tuple[str, ...] = (
    "demo",
    "init",
    "run",
    "bench",
    "stress",
    "gate",
    "compare",
    "baseline",
    "report",
    "demo_api",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perfgate",
        description="A performance-regression gate for HTTP APIs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Run 'perfgate COMMAND --help' for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"perfgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"perfgate.cli._{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"perfgate.cli._{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = int(args.func(args))
    except PerfgateError as exc:
        print(f"perfgate: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("perfgate: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `perfgate ... | head`: the reader left; nothing to report
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
