"""The breaking point: where the SLO breaks for good, not for one GC pause.

The SLO breaks at the first second ``s`` for which two consecutive windows,
[s, s+W) and [s+W, s+2W), are both over it — each with enough samples for
the percentile (≥ 200 for p95 by default). Windows roll by one second, and
their percentile comes from the merged per-second histograms. A pair in
which the generator was the limit (arrival lag, its own CPU) is never the
API's breaking point: it is reported as the generator's and the search goes
on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from perfgate.metrics import Histogram, failures, names
from perfgate.result import SuiteResult
from perfgate.stress._series import Second, WindowStat, window

__all__ = [
    "BreakingPoint",
    "Slo",
    "aligned_windows",
    "breaking_point",
    "find_breaking_point",
    "rolling_windows",
    "window_verdict",
]

#: Arrivals this late no longer arrive at the offered rate: such a window's rate is not "sustained".
_SEVERE_LAG_MS = 1000.0

BreakStatus = Literal["broken", "held", "generator_limited", "insufficient"]


@dataclass(frozen=True)
class Slo:
    """When a window is over: percentile at or above ``p95_ms``, or errors at or above ``error_rate``."""

    p95_ms: float = 200.0
    error_rate: float = 0.01
    quantile: float = 0.95
    window_s: int = 10
    min_samples: int = 200  # per window, for the percentile to mean something
    backlog_ratio: float = 0.5  # answered (or failed) below this share of sent: falling behind

    def describe(self) -> str:
        q = f"p{round(self.quantile * 100):d}"
        return f"{q} ≥ {self.p95_ms:g} ms or error rate ≥ {self.error_rate:.0%}"


@dataclass(frozen=True)
class BreakingPoint:
    status: BreakStatus
    method: Literal["rolling", "aligned"]
    at_s: int | None = None  # start of the first of the two windows over the SLO
    rate_at_break: float | None = None  # offered arrivals/s in that window
    max_sustained_rate: float | None = (
        None  # highest offered rate of a window within the SLO before
    )
    reason: str = ""
    generator_limited_at_s: int | None = None
    generator_limited_rate: float | None = None
    windows: int = 0  # windows with enough samples

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def window_verdict(w: WindowStat, slo: Slo) -> str | None:
    """Why ``w`` is over the SLO (None: within it, or too few samples to say)."""
    attempts = w.attempts
    if w.samples >= slo.min_samples and w.percentile_ms >= slo.p95_ms:
        q = f"p{round(slo.quantile * 100):d}"
        return f"{q} {w.percentile_ms:.0f} ms ≥ {slo.p95_ms:g} ms"
    if attempts >= slo.min_samples and w.error_rate >= slo.error_rate:
        return (
            f"error rate {w.error_rate:.1%} ≥ {slo.error_rate:.0%} "
            f"({w.failed} of {attempts} failed: {_how(w)})"
        )
    if w.requests >= slo.min_samples and attempts < slo.backlog_ratio * w.requests:
        return f"only {attempts} of {w.requests} requests answered (backlog)"
    return None


def _how(w: WindowStat) -> str:
    """How a window's requests failed (see ``metrics.failures``)."""
    answered = w.failed - w.no_response
    parts = [f"{answered} answered with a failing status"] if answered else []
    if w.no_response:
        parts.append(f"{w.no_response} no response")
    return ", ".join(parts) or "none"


def _enough(w: WindowStat, slo: Slo) -> bool:
    return w.attempts >= slo.min_samples


def rolling_windows(seconds: Sequence[Second], slo: Slo) -> list[WindowStat]:
    """Windows of ``slo.window_s`` starting at every second of the run."""
    if not seconds:
        return []
    first, last = seconds[0].t, seconds[-1].t
    span = slo.window_s
    return [window(seconds, s, s + span, slo.quantile) for s in range(first, last - span + 2)]


