"""The sign-flip (Fisher–Pitman) test of a mean paired difference, and its interval.

Under "no difference" each pair's difference is as likely negative as
positive, so flipping signs gives the test's exact null distribution of the
summed differences (Fisher 1935, §21; Pitman 1937). Unlike the signed-rank
test it weighs each difference by its size, not its rank. That matters for
coarse differences: a rare route's error rate over ~3 requests a round is
0, 33, 67 or 100%, and the rounds where none of its few requests failed are
the smallest differences. Shifted by a minimum effect, the signed-rank test
counts each as a whole negative rank. A 30% failure rate left a third of the
pairs at 0, and 22 pairs could not clear Holm (the shop API's coupon check,
docs/detection.md, design e8). Here such a pair weighs only the minimum
effect, 0.5 pp against the others' ~33 pp.

The interval inverts the test over shifts (Hartigan 1969): every δ whose
one-sided test of "mean = δ" is not rejected at (1 − conf)/2 on either side.
Exact over all 2^n flips up to :data:`EXACT_MAX_N` pairs, else over
:data:`SAMPLES` seeded random flips (the observed one among them), so a
figure is the same on every run of the same data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from perfgate.stats._types import ConfidenceInterval

__all__ = ["EXACT_MAX_N", "SAMPLES", "sign_flips", "signflip_ci", "signflip_p_greater"]

#: Pairs up to which all 2^n flips are enumerated.
EXACT_MAX_N = 16
#: Random flips beyond that (the smallest p-value is then 1 / SAMPLES).
SAMPLES = 2**15
_BISECTIONS = 60


def sign_flips(n: int, *, seed: int = 0, samples: int = SAMPLES) -> npt.NDArray[np.float64]:
    """±1 rows, one per sign assignment of n pairs: all 2^n up to :data:`EXACT_MAX_N`,
    else ``samples`` seeded random ones. Row 0 is the observed assignment (all +1)."""
    if n <= EXACT_MAX_N:
        return (1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)).astype(np.float64)
    rng = np.random.default_rng(seed)
    flips = rng.choice(np.array([-1.0, 1.0]), size=(samples, n))
    flips[0] = 1.0
    return flips


def _clean(d: Sequence[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x = np.asarray(d, dtype=np.float64)
    return x[np.isfinite(x)]


def _tolerance(x: npt.NDArray[np.float64]) -> float:
    # sums of the same numbers in another order differ in the last bits
    return 1e-9 * max(1.0, float(np.abs(x).sum()))


def signflip_p_greater(d: Sequence[float] | npt.NDArray[np.float64], *, seed: int = 0) -> float:
    """One-sided p-value of "the mean difference is above 0": the share of sign
    flips whose sum is at least the observed one. 1.0 without data."""
    x = _clean(d)
    if x.size == 0:
        return 1.0
    sums = sign_flips(x.size, seed=seed) @ x
    return float(np.mean(sums >= x.sum() - _tolerance(x)))


def signflip_ci(
    d: Sequence[float] | npt.NDArray[np.float64], conf: float = 0.95, *, seed: int = 0
) -> ConfidenceInterval:
    """The mean difference's interval by inverting the sign-flip test over shifts.

    With too few pairs to reject anything at (1 − conf)/2 (2^-n above it),
    the interval is the data's whole range.
    """
    x = _clean(d)
    if x.size == 0:
        return ConfidenceInterval(float("nan"), float("nan"), conf)
    flips = sign_flips(x.size, seed=seed)
    shifted_sum, flip_weight = flips @ x, flips.sum(axis=1)
    tail = (1.0 - conf) / 2.0
    tol = _tolerance(x)

    def p_greater(delta: float) -> float:  # H1: mean > delta
        return float(np.mean(shifted_sum - delta * flip_weight >= x.sum() - delta * x.size - tol))

    def p_less(delta: float) -> float:  # H1: mean < delta
        return float(np.mean(shifted_sum - delta * flip_weight <= x.sum() - delta * x.size + tol))

    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return ConfidenceInterval(lo, hi, conf)
    return ConfidenceInterval(
        _boundary(lambda v: p_greater(v) > tail, lo, hi, first_true=True),
        _boundary(lambda v: p_less(v) > tail, lo, hi, first_true=False),
        conf,
    )


def _boundary(test: Callable[[float], bool], lo: float, hi: float, *, first_true: bool) -> float:
    """The edge of the accepted shifts in [lo, hi] by bisection (monotone in the shift):
    the smallest accepted one (``first_true``) or the largest."""
    if first_true and test(lo):
        return lo
    if not first_true and test(hi):
        return hi
    a, b = lo, hi
    for _ in range(_BISECTIONS):
        mid = (a + b) / 2.0
        if test(mid) == first_true:
            b = mid
        else:
            a = mid
    return b if first_true else a
