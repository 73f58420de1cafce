"""From round pairs to per-metric comparisons, pure.

The unit is the round pair: each metric gets one figure per round (``None``
where the round had too few samples for it: 50 for a median, 200 for a p95,
1,000 for a p99), one log ratio per pair, and the Hodges–Lehmann/Wilcoxon
comparison in :mod:`perfgate.gate.compare`. Requests are never tested as
independent samples. Error rates are compared on their summed counts with
an exact two-proportion test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from perfgate.figures import Figure, run_figures
from perfgate.gate.compare import (
    family_levels,
    holm_min_pairs,
    min_effect_for,
    paired_comparison,
    paired_rate_comparison,
)
from perfgate.metrics import FailurePolicy, MetricSet
from perfgate.result import RunResult, SuiteResult
from perfgate.verdict import MetricComparison

__all__ = [
    "CORE_SHARE",
    "MAX_PRIMARY",
    "Families",
    "PairFigures",
    "RoundFigures",
    "ab_comparisons",
    "choose_families",
    "metric_families",
    "primary_metrics",
    "round_figures",
]

#: At most this many metrics in a suite's core family (each suite has its
#: own); what does not fit is gated in the secondary family. With 12 in the
#: core, Holm still lets 8 pairs that all agree fail the gate (12/2^8 < 0.05).
MAX_PRIMARY = 12
#: The core takes the busiest endpoints until they carry this share of the
#: suite's requests, and the costliest until they carry this share of its CPU.
CORE_SHARE = 0.5
#: Endpoint latency medians under this in both arms are shown, not gated.
#: In A/A runs of the demo, /health (~0.45 ms) differed by 4-6% between two
#: processes of one build while 2.4 ms routes stayed within 1-2% (the first A/B
#: prototype: sub-millisecond routes "cannot be gated on latency in 60 s").
MIN_GATED_MEDIAN_MS = 1.0
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
    medians: dict[str, list[float]] = field(default_factory=dict)  # arm -> round medians

    def load(self) -> float:
        """CPU the target spent on it (requests x CPU per request), 0 when unmeasured."""
        return self.requests * float(np.median(self.cpu_ms)) if self.cpu_ms else 0.0

    def median_ms(self) -> float:
        """The slower arm's median: a sub-millisecond route stays out only if both are."""
        return max(float(np.median(v)) for v in self.medians.values()) if self.medians else 0.0


def _endpoint_loads(
    pairs: Sequence[PairFigures],
) -> tuple[dict[str, _EndpointLoad], dict[str, int]]:
    """Per endpoint its load over both arms, and per metric the pairs usable in both rounds."""
    loads: dict[str, _EndpointLoad] = {}
    usable: dict[str, int] = {}
    for p in pairs:
        for arm, rounds in (("base", p.base), ("candidate", p.candidate)):
            for metric, f in rounds.figures.items():
                if not metric.startswith("endpoint:"):
                    continue
                endpoint, _, stat = metric.rpartition(" ")
                ep = loads.setdefault(endpoint, _EndpointLoad())
                if stat == "total.p50":
                    ep.requests += f.samples
                    if f.sufficient:
                        ep.medians.setdefault(arm, []).append(f.value)
                elif stat == "cpu_ms_per_request" and f.value > 0:
                    ep.cpu_ms.append(f.value)
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
    endpoint: str, ep: _EndpointLoad, usable: dict[str, int], min_pairs: int
) -> list[str]:
    """An endpoint's gateable metrics: median (unless sub-millisecond in both arms), CPU per
    request and error rate, each only with enough usable pairs."""
    out = []
    for stat in ("total.p50", "cpu_ms_per_request", "error_rate"):
        metric = f"{endpoint} {stat}"
        if usable.get(metric, 0) < min_pairs:
            continue
        # A sub-millisecond route's median moves several percent between two
        # processes of the same build: information, unless an arm made it slow.
        if stat == "total.p50" and ep.median_ms() < MIN_GATED_MEDIAN_MS:
            continue
        out.append(metric)
    return out


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
    budget: int = MAX_PRIMARY,
) -> Families:
    """The suite's families, following the traffic.

    Core: the suite's overall latency (p50, p95), error rate and CPU per
    request, and the endpoints that together carry most of the requests and
    the endpoints that together carry most of the CPU (each with its median
    and CPU per request). Declared ``compare.primary`` metrics join the core
    (``mode="extend"``) or are the whole core (``"replace"``). Secondary:
    every other endpoint metric with enough pairs, error rates included, so
    that a cheap, frequent route or a rare one failing is still gated. What
    the core budget cannot hold moves to the secondary family, never out.
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
                for m in _endpoint_stats(endpoint, loads[endpoint], usable, min_pairs)
                if not m.endswith(" error_rate") and m not in core
            ]
    overflow = core[budget:]
    core = core[:budget]
    secondary = [m for m in overflow if m not in chosen]
    floor = min_pairs if min_pairs_secondary is None else min_pairs_secondary
    for endpoint in sorted(loads):
        secondary += [
            m
            for m in _endpoint_stats(endpoint, loads[endpoint], usable, floor)
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
) -> Families:
    """The suite's families from the pairs measured so far (:func:`metric_families`).

    Fixed by what was measured, not by what survived: a gate whose pairs were
    all dropped must say "insufficient", not pass silently. A metric joins only
    with enough pairs to ever clear Holm at its family's level: one that
    cannot would make every other test stricter.
    """
    draft = metric_families(
        suite,
        pairs,
        declared_primary,
        mode=primary_mode,
        min_pairs=max(min_pairs, holm_min_pairs(primary_budget, alpha)),
        budget=max(0, primary_budget),
    )
    levels = family_levels(alpha, has_secondary=bool(draft.secondary))
    return metric_families(
        suite,
        pairs,
        declared_primary,
        mode=primary_mode,
        min_pairs=max(min_pairs, holm_min_pairs(primary_budget, levels["primary"])),
        min_pairs_secondary=max(
            min_pairs, holm_min_pairs(max(1, len(draft.secondary)), levels["secondary"] or alpha)
        ),
        budget=max(0, primary_budget),
    )


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
) -> list[MetricComparison]:
    """Every metric of one suite, base against candidate, over the kept pairs.

    ``families``: chosen at the first look and kept for the second, so more
    pairs never re-draw the family they are tested in.
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
    gated = families.core + families.secondary
    ordered = gated + sorted(cand_seen - set(gated))
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
        out.append(
            paired_comparison(
                suite,
                metric,
                unit,
                [p.base.value(metric) for p in kept],
                [p.candidate.value(metric) for p in kept],
                min_effect=effect,
                family=family,
                min_pairs=min_pairs,
            )
        )
    return out