def aligned_windows(
    suite: SuiteResult,
    offered: dict[int, float] | None = None,
    limited: set[int] | None = None,
    quantile: float = 0.95,
) -> list[WindowStat]:
    """The engine's 10-s intermediate windows (fallback without per-second histograms)."""
    policy = failures.policy_of(suite)
    sets = [w for w in suite.intermediate if w.period_ms is not None]
    if not sets:
        return []
    start = suite.extra.get("start_epoch_ms")
    base = float(start) if isinstance(start, int | float) else min(w.period_ms or 0 for w in sets)
    out = []
    for w in sorted(sets, key=lambda m: m.period_ms or 0):
        s = round(((w.period_ms or 0) - base) / 1000.0)
        counted = failures.count(w, policy)
        h = (
            w.histograms.get(names.TOTAL)
            or w.histograms.get(names.HTTP_RESPONSE_TIME)
            or Histogram()
        )
        rate = (
            sum((offered or {}).get(t, 0) for t in range(s, s + 10)) / 10.0
            if offered
            else (w.counter(names.HTTP_REQUESTS) / 10.0)
        )
        out.append(
            WindowStat(
                start=s,
                end=s + 10,
                samples=h.count,
                requests=w.counter(names.HTTP_REQUESTS),
                no_response=counted.no_response,
                failed=counted.failed,
                percentile_ms=h.quantile(quantile) if h.count else math.nan,
                offered_rate=rate,
                generator_limited=bool(limited and any(t in limited for t in range(s, s + 10))),
            )
        )
    return out


def breaking_point(
    windows: Sequence[WindowStat], slo: Slo, method: Literal["rolling", "aligned"] = "rolling"
) -> BreakingPoint:
    """The first pair of back-to-back windows over the SLO (see the module docstring)."""
    by_start = {w.start: w for w in windows}
    enough = [w for w in windows if _enough(w, slo)]
    if not enough:
        return BreakingPoint(
            "insufficient", method, reason=f"no window had {slo.min_samples} samples"
        )
    gen_at: WindowStat | None = None
    for w in windows:
        why = window_verdict(w, slo)
        if why is None:
            continue
        nxt = by_start.get(w.end)
        if nxt is None or window_verdict(nxt, slo) is None:
            continue
        if w.generator_caused(slo.p95_ms) or nxt.generator_caused(slo.p95_ms):
            gen_at = gen_at or w
            continue
        return BreakingPoint(
            "broken",
            method,
            at_s=w.start,
            rate_at_break=round(w.offered_rate, 2),
            max_sustained_rate=_max_sustained(windows, slo, before=w.start),
            reason=why,
            generator_limited_at_s=gen_at.start if gen_at else None,
            generator_limited_rate=round(gen_at.offered_rate, 2) if gen_at else None,
            windows=len(enough),
        )
    if gen_at is not None:
        return BreakingPoint(
            "generator_limited",
            method,
            max_sustained_rate=_max_sustained(windows, slo, before=gen_at.start),
            reason="the SLO broke only while the generator was the limit (arrival lag or its CPU)",
            generator_limited_at_s=gen_at.start,
            generator_limited_rate=round(gen_at.offered_rate, 2),
            windows=len(enough),
        )
    return BreakingPoint(
        "held",
        method,
        max_sustained_rate=_max_sustained(windows, slo, before=None),
        reason=f"never two windows in a row over {slo.describe()}",
        windows=len(enough),
    )


def _max_sustained(windows: Sequence[WindowStat], slo: Slo, before: int | None) -> float | None:
    rates = [
        w.offered_rate
        for w in windows
        if (before is None or w.end <= before)
        and _enough(w, slo)
        and not (w.cpu_limited or w.lag_p99_ms > _SEVERE_LAG_MS)
        and window_verdict(w, slo) is None
    ]
    return round(max(rates), 2) if rates else None


def find_breaking_point(
    seconds: Sequence[Second],
    slo: Slo,
    *,
    suite: SuiteResult | None = None,
    offered: dict[int, float] | None = None,
    limited: set[int] | None = None,
) -> BreakingPoint:
    """Rolling windows over per-second histograms; the intermediate windows when there are none."""
    if any(s.hist is not None for s in seconds):
        return breaking_point(rolling_windows(seconds, slo), slo, "rolling")
    if suite is not None:
        return breaking_point(
            aligned_windows(suite, offered, limited, slo.quantile), slo, "aligned"
        )
    return BreakingPoint("insufficient", "rolling", reason="no latency histograms in the run")
