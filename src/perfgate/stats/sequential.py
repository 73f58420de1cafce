"""Two looks at one experiment: the per-look level that keeps the overall one.

Looking at the data after n₁ pairs, and again after n₂ > n₁ when the first
look could not decide, gives a false alarm two chances. Pocock's boundary
(Pocock 1977, "Group sequential methods in the design and analysis of
clinical trials", Biometrika 64:191–199) spends the same nominal level at
both looks, chosen so that under the null the chance of rejecting at either
is exactly α. The two looks' statistics are jointly normal with correlation
ρ = √(n₁/n₂) (the second contains the first), so the nominal one-sided level
is 1 − Φ(c) where

    P(Z₁ ≤ c, Z₂ ≤ c) = ∫_{−∞}^{c} φ(x) Φ((c − ρx)/√(1 − ρ²)) dx = 1 − α.

For α = 0.05 and n₂ = 2n₁ this gives c = 1.875, a nominal 0.0304 (Jennison &
Turnbull 2000, *Group Sequential Methods*, Table 2.1: C_P(2, 0.10) = 1.875
for a two-sided 0.10, i.e. one-sided 0.05).
Stopping early without rejecting (the second look is skipped when the first
decided) only lowers the error (a non-binding futility rule).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from perfgate.stats._special import normal_cdf, normal_ppf

__all__ = ["pocock_level"]

_GRID = 4001


def _both_below(c: float, rho: float) -> float:
    """P(Z₁ ≤ c, Z₂ ≤ c) for standard normals with correlation ``rho`` (0 ≤ rho < 1)."""
    x = np.linspace(-9.0, c, _GRID)
    inner = (c - rho * x) / math.sqrt(1.0 - rho * rho)
    cdf = np.array([normal_cdf(float(v)) for v in inner])
    density = np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    y = density * cdf
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


@lru_cache(maxsize=64)
def pocock_level(alpha: float, first: int, total: int) -> float:
    """The one-sided level for each of two looks, after ``first`` and ``total`` pairs.

    ``total <= first`` means one look: ``alpha`` itself.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError("alpha must lie in (0, 1)")
    if first < 1 or total <= first:
        return alpha
    rho = math.sqrt(first / total)
    lo, hi = normal_ppf(1.0 - alpha), normal_ppf(1.0 - alpha / 2.0)  # one look … Bonferroni
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if 1.0 - _both_below(mid, rho) > alpha:
            lo = mid
        else:
            hi = mid
    return 1.0 - normal_cdf((lo + hi) / 2.0)
