"""Multiple comparisons within the primary metric family.

Reference: Holm (1979), "A simple sequentially rejective multiple test
procedure", Scand. J. Statist. 6:65–70. Adjusted p-values as in R's
``p.adjust(method = "holm")``: sort ascending, multiply the i-th smallest
(1-based) by m − i + 1, take the running maximum, cap at 1. Rejecting where
the adjusted p-value ≤ α controls the family-wise error rate at α without
any assumption on how the metrics depend on each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["holm"]


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the input order. NaNs stay NaN and do not count."""
    values = np.asarray(pvalues, dtype=np.float64)
    out = np.full(values.shape, math.nan)
    valid = np.flatnonzero(~np.isnan(values))
    m = valid.size
    if m == 0:
        return out.tolist()
    order = valid[np.argsort(values[valid], kind="mergesort")]
    scaled = values[order] * (m - np.arange(m))
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out.tolist()
