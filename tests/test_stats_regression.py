"""Median and Huber regression against cases with known solutions."""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.stats import huber_regression, median_regression


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


# -- Huber -------------------------------------------------------------------


def _huber_loss(r: np.ndarray, bound: float) -> float:
    a = np.abs(r)
    return float(np.where(a <= bound, 0.5 * a * a, bound * a - 0.5 * bound * bound).sum())


def test_huber_on_one_column_of_ones_is_the_mean_of_a_clean_sample() -> None:
    # no residual beyond k robust SDs: the Huber fit is the least-squares one
    y = np.array([9.8, 10.1, 10.0, 9.9, 10.2, 10.05, 9.95])
    fit = huber_regression(np.ones((7, 1)), y, k=3.0)
    assert fit.coef[0] == pytest.approx(float(y.mean()), abs=1e-6)


def test_huber_bounds_the_pull_of_a_wild_point() -> None:
    x = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    y = np.array([2.0, 4.1, 5.9, 8.0, 60.0])
    fit = huber_regression(x, y)
    assert fit.coef[0] == pytest.approx(2.0, abs=0.05)
    assert np.linalg.lstsq(x, y, rcond=None)[0][0] > 5.0


def test_huber_matches_a_brute_force_minimum_at_its_scale() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, size=(60, 2)).astype(float)
    x[x.sum(axis=1) == 0, 0] = 1.0
    y = x @ np.array([1.5, 0.4]) + rng.standard_t(2, size=60) * 0.1
    fit = huber_regression(x, y, k=1.0)
    # the scale the fit used: MAD of the median fit's residuals / 0.6745
    r0 = y - x @ median_regression(x, y).coef
    bound = 1.0 * float(np.median(np.abs(r0 - np.median(r0)))) / 0.6745
    grid_a = fit.coef[0] + np.linspace(-0.05, 0.05, 101)
    grid_b = fit.coef[1] + np.linspace(-0.05, 0.05, 101)
    best = min(_huber_loss(y - x @ np.array([a, b]), bound) for a in grid_a for b in grid_b)
    assert _huber_loss(y - x @ fit.coef, bound) <= best + 1e-9


def test_huber_spreads_less_than_the_median_fit_on_a_tight_bulk_with_a_tail() -> None:
    # What a request's CPU looks like: a tight bulk, 10% of it preempted or
    # collected (a long right tail). Same 300 data sets for both fits.
    rng = np.random.default_rng(20261126)
    truth = np.array([2.5, 0.7])
    l1, huber = [], []
    for _ in range(300):
        x = rng.integers(0, 3, size=(120, 2)).astype(float)
        x[x.sum(axis=1) == 0, 0] = 1.0
        noise = rng.normal(0, 0.08, size=120) + (rng.random(120) < 0.1) * rng.exponential(2.0, 120)
        y = x @ truth + noise
        l1.append(median_regression(x, y).coef[0])
        huber.append(huber_regression(x, y).coef[0])
    assert np.std(huber) < 0.95 * np.std(l1)
    assert abs(np.median(huber) - truth[0]) < 0.05


def test_huber_leaves_unidentifiable_columns_out_and_checks_its_input() -> None:
    x = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    fit = huber_regression(x, [2.0, 5.0, 3.0, 1.0])
    assert fit.identifiable.tolist() == [False, False, True]
    assert np.isnan(fit.coef[:2]).all()
    with pytest.raises(ValueError):
        huber_regression(np.ones((3, 1)), [1.0, 2.0])
    with pytest.raises(ValueError):
        huber_regression(np.ones((3, 1)), [1.0, 2.0, 3.0], k=0.0)
    assert np.isnan(huber_regression(np.zeros((0, 2)), []).coef).all()
