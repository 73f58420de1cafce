"""Median regression against cases with known L1 solutions."""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.stats.regression import median_regression


def test_one_column_of_ones_gives_the_median() -> None:
    y = [3.0, 1.0, 100.0, 2.0, 4.0]
    fit = median_regression(np.ones((5, 1)), y)
    assert fit.coef[0] == pytest.approx(3.0, abs=1e-5)
    assert fit.identifiable.tolist() == [True]


def test_a_line_through_the_bulk_ignores_a_wild_point() -> None:
    # y = 2x exactly on four points, one wild: the L1 fit goes through the four
    # (least squares would be pulled far off).
    x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([2.0, 4.0, 6.0, 8.0, 60.0])
    fit = median_regression(x, y)
    assert fit.coef[0] == pytest.approx(2.0, abs=1e-5)
    assert np.linalg.lstsq(x, y, rcond=None)[0][0] > 5.0


def test_matches_a_brute_force_l1_minimum() -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, size=(40, 2)).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1.0
    y = x @ np.array([1.5, 0.4]) + rng.laplace(0, 0.2, size=40)
    fit = median_regression(x, y)
    grid = np.linspace(0.0, 3.0, 301)
    best = min(
        (float(np.abs(y - x @ np.array([a, b])).sum()), a, b) for a in grid for b in grid[:101]
    )
    assert float(np.abs(y - x @ fit.coef).sum()) <= best[0] + 1e-6


def test_unidentifiable_columns_are_nan_and_bad_shapes_raise() -> None:
    x = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    fit = median_regression(x, [2.0, 5.0, 3.0, 1.0])
    assert fit.identifiable.tolist() == [False, False, True]
    assert np.isnan(fit.coef[:2]).all() and fit.coef[2] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError):
        median_regression(np.ones((3, 1)), [1.0, 2.0])
    empty = median_regression(np.zeros((0, 2)), [])
    assert np.isnan(empty.coef).all()
