"""From round pairs to per-metric comparisons, pure.

The unit is the round pair: each metric gets one figure per round (``None``
where the round had too few samples for it: 50 for a median, 200 for a p95,
1,000 for a p99), one log ratio per pair, and the Hodges–Lehmann/Wilcoxon
comparison in :mod:`perfgate.gate.compare`. Requests are never tested as
independent samples. Error rates are compared on their summed counts with
an exact two-proportion test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from perfgate.figures import Figure, run_figures
from perfgate.gate.ab.launches import ABSOLUTE_DIFFERENCES, DEFAULT_PRIORS, LaunchPriors
from perfgate.gate.compare import (
    family_levels,
    holm_min_pairs,
    min_effect_for,
    paired_comparison,
    paired_difference_comparison,
    paired_rate_comparison,
)
from perfgate.metrics import FailurePolicy, Histogram, MetricSet, names
from perfgate.result import RunResult, SuiteResult
from perfgate.stats import launch_mean_test
from perfgate.verdict import MetricComparison

__all__ = [
    "CAPACITY_METRIC",
    "CORE_SHARE",
    "MAX_PRIMARY",
    "PAIRED_EXTRAS",
    "PEAK_RSS_METRIC",
    "Families",
    "PairFigures",
    "RoundFigures",
    "ab_comparisons",
    "capacity_comparison",
    "choose_families",
    "exceedance_series",
    "metric_families",
    "paired_extra_comparisons",
    "peak_rss_comparison",
    "primary_metrics",
    "rank_tested",
    "round_figures",
]

#: At most this many metrics in a suite's core family (each suite has its
#: own); what does not fit is gated in the secondary family. With 12 in the
#: core, Holm still lets 8 pairs that all agree fail the gate (12/2^8 < 0.05).
MAX_PRIMARY = 12
#: The core takes the busiest endpoints until they carry this share of the
#: suite's requests, and the costliest until they carry this share of its CPU.
CORE_SHARE = 0.5
_SUITE_PRIMARY = ("total.p50", "total.p95", "error_rate", "cpu_ms_per_request")


@dataclass
class RoundFigures:
    """One round's comparable figures: metric -> Figure (with its sample count)."""

    figures: dict[str, Figure] = field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        """The figure, or None when missing or backed by too few samples."""
        f = self.figures.get(metric)
        return f.value if f is not None and f.sufficient else None

    def counts(self, metric: str) -> tuple[int, int] | None:
        """(failed, requests) of an error-rate metric."""
        f = self.figures.get(metric)
        if f is None:
            return None
        return round(f.value * f.samples), f.samples


@dataclass
class PairFigures:
    """Both rounds of one pair, and whether the pair is kept."""

    index: int
    base: RoundFigures
    candidate: RoundFigures
    dropped: str | None = None  # why, when the pair is left out
    launch: int = 0  # which launch of both arms' processes it ran in
    # both rounds' measured metrics (histograms), for the tail-exceedance shares
    metrics: dict[str, MetricSet] | None = None


def round_figures(
    suite: str,
    metrics: MetricSet,
    *,
    cpu_s: float | None,
    duration_s: float,
    endpoint_cpu: Mapping[str, tuple[float, int]] | None = None,
    policy: FailurePolicy | None = None,
) -> RoundFigures:
    """The figures of one round, named as everywhere else (:mod:`perfgate.figures`).

    ``endpoint_cpu``: endpoint -> (CPU ms per request, requests), from
    :func:`perfgate.engine.cpu_share.endpoint_cpu_ms`. ``policy``: what a failed
    request is (:mod:`perfgate.metrics.failures`; its default without one).
    """
    result = SuiteResult(name=suite, kind="ab", aggregate=metrics, duration_s=duration_s)
    if policy is not None:
        result.extra["failure_policy"] = policy.to_dict()
    if cpu_s is not None:
        result.extra["target_cpu_s"] = cpu_s
    if endpoint_cpu:
        result.extra["endpoint_cpu_ms"] = dict(endpoint_cpu)
    figures = run_figures(RunResult(suites=[result]))
    return RoundFigures({f.metric: f for f in figures if f.metric != "throughput"})


