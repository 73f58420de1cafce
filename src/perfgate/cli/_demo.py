"""``perfgate demo``: the whole gate on the bundled demo API, in one command."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

EPILOG = """\
examples:
  perfgate demo                          # A/B of the demo API against itself: passes
  perfgate demo --inject-cpu-us 3000     # busy CPU work in the candidate only: fails (exit 1)
  perfgate demo --inject-latency-ms 50 --route /api/bounties
  perfgate demo --mode history           # compare against the demo's stored history instead

It starts two copies of `perfgate demo-api` (base and candidate), runs the
seed's load script (a steady slice) and the bundled benchmark suite on both,
interleaved, and prints the verdict. Reports go to ./performance-reports/."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the gate on the bundled demo API (A/B against itself)",
        description="Run the full gate (pr profile, same-runner A/B) on the bundled demo API.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--inject-cpu-us",
        type=int,
        metavar="N",
        help="candidate only: N µs of busy CPU per request",
    )
    p.add_argument(
        "--inject-latency-ms", type=float, metavar="X", help="candidate only: X ms of added latency"
    )
    p.add_argument(
        "--inject-error-rate", type=float, metavar="R", help="candidate only: a share R of 500s"
    )
    p.add_argument(
        "--route",
        action="append",
        default=[],
        help="limit the injected latency/CPU to this route (repeatable)",
    )
    p.add_argument(
        "--mode", choices=["ab", "history"], default="ab", help="comparison (default: ab)"
    )
    p.add_argument("--profile", default="pr", help="pr (default) or full (adds the stress suite)")
    p.add_argument(
        "--report-dir",
        type=Path,
        default=Path("performance-reports"),
        help="default: ./performance-reports",
    )
    p.add_argument("--all-metrics", action="store_true", help="print every compared metric")
    p.set_defaults(func=run)


def fault_env(args: argparse.Namespace) -> dict[str, str]:
    """The demo API's fault switches for the candidate arm (PERFGATE_DEMO_*)."""
    env: dict[str, str] = {}
    if args.inject_cpu_us:
        env["PERFGATE_DEMO_CPU_US"] = str(args.inject_cpu_us)
    if args.inject_latency_ms:
        env["PERFGATE_DEMO_LATENCY_MS"] = str(args.inject_latency_ms)
    if args.inject_error_rate:
        env["PERFGATE_DEMO_ERROR_RATE"] = str(args.inject_error_rate)
    if args.route:
        env["PERFGATE_DEMO_ROUTE"] = ",".join(args.route)
    return env


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from importlib import resources

    from perfgate.gate import GateOptions, run_gate, verdict_text

    config = Path(str(resources.files("perfgate") / "data" / "demo" / "perfgate.yml"))
    os.environ["PERFGATE_PYTHON"] = sys.executable
    report_dir = args.report_dir.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    injected = fault_env(args)
    if injected:
        print("candidate arm faults: " + ", ".join(f"{k}={v}" for k, v in injected.items()))
    opts = GateOptions(
        config=config,
        profile=args.profile,
        mode=args.mode,
        same_tree_base=True,
        report_dir=report_dir,
        store_path=report_dir / "perfgate-demo.sqlite",
        comment=False,
        candidate_env=injected,
    )
    outcome = run_gate(opts)
    print()
    print(verdict_text(outcome.verdict, all_metrics=args.all_metrics))
    if outcome.report is not None:
        print(f"\nHTML report: {outcome.report.html}")
    return outcome.exit_code
