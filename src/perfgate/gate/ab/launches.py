"""Launch-level variance: the calibrated priors and the minimum effect they imply.

Two processes of one build differ by a fixed offset for as long as they run
(:mod:`perfgate.stats.clustered`). These priors are the launch-level SDs
(log scale: 0.01 is about 1%) of a launch pair's offset, measured on
recorded A/A runs of the demo on 2-core runners and rounded up
(``python studies/launch_variance.py studies/results/detection-*.jsonl``;
docs/detection.md has the table, per design). A run with two or more
launches per arm adds its own estimate (:func:`perfgate.stats.launch_variance`
pools the two), so an API whose processes differ more than the demo's is
not judged by the demo's figure alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ABSOLUTE_DIFFERENCES",
    "CALIBRATED_FLOOR",
    "DEFAULT_PRIORS",
    "LAUNCH_K",
    "PRIOR_LAUNCHES",
    "LaunchPrior",
    "LaunchPriors",
    "launch_min_effect",
    "launch_sd_prior",
]

#: A change must exceed this many launch-level SDs to count as a regression:
#: at 3, a launch offset alone crosses the minimum effect about once in 700
#: launch pairs (one-sided normal tail), whatever the pairs say.
LAUNCH_K = 3.0
#: The prior counts as this many launches of evidence (a calibration on one
#: API and one kind of machine: a few launches' worth, not a hundred).
PRIOR_LAUNCHES = 4.0
#: Per-pair differences on an absolute scale (shares, KiB): no process offset is
#: modelled, and their p-value is an exact rank test's (at least 2^-n).
ABSOLUTE_DIFFERENCES = ("error_rate", "above_base_p95", "above_base_p99", "rss_kib_per_request")
#: Below this median both arms' processes differ by several percent (the
#: demo's /health, ~0.45 ms: 4-6% between two processes of one build).
SUB_MS = 1.0

_PRIOR_SD = {
    "cpu_ms_per_request": 0.010,  # recorded A/A: 0-1.0% (suite), 0-1.2% (endpoints)
    "median": 0.010,  # endpoint medians over 1 ms: 0-0.7% (one route 1.2%)
    "suite_p50": 0.025,  # the suite's p50 mixes scenarios: 0-3.2%
    "tail": 0.015,  # p95/p99: 0-1.2%
    "sub_ms": 0.050,  # medians under 1 ms: 4-6% between two processes
    # A launch pair's peak RSS: 0.18% on the demo (one thread, 70 A/A launch
    # pairs), ~9% on the shop API (a thread and a SQLite cache per connection).
    # No one figure fits both, so the gate uses it as a floor under each run's
    # own launches (both arms' spread), not as evidence pooled with them:
    # pooled, the shop's A/A interval excluded 0 in 8/24 runs (design e11);
    # as a floor the interval is never narrower than a t interval on the
    # launches (design e12, docs/detection.md).
    "peak_rss": 0.020,
}


def launch_sd_prior(metric: str, median_ms: float | None = None) -> float:
    """The calibrated launch-level SD (log scale) of ``metric``; 0 for absolute-scale ones.

    ``median_ms``: the metric's typical value when it is a latency, so a
    sub-millisecond median gets the larger prior (and so a larger minimum
    effect) instead of being left out of the gate.
    """
    stat = metric.rsplit(" ", 1)[-1]
    if stat in ABSOLUTE_DIFFERENCES:
        return 0.0  # differences of shares or KiB: no process offset measured
    if stat == "peak_rss_kib":
        return _PRIOR_SD["peak_rss"]
    if stat.endswith("cpu_ms_per_request"):
        return _PRIOR_SD["cpu_ms_per_request"]
    if stat.endswith(("p95", "p99")):
        return _PRIOR_SD["tail"]
    if median_ms is not None and 0 < median_ms < SUB_MS:
        return _PRIOR_SD["sub_ms"]
    if metric == "total.p50":
        return _PRIOR_SD["suite_p50"]
    return _PRIOR_SD["median"]


def launch_min_effect(min_effect: float, sd_between: float) -> float:
    """The minimum effect a launch offset cannot reach alone: at least LAUNCH_K SDs."""
    return max(min_effect, math.expm1(LAUNCH_K * sd_between))


#: A calibrated SD never goes below this share of the built-in prior for its
#: kind of metric (medians: of the over-1-ms figure): a few
#: launches can measure a launch-level SD near 0 by chance (the method of
#: moments clips a negative variance to 0), and one lucky calibration must
#: not make every later run over-confident.
CALIBRATED_FLOOR = 0.25


@dataclass(frozen=True)
class LaunchPrior:
    """A metric's launch-level SD (log scale) and how many launches' worth of evidence it is."""

    sd: float
    weight: float
    calibrated: bool = False


@dataclass(frozen=True)
class LaunchPriors:
    """The priors a run compares with: the built-in table, or an API's own calibration.

    ``measured``: suite -> metric -> (SD, degrees of freedom), as
    ``perfgate calibrate`` measured them on A/A launches of this API
    (:mod:`perfgate.gate.calibrate`). A measured SD replaces the built-in
    one, weighted by its own degrees of freedom; metrics it does not name,
    and absolute-scale metrics, keep the built-in prior.
    """

    measured: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=dict)

    def prior(self, suite: str, metric: str, median_ms: float | None = None) -> LaunchPrior:
        default = launch_sd_prior(metric, median_ms)
        found = self.measured.get(suite, {}).get(metric)
        if found is None or default == 0.0 or found[1] <= 0:
            return LaunchPrior(default, PRIOR_LAUNCHES)
        sd, df = found
        # the floor from the metric's kind, not the sub-millisecond allowance a
        # calibration is there to replace
        floor = CALIBRATED_FLOOR * launch_sd_prior(metric)
        return LaunchPrior(max(sd, floor), df, calibrated=True)


#: The built-in table only (no calibration file).
DEFAULT_PRIORS = LaunchPriors()
