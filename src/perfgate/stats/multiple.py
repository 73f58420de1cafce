"""Multiple comparisons within the primary metric family.

Holm's reference: Holm (1979), "A simple sequentially rejective multiple test
procedure", Scand. J. Statist. 6:65–70. Adjusted p-values as in R's
``p.adjust(method = "holm")``: sort ascending, multiply the i-th smallest
(1-based) by m − i + 1, take the running maximum, cap at 1. Rejecting where
the adjusted p-value ≤ α controls the family-wise error rate at α without
any assumption on how the metrics depend on each other.

Holm pays for that generality: it treats ten metrics as ten independent
chances of a false alarm, while an A/B run's metrics move together (one slow
second of the machine slows every route of the round). The Westfall–Young
step-down minP procedure (Westfall & Young 1993, *Resampling-Based Multiple
Testing*, Algorithm 2.8) takes the joint null distribution from the data
instead: under the null, swapping the arms of a pair flips the sign of every
metric's difference in that pair at once, so the 2^n joint sign flips of the
pairs give the exact joint distribution of all the metrics' statistics
(Wilcoxon's W+ here). It controls the family-wise error rate under subset
pivotality and the same symmetry the signed-rank test assumes, and is never
less powerful than Holm by more than the resampling granularity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from perfgate.stats.signflip import sign_flips

__all__ = ["holm", "signflip_minp"]

#: Joint sign flips sampled above :data:`perfgate.stats.signflip.EXACT_MAX_N` pairs.
_SIGNFLIP_SAMPLES = 2**16


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


def _signed_rank_weights(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each value's signed mid-rank of |x| (0 for missing and zero values)."""
    out = np.zeros(x.shape)
    present = np.flatnonzero(np.isfinite(x) & (x != 0.0))
    if present.size:
        mags = np.abs(x[present])
        order = np.argsort(mags, kind="mergesort")
        ranks = np.empty(present.size)
        ranks[order] = np.arange(1, present.size + 1, dtype=np.float64)
        for value in np.unique(mags):  # mid-ranks for ties
            tied = mags == value
            ranks[tied] = ranks[tied].mean()
        out[present] = np.sign(x[present]) * ranks
    return out


def signflip_minp(columns: Sequence[Sequence[float | None]], *, seed: int = 0) -> list[float]:
    """Westfall–Young step-down minP adjusted one-sided p-values (H1: positive).

    ``columns[m][i]`` is metric m's difference in pair i, already centred on
    its null boundary (log(B/A) − log(1 + minimum effect)); ``None`` where
    the pair has no figure for that metric. Every column must have one entry
    per pair. Each metric's raw p-value is the exact signed-rank p of its
    W+ over the joint flips (equal to the exact Wilcoxon p-value with
    mid-ranks); metrics with no usable value get NaN.
    """
    if not columns:
        return []
    n = len(columns[0])
    if any(len(c) != n for c in columns):
        raise ValueError("every metric needs one entry per pair")
    x = np.array(
        [[math.nan if v is None else float(v) for v in c] for c in columns], dtype=np.float64
    )
    weights = np.stack([_signed_rank_weights(row) for row in x])  # (m, n)
    patterns = sign_flips(n, seed=seed, samples=_SIGNFLIP_SAMPLES)
    flipped = patterns @ weights.T  # (B, m): Σ s_i w_i; W+ = (Σ s_i w_i + Σ|w_i|) / 2
    b = flipped.shape[0]
    raw = np.empty(flipped.shape)
    for j in range(flipped.shape[1]):
        ordered = np.sort(flipped[:, j])
        # P(W ≥ w) over the flips, with a small tolerance for float sums
        raw[:, j] = (b - np.searchsorted(ordered, flipped[:, j] - 1e-9, side="left")) / b
    obs_p = raw[0]  # flip 0 is the observed assignment (all +1)
    usable = np.flatnonzero(np.abs(weights).sum(axis=1) > 0)
    out = np.full(len(columns), math.nan)
    if usable.size == 0:
        return out.tolist()
    order = usable[np.argsort(obs_p[usable], kind="mergesort")]
    # successive minima from the least significant metric upwards, per flip
    q = np.minimum.accumulate(raw[:, order[::-1]], axis=1)[:, ::-1]
    adjusted = (q <= obs_p[order][None, :] + 1e-12).mean(axis=0)
    out[order] = np.minimum(1.0, np.maximum.accumulate(adjusted))
    return out.tolist()
