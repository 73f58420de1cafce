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
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

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
    "calibrate",
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
    previous = _sigterm_as_interrupt()
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
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return code


def _sigterm_as_interrupt() -> Callable[[int, FrameType | None], Any] | int | None:
    """SIGTERM (a CI job cancelled, ``docker stop``) stops a run as Ctrl-C does: the
    targets are stopped and the partial report is written, instead of the process
    dying with its targets left running. Returns the handler it replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signal handlers belong to the main thread
    owner = os.getpid()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != owner:  # a forked worker inherited this: die as by default
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        handler = signal.getsignal(signal.SIGINT)  # the run's own Ctrl-C handling, if any
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:
            raise KeyboardInterrupt

    return signal.signal(signal.SIGTERM, on_sigterm)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
