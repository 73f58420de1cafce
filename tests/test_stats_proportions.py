"""Clopper–Pearson and the exact unconditional non-inferiority test."""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.stats import clopper_pearson, exact_two_proportion_test
from perfgate.stats.proportions import _binom_pmf, _log_binom_coef


def test_clopper_pearson_known_values() -> None:
    # 0 of n: upper = 1 - (α/2)^(1/n) exactly; n = 10 -> 0.30850
    ci = clopper_pearson(0, 10)
    assert ci.low == 0.0
    assert ci.high == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    # "rule of three": one-sided 95% bound for 0/100 is 1 - 0.05^(1/100) ≈ 3/100
    assert clopper_pearson(0, 100, one_sided=True).high == pytest.approx(
        1 - 0.05 ** (1 / 100), rel=1e-9
    )
    ci = clopper_pearson(3, 20)
    assert (ci.low, ci.high) == (
        pytest.approx(0.032071, abs=1e-6),
        pytest.approx(0.378927, abs=1e-6),
    )
    assert clopper_pearson(10, 10).high == 1.0
    with pytest.raises(ValueError):
        clopper_pearson(5, 4)


def test_obvious_cases() -> None:
    worse = exact_two_proportion_test(0, 2000, 60, 2000, margin=0.005)
    assert worse.p_value < 0.01
    assert worse.difference == pytest.approx(0.03)
    same = exact_two_proportion_test(10, 2000, 12, 2000, margin=0.005)
    assert same.p_value == 1.0  # observed difference inside the margin
    within_margin = exact_two_proportion_test(10, 3000, 20, 3000, margin=0.005)
    assert within_margin.p_value > 0.05


def test_margin_zero_is_close_to_barnard() -> None:
    stats = pytest.importorskip("scipy.stats")
    for k_a, n_a, k_b, n_b in ((0, 100, 5, 100), (3, 40, 9, 50), (2, 60, 8, 60)):
        mine = exact_two_proportion_test(k_a, n_a, k_b, n_b, 0.0)
        barnard = stats.barnard_exact([[k_b, k_a], [n_b - k_b, n_a - k_a]], alternative="greater")
        assert mine.statistic == pytest.approx(float(barnard.statistic))
        # Berger–Boos searches a smaller nuisance set, then adds γ = 0.001
        assert 0.001 <= mine.p_value <= float(barnard.pvalue) + 0.0011


@pytest.mark.slow
def test_size_at_the_boundary_is_controlled() -> None:
    # Exact size: enumerate every table, reject at p <= 0.05, and sum the
    # probability of rejection when p_B = p_A + margin exactly.
    n, margin, alpha = 24, 0.05, 0.05
    reject = np.zeros((n + 1, n + 1))
    for k_a in range(n + 1):
        for k_b in range(n + 1):
            reject[k_a, k_b] = exact_two_proportion_test(k_a, n, k_b, n, margin).p_value <= alpha
    coef = _log_binom_coef(n)
    for p_a in (0.01, 0.05, 0.2, 0.45, 0.9):
        size = _binom_pmf(n, p_a, coef) @ reject @ _binom_pmf(n, p_a + margin, coef)
        assert size <= alpha + 0.002, (p_a, size)
    # and it has power against a clear worsening
    power = _binom_pmf(n, 0.05, coef) @ reject @ _binom_pmf(n, 0.45, coef)
    assert power > 0.8
