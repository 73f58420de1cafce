"""MetricSet merging and the RunResult record's JSON round trip."""

from __future__ import annotations

from pathlib import Path

from perfgate.metrics import MetricSet, names
from perfgate.result import BenchOperation, Check, RunResult, SchedulerStats, SuiteResult
from perfgate.verdict import MetricComparison, Verdict


def sample_set(offset: float, first: float) -> MetricSet:
    m = MetricSet(first_ms=first, last_ms=first + 1000)
    for i in range(10):
        m.incr(names.HTTP_REQUESTS)
        m.incr(names.http_code(200 if i < 9 else 503))
        m.incr(names.endpoint_codes("/api/x.y", 200 if i < 9 else 503))
        m.observe(names.TOTAL, offset + i)
        m.observe(names.endpoint_total("/api/x.y"), offset + i)
    m.incr(names.error_code("ETIMEDOUT"))
    m.incr(names.endpoint_errors("/api/x.y", "ETIMEDOUT"))
    return m


def test_merge_adds_counters_and_histograms() -> None:
    a, b = sample_set(1.0, 1000.0), sample_set(100.0, 500.0)
    merged = MetricSet.merged([a, b])
    assert merged.counter(names.HTTP_REQUESTS) == 20
    assert merged.histograms[names.TOTAL].count == 20
    assert merged.first_ms == 500.0 and merged.last_ms == 2000.0
    # the inputs are untouched
    assert a.counter(names.HTTP_REQUESTS) == 10
    assert merged.error_count() == 2
    assert merged.status_count(5) == 2


def test_endpoint_view_keeps_dotted_names() -> None:
    (ep,) = sample_set(1.0, 0.0).endpoints()
    assert ep.name == "/api/x.y"
    assert ep.codes == {"200": 9, "503": 1}
    assert ep.errors == {"ETIMEDOUT": 1}
    assert ep.requests == 11
    assert ep.failed == 2
    assert ep.total is not None and ep.total.count == 10


def test_run_result_round_trip(tmp_path: Path) -> None:
    suite = SuiteResult(
        name="load",
        kind="load",
        aggregate=sample_set(1.0, 0.0),
        intermediate=[sample_set(1.0, 0.0)],
        series=[{"t": 0, "requests": 10.0}],
        scheduler=SchedulerStats(planned=10, launched=10, lag_p99_ms=0.4),
        operations=[BenchOperation(name="Health", samples_ms=[0.3, 0.4], summary={"p50": 0.35})],
        checks=[Check(name="p95", status="pass", measured=3.0, threshold=200.0, unit="ms")],
        warnings=["w"],
    )
    run = RunResult(commit="abc", branch="main", suites=[suite], environment={"cores": 2})
    run.verdict = Verdict(
        state="pass", comparisons=[MetricComparison(suite="load", metric="total.p50", unit="ms")]
    ).to_dict()
    path = tmp_path / "r" / "run.json"
    run.save(path)
    back = RunResult.load(path)
    assert back.to_dict() == run.to_dict()
    assert (
        back.suites[0].aggregate.histograms[names.TOTAL] == suite.aggregate.histograms[names.TOTAL]
    )
    assert back.suite("load") is not None and back.suite("nope") is None
    assert Verdict.from_dict(back.verdict or {}).comparisons[0].metric == "total.p50"
