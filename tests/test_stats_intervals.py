"""History prediction intervals: coverage by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.stats import prediction_interval_log, robust_prediction_interval_log


def test_prediction_interval_formula() -> None:
    history = [10.0, 11.0, 9.5, 10.5, 10.2]
    pi = prediction_interval_log(history, 0.95)
    logs = np.log(history)
    half = 2.776445 * logs.std(ddof=1) * np.sqrt(1 + 1 / 5)  # t_{0.975, 4}
    assert pi.low == pytest.approx(np.exp(logs.mean() - half), rel=1e-5)
    assert pi.high == pytest.approx(np.exp(logs.mean() + half), rel=1e-5)
    assert pi.contains(10.0) and not pi.contains(13.0)
    with pytest.raises(ValueError):
        prediction_interval_log([1.0])
    with pytest.raises(ValueError):
        prediction_interval_log([1.0, -2.0])


@pytest.mark.parametrize("n", [5, 10, 30])
def test_prediction_interval_covers_new_points(n: int) -> None:
    rng = np.random.default_rng(100 + n)
    hits = robust_hits = 0
    trials = 400
    for _ in range(trials):
        sigma = rng.uniform(0.02, 0.3)
        history = np.exp(rng.normal(np.log(20.0), sigma, n))
        new = float(np.exp(rng.normal(np.log(20.0), sigma)))
        hits += prediction_interval_log(history.tolist()).contains(new)
        robust_hits += robust_prediction_interval_log(history.tolist()).contains(new)
    assert 0.90 <= hits / trials <= 0.99
    assert 0.82 <= robust_hits / trials <= 0.995  # MAD is less efficient: looser band


def test_robust_interval_ignores_one_bad_run() -> None:
    history = [10.0, 10.2, 9.9, 10.1, 10.0, 9.8, 10.3, 10.1, 9.9, 30.0]
    classic = prediction_interval_log(history)
    robust = robust_prediction_interval_log(history)
    assert robust.high < 11.0 < classic.high
