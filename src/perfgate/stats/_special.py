"""Special functions the tests and intervals need, without scipy.

- ``normal_cdf`` / ``normal_ppf``: the standard normal, through ``math.erfc``
  (accurate in both tails) and Newton steps from Acklam's rational start.
- ``betainc``: the regularized incomplete beta I_x(a, b), by the continued
  fraction of Numerical Recipes §6.4 (modified Lentz), which converges fast
  for x < (a + 1) / (a + b + 2); the symmetry I_x(a, b) = 1 - I_{1-x}(b, a)
  covers the rest.
- ``beta_ppf``: its inverse in x, by bisection (monotone, so always converges).
- ``t_cdf`` / ``t_ppf``: Student's t through I_x(ν/2, 1/2) with
  x = ν / (ν + t²) (Abramowitz & Stegun 26.7.1), the quantile by bisection
  on a bracket widened until it holds the answer.
"""

from __future__ import annotations

import math

__all__ = ["beta_ppf", "betainc", "normal_cdf", "normal_ppf", "normal_sf", "t_cdf", "t_ppf"]

_SQRT2 = math.sqrt(2.0)


def normal_cdf(z: float) -> float:
    """P(Z <= z) for a standard normal Z."""
    return 0.5 * math.erfc(-z / _SQRT2)


def normal_sf(z: float) -> float:
    """P(Z > z), accurate far in the upper tail."""
    return 0.5 * math.erfc(z / _SQRT2)


def normal_ppf(p: float) -> float:
    """The standard normal quantile: z with P(Z <= z) = p."""
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        raise ValueError("p must be in [0, 1]")
    if p > 0.5:
        return -normal_ppf(1.0 - p)
    # Start: the tail approximation z ≈ -sqrt(-2 ln p) corrected (A&S 26.2.23),
    # good to 4.5e-4; three Newton steps on erfc bring it to machine precision.
    t = math.sqrt(-2.0 * math.log(p))
    z = -(
        t
        - (2.515517 + 0.802853 * t + 0.010328 * t * t)
        / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3)
    )
    for _ in range(4):
        pdf = math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
        if pdf == 0.0:
            break
        z -= (normal_cdf(z) - p) / pdf
    return z


def _betacf(a: float, b: float, x: float) -> float:
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 10_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), a, b > 0."""
    if a <= 0 or b <= 0:
        raise ValueError("a and b must be positive")
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def beta_ppf(p: float, a: float, b: float) -> float:
    """x with I_x(a, b) = p (the Beta(a, b) quantile), by bisection."""
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if betainc(a, b, mid) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-15:
            break
    return 0.5 * (lo + hi)


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    if df <= 0:
        raise ValueError("df must be positive")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_ppf(p: float, df: float) -> float:
    """Student's t quantile: t with P(T <= t) = p."""
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        raise ValueError("p must be in [0, 1]")
    if p < 0.5:
        return -t_ppf(1.0 - p, df)
    if p == 0.5:
        return 0.0
    hi = max(1.0, 2.0 * normal_ppf(p))
    while t_cdf(hi, df) < p:
        hi *= 2.0
        if hi > 1e300:
            return math.inf
    lo = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)
