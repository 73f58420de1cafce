"""Prediction intervals from a metric's history (history-mode comparison).

Latency and CPU figures are positive and right-skewed, and their changes are
multiplicative, so the interval is built on log values and mapped back.

- ``prediction_interval_log``: the classical normal-theory prediction
  interval for one new observation, mean ± t_{1-α/2, n-1} · s · sqrt(1 + 1/n)
  (e.g. Hahn & Meeker, *Statistical Intervals*, 1991, §4.8), on logs.
- ``robust_prediction_interval_log``: the same shape with the median for the
  mean and 1.4826 · MAD for s, so one bad run in the history (a noisy
  neighbour on a shared runner) does not widen the band for everyone. The
  MAD is a less efficient scale estimate, so its coverage for small,
  clean normal histories is slightly below nominal; it is a robust
  fallback, not the default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from perfgate.stats._special import t_ppf
from perfgate.stats.descriptive import MAD_TO_SIGMA

__all__ = ["PredictionInterval", "prediction_interval_log", "robust_prediction_interval_log"]


class PredictionInterval(NamedTuple):
    """Where the next value is expected (original units), from ``n`` points."""

    low: float
    high: float
    center: float  # exp(mean of logs) — the geometric mean (or median)
    n: int
    conf: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def _logs(history: Sequence[float]) -> np.ndarray:
    arr = np.asarray(history, dtype=np.float64).ravel()
    arr = arr[np.isfinite(arr)]
    if np.any(arr <= 0):
        raise ValueError("prediction_interval_log needs positive values")
    return np.log(arr)


def _interval(center: float, scale: float, n: int, conf: float) -> PredictionInterval:
    t = t_ppf(1.0 - (1.0 - conf) / 2.0, n - 1)
    half = t * scale * math.sqrt(1.0 + 1.0 / n)
    return PredictionInterval(
        math.exp(center - half), math.exp(center + half), math.exp(center), n, conf
    )


def prediction_interval_log(history: Sequence[float], conf: float = 0.95) -> PredictionInterval:
    """A t prediction interval for the next value, computed on log values.

    Needs at least 2 positive values (the gate itself wants ≥ 10 before it
    lets the comparison fail).
    """
    if not 0.0 < conf < 1.0:
        raise ValueError("conf must be in (0, 1)")
    logs = _logs(history)
    n = logs.size
    if n < 2:
        raise ValueError("a prediction interval needs at least 2 history points")
    return _interval(float(logs.mean()), float(logs.std(ddof=1)), n, conf)


def robust_prediction_interval_log(
    history: Sequence[float], conf: float = 0.95
) -> PredictionInterval:
    """The median/MAD variant of :func:`prediction_interval_log`."""
    if not 0.0 < conf < 1.0:
        raise ValueError("conf must be in (0, 1)")
    logs = _logs(history)
    n = logs.size
    if n < 2:
        raise ValueError("a prediction interval needs at least 2 history points")
    center = float(np.median(logs))
    scale = MAD_TO_SIGMA * float(np.median(np.abs(logs - center)))
    return _interval(center, scale, n, conf)