@dataclass
class _EndpointLoad:
    """What both arms' rounds say of one endpoint: traffic, CPU and usable pairs."""

    requests: float = 0.0
    cpu_ms: list[float] = field(default_factory=list)
    # failed requests in both arms' kept rounds: whether its error rate can say anything
    failures: int = 0

    def load(self) -> float:
        """CPU the target spent on it (requests x CPU per request), 0 when unmeasured."""
        return self.requests * float(np.median(self.cpu_ms)) if self.cpu_ms else 0.0


def _endpoint_loads(
    pairs: Sequence[PairFigures],
) -> tuple[dict[str, _EndpointLoad], dict[str, int]]:
    """Per endpoint its load over both arms, and per metric the pairs usable in both rounds."""
    loads: dict[str, _EndpointLoad] = {}
    usable: dict[str, int] = {}
    for p in pairs:
        for rounds in (p.base, p.candidate):
            for metric, f in rounds.figures.items():
                if not metric.startswith("endpoint:"):
                    continue
                endpoint, _, stat = metric.rpartition(" ")
                ep = loads.setdefault(endpoint, _EndpointLoad())
                if stat == "total.p50":
                    ep.requests += f.samples
                elif stat == "cpu_ms_per_request" and f.value > 0:
                    ep.cpu_ms.append(f.value)
                elif stat == "error_rate" and p.dropped is None:
                    ep.failures += round(f.value * f.samples)
        for metric in p.candidate.figures:
            if metric.startswith("endpoint:") and _usable(p, metric):
                usable[metric] = usable.get(metric, 0) + 1
    return loads, usable


def _usable(p: PairFigures, metric: str) -> bool:
    if metric.endswith(" error_rate"):
        a, b = p.base.counts(metric), p.candidate.counts(metric)
        return a is not None and b is not None and a[1] > 0 and b[1] > 0
    return p.base.value(metric) is not None and p.candidate.value(metric) is not None


def _covering(
    loads: dict[str, _EndpointLoad], weight: Callable[[_EndpointLoad], float]
) -> list[str]:
    """The heaviest endpoints until they carry CORE_SHARE of the total weight."""
    total = sum(weight(ep) for ep in loads.values())
    if total <= 0:
        return []
    out: list[str] = []
    carried = 0.0
    for name in sorted(loads, key=lambda n: (-weight(loads[n]), n)):
        if carried >= CORE_SHARE * total:
            break
        out.append(name)
        carried += weight(loads[name])
    return out


def _endpoint_stats(
    endpoint: str,
    usable: dict[str, int],
    min_pairs: int,
    rate_floor: int | None = None,
    *,
    failures: int = 1,
) -> list[str]:
    """An endpoint's gateable metrics: median, CPU per request and error rate, each only
    with enough usable pairs (``rate_floor`` for the error rate, default ``min_pairs``).
    A sub-millisecond median is gated too: its larger launch-level SD gives it a larger
    minimum effect (:mod:`perfgate.gate.ab.launches`).

    The error rate only with a failure in either arm (``failures``, both arms' kept
    rounds): every pair's difference is 0 without one, so its test can never reject,
    yet it would count in Holm's denominator. The count pools both arms, so it is the
    same whichever arm failed: under "no change" it tells nothing of the test's outcome,
    and leaving such rates out keeps the family-wise error (independent filtering,
    Bourgon, Gentleman & Huber 2010; design e9)."""
    floors = {"total.p50": min_pairs, "cpu_ms_per_request": min_pairs}
    if failures > 0:
        floors["error_rate"] = min_pairs if rate_floor is None else rate_floor
    return [
        f"{endpoint} {stat}"
        for stat, floor in floors.items()
        if usable.get(f"{endpoint} {stat}", 0) >= floor
    ]


@dataclass(frozen=True)
class Families:
    """A suite's gated metrics: the core ("primary") and the secondary family."""

    core: list[str]
    secondary: list[str]

    def family(self, metric: str) -> str:
        if metric in self.core:
            return "primary"
        return "secondary" if metric in self.secondary else "info"


def _matches(suite: str, metric: str, declared: Sequence[str]) -> bool:
    return metric in declared or f"{suite}:{metric}" in declared


