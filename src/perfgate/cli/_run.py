"""``perfgate run``: run an Artillery script unchanged."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]

EXIT_OK = 0
EXIT_ENSURE = 1
EXIT_EXPECT = 21
EXIT_INTERRUPTED = 130

EPILOG = """\
examples:
  perfgate run load-test.yml
  perfgate run load-test.yml -t http://127.0.0.1:3001 -o report.json
  perfgate run load-test.yml -e staging --workers 3
  perfgate run stress-test.yml --time-scale 0.05     # every phase 20x shorter (smoke run)

exit codes: 0 ok; 1 an ensure check failed; 21 expectations failed;
2 usage or config error; 130 interrupted (the partial report is written)."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "run",
        help="run an Artillery script (load test)",
        description="Run an Artillery 2 script unchanged, on an open-model scheduler with measured lag.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("script", help="the Artillery script (YAML)")
    p.add_argument("-t", "--target", help="override config.target")
    p.add_argument(
        "-o", "--output", metavar="REPORT.json", help="write the report (Artillery's JSON shape)"
    )
    p.add_argument("-e", "--environment", help="use config.environments.ENV")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: cores - 1, at least 1)",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply every phase's duration by F",
    )
    p.add_argument(
        "--seed", type=int, default=None, help="seed for scenario picks and poisson arrivals"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines, only the summary")
    p.set_defaults(func=run)


def _environment(workers: int) -> dict[str, Any]:
    import os
    import platform

    from perfgate import __version__

    return {
        "perfgate": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "workers": workers,
    }


def run(args: argparse.Namespace) -> int:
    import sys

    from perfgate.engine import Progress, default_workers, run_script, scheduler
    from perfgate.errors import ConfigError
    from perfgate.metrics import failures
    from perfgate.report import write_artillery_report
    from perfgate.script import load_script

    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if not args.time_scale > 0:
        raise ConfigError("--time-scale must be greater than 0")
    script = load_script(
        args.script, environment=args.environment, target=args.target, time_scale=args.time_scale
    )
    for warning in script.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    workers = args.workers or default_workers()
    phases = [
        {"index": p.index, "name": p.name, "start_s": off, "duration_s": scheduler.phase_length(p)}
        for p, off in zip(script.phases, scheduler.phase_offsets(script.phases), strict=True)
    ]
    progress = Progress(phases, scheduler.total_duration(script.phases))
    if args.quiet:
        progress.interval = float("inf")
    result = run_script(script, workers=workers, progress=progress, seed=args.seed)
    counted = failures.count(result.aggregate)
    print(counted.summary())
    if counted.nothing_answered:
        # Artillery's exit code stands (0 without ensure), but say it plainly
        print(f"error: {counted.no_answer_message()}", file=sys.stderr)
    if args.output:
        write_artillery_report(args.output, result, environment=_environment(workers))
        print(f"report: {args.output}")
    for check in result.checks:
        mark = {"pass": "ok  ", "fail": "FAIL"}.get(check.status, check.status)
        print(f"ensure {mark} {check.detail}")
    if result.interrupted:
        return EXIT_INTERRUPTED
    if any(c.status == "fail" for c in result.checks):
        return EXIT_ENSURE
    if result.extra.get("expect_failed"):
        print(f"{result.extra['expect_failed']} expectation(s) failed", file=sys.stderr)
        return EXIT_EXPECT
    return EXIT_OK
