"""From round pairs to per-metric comparisons, pure.

The unit is the round pair: each metric gets one figure per round (``None``
where the round had too few samples for it: 50 for a median, 200 for a p95,
1,000 for a p99), one log ratio per pair, and the Hodges–Lehmann/Wilcoxon
comparison in :mod:`perfgate.gate.compare`. Requests are never tested as
independent samples. Error rates are compared on their summed counts with
an exact two-proportion test.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from perfgate.figures import Figure, run_figures
from perfgate.gate.compare import (
    holm_min_pairs,
    min_effect_for,
    paired_comparison,
    proportion_comparison,
)
from perfgate.metrics import FailurePolicy, MetricSet
from perfgate.result import RunResult, SuiteResult
from perfgate.verdict import MetricComparison

__all__ = [
    "MAX_ENDPOINTS",
    "MAX_PRIMARY",
    "PairFigures",
    "RoundFigures",
    "ab_comparisons",
    "bench_comparisons",
    "primary_metrics",
    "round_figures",
]

#: At most this many metrics gate; the rest is information. With 12 in the
#: family, Holm still lets 8 pairs that all agree fail the gate (12/2^8 < 0.05).
MAX_PRIMARY = 12
#: Busiest endpoints whose median (and CPU per request, when measured) join
#: the primary family, as far as MAX_PRIMARY allows (4 with CPU, 5 without).
MAX_ENDPOINTS = 5
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


def _endpoint_metrics(pairs: Sequence[PairFigures], min_pairs: int, limit: int) -> list[str]:
    """The busiest endpoints' median and CPU per request: at most ``limit`` metrics.

    "Busiest" is the CPU the target spent on the endpoint (requests × CPU per
    request: a sign-in that costs twenty health checks weighs twenty),
    then the request count, then the name. Each endpoint brings its
    ``total.p50`` (when its median is at least MIN_GATED_MEDIAN_MS) and, when
    measured, its ``cpu_ms_per_request``; a metric joins only when enough
    pairs have it in both rounds.
    """
    requests: dict[str, float] = {}
    cpu_ms: dict[str, list[float]] = {}
    latency: dict[tuple[str, str], list[float]] = {}
    usable: dict[str, int] = {}
    for p in pairs:
        for metric, f in p.candidate.figures.items():
            if not metric.startswith("endpoint:"):
                continue
            endpoint, _, stat = metric.rpartition(" ")
            if stat == "total.p50":
                requests[endpoint] = requests.get(endpoint, 0.0) + f.samples
                for arm, value in (("base", p.base.value(metric)), ("candidate", f.value)):
                    if value is not None and f.sufficient:
                        latency.setdefault((endpoint, arm), []).append(value)
            elif stat == "cpu_ms_per_request":
                cpu_ms.setdefault(endpoint, []).append(f.value)
            else:
                continue
            if p.base.value(metric) is not None and p.candidate.value(metric) is not None:
                # sufficient in both rounds of the pair
                usable[metric] = usable.get(metric, 0) + 1

    def load(endpoint: str) -> tuple[float, float, str]:
        cpu = cpu_ms.get(endpoint)
        n = requests[endpoint]
        return (-(n * float(np.median(cpu))) if cpu else 0.0, -n, endpoint)

    def gated(endpoint: str, stat: str) -> bool:
        if usable.get(f"{endpoint} {stat}", 0) < min_pairs:
            return False
        # A sub-millisecond route's median moves several percent between two
        # processes of the same build: information, unless an arm made it slow.
        if stat != "total.p50":
            return True
        medians = [
            float(np.median(latency.get((endpoint, a)) or [0.0])) for a in ("base", "candidate")
        ]
        return max(medians) >= MIN_GATED_MEDIAN_MS

    out: list[str] = []
    for endpoint in sorted(requests, key=load)[:MAX_ENDPOINTS]:
        chosen = [
            f"{endpoint} {stat}"
            for stat in ("total.p50", "cpu_ms_per_request")
            if gated(endpoint, stat)
        ]
        if len(out) + len(chosen) > limit:
            break
        out += chosen
    return out


def primary_metrics(
    suite: str, pairs: Sequence[PairFigures], declared: Sequence[str], min_pairs: int
) -> list[str]:
    """The suite's gating metrics: declared ones, else the defaults plus busy endpoints."""
    seen: set[str] = set()
    for p in pairs:
        seen.update(p.candidate.figures)
    if declared:
        return [m for m in sorted(seen) if m in declared or f"{suite}:{m}" in declared]
    chosen = [m for m in _SUITE_PRIMARY if m in seen]
    chosen += _endpoint_metrics(pairs, min_pairs, MAX_PRIMARY - len(chosen))
    return chosen


