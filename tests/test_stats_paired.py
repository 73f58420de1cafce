"""Hodges–Lehmann and Wilcoxon signed rank: known cases, scipy, coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfgate.stats import hodges_lehmann, walsh_averages, wilcoxon_ci, wilcoxon_signed_rank

# Hollander & Wolfe's depression data (also R's ?wilcox.test example):
# V = 40, one-sided exact p = 10/512 = 0.01953.
X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
D = np.subtract(X, Y)


def test_textbook_case() -> None:
    result = wilcoxon_signed_rank(D)
    assert result.statistic == 40.0
    assert result.p_greater == pytest.approx(10 / 512)
    assert result.p_two_sided == pytest.approx(20 / 512)
    assert hodges_lehmann(D) == pytest.approx(0.46)


def test_walsh_averages() -> None:
    assert walsh_averages([1.0, 3.0]).tolist() == [1.0, 2.0, 3.0]
    assert hodges_lehmann([0.0, 0.0, 1.0]) == pytest.approx(0.25)  # median of 0,0,.5,0,.5,1


def test_ci_is_the_inverted_test() -> None:
    # the CI holds exactly the shifts the exact two-sided test does not reject
    ci = wilcoxon_ci(D, 0.95)
    alpha = 1 - ci.level
    eps = 1e-7
    assert ci.level == pytest.approx(1 - 2 * 10 / 512)  # P(W+ <= 5) = 10/512 for n = 9
    for inside in (ci.low + eps, ci.high - eps, hodges_lehmann(D)):
        assert wilcoxon_signed_rank(D - inside).p_two_sided > alpha
    for outside in (ci.low - eps, ci.high + eps):
        assert wilcoxon_signed_rank(D - outside).p_two_sided <= alpha + 1e-12


def test_small_samples_report_achieved_level() -> None:
    ci = wilcoxon_ci([0.1, 0.2, 0.3, 0.4, 0.5], 0.95)
    assert (ci.low, ci.high) == (0.1, 0.5)
    assert ci.level == pytest.approx(1 - 2 / 32)
    empty = wilcoxon_ci([])
    assert math.isnan(empty.low)
    assert wilcoxon_signed_rank([0.0, 0.0]).p_two_sided == 1.0


def test_ties_and_zeros_exact() -> None:
    # zeros dropped, ties get mid-ranks; exact permutation distribution
    d = [0.0, 1.0, 1.0, -1.0, 2.0, 2.0, 2.0, 3.0]
    result = wilcoxon_signed_rank(d)
    ranks_abs = [2.0, 2.0, 2.0, 5.0, 5.0, 5.0, 7.0]  # |d| = 1,1,1,2,2,2,3
    assert result.statistic == sum(ranks_abs) - 2.0
    # brute force over all 2^7 sign patterns
    total = sum(ranks_abs)
    import itertools

    sums = [
        sum(r for r, s in zip(ranks_abs, signs, strict=True) if s)
        for signs in itertools.product([0, 1], repeat=7)
    ]
    assert result.p_greater == pytest.approx(sum(s >= result.statistic for s in sums) / 128)
    assert total - result.statistic == 2.0


def test_against_scipy_when_installed() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(11)
    for n in (6, 12, 25, 40, 120):
        for _ in range(3):
            d = rng.normal(0.2, 1.0, n)
            mine = wilcoxon_signed_rank(d)
            method = "exact" if n <= 25 else "approx"
            two = stats.wilcoxon(d, method=method, correction=True)
            greater = stats.wilcoxon(d, alternative="greater", method=method, correction=True)
            assert mine.p_two_sided == pytest.approx(float(two.pvalue), abs=1e-9)
            assert mine.p_greater == pytest.approx(float(greater.pvalue), abs=1e-9)


@pytest.mark.parametrize("n", [12, 40])
def test_ci_coverage_of_a_known_shift(n: int) -> None:
    rng = np.random.default_rng(7 + n)
    shift = 0.08  # log(1.08): an 8% slowdown
    trials = 400
    hits = 0
    for _ in range(trials):
        d = shift + rng.standard_t(4, n) * 0.03
        ci = wilcoxon_ci(d, 0.95)
        hits += ci.low <= shift <= ci.high
    assert 0.90 <= hits / trials <= 0.995
