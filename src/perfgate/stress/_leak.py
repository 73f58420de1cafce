"""Leaks: the target's memory slope over the steady phases, fitted robustly.

Memory grows while an API warms up (allocator arenas, caches, connection
buffers for a new concurrency level), so the fit uses only the steady
phases (constant arrival rate) minus their first part; with none, the
second half of the loaded run. The Theil–Sen slope (median of pairwise
slopes, insensitive to a GC spike) is reported per minute and per 10,000
requests; a leak is a per-request growth above the threshold whose
confidence interval excludes zero growth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from perfgate.stats import theil_sen

__all__ = ["LeakResult", "LeakThresholds", "leak_verdict", "memory_points", "steady_windows"]

MB = 1024.0 * 1024.0
LeakStatus = Literal["leak", "no_leak", "insufficient", "unavailable"]


@dataclass(frozen=True)
class LeakThresholds:
    mb_per_10k_requests: float = 2.0  # ≈ 200 bytes retained per request
    skip_fraction: float = 0.25  # of each steady phase: its warm-up
    min_points: int = 8
    min_span_s: float = 5.0


@dataclass(frozen=True)
class LeakResult:
    status: LeakStatus
    source: str = ""  # "process" (sampled RSS) or the metrics field
    mb_per_min: float | None = None
    mb_per_min_ci: tuple[float, float] | None = None
    mb_per_10k_requests: float | None = None
    start_mb: float | None = None
    end_mb: float | None = None
    windows: list[tuple[float, float]] | None = None
    points: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def memory_points(
    monitor: Mapping[str, Any], *, shift_s: float = 0.0
) -> tuple[list[tuple[float, float]], str]:
    """(t, bytes) of the target's memory on the run's clock, and where it came from.

    The sampled process tree's RSS when perfgate started the target; else an
    RSS-like field of the polled metrics endpoint (``memory.rssBytes``...).
    ``shift_s`` converts the monitor's clock to the run's (run_t = t - shift).
    """
    process = monitor.get("process") or []
    points = [(float(r["t"]) - shift_s, float(r["rss_bytes"])) for r in process if "rss_bytes" in r]
    if points:
        return points, "process"
    for row in monitor.get("metrics") or []:
        for key, value in (row.get("fields") or {}).items():
            if _rss_like(key) and isinstance(value, int | float):
                rows = monitor.get("metrics") or []
                pts = [
                    (float(r["t"]) - shift_s, float(r["fields"][key]))
                    for r in rows
                    if isinstance((r.get("fields") or {}).get(key), int | float)
                ]
                return pts, key
    return [], ""


def _rss_like(key: str) -> bool:
    last = key.rsplit(".", 1)[-1].lower().replace("_", "")
    return last in {"rssbytes", "rss", "residentsetsize", "residentbytes"}


def steady_windows(
    phases: Iterable[Mapping[str, Any]], *, skip_fraction: float, run_end_s: float
) -> list[tuple[float, float]]:
    """[start, end) of each constant-rate phase after its warm-up; else the run's second half.

    ``phases``: {start_s, duration_s, steady} rows (``steady``: a constant arrival rate).
    """
    out = [
        (p["start_s"] + skip_fraction * p["duration_s"], p["start_s"] + p["duration_s"])
        for p in phases
        if p.get("steady") and p["duration_s"] > 0
    ]
    return out or [(run_end_s / 2.0, run_end_s)]


def leak_verdict(
    points: Sequence[tuple[float, float]],
    *,
    windows: Sequence[tuple[float, float]],
    cumulative_requests: Mapping[int, int],
    thresholds: LeakThresholds | None = None,
    source: str = "process",
    overloaded: set[int] | frozenset[int] = frozenset(),
) -> LeakResult:
    """Theil–Sen over the points inside ``windows``; see the module docstring.

    Seconds in ``overloaded`` (the API over its SLO, requests queueing) are
    left out: a backlog's buffers grow with it and are not a leak.
    """
    thr = thresholds or LeakThresholds()
    if not points:
        return LeakResult(
            "unavailable", reason="no memory figures (remote target without an RSS metric)"
        )
    inside = sorted(
        (t, b)
        for t, b in points
        if any(s <= t < e for s, e in windows) and math.floor(t) not in overloaded
    )
    span = inside[-1][0] - inside[0][0] if inside else 0.0
    if len(inside) < thr.min_points or span < thr.min_span_s:
        return LeakResult(
            "insufficient",
            source=source,
            points=len(inside),
            windows=list(windows),
            reason=f"{len(inside)} memory samples over {span:.0f} s in the steady phases "
            f"(need {thr.min_points} over {thr.min_span_s:g} s)",
        )
    ts = [t for t, _ in inside]
    mbs = [b / MB for _, b in inside]
    fit = theil_sen(ts, mbs)
    per_min = fit.slope * 60.0
    ci = (fit.slope_ci_low * 60.0, fit.slope_ci_high * 60.0)
    reqs = [_requests_at(cumulative_requests, t) for t in ts]
    per_10k: float | None = None
    if reqs[-1] > reqs[0]:
        by_req = theil_sen(reqs, mbs)
        if not math.isnan(by_req.slope):
            per_10k = by_req.slope * 10_000.0
    leaking = per_10k is not None and per_10k > thr.mb_per_10k_requests and ci[0] > 0
    figure = "n/a" if per_10k is None else f"{per_10k:.2f}"
    return LeakResult(
        "leak" if leaking else "no_leak",
        source=source,
        mb_per_min=round(per_min, 3),
        mb_per_min_ci=(round(ci[0], 3), round(ci[1], 3)),
        mb_per_10k_requests=None if per_10k is None else round(per_10k, 3),
        start_mb=round(mbs[0], 2),
        end_mb=round(mbs[-1], 2),
        windows=list(windows),
        points=len(inside),
        reason=f"{per_min:+.2f} MB/min (95% CI {ci[0]:+.2f}..{ci[1]:+.2f}), {figure} MB per 10k requests",
    )


def _requests_at(cumulative: Mapping[int, int], t: float) -> float:
    """Requests sent by time ``t`` (linear within the second)."""
    second = math.floor(t)
    before = cumulative.get(second - 1, 0) if second > 0 else 0
    now = cumulative.get(second, before)
    return before + (now - before) * (t - second)
