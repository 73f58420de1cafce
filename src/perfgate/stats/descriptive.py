"""Descriptive statistics of one sample: centre, spread, outliers, a CI.

References:
- Quantiles use the rank convention of :class:`perfgate.metrics.Histogram`
  (the sample at 0-based rank ``floor(q (n - 1))``, numpy's ``"lower"``
  method), so a percentile from raw samples and from a histogram agree.
- Outliers: the modified z-score of Iglewicz & Hoaglin (1993), with
  hyperfine's rule (``src/outlier_detection.rs``): a sample is an outlier
  when it lies more than 10 robust standard deviations (1.4826 · MAD) from
  the median; a zero MAD is replaced by machine epsilon, as hyperfine does.
- Bootstrap: the percentile bootstrap of Efron & Tibshirani (1993, ch. 13).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from perfgate.stats._types import ConfidenceInterval

__all__ = [
    "HYPERFINE_OUTLIER_SIGMAS",
    "MAD_TO_SIGMA",
    "bootstrap_median_ci",
    "coefficient_of_variation",
    "mad",
    "mad_outliers",
    "median",
    "modified_zscores",
    "quantile",
]

#: Scales the MAD to a consistent estimate of a normal standard deviation.
MAD_TO_SIGMA = 1.4826
#: hyperfine flags samples this many robust standard deviations from the median.
HYPERFINE_OUTLIER_SIGMAS = 10.0

ArrayLike = Sequence[float] | npt.NDArray[np.float64]


def _array(x: ArrayLike) -> npt.NDArray[np.float64]:
    arr = np.asarray(x, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


def median(x: ArrayLike) -> float:
    """The sample median (mean of the two middle values for even n); NaN if empty."""
    arr = _array(x)
    return float(np.median(arr)) if arr.size else math.nan


def quantile(x: ArrayLike, q: float) -> float:
    """The sample at 0-based rank ``floor(q (n - 1))`` — Histogram's convention."""
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be in [0, 1]")
    arr = _array(x)
    return float(np.quantile(arr, q, method="lower")) if arr.size else math.nan


def coefficient_of_variation(x: ArrayLike) -> float:
    """Sample standard deviation (n - 1) over the mean; NaN for n < 2 or a zero mean."""
    arr = _array(x)
    if arr.size < 2:
        return math.nan
    mean = float(arr.mean())
    return float(arr.std(ddof=1)) / abs(mean) if mean else math.nan


def mad(x: ArrayLike, *, scale: float = 1.0) -> float:
    """Median absolute deviation from the median, times ``scale``.

    ``scale=MAD_TO_SIGMA`` gives a robust estimate of the standard deviation.
    """
    arr = _array(x)
    if not arr.size:
        return math.nan
    return scale * float(np.median(np.abs(arr - np.median(arr))))


def modified_zscores(x: ArrayLike) -> npt.NDArray[np.float64]:
    """(x - median) / (1.4826 · MAD): distance from the median in robust SDs."""
    arr = np.asarray(x, dtype=np.float64).ravel()
    if not arr.size:
        return arr
    med = float(np.nanmedian(arr))
    spread = MAD_TO_SIGMA * float(np.nanmedian(np.abs(arr - med)))
    if spread <= 0.0:
        spread = MAD_TO_SIGMA * float(np.finfo(np.float64).eps)
    return (arr - med) / spread


def mad_outliers(
    x: ArrayLike, threshold: float = HYPERFINE_OUTLIER_SIGMAS
) -> npt.NDArray[np.bool_]:
    """A mask of outliers: |modified z-score| > ``threshold`` (hyperfine: 10).

    Iglewicz & Hoaglin suggest 3.5 for flagging "potential" outliers; the
    default follows hyperfine, which only warns about gross ones. Samples
    are flagged, never removed — the caller decides.
    """
    arr = np.asarray(x, dtype=np.float64).ravel()
    if arr.size < 3:  # a median of one or two says nothing about spread
        return np.zeros(arr.size, dtype=bool)
    return np.abs(modified_zscores(arr)) > threshold


def bootstrap_median_ci(
    x: ArrayLike,
    conf: float = 0.95,
    *,
    resamples: int = 2000,
    seed: int | None = 0,
    max_cells: int = 4_000_000,
) -> ConfidenceInterval:
    """Percentile-bootstrap confidence interval of the median.

    Resamples with replacement (seeded, so a report is reproducible), the
    medians computed in vectorised blocks of at most ``max_cells`` values.
    """
    if not 0.0 < conf < 1.0:
        raise ValueError("conf must be in (0, 1)")
    arr = _array(x)
    n = arr.size
    if n == 0:
        return ConfidenceInterval(math.nan, math.nan, conf)
    if n == 1:
        return ConfidenceInterval(float(arr[0]), float(arr[0]), conf)
    rng = np.random.default_rng(seed)
    medians = np.empty(resamples, dtype=np.float64)
    block = max(1, max_cells // n)
    for start in range(0, resamples, block):
        stop = min(resamples, start + block)
        idx = rng.integers(0, n, size=(stop - start, n))
        medians[start:stop] = np.median(arr[idx], axis=1)
    alpha = 1.0 - conf
    low, high = np.quantile(medians, [alpha / 2.0, 1.0 - alpha / 2.0])
    return ConfidenceInterval(float(low), float(high), conf)
