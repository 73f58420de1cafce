"""Robust linear regression without intercept: median (L1) and Huber fits.

Median regression — Schlossmacher (1973), "An iterative technique for
absolute deviations curve fitting", JASA 68(344): iteratively reweighted
least squares with weights 1 / max(|residual|, δ), which converges to the
L1 fit. With one-hot rows (each observation one kind of item) the fit is
each kind's median; with mixed rows it is the median analogue of least
squares, so a few wild observations (a collection, a preemption) do not
move it.

Huber regression — Huber (1964), "Robust estimation of a location
parameter", Ann. Math. Statist. 35(1); Holland & Welsch (1977), "Robust
regression using iteratively reweighted least-squares", Comm. Statist.
A6(9). Squared loss for residuals within ``k`` robust standard deviations,
absolute loss beyond: wild observations still pull with bounded force, and
the well-behaved bulk is used like least squares uses it. When the bulk is
tight and the tail long — a request's CPU time is — it has a smaller
sampling variance than the median fit (the median keeps only the order of
the bulk, not its values).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from perfgate.stats.descriptive import MAD_TO_SIGMA, mad

__all__ = ["RegressionFit", "huber_regression", "median_regression"]

_MAX_ITERATIONS = 200
_TOLERANCE = 1e-7


class RegressionFit(NamedTuple):
    coef: npt.NDArray[np.float64]  # one per column; NaN where not identifiable
    identifiable: npt.NDArray[np.bool_]
    iterations: int


#: Huber's tuning constant, in robust standard deviations of the residuals.
#: 1.345 is the textbook choice (95% efficiency for Gaussian errors); on a
#: few recorded runs of the demo's A/B rounds (a longer tail than Gaussian)
#: 1.0 spread less per pair than 1.345 or 2.0 (docs/detection.md).
HUBER_K = 1.0


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


def _arrays(
    x: npt.ArrayLike, y: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if xa.ndim != 2 or ya.ndim != 1 or xa.shape[0] != ya.shape[0]:
        raise ValueError("x must be (n, k) and y (n,)")
    return xa, ya


def median_regression(
    x: npt.ArrayLike, y: npt.ArrayLike, *, delta: float | None = None
) -> RegressionFit:
    """The coefficients ``b`` minimising Σ |y − X b| (no intercept).

    ``delta`` floors the residuals in the weights (default: 1e-6 of the
    median |y|), which keeps the weighted problems well-posed when the fit
    passes through observations.
    """
    xa, ya = _arrays(x, y)
    k = xa.shape[1]
    if xa.shape[0] == 0 or k == 0:
        return RegressionFit(np.full(k, np.nan), np.zeros(k, dtype=bool), 0)
    ok = _identifiable(xa)
    coef, iterations = _l1(xa, ya, delta)
    return RegressionFit(np.where(ok, coef, np.nan), ok, iterations)


def _solve(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(np.linalg.lstsq(a, b, rcond=None)[0], dtype=np.float64)


def _l1(
    xa: npt.NDArray[np.float64], ya: npt.NDArray[np.float64], delta: float | None
) -> tuple[npt.NDArray[np.float64], int]:
    floor = delta if delta is not None else max(1e-12, 1e-6 * float(np.median(np.abs(ya))))
    coef = _solve(xa, ya)
    loss = float(np.abs(ya - xa @ coef).sum())
    iterations = 0
    while iterations < _MAX_ITERATIONS:
        iterations += 1
        # The weighted normal equations are k x k: an iteration costs O(n k^2),
        # a quarter of a weighted lstsq of the n x k system on a round's periods.
        weighted = (xa / np.maximum(np.abs(ya - xa @ coef), floor)[:, None]).T
        step = _solve(weighted @ xa, weighted @ ya)
        new_loss = float(np.abs(ya - xa @ step).sum())
        if new_loss > loss:  # a reweighting overshoot: keep the better fit
            break
        coef = step
        if loss - new_loss <= _TOLERANCE * max(loss, 1e-300):
            break
        loss = new_loss
    return coef, iterations


def huber_regression(x: npt.ArrayLike, y: npt.ArrayLike, *, k: float = HUBER_K) -> RegressionFit:
    """The coefficients ``b`` minimising Σ ρ_k((y − X b) / s) (no intercept).

    ``ρ_k`` is Huber's loss; the scale ``s`` is fixed before the iterations
    from the median fit's residuals (their median absolute deviation ×
    1.4826), which makes the start and the scale robust and the problem
    convex. Columns that cannot be told apart are NaN, as in
    :func:`median_regression`.
    """
    if k <= 0:
        raise ValueError("k must be positive")
    xa, ya = _arrays(x, y)
    n, cols = xa.shape
    if n == 0 or cols == 0:
        return RegressionFit(np.full(cols, np.nan), np.zeros(cols, dtype=bool), 0)
    ok = _identifiable(xa)
    coef, _ = _l1(xa, ya, None)
    spread = mad(ya - xa @ coef, scale=MAD_TO_SIGMA)
    scale = max(spread, 1e-9 * max(1.0, float(np.median(np.abs(ya)))))
    bound = k * scale
    iterations = 0
    while iterations < _MAX_ITERATIONS:
        iterations += 1
        weights = np.minimum(1.0, bound / np.maximum(np.abs(ya - xa @ coef), 1e-300))
        weighted = (xa * weights[:, None]).T
        step = _solve(weighted @ xa, weighted @ ya)
        moved = float(np.abs(step - coef).max())
        coef = step
        if moved <= _TOLERANCE * max(1.0, float(np.abs(coef).max())):
            break
    return RegressionFit(np.where(ok, coef, np.nan), ok, iterations)
