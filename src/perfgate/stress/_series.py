"""The run as seconds and windows: what every stress verdict reads.

A :class:`Second` joins the engine's per-second row, that second's latency
histogram (so window percentiles come from merged histograms, never from
averaged per-second percentiles), the arrivals the schedule offered in it and
whether the generator was the limit in it: its CPU saturated, or arrivals
ran late (lag p99 over 50 ms). A late generator delivers *less* than offered,
and its busy event loop can add to measured latency; so a window counts as
generator-caused when the CPU was saturated or the lag is of the same order as
the latency measured — an API 4× slower than the generator's lateness and
over the SLO is slow on its own. :func:`window` merges a span of
seconds into one :class:`WindowStat`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfgate.metrics import Histogram, failures, names
from perfgate.result import SuiteResult

__all__ = [
    "GENERATOR_CPU_LIMIT_PCT",
    "LAG_LIMIT_MS",
    "GeneratorLimits",
    "Second",
    "WindowStat",
    "decode_second_histograms",
    "generator_limited_seconds",
    "generator_limits",
    "offered_per_second",
    "second_of_bucket",
    "seconds_of",
    "window",
]

#: A window whose arrival lag p99 exceeds this was generator-limited (the engine's bound).
LAG_LIMIT_MS = 50.0
#: Generator CPU (percent of one core) at or above this: generator-limited.
GENERATOR_CPU_LIMIT_PCT = 95.0


@dataclass
class Second:
    """One second of the run (``t`` seconds after the engine's start)."""

    t: int
    offered: float  # arrivals the schedule asked for in this second
    requests: int = 0
    responses: int = 0
    no_response: int = 0  # requests that got no response (timeouts, resets, refused)
    hist: Histogram | None = None  # total time of this second's responses (ms)
    generator_limited: bool = False  # arrival lag over its bound, or the generator's CPU saturated
    lag_p99_ms: float = 0.0  # arrival lag p99 of the 10-s window holding this second
    cpu_limited: bool = False
    failed: int = -1  # failed requests (metrics.failures); -1: the no-response count alone

    def __post_init__(self) -> None:
        if self.failed < 0:
            self.failed = self.no_response


@dataclass(frozen=True)
class WindowStat:
    """A span of seconds merged: counts, the percentile and the offered rate."""

    start: int
    end: int  # exclusive
    samples: int  # responses with a latency
    requests: int
    no_response: int  # requests that got no answer
    failed: int  # no response, 5xx and declared 4xx (metrics.failures)
    percentile_ms: float  # NaN when there is no sample
    offered_rate: float  # mean arrivals per second offered
    generator_limited: bool
    lag_p99_ms: float = 0.0
    cpu_limited: bool = False

    def generator_caused(self, threshold_ms: float) -> bool:
        """Could the generator explain this window being over? (see module docstring)"""
        if self.cpu_limited:
            return True
        if not self.generator_limited:
            return False
        # Latency is timed from the actual send: an API slower than the SLO and
        # many times slower than the generator's lateness is slow on its own.
        return not (
            self.percentile_ms >= threshold_ms and self.percentile_ms >= 4.0 * self.lag_p99_ms
        )

    @property
    def attempts(self) -> int:
        """Requests that ended (answered or not) in the window."""
        return self.samples + self.no_response

    @property
    def error_rate(self) -> float:
        """Failed requests over the requests that ended (see ``metrics.failures``)."""
        return self.failed / self.attempts if self.attempts else 0.0


def offered_per_second(phases: Sequence[object], seed: int = 0) -> dict[int, int]:
    """Arrivals the phases schedule in each whole second (pure; the scheduler's own timeline)."""
    from perfgate.engine import scheduler  # the engine's schedule, not a copy of it

    out: dict[int, int] = {}
    for arrival in scheduler.arrivals(phases, seed=seed):  # type: ignore[arg-type]
        t = int(arrival.at_s)
        out[t] = out.get(t, 0) + 1
    return out


def decode_second_histograms(encoded: Mapping[str, str]) -> dict[int, Histogram]:
    """``{"12": Histogram.encode(), ...}`` (as stored in suite.extra) -> by second."""
    return {int(t): Histogram.decode(text) for t, text in encoded.items()}


@dataclass
class GeneratorLimits:
    """Where the generator was the limit: lag per second (from its 10-s window), CPU-bound seconds."""

    lag_p99_ms: dict[int, float]
    cpu_limited: set[int]
    lag_limit_ms: float = LAG_LIMIT_MS

    @property
    def seconds(self) -> set[int]:
        return {t for t, v in self.lag_p99_ms.items() if v > self.lag_limit_ms} | self.cpu_limited


def generator_limits(
    suite: SuiteResult,
    *,
    generator_cpu: Iterable[Mapping[str, float]] = (),
    lag_limit_ms: float = LAG_LIMIT_MS,
    cpu_limit_pct: float = GENERATOR_CPU_LIMIT_PCT,
) -> GeneratorLimits | None:
    """Per 10-s window from the arrival-lag histograms of the intermediate
    metric sets, per second from the generator's own CPU samples. None when
    a run flagged generator-limited has no per-window lag to localise it.
    """
    lag: dict[int, float] = {}
    located = False
    base = _first_period(suite)
    for w in suite.intermediate:
        h = w.histograms.get(names.ARRIVAL_LAG)
        if h is None or w.period_ms is None or base is None:
            continue
        located = True
        if h.count:
            start = round((w.period_ms - base) / 1000.0)
            p99 = h.quantile(0.99)
            lag.update({t: p99 for t in range(start, start + 10)})
    cpu = {int(r["t"]) for r in generator_cpu if float(r.get("cpu_pct", 0.0)) >= cpu_limit_pct}
    if not located and suite.scheduler is not None and suite.scheduler.generator_limited:
        return None
    return GeneratorLimits(lag, cpu, lag_limit_ms)


def generator_limited_seconds(
    suite: SuiteResult, *, generator_cpu: Iterable[Mapping[str, float]] = ()
) -> set[int] | None:
    """Seconds in which the generator was the limit (None: flagged but not localisable)."""
    limits = generator_limits(suite, generator_cpu=generator_cpu)
    return None if limits is None else limits.seconds


def _first_period(suite: SuiteResult) -> float | None:
    periods = [w.period_ms for w in suite.intermediate if w.period_ms is not None]
    start = suite.extra.get("start_epoch_ms")
    if isinstance(start, int | float):
        return float(start)
    return min(periods) if periods else None


def seconds_of(
    suite: SuiteResult,
    *,
    offered: Mapping[int, float] | None = None,
    histograms: Mapping[int, Histogram] | None = None,
    limited: set[int] | None = None,
    limits: GeneratorLimits | None = None,
    policy: failures.FailurePolicy | None = None,
) -> list[Second]:
    """Every second of the run, from its series (and the schedule when given).

    ``histograms`` defaults to ``suite.extra["second_histograms"]``; seconds
    the schedule offered arrivals in but no row covers (nothing answered)
    appear with zero counts. Failures are counted under ``policy`` (default:
    the one the suite records).
    """
    policy = policy or failures.policy_of(suite)
    if histograms is None:
        encoded = suite.extra.get("second_histograms")
        histograms = decode_second_histograms(encoded) if isinstance(encoded, dict) else {}
    rows = {int(r["t"]): r for r in suite.series}
    times = set(rows) | set(offered or {})
    out: list[Second] = []
    for t in sorted(times):
        row = rows.get(t, {})
        counted = failures.count_second(row, policy)
        out.append(
            Second(
                t=t,
                offered=float(offered.get(t, 0))
                if offered is not None
                else float(row.get("requests", 0)),
                requests=int(row.get("requests", 0)),
                responses=int(row.get("responses", 0)),
                no_response=counted.no_response,
                failed=counted.failed,
                hist=histograms.get(t),
                generator_limited=bool(limited and t in limited)
                or bool(limits and t in limits.seconds),
                lag_p99_ms=limits.lag_p99_ms.get(t, 0.0) if limits else 0.0,
                cpu_limited=bool(limits and t in limits.cpu_limited),
            )
        )
    return out


def window(seconds: Sequence[Second], start: int, end: int, quantile: float = 0.95) -> WindowStat:
    """Merge the seconds in [start, end): the percentile from the merged histogram."""
    merged = Histogram()
    requests = no_response = failed = samples = 0
    offered = 0.0
    limited = cpu = False
    lag = 0.0
    for s in seconds:
        if start <= s.t < end:
            requests += s.requests
            no_response += s.no_response
            failed += s.failed
            offered += s.offered
            limited = limited or s.generator_limited
            cpu = cpu or s.cpu_limited
            lag = max(lag, s.lag_p99_ms)
            if s.hist is not None:
                merged.merge(s.hist)
    samples = merged.count
    return WindowStat(
        start=start,
        end=end,
        samples=samples,
        requests=requests,
        no_response=no_response,
        failed=failed,
        percentile_ms=merged.quantile(quantile) if samples else math.nan,
        offered_rate=offered / max(1, end - start),
        generator_limited=limited,
        lag_p99_ms=lag,
        cpu_limited=cpu,
    )


def second_of_bucket(
    t: int, offered: float, bucket: Any, policy: failures.FailurePolicy = failures.DEFAULT_POLICY
) -> Second:
    """A :class:`Second` from the engine's live per-second bucket (``engine.recorder.SecondBucket``)."""
    declared = sum(n for c, n in bucket.codes_4xx.items() if policy.fails(c))
    return Second(
        t,
        offered,
        requests=bucket.requests,
        responses=bucket.responses,
        no_response=bucket.no_response,
        hist=bucket.total,
        failed=bucket.no_response + bucket.status_5xx + declared,
    )
