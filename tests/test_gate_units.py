"""Pure parts of the gate: planning, comparisons, SLO checks, the verdict."""

from __future__ import annotations

import math
import random

import pytest

from perfgate.config import SloConfig, SloThresholds
from perfgate.errors import ConfigError
from perfgate.figures import Figure
from perfgate.gate import decide
from perfgate.gate.compare import (
    apply_holm,
    history_comparison,
    holm_min_pairs,
    min_effect_for,
    paired_comparison,
    proportion_comparison,
    undecided,
)
from perfgate.gate.plan import steady_phase
from perfgate.gate.slo import mark_pre_existing, suite_slo_checks
from perfgate.metrics import MetricSet, names
from perfgate.result import Check, SchedulerStats, SuiteResult
from perfgate.script import Phase
from perfgate.verdict import MetricComparison

SEED_PHASES = [
    Phase(0, "Warm up", 60, arrival_rate=10),
    Phase(1, "Sustained load", 300, arrival_rate=50),
    Phase(2, "Peak load", 120, arrival_rate=100),
    Phase(3, "Cool down", 60, arrival_rate=10),
]


def test_steady_phase_is_the_longest_constant_phase_or_the_named_one() -> None:
    assert steady_phase(SEED_PHASES).name == "Sustained load"
    assert steady_phase(SEED_PHASES, "Peak load").arrival_rate == 100
    assert steady_phase(SEED_PHASES, 3).name == "Cool down"
    with pytest.raises(ConfigError, match="names no phase"):
        steady_phase(SEED_PHASES, "Sustained")
    ramp_only = [Phase(0, "ramp", 60, arrival_rate=50, ramp_to=100)]
    assert steady_phase(ramp_only).name == "ramp"


def test_min_effect_by_statistic() -> None:
    eff = {"median": 0.05, "p95": 0.15, "p99": 0.2, "cpu_per_request": 0.07, "error_rate_pp": 0.005}
    assert min_effect_for("endpoint:/x total.p50", eff) == 0.05
    assert min_effect_for("total.p95", eff) == 0.15
    assert min_effect_for("total.p99", eff) == 0.2
    assert min_effect_for("cpu_ms_per_request", eff) == 0.07
    assert min_effect_for("error_rate", eff) == 0.005
    assert min_effect_for("op:Health median", eff) == 0.05


def lognormal_history(
    rng: random.Random, n: int, center: float = 10.0, sd: float = 0.05
) -> list[float]:
    return [center * math.exp(rng.gauss(0, sd)) for _ in range(n)]


def test_history_comparison_states() -> None:
    rng = random.Random(1)
    hist = lognormal_history(rng, 15)
    fig = Figure("load", "total.p50", 10.1, "ms", 5000)
    same = history_comparison(fig, hist, min_effect=0.05, family="primary")
    assert same.state == "within-noise" and same.family == "primary"
    slow = history_comparison(Figure("load", "total.p50", 14.0, "ms", 5000), hist, min_effect=0.05)
    assert slow.state == "regression" and slow.change is not None and slow.change > 0.3
    assert slow.p_value is not None and slow.p_value < 0.01
    # outside the interval but under the minimum effect: not a regression
    tight = lognormal_history(rng, 15, sd=0.002)
    small = history_comparison(
        Figure("load", "total.p50", 10.3, "ms", 5000), tight, min_effect=0.05
    )
    assert small.state == "within-noise"
    fast = history_comparison(Figure("load", "total.p50", 6.0, "ms", 5000), hist, min_effect=0.05)
    assert fast.state == "improvement"
    few = history_comparison(
        Figure("load", "total.p50", 30.0, "ms", 5000), hist[:5], min_effect=0.05
    )
    assert few.state == "insufficient" and "cannot fail" in few.detail
    thin = history_comparison(Figure("load", "total.p99", 30.0, "ms", 100), hist, min_effect=0.05)
    assert thin.state == "insufficient"
    new = history_comparison(fig, [], min_effect=0.05)
    assert new.state == "new"


def test_history_error_rate_is_absolute() -> None:
    hist = [0.001, 0.0, 0.002, 0.001, 0.0, 0.001, 0.002, 0.0, 0.001, 0.001]
    ok = history_comparison(
        Figure("load", "error_rate", 0.003, "ratio", 9000), hist, min_effect=0.005
    )
    assert ok.state == "within-noise"
    bad = history_comparison(
        Figure("load", "error_rate", 0.02, "ratio", 9000), hist, min_effect=0.005
    )
    assert bad.state == "regression" and bad.change == pytest.approx(0.019, abs=1e-3)


