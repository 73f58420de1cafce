"""Paired comparison of A/B round pairs: Hodges–Lehmann and Wilcoxon.

The input ``d`` is one difference per round pair (perfgate uses
log(B / A) of a per-round figure), never per request.

References:
- Wilcoxon (1945) signed-rank test; zeros dropped as Wilcoxon proposed
  (scipy's ``zero_method="wilcox"``); for n ≤ 25 the p-values come from the
  exact permutation distribution of W+ given the observed (mid-)ranks, so
  ties are handled exactly; above, the normal approximation with the tie
  correction of the variance and a continuity correction of 0.5
  (Hollander, Wolfe & Chicken, *Nonparametric Statistical Methods*, 3rd ed.,
  §3.1).
- Hodges & Lehmann (1963): the estimate of the shift is the median of the
  n(n + 1)/2 Walsh averages (d_i + d_j) / 2, i ≤ j.
- The matching confidence interval (Tukey; Hollander et al. §3.3, and R's
  ``wilcox.test(conf.int = TRUE)``): the Walsh averages of ranks k and
  M + 1 − k, k the lower α/2 critical value of the exact W+ distribution
  (n ≤ 25), else its normal approximation. Small samples cannot reach every
  level exactly; the achieved level is returned.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from perfgate.stats._ranks import rankdata, signed_rank_counts, tie_sizes
from perfgate.stats._special import normal_cdf, normal_ppf, normal_sf
from perfgate.stats._types import ConfidenceInterval

__all__ = [
    "EXACT_MAX_N",
    "WilcoxonResult",
    "hodges_lehmann",
    "walsh_averages",
    "wilcoxon_ci",
    "wilcoxon_signed_rank",
]

#: Up to this many non-zero differences, the exact null distribution is used.
EXACT_MAX_N = 25


class WilcoxonResult(NamedTuple):
    """W+ (sum of the ranks of positive differences) and its p-values."""

    statistic: float
    p_two_sided: float
    p_greater: float  # H1: the differences tend to be positive (B above A)


def _clean(d: Sequence[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    arr = np.asarray(d, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def walsh_averages(d: Sequence[float] | npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """All (d_i + d_j) / 2 for i ≤ j, sorted."""
    arr = _clean(d)
    i, j = np.triu_indices(arr.size)
    return np.sort((arr[i] + arr[j]) / 2.0)


def hodges_lehmann(d: Sequence[float] | npt.NDArray[np.float64]) -> float:
    """The Hodges–Lehmann one-sample estimate: median of the Walsh averages."""
    walsh = walsh_averages(d)
    return float(np.median(walsh)) if walsh.size else math.nan


def wilcoxon_signed_rank(d: Sequence[float] | npt.NDArray[np.float64]) -> WilcoxonResult:
    """Wilcoxon's signed-rank test of "the differences are centred on 0"."""
    arr = _clean(d)
    arr = arr[arr != 0.0]
    n = arr.size
    if n == 0:
        return WilcoxonResult(0.0, 1.0, 1.0)
    ranks = rankdata(np.abs(arr))
    w_plus = float(ranks[arr > 0].sum())
    if n <= EXACT_MAX_N:
        doubled = np.rint(2.0 * ranks).astype(np.int64)
        counts = signed_rank_counts(doubled)
        probs = counts / counts.sum()
        w2 = round(2.0 * w_plus)
        p_greater = float(probs[w2:].sum())
        p_less = float(probs[: w2 + 1].sum())
    else:
        mean = n * (n + 1) / 4.0
        ties = tie_sizes(np.abs(arr))
        var = n * (n + 1) * (2 * n + 1) / 24.0 - float(np.sum(ties**3 - ties)) / 48.0
        sd = math.sqrt(var) if var > 0 else math.inf
        p_greater = normal_sf((w_plus - mean - 0.5) / sd)
        p_less = normal_cdf((w_plus - mean + 0.5) / sd)
    p_two = min(1.0, 2.0 * min(p_greater, p_less))
    return WilcoxonResult(w_plus, p_two, min(1.0, p_greater))


def _exact_lower_critical(n: int, alpha_half: float) -> tuple[int, float]:
    """R's qsignrank(α/2, n) (floored at 1) and the P(W+ ≤ k − 1) it leaves."""
    counts = signed_rank_counts(2 * np.arange(1, n + 1))[::2]  # untied: even values only
    cdf = np.cumsum(counts) / counts.sum()
    k = int(np.searchsorted(cdf, alpha_half - 1e-12))  # smallest c with cdf[c] ≥ α/2
    k = max(k, 1)
    return k, float(cdf[k - 1]) if k >= 1 else 0.0


def wilcoxon_ci(
    d: Sequence[float] | npt.NDArray[np.float64], conf: float = 0.95
) -> ConfidenceInterval:
    """The confidence interval of the shift that matches the signed-rank test.

    Uses every difference (zeros included) so that an A/A comparison with
    many identical per-round figures still centres on 0. With n < 6 no
    interval reaches 95%; the widest one (min to max) is returned with its
    achieved level.
    """
    if not 0.0 < conf < 1.0:
        raise ValueError("conf must be in (0, 1)")
    walsh = walsh_averages(d)
    m = walsh.size
    if m == 0:
        return ConfidenceInterval(math.nan, math.nan, 0.0)
    n = round((math.sqrt(8 * m + 1) - 1) / 2)
    alpha_half = (1.0 - conf) / 2.0
    if n <= EXACT_MAX_N:
        k, tail = _exact_lower_critical(n, alpha_half)
        achieved = 1.0 - 2.0 * tail
    else:
        mean = n * (n + 1) / 4.0
        sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
        k = max(1, round(mean - normal_ppf(1.0 - alpha_half) * sd))
        achieved = 1.0 - 2.0 * normal_cdf((k - 0.5 - mean) / sd)
    k = min(k, (m + 1) // 2)
    return ConfidenceInterval(float(walsh[k - 1]), float(walsh[m - k]), achieved)
