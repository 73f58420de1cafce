"""Robust trend and two-sample location tests (leaks, breaking points).

References:
- Theil (1950) and Sen (1968): the slope is the median of the pairwise
  slopes (y_j − y_i) / (x_j − x_i); the intercept median(y) − slope ·
  median(x) (scipy's ``theilslopes`` default). Its confidence interval is
  Sen's, from the normal approximation of Kendall's S with tie corrections
  (the same construction as scipy). Insensitive to up to 29% outliers, so a
  GC spike or a warm-up jump does not make a leak.
- Mann & Whitney (1947) U test with the normal approximation, tie-corrected
  variance and continuity correction; exact (subset-sum distribution of the
  rank sum) when both samples have at most 20 values and nothing is tied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from perfgate.stats._ranks import rankdata, tie_sizes
from perfgate.stats._special import normal_cdf, normal_ppf, normal_sf

__all__ = ["MannWhitneyResult", "TheilSen", "mann_whitney_u", "theil_sen"]

#: Above this many points, series are thinned evenly (pairs grow as n²).
THEIL_SEN_MAX_POINTS = 2000
_EXACT_MW_MAX = 20


class TheilSen(NamedTuple):
    slope: float
    intercept: float
    slope_ci_low: float
    slope_ci_high: float


class MannWhitneyResult(NamedTuple):
    """U of ``x`` (pairs where x beats y, ties counting ½) and p-values."""

    statistic: float
    p_two_sided: float
    p_greater: float  # H1: x tends to be larger than y


def theil_sen(
    x: Sequence[float] | npt.NDArray[np.float64],
    y: Sequence[float] | npt.NDArray[np.float64],
    conf: float = 0.95,
) -> TheilSen:
    """Theil–Sen line through (x, y) and Sen's confidence interval of the slope."""
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.size != ys.size:
        raise ValueError("x and y differ in length")
    keep = np.isfinite(xs) & np.isfinite(ys)
    xs, ys = xs[keep], ys[keep]
    if xs.size > THEIL_SEN_MAX_POINTS:
        pick = np.unique(np.linspace(0, xs.size - 1, THEIL_SEN_MAX_POINTS).round().astype(int))
        xs, ys = xs[pick], ys[pick]
    n = xs.size
    i, j = np.triu_indices(n, k=1)
    dx = xs[j] - xs[i]
    ok = dx != 0
    if not np.any(ok):
        return TheilSen(math.nan, math.nan, math.nan, math.nan)
    slopes = np.sort((ys[j] - ys[i])[ok] / dx[ok])
    slope = float(np.median(slopes))
    intercept = float(np.median(ys) - slope * np.median(xs))
    z = normal_ppf(1.0 - (1.0 - conf) / 2.0)
    tx, ty = tie_sizes(xs), tie_sizes(ys)
    var_s = (
        n * (n - 1) * (2 * n + 5)
        - float(np.sum(tx * (tx - 1) * (2 * tx + 5)))
        - float(np.sum(ty * (ty - 1) * (2 * ty + 5)))
    ) / 18.0
    sigma = math.sqrt(max(var_s, 0.0))
    count = slopes.size
    low_idx = max(round((count - z * sigma) / 2.0) - 1, 0)
    high_idx = min(round((count + z * sigma) / 2.0), count - 1)
    return TheilSen(slope, intercept, float(slopes[low_idx]), float(slopes[high_idx]))


def _rank_sum_counts(n: int, m: int) -> npt.NDArray[np.float64]:
    """counts[s] = number of m-subsets of {1..n} with sum s (untied ranks)."""
    top = sum(range(n - m + 1, n + 1))
    dp = np.zeros((m + 1, top + 1), dtype=np.float64)
    dp[0, 0] = 1.0
    for r in range(1, n + 1):
        for size in range(min(r, m), 0, -1):
            dp[size, r:] += dp[size - 1, : top + 1 - r]
    return dp[m]


def mann_whitney_u(
    x: Sequence[float] | npt.NDArray[np.float64],
    y: Sequence[float] | npt.NDArray[np.float64],
) -> MannWhitneyResult:
    """Mann–Whitney U test of x against y (independent samples)."""
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    xs, ys = xs[~np.isnan(xs)], ys[~np.isnan(ys)]
    n1, n2 = xs.size, ys.size
    if n1 == 0 or n2 == 0:
        return MannWhitneyResult(math.nan, 1.0, 1.0)
    both = np.concatenate((xs, ys))
    ranks = rankdata(both)
    rank_sum = float(ranks[:n1].sum())
    u = rank_sum - n1 * (n1 + 1) / 2.0
    ties = tie_sizes(both)
    if n1 <= _EXACT_MW_MAX and n2 <= _EXACT_MW_MAX and np.all(ties == 1):
        counts = _rank_sum_counts(n1 + n2, n1)
        probs = counts / counts.sum()
        s = round(rank_sum)
        p_greater = float(probs[s:].sum())
        p_less = float(probs[: s + 1].sum())
    else:
        n = n1 + n2
        mean = n1 * n2 / 2.0
        var = n1 * n2 / 12.0 * ((n + 1) - float(np.sum(ties**3 - ties)) / (n * (n - 1)))
        sd = math.sqrt(var) if var > 0 else math.inf
        p_greater = normal_sf((u - mean - 0.5) / sd)
        p_less = normal_cdf((u - mean + 0.5) / sd)
    return MannWhitneyResult(u, min(1.0, 2.0 * min(p_greater, p_less)), min(1.0, p_greater))
