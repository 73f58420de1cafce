"""Round pairs nested in launches: the process-level variance a paired test must carry.

An A/B arm is a process; every round pair of one launch shares that pair of
processes' fixed offset (start order, memory layout, hash seed, page
placement). The model of one metric's per-pair log ratios::

    d[l, i] = delta + u[l] + e[l, i]      u ~ (0, sd_between²), e ~ (0, sd_within²)

``l`` the launch (both arms started afresh), ``i`` the pair within it. The
mean of N pairs then has variance ``sd_within²/N + sd_between² · Σ n_l²/N²``
(``sd_between²/R`` with R equal launches), not ``sd_within²/N``: a test that
ignores ``u`` is over-confident by the *inflation* ``sqrt(1 + sd_between² ·
Σ n_l² / (N · sd_within²))``, however many pairs it has.

``sd_between`` is estimated from the launches (one-way analysis of
variance, method of moments) and pooled with a calibrated prior worth
``prior_df`` launches, so that one or two launches (too few to estimate a
variance) still carry the offset measured in recorded A/A runs
(docs/detection.md, ``studies/launch_variance.py``). Intervals are then
widened by the inflation (a design-effect correction), and the test becomes
a t statistic on the total standard error with Welch–Satterthwaite degrees
of freedom.

Reference: Searle, Casella & McCulloch, *Variance Components* (1992), ch. 3
(the one-way random model); Rao & Scott (1981), JASA 76:221 (design effects).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from perfgate.stats._special import t_cdf, t_ppf

__all__ = ["LaunchVariance", "inflate_interval", "launch_mean_test", "launch_variance"]

#: Identical figures (a standard error of 0) must not make the inflation infinite.
_MIN_SCALE = 1e-9


@dataclass(frozen=True)
class LaunchVariance:
    """One metric's variance components and what they do to its test."""

    sd_between: float  # pooled: the prior and what this run's launches showed
    sd_between_observed: float | None  # this run's launches alone (None: one launch)
    sd_within: float  # of the pairs around their launch's mean (pooled)
    launches: int
    pairs: int
    inflation: float  # >= 1: how much wider the interval and the test must be
    se_total: float  # standard error of the mean shift, both components
    df: float  # its degrees of freedom (Welch–Satterthwaite over the two components)

    def p_greater(self, shift: float, threshold: float = 0.0) -> float:
        """One-sided p of "the true shift exceeds ``threshold``" given the estimate ``shift``.

        A t statistic on ``se_total``: unlike an exact rank test's p-value,
        which can be no smaller than 2^-n however large the effect, it keeps
        a large regression significant once the launch-level variance is in.
        """
        if self.se_total <= 0:
            return 0.0 if shift > threshold else 1.0
        return 1.0 - t_cdf((shift - threshold) / self.se_total, self.df)


def launch_variance(
    d: Sequence[float],
    launches: Sequence[int],
    *,
    prior_sd: float,
    prior_df: float = 4.0,
    se_within: float | None = None,
) -> LaunchVariance:
    """The launch-level SD of ``d`` (one value per pair, ``launches[i]`` its launch) and
    the inflation a test of its mean needs.

    ``prior_sd``: the calibrated launch-level SD for this kind of metric;
    ``prior_df``: how many launches' worth of evidence it counts for.
    ``se_within``: the standard error of the mean that the test being
    corrected assumes (e.g. from its own interval's width); by default the
    pooled within-launch SD over the square root of the pairs.
    """
    values = np.asarray(d, dtype=np.float64)
    groups = np.asarray(launches)
    if values.size != groups.size:
        raise ValueError("one launch per pair")
    if prior_sd < 0 or prior_df < 0:
        raise ValueError("prior_sd and prior_df must be non-negative")
    n_total = int(values.size)
    labels = sorted(set(groups.tolist()))
    members = [values[groups == g] for g in labels]
    sizes = np.array([m.size for m in members], dtype=np.float64)
    if n_total == 0:
        return LaunchVariance(prior_sd, None, 0.0, len(labels), 0, 1.0, math.inf, 1.0)
    r = len(labels)
    resid = float(sum(np.sum((m - m.mean()) ** 2) for m in members))
    msw = resid / (n_total - r) if n_total > r else 0.0
    sd_within = math.sqrt(msw)
    observed: float | None = None
    between_var = prior_sd**2
    if r >= 2 and n_total > r:
        means = np.array([m.mean() for m in members])
        grand = float(np.sum(sizes * means) / n_total)
        msb = float(np.sum(sizes * (means - grand) ** 2) / (r - 1))
        n0 = (n_total - float(np.sum(sizes**2)) / n_total) / (r - 1)
        observed_var = max(0.0, (msb - msw) / n0) if n0 > 0 else 0.0
        observed = math.sqrt(observed_var)
        between_var = (prior_df * prior_sd**2 + (r - 1) * observed_var) / (prior_df + r - 1)
    se = se_within if se_within is not None else sd_within / math.sqrt(n_total)
    se = max(se, _MIN_SCALE)
    between_part = between_var * float(np.sum(sizes**2)) / n_total**2
    total_var = se**2 + between_part
    # Welch–Satterthwaite: the within part has N - R df, the between part the
    # prior's plus the launches'.
    df_within = max(1.0, n_total - r)
    df_between = max(1.0, prior_df + r - 1)
    df = total_var**2 / (se**4 / df_within + between_part**2 / df_between)
    return LaunchVariance(
        sd_between=math.sqrt(between_var),
        sd_between_observed=observed,
        sd_within=sd_within,
        launches=r,
        pairs=n_total,
        inflation=math.sqrt(total_var) / se,
        se_total=math.sqrt(total_var),
        df=df,
    )


