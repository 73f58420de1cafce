"""The A/B pictures' data, read from the verdict's details (pure).

The gate keeps, per load suite, the rounds as they ran (``trace``), the
per-pair figures of each primary metric (``primary_pairs``) and both arms'
latency distributions; per run, each arm's target RSS/CPU (``process``).
Everything here tolerates their absence: an older record, a history-mode
run or a hand-written fixture simply has fewer pictures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ARM_LABELS",
    "AbSuiteData",
    "ArmSeries",
    "Distribution",
    "PairRatios",
    "RoundSpan",
    "ab_suite_data",
    "arm_process",
]

ARM_LABELS = ("base", "candidate")


@dataclass
class RoundSpan:
    arm: str
    t0: float
    t1: float
    dropped: bool


@dataclass
class ArmSeries:
    """One arm's rounds over time: x is the middle of each slice (s)."""

    t: list[float] = field(default_factory=list)
    p50: list[float | None] = field(default_factory=list)
    p95: list[float | None] = field(default_factory=list)
    p99: list[float | None] = field(default_factory=list)
    rps: list[float | None] = field(default_factory=list)
    errors: list[float | None] = field(default_factory=list)  # failed requests per second
    lag_p99: list[float | None] = field(default_factory=list)


@dataclass
class Distribution:
    """A latency ECDF: ``values[i]`` is the ``q[i]`` quantile (ms), per arm."""

    title: str
    q: list[float]
    arms: dict[str, list[float]]
    counts: dict[str, int]


@dataclass
class PairRatios:
    """Candidate/base of one primary metric, one ratio per kept pair."""

    metric: str
    ratios: list[float]


@dataclass
class AbSuiteData:
    spans: list[RoundSpan] = field(default_factory=list)
    arms: dict[str, ArmSeries] = field(default_factory=dict)
    warmup: tuple[float, float] | None = None
    distributions: list[Distribution] = field(default_factory=list)  # overall, then endpoints
    pair_ratios: dict[str, PairRatios] = field(default_factory=dict)
    wall_s: float | None = None
    pairs: int = 0
    pairs_dropped: int = 0
    rate: float | None = None
    kept_rounds: str = "kept"


def _num(v: Any) -> float | None:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return float(v)
    return None


def _distribution(title: str, q: list[float], per_arm: dict[str, Any]) -> Distribution | None:
    arms: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for arm in ARM_LABELS:
        d = per_arm.get(arm)
        if not isinstance(d, dict):
            continue
        values = [_num(v) for v in d.get("values") or []]
        if len(values) != len(q) or any(v is None for v in values):
            continue
        arms[arm] = [v for v in values if v is not None]
        counts[arm] = int(d.get("n") or 0)
    return Distribution(title, q, arms, counts) if arms else None


def _distributions(latency: Any) -> tuple[list[Distribution], str]:
    if not isinstance(latency, dict):
        return [], "kept"
    q = [x for x in (_num(v) for v in latency.get("q") or []) if x is not None]
    if not q:
        return [], "kept"
    out: list[Distribution] = []
    overall = _distribution(
        "All endpoints", q, {a: latency.get(a) for a in ARM_LABELS if latency.get(a)}
    )
    if overall is not None:
        out.append(overall)
    names: list[str] = []
    for arm in ARM_LABELS:
        d = latency.get(arm)
        if isinstance(d, dict) and isinstance(d.get("endpoints"), dict):
            names += [n for n in d["endpoints"] if n not in names]
    for name in names:
        per_arm = {
            a: (latency.get(a) or {}).get("endpoints", {}).get(name)
            for a in ARM_LABELS
            if isinstance(latency.get(a), dict)
        }
        dist = _distribution(name, q, per_arm)
        if dist is not None:
            out.append(dist)
    return out, str(latency.get("rounds") or "kept")


def _series(rounds: list[Any], dropped: set[Any]) -> tuple[list[RoundSpan], dict[str, ArmSeries]]:
    spans: list[RoundSpan] = []
    arms: dict[str, ArmSeries] = {}
    for r in sorted(
        (r for r in rounds if isinstance(r, dict)), key=lambda r: _num(r.get("t")) or 0
    ):
        arm, t = r.get("arm"), _num(r.get("t"))
        if arm not in ARM_LABELS or t is None:
            continue
        elapsed = _num(r.get("elapsed_s")) or _num(r.get("measured_s")) or 0.0
        measured = _num(r.get("measured_s")) or elapsed
        spans.append(RoundSpan(str(arm), t, t + elapsed, r.get("pair") in dropped))
        s = arms.setdefault(str(arm), ArmSeries())
        s.t.append(round(t + elapsed / 2, 3))
        s.p50.append(_num(r.get("p50")))
        s.p95.append(_num(r.get("p95")))
        s.p99.append(_num(r.get("p99")))
        requests, errors = _num(r.get("requests")), _num(r.get("errors"))
        s.rps.append(requests / measured if requests is not None and measured > 0 else None)
        s.errors.append(errors / measured if errors is not None and measured > 0 else None)
        s.lag_p99.append(_num(r.get("lag_p99_ms")))
    return spans, {a: arms[a] for a in ARM_LABELS if a in arms}


def ab_suite_data(details: Any) -> AbSuiteData | None:
    """One load suite's A/B pictures from ``verdict.details["suites"][name]``."""
    if not isinstance(details, dict):
        return None
    out = AbSuiteData()
    rows = details.get("pairs")
    dropped = (
        {r.get("pair") for r in rows if isinstance(r, dict) and r.get("dropped")}
        if isinstance(rows, list)
        else set()
    )
    out.pairs = len(rows) if isinstance(rows, list) else 0
    out.pairs_dropped = len(dropped)
    out.rate = _num(details.get("rate"))
    out.wall_s = _num(details.get("wall_s"))
    trace = details.get("trace")
    if isinstance(trace, dict):
        out.spans, out.arms = _series(list(trace.get("rounds") or []), dropped)
        w = [x for x in (_num(v) for v in trace.get("warmup_s") or []) if x is not None]
        out.warmup = (w[0], w[1]) if len(w) == 2 else None
        out.distributions, out.kept_rounds = _distributions(trace.get("latency"))
    pp = details.get("primary_pairs")
    if isinstance(pp, dict):
        for metric, values in pp.items():
            ratios = []
            for pair in values if isinstance(values, list) else []:
                if isinstance(pair, list) and len(pair) == 2:
                    a, b = _num(pair[0]), _num(pair[1])
                    if a is not None and b is not None and a > 0 and b > 0:
                        ratios.append(b / a)
            out.pair_ratios[str(metric)] = PairRatios(str(metric), ratios)
    if not (out.spans or out.pair_ratios or out.distributions):
        return None
    return out


def arm_process(details: Any) -> dict[str, list[tuple[float, float | None, float | None]]]:
    """Each arm's target ``(t, RSS MB, CPU %)`` rows, from ``verdict.details["process"]``."""
    proc = details.get("process") if isinstance(details, dict) else None
    out: dict[str, list[tuple[float, float | None, float | None]]] = {}
    if not isinstance(proc, dict):
        return out
    for arm in ARM_LABELS:
        rows = proc.get(arm)
        if not isinstance(rows, list):
            continue
        got = []
        for row in rows:
            if isinstance(row, list) and len(row) == 3 and (t := _num(row[0])) is not None:
                got.append((t, _num(row[1]), _num(row[2])))
        if got:
            out[arm] = got
    return out
