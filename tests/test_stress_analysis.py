"""Stress analysis on synthetic runs: pure functions, no network."""

from __future__ import annotations

import math
from collections.abc import Callable

from perfgate.metrics import Histogram, MetricSet, names
from perfgate.result import SchedulerStats, SuiteResult
from perfgate.stress import Slo, StressConfig, analyse, stress_checks
from perfgate.stress._breaking import breaking_point, rolling_windows
from perfgate.stress._connections import connection_errors, database_health
from perfgate.stress._crash import crash_of
from perfgate.stress._leak import leak_verdict, memory_points, steady_windows
from perfgate.stress._recovery import load_drop, recovery
from perfgate.stress._series import Second, generator_limited_seconds, window

BASE_MS = 1_700_000_000_000.0

Profile = Callable[[int], tuple[int, float, int]]  # t -> (arrivals, latency ms, errors)


def make_seconds(
    n: int,
    profile: Profile,
    limited: set[int] | None = None,
    *,
    lag_ms: float = 0.0,
    cpu: bool = False,
) -> list[Second]:
    out = []
    for t in range(n):
        rate, latency, errors = profile(t)
        h = Histogram()
        answered = rate - errors
        # 90% at the latency, 10% a little above: a realistic tail
        h.record_many([latency] * (answered - answered // 10) + [latency * 1.2] * (answered // 10))
        flagged = bool(limited and t in limited)
        out.append(
            Second(
                t,
                float(rate),
                rate,
                answered,
                errors,
                h,
                generator_limited=flagged,
                lag_p99_ms=lag_ms if flagged else 0.0,
                cpu_limited=cpu and flagged,
            )
        )
    return out


def make_suite(
    n: int, profile: Profile, *, lag_ms: Callable[[int], float] | None = None
) -> SuiteResult:
    """A run as the engine records it: series, 10-s windows, per-second histograms."""
    seconds = make_seconds(n, profile)
    windows = []
    for k in range(0, n, 10):
        w = MetricSet(period_ms=BASE_MS + k * 1000)
        for s in seconds[k : k + 10]:
            w.incr(names.HTTP_REQUESTS, s.requests)
            w.incr(names.VUSERS_CREATED, s.requests)
            w.incr(names.VUSERS_COMPLETED, s.responses)
            w.incr(names.VUSERS_FAILED, s.no_response)
            w.incr(names.http_code(200), s.responses)
            if s.no_response:
                w.incr(names.error_code("ECONNRESET"), s.no_response)
            assert s.hist is not None
            for name in (names.HTTP_RESPONSE_TIME, names.TOTAL):
                w.histograms.setdefault(name, Histogram()).merge(s.hist)
        if lag_ms is not None:
            w.histograms[names.ARRIVAL_LAG] = Histogram()
            w.histograms[names.ARRIVAL_LAG].record_many([lag_ms(k)] * 50)
        windows.append(w)
    return SuiteResult(
        name="synthetic",
        kind="load",
        intermediate=windows,
        aggregate=MetricSet.merged(windows),
        series=[
            {
                "t": s.t,
                "requests": s.requests,
                "responses": s.responses,
                "no_response": s.no_response,
            }
            for s in seconds
        ],
        scheduler=SchedulerStats(),
        extra={
            "start_epoch_ms": BASE_MS,
            "second_histograms": {str(s.t): s.hist.encode() for s in seconds if s.hist},
        },
    )


def ramp(t: int) -> tuple[int, float, int]:
    """Rate 50 + 10/s; latency fine until 400/s, then 600 ms."""
    rate = 50 + 10 * t
    return rate, (5.0 if rate < 400 else 600.0), 0


# -- windows and the breaking point ------------------------------------------


def test_window_percentile_comes_from_merged_histograms_not_averaged_p95s() -> None:
    # one slow second in ten: 10% of the samples -> the merged p95 is slow,
    # although the mean of the per-second p95s is far below it
    seconds = make_seconds(10, lambda t: (100, 500.0 if t == 3 else 5.0, 0))
    w = window(seconds, 0, 10)
    averaged = sum(s.hist.quantile(0.95) for s in seconds if s.hist) / 10
    assert averaged < 100
    assert w.percentile_ms > 400
    assert w.samples == 1000 and w.offered_rate == 100


def test_ramp_breaks_where_latency_jumps_and_reports_the_rate_before() -> None:
    seconds = make_seconds(60, ramp)
    bp = breaking_point(rolling_windows(seconds, Slo()), Slo())
    assert bp.status == "broken"
    # first over window needs ≥ 5% slow samples: it starts a few seconds before t=35 (400/s)
    assert bp.at_s is not None and 25 <= bp.at_s <= 35
    assert bp.max_sustained_rate is not None and 150 <= bp.max_sustained_rate < 400
    assert "p95" in bp.reason


def test_one_gc_pause_is_not_a_breaking_point() -> None:
    seconds = make_seconds(60, lambda t: (300, 2000.0 if t == 30 else 5.0, 0))
    bp = breaking_point(rolling_windows(seconds, Slo()), Slo())
    assert bp.status == "held"
    assert bp.max_sustained_rate == 300


def test_too_few_samples_cannot_break() -> None:
    # 10 requests/s: a 10-s window has 100 samples, fewer than the 200 p95 needs
    seconds = make_seconds(60, lambda t: (10, 900.0, 0))
    bp = breaking_point(rolling_windows(seconds, Slo()), Slo())
    assert bp.status == "insufficient"


def test_error_rate_breaks_the_slo() -> None:
    seconds = make_seconds(60, lambda t: (100, 5.0, 5 if t >= 20 else 0))
    bp = breaking_point(rolling_windows(seconds, Slo()), Slo())
    assert bp.status == "broken" and bp.at_s is not None and 11 <= bp.at_s <= 20
    assert "error rate" in bp.reason


def test_a_break_while_the_generator_was_the_limit_is_never_the_apis() -> None:
    for late in (
        make_seconds(60, ramp, limited=set(range(30, 60)), lag_ms=300.0),  # lag ~ latency
        make_seconds(60, ramp, limited=set(range(30, 60)), cpu=True),  # generator CPU saturated
    ):
        bp = breaking_point(rolling_windows(late, Slo()), Slo())
        assert bp.status == "generator_limited"
        assert bp.at_s is None
        assert bp.generator_limited_at_s is not None


def test_an_api_far_slower_than_the_generators_lateness_is_the_apis_break() -> None:
    # arrivals ran 60 ms late, but responses took 600 ms: the API broke
    seconds = make_seconds(60, ramp, limited=set(range(30, 60)), lag_ms=60.0)
    bp = breaking_point(rolling_windows(seconds, Slo()), Slo())
    assert bp.status == "broken"


def test_generator_limited_seconds_from_window_lag_and_cpu() -> None:
    suite = make_suite(40, ramp, lag_ms=lambda k: 120.0 if k == 20 else 1.0)
    limited = generator_limited_seconds(suite, generator_cpu=[{"t": 35, "cpu_pct": 99.0}])
    assert limited == set(range(20, 30)) | {35}
    flagged = make_suite(40, ramp)
    assert flagged.scheduler is not None
    flagged.scheduler.generator_limited = True
    assert generator_limited_seconds(flagged) is None  # cannot be localised


# -- recovery -------------------------------------------------------------------


def spike(recovers_at: int | None) -> Profile:
    def profile(t: int) -> tuple[int, float, int]:
        if t < 20:
            return 50, 10.0, 0
        if t < 40:
            return 400, 500.0, 0
        slow = recovers_at is None or t < recovers_at
        return 50, (300.0 if slow else 11.0), 0

    return profile


def test_recovery_time_after_the_load_drops() -> None:
    seconds = make_seconds(70, spike(recovers_at=48))
    assert load_drop(seconds) == 40
    r = recovery(seconds, warmup=(0, 20))
    assert r.status == "recovered"
    assert r.recovery_time_s == 8.0
    assert r.baseline_p95_ms is not None and 9 <= r.baseline_p95_ms <= 13


def test_never_recovering_fails_and_no_cooldown_is_inconclusive() -> None:
    assert recovery(make_seconds(70, spike(None)), warmup=(0, 20)).status == "not_recovered"
    flat = make_seconds(40, lambda t: (100, 5.0, 0))
    assert recovery(flat, warmup=(0, 10)).status == "no_drop"


# -- leaks ------------------------------------------------------------------------


def test_warm_up_growth_is_not_a_leak_but_steady_growth_is() -> None:
    cumulative = {t: 100 * (t + 1) for t in range(120)}  # 100 requests/s
    windows = steady_windows(
        [{"start_s": 0, "duration_s": 120, "steady": True}], skip_fraction=0.25, run_end_s=120
    )
    assert windows == [(30.0, 120)]

    def warm(t: float) -> float:  # +40 MB in the first 20 s, then flat with noise
        return (60 + 40 * min(t, 20) / 20 + (3 if int(t) % 17 == 0 else 0)) * 2**20

    points = [(t / 2, warm(t / 2)) for t in range(240)]
    ok = leak_verdict(points, windows=windows, cumulative_requests=cumulative)
    assert ok.status == "no_leak", ok.reason
    # 10 KiB per request at 100 requests/s: ~58 MB/min, ~98 MB per 10k requests
    leaking = [(t / 2, 60 * 2**20 + (t / 2) * 100 * 10 * 1024) for t in range(240)]
    bad = leak_verdict(leaking, windows=windows, cumulative_requests=cumulative)
    assert bad.status == "leak"
    assert bad.mb_per_min is not None and 50 < bad.mb_per_min < 65
    assert bad.mb_per_10k_requests is not None and 90 < bad.mb_per_10k_requests < 105


def test_leak_without_memory_figures_is_unavailable_and_metrics_endpoint_is_a_fallback() -> None:
    assert leak_verdict([], windows=[(0, 10)], cumulative_requests={}).status == "unavailable"
    monitor = {
        "process": [],
        "metrics": [
            {"t": 1.0 + i, "fields": {"metrics.memory.rssBytes": 1000 + i}} for i in range(5)
        ],
    }
    points, source = memory_points(monitor, shift_s=1.0)
    assert source == "metrics.memory.rssBytes"
    assert points[0] == (0.0, 1000.0)


# -- crash, connections -------------------------------------------------------------


def test_crash_on_the_runs_clock_with_results_so_far() -> None:
    monitor = {
        "death": {
            "exit_code": 3,
            "signal": None,
            "at_s": 12.5,
            "description": "exit code 3",
            "log_tail": "ERROR --crash-after 500\n",
        }
    }
    series = [{"t": t, "responses": 100} for t in range(10)]
    crash = crash_of(monitor, series, shift_s=2.0)
    assert crash is not None
    assert crash.at_s == 10.5 and crash.exit_code == 3
    assert crash.responses_before == 1000
    assert "--crash-after" in crash.log_tail
    assert crash_of({"death": None}, series) is None


def test_connection_errors_and_database_health() -> None:
    agg = MetricSet(counters={"errors.ECONNRESET": 3, "errors.ETIMEDOUT": 2, "http.requests": 9})
    assert connection_errors(agg) == {"ECONNRESET": 3}
    health = database_health(
        {
            "health": [
                {"t": 1, "status": 200, "fields": {"checks.database.status": "ok"}},
                {"t": 2, "status": None, "fields": {}},
                {"t": 3, "status": 503, "fields": {"checks.database.status": "error"}},
            ]
        }
    )
    assert health is not None
    assert (health.answered, health.unanswered, health.failing) == (2, 1, 1)


# -- the checks ------------------------------------------------------------------------


def by_name(checks: list) -> dict:
    return {c.name: c for c in checks}


def test_seed_criteria_on_a_run_that_breaks_above_500() -> None:
    def profile(t: int) -> tuple[int, float, int]:
        rate = 50 + 12 * t if t < 70 else 50
        return rate, (4.0 if rate < 700 else 450.0), 0

    suite = make_suite(90, profile, lag_ms=lambda k: 1.0)
    offered = {t: float(profile(t)[0]) for t in range(90)}
    phases = [
        {"start_s": 0, "duration_s": 70, "steady": False},
        {"start_s": 70, "duration_s": 20, "steady": True},
    ]
    report = analyse(suite, phases=phases, offered=offered)
    checks = by_name(stress_checks(suite, report))
    assert len(checks) == 10
    assert all(c.criterion for c in checks.values())
    assert checks["stress.breaking_point"].status == "pass"
    assert checks["stress.breaking_point"].measured is not None
    assert 500 < checks["stress.breaking_point"].measured < 700
    assert checks["load.sustained_rate"].status == "pass"
    assert checks["load.p95"].status == "pass"
    assert checks["load.error_rate"].status == "pass"
    assert checks["load.graceful_degradation"].status == "pass"
    assert checks["stress.recovery"].status == "pass"
    assert checks["stress.no_crashes"].status == "pass"
    # no monitor: memory, database and connections cannot be judged
    for name in ("load.memory_leak", "stress.database_connections", "stress.resource_cleanup"):
        assert checks[name].status == "inconclusive", name


def test_breaking_below_500_fails_and_generator_limit_is_inconclusive() -> None:
    def low(t: int) -> tuple[int, float, int]:
        rate = 50 + 10 * t
        return rate, (4.0 if rate < 300 else 450.0), 0

    suite = make_suite(60, low, lag_ms=lambda k: 1.0)
    offered = {t: float(low(t)[0]) for t in range(60)}
    checks = by_name(stress_checks(suite, analyse(suite, offered=offered)))
    assert checks["stress.breaking_point"].status == "fail"

    limited = make_suite(60, low, lag_ms=lambda k: 1.0 if k < 20 else 200.0)
    checks = by_name(stress_checks(limited, analyse(limited, offered=offered)))
    assert checks["stress.breaking_point"].status == "inconclusive"
    assert "generator" in checks["stress.breaking_point"].detail


def test_handles_100_per_second_fails_when_arrivals_are_lost() -> None:
    def lossy(t: int) -> tuple[int, float, int]:
        return 120, 5.0, 3  # 2.5% of arrivals end in a connection error

    suite = make_suite(40, lossy, lag_ms=lambda k: 1.0)
    offered = {t: 120.0 for t in range(40)}
    checks = by_name(stress_checks(suite, analyse(suite, offered=offered), StressConfig()))
    sustained = checks["load.sustained_rate"]
    assert sustained.status == "fail"
    assert sustained.measured is not None and math.isclose(sustained.measured, 97.5, abs_tol=0.1)
    assert checks["load.error_rate"].status == "inconclusive"  # nothing at ≤ 100/s
