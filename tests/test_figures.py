"""A run's comparable figures, from a RunResult built by hand."""

from __future__ import annotations

import pytest

from perfgate.figures import RUN_WIDE_SUITE, Figure, min_samples, run_figures
from perfgate.metrics import MetricSet, names
from perfgate.result import BenchOperation, RunResult, SuiteResult


def _load_suite(extra: dict[str, float] | None = None) -> SuiteResult:
    agg = MetricSet(first_ms=0.0, last_ms=10_000.0)
    for i in range(1, 1001):  # 1..1000 ms on one endpoint, 100 responses of 1 ms on another
        agg.observe(names.TOTAL, float(i))
        agg.observe(names.endpoint_total("GET /slow"), float(i))
        agg.incr(names.endpoint_codes("GET /slow", 200))
        agg.incr(names.http_code(200))
    for _ in range(100):
        agg.observe(names.TOTAL, 1.0)
        agg.observe(names.endpoint_total("GET /fast"), 1.0)
        agg.incr(names.endpoint_codes("GET /fast", 500 if _ < 10 else 200))
        agg.incr(names.http_code(500 if _ < 10 else 200))
    agg.incr(names.error_code("ETIMEDOUT"), 9)
    agg.incr(names.endpoint_errors("GET /fast", "ETIMEDOUT"), 9)
    agg.incr(names.HTTP_REQUESTS, 1109)
    return SuiteResult(
        name="load", kind="load", duration_s=10.0, aggregate=agg, extra=dict(extra or {})
    )


def _by_metric(figures: list[Figure]) -> dict[tuple[str, str], Figure]:
    return {(f.suite, f.metric): f for f in figures}


def test_load_suite_figures() -> None:
    figs = _by_metric(run_figures(RunResult(suites=[_load_suite()])))
    p50 = figs[("load", "total.p50")]
    assert p50.unit == "ms" and p50.samples == 1100 and p50.family_hint == "primary"
    assert p50.value == pytest.approx(450, rel=0.01)  # rank floor(0.5 * 1099) = 549 -> value 450
    assert figs[("load", "total.p99")].value == pytest.approx(989, rel=0.01)
    err = figs[("load", "error_rate")]
    assert err.value == pytest.approx(19 / 1109) and err.samples == 1109 and err.unit == "ratio"
    assert figs[("load", "throughput")].value == pytest.approx(110.0)
    fast = figs[("load", "endpoint:GET /fast error_rate")]
    assert fast.value == pytest.approx(19 / 109)
    assert figs[("load", "endpoint:GET /slow total.p50")].value == pytest.approx(500, rel=0.01)
    assert figs[("load", "endpoint:GET /slow total.p50")].family_hint == "primary"
    assert not any(m.startswith("cpu") for _, m in figs)


def test_bench_and_cpu_figures() -> None:
    bench = SuiteResult(
        name="bench",
        kind="bench",
        operations=[
            BenchOperation("health", samples_ms=[1.0, 2.0, 3.0, 4.0, 100.0]),
            BenchOperation("payments", skipped_reason="setup failed"),
        ],
    )
    monitor = {
        "process": [{"t": 0, "cpu_s": 10.0}, {"t": 1, "cpu_s": 10.5}, {"t": 2, "cpu_s": 12.218}]
    }
    figs = _by_metric(run_figures(RunResult(suites=[_load_suite(), bench], monitor=monitor)))
    assert figs[("bench", "op:health median")].value == 3.0
    assert figs[("bench", "op:health mean")].value == 22.0
    assert figs[("bench", "op:health p95")].value == 4.0  # rank floor(0.95 * 4) = 3
    assert not any("payments" in m for _, m in figs)
    cpu = figs[(RUN_WIDE_SUITE, "cpu_ms_per_request")]
    assert cpu.value == pytest.approx(2218.0 / 1109) and cpu.unit == "ms/req"
    per_suite = _by_metric(
        run_figures(RunResult(suites=[_load_suite({"target_cpu_s": 1.109})], monitor=monitor))
    )
    assert per_suite[("load", "cpu_ms_per_request")].value == pytest.approx(1.0)
    assert (RUN_WIDE_SUITE, "cpu_ms_per_request") not in per_suite


def test_min_samples_rules() -> None:
    assert min_samples("total.p50") == 50
    assert min_samples("endpoint:GET /a.b total.p95") == 200
    assert min_samples("total.p99") == 1000
    assert min_samples("op:x median") == 50
    assert min_samples("error_rate") == 0
    assert not Figure("s", "total.p99", 1.0, "ms", 999).sufficient
    assert Figure("s", "total.p99", 1.0, "ms", 1000).sufficient
    assert run_figures(RunResult()) == []
