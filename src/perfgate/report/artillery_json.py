"""REPORT.json in Artillery 2's shape, with perfgate's extras under ``perfgate``.

Artillery's report is ``{"aggregate": {...}, "intermediate": [{...}, ...]}``,
each part holding ``counters``, ``rates``, ``summaries`` and ``histograms``
(the same statistics in Artillery 2), plus first/last counter and histogram
timestamps (epoch ms) and ``period``: as Artillery writes it, a window's
``period`` is its start as a *string* of epoch ms (SSMS keys windows by it)
and the aggregate's is a *number*, the last window's start. Tools that read
Artillery reports keep
working; perfgate adds the scheduler's lag, the per-second series, the
checks, warnings and the whole SuiteResult (for the store) under
``perfgate``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from perfgate.metrics import MetricSet, names
from perfgate.result import SuiteResult

__all__ = ["artillery_report", "metricset_to_artillery", "write_report"]


def _clean(value: float) -> float | int:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return 0
    return value


def metricset_to_artillery(ms: MetricSet, *, period_ms: float | None = None) -> dict[str, Any]:
    """One window in Artillery's shape (``period`` a string, as Artillery's)."""
    summaries = {
        k: {s: _clean(v) for s, v in h.summary().items()} for k, h in sorted(ms.histograms.items())
    }
    rates: dict[str, float] = {}
    seconds = ms.duration_s
    if seconds > 0 and names.HTTP_REQUESTS in ms.counters:
        rates[names.HTTP_REQUEST_RATE] = round(ms.counters[names.HTTP_REQUESTS] / max(seconds, 1.0))
    first = int(ms.first_ms) if ms.first_ms is not None else None
    last = int(ms.last_ms) if ms.last_ms is not None else None
    period = period_ms if period_ms is not None else ms.period_ms
    return {
        "counters": dict(sorted(ms.counters.items())),
        "rates": rates,
        "firstCounterAt": first,
        "firstHistogramAt": first if summaries else None,
        "lastCounterAt": last,
        "lastHistogramAt": last if summaries else None,
        "firstMetricAt": first,
        "lastMetricAt": last,
        "period": str(int(period)) if period is not None else str(first),
        "summaries": summaries,
        "histograms": summaries,
    }


def artillery_report(
    result: SuiteResult, *, environment: dict[str, Any] | None = None
) -> dict[str, Any]:
    agg = metricset_to_artillery(result.aggregate)
    starts = [w.period_ms for w in result.intermediate if w.period_ms is not None]
    agg["period"] = int(max(starts)) if starts else agg["firstCounterAt"]
    # Artillery's aggregate request rate is over the whole run, not one window.
    if result.duration_s > 0 and names.HTTP_REQUESTS in result.aggregate.counters:
        span = result.aggregate.duration_s or result.duration_s
        agg["rates"][names.HTTP_REQUEST_RATE] = round(
            result.aggregate.counters[names.HTTP_REQUESTS] / max(span, 1.0)
        )
    return {
        "aggregate": agg,
        "intermediate": [metricset_to_artillery(w) for w in result.intermediate],
        "perfgate": {
            "scheduler": result.to_dict()["scheduler"],
            "series": result.series,
            "checks": [c.__dict__ for c in result.checks],
            "warnings": result.warnings,
            "errors": result.errors,
            "interrupted": result.interrupted,
            "environment": environment or {},
            "suite": result.to_dict(),
        },
    }


def write_report(
    path: str | Path, result: SuiteResult, *, environment: dict[str, Any] | None = None
) -> None:
    """Write atomically (a partial report after Ctrl-C is still valid JSON)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_suffix(p.suffix + ".tmp")
    tmp.write_text(
        json.dumps(artillery_report(result, environment=environment), indent=1, default=str),
        "utf-8",
    )
    tmp.replace(p)
