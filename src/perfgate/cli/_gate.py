"""``perfgate gate``: measure, compare, decide, report — one CI step."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

EPILOG = """\
examples:
  perfgate gate                                   # perfgate.yml, profile pr, its mode (A/B)
  perfgate gate perfgate.yml --profile pr --base-ref origin/main
  perfgate gate --mode history --profile full --update-baseline   # on main
  perfgate gate --strict                          # inconclusive exits 3
  perfgate gate --list-metrics                    # names compare.primary accepts

exit codes: 0 pass (also inconclusive, with a warning); 1 regression or SLO
failure; 2 error (bad config, the API never started); 3 inconclusive with
--strict; 130 interrupted (a partial report is written)."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "gate",
        help="run the performance gate (measure, compare, decide, report)",
        description="Run the suites of a profile, compare against the baseline and exit with the verdict.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "config", nargs="?", default="perfgate.yml", help="perfgate.yml (default: ./perfgate.yml)"
    )
    p.add_argument("--profile", default="pr", help="profile to run: pr (default) or full")
    p.add_argument(
        "--mode", choices=["ab", "history", "none"], help="comparison (default: the profile's)"
    )
    p.add_argument("--base-ref", help="A/B: the base to compare against (default: the PR's base)")
    p.add_argument(
        "--update-baseline", action="store_true", help="append this run to the baseline branch"
    )
    p.add_argument("--strict", action="store_true", help="an inconclusive verdict exits 3")
    p.add_argument(
        "--report-dir", type=Path, help="where reports go (default: performance-reports/)"
    )
    p.add_argument("--db", type=Path, help="results database (default: the store section's path)")
    p.add_argument(
        "--comment",
        dest="comment",
        action="store_true",
        default=True,
        help="post the PR comment (default)",
    )
    p.add_argument(
        "--no-comment", dest="comment", action="store_false", help="do not post a PR comment"
    )
    p.add_argument(
        "--list-metrics",
        action="store_true",
        help="print the metric names the profile's suites produce (for compare.primary) and exit",
    )
    p.add_argument(
        "--comment-on",
        choices=["always", "change", "regression", "never"],
        help="when to post a new PR comment (default: github.comment_on, 'change'); "
        "an existing one is always updated",
    )
    p.add_argument(
        "--alert-comment",
        action="store_true",
        default=None,
        help="on a push, comment on the commit when the run regressed (github.alert_comment)",
    )
    p.add_argument(
        "--all-metrics",
        action="store_true",
        help="print every compared metric, not just the gating ones",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from perfgate.gate import GateOptions, planned_metric_names, run_gate, verdict_text

    if args.list_metrics:
        for suite, names in planned_metric_names(Path(args.config), args.profile).items():
            print(f"# suite {suite} (as {suite}:NAME for this suite only)")
            for name in names:
                print(name)
        return 0

    opts = GateOptions(
        config=Path(args.config),
        profile=args.profile,
        mode=args.mode,
        base_ref=args.base_ref,
        update_baseline=args.update_baseline,
        strict=args.strict,
        report_dir=args.report_dir,
        store_path=args.db,
        comment=args.comment,
        comment_on=args.comment_on,
        alert_comment=args.alert_comment,
        # the action passes its baseline-branch input this way
        baseline_branch=os.environ.get("PERFGATE_BASELINE_BRANCH") or None,
    )
    outcome = run_gate(opts)
    print()
    print(verdict_text(outcome.verdict, all_metrics=args.all_metrics))
    return outcome.exit_code
