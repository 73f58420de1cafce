"""One stress analysis: the run's seconds, its monitor record -> every figure the checks need.

Pure: everything arrives as arguments (the suite, the monitor dict, the
phases, the clock shift between monitor and run), so a stored run can be
analysed again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfgate.metrics import FailurePolicy, Histogram, MetricSet, failures, names
from perfgate.result import SuiteResult
from perfgate.stress._breaking import (
    BreakingPoint,
    Slo,
    find_breaking_point,
    rolling_windows,
    window_verdict,
)
from perfgate.stress._connections import (
    DatabaseHealth,
    cleanup_verdict,
    connection_errors,
    database_health,
)
from perfgate.stress._crash import Crash, crash_of
from perfgate.stress._leak import (
    LeakResult,
    LeakThresholds,
    leak_verdict,
    memory_points,
    steady_windows,
)
from perfgate.stress._recovery import Recovery, RecoveryTolerance, recovery
from perfgate.stress._series import GeneratorLimits, Second, generator_limits, seconds_of
from perfgate.target import CleanupVerdict

__all__ = ["StressConfig", "StressReport", "analyse", "phase_rows"]


@dataclass(frozen=True)
class StressConfig:
    """Thresholds: the seed's figures by default."""

    slo: Slo = field(default_factory=Slo)
    load_rate: float = 100.0  # "handles 100 req/s sustained load"; also what "under load" means
    completion: float = 0.99  # share of offered arrivals completed without error at that rate
    breaking_above: float = 500.0  # "Breaking point identified (> 500 req/s)"
    answered_share: float = 0.95  # graceful degradation: answered (any status) after the break
    recovery: RecoveryTolerance = field(default_factory=RecoveryTolerance)
    leak: LeakThresholds = field(default_factory=LeakThresholds)
    # which answers fail beyond "5xx or no response" (None: what the suite records)
    failures: FailurePolicy | None = None


@dataclass
class StressReport:
    seconds: list[Second]
    breaking: BreakingPoint
    recovery: Recovery
    leak: LeakResult
    crash: Crash | None
    cleanup: CleanupVerdict | None
    database: DatabaseHealth | None
    connection_errors: dict[str, int]
    generator_localised: bool  # False: a generator-limited run we cannot pin to seconds
    load_end_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "breaking_point": self.breaking.to_dict(),
            "recovery": self.recovery.to_dict(),
            "leak": self.leak.to_dict(),
            "crash": self.crash.to_dict() if self.crash else None,
            "cleanup": None if self.cleanup is None else self.cleanup.__dict__,
            "database": self.database.to_dict() if self.database else None,
            "connection_errors": self.connection_errors,
            "generator_localised": self.generator_localised,
        }


def phase_rows(phases: Sequence[Any]) -> list[dict[str, Any]]:
    """{index, name, start_s, duration_s, rate, steady} of config Phases (on the schedule's clock)."""
    from perfgate.engine import scheduler

    rows = []
    for p, off in zip(phases, scheduler.phase_offsets(phases), strict=True):
        rate = p.arrival_rate
        steady = rate is not None and p.pause_s is None and (p.ramp_to is None or p.ramp_to == rate)
        rows.append(
            {
                "index": p.index,
                "name": p.name,
                "start_s": off,
                "duration_s": scheduler.phase_length(p),
                "rate": rate,
                "ramp_to": p.ramp_to,
                "steady": steady,
            }
        )
    return rows


def analyse(
    suite: SuiteResult,
    *,
    monitor: Mapping[str, Any] | None = None,
    phases: Sequence[Mapping[str, Any]] | None = None,
    offered: Mapping[int, float] | None = None,
    histograms: Mapping[int, Histogram] | None = None,
    generator_cpu: Sequence[Mapping[str, float]] = (),
    shift_s: float = 0.0,
    config: StressConfig | None = None,
) -> StressReport:
    """Every stress figure of one run. ``shift_s``: the run's start on the monitor's clock."""
    cfg = config or StressConfig()
    mon: Mapping[str, Any] = monitor or {}
    phase_list = list(phases if phases is not None else suite.extra.get("phases", []))
    limits = generator_limits(suite, generator_cpu=generator_cpu)
    localised = limits is not None
    if limits is None:  # flagged as a whole, not per window: every second is suspect
        limits = GeneratorLimits({}, {int(r["t"]) for r in suite.series} | set(offered or {}))
    limited = limits.seconds
    policy = cfg.failures or failures.policy_of(suite)
    seconds = seconds_of(
        suite, offered=offered, histograms=histograms, limits=limits, policy=policy
    )
    breaking = find_breaking_point(
        seconds,
        cfg.slo,
        suite=suite,
        offered=dict(offered) if offered is not None else None,
        limited=limited,
    )
    loaded = [s.t for s in seconds if s.offered > 0]
    load_end = float(loaded[-1] + 1) if loaded else float(len(suite.series))
    first = phase_list[0] if phase_list else {"start_s": 0, "duration_s": max(1.0, load_end / 6)}
    warm = (int(first["start_s"]), int(first["start_s"] + first["duration_s"]))
    rec = recovery(seconds, warmup=warm, tolerance=cfg.recovery)
    points, source = memory_points(mon, shift_s=shift_s)
    windows = steady_windows(phase_list, skip_fraction=cfg.leak.skip_fraction, run_end_s=load_end)
    cumulative: dict[int, int] = {}
    total = 0
    for s in seconds:
        total += s.requests
        cumulative[s.t] = total
    leak = leak_verdict(
        points,
        windows=windows,
        cumulative_requests=_dense(cumulative),
        thresholds=cfg.leak,
        source=source,
        overloaded=_overloaded_seconds(seconds, cfg.slo),
    )
    return StressReport(
        seconds=seconds,
        breaking=breaking,
        recovery=rec,
        leak=leak,
        crash=crash_of(mon, suite.series, shift_s=shift_s),
        cleanup=cleanup_verdict(mon, load_start_s=0.0, load_end_s=load_end, shift_s=shift_s),
        database=database_health(mon),
        connection_errors=connection_errors(suite.aggregate),
        generator_localised=localised,
        load_end_s=load_end,
    )


def _overloaded_seconds(seconds: Sequence[Second], slo: Slo) -> set[int]:
    """Seconds covered by a rolling window over the SLO (a backlog, not a leak)."""
    out: set[int] = set()
    for w in rolling_windows(seconds, slo):
        if window_verdict(w, slo) is not None:
            out.update(range(w.start, w.end))
    return out


def _dense(cumulative: dict[int, int]) -> dict[int, int]:
    if not cumulative:
        return {}
    out: dict[int, int] = {}
    last = 0
    for t in range(min(cumulative), max(cumulative) + 1):
        last = cumulative.get(t, last)
        out[t] = last
    return out


def status_5xx(aggregate: MetricSet, code: int | None = None) -> int:
    """Responses with a 5xx status (or exactly ``code``)."""
    if code is not None:
        return aggregate.counter(names.http_code(code))
    return aggregate.status_count(5)
