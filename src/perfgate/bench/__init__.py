"""Benchmark suites: ``perfgate bench`` (the seed's benchmark.ts, done right).

Measure key operations one at a time on a kept-alive connection, with
warmup, failed samples counted, outliers flagged and budgets checked::

    from perfgate.bench import load_suite, run_bench, budget_checks
    result = run_bench(load_suite("bench-suite.yml"), target="http://127.0.0.1:3001")
    failing = [c for c in budget_checks(result) if c.status == "fail"]
"""

from perfgate.bench._runner import (
    BenchSetup,
    ProgressFn,
    operation_extra,
    run_bench,
    run_bench_async,
    run_bench_setup,
)
from perfgate.bench._suite import (
    BUDGET_KEYS,
    Operation,
    Suite,
    bundled_suite_path,
    load_suite,
    load_suite_text,
)
from perfgate.bench._summary import budget_checks, operation_checks, repeat_summary, summarize
from perfgate.bench._table import render_report

__all__ = [
    "BUDGET_KEYS",
    "BenchSetup",
    "Operation",
    "ProgressFn",
    "Suite",
    "budget_checks",
    "bundled_suite_path",
    "load_suite",
    "load_suite_text",
    "operation_checks",
    "operation_extra",
    "render_report",
    "repeat_summary",
    "run_bench",
    "run_bench_async",
    "run_bench_setup",
    "summarize",
]
