"""``perfgate bench``: measure key operations one by one against budgets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_EPILOG = """\
examples:
  perfgate bench bench-suite.yml                       # the suite's target
  perfgate bench bench-suite.yml -t http://127.0.0.1:3002 -o bench.json
  perfgate bench demo -t http://127.0.0.1:3001        # the bundled demo-API suite
  perfgate bench bench-suite.yml --repeat 5 --seed 7   # run-to-run consistency

Exit status: 0 all operations within budget; 1 a budget failed or an
operation was skipped (its setup failed); 2 bad suite or usage.
See docs/bench.md for the suite format.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "bench",
        help="benchmark key operations one by one against budgets (the seed's benchmark.ts)",
        description="Measure each operation of a benchmark suite on a kept-alive connection: "
        "warmup discarded, failed samples counted, outliers flagged, budgets checked.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("suite", metavar="SUITE", help="suite YAML file, or 'demo' for the bundled one")
    p.add_argument("-t", "--target", metavar="URL", help="override the suite's target")
    p.add_argument("-o", "--output", metavar="OUT.json", help="write the RunResult JSON here")
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="K",
        help="run the suite K times in shuffled order and report run-to-run consistency",
    )
    p.add_argument("--seed", type=int, default=None, help="seed of the --repeat shuffle")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=run)


def _progress(event: str, name: str, done: int, total: int) -> None:
    if event == "start":
        run = f" [run {done + 1}/{total}]" if total > 1 else ""
        print(f"Benchmarking: {name}{run} ", end="", file=sys.stderr, flush=True)
    elif event == "sample":
        print(".", end="", file=sys.stderr, flush=True)
    elif event == "done":
        print(" done", file=sys.stderr, flush=True)
    elif event == "skip":
        print(f"Skipping: {name} (setup failed)", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from perfgate import __version__
    from perfgate.bench import bundled_suite_path, load_suite, render_report, run_bench
    from perfgate.errors import ConfigError
    from perfgate.result import RunResult

    if args.repeat < 1:
        raise ConfigError(f"--repeat must be at least 1, got {args.repeat}")
    path = Path(args.suite)
    if args.suite == "demo" and not path.exists():
        path = bundled_suite_path()
    suite = load_suite(path, target=args.target)
    for warning in suite.warnings:
        print(f"perfgate: warning: {warning}", file=sys.stderr)
    result = run_bench(
        suite, repeat=args.repeat, seed=args.seed, progress=None if args.quiet else _progress
    )
    print(render_report(result))
    if args.output:
        RunResult(tool_version=__version__, suites=[result]).save(args.output)
        print(f"\nWrote {args.output}")
    failed = any(c.status == "fail" for c in result.checks)
    skipped = any(op.skipped_reason is not None for op in result.operations)
    return 1 if failed or skipped else 0
