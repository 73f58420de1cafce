"""Ranking with ties, and exact null distributions of rank-sum statistics."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["rankdata", "signed_rank_counts", "tie_sizes"]


def rankdata(a: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """1-based ranks, ties getting the average of the ranks they span."""
    arr = np.asarray(a, dtype=np.float64).ravel()
    n = arr.size
    if n == 0:
        return np.empty(0)
    order = np.argsort(arr, kind="mergesort")
    ordered = arr[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(starts) - 1
    bounds = np.flatnonzero(np.r_[starts, True])
    average = 0.5 * (bounds[:-1] + bounds[1:] - 1) + 1.0
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = average[group]
    return ranks


def tie_sizes(a: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Sizes of the groups of equal values (1 for an untied value)."""
    arr = np.sort(np.asarray(a, dtype=np.float64).ravel())
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.r_[True, arr[1:] != arr[:-1]]
    return np.diff(np.flatnonzero(np.r_[starts, True])).astype(np.int64)


def signed_rank_counts(doubled_ranks: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """How many of the 2^n sign assignments give each value of 2·W+.

    ``doubled_ranks`` are twice the (possibly mid-) ranks, so integers. Under
    the null each sign is + or − with probability 1/2 independently, so the
    counts are the subset-sum counts of the ranks: a dynamic programme, exact
    in float64 up to n = 52.
    """
    ranks = np.asarray(doubled_ranks, dtype=np.int64).ravel()
    counts = np.zeros(int(ranks.sum()) + 1, dtype=np.float64)
    counts[0] = 1.0
    for r in ranks:
        if r == 0:
            counts = counts * 2.0
            continue
        shifted = counts.copy()
        shifted[r:] += counts[:-r]
        counts = shifted
    return counts
