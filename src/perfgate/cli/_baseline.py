"""``perfgate baseline``: look after the results database."""

from __future__ import annotations

import argparse

_EPILOG = """\
examples:
  perfgate baseline list                          # the newest 20 runs
  perfgate baseline list --branch main --limit 50
  perfgate baseline show 3f2a9c                   # a run's figures (id or unique prefix)
  perfgate baseline prune --keep-last 200 --older-than-days 90
  perfgate baseline export runs.jsonl            # one run a line
  perfgate baseline import other.jsonl           # merge (runs already present are skipped)

The database defaults to baselines/perfgate.sqlite; --db chooses another.
In CI it lives on the perfgate-baselines branch (see docs/statistics.md and
the gate's --update-baseline).
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "baseline",
        help="list, show, prune, export or import stored runs",
        description="Manage the SQLite database of stored runs.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--db", default=None, help="database file (default: baselines/perfgate.sqlite)")
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="the newest runs")
    ls.add_argument("--branch", default=None, help="only runs of this branch")
    ls.add_argument("--limit", type=int, default=20, help="how many (default: %(default)s)")
    show = sub.add_parser("show", help="one run's metadata and figures")
    show.add_argument("run_id", metavar="RUN", help="run id or a unique prefix of one")
    prune = sub.add_parser("prune", help="delete old runs")
    prune.add_argument(
        "--keep-last", type=int, default=200, help="always keep the newest N (default: %(default)s)"
    )
    prune.add_argument(
        "--older-than-days", type=float, default=None, help="delete only runs older than this"
    )
    export = sub.add_parser("export", help="write every run as JSON lines")
    export.add_argument("file", metavar="FILE", help="output file ('-' for stdout)")
    imp = sub.add_parser("import", help="add runs from a JSON-lines file (idempotent)")
    imp.add_argument("file", metavar="FILE", help="input file ('-' for stdin)")
    for parser in (ls, show, prune, export, imp):
        parser.add_argument("--db", default=argparse.SUPPRESS, help="database file")
    p.set_defaults(func=run)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:,.0f}"


def run(args: argparse.Namespace) -> int:
    import sys

    from tabulate import tabulate

    from perfgate.store import DEFAULT_PATH, Store

    with Store(args.db or DEFAULT_PATH) as store:
        if args.action == "list":
            rows = store.list_runs(branch=args.branch, limit=args.limit)
            if not rows:
                print(f"no runs in {store.path}")
                return 0
            table = [
                [
                    r["run_id"],
                    r["created_at"],
                    (r["commit"] or "")[:10],
                    r["branch"],
                    r["pr"],
                    r["profile"],
                    r["label"],
                    r["verdict"],
                ]
                for r in rows
            ]
            print(
                tabulate(
                    table,
                    headers=[
                        "run",
                        "created",
                        "commit",
                        "branch",
                        "pr",
                        "profile",
                        "label",
                        "verdict",
                    ],
                )
            )
        elif args.action == "show":
            result = store.get_run(args.run_id)
            env = result.environment
            print(
                f"run {result.run_id}  {result.created_at}  commit {result.commit}  branch {result.branch}"
            )
            print(f"profile {result.profile}  label {result.label}  config {result.config_hash}")
            print(
                f"machine {env.get('cpu_model')} ×{env.get('cores')}  {env.get('os')}  python {env.get('python')}"
            )
            if result.verdict:
                print(f"verdict {result.verdict.get('state')}")
            figures = store.figures(result.run_id)
            print()
            print(
                tabulate(
                    [
                        [f["suite"], f["metric"], _fmt(f["value"]), f["unit"], f["samples"]]
                        for f in figures
                    ],
                    headers=["suite", "metric", "value", "unit", "samples"],
                )
            )
        elif args.action == "prune":
            deleted = store.prune(keep_last=args.keep_last, older_than_days=args.older_than_days)
            print(f"deleted {deleted} run(s) from {store.path}")
        elif args.action == "export":
            count = store.export_jsonl(sys.stdout if args.file == "-" else args.file)
            print(f"exported {count} run(s)", file=sys.stderr)
        elif args.action == "import":
            imported, skipped = store.import_jsonl(sys.stdin if args.file == "-" else args.file)
            print(f"imported {imported} run(s), skipped {skipped} already present")
    return 0