def inflate_interval(
    center: float, low: float, high: float, inflation: float
) -> tuple[float, float]:
    """The interval ``[low, high]`` around ``center``, each side ``inflation`` times wider."""
    if inflation <= 1.0:
        return low, high
    return center - (center - low) * inflation, center + (high - center) * inflation


@dataclass(frozen=True)
class LaunchMeanTest:
    """The mean of one value per launch (e.g. a log ratio of peak memory), tested."""

    mean: float
    low: float  # two-sided interval at the requested confidence
    high: float
    variance: LaunchVariance  # sd_between: the pooled SD of one launch's value

    def p_greater(self, threshold: float = 0.0) -> float:
        """One-sided p of "the true mean exceeds ``threshold``"."""
        return self.variance.p_greater(self.mean, threshold)


def launch_mean_test(
    values: Sequence[float],
    *,
    prior_sd: float,
    prior_df: float = 4.0,
    conf: float = 0.95,
    arms: Sequence[Sequence[float]] | None = None,
    prior_floor: bool = False,
) -> LaunchMeanTest:
    """A t test on one value per launch, its SD pooled with a calibrated prior.

    A figure a launch has once (its peak resident memory) has no pairs to
    rank: its only replicates are the launches. Their SD is pooled with the
    prior (worth ``prior_df`` launches, as in :func:`launch_variance`), so a
    run of one or two launches is still tested at the calibrated spread.

    ``values`` are per-launch differences (candidate minus base, log scale).
    With ``arms`` (each arm's own per-launch values), the observed SD of a
    difference is read from each arm's spread across its launches instead,
    ``2 × pooled within-arm variance`` with ``Σ (launches - 1)`` degrees of
    freedom: twice the evidence of the differences' own spread at two
    launches, and it cannot hide a process-to-process spread that happened
    to hit both arms alike.

    ``prior_floor``: the prior is a lower bound on the SD, not evidence. The
    SD is the larger of the prior and the launches' own, and the degrees of
    freedom are the launches' alone, so the interval is never narrower than
    a plain t interval on the launches: it covers at its nominal rate on an
    API whose launches differ far more than the prior says, where pooling
    (a prior worth ``prior_df`` launches against two or four launches) pulls
    the SD towards a figure measured on another API. For a built-in prior;
    an API's own calibration is evidence and is pooled.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("at least one launch")
    if prior_sd < 0 or prior_df < 0:
        raise ValueError("prior_sd and prior_df must be non-negative")
    r = int(v.size)
    observed: float | None = None
    observed_df = 0.0
    if arms is not None:
        spread = [np.asarray(a, dtype=np.float64) for a in arms if len(a) >= 2]
        observed_df = float(sum(a.size - 1 for a in spread))
        if observed_df > 0:
            within = sum(float(np.sum((a - a.mean()) ** 2)) for a in spread) / observed_df
            observed = math.sqrt(2.0 * within)
    elif r >= 2:
        observed, observed_df = float(np.std(v, ddof=1)), float(r - 1)
    if prior_floor and observed is not None and observed_df > 0:
        var = max(prior_sd, observed) ** 2
        df = observed_df
    else:
        var = (prior_df * prior_sd**2 + observed_df * (observed or 0.0) ** 2) / max(
            prior_df + observed_df, 1e-12
        )
        df = max(1.0, prior_df + observed_df)
    se = max(math.sqrt(var / r), _MIN_SCALE)
    mean = float(v.mean())
    half = t_ppf(0.5 + conf / 2.0, df) * se
    lv = LaunchVariance(
        sd_between=math.sqrt(var),
        sd_between_observed=observed,
        sd_within=0.0,
        launches=r,
        pairs=r,
        inflation=1.0,
        se_total=se,
        df=df,
    )
    return LaunchMeanTest(mean, mean - half, mean + half, lv)