def metric_families(
    suite: str,
    pairs: Sequence[PairFigures],
    declared: Sequence[str] = (),
    *,
    mode: str = "extend",
    min_pairs: int,
    min_pairs_secondary: int | None = None,
    min_pairs_rates: int | None = None,
    budget: int = MAX_PRIMARY,
) -> Families:
    """The suite's families, following the traffic.

    Core: the suite's overall latency (p50, p95), error rate and CPU per
    request, and the endpoints that together carry most of the requests and
    the endpoints that together carry most of the CPU (each with its median
    and CPU per request). Declared ``compare.primary`` metrics join the core
    (``mode="extend"``) or are the whole core (``"replace"``). Secondary:
    every other endpoint metric with enough pairs, error rates included (those
    with a failure in either arm), so that a cheap, frequent route or a rare one
    failing is still gated. What
    the core budget cannot hold moves to the secondary family, never out.
    ``min_pairs_rates``: the secondary floor of the endpoints' error rates
    (default: ``min_pairs_secondary``).
    """
    seen: set[str] = set()
    for p in pairs:
        seen.update(p.candidate.figures)
    loads, usable = _endpoint_loads(pairs)
    chosen = [m for m in sorted(seen) if _matches(suite, m, declared)]
    core: list[str] = list(chosen)
    if mode != "replace":
        core += [m for m in _SUITE_PRIMARY if m in seen and m not in core]
        busy = _covering(loads, lambda ep: ep.requests)
        costly = _covering(loads, _EndpointLoad.load)
        for endpoint in sorted(
            set(busy) | set(costly), key=lambda n: (-loads[n].load(), -loads[n].requests, n)
        ):
            core += [
                m
                for m in _endpoint_stats(endpoint, usable, min_pairs)
                if not m.endswith(" error_rate") and m not in core
            ]
    overflow = core[budget:]
    core = core[:budget]
    secondary = [m for m in overflow if m not in chosen]
    floor = min_pairs if min_pairs_secondary is None else min_pairs_secondary
    rate_floor = floor if min_pairs_rates is None else min_pairs_rates
    for endpoint in sorted(loads):
        secondary += [
            m
            for m in _endpoint_stats(
                endpoint, usable, floor, rate_floor, failures=loads[endpoint].failures
            )
            if m not in core and m not in secondary
        ]
    return Families(core=core, secondary=secondary)


def primary_metrics(
    suite: str, pairs: Sequence[PairFigures], declared: Sequence[str], min_pairs: int
) -> list[str]:
    """The suite's core family (:func:`metric_families`)."""
    return metric_families(suite, pairs, declared, min_pairs=min_pairs).core


def _error_comparison(
    suite: str,
    metric: str,
    kept: Sequence[PairFigures],
    margin: float,
    family: str,
    min_pairs: int,
) -> MetricComparison:
    """An error rate, one difference per pair (failures come in bursts)."""
    return paired_rate_comparison(
        suite,
        metric,
        [p.base.counts(metric) for p in kept],
        [p.candidate.counts(metric) for p in kept],
        margin=margin,
        family=family,
        min_pairs=min_pairs,
    )


