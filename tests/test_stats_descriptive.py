"""Descriptive statistics: conventions, hyperfine's outlier rule, bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from perfgate.metrics import Histogram
from perfgate.stats import (
    bootstrap_median_ci,
    coefficient_of_variation,
    mad,
    mad_outliers,
    median,
    quantile,
)


def test_median_and_quantile_convention_matches_histogram() -> None:
    rng = np.random.default_rng(3)
    samples = rng.lognormal(1.0, 0.5, 997)
    hist = Histogram()
    hist.record_many(samples.tolist())
    for q in (0.5, 0.9, 0.95, 0.99):
        # the histogram reports the same rank within its relative accuracy
        assert hist.quantile(q) == pytest.approx(quantile(samples, q), rel=hist.accuracy * 1.01)
    assert median([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert quantile([3.0, 1.0, 2.0, 10.0], 0.5) == 2.0  # rank floor(0.5 * 3) = 1
    assert math.isnan(median([]))


def test_cv_and_mad() -> None:
    assert coefficient_of_variation([10.0, 10.0, 10.0]) == 0.0
    assert coefficient_of_variation([9.0, 11.0]) == pytest.approx(math.sqrt(2) / 10)
    assert mad([1, 2, 3, 4, 100]) == 1.0
    rng = np.random.default_rng(4)
    assert mad(rng.normal(0, 2.0, 20_000), scale=1.4826) == pytest.approx(2.0, rel=0.03)


# hyperfine's own test cases (src/outlier_detection.rs)
@pytest.mark.parametrize(
    ("xs", "expected"),
    [
        ([], 0),
        ([50.0], 0),
        ([1000.0, 0.0], 0),
        ([-0.2, 0.0, 0.2], 0),
        ([-0.2, 0.0, 0.2, 4.0], 1),
        ([0.5, 0.30, 0.29, 0.31, 0.30], 1),
        (
            [
                2.33269488,
                1.42195907,
                -0.57527698,
                -0.31293437,
                2.2948158,
                0.75813273,
                -1.0712388,
                -0.96394741,
                -1.15897446,
                1.10976285,
            ],
            0,
        ),
        (
            [
                2.33269488,
                1.42195907,
                -0.57527698,
                -0.31293437,
                2.2948158,
                0.75813273,
                -1.0712388,
                -0.96394741,
                -1.15897446,
                1.10976285,
                20.0,
                -500.0,
            ],
            2,
        ),
        ([10.0] * 7 + [100.0], 1),
        ([10.0] * 7 + [100.0, 100.0], 2),
    ],
)
def test_mad_outliers_follow_hyperfine(xs: list[float], expected: int) -> None:
    assert int(mad_outliers(xs).sum()) == expected


def test_mad_outliers_flag_positions() -> None:
    xs = [1.0, 1.1, 0.9, 1.05, 30.0, 0.95]
    assert mad_outliers(xs).tolist() == [False, False, False, False, True, False]
    assert int(mad_outliers(xs, threshold=3.5).sum()) == 1


def test_bootstrap_median_ci_is_seeded_and_covers() -> None:
    rng = np.random.default_rng(5)
    x = rng.exponential(1.0, 301)
    a = bootstrap_median_ci(x, seed=1)
    b = bootstrap_median_ci(x, seed=1)
    assert a == b
    assert a.low < median(x) < a.high
    # coverage of the true median (ln 2) over 200 samples of 101
    hits = 0
    for _ in range(200):
        sample = rng.exponential(1.0, 101)
        ci = bootstrap_median_ci(sample, resamples=500, seed=int(rng.integers(1 << 30)))
        hits += ci.low <= math.log(2) <= ci.high
    assert 0.88 <= hits / 200 <= 0.99
    assert bootstrap_median_ci([4.0]).low == 4.0
