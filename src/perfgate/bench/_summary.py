"""Pure summaries of benchmark samples: statistics, repeats, budget checks.

No I/O here: the runner hands raw samples in, reports read the results.
Percentiles follow :func:`perfgate.stats.descriptive.quantile` (the
Histogram's rank convention), so a bench p95 and a load-test p95 mean the
same thing. Outliers are flagged (hyperfine's MAD rule) and counted, never
removed from any statistic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfgate.result import BenchOperation, Check, SuiteResult
from perfgate.stats import (
    bootstrap_median_ci,
    coefficient_of_variation,
    mad_outliers,
    median,
    quantile,
)

__all__ = [
    "STAT_LABELS",
    "budget_checks",
    "operation_checks",
    "repeat_summary",
    "summarize",
]

#: How each budget key reads in a message.
STAT_LABELS = {
    "mean": "mean",
    "median": "median",
    "p95": "p95",
    "p99": "p99",
    "max": "max",
    "error_rate": "failed samples",
}


def summarize(samples_ms: Sequence[float], failed: int = 0) -> dict[str, float]:
    """count, failed, min, max, mean, median, p95, p99, stdev, outliers (ms).

    Statistics are over successful samples; ``failed`` is carried along so
    the error rate sits beside them. An empty sample gives counts only.
    """
    n = len(samples_ms)
    out: dict[str, float] = {"count": float(n), "failed": float(failed)}
    total = n + failed
    out["error_rate"] = 100.0 * failed / total if total else 0.0
    if not n:
        return out
    mean = math.fsum(samples_ms) / n
    out.update(
        min=float(min(samples_ms)),
        max=float(max(samples_ms)),
        mean=mean,
        median=median(samples_ms),
        p95=quantile(samples_ms, 0.95),
        p99=quantile(samples_ms, 0.99),
        stdev=(
            math.sqrt(math.fsum((x - mean) ** 2 for x in samples_ms) / (n - 1)) if n > 1 else 0.0
        ),
        outliers=float(int(mad_outliers(samples_ms).sum())),
    )
    return out


def repeat_summary(
    per_run_samples: Sequence[Sequence[float]], *, seed: int | None = 0
) -> dict[str, float]:
    """Consistency across ``--repeat`` runs of one operation.

    ``median_cv``: coefficient of variation of the per-run medians (the
    run-to-run spread); ``median_ci_low/high``: 95% percentile-bootstrap
    interval of the median of all samples pooled.
    """
    medians = [median(s) for s in per_run_samples if len(s)]
    pooled = [x for s in per_run_samples for x in s]
    ci = bootstrap_median_ci(pooled, 0.95, seed=seed)
    return {
        "runs": float(len(per_run_samples)),
        "median_cv": coefficient_of_variation(medians),
        "median_ci_low": ci.low,
        "median_ci_high": ci.high,
        "median_ci_level": ci.level,
    }


def operation_checks(op: BenchOperation) -> list[Check]:
    """One check per budget entry of an operation (skipped when it did not run)."""
    checks: list[Check] = []
    for key, limit in op.budget.items():
        label = STAT_LABELS.get(key, key)
        name = f"{op.name}: {label}"
        unit = "%" if key == "error_rate" else "ms"
        if op.skipped_reason is not None:
            checks.append(
                Check(name, "skipped", None, limit, unit, f"not measured: {op.skipped_reason}")
            )
            continue
        measured = op.summary.get(key)
        if measured is None or (isinstance(measured, float) and math.isnan(measured)):
            detail = f"no successful samples ({op.failed} failed)"
            checks.append(Check(name, "fail", None, limit, unit, detail))
            continue
        ok = measured <= limit if key == "error_rate" else measured < limit
        if key == "error_rate":
            detail = f"{op.failed} of {op.failed + len(op.samples_ms)} samples failed ({measured:.1f}%, limit {limit:g}%)"
        else:
            detail = f"{label} {_ms(measured)} ms {'<' if ok else '>='} {limit:g} ms"
        checks.append(Check(name, "pass" if ok else "fail", measured, limit, unit, detail))
    return checks


def budget_checks(suite_result: SuiteResult) -> list[Check]:
    """Every budget check of a bench suite's operations, in order."""
    return [c for op in suite_result.operations for c in operation_checks(op)]


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.2f}"