def test_paired_comparison_finds_a_shift_and_not_a_null() -> None:
    rng = random.Random(3)
    base = [10 * math.exp(rng.gauss(0, 0.02)) for _ in range(12)]
    same = [b * math.exp(rng.gauss(0, 0.02)) for b in base]
    slower = [b * 1.12 * math.exp(rng.gauss(0, 0.02)) for b in base]
    null = paired_comparison("s", "total.p50", "ms", base, same, min_effect=0.05, family="primary")
    assert null.state == "within-noise" and null.ci_low is not None and null.ci_low < 0.05
    hit = paired_comparison("s", "total.p50", "ms", base, slower, min_effect=0.05, family="primary")
    assert hit.state == "regression"
    assert hit.change == pytest.approx(0.12, abs=0.03)
    assert hit.p_value is not None and hit.p_value < 0.01
    holes = paired_comparison(
        "s", "total.p99", "ms", [None] * 10 + base[:2], slower, min_effect=0.15
    )
    assert holes.state == "insufficient" and holes.samples == 2


def test_proportion_comparison_uses_a_margin() -> None:
    within = proportion_comparison("s", "error_rate", 10, 5000, 14, 5000, margin=0.005)
    assert within.state == "within-noise"
    worse = proportion_comparison("s", "error_rate", 10, 5000, 200, 5000, margin=0.005)
    assert worse.state == "regression"


def test_holm_turns_a_lone_marginal_regression_into_noise() -> None:
    comps = [
        MetricComparison("s", f"m{i}", "ms", "primary", p_value=0.2, state="within-noise")
        for i in range(9)
    ]
    marginal = MetricComparison("s", "m9", "ms", "primary", p_value=0.02, state="regression")
    strong = MetricComparison("s", "m10", "ms", "primary", p_value=0.0001, state="regression")
    info = MetricComparison("s", "i", "ms", "info", p_value=0.0001, state="regression")
    apply_holm([*comps, marginal, strong, info], alpha=0.05)
    assert marginal.state == "within-noise" and marginal.p_adjusted == pytest.approx(0.2)
    assert strong.state == "regression"
    assert info.p_adjusted is None


def _pairs_with_log_ratios(ratios: list[float]) -> tuple[list[float], list[float]]:
    base = [10.0 + i for i in range(len(ratios))]
    return base, [b * math.exp(d) for b, d in zip(base, ratios, strict=True)]


# Twelve pairs, all slower; the shift is ~6% and its interval straddles 5%.
STRADDLING = [
    0.06 + x for x in (-0.03, -0.02, -0.015, -0.01, -0.005, 0, 0, 0.005, 0.01, 0.015, 0.02, 0.03)
]


def test_a_sure_slowdown_that_may_exceed_the_minimum_effect_is_unresolved() -> None:
    def compare(ratios: list[float], family: str = "primary") -> MetricComparison:
        base, cand = _pairs_with_log_ratios(ratios)
        return paired_comparison("s", "m", "ms", base, cand, min_effect=0.05, family=family)

    unsure = compare(STRADDLING)
    assert unsure.state == "within-noise"  # the interval does not clear 5% ...
    assert unsure.ci_low is not None and unsure.ci_high is not None
    assert 0 < unsure.ci_low < 0.05 < unsure.ci_high
    assert unsure.p_slower == pytest.approx(1 / 4096)  # ... but every pair is slower
    small = compare([d - 0.05 for d in STRADDLING])  # slower, surely under 5%
    null = compare([d - 0.06 for d in STRADDLING])
    info = compare(STRADDLING, family="info")
    others = [
        MetricComparison("s", f"o{i}", "ms", "primary", p_value=0.5, p_slower=0.5) for i in range(8)
    ]
    apply_holm([unsure, small, null, info, *others], alpha=0.05)
    assert unsure.state == "unresolved" and "more round pairs" in unsure.detail
    assert small.state == "within-noise" and null.state == "within-noise"
    assert info.state == "within-noise"  # information never gates, nor half-gates
    # Holm applies to "slower" too. One pair (the smallest) faster: p_slower = 2/4096,
    # beside 150 unremarkable metrics that is 0.074 after Holm, while 12 pairs could
    # still clear Holm over 151 (151/4096 < 0.05), so the metric is not "insufficient".
    lone = compare([-0.001, *STRADDLING[1:]])
    assert lone.p_slower == pytest.approx(2 / 4096)
    crowd = [
        MetricComparison("s", f"c{i}", "ms", "primary", p_value=0.5, p_slower=0.5, samples=12)
        for i in range(150)
    ]
    assert apply_holm([lone, *crowd], alpha=0.05) == []
    assert lone.state == "within-noise"


