"""Artillery's ``ensure`` checks, evaluated over the run's aggregate metrics.

Metric names as Artillery's ensure plugin sees them: counters by name
(``vusers.failed``), summaries as ``name.stat`` (``http.response_time.p95``,
``...max``, ``...mean``), and ``http.request_rate``. A threshold passes when
the value is at most the limit; ``maxErrorRate`` is failed over created
virtual users, in percent.
"""

from __future__ import annotations

from typing import Any

from perfgate.engine.apdex import APDEX_FRUSTRATED, APDEX_SATISFIED, APDEX_TOLERATED
from perfgate.metrics import MetricSet, names
from perfgate.result import Check, CheckStatus
from perfgate.script import EnsureSpec, compile_expression

__all__ = ["apdex_score", "evaluate_ensure", "metric_values"]


def apdex_score(aggregate: MetricSet) -> float | None:
    """artillery-plugin-apdex's score: (satisfied + tolerated / 2) / total."""
    s = aggregate.counter(APDEX_SATISFIED)
    t = aggregate.counter(APDEX_TOLERATED)
    f = aggregate.counter(APDEX_FRUSTRATED)
    total = s + t + f
    return (s + t / 2) / total if total > 0 else None


def metric_values(aggregate: MetricSet, *, apdex: bool = False) -> dict[str, float]:
    """Every value an ensure threshold or condition may name (``apdex``: add
    the apdex score, as the plugin does when ``config.apdex`` is set)."""
    out: dict[str, float] = {k: float(v) for k, v in aggregate.counters.items()}
    for name, hist in aggregate.histograms.items():
        for stat, value in hist.summary().items():
            out[f"{name}.{stat}"] = float(value)
    seconds = aggregate.duration_s
    if seconds > 0:
        out[names.HTTP_REQUEST_RATE] = round(aggregate.counter(names.HTTP_REQUESTS) / seconds, 3)
    score = apdex_score(aggregate) if apdex else None
    if score is not None:
        out["apdex"] = score
    return out


def _is_one(value: Any) -> bool:
    """The plugin passes a check only when filtrex returns exactly 1 (``result !==
    1`` fails): a comparison or ``and``/``or`` that holds, not any truthy value."""
    if isinstance(value, bool):
        return value
    return isinstance(value, int | float) and value == 1


def evaluate_ensure(spec: EnsureSpec, aggregate: MetricSet) -> list[Check]:
    values = metric_values(aggregate, apdex=spec.apdex)
    checks: list[Check] = []
    for metric, limit in spec.thresholds:
        value = values.get(metric)
        if value is None:
            checks.append(
                Check(
                    metric,
                    "fail",
                    None,
                    limit,
                    "ms",
                    f"{metric} < {limit:g}: no such metric in this run",
                )
            )
            continue
        ok = value < limit  # the plugin's check is `metric < limit`
        checks.append(
            Check(
                metric,
                "pass" if ok else "fail",
                value,
                limit,
                "",
                f"{metric} < {limit:g} (got {value:g})",
            )
        )
    for expr, strict in spec.conditions:
        try:
            ok = _is_one(compile_expression(expr)(values))
            detail = expr
        except (
            Exception
        ) as exc:  # an expression that cannot evaluate is a failed check, not a crash
            ok, detail = False, f"{expr}: {exc}"
        status: CheckStatus = "pass" if ok else ("fail" if strict else "inconclusive")
        checks.append(Check(expr, status, None, None, "", detail))
    if spec.max_error_rate is not None:
        created = aggregate.counter(names.VUSERS_CREATED)
        failed = created - aggregate.counter(names.VUSERS_COMPLETED)
        # The plugin: (created - completed) / created * 100 <= max; NaN (no user) fails.
        rate = 100.0 * failed / created if created else float("nan")
        ok = created > 0 and rate <= spec.max_error_rate
        checks.append(
            Check(
                "maxErrorRate",
                "pass" if ok else "fail",
                round(rate, 3) if created else None,
                spec.max_error_rate,
                "%",
                f"{failed} of {created} virtual users failed",
            )
        )
    return checks
