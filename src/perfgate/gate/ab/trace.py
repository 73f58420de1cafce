"""What the A/B report draws, kept as plain JSON in the suite's details.

The rounds themselves are merged away once compared; the report still wants
to show them over time (latency percentiles, throughput, errors, scheduler
lag per arm, each round where it ran), the two arms' latency distributions
and the target's RSS/CPU per arm. :class:`AbTrace` collects that as the
rounds run; every time is seconds since the A/B's clock origin (the first
arm session's start), the clock the monitors' rows are shifted onto.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfgate.metrics import MetricSet, names

if TYPE_CHECKING:
    from perfgate.engine import RoundRecord
    from perfgate.gate.session import ArmSession

__all__ = ["ECDF_QUANTILES", "AbTrace", "arm_process_rows", "clock_origin", "latency_quantiles"]

#: The probabilities a latency distribution is kept at (its ECDF, drawn as steps).
ECDF_QUANTILES = (
    0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65,
    0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.99, 0.995, 0.999,
)  # fmt: skip
#: Endpoints whose distribution is kept (busiest first): the report draws the moved ones.
MAX_ECDF_ENDPOINTS = 20
#: Target process samples kept per arm (evenly thinned beyond this).
MAX_PROCESS_ROWS = 600


def clock_origin(sessions: dict[str, ArmSession]) -> float:
    """The A/B's time zero (monotonic): the earliest arm session's start."""
    return min(s.t0 for s in sessions.values())


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def latency_quantiles(metrics: MetricSet) -> dict[str, Any] | None:
    """The distribution of request latency (``perfgate.total``), overall and per endpoint."""
    total = metrics.histograms.get(names.TOTAL)
    if total is None or total.count == 0:
        return None
    views = sorted(
        (v for v in metrics.endpoints() if v.total is not None and v.total.count),
        key=lambda v: -(v.total.count if v.total else 0),
    )
    return {
        "n": total.count,
        "values": [_r(x, 4) for x in total.quantiles(ECDF_QUANTILES)],
        "endpoints": {
            v.name: {
                "n": v.total.count,
                "values": [_r(x, 4) for x in v.total.quantiles(ECDF_QUANTILES)],
            }
            for v in views[:MAX_ECDF_ENDPOINTS]
            if v.total is not None
        },
    }


@dataclass
class AbTrace:
    """One suite's rounds as they ran: a row per arm and slice, in time order."""

    origin: float  # monotonic seconds of the A/B's time zero
    rounds: list[dict[str, Any]] = field(default_factory=list)
    everything: dict[str, MetricSet] = field(default_factory=dict)  # every round, per arm
    warmup: list[float] = field(default_factory=list)  # [start, end], seconds

    def add(self, pair: int, slice_index: int, started: float, rec: RoundRecord) -> None:
        m = rec.metrics
        total = m.histograms.get(names.TOTAL)
        p50 = p95 = p99 = None
        if total is not None and total.count:
            p50, p95, p99 = total.quantiles((0.5, 0.95, 0.99))
        self.rounds.append(
            {
                "arm": rec.arm,
                "pair": pair,
                "slice": slice_index,
                "t": round(started - self.origin, 3),
                "elapsed_s": round(rec.elapsed_s, 3),
                "measured_s": round(rec.measured_s, 3),
                "requests": rec.requests_measured,
                "errors": m.error_count() + m.status_count(5),
                "p50": _r(p50),
                "p95": _r(p95),
                "p99": _r(p99),
                "lag_p99_ms": round(rec.lag_p99_ms, 3),
            }
        )
        self.everything.setdefault(rec.arm, MetricSet()).merge(m)

    def to_dict(self, kept: dict[str, MetricSet]) -> dict[str, Any]:
        """The JSON kept in the suite's details; ``kept``: each arm's compared rounds."""
        dist: dict[str, Any] = {"q": list(ECDF_QUANTILES), "rounds": "kept"}
        source = kept
        if not any(latency_quantiles(m) for m in kept.values()):
            dist["rounds"] = "all (no pair was kept)"
            source = self.everything
        for arm, m in source.items():
            dist[arm] = latency_quantiles(m)
        return {
            "rounds": self.rounds,
            "warmup_s": [round(t - self.origin, 3) for t in self.warmup],
            "latency": dist,
        }


def arm_process_rows(session: ArmSession, monitor: dict[str, Any], origin: float) -> list[Any]:
    """The arm's target RSS (MB) and CPU (%) as ``[t, rss_mb, cpu_pct]`` on the A/B clock."""
    rows = monitor.get("process") if isinstance(monitor, dict) else None
    if not isinstance(rows, list):
        return []
    shift = session.t0 - origin
    out: list[Any] = []
    step = max(1, -(-len(rows) // MAX_PROCESS_ROWS))
    for row in rows[::step]:
        if not isinstance(row, dict) or not isinstance(row.get("t"), int | float):
            continue
        rss = row.get("rss_bytes")
        cpu = row.get("cpu_pct")
        out.append(
            [
                round(float(row["t"]) + shift, 3),
                None if not isinstance(rss, int | float) else round(rss / 1e6, 2),
                None if not isinstance(cpu, int | float) else round(float(cpu), 1),
            ]
        )
    return out
