"""``perfgate init``: write a checked perfgate.yml and workflow for this repository."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

EXIT_OK = 0
EXIT_SMOKE_FAILED = 1  # the files are written, but the service or script did not work

EPILOG = """\
examples:
  perfgate init                                   # guess everything (asks on a terminal)
  perfgate init --start "node server.js" --ready /health --script perf/load.yml
  perfgate init --no-smoke                        # write and validate only

It finds Artillery scripts (YAML/JSON with config.phases) — or writes a starter
from an OpenAPI file's GET routes, or a minimal one — guesses the start command
and port (Procfile, package.json, pyproject.toml entry points, compose file,
Dockerfile), writes perfgate.yml and .github/workflows/perfgate.yml, validates
both, and runs the script for 5 seconds against the started service.
With --start, --ready or --script it asks nothing; it never reads stdin when
stdin is not a terminal.
exit codes: 0 written (and the smoke run reached the API); 1 written, but the
smoke run failed (the next step is printed); 2 nothing written (usage, files exist)."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "init",
        help="write perfgate.yml and a GitHub workflow for this repository, and try them",
        description="Set perfgate up in a repository: find the Artillery scripts, guess how "
        "the API starts, write and validate perfgate.yml and the workflow, then a 5-s smoke run.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("directory", nargs="?", default=".", help="the repository (default: .)")
    p.add_argument("--start", metavar="CMD", help="the command that starts the API ({{ port }})")
    p.add_argument("--ready", metavar="PATH", help="a path (or URL) that answers 2xx once up")
    p.add_argument(
        "--script",
        action="append",
        metavar="PATH",
        help="an Artillery script to gate on (repeatable; default: every one found)",
    )
    p.add_argument("--no-smoke", action="store_true", help="skip the 5-second smoke run")
    p.add_argument("--force", action="store_true", help="overwrite files init wrote before")
    p.add_argument(
        "--action",
        default=None,
        metavar="OWNER/perfgate@v1",
        help="the action the workflow uses (default: perfgate/perfgate@v1)",
    )
    p.set_defaults(func=run)


def _ask(question: str, default: str | None) -> str | None:
    shown = f" [{default}]" if default else ""
    answer = input(f"{question}{shown}: ").strip()
    return answer or default


def run(args: argparse.Namespace) -> int:
    from perfgate.errors import ConfigError
    from perfgate.scaffold import DEFAULT_ACTION, plan_init, smoke_run, write_init

    root = Path(args.directory)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory")
    plan = plan_init(root, start=args.start, ready=args.ready, scripts=args.script)
    for line in plan.found:
        print(f"found: {line}")
    flags_given = bool(args.start or args.ready or args.script)
    if not flags_given and sys.stdin.isatty():  # a person at a terminal: confirm the guesses
        start = plan.start if isinstance(plan.start, str) or plan.start is None else None
        answer = _ask("Command that starts the API (use {{ port }} for its port)", start)
        if answer and answer != start:
            plan.start, plan.start_source, plan.notes = answer, "", []
        plan.ready = _ask(
            "Path that answers 2xx once it is up (empty: wait for the port)", plan.ready
        )
    written = write_init(plan, force=args.force, action=args.action or DEFAULT_ACTION)
    for path in written:
        print(f"wrote: {path.relative_to(plan.root).as_posix()}")
    print("validated: perfgate.yml (loader and every script) and the workflow")
    if args.no_smoke:
        print("next: perfgate gate --mode none   (a local run of the gate)")
        return EXIT_OK
    print("smoke run: 5 s against the started service ...")
    result = smoke_run(plan.root / "perfgate.yml")
    print(f"smoke run: {'ok' if result.ok else 'FAILED'}: {result.summary}")
    if result.next_step:
        stream = sys.stdout if result.ok else sys.stderr
        print(f"next step: {result.next_step}", file=stream)
    if not result.ok:
        return EXIT_SMOKE_FAILED
    print("next: perfgate gate --mode none   (a local run of the gate), then commit both files")
    return EXIT_OK
