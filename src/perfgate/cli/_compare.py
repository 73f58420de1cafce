"""``perfgate compare A B``: two stored runs or two report files side by side."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]

EPILOG = """\
examples:
  perfgate compare base.json head.json             # two report files (perfgate or Artillery-shaped)
  perfgate compare 3f2a9c 8be01d --db baselines/perfgate.sqlite   # two stored runs (id prefixes)
  perfgate compare a.json b.json --all             # also endpoint and information rows

B is compared against A. A verdict is given only where the statistics have
replication (bench suites run with --repeat); elsewhere the change is shown
as information. Exit code: 1 when a replicated comparison regressed, else 0."""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "compare",
        help="put two runs side by side (stored run ids or report files)",
        description="Compare run B against run A, figure by figure.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("a", help="base: a report file, or a stored run id (prefix)")
    p.add_argument("b", help="candidate: a report file, or a stored run id (prefix)")
    p.add_argument(
        "--db",
        type=Path,
        default=Path("baselines/perfgate.sqlite"),
        help="results database for run ids",
    )
    p.add_argument(
        "--all", action="store_true", help="show every figure (default: suite-level and bench rows)"
    )
    p.set_defaults(func=run)


def _load(ref: str, db: Path) -> Any:
    from perfgate.errors import StoreError

    path = Path(ref)
    if path.is_file():
        from perfgate.report import load_report_input

        return load_report_input(path)[0]
    if not db.is_file():
        raise StoreError(f"{ref!r} is neither a file nor a run in {db} (no such database)")
    from perfgate.store import Store

    with Store(db) as store:
        return store.get_run(ref)


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from perfgate.gate import compare_runs

    a, b = _load(args.a, args.db), _load(args.b, args.db)
    rows = []
    regressed = False
    for c in compare_runs(a, b):
        if not args.all and c.metric.startswith("endpoint:"):
            continue
        regressed = regressed or c.state == "regression"
        fmt = (
            (lambda v: "–" if v is None else f"{v:.2%}")
            if c.unit == "ratio"
            else (lambda v: "–" if v is None else f"{v:.3f}")
        )
        change = (
            "–"
            if c.change is None
            else (f"{c.change * 100:+.2f} pp" if c.unit == "ratio" else f"{c.change:+.1%}")
        )
        rows.append(
            [
                c.suite,
                c.metric,
                fmt(c.base),
                fmt(c.candidate),
                change,
                c.state if c.state != "info" else "",
            ]
        )
    print(
        f"A: {a.run_id} {a.commit or ''} {a.created_at}\nB: {b.run_id} {b.commit or ''} {b.created_at}\n"
    )
    print(tabulate(rows, headers=["suite", "metric", "A", "B", "change", "verdict"]))
    return 1 if regressed else 0
