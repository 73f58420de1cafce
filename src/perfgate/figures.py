"""A run's comparable figures: one flat list the store, the gate and A/B share.

``run_figures(run)`` flattens a :class:`~perfgate.result.RunResult` into
canonical metrics, each with the number of samples behind it so the gate can
say "insufficient" instead of guessing.

Metric names (``Figure.metric``), per suite (``Figure.suite``):

==========================================  =========  ===========================================
``total.p50`` / ``total.p95`` / ``total.p99``  ms       ``perfgate.total`` (request start → last byte)
``error_rate``                              ratio      failed requests / requests (:mod:`perfgate.metrics.failures`)
``throughput``                              req/s      responses / suite duration
``endpoint:<name> total.p50|p95|p99``       ms         the endpoint's ``perfgate.endpoint.total.<name>``
``endpoint:<name> error_rate``              ratio      as above, for that endpoint
``endpoint:<name> cpu_ms_per_request``      ms/req     target CPU per request of the endpoint, fitted over busy periods (A/B)
``op:<name> median|mean|p95``               ms         bench operations (raw samples)
``cpu_ms_per_request``                      ms/req     target CPU time / requests
==========================================  =========  ===========================================

CPU per request uses the suite's ``extra["target_cpu_s"]`` when the suite
recorded it (and the endpoints' from ``extra["endpoint_cpu_ms"]``,
:func:`perfgate.engine.cpu_share.endpoint_cpu_ms`); otherwise, when the run's monitor has process rows
(``monitor["process"]``: cumulative ``cpu_s``), one run-wide figure under
the suite name ``"*"`` (CPU over the whole monitored span / all requests).

Percentiles need enough samples to mean anything (docs/statistics.md): 50 for a
median, 200 for p95, 1,000 for p99 — :func:`min_samples`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from perfgate.metrics import Histogram, MetricSet, failures, names
from perfgate.result import RunResult, SuiteResult

__all__ = ["RUN_WIDE_SUITE", "Figure", "min_samples", "run_figures", "split_metric"]

FamilyHint = Literal["primary", "info"]

#: Suite name of figures that belong to the whole run (target CPU time).
RUN_WIDE_SUITE = "*"

# CPU per request: an endpoint's is fitted over the busy periods its requests
# were in; its samples are its requests. CPU carries no queueing (a request's
# CPU spreads about ±4% within a round), so 20 requests make a steady figure.
# The suite-wide figure has thousands of requests behind it.
_MIN_SAMPLES = {
    "p50": 50,
    "median": 50,
    "mean": 50,
    "p95": 200,
    "p99": 1000,
    "cpu_ms_per_request": 20,
}
_PERCENTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))


@dataclass(frozen=True)
class Figure:
    """One comparable number of one suite, and how many samples stand behind it."""

    suite: str
    metric: str
    value: float
    unit: str
    samples: int
    family_hint: FamilyHint = "info"

    @property
    def sufficient(self) -> bool:
        return self.samples >= min_samples(self.metric)


def split_metric(metric: str) -> tuple[str, str | None, str | None]:
    """``"endpoint:/x total.p50"`` -> ``("total.p50", "endpoint", "/x")``.

    Returns (statistic, subject kind "endpoint" | "op" | None, subject name).
    The statistic is the last space-separated word, so names may hold spaces.
    """
    head, _, stat = metric.rpartition(" ")
    if not head:
        return metric, None, None
    kind, _, name = head.partition(":")
    if kind in ("endpoint", "op") and name:
        return stat, kind, name
    return stat, None, head


def min_samples(metric: str) -> int:
    """Samples a figure needs before it can be compared (0: no minimum)."""
    statistic = metric.rsplit(" ", 1)[-1].rsplit(".", 1)[-1]
    return _MIN_SAMPLES.get(statistic, 0)


def _latency(suite: str, prefix: str, hist: Histogram | None, primary: set[str]) -> list[Figure]:
    if hist is None or hist.count == 0:
        return []
    values = hist.quantiles(q for _, q in _PERCENTILES)
    out = []
    for (name, _), value in zip(_PERCENTILES, values, strict=True):
        metric = f"{prefix}total.{name}"
        out.append(
            Figure(
                suite, metric, value, "ms", hist.count, "primary" if metric in primary else "info"
            )
        )
    return out


def _requests(
    metrics: MetricSet, policy: failures.FailurePolicy = failures.DEFAULT_POLICY
) -> tuple[int, int, int]:
    """(requests, responses, failed) of a metric set: failed as ``metrics.failures`` counts it."""
    counted = failures.count(metrics, policy)
    return counted.requests, counted.answered, counted.failed


def _suite_figures(suite: SuiteResult) -> list[Figure]:
    name = suite.name
    agg = suite.aggregate
    policy = failures.policy_of(suite)
    out = _latency(name, "", agg.histograms.get(names.TOTAL), {"total.p50", "total.p95"})
    requests, responses, failed = _requests(agg, policy)
    if requests:
        out.append(Figure(name, "error_rate", failed / requests, "ratio", requests, "primary"))
        duration = suite.duration_s or agg.duration_s
        if duration > 0:
            out.append(Figure(name, "throughput", responses / duration, "req/s", responses))
    endpoint_cpu = suite.extra.get("endpoint_cpu_ms") or {}
    for ep in agg.endpoints():
        prefix = f"endpoint:{ep.name} "
        out.extend(_latency(name, prefix, ep.total, {f"{prefix}total.p50"}))
        fitted = endpoint_cpu.get(ep.name)
        if fitted is not None:
            value, n = float(fitted[0]), int(fitted[1])
            out.append(Figure(name, f"{prefix}cpu_ms_per_request", value, "ms/req", n, "primary"))
        if ep.requests:
            rate = failures.count_endpoint(ep, policy).rate or 0.0
            out.append(Figure(name, f"{prefix}error_rate", rate, "ratio", ep.requests))
    for op in suite.operations:
        samples = np.asarray(op.samples_ms, dtype=np.float64)
        if op.skipped_reason or samples.size == 0:
            continue
        n = int(samples.size)
        out.append(
            Figure(name, f"op:{op.name} median", float(np.median(samples)), "ms", n, "primary")
        )
        out.append(Figure(name, f"op:{op.name} mean", float(samples.mean()), "ms", n))
        p95 = float(np.quantile(samples, 0.95, method="lower"))
        out.append(Figure(name, f"op:{op.name} p95", p95, "ms", n))
    cpu_s = suite.extra.get("target_cpu_s")
    if isinstance(cpu_s, int | float) and requests:
        out.append(
            Figure(
                name, "cpu_ms_per_request", 1000.0 * cpu_s / requests, "ms/req", requests, "primary"
            )
        )
    return out


def _monitor_cpu_seconds(run: RunResult) -> float | None:
    rows = run.monitor.get("process") if isinstance(run.monitor, dict) else None
    if not isinstance(rows, list):
        return None
    cpu = [
        float(r["cpu_s"])
        for r in rows
        if isinstance(r, dict) and isinstance(r.get("cpu_s"), int | float)
    ]
    if len(cpu) < 2:
        return None
    return max(cpu) - cpu[0]


def run_figures(run: RunResult) -> list[Figure]:
    """Every comparable figure of ``run``, suites in order."""
    out: list[Figure] = []
    total_requests = 0
    per_suite_cpu = False
    for suite in run.suites:
        out.extend(_suite_figures(suite))
        total_requests += _requests(suite.aggregate)[0]
        per_suite_cpu = per_suite_cpu or "target_cpu_s" in suite.extra
    cpu_s = None if per_suite_cpu else _monitor_cpu_seconds(run)
    if cpu_s is not None and total_requests and math.isfinite(cpu_s):
        out.append(
            Figure(
                RUN_WIDE_SUITE,
                "cpu_ms_per_request",
                1000.0 * cpu_s / total_requests,
                "ms/req",
                total_requests,
                "primary",
            )
        )
    return out