def test_holm_min_pairs_is_where_two_to_the_minus_n_clears_the_family() -> None:
    assert holm_min_pairs(1) == 5  # 1/32 < 0.05, 1/16 is not
    assert holm_min_pairs(10) == 8  # 10/256 < 0.05 <= 10/128
    assert holm_min_pairs(12) == 8 and holm_min_pairs(13) == 9
    assert holm_min_pairs(10, alpha=0.01) == 10


def test_too_few_pairs_for_holm_is_insufficient_and_says_so() -> None:
    # Seven pairs, every one 10% slower: the shift is plain, but 2^-7 x 10 > 0.05,
    # so no test in a family of ten could reject. Passing would be a silent lie.
    base = [10.0 + i for i in range(7)]
    slow = paired_comparison(
        "load", "m", "ms", base, [b * 1.10 for b in base], min_effect=0.05, family="primary"
    )
    others = [
        MetricComparison("load", f"o{i}", "ms", "primary", p_value=0.5, p_slower=0.5, samples=12)
        for i in range(9)
    ]
    reasons = apply_holm([slow, *others])
    assert slow.state == "insufficient" and "needs 8" in slow.detail
    assert reasons == [
        "load: 1 primary metric(s) with only 7 usable round pairs, too few to show any "
        "regression after Holm over 10 (needs 8)"
    ]
    assert all(o.state != "insufficient" for o in others)
    # With eight pairs the same family can reject.
    base8 = [10.0 + i for i in range(8)]
    ok = paired_comparison(
        "load", "m", "ms", base8, [b * 1.10 for b in base8], min_effect=0.05, family="primary"
    )
    assert apply_holm([ok, *others]) == [] and ok.state == "regression"


def test_the_interim_look_extends_only_what_more_pairs_could_decide() -> None:
    def straddling() -> MetricComparison:
        base, cand = _pairs_with_log_ratios(STRADDLING)
        return paired_comparison("s", "m", "ms", base, cand, min_effect=0.05, family="primary")

    quiet = [
        MetricComparison("s", f"o{i}", "ms", "primary", p_value=0.5, p_slower=0.5, samples=12)
        for i in range(3)
    ]
    unsure = straddling()
    assert undecided([unsure, *quiet], 0.0304) == "possible regression: m"
    assert unsure.state == "within-noise"  # the look judged copies: nothing relabelled
    assert undecided(quiet, 0.0304) is None  # nothing to decide
    reg = MetricComparison("s", "r", "ms", "primary", p_value=1e-6, p_slower=1e-6, samples=12)
    reg.state = "regression"
    assert undecided([straddling(), reg, *quiet], 0.0304) is None  # fails either way
    info = straddling()
    info.family = "info"
    assert undecided([info, *quiet], 0.0304) is None  # information never extends a run
    short = MetricComparison("s", "few", "ms", "primary", p_value=0.5, p_slower=0.5, samples=5)
    assert undecided([short, *quiet], 0.0304) == "too few round pairs for Holm: few"


def test_an_unresolved_primary_metric_makes_the_verdict_inconclusive() -> None:
    base, cand = _pairs_with_log_ratios(STRADDLING)
    unsure = paired_comparison("s", "m", "ms", base, cand, min_effect=0.05, family="primary")
    apply_holm([unsure])
    verdict = decide("ab", [unsure], [])
    assert verdict.state == "inconclusive" and verdict.exit_code == 0
    assert "possible regression, undecided in 12 round pairs: s: m +" in verdict.reasons[0]
    assert "past the 5% minimum effect" in verdict.reasons[0]
    assert decide("ab", [unsure], [], strict=True).exit_code == 3
    reg = MetricComparison("s", "r", "ms", "primary", change=0.2, state="regression")
    assert decide("ab", [unsure, reg], []).state == "regression"


def load_suite(p50_ms: float, n: int, fails: int = 0, planned: int | None = None) -> SuiteResult:
    agg = MetricSet()
    for i in range(n):
        agg.observe(names.TOTAL, p50_ms * (0.8 + 0.4 * i / n))
        agg.incr(names.HTTP_REQUESTS)
        agg.incr(names.http_code(500 if i < fails else 200))
    agg.counters[names.VUSERS_COMPLETED] = n
    return SuiteResult(
        name="load",
        kind="load",
        aggregate=agg,
        scheduler=SchedulerStats(planned=planned or n, launched=planned or n, lag_p99_ms=0.3),
    )


