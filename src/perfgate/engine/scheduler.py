"""Phases -> an absolute arrival timeline, split between workers; arrival lag.

Pure: no sockets, no clock of its own. Every arrival is an offset in seconds
from the run's start, computed from the phase definitions alone, so a slow
generator never shifts later arrivals (no drift): it only makes them late,
and that lag is measured (:class:`LagTracker`).

Artillery's shapes:

* ``arrivalRate: r`` for ``duration: d`` -> ``round(r * d)`` arrivals, one
  every ``1/r`` seconds.
* ``arrivalRate: a, rampTo: b`` -> the rate steps once a second from ``a``
  to ``b`` (second ``i`` runs ``a + (b - a) * i / (d - 1)`` arrivals, rounded
  half up); a one-second ramp runs ``(a + b) / 2`` (Artillery's createRamp).
* ``arrivalCount: n`` -> ``n`` arrivals spread evenly over ``d``.
* ``pause: d`` -> nothing for ``d`` seconds.
* poisson mode -> exponential gaps with the phase's mean rate (seeded RNG).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from perfgate.metrics import Histogram
from perfgate.result import SchedulerStats

__all__ = [
    "Arrival",
    "LagTracker",
    "PhaseLike",
    "WorkerSchedule",
    "arrivals",
    "phase_offsets",
    "planned_count",
    "split_for_workers",
    "total_duration",
]

#: An arrival later than this behind schedule counts as late.
LATE_THRESHOLD_MS = 10.0
#: p99 lag above this flags the run generator-limited.
LIMITED_P99_MS = 50.0
#: Generator CPU above this (percent of one core) flags it too.
LIMITED_CPU_PCT = 95.0


class PhaseLike(Protocol):
    """The fields of ``config.artillery.Phase`` the scheduler reads."""

    @property
    def index(self) -> int: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def arrival_rate(self) -> float | None: ...
    @property
    def ramp_to(self) -> float | None: ...
    @property
    def arrival_count(self) -> int | None: ...
    @property
    def pause_s(self) -> float | None: ...
    @property
    def poisson(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Arrival:
    """One scheduled arrival: seconds from the run's start, and its phase."""

    at_s: float
    phase: int
    seq: int  # index in the script's whole schedule


def phase_length(phase: PhaseLike) -> float:
    if phase.pause_s is not None and not phase.arrival_rate and not phase.arrival_count:
        return float(phase.pause_s)
    return float(phase.duration_s)


def total_duration(phases: Sequence[PhaseLike]) -> float:
    return sum(phase_length(p) for p in phases)


def phase_offsets(phases: Sequence[PhaseLike]) -> list[float]:
    """The start offset (s) of each phase."""
    out, t = [], 0.0
    for p in phases:
        out.append(t)
        t += phase_length(p)
    return out


def _phase_times(phase: PhaseLike, rng: random.Random) -> Iterator[float]:
    """Offsets (s) within one phase, ascending."""
    d = phase_length(phase)
    if phase.pause_s is not None and not phase.arrival_rate and not phase.arrival_count:
        return
    if d <= 0:
        return
    if phase.arrival_count is not None:
        n = int(phase.arrival_count)
        for k in range(n):
            yield k * d / n
        return
    a = float(phase.arrival_rate or 0.0)
    b = phase.ramp_to
    if phase.poisson:
        yield from _poisson(a, float(b) if b is not None else a, d, rng)
        return
    if b is None or float(b) == a:
        if a <= 0:
            return
        n = round(a * d)
        for k in range(n):
            yield k / a
        return
    # rampTo, as Artillery's createRamp: second i runs a + (b - a) * i / (d - 1)
    # arrivals rounded half up; a one-second ramp runs the mean rate (a + b) / 2.
    seconds = max(1, math.ceil(d))
    b = float(b)
    for i in range(seconds):
        rate = a + (b - a) * i / (seconds - 1) if seconds > 1 else (a + b) / 2
        span = min(1.0, d - i)
        n = math.floor(rate * span + 0.5)
        for k in range(n):
            yield i + k * span / n


