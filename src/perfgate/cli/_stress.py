"""``perfgate stress``: a stress run judged against the seed's success criteria."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register", "run"]

EXIT_OK = 0
EXIT_FAILED = 1  # a check failed
EXIT_CRASHED = 3  # the target died mid-run

EPILOG = """\
examples:
  perfgate stress stress-test.yml -t http://127.0.0.1:3001
  perfgate stress stress-test.yml --start "perfgate demo-api --port 3001" --time-scale 0.1
  perfgate stress stress-test.yml --start "node server.js" --ready http://127.0.0.1:3001/health -o run.json
  perfgate stress stress-test.yml -t http://127.0.0.1:3001 --find-limit

The checks table lists each of the seed's Load and Stress Testing criteria as
pass, fail or inconclusive (too few samples, generator-limited, not exercised).
exit codes: 0 no check failed; 1 a check failed; 3 the target crashed;
2 usage or config error."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "stress",
        help="stress test: breaking point, recovery, leaks, crashes (the seed's criteria)",
        description="Run an Artillery script as a stress test while watching the target, "
        "and judge the seed's success criteria.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("script", help="the Artillery script (YAML)")
    p.add_argument("-t", "--target", help="override config.target")
    p.add_argument("-e", "--environment", help="use config.environments.ENV")
    p.add_argument("--start", metavar="CMD", help="start the target with this shell command first")
    p.add_argument(
        "--ready", metavar="URL", help="readiness URL for --start (default: TARGET/health)"
    )
    p.add_argument(
        "--find-limit",
        action="store_true",
        help="search the maximum sustainable rate (ramp until the SLO breaks, then bisect)",
    )
    p.add_argument(
        "--time-scale", type=float, default=1.0, metavar="F", help="multiply phase durations by F"
    )
    p.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: cores - 1)"
    )
    p.add_argument("--p95-ms", type=float, default=200.0, help="SLO: p95 threshold (default 200)")
    p.add_argument(
        "--max-error-rate", type=float, default=0.01, help="SLO: error rate (default 0.01)"
    )
    p.add_argument(
        "--fail-on-4xx",
        nargs="?",
        const="all",
        default=None,
        metavar="CODES",
        help="count 4xx answers as failed requests too: all of them, or a comma list "
        "(401,404); by default a failed request is a 5xx or no response",
    )
    p.add_argument(
        "--probe",
        type=float,
        default=None,
        metavar="S",
        help="recovery probe length when the script has no cool-down (0: none; default: auto)",
    )
    p.add_argument("-o", "--output", metavar="OUT.json", help="write the RunResult as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def checks_table(checks: list[Any]) -> str:
    """The checks as a table (status, criterion, measured vs threshold, detail)."""
    from tabulate import tabulate

    def fig(value: float | None, unit: str) -> str:
        return "" if value is None else f"{value:g} {unit}".strip()

    rows = [
        [
            c.status.upper(),
            c.criterion or c.name,
            fig(c.measured, c.unit),
            fig(c.threshold, c.unit),
            c.detail,
        ]
        for c in checks
    ]
    return tabulate(
        rows,
        headers=["status", "criterion", "measured", "threshold", "detail"],
        tablefmt="simple",
        maxcolwidths=[None, 34, None, None, 70],
    )


def failure_policy_arg(value: str | None) -> Any:
    """``--fail-on-4xx`` -> a FailurePolicy (None: not given)."""
    from perfgate.errors import ConfigError
    from perfgate.metrics import FailurePolicy, failures

    if value is None:
        return None
    if value == "all":
        return FailurePolicy(fail_on_4xx=True)
    try:
        return FailurePolicy(
            fail_on_4xx=failures.declaration(int(c) for c in value.split(",") if c.strip())
        )
    except ValueError as exc:
        raise ConfigError(f"--fail-on-4xx {value}: {exc} (e.g. --fail-on-4xx 401,404)") from None


def run(args: argparse.Namespace) -> int:
    from perfgate.errors import ConfigError
    from perfgate.stress import Slo, StressConfig

    if not args.time_scale > 0:
        raise ConfigError("--time-scale must be greater than 0")
    if args.workers is not None and args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.ready and not args.start:
        raise ConfigError("--ready needs --start")
    config = StressConfig(
        slo=Slo(p95_ms=args.p95_ms, error_rate=args.max_error_rate),
        failures=failure_policy_arg(args.fail_on_4xx),
    )
    if args.find_limit:
        return _find_limit(args, config)
    return _stress(args, config)


def _stress(args: argparse.Namespace, config: Any) -> int:
    from perfgate.engine import Progress, scheduler
    from perfgate.script import load_script
    from perfgate.stress import recovery_probe, run_stress, stress_run_result

    script = load_script(
        args.script, environment=args.environment, target=args.target, time_scale=args.time_scale
    )
    phases = list(script.phases)
    probe = None if args.probe == 0 else recovery_probe(phases, args.probe)
    if probe is not None:
        phases.append(probe)
    rows = [
        {"index": p.index, "name": p.name, "start_s": off, "duration_s": scheduler.phase_length(p)}
        for p, off in zip(phases, scheduler.phase_offsets(phases), strict=True)
    ]
    progress = Progress(rows, scheduler.total_duration(phases))
    if args.quiet:
        progress.interval = float("inf")
    suite = run_stress(
        script,
        start=args.start,
        ready=args.ready,
        config=config,
        workers=args.workers,
        probe_s=args.probe,
        progress=progress,
    )
    print(checks_table(suite.checks))
    for e in suite.errors:
        print(f"error: {e}")
    if args.output:
        stress_run_result(suite).save(args.output)
        print(f"result: {args.output}")
    if suite.extra.get("stress", {}).get("crash"):
        return EXIT_CRASHED
    return EXIT_FAILED if any(c.status == "fail" for c in suite.checks) else EXIT_OK


def _find_limit(args: argparse.Namespace, config: Any) -> int:
    from perfgate.stress import find_limit

    result = find_limit(
        args.script,
        target=args.target,
        environment=args.environment,
        start=args.start,
        ready=args.ready,
        slo=config.slo,
        workers=args.workers,
        time_scale=args.time_scale,
        log=None if args.quiet else print,
        failure_policy=config.failures,
    )
    print(result.summary())
    if args.output:
        import json
        from pathlib import Path

        Path(args.output).write_text(json.dumps(result.to_dict(), indent=1), encoding="utf-8")
        print(f"result: {args.output}")
    return EXIT_OK if result.limit is not None else EXIT_FAILED
