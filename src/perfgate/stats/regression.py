"""Median (least-absolute-deviations) regression.

Reference: Schlossmacher (1973), "An iterative technique for absolute
deviations curve fitting", JASA 68(344): iteratively reweighted least
squares with weights 1 / max(|residual|, δ), which converges to the L1 fit.
With one-hot rows (each observation one kind of item) the fit is each
kind's median; with mixed rows it is the median analogue of least squares,
so a few wild observations (a collection, a preemption) do not move it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = ["MedianFit", "median_regression"]

_MAX_ITERATIONS = 200
_TOLERANCE = 1e-7


class MedianFit(NamedTuple):
    coef: npt.NDArray[np.float64]  # one per column; NaN where not identifiable
    identifiable: npt.NDArray[np.bool_]
    iterations: int


def _identifiable(x: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    # A column is identifiable when no null-space direction of X touches it
    # (e.g. two kinds that only ever occur together, in fixed proportion).
    # X and its k x k Gram matrix share their null space; the Gram matrix's SVD
    # stays small however many observations there are.
    _, s, vt = np.linalg.svd(x.T @ x)
    tol = s.max(initial=0.0) * x.shape[1] * 1e-12
    rank = int((s > tol).sum())
    null = vt[rank:]
    if not null.size:
        return np.ones(x.shape[1], dtype=bool)
    return np.asarray(np.abs(null).max(axis=0) < 1e-8, dtype=bool)


def median_regression(
    x: npt.ArrayLike, y: npt.ArrayLike, *, delta: float | None = None
) -> MedianFit:
    """The coefficients ``b`` minimising Σ |y − X b| (no intercept).

    ``delta`` floors the residuals in the weights (default: 1e-6 of the
    median |y|), which keeps the weighted problems well-posed when the fit
    passes through observations.
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 2 or ya.ndim != 1 or xa.shape[0] != ya.shape[0]:
        raise ValueError("x must be (n, k) and y (n,)")
    k = xa.shape[1]
    if xa.shape[0] == 0 or k == 0:
        return MedianFit(np.full(k, np.nan), np.zeros(k, dtype=bool), 0)
    ok = _identifiable(xa)
    floor = delta if delta is not None else max(1e-12, 1e-6 * float(np.median(np.abs(ya))))
    coef = np.linalg.lstsq(xa, ya, rcond=None)[0]
    loss = float(np.abs(ya - xa @ coef).sum())
    iterations = 0
    while iterations < _MAX_ITERATIONS:
        iterations += 1
        # The weighted normal equations are k x k: an iteration costs O(n k^2),
        # a quarter of a weighted lstsq of the n x k system on a round's periods.
        weighted = (xa / np.maximum(np.abs(ya - xa @ coef), floor)[:, None]).T
        step = np.linalg.lstsq(weighted @ xa, weighted @ ya, rcond=None)[0]
        new_loss = float(np.abs(ya - xa @ step).sum())
        if new_loss > loss:  # a reweighting overshoot: keep the better fit
            break
        coef = step
        if loss - new_loss <= _TOLERANCE * max(loss, 1e-300):
            break
        loss = new_loss
    return MedianFit(np.where(ok, coef, np.nan), ok, iterations)