def _poisson(a: float, b: float, d: float, rng: random.Random) -> Iterator[float]:
    """Exponential gaps; the rate follows the (possibly ramping) mean."""
    t = 0.0
    while True:
        rate = a + (b - a) * (t / d)
        if rate <= 0:
            if b <= 0:
                return
            t += 0.01  # step past a zero-rate start
            if t >= d:
                return
            continue
        t += rng.expovariate(rate)
        if t >= d:
            return
        yield t


def arrivals(phases: Sequence[PhaseLike], seed: int = 0) -> Iterator[Arrival]:
    """The script's whole schedule, in time order (lazy: memory stays flat)."""
    rng = random.Random(seed)
    seq = 0
    for start, phase in zip(phase_offsets(phases), phases, strict=True):
        for t in _phase_times(phase, rng):
            yield Arrival(start + t, phase.index, seq)
            seq += 1


def planned_count(phases: Sequence[PhaseLike], seed: int = 0) -> int:
    return sum(1 for _ in arrivals(phases, seed))


@dataclass(frozen=True)
class WorkerSchedule:
    """Worker ``index`` of ``count``: every ``count``-th arrival of the schedule.

    Taking arrivals by their global sequence number (not per-phase rates
    divided by ``count``) makes the union of all workers' schedules exactly
    the script's schedule, whatever the rates.
    """

    phases: tuple[PhaseLike, ...]
    index: int
    count: int
    seed: int = 0

    def __iter__(self) -> Iterator[Arrival]:
        for arrival in arrivals(self.phases, self.seed):
            if arrival.seq % self.count == self.index:
                yield arrival


def split_for_workers(phases: Sequence[PhaseLike], n: int, seed: int = 0) -> list[WorkerSchedule]:
    if n < 1:
        raise ValueError("need at least one worker")
    return [WorkerSchedule(tuple(phases), i, n, seed) for i in range(n)]


def split_cap(cap: int | None, index: int, count: int) -> int | None:
    """A worker's share of a ``maxVusers`` cap (shares add up to the cap)."""
    if cap is None:
        return None
    return cap // count + (1 if index < cap % count else 0)


class LagTracker:
    """Arrival lag: each arrival's actual start minus its scheduled time."""

    __slots__ = (
        "histogram",
        "late",
        "late_threshold_ms",
        "launched",
        "max_ms",
        "planned",
        "skipped",
    )

    def __init__(self, late_threshold_ms: float = LATE_THRESHOLD_MS) -> None:
        self.histogram = Histogram()
        self.late_threshold_ms = late_threshold_ms
        self.planned = 0
        self.launched = 0
        self.skipped = 0
        self.late = 0
        self.max_ms = 0.0

    def record(self, lag_ms: float) -> None:
        lag_ms = max(0.0, lag_ms)
        self.launched += 1
        self.histogram.record(lag_ms)
        if lag_ms > self.late_threshold_ms:
            self.late += 1
        if lag_ms > self.max_ms:
            self.max_ms = lag_ms

    def merge(self, other: LagTracker) -> None:
        """Add ``other``'s arrivals (the late threshold stays this tracker's)."""
        self.histogram.merge(other.histogram)
        self.planned += other.planned
        self.launched += other.launched
        self.skipped += other.skipped
        self.late += other.late
        self.max_ms = max(self.max_ms, other.max_ms)


def scheduler_stats(
    histogram: Histogram,
    *,
    planned: int,
    launched: int,
    skipped: int,
    late: int,
    cpu_pct: float | None = None,
    late_threshold_ms: float = LATE_THRESHOLD_MS,
) -> SchedulerStats:
    """Summarise (possibly merged) lag figures; flag a generator-limited run."""
    p99 = histogram.quantile(0.99) if histogram.count else 0.0
    mx = histogram.max if histogram.count else 0.0
    limited = p99 > LIMITED_P99_MS or (cpu_pct is not None and cpu_pct >= LIMITED_CPU_PCT)
    return SchedulerStats(
        planned=planned,
        launched=launched,
        skipped=skipped,
        late=late,
        late_threshold_ms=late_threshold_ms,
        lag_p99_ms=round(p99, 3),
        lag_max_ms=round(mx, 3),
        generator_cpu_pct=None if cpu_pct is None else round(cpu_pct, 1),
        generator_limited=limited,
    )
