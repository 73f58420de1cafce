"""The sign-flip test of a mean paired difference and its interval (perfgate.stats.signflip)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from perfgate.gate.compare import paired_rate_comparison
from perfgate.stats import signflip_ci, signflip_p_greater, wilcoxon_signed_rank


def _brute_p(d: list[float]) -> float:
    """P(Σ s_i d_i ≥ Σ d_i) over every sign assignment, by itertools."""
    total = sum(d)
    sums = [sum(s * x for s, x in zip(signs, d, strict=True)) for signs in
            itertools.product((1, -1), repeat=len(d))]  # fmt: skip
    return sum(v >= total - 1e-12 for v in sums) / len(sums)


def test_exact_p_values_match_a_brute_force_enumeration() -> None:
    rng = np.random.default_rng(4)
    for n in (1, 3, 7, 10):
        d = list(rng.normal(0.3, 1.0, n))
        assert signflip_p_greater(d) == pytest.approx(_brute_p(d))
    assert signflip_p_greater([1.0] * 10) == pytest.approx(2.0**-10)  # the floor, 2^-n
    assert signflip_p_greater([]) == 1.0
    assert signflip_p_greater([0.0] * 8) == 1.0  # nothing moved: no evidence


def test_beyond_the_exact_limit_the_random_flips_agree_and_repeat() -> None:
    d = list(np.random.default_rng(5).normal(0.25, 1.0, 24))
    p = signflip_p_greater(d)
    assert p == signflip_p_greater(d)  # seeded: the same data, the same figure
    # the normal approximation of the same permutation distribution
    x = np.array(d)
    z = x.sum() / np.sqrt((x**2).sum())
    from perfgate.stats import normal_cdf

    assert p == pytest.approx(1 - normal_cdf(z), abs=0.01)


def test_the_interval_holds_exactly_the_shifts_the_test_accepts() -> None:
    d = np.array([0.4, -0.1, 0.9, 0.3, 0.5, 0.2, 0.8, -0.2, 0.6, 0.1, 0.7, 0.35])
    ci = signflip_ci(d, 0.95)
    assert ci.low < d.mean() < ci.high
    eps = 1e-6
    assert signflip_p_greater(d - (ci.low + eps)) > 0.025
    assert signflip_p_greater(d - (ci.low - 1e-3)) <= 0.025
    assert signflip_p_greater(-(d - (ci.high - eps))) > 0.025
    assert signflip_p_greater(-(d - (ci.high + 1e-3))) <= 0.025
    flat = signflip_ci([0.0] * 12)
    assert (flat.low, flat.high) == (0.0, 0.0)
    few = signflip_ci([0.1, 0.3, 0.2])  # 2^-3 > 0.025: nothing can be excluded
    assert (few.low, few.high) == (0.1, 0.3)


def test_a_rare_routes_coarse_rates_weigh_a_quiet_round_by_the_margin_not_a_rank() -> None:
    """7 of 11 rounds with a failure among ~3 requests, 4 with none: past a 0.5 pp margin
    the signed-rank test counts the 4 as ranks 1-4 (p ~ 0.02), the mean test as 0.5 pp each."""
    d = np.array([1 / 3] * 5 + [2 / 3] * 2 + [0.0] * 4)
    margin = 0.005
    mean_p = signflip_p_greater(d - margin)
    rank_p = wilcoxon_signed_rank(d - margin).p_greater
    assert mean_p == pytest.approx(2.0**-7)  # only the 7 failing rounds' signs matter
    assert rank_p > 2 * mean_p


def test_a_rare_route_failing_30_percent_is_a_regression_by_its_pairs() -> None:
    rng = np.random.default_rng(6)
    base, candidate = [], []
    for _ in range(22):
        na, nb = int(rng.poisson(3.2)), int(rng.poisson(3.2))
        base.append((0, na) if na else None)
        candidate.append((int(rng.binomial(nb, 0.3)), nb) if nb else None)
    c = paired_rate_comparison(
        "load", "endpoint:/coupon error_rate", base, candidate, margin=0.005, family="secondary"
    )
    assert c.state == "regression" and c.ci_low is not None and c.ci_low > 0.005
    assert c.p_value is not None and c.p_value < 0.0075 / 16  # Holm's first step, 16 metrics
    assert c.base == 0.0 and 0.2 < (c.candidate or 0) < 0.4
    left_out = sum(a is None or b is None for a, b in zip(base, candidate, strict=True))
    assert c.samples == 22 - left_out
    if left_out:
        assert f"{left_out} pair(s) without the figure left out" in c.detail


def test_bursts_that_strike_both_arms_alike_stay_within_the_level() -> None:
    """A/A with failures in bursts (10% of rounds in either arm lose 30% of ~20 requests):
    the one-sided 5% test rejects about 5% of the time or less, never far more."""
    rng = np.random.default_rng(7)
    rejected = 0
    runs = 400
    for _ in range(runs):
        d = []
        for _ in range(12):
            rates = [rng.binomial(20, 0.3 if rng.random() < 0.1 else 0.0) / 20 for _ in "ab"]
            d.append(rates[1] - rates[0])
        rejected += signflip_p_greater(np.array(d) - 0.005) < 0.05
    # exact permutation test: at most 5% on average; 400 runs, Binomial SD ~1.1%
    assert rejected / runs <= 0.08
