"""Westfall–Young step-down minP over joint sign flips, against known cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfgate.stats import wilcoxon_signed_rank
from perfgate.stats.multiple import holm, signflip_minp


def test_one_metric_gets_its_exact_signed_rank_p_value() -> None:
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.normal(0.4, 1.0, 12)
        assert signflip_minp([list(x)]) == pytest.approx([wilcoxon_signed_rank(x).p_greater])
    # all 12 positive: the smallest p a 12-pair test can give, 2^-12
    assert signflip_minp([[1.0 + i for i in range(12)]]) == pytest.approx([2.0**-12])


def test_metrics_that_move_together_pay_no_multiplicity_penalty() -> None:
    x = np.random.default_rng(2).normal(0.5, 1.0, 12)
    raw = wilcoxon_signed_rank(x).p_greater
    adjusted = signflip_minp([list(x), list(2 * x), list(3 * x + 0.0)])
    assert adjusted == pytest.approx([raw] * 3)
    assert holm([raw] * 3)[0] == pytest.approx(3 * raw)  # what Holm would charge


def test_independent_metrics_are_adjusted_about_as_holm_does() -> None:
    rng = np.random.default_rng(3)
    cols = [list(rng.normal(0.3, 1.0, 12)) for _ in range(5)]
    wy = np.array(signflip_minp(cols))
    raw = np.array([wilcoxon_signed_rank(np.array(c)).p_greater for c in cols])
    hb = np.array(holm(raw.tolist()))
    assert (wy >= raw - 1e-12).all()  # never below the raw p-value
    assert (wy <= hb + 1e-12).all()  # never above Holm's
    assert wy.min() > raw.min() * 2  # but a real penalty for 5 independent chances


def test_missing_figures_and_empty_metrics() -> None:
    x = [0.3, 0.2, None, 0.5, 0.1, 0.4, 0.6, 0.2]
    only = signflip_minp([x])
    present = np.array([v for v in x if v is not None])
    assert only == pytest.approx([wilcoxon_signed_rank(present).p_greater])
    both = signflip_minp([x, [None] * 8])
    assert both[0] == pytest.approx(only[0]) and math.isnan(both[1])
    assert signflip_minp([]) == []
    with pytest.raises(ValueError):
        signflip_minp([[0.1, 0.2], [0.1]])


def test_the_family_wise_error_rate_holds_under_the_null() -> None:
    # 400 families of 6 correlated metrics with no effect: at most ~5% should
    # reject anything at 0.05 (exact for a symmetric null).
    rng = np.random.default_rng(4)
    rejected = 0
    for _ in range(400):
        common = rng.normal(0, 1, 10)
        cols = [list(common + rng.normal(0, 0.5, 10)) for _ in range(6)]
        rejected += min(signflip_minp(cols)) < 0.05
    assert rejected / 400 < 0.08


def test_many_pairs_are_sampled_reproducibly() -> None:
    x = list(np.random.default_rng(5).normal(0.8, 1.0, 24))
    a, b = signflip_minp([x, x], seed=1), signflip_minp([x, x], seed=1)
    assert a == b
    assert a[0] == pytest.approx(wilcoxon_signed_rank(np.array(x)).p_greater, abs=0.003)