def test_slo_checks_pass_fail_and_inconclusive() -> None:
    slo = SloConfig()
    checks = {c.name: c for c in suite_slo_checks(load_suite(20.0, 2000), slo)}
    assert checks["load total p95 < 200 ms"].status == "pass"
    assert checks["load error rate < 1.0%"].status == "pass"
    assert checks["load: ≥ 99% of offered arrivals completed"].status == "pass"
    slow = {c.name: c for c in suite_slo_checks(load_suite(300.0, 2000, fails=100), slo)}
    assert slow["load total p95 < 200 ms"].status == "fail"
    assert slow["load error rate < 1.0%"].status == "fail"
    few = {c.name: c for c in suite_slo_checks(load_suite(20.0, 120), slo)}
    # The seed's default percentiles, too few samples: not evaluated (no verdict).
    assert few["load total p95 < 200 ms"].status == "skipped"
    assert few["load total p99 < 500 ms"].status == "skipped"
    assert few["load total p99 < 500 ms"].detail.startswith("not evaluated: 120 samples < 1000")
    assert few["load total p50 < 100 ms"].status == "pass"
    # A percentile the user configured: too few samples is inconclusive.
    asked = SloConfig(
        default=SloThresholds(p50_ms=100.0, p99_ms=500.0, configured=frozenset({"p99"}))
    )
    mine = {c.name: c for c in suite_slo_checks(load_suite(20.0, 120), asked)}
    assert mine["load total p99 < 500 ms"].status == "inconclusive"
    dropped = {c.name: c for c in suite_slo_checks(load_suite(20.0, 2000, planned=2500), slo)}
    assert dropped["load: ≥ 99% of offered arrivals completed"].status == "fail"
    off = SloConfig(default=SloThresholds(p95_ms=200.0))
    assert [c.name for c in suite_slo_checks(load_suite(20.0, 2000), off)] == [
        "load total p95 < 200 ms"
    ]


def test_generator_limited_throughput_is_inconclusive() -> None:
    suite = load_suite(20.0, 2000)
    assert suite.scheduler is not None
    suite.scheduler.generator_limited = True
    checks = {c.name: c for c in suite_slo_checks(suite, SloConfig())}
    assert checks["load: ≥ 99% of offered arrivals completed"].status == "inconclusive"


def test_pre_existing_breach_is_shown_not_failing() -> None:
    cand = [Check("load total p95 < 200 ms", "fail", 300, 200, "ms", suite="load")]
    base = [Check("load total p95 < 200 ms", "fail", 280, 200, "ms", suite="load")]
    mark_pre_existing(cand, base)
    assert cand[0].pre_existing
    verdict = decide("ab", [], cand)
    assert verdict.state == "pass" and verdict.exit_code == 0


def test_decide_precedence_and_exit_codes() -> None:
    reg = MetricComparison(
        "s", "total.p50", "ms", "primary", change=0.2, ci_low=0.1, ci_high=0.3, state="regression"
    )
    noise = MetricComparison("s", "total.p95", "ms", "primary", state="within-noise")
    fail = Check("p95", "fail", 300, 200, "ms")
    ok = Check("p50", "pass", 10, 100, "ms")
    assert decide("ab", [noise], [ok]).state == "pass"
    v = decide("ab", [reg, noise], [fail])
    assert (v.state, v.exit_code) == ("regression", 1)
    assert "total.p50 +20.0%" in v.reasons[0] and "p95" in v.reasons[1]
    assert decide("ab", [noise], [fail]).state == "slo-failure"
    assert decide("ab", [reg], [], errors=["base died"]).exit_code == 2
    info_reg = MetricComparison("s", "x", "ms", "info", state="regression")
    assert decide("ab", [noise, info_reg], [ok]).state == "pass"
    insufficient = MetricComparison("s", "total.p99", "ms", "primary", state="insufficient")
    v = decide("history", [insufficient], [ok])
    assert (v.state, v.exit_code) == ("inconclusive", 0)
    assert decide("history", [insufficient], [ok], strict=True).exit_code == 3


def test_a_pass_counts_its_primary_metrics_by_state() -> None:
    def m(state: str) -> MetricComparison:
        return MetricComparison("s", f"m-{state}", "ms", "primary", state=state)  # type: ignore[arg-type]

    primary = [m("improvement"), m("within-noise"), m("within-noise"), m("insufficient")]
    verdict = decide("ab", primary, [Check("c", "pass")])
    assert verdict.state == "pass"
    assert verdict.reasons == [
        "4 gated metrics (1 improved, 2 within noise, 1 with too little data), 1 checks passed"
    ]