def choose_families(
    suite: str,
    pairs: Sequence[PairFigures],
    *,
    declared_primary: Sequence[str] = (),
    primary_mode: str = "extend",
    primary_budget: int = MAX_PRIMARY,
    min_pairs: int = 6,
    alpha: float = 0.05,
    extras: Mapping[str, int] | None = None,
    extras_growth: float = 1.0,
    planned_pairs: int | None = None,
) -> Families:
    """The suite's families from the pairs measured so far (:func:`metric_families`).

    ``planned_pairs``: the pairs this look planned (default: as many as ``pairs``,
    which counts spares run for dropped pairs too); no bar is set above it.

    ``extras``: the paired extras measured (tail exceedance, RSS growth,
    capacity) and each one's usable pairs: in the secondary family when they
    have the pairs Holm there needs, counting the pairs a second look would
    put back for those lost to scheduler lag (``extras_growth``: pairs run /
    pairs usable). Not the pairs a second look would add: an extra admitted on
    those (a rare route's tail share) would send nearly every run, A/A ones
    included, to the second look (docs/detection.md, design e).

    Fixed by what was measured, not by what survived: a gate whose pairs were
    all dropped must say "insufficient", not pass silently. A metric joins only
    with enough pairs to ever clear Holm at its family's level: one that
    cannot would make every other test stricter. That bar binds the
    rank-tested metrics only (:func:`rank_tested`: an exact p of n pairs is
    at least 2^-n); when the secondary family is too large for them all, the
    lowest-priority ones stay information (:func:`_admit_secondary`) instead
    of the whole family: a bar computed over every candidate once sent all
    of it, the blind classes included, to information in ~10% of the demo's
    A/A runs, whenever one more endpoint had enough pairs (design e4). An
    endpoint's error rate is a candidate with the pairs a family of one
    needs, not the full family's: a rare route has rounds without a request
    (its rate undefined there), and one such round at the first look once
    took a failing coupon check out of the gate (design e7).
    """
    draft = metric_families(
        suite,
        pairs,
        declared_primary,
        mode=primary_mode,
        min_pairs=max(min_pairs, holm_min_pairs(primary_budget, alpha)),
        budget=max(0, primary_budget),
    )
    extras = dict(extras or {})
    secondary_size = len(draft.secondary) + len(extras)
    levels = family_levels(alpha, has_secondary=secondary_size > 0)
    level = levels["secondary"] or alpha
    # the bar of a full family, never above the pairs this look has: a metric with
    # every pair usable is a candidate however many others there are
    full_bar = holm_min_pairs(max(1, secondary_size), level)
    cap = planned_pairs if planned_pairs is not None else len(pairs)
    floor = max(min_pairs, min(full_bar, cap) if cap else full_bar)
    chosen = metric_families(
        suite,
        pairs,
        declared_primary,
        mode=primary_mode,
        min_pairs=max(min_pairs, holm_min_pairs(primary_budget, levels["primary"])),
        min_pairs_secondary=floor,
        # a family of one's bar; whether it joins is _admit_secondary's count (design e7)
        min_pairs_rates=max(min_pairs, holm_min_pairs(1, level)),
        budget=max(0, primary_budget),
    )
    loads, usable = _endpoint_loads(pairs)
    kept = sum(1 for p in pairs if p.dropped is None)
    candidates: dict[str, float] = {m: usable.get(m, kept) for m in chosen.secondary}
    grown = {m: n * max(1.0, extras_growth) for m, n in extras.items()}
    candidates.update({m: n for m, n in grown.items() if n >= floor})
    return Families(core=chosen.core, secondary=_admit_secondary(candidates, loads, level))


def rank_tested(metric: str) -> bool:
    """Whether ``metric``'s p-value is an exact sign-flip test's, floored at 2^-n: error
    rates (of their mean, design e8) and the other paired differences (of their ranks);
    every other A/B metric is a t test under the launch model."""
    return metric.rsplit(" ", 1)[-1] in ABSOLUTE_DIFFERENCES


def _admit_secondary(
    candidates: Mapping[str, float], loads: Mapping[str, _EndpointLoad], level: float
) -> list[str]:
    """The secondary family: every t-tested candidate, and the rank-tested ones in order
    of priority while each admitted one can still clear Holm's first step.

    Priority: the suite-wide extras (tail shares, RSS growth), then every endpoint's
    error rate, then the endpoints' tail shares, busiest endpoint first within each:
    a rare route failing outranks a rare route's tail.
    """
    t_tested = [m for m in candidates if not rank_tested(m)]

    def priority(metric: str) -> tuple[int, float, str]:
        endpoint, _, stat = metric.rpartition(" ")
        if not metric.startswith("endpoint:"):
            return (0, 0.0, metric)
        requests = loads[endpoint].requests if endpoint in loads else 0.0
        return (1 if stat == "error_rate" else 2, -requests, metric)

    admitted: list[str] = []
    for metric in sorted((m for m in candidates if rank_tested(m)), key=priority):
        trial = [*admitted, metric]
        need = holm_min_pairs(len(t_tested) + len(trial), level)
        if min(candidates[m] for m in trial) >= need:
            admitted = trial
    keep = set(t_tested) | set(admitted)
    return [m for m in candidates if m in keep]


