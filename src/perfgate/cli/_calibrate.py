"""``perfgate calibrate``: this API's launch-level SDs, for ``ab.calibration``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

EPILOG = """\
examples:
  perfgate calibrate                              # perfgate.yml, profile pr, 6 launches per arm
  perfgate calibrate perfgate.yml --launches 8 --pairs-per-launch 4
  perfgate calibrate --out ci/calibration.json --fresh

An A/A of the checkout against itself, each arm started --launches times.
Each compared metric's launch-level SD (how much two processes of one build
differ) goes to the file; run it again to pool more launches into it. Point
the gate at it with

  ab:
    calibration: perfgate-calibration.json

Run it on the kind of runner the gate runs on (a file measured elsewhere is
used with a warning). ~3 minutes with the defaults on a pr profile.

exit codes: 0 written; 1 the A/A run failed (the API never started or died;
the reason and its log tail are printed, the file is unchanged); 2 bad config
or calibration file; 130 interrupted (the file is unchanged)."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "calibrate",
        help="measure this API's launch-level variance for the A/B gate (ab.calibration)",
        description="Run A/A launches of the checkout and write each metric's launch-level SD.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "config", nargs="?", default="perfgate.yml", help="perfgate.yml (default: ./perfgate.yml)"
    )
    p.add_argument("--profile", default="pr", help="profile whose suites run (default: pr)")
    p.add_argument(
        "--launches", type=int, default=6, help="launches per arm (default: 6, at least 3)"
    )
    p.add_argument(
        "--pairs-per-launch", type=int, default=4, help="round pairs per launch (default: 4)"
    )
    p.add_argument(
        "--out",
        type=Path,
        help="the calibration file (default: ab.calibration, else perfgate-calibration.json)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="replace the file instead of pooling into it"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from perfgate.gate import CalibrateOptions, run_calibration

    outcome = run_calibration(
        CalibrateOptions(
            config=Path(args.config),
            profile=args.profile,
            launches=args.launches,
            pairs_per_launch=args.pairs_per_launch,
            out=args.out,
            fresh=args.fresh,
        )
    )
    for w in outcome.warnings:
        print(f"warning: {w}")
    rows = [
        [
            r["suite"],
            r["metric"],
            "—" if r["run_sd"] is None else f"{r['run_sd']:.2%} ({r['run_df']})",
            f"{r['sd']:.2%} ({r['df']})",
            f"{r['builtin']:.2%}",
        ]
        for r in outcome.rows()
    ]
    print()
    print(
        tabulate(
            rows,
            headers=["suite", "metric", "this run (df)", "in the file (df)", "built-in prior"],
        )
    )
    print(
        f"\nwrote {outcome.path} ({outcome.runs} calibration run(s), {len(rows)} metrics, "
        f"{outcome.seconds:.0f} s); the gate reads it with ab.calibration"
    )
    return 0
