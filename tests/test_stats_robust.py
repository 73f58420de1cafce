"""Theil–Sen, Mann–Whitney U and Holm."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfgate.stats import holm, mann_whitney_u, theil_sen


def test_holm_classic_example() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "holm") = 0.05 0.08 0.09 0.09 0.09
    assert holm([0.01, 0.02, 0.03, 0.04, 0.05]) == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    out = holm([0.01, math.nan])
    assert out[0] == 0.01 and math.isnan(out[1])
    assert holm([]) == []


def test_theil_sen_ignores_spikes() -> None:
    x = np.arange(120, dtype=float)  # seconds
    y = 100.0 + 0.05 * x  # MB: a 3 MB/min leak
    y[::10] += 40.0  # GC-less spikes on one sample in ten
    fit = theil_sen(x, y)
    assert fit.slope == pytest.approx(0.05, rel=1e-6)
    assert fit.slope_ci_low <= 0.05 <= fit.slope_ci_high
    flat = theil_sen(x, 100.0 + np.sin(x))
    assert flat.slope_ci_low < 0 < flat.slope_ci_high


def test_theil_sen_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(2)
    for n in (10, 60):
        x = np.arange(n, dtype=float)
        y = 0.5 * x + rng.standard_t(2, n)
        ref = stats.theilslopes(y, x)
        assert theil_sen(x, y) == pytest.approx(
            (ref.slope, ref.intercept, ref.low_slope, ref.high_slope)
        )


def test_mann_whitney_known_and_scipy() -> None:
    # complete separation, 3 vs 3: U = 9, one-sided exact p = 1 / C(6, 3)
    result = mann_whitney_u([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    assert result.statistic == 9.0
    assert result.p_greater == pytest.approx(1 / 20)
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(9)
    for n1, n2 in ((5, 7), (15, 20), (30, 45)):
        a, b = rng.normal(0.4, 1, n1), rng.normal(0, 1, n2)
        method = "exact" if max(n1, n2) <= 20 else "asymptotic"
        ref = stats.mannwhitneyu(a, b, method=method)
        ref_g = stats.mannwhitneyu(a, b, alternative="greater", method=method)
        mine = mann_whitney_u(a, b)
        assert mine.statistic == pytest.approx(float(ref.statistic))
        assert mine.p_two_sided == pytest.approx(float(ref.pvalue), abs=1e-9)
        assert mine.p_greater == pytest.approx(float(ref_g.pvalue), abs=1e-9)