def _error_comparison(
    suite: str, metric: str, kept: Sequence[PairFigures], margin: float, family: str
) -> MetricComparison:
    fa = na = fb = nb = 0
    for p in kept:
        a, b = p.base.counts(metric), p.candidate.counts(metric)
        if a is not None:
            fa, na = fa + a[0], na + a[1]
        if b is not None:
            fb, nb = fb + b[0], nb + b[1]
    return proportion_comparison(suite, metric, fa, na, fb, nb, margin=margin, family=family)


def ab_comparisons(
    suite: str,
    pairs: Sequence[PairFigures],
    *,
    min_effect: dict[str, float],
    declared_primary: Sequence[str] = (),
    primary_budget: int = MAX_PRIMARY,
    min_pairs: int = 6,
    alpha: float = 0.05,
) -> list[MetricComparison]:
    """Every metric of one suite, base against candidate, over the kept pairs."""
    kept = [p for p in pairs if p.dropped is None]
    # The family is fixed by what was measured, not by what survived: a gate
    # whose pairs were all dropped must say "insufficient", not pass silently.
    # An endpoint joins it only with enough pairs to ever clear Holm: one that
    # cannot would be dead weight that makes every other test stricter.
    joins = max(min_pairs, holm_min_pairs(primary_budget, alpha))
    primary = primary_metrics(suite, pairs, declared_primary, joins)[: max(0, primary_budget)]
    base_seen: set[str] = set()
    cand_seen: set[str] = set()
    for p in pairs:
        base_seen.update(p.base.figures)
        cand_seen.update(p.candidate.figures)
    ordered = [m for m in primary] + sorted(cand_seen - set(primary))
    out: list[MetricComparison] = []
    for metric in ordered:
        family = "primary" if metric in primary else "info"
        unit = next(
            (p.candidate.figures[metric].unit for p in pairs if metric in p.candidate.figures), ""
        )
        if metric not in base_seen:
            out.append(
                MetricComparison(
                    suite=suite,
                    metric=metric,
                    unit=unit,
                    family="primary" if family == "primary" else "info",
                    state="new",
                    method="ab",
                    detail="not served by the base (a new route)",
                )
            )
            continue
        effect = min_effect_for(metric, min_effect)
        if unit == "ratio":
            out.append(_error_comparison(suite, metric, kept, effect, family))
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


def bench_comparisons(base: SuiteResult, candidate: SuiteResult) -> list[MetricComparison]:
    """Bench operation medians side by side: information (one run per arm, no replication)."""
    base_figs = {
        f.metric: f for f in run_figures(RunResult(suites=[base])) if f.metric.startswith("op:")
    }
    out = []
    for f in run_figures(RunResult(suites=[candidate])):
        if not f.metric.startswith("op:") or not f.metric.endswith(" median"):
            continue
        b = base_figs.get(f.metric)
        out.append(
            MetricComparison(
                suite=candidate.name,
                metric=f.metric,
                unit=f.unit,
                family="info",
                base=b.value if b else None,
                candidate=f.value,
                change=(f.value / b.value - 1.0) if b and b.value > 0 else None,
                samples=f.samples,
                state="info" if b else "new",
                method="ab",
                detail="one bench run per arm: shown, not tested",
            )
        )
    return out
