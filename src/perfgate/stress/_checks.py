"""The seed's Load Testing and Stress Testing success criteria as checks.

Each criterion becomes one :class:`~perfgate.result.Check`: pass, fail or
inconclusive (too few samples, the generator was the limit, the run did not
exercise it), with the measured figure, its threshold and the seed's wording.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from perfgate.metrics import Histogram, MetricSet, failures, names
from perfgate.result import Check, SuiteResult
from perfgate.stress._analyse import StressConfig, StressReport, status_5xx

__all__ = ["CRITERIA", "stress_checks"]

#: Check name -> the seed's wording (phase7-performance-testing.md, "Success Criteria").
CRITERIA = {
    "load.sustained_rate": "System handles 100 req/s sustained load",
    "load.p95": "p95 response time < 200ms under load",
    "load.error_rate": "Error rate < 1% under load",
    "load.memory_leak": "No memory leaks after extended run",
    "load.graceful_degradation": "Graceful degradation under stress",
    "stress.breaking_point": "Breaking point identified (> 500 req/s)",
    "stress.no_crashes": "No crashes or unhandled errors",
    "stress.recovery": "Recovery after load reduction",
    "stress.database_connections": "Database connections managed properly",
    "stress.resource_cleanup": "Resource cleanup occurs",
}


def _policy(suite: SuiteResult, cfg: StressConfig) -> failures.FailurePolicy:
    return cfg.failures or failures.policy_of(suite)


def _check(name: str, status: str, detail: str, **figures: object) -> Check:
    return Check(name=name, status=status, detail=detail, criterion=CRITERIA[name], **figures)  # type: ignore[arg-type]


def _windows_at(
    suite: SuiteResult,
    report: StressReport,
    *,
    low: float | None,
    high: float | None,
    strict: bool = True,
) -> list[tuple[int, MetricSet]]:
    """Intermediate windows whose offered rate is in [low, high], with their start second.

    Windows where the generator was the limit are left out: any lag over its
    bound when ``strict``, else only a saturated CPU or arrivals seconds late.
    """
    offered = {s.t: s.offered for s in report.seconds}
    limited = {
        s.t
        for s in report.seconds
        if (s.generator_limited if strict else s.cpu_limited or s.lag_p99_ms > 1000.0)
    }
    start = suite.extra.get("start_epoch_ms")
    periods = [w.period_ms for w in suite.intermediate if w.period_ms is not None]
    if not periods:
        return []
    base = float(start) if isinstance(start, int | float) else min(periods)
    out = []
    for w in suite.intermediate:
        if w.period_ms is None:
            continue
        s = round((w.period_ms - base) / 1000.0)
        span = range(s, s + 10)
        rate = sum(offered.get(t, 0.0) for t in span) / 10.0
        if rate <= 0 or any(t in limited for t in span):
            continue
        if (low is None or rate >= low) and (high is None or rate <= high):
            out.append((s, w))
    return out


def _sustained_rate(suite: SuiteResult, report: StressReport, cfg: StressConfig) -> Check:
    name = "load.sustained_rate"
    rate = cfg.load_rate
    until = report.breaking.at_s if report.breaking.status == "broken" else None
    if report.crash is not None and report.crash.at_s is not None:
        until = int(report.crash.at_s) if until is None else min(until, int(report.crash.at_s))
    all_at = _windows_at(suite, report, low=rate * 0.98, high=None)
    wins = [(s, w) for s, w in all_at if until is None or s + 10 <= until]
    if not wins and all_at:
        # broke before a whole window at that rate: judge the first window that offered it
        wins = all_at[:1]
    offered_by_t = {s.t: s.offered for s in report.seconds}
    if not wins:
        why = f"no 10-s window offered ≥ {rate:g} arrivals/s with the generator keeping up"
        return _check(name, "inconclusive", why, threshold=rate, unit="req/s")
    planned = sum(offered_by_t.get(t, 0.0) for s, _ in wins for t in range(s, s + 10))
    merged = MetricSet.merged([w for _, w in wins])
    # Not completed without error: failed users, failed answers, arrivals never launched.
    created = merged.counter(names.VUSERS_CREATED)
    counted = failures.count(merged, _policy(suite, cfg))
    not_ok = (
        merged.counter(names.VUSERS_FAILED)
        + counted.status_5xx
        + counted.declared_4xx
        + max(0.0, planned - created)
    )
    share = max(0.0, 1.0 - not_ok / planned) if planned else 0.0
    achieved = merged.counter(names.HTTP_REQUESTS) / (10.0 * len(wins))
    detail = (
        f"{share:.2%} of {planned:.0f} offered arrivals completed without error over "
        f"{len(wins) * 10} s at ≥ {rate:g}/s ({achieved:.0f} req/s sent), scheduler on time"
    )
    status = "pass" if share >= cfg.completion else "fail"
    return _check(
        name,
        status,
        detail,
        measured=round(share * 100, 2),
        threshold=cfg.completion * 100,
        unit="%",
    )


def _under_load(suite: SuiteResult, report: StressReport, cfg: StressConfig) -> tuple[Check, Check]:
    # latency is timed from the actual send: a late generator does not void it
    wins = _windows_at(suite, report, low=None, high=cfg.load_rate * 1.05, strict=False)
    merged = MetricSet.merged([w for _, w in wins])
    rt = merged.histograms.get(names.HTTP_RESPONSE_TIME) or Histogram()
    where = f"{len(wins) * 10} s at ≤ {cfg.load_rate:g} arrivals/s"
    if rt.count < cfg.slo.min_samples:
        p95 = _check(
            "load.p95",
            "inconclusive",
            f"{rt.count} responses {where} (need {cfg.slo.min_samples})",
            threshold=cfg.slo.p95_ms,
            unit="ms",
        )
    else:
        value = rt.quantile(0.95)
        p95 = _check(
            "load.p95",
            "pass" if value < cfg.slo.p95_ms else "fail",
            f"p95 {value:.1f} ms over {rt.count} responses, {where}",
            measured=round(value, 3),
            threshold=cfg.slo.p95_ms,
            unit="ms",
        )
    counted = failures.count(merged, _policy(suite, cfg))
    requests = counted.requests
    if requests < cfg.slo.min_samples:
        err = _check(
            "load.error_rate",
            "inconclusive",
            f"{requests} requests {where} (need {cfg.slo.min_samples})",
            threshold=cfg.slo.error_rate * 100,
            unit="%",
        )
    else:
        rate = counted.failed / requests
        err = _check(
            "load.error_rate",
            "pass" if rate < cfg.slo.error_rate else "fail",
            f"{counted.detail()}, {where}",
            measured=round(rate * 100, 3),
            threshold=cfg.slo.error_rate * 100,
            unit="%",
        )
    return p95, err


def _leak(report: StressReport, cfg: StressConfig) -> Check:
    leak = report.leak
    thr = cfg.leak.mb_per_10k_requests
    if leak.status in ("unavailable", "insufficient"):
        return _check(
            "load.memory_leak", "inconclusive", leak.reason, threshold=thr, unit="MB/10k req"
        )
    return _check(
        "load.memory_leak",
        "fail" if leak.status == "leak" else "pass",
        f"{leak.source}: {leak.reason}; {leak.start_mb} -> {leak.end_mb} MB in the steady phases",
        measured=leak.mb_per_10k_requests,
        threshold=thr,
        unit="MB/10k req",
    )


def _degradation(report: StressReport, cfg: StressConfig) -> Check:
    name = "load.graceful_degradation"
    bp = report.breaking
    if report.crash is not None:
        return _check(
            name, "fail", report.crash.headline(), threshold=cfg.answered_share * 100, unit="%"
        )
    if bp.status != "broken" or bp.at_s is None:
        why = {
            "held": f"never overloaded: {bp.reason}",
            "generator_limited": "the generator was the limit before the API was overloaded",
        }.get(bp.status, bp.reason)
        return _check(name, "inconclusive", why, threshold=cfg.answered_share * 100, unit="%")
    after = [s for s in report.seconds if s.t >= bp.at_s]
    answered = sum(s.responses for s in after)
    failed = sum(s.no_response for s in after)
    share = answered / (answered + failed) if answered + failed else 0.0
    return _check(
        name,
        "pass" if share >= cfg.answered_share else "fail",
        f"after the breaking point ({bp.at_s} s) {share:.1%} of {answered + failed} requests got "
        f"an HTTP answer ({failed} timeouts/resets/refusals); the target stayed up",
        measured=round(share * 100, 2),
        threshold=cfg.answered_share * 100,
        unit="%",
    )


def _breaking(report: StressReport, cfg: StressConfig) -> Check:
    name = "stress.breaking_point"
    bp = report.breaking
    thr = cfg.breaking_above
    sustained = bp.max_sustained_rate
    if report.crash is not None and bp.status != "broken":
        at = report.crash.at_s
        rates = [s.offered for s in report.seconds if at is not None and s.t < at]
        status = "pass" if sustained is not None and sustained > thr else "fail"
        return _check(
            name,
            status,
            f"the target crashed at {at} s (offered {rates[-1] if rates else 0:.0f}/s); "
            f"highest rate within the SLO before: {sustained}",
            measured=sustained,
            threshold=thr,
            unit="arrivals/s",
        )
    if bp.status == "broken":
        gen = (
            f"; the generator was limited earlier at {bp.generator_limited_rate}/s"
            if bp.generator_limited_at_s is not None
            else ""
        )
        return _check(
            name,
            "pass" if sustained is not None and sustained > thr else "fail",
            f"SLO ({cfg.slo.describe()}) broke at {bp.at_s} s, offered {bp.rate_at_break}/s "
            f"({bp.reason}); highest rate sustained before: {sustained}/s ({bp.method} windows){gen}",
            measured=sustained,
            threshold=thr,
            unit="arrivals/s",
        )
    if bp.status == "held" and sustained is not None and sustained > thr:
        return _check(
            name,
            "pass",
            f"not reached: the SLO held up to {sustained}/s, the most the script offered",
            measured=sustained,
            threshold=thr,
            unit="arrivals/s",
        )
    if bp.status == "generator_limited" and sustained is not None and sustained > thr:
        return _check(
            name,
            "pass",
            f"the API sustained {sustained}/s; beyond {bp.generator_limited_rate}/s the generator "
            "was the limit (not reported as the API's breaking point)",
            measured=sustained,
            threshold=thr,
            unit="arrivals/s",
        )
    why = {
        "held": f"the SLO held, but the script offered at most {sustained}/s (≤ {thr:g})",
        "generator_limited": f"the generator became the limit at {bp.generator_limited_rate}/s "
        f"before the API broke ({sustained}/s sustained); not the API's breaking point",
    }.get(bp.status, bp.reason)
    return _check(name, "inconclusive", why, measured=sustained, threshold=thr, unit="arrivals/s")


def _no_crash(suite: SuiteResult, report: StressReport) -> Check:
    name = "stress.no_crashes"
    unhandled = status_5xx(suite.aggregate, 500)
    if report.crash is not None:
        tail = report.crash.log_tail.strip().splitlines()[-3:]
        return _check(
            name,
            "fail",
            f"{report.crash.headline()}; log tail: {' | '.join(tail)}",
            measured=1.0,
            threshold=0.0,
            unit="crashes",
        )
    return _check(
        name,
        "fail" if unhandled else "pass",
        f"no crash; {unhandled} responses with HTTP 500 (unhandled errors)",
        measured=float(unhandled),
        threshold=0.0,
        unit="HTTP 500",
    )


def _recovery(report: StressReport) -> Check:
    r = report.recovery
    status = {"recovered": "pass", "not_recovered": "fail"}.get(r.status, "inconclusive")
    detail = r.reason
    if r.status == "recovered":
        detail = (
            f"back within tolerance of the warm-up (p95 {r.baseline_p95_ms} ms -> limit "
            f"{r.p95_limit_ms} ms) {r.recovery_time_s:g} s after the load dropped at {r.drop_at_s} s"
        )
    return _check(
        "stress.recovery",
        status,
        detail,
        measured=r.recovery_time_s,
        threshold=None,
        unit="s",
    )


def _database(report: StressReport) -> Check:
    db = report.database
    name = "stress.database_connections"
    if db is None or db.answered == 0:
        why = "health endpoint not polled" if db is None else "no health poll was answered"
        return _check(name, "inconclusive", why, threshold=0.0, unit="failing polls")
    return _check(
        name,
        "fail" if db.failing else "pass",
        f"{db.answered} health polls answered, {db.failing} with the database not ok"
        f"{', e.g. ' + db.example if db.example else ''}; {db.unanswered} unanswered",
        measured=float(db.failing),
        threshold=0.0,
        unit="failing polls",
    )


def _cleanup(report: StressReport) -> Check:
    name = "stress.resource_cleanup"
    c = report.cleanup
    errs = sum(report.connection_errors.values())
    counted = ", ".join(f"{k} {v}" for k, v in sorted(report.connection_errors.items())) or "none"
    if c is None or c.returned is None:
        why = "open connections not counted (remote target or no samples before/after the load)"
        return _check(
            name, "inconclusive", f"{why}; connection errors: {counted}", unit="connections"
        )
    back = f" after {c.returned_after_s:.1f} s" if c.returned_after_s is not None else ""
    return _check(
        name,
        "pass" if c.returned else "fail",
        f"established connections: idle {c.idle_level:g}, at the end {c.final_level}"
        f"{' (back' + back + ')' if c.returned else ' (not back to idle)'}; "
        f"connection errors during the run: {counted} ({errs})",
        measured=float(c.final_level) if c.final_level is not None else None,
        threshold=None if c.idle_level is None else c.idle_level,
        unit="connections",
    )


def stress_checks(
    suite: SuiteResult, report: StressReport, config: StressConfig | None = None
) -> list[Check]:
    """The ten criteria, in the seed's order."""
    cfg = config or StressConfig()
    p95, err = _under_load(suite, report, cfg)
    return [
        _sustained_rate(suite, report, cfg),
        p95,
        err,
        _leak(report, cfg),
        _degradation(report, cfg),
        _breaking(report, cfg),
        _no_crash(suite, report),
        _recovery(report),
        _database(report),
        _cleanup(report),
    ]


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]
