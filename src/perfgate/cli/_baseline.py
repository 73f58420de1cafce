"""``perfgate baseline``: look after the results database."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfgate.config import StoreConfig

_EPILOG = """\
examples:
  perfgate baseline list                          # the newest 20 runs
  perfgate baseline list --branch main --limit 50
  perfgate baseline show 3f2a9c                   # a run's figures (id or unique prefix)
  perfgate baseline prune --keep-last 200 --older-than-days 90
  perfgate baseline prune --config perfgate.yml --branch   # the CI branch, by its store policy
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
    prune = sub.add_parser("prune", help="delete old runs (a local file, or the baseline branch)")
    prune.add_argument(
        "--keep-last",
        type=int,
        default=None,
        help="always keep the newest N (default: the config's store.keep_runs, else 200)",
    )
    prune.add_argument(
        "--older-than-days",
        type=float,
        default=None,
        help="delete only runs older than this (default: the config's store.keep_days)",
    )
    prune.add_argument(
        "--config", default=None, help="perfgate.yml whose store: policy and branch to use"
    )
    prune.add_argument(
        "--branch",
        nargs="?",
        const="",
        default=None,
        help="prune the database on the baseline branch (default branch: the config's) "
        "and push it, instead of a local file",
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


def _prune_policy(args: argparse.Namespace) -> tuple[int, float | None, StoreConfig]:
    from perfgate.config import StoreConfig, load_project

    store = load_project(args.config).store if args.config else StoreConfig()
    keep = (
        args.keep_last if args.keep_last is not None else (store.keep_runs if args.config else 200)
    )
    days = args.older_than_days if args.older_than_days is not None else store.keep_days
    return keep, days, store


def _prune_branch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from perfgate.gate import is_git_repo
    from perfgate.store import prune_branch

    keep, days, store = _prune_policy(args)
    where = Path(args.config).resolve().parent if args.config else Path.cwd()
    repo = is_git_repo(where)
    if repo is None:
        print(f"perfgate: error: {where} is not in a git repository", file=sys.stderr)
        return 2
    branch = args.branch or store.branch
    outcome, deleted = prune_branch(
        repo,
        branch,
        store.remote,
        keep_runs=keep,
        keep_days=days,
        max_commits=store.max_commits,
    )
    print(f"deleted {deleted} run(s) from {store.remote}/{branch} (commit {outcome.commit[:12]})")
    return 0


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from perfgate.store import DEFAULT_PATH, Store

    if args.action == "prune" and args.branch is not None:
        return _prune_branch(args)
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
            keep, days, _ = _prune_policy(args)
            deleted = store.prune(keep_last=keep, older_than_days=days)
            print(f"deleted {deleted} run(s) from {store.path}")
        elif args.action == "export":
            count = store.export_jsonl(sys.stdout if args.file == "-" else args.file)
            print(f"exported {count} run(s)", file=sys.stderr)
        elif args.action == "import":
            imported, skipped = store.import_jsonl(sys.stdin if args.file == "-" else args.file)
            print(f"imported {imported} run(s), skipped {skipped} already present")
    return 0