def ab_comparisons(
    suite: str,
    pairs: Sequence[PairFigures],
    *,
    min_effect: dict[str, float],
    declared_primary: Sequence[str] = (),
    primary_mode: str = "extend",
    primary_budget: int = MAX_PRIMARY,
    min_pairs: int = 6,
    alpha: float = 0.05,
    families: Families | None = None,
    priors: LaunchPriors = DEFAULT_PRIORS,
) -> list[MetricComparison]:
    """Every metric of one suite, base against candidate, over the kept pairs.

    ``families``: chosen at the first look and kept for the second, so more
    pairs never re-draw the family they are tested in. ``priors``: each
    metric's launch-level SD (built in, or this API's calibration).
    """
    kept = [p for p in pairs if p.dropped is None]
    if families is None:
        families = choose_families(
            suite,
            pairs,
            declared_primary=declared_primary,
            primary_mode=primary_mode,
            primary_budget=primary_budget,
            min_pairs=min_pairs,
            alpha=alpha,
        )
    base_seen: set[str] = set()
    cand_seen: set[str] = set()
    for p in pairs:
        base_seen.update(p.base.figures)
        cand_seen.update(p.candidate.figures)
    # the paired extras are compared on their own (paired_extra_comparisons)
    gated = [m for m in families.core + families.secondary if not is_extra_metric(m)]
    ordered = gated + sorted(m for m in cand_seen - set(gated) if not is_extra_metric(m))
    out: list[MetricComparison] = []
    for metric in ordered:
        family = families.family(metric)
        unit = next(
            (p.candidate.figures[metric].unit for p in pairs if metric in p.candidate.figures), ""
        )
        if metric not in base_seen:
            out.append(
                MetricComparison(
                    suite=suite,
                    metric=metric,
                    unit=unit,
                    family=family,  # type: ignore[arg-type]
                    state="new",
                    method="ab",
                    detail="not served by the base (a new route)",
                )
            )
            continue
        effect = min_effect_for(metric, min_effect)
        if unit == "ratio":
            out.append(_error_comparison(suite, metric, kept, effect, family, min_pairs))
            continue
        base_values = [p.base.value(metric) for p in kept]
        typical = [v for v in base_values if v is not None and v > 0]
        out.append(
            paired_comparison(
                suite,
                metric,
                unit,
                base_values,
                [p.candidate.value(metric) for p in kept],
                min_effect=effect,
                family=family,
                min_pairs=min_pairs,
                launches=[p.launch for p in kept],
                launch_sd=priors.prior(
                    suite, metric, float(np.median(typical)) if typical and unit == "ms" else None
                ),
            )
        )
    return out


#: Tail exceedance: the share of requests above the base's pooled percentile.
#: (name, quantile, requests the pooled threshold needs, requests per round):
#: a round's share needs only enough requests to expect two above it (a rare
#: route's 3% tail lives in its own ~50 requests per round, not in the suite's).
_EXCEEDANCE = (("above_base_p95", 0.95, 200, 40), ("above_base_p99", 0.99, 1000, 200))
#: The paired metrics gated only in the secondary family (never the core).
PAIRED_EXTRAS = ("above_base_p95", "above_base_p99", "rss_kib_per_request")
#: Capacity: milliseconds per completed arrival with both arms saturated in turn
#: (closed loop), so "higher is worse" like every other gated figure.
CAPACITY_METRIC = "saturated_ms_per_arrival"
PEAK_RSS_METRIC = "peak_rss_kib"


def is_extra_metric(metric: str) -> bool:
    """A paired extra: a tail share, RSS growth, capacity or peak RSS (the blind classes)."""
    return metric.rsplit(" ", 1)[-1] in PAIRED_EXTRAS or metric in (
        CAPACITY_METRIC,
        PEAK_RSS_METRIC,
    )


def _histograms(metrics: MetricSet) -> dict[str, Histogram]:
    """Subject -> total-latency histogram: "" for the suite, "endpoint:<name> " per endpoint."""
    out: dict[str, Histogram] = {}
    total = metrics.histograms.get(names.TOTAL)
    if total is not None and total.count:
        out[""] = total
    for ep in metrics.endpoints():
        if ep.total is not None and ep.total.count:
            out[f"endpoint:{ep.name} "] = ep.total
    return out


