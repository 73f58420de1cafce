"""SLO checks: the seed's "acceptable performance", as measured verdicts.

Absolute limits on each load suite (total latency p50/p95/p99, error rate,
throughput as completed arrivals at the offered rate) and per endpoint, plus
the checks suites bring themselves (benchmark budgets, stress verdicts,
crashes). A percentile with too few samples behind it is "inconclusive",
never a pass or a fail. With a baseline run, a breach the baseline shows too
is marked pre-existing: shown, not failing.
"""

from __future__ import annotations

from perfgate.config import SloConfig, SloThresholds
from perfgate.figures import min_samples
from perfgate.metrics import Histogram, failures, names
from perfgate.result import Check, CheckStatus, RunResult, SuiteResult

__all__ = [
    "NOTHING_ANSWERED",
    "answered_check",
    "mark_pre_existing",
    "slo_checks",
    "suite_slo_checks",
]

#: The check a suite fails when not one request got an answer (never "pre-existing").
NOTHING_ANSWERED = "no request got an answer"

_THROUGHPUT_CRITERION = "System handles the offered rate (seed: 100 req/s sustained)"


def _latency_criterion(stat: str, limit: float) -> str:
    """The criterion in the seed's words, with the configured limit (the seed's: 100/200/500)."""
    return f"{stat} response time < {limit:g}ms" + (" under load" if stat == "p95" else "")


def _error_criterion(limit: float) -> str:
    return f"Error rate < {limit:.1%} under load".replace(".0%", "%")


def _latency_checks(
    suite: str, where: str, hist: Histogram | None, limits: SloThresholds
) -> list[Check]:
    out: list[Check] = []
    for stat, q, limit in (
        ("p50", 0.5, limits.p50_ms),
        ("p95", 0.95, limits.p95_ms),
        ("p99", 0.99, limits.p99_ms),
    ):
        if limit is None:
            continue
        name = f"{where} total {stat} < {limit:g} ms"
        criterion = _latency_criterion(stat, limit)
        if hist is None or hist.count == 0:
            out.append(
                Check(name, "inconclusive", None, limit, "ms", "no samples", criterion, suite)
            )
            continue
        value = hist.quantile(q)
        needed = min_samples(stat)
        if hist.count < needed:
            # A limit the user wrote makes too few samples inconclusive; the
            # seed's default limits are not evaluated (a warning, no verdict).
            asked = stat in limits.configured
            detail = f"{hist.count} samples < {needed} needed for {stat}"
            if not asked:
                detail = f"not evaluated: {detail} (a default SLO; set slo.{stat} to require it)"
            out.append(
                Check(
                    name,
                    "inconclusive" if asked else "skipped",
                    value,
                    limit,
                    "ms",
                    detail,
                    criterion,
                    suite,
                )
            )
            continue
        status: CheckStatus = "pass" if value < limit else "fail"
        out.append(
            Check(name, status, value, limit, "ms", f"{hist.count} samples", criterion, suite)
        )
    return out


def _error_check(
    suite: str, where: str, counted: failures.Failures, limit: float | None
) -> list[Check]:
    if limit is None:
        return []
    name = f"{where} error rate < {limit:.1%}"
    requests = counted.requests
    if requests == 0:
        return [
            Check(
                name,
                "inconclusive",
                None,
                limit,
                "ratio",
                "no requests",
                _error_criterion(limit),
                suite,
            )
        ]
    rate = counted.failed / requests
    status: CheckStatus = "pass" if rate < limit else "fail"
    return [
        Check(
            name,
            status,
            rate,
            limit,
            "ratio",
            counted.detail(),
            _error_criterion(limit),
            suite,
        )
    ]


def answered_check(suite: SuiteResult) -> Check | None:
    """A failing check when requests were sent and not one got an HTTP answer."""
    counted = failures.count(suite.aggregate, failures.policy_of(suite))
    if not counted.nothing_answered:
        return None
    return Check(
        f"{suite.name}: {NOTHING_ANSWERED}",
        "fail",
        None,
        None,
        "",
        counted.no_answer_message(),
        "",
        suite.name,
    )


def _throughput_check(suite: SuiteResult, limits: SloThresholds) -> list[Check]:
    sched = suite.scheduler
    if limits.completed_ratio is None or sched is None or sched.planned == 0:
        return []
    agg = suite.aggregate
    completed = agg.counter(names.VUSERS_COMPLETED)
    ratio = completed / sched.planned
    name = f"{suite.name}: ≥ {limits.completed_ratio:.0%} of offered arrivals completed"
    detail = f"{completed} of {sched.planned} arrivals completed; scheduler lag p99 {sched.lag_p99_ms:.1f} ms"
    if sched.generator_limited or (
        limits.max_lag_ms is not None and sched.lag_p99_ms > limits.max_lag_ms
    ):
        return [
            Check(
                name,
                "inconclusive",
                ratio,
                limits.completed_ratio,
                "ratio",
                detail + " — generator-limited: the rate was not really offered",
                _THROUGHPUT_CRITERION,
                suite.name,
            )
        ]
    if suite.interrupted:
        return [
            Check(
                name,
                "inconclusive",
                ratio,
                limits.completed_ratio,
                "ratio",
                detail + " — the run was cut short",
                _THROUGHPUT_CRITERION,
                suite.name,
            )
        ]
    status: CheckStatus = "pass" if ratio >= limits.completed_ratio else "fail"
    return [
        Check(
            name,
            status,
            ratio,
            limits.completed_ratio,
            "ratio",
            detail,
            _THROUGHPUT_CRITERION,
            suite.name,
        )
    ]


def suite_slo_checks(suite: SuiteResult, slo: SloConfig) -> list[Check]:
    """The SLO checks of one load or stress suite (bench suites carry budgets instead)."""
    if suite.kind not in ("load", "stress", "ab"):
        return []
    agg = suite.aggregate
    policy = slo.failure_policy()
    nothing = answered_check(suite)
    out = [nothing] if nothing is not None else []
    out += _latency_checks(suite.name, suite.name, agg.histograms.get(names.TOTAL), slo.default)
    out += _error_check(suite.name, suite.name, failures.count(agg, policy), slo.default.error_rate)
    out += _throughput_check(suite, slo.default)
    if slo.endpoints:
        for ep in agg.endpoints():
            limits = slo.endpoints.get(ep.name)
            if limits is None:
                continue
            where = f"{suite.name} {ep.name}"
            out += _latency_checks(suite.name, where, ep.total, limits)
            out += _error_check(
                suite.name, where, failures.count_endpoint(ep, policy), limits.error_rate
            )
    return out


def slo_checks(run: RunResult, slo: SloConfig) -> list[Check]:
    """Every check of a run: SLOs per suite, and the checks the suites carry."""
    out: list[Check] = []
    for suite in run.suites:
        out += suite_slo_checks(suite, slo)
        for c in suite.checks:
            if not c.suite:
                c.suite = suite.name
            out.append(c)
    out += run.checks
    return out


def mark_pre_existing(candidate: list[Check], base: list[Check]) -> None:
    """Flag the candidate's failures that the baseline fails the same way."""
    failing = {(c.suite, c.name) for c in base if c.status == "fail"}
    for c in candidate:
        if c.name.endswith(NOTHING_ANSWERED):
            continue  # a gate that reached nothing measured nothing: always a failure
        if c.status == "fail" and (c.suite, c.name) in failing:
            c.pre_existing = True
            c.detail = (
                c.detail + "; " if c.detail else ""
            ) + "pre-existing: the baseline breaches it too"
