"""Artillery's ``ensure`` checks, evaluated over the run's aggregate metrics.

Metric names as Artillery's ensure plugin sees them: counters by name
(``vusers.failed``), summaries as ``name.stat`` (``http.response_time.p95``,
``...max``, ``...mean``), and ``http.request_rate``. A threshold passes when
the value is at most the limit; ``maxErrorRate`` is failed over created
virtual users, in percent.
"""

from __future__ import annotations

from typing import Any

from perfgate.metrics import MetricSet, names
from perfgate.result import Check, CheckStatus
from perfgate.script import EnsureSpec

__all__ = ["evaluate_ensure", "metric_values"]


def metric_values(aggregate: MetricSet) -> dict[str, float]:
    """Every value an ensure threshold or condition may name."""
    out: dict[str, float] = {k: float(v) for k, v in aggregate.counters.items()}
    for name, hist in aggregate.histograms.items():
        for stat, value in hist.summary().items():
            out[f"{name}.{stat}"] = float(value)
    seconds = aggregate.duration_s
    if seconds > 0:
        out[names.HTTP_REQUEST_RATE] = round(aggregate.counter(names.HTTP_REQUESTS) / seconds, 3)
    return out


def evaluate_ensure(spec: EnsureSpec, aggregate: MetricSet) -> list[Check]:
    values = metric_values(aggregate)
    checks: list[Check] = []
    for metric, limit in spec.thresholds:
        value = values.get(metric)
        if value is None:
            checks.append(
                Check(metric, "fail", None, limit, "ms", f"{metric}: no such metric in this run")
            )
            continue
        ok = value <= limit
        checks.append(
            Check(
                metric,
                "pass" if ok else "fail",
                value,
                limit,
                "",
                f"{metric} = {value:g} (max {limit:g})",
            )
        )
    compiled: list[Any] = list(spec.compiled)
    for i, (expr, strict) in enumerate(spec.conditions):
        try:
            ok = bool(compiled[i](values)) if i < len(compiled) else False
            detail = expr
        except (
            Exception
        ) as exc:  # an expression that cannot evaluate is a failed check, not a crash
            ok, detail = False, f"{expr}: {exc}"
        status: CheckStatus = "pass" if ok else ("fail" if strict else "inconclusive")
        checks.append(Check(expr, status, None, None, "", detail))
    if spec.max_error_rate is not None:
        created = aggregate.counter(names.VUSERS_CREATED)
        failed = aggregate.counter(names.VUSERS_FAILED)
        rate = 100.0 * failed / created if created else 0.0
        ok = rate <= spec.max_error_rate
        checks.append(
            Check(
                "maxErrorRate",
                "pass" if ok else "fail",
                round(rate, 3),
                spec.max_error_rate,
                "%",
                f"{failed} of {created} virtual users failed",
            )
        )
    return checks