def exceedance_series(
    pairs: Sequence[PairFigures],
    margin: Mapping[str, float] | None = None,
) -> dict[str, tuple[list[float | None], list[float | None]]]:
    """Per pair, each arm's share of requests above the base's pooled p95 and p99
    raised by ``margin`` (stat -> the percentile's minimum effect, e.g. 0.15).

    Metric -> (base shares, candidate shares), one per kept pair (``None``
    where a round had too few requests). The threshold pools every kept
    base round, so a slowdown of a few percent of one route's requests (a
    retry, a cold cache, a lock) moves the candidate's share past the
    base's even when no median or p95 moves, while a small shift of the
    whole distribution (within the percentile's minimum effect) does not.
    """
    kept = [p for p in pairs if p.dropped is None and p.metrics is not None]
    per_pair = [
        {arm: _histograms(p.metrics[arm]) for arm in ("base", "candidate")}
        for p in kept
        if p.metrics is not None
    ]
    pooled: dict[str, Histogram] = {}
    for hs in per_pair:
        for subject, h in hs["base"].items():
            pooled.setdefault(subject, Histogram(h.accuracy)).merge(h)
    out: dict[str, tuple[list[float | None], list[float | None]]] = {}
    for subject, base_all in sorted(pooled.items()):
        for stat, q, pooled_needed, needed in _EXCEEDANCE:
            if base_all.count < pooled_needed:
                continue
            # beyond the percentile's own minimum effect: a small shift of the
            # whole distribution (a 5% slower route) moves the share above the
            # bare p95 by several points; it must not count as a tail
            threshold = base_all.quantile(q) * (1.0 + (margin or {}).get(stat, 0.0))
            series: dict[str, list[float | None]] = {"base": [], "candidate": []}
            for hs in per_pair:
                for arm in ("base", "candidate"):
                    got = hs[arm].get(subject)
                    series[arm].append(
                        got.count_above(threshold) / got.count
                        if got is not None and got.count >= needed
                        else None
                    )
            out[f"{subject}{stat}"] = (series["base"], series["candidate"])
    return out


def paired_extra_comparisons(
    suite: str,
    pairs: Sequence[PairFigures],
    *,
    min_effect: dict[str, float],
    min_pairs: int = 6,
    only: Sequence[str] | None = None,
) -> list[MetricComparison]:
    """The secondary family's paired extras: tail exceedance shares and RSS growth.

    ``only``: the extras chosen at the first look (the second tests the same).

    Absolute-scale differences per pair (:func:`paired_difference_comparison`):
    percentage points of requests above the base's p95/p99, KiB of resident
    memory kept per request. Only metrics with enough usable pairs are gated.
    """
    kept = [p for p in pairs if p.dropped is None]
    series = exceedance_series(
        pairs,
        {
            stat: min_effect_for(f"total.{stat.rsplit('_', 1)[-1]}", min_effect)
            for stat, *_ in _EXCEEDANCE
        },
    )
    rss = (
        [p.base.value("rss_kib_per_request") for p in kept],
        [p.candidate.value("rss_kib_per_request") for p in kept],
    )
    if any(v is not None for v in rss[0]):
        series["rss_kib_per_request"] = rss
    out = []
    for metric, (base, cand) in series.items():
        usable = sum(a is not None and b is not None for a, b in zip(base, cand, strict=True))
        if (only is not None and metric not in only) or (only is None and usable < min_pairs):
            continue
        unit = "KiB/req" if metric == "rss_kib_per_request" else "ratio"
        out.append(
            paired_difference_comparison(
                suite,
                metric,
                unit,
                base,
                cand,
                margin=min_effect_for(metric, min_effect),
                family="secondary",
                min_pairs=min_pairs,
            )
        )
    return out


def capacity_comparison(
    suite: str,
    pairs: Sequence[tuple[float, float, int]],
    *,
    min_effect: dict[str, float],
    min_pairs: int = 6,
    priors: LaunchPriors = DEFAULT_PRIORS,
) -> MetricComparison:
    """Saturated time per arrival, base against candidate: (base, candidate, launch) per pair.

    A lock held across an await, a pool too small: the rate the rounds run
    at stays under capacity, so only a saturated measurement shows them.
    """
    return paired_comparison(
        suite,
        CAPACITY_METRIC,
        "ms",
        [b for b, _, _ in pairs],
        [c for _, c, _ in pairs],
        min_effect=min_effect_for(CAPACITY_METRIC, min_effect),
        family="secondary",
        min_pairs=min_pairs,
        launches=[launch for _, _, launch in pairs],
        launch_sd=priors.prior(suite, CAPACITY_METRIC),
    )


