"""Error rates: exact binomial intervals and a non-inferiority test.

References:
- Clopper & Pearson (1934): the exact ("conservative") binomial interval,
  from Beta quantiles: [B(α/2; k, n−k+1), B(1−α/2; k+1, n−k)].
- ``exact_two_proportion_test``: is B's error rate above A's by more than
  ``margin``? H0: p_B − p_A ≤ margin, H1: p_B − p_A > margin. Construction:
  the exact *unconditional* test of Chan (1998, Stat. Med. 17:1403) with the
  Farrington–Manning (1990) score statistic, whose variance uses the
  maximum-likelihood rates restricted to p_B − p_A = margin. (Fisher's
  conditional test does not apply: conditioning on the total removes the
  nuisance rate only when the margin is 0.) The p-value is the largest
  probability, over the nuisance rate p_A on the boundary p_B = p_A + margin,
  of a score at least as extreme as the observed one. The search is limited
  to a 99.9% Clopper–Pearson interval of p_A and γ = 0.001 added (Berger &
  Boos 1994), which keeps it valid and bounded. Tables too large to
  enumerate fall back to the asymptotic score test (documented in ``method``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from perfgate.stats._special import beta_ppf, normal_sf
from perfgate.stats._types import ConfidenceInterval

__all__ = ["ProportionTest", "clopper_pearson", "exact_two_proportion_test"]

_BERGER_BOOS_GAMMA = 0.001
_NUISANCE_GRID = 101
_MAX_CELLS = 4_000_000


class ProportionTest(NamedTuple):
    """The one-sided p-value and the observed difference of rates (B − A)."""

    p_value: float
    difference: float
    statistic: float
    method: str  # "exact-unconditional" or "score-asymptotic"


def clopper_pearson(
    k: int, n: int, conf: float = 0.95, *, one_sided: bool = False
) -> ConfidenceInterval:
    """Exact binomial interval for k successes in n trials.

    ``one_sided=True`` gives the (0-based) one-sided bounds at level ``conf``
    on each side — use ``.high`` for "the false-alarm rate is at most …".
    """
    if n < 0 or not 0 <= k <= n:
        raise ValueError("need 0 <= k <= n")
    if not 0.0 < conf < 1.0:
        raise ValueError("conf must be in (0, 1)")
    if n == 0:
        return ConfidenceInterval(0.0, 1.0, conf)
    tail = (1.0 - conf) if one_sided else (1.0 - conf) / 2.0
    low = 0.0 if k == 0 else beta_ppf(tail, k, n - k + 1)
    high = 1.0 if k == n else beta_ppf(1.0 - tail, k + 1, n - k)
    return ConfidenceInterval(low, high, conf)


def _restricted_mle(
    x_a: npt.NDArray[np.float64], n_a: int, x_b: npt.NDArray[np.float64], n_b: int, margin: float
) -> npt.NDArray[np.float64]:
    """p_A maximising the likelihood subject to p_B = p_A + margin (vectorised).

    The log-likelihood is concave in p_A, so bisection on its derivative.
    """
    lo = np.full(np.broadcast(x_a, x_b).shape, max(0.0, -margin))
    hi = np.full_like(lo, min(1.0, 1.0 - margin))
    eps = 1e-12
    for _ in range(60):
        p = 0.5 * (lo + hi)
        q = p + margin
        grad = (
            x_a / np.maximum(p, eps)
            - (n_a - x_a) / np.maximum(1.0 - p, eps)
            + x_b / np.maximum(q, eps)
            - (n_b - x_b) / np.maximum(1.0 - q, eps)
        )
        up = grad > 0
        lo = np.where(up, p, lo)
        hi = np.where(up, hi, p)
    return 0.5 * (lo + hi)


def _score(
    x_a: npt.NDArray[np.float64], n_a: int, x_b: npt.NDArray[np.float64], n_b: int, margin: float
) -> npt.NDArray[np.float64]:
    """Farrington–Manning Z: (p̂_B − p̂_A − margin) / SE under the restricted MLE."""
    pa = _restricted_mle(x_a, n_a, x_b, n_b, margin)
    pb = pa + margin
    var = pa * (1.0 - pa) / n_a + pb * (1.0 - pb) / n_b
    diff = x_b / n_b - x_a / n_a - margin
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, diff / np.sqrt(np.maximum(var, 1e-300)), np.sign(diff) * np.inf)
    return np.where(diff == 0, 0.0, z)


def _log_binom_coef(n: int) -> npt.NDArray[np.float64]:
    log_fact = np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=np.float64)))))
    return log_fact[n] - log_fact - log_fact[::-1]


def _binom_pmf(n: int, p: float, log_coef: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    x = np.arange(n + 1, dtype=np.float64)
    if p <= 0.0:
        out = np.zeros(n + 1)
        out[0] = 1.0
        return out
    if p >= 1.0:
        out = np.zeros(n + 1)
        out[-1] = 1.0
        return out
    return np.exp(log_coef + x * math.log(p) + (n - x) * math.log1p(-p))


def _support(n: int, p_lo: float, p_hi: float) -> tuple[int, int]:
    """Counts outside which Binomial(n, p) has negligible mass for p in [p_lo, p_hi]."""
    lo = max(0, math.floor(n * p_lo - 12.0 * math.sqrt(n * p_lo * (1 - p_lo)) - 10))
    hi = min(n, math.ceil(n * p_hi + 12.0 * math.sqrt(n * p_hi * (1 - p_hi)) + 10))
    return lo, max(lo, hi)


def exact_two_proportion_test(
    k_a: int, n_a: int, k_b: int, n_b: int, margin: float = 0.0
) -> ProportionTest:
    """One-sided test that B's rate exceeds A's by more than ``margin``.

    ``margin`` is absolute (0.005 = half a percentage point). A small
    p-value means B's error rate is worse than A's + margin.
    """
    if n_a <= 0 or n_b <= 0 or not 0 <= k_a <= n_a or not 0 <= k_b <= n_b:
        raise ValueError("need 0 <= k <= n and n > 0 for both arms")
    if not 0.0 <= margin < 1.0:
        raise ValueError("margin must be in [0, 1)")
    diff = k_b / n_b - k_a / n_a
    z_obs = float(_score(np.array(float(k_a)), n_a, np.array(float(k_b)), n_b, margin))
    if diff <= margin:
        return ProportionTest(1.0, diff, z_obs, "exact-unconditional")
    gamma = _BERGER_BOOS_GAMMA
    ci = clopper_pearson(k_a, n_a, 1.0 - gamma)
    p_lo, p_hi = ci.low, min(ci.high, 1.0 - margin)
    if p_hi < p_lo:
        p_hi = p_lo
    a_lo, a_hi = _support(n_a, p_lo, p_hi)
    b_lo, b_hi = _support(n_b, p_lo + margin, p_hi + margin)
    if (a_hi - a_lo + 1) * (b_hi - b_lo + 1) > _MAX_CELLS:
        return ProportionTest(normal_sf(z_obs), diff, z_obs, "score-asymptotic")
    xa = np.arange(a_lo, a_hi + 1, dtype=np.float64)[:, None]
    xb = np.arange(b_lo, b_hi + 1, dtype=np.float64)[None, :]
    extreme = (_score(xa, n_a, xb, n_b, margin) >= z_obs - 1e-9).astype(np.float64)
    coef_a, coef_b = _log_binom_coef(n_a), _log_binom_coef(n_b)
    worst = 0.0
    for p in np.linspace(p_lo, p_hi, _NUISANCE_GRID):
        pmf_a = _binom_pmf(n_a, float(p), coef_a)[a_lo : a_hi + 1]
        pmf_b = _binom_pmf(n_b, float(min(1.0, p + margin)), coef_b)[b_lo : b_hi + 1]
        worst = max(worst, float(pmf_a @ extreme @ pmf_b))
    return ProportionTest(min(1.0, worst + gamma), diff, z_obs, "exact-unconditional")