def peak_rss_comparison(
    suite: str,
    launches: Sequence[tuple[int, int]],
    *,
    min_effect: dict[str, float],
    conf: float = 0.95,
    priors: LaunchPriors = DEFAULT_PRIORS,
) -> MetricComparison:
    """Peak resident memory, base against candidate: one (base, candidate) KiB per launch.

    A launch has one peak, so the launches are the only replicates: a t test
    on their log ratios, its SD read off both arms' spread across their
    launches (:func:`perfgate.stats.launch_mean_test`): at least the built-in
    prior and otherwise the launches' own, on their degrees of freedom, or
    pooled with this API's calibration when there is one. It catches a
    footprint that grows once (a cache loaded at start, a bigger pool), which
    RSS growth per request does not. No "slower at all" p-value: nothing to
    decide with more round pairs, so it is a regression or within noise.
    """
    kept = [(b, c) for b, c in launches if b > 0 and c > 0]
    out = MetricComparison(
        suite=suite,
        metric=PEAK_RSS_METRIC,
        unit="KiB",
        family="secondary",
        min_effect=min_effect_for(PEAK_RSS_METRIC, min_effect),
        method="ab",
        samples=len(kept),
    )
    if not kept:
        out.state = "insufficient"
        out.detail = "no launch with both arms' peak resident memory (/proc unreadable)"
        return out
    prior = priors.prior(suite, PEAK_RSS_METRIC)
    test = launch_mean_test(
        [math.log(c / b) for b, c in kept],
        prior_sd=prior.sd,
        prior_df=prior.weight,
        conf=conf,
        arms=[[math.log(b) for b, _ in kept], [math.log(c) for _, c in kept]],
        # a built-in prior is a floor (an API's peak RSS can vary 50 times the
        # demo's); a calibration measured on this API is pooled as evidence
        prior_floor=not prior.calibrated,
    )
    assert out.min_effect is not None
    out.base = float(np.median([b for b, _ in kept]))
    out.candidate = float(np.median([c for _, c in kept]))
    out.change = math.expm1(test.mean)
    out.ci_low, out.ci_high = math.expm1(test.low), math.expm1(test.high)
    out.p_value = test.p_greater(math.log1p(out.min_effect))
    out.launch = {
        "launches": len(kept),
        "sd_between": round(test.variance.sd_between, 5),
        "sd_between_observed": None
        if test.variance.sd_between_observed is None
        else round(test.variance.sd_between_observed, 5),
        # both arms' spread across their launches: one degree of freedom per extra launch each
        "df_observed": 2 * (len(kept) - 1),
        # what a calibration records: the spread of the launch ratios themselves, in
        # which an order effect both arms share (the demo's peak is ~5% lower in a
        # second launch) cancels, as it does in the comparison's mean
        "calibration": None
        if len(kept) < 2
        else {
            "sd": round(float(np.std([math.log(c / b) for b, c in kept], ddof=1)), 6),
            "df": len(kept) - 1,
        },
        "prior_sd": round(prior.sd, 5),
        "prior_weight": round(prior.weight, 2),
        "calibrated": prior.calibrated,
        # a built-in prior bounds the SD from below; a calibration is pooled
        "prior_use": "pooled" if prior.calibrated else "floor",
        "df": round(test.variance.df, 2),
        "inflation": 1.0,
    }
    # as every A/B metric: beyond the minimum effect here, Holm decides later
    if out.ci_low > out.min_effect:
        out.state = "regression"
    elif out.ci_high < -out.min_effect:
        out.state = "improvement"
    else:
        out.state = "within-noise"
    out.detail = f"{len(kept)} launch(es), t test: both arms' spread across launches and " + (
        "this API's calibrated prior" if prior.calibrated else "a prior"
    )
    return out
