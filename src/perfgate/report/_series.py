"""Time series for charts: per-second suite series, windows, target process.

Pure functions from result records to :class:`Chart` values; renderers draw
them (SVG in HTML, Mermaid in markdown). Every chart's time axis is seconds
since its first point.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfgate.metrics import MetricSet, failures, names
from perfgate.result import SuiteResult

__all__ = [
    "Chart",
    "ChartLine",
    "StressPicture",
    "downsample",
    "process_charts",
    "stress_picture",
    "suite_charts",
]

# Keys a per-second series row may use for each figure (first present wins).
_T_KEYS = ("t", "time", "ts", "second")
_P50_KEYS = ("p50", "median", "total.p50", "latency_p50")
_P95_KEYS = ("p95", "total.p95", "latency_p95")
_P99_KEYS = ("p99", "total.p99", "latency_p99")
_RPS_KEYS = ("rps", "rate", "req_per_s", "requests_per_s", "throughput", "requests", "responses")
_ERR_KEYS = ("failed", "errors", "error_count")


@dataclass
class ChartLine:
    label: str
    values: list[float | None]


@dataclass
class Chart:
    key: str  # latency | throughput | errors | memory | cpu
    title: str
    unit: str
    t: list[float] = field(default_factory=list)
    lines: list[ChartLine] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return len(self.t) >= 2 and any(any(v is not None for v in ln.values) for ln in self.lines)


def _num(row: dict[str, Any], keys: Sequence[str]) -> float | None:
    for k in keys:
        v = row.get(k)
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
            return float(v)
    return None


def _relative(ts: list[float]) -> list[float]:
    if not ts:
        return ts
    t0 = ts[0]
    return [round(t - t0, 3) for t in ts]


def _failed(row: dict[str, Any], policy: failures.FailurePolicy) -> float | None:
    if failures.ROW_5XX in row:  # the engine's rows: failures as metrics.failures counts them
        return float(failures.count_second(row, policy).failed)
    return _num(row, _ERR_KEYS)


def _from_series(
    rows: list[dict[str, Any]], policy: failures.FailurePolicy = failures.DEFAULT_POLICY
) -> list[Chart]:
    ts: list[float] = []
    for i, row in enumerate(rows):
        t = _num(row, _T_KEYS)
        ts.append(float(i) if t is None else t)
    ts = _relative(ts)
    lat = Chart("latency", "Latency percentiles over time", "ms", ts)
    # A second without responses has no latency (the engine writes 0 there).
    idle = [r.get("responses") == 0 for r in rows]
    for label, keys in (("p50", _P50_KEYS), ("p95", _P95_KEYS), ("p99", _P99_KEYS)):
        lat.lines.append(
            ChartLine(
                label, [None if i else _num(r, keys) for r, i in zip(rows, idle, strict=True)]
            )
        )
    thr = Chart(
        "throughput",
        "Throughput over time",
        "req/s",
        ts,
        [ChartLine("req/s", [_num(r, _RPS_KEYS) for r in rows])],
    )
    err = Chart(
        "errors",
        "Failed requests over time",
        "failed/s",
        ts,
        [ChartLine("failed/s", [_failed(r, policy) for r in rows])],
    )
    return [c for c in (lat, thr, err) if c.has_data]


def _from_windows(
    windows: list[MetricSet], policy: failures.FailurePolicy = failures.DEFAULT_POLICY
) -> list[Chart]:
    starts = [w.period_ms if w.period_ms is not None else w.first_ms for w in windows]
    usable = [(s, w) for s, w in zip(starts, windows, strict=True) if s is not None]
    if len(usable) < 2:
        return []
    usable.sort(key=lambda p: p[0])
    ts = _relative([s / 1000.0 for s, _ in usable])
    spans = [b - a for a, b in itertools.pairwise(ts)]
    spans.append(spans[-1] if spans else 1.0)
    lat = Chart("latency", "Latency percentiles over time", "ms", ts)
    p50: list[float | None] = []
    p95: list[float | None] = []
    p99: list[float | None] = []
    rps: list[float | None] = []
    err: list[float | None] = []
    for (_, w), span in zip(usable, spans, strict=True):
        h = w.histograms.get(names.TOTAL) or w.histograms.get(names.HTTP_RESPONSE_TIME)
        if h is not None and h.count:
            a, b, c = h.quantiles((0.5, 0.95, 0.99))
            p50.append(a)
            p95.append(b)
            p99.append(c)
        else:
            p50.append(None)
            p95.append(None)
            p99.append(None)
        span = span if span > 0 else 1.0
        rps.append(w.counter(names.HTTP_REQUESTS) / span)
        err.append(failures.count(w, policy).failed / span)
    lat.lines = [ChartLine("p50", p50), ChartLine("p95", p95), ChartLine("p99", p99)]
    thr = Chart("throughput", "Throughput over time", "req/s", ts, [ChartLine("req/s", rps)])
    errc = Chart(
        "errors", "Failed requests over time", "failed/s", ts, [ChartLine("failed/s", err)]
    )
    return [c for c in (lat, thr, errc) if c.has_data]


def suite_charts(suite: SuiteResult) -> list[Chart]:
    """Latency, throughput and error charts from the per-second series
    (or, when a suite has none, from its intermediate windows)."""
    policy = failures.policy_of(suite)
    if suite.series:
        return _from_series(suite.series, policy)
    return _from_windows(suite.intermediate, policy)


def process_charts(monitor: dict[str, Any]) -> list[Chart]:
    """The target's memory (RSS, MB) and CPU (%) over time, from
    ``monitor["process"]`` rows of ``{t, rss_bytes, cpu_s, cpu_pct}``."""
    rows = monitor.get("process") if isinstance(monitor, dict) else None
    if not isinstance(rows, list):
        return []
    rows = [r for r in rows if isinstance(r, dict)]
    ts = _relative([_num(r, _T_KEYS) or 0.0 for r in rows])
    rss: list[float | None] = []
    for r in rows:
        v = _num(r, ("rss_bytes",))
        rss.append(None if v is None else v / 1e6)
    mem = Chart("memory", "Target memory (RSS) over time", "MB", ts, [ChartLine("RSS", rss)])
    cpu = Chart(
        "cpu",
        "Target CPU over time",
        "%",
        ts,
        [ChartLine("CPU", [_num(r, ("cpu_pct",)) for r in rows])],
    )
    return [c for c in (mem, cpu) if c.has_data]


def _mean(vals: list[float]) -> float:
    return sum(vals) / len(vals)


def downsample(chart: Chart, max_points: int) -> Chart:
    """At most ``max_points`` points: consecutive buckets, latency by its
    bucket maximum (spikes stay visible), everything else by the mean."""
    n = len(chart.t)
    if n <= max_points or max_points < 2:
        return chart
    reduce: Callable[[list[float]], float] = max if chart.unit == "ms" else _mean
    bounds = [round(i * n / max_points) for i in range(max_points + 1)]
    ts: list[float] = []
    lines = [ChartLine(ln.label, []) for ln in chart.lines]
    for a, b in itertools.pairwise(bounds):
        if b <= a:
            continue
        ts.append(chart.t[a])
        for src, dst in zip(chart.lines, lines, strict=True):
            vals = [v for v in src.values[a:b] if v is not None]
            dst.values.append(reduce(vals) if vals else None)
    return Chart(chart.key, chart.title, chart.unit, ts, lines)


@dataclass
class StressPicture:
    """A stress run's seconds as (t, requests/s, p95 ms), and where it broke and recovered."""

    points: list[tuple[float, float, float]]
    break_at_s: float | None = None
    break_rate: float | None = None
    sustained_rate: float | None = None
    drop_at_s: float | None = None
    recovered_at_s: float | None = None


def stress_picture(suite: SuiteResult) -> StressPicture | None:
    """From a stress suite's per-second series and ``extra["stress"]``; None for other suites."""
    info = suite.extra.get("stress") if isinstance(suite.extra, dict) else None
    if not isinstance(info, dict) or not suite.series:
        return None
    points = []
    for row in suite.series:
        t, rate, p95 = _num(row, _T_KEYS), _num(row, _RPS_KEYS), _num(row, _P95_KEYS)
        if t is not None and rate is not None and p95 is not None and row.get("responses") != 0:
            points.append((t, rate, p95))
    found_bp, found_rec = info.get("breaking_point"), info.get("recovery")
    bp: dict[str, Any] = found_bp if isinstance(found_bp, dict) else {}
    rec: dict[str, Any] = found_rec if isinstance(found_rec, dict) else {}
    return StressPicture(
        points,
        break_at_s=_num(bp, ("at_s",)),
        break_rate=_num(bp, ("rate_at_break",)),
        sustained_rate=_num(bp, ("max_sustained_rate",)),
        drop_at_s=_num(rec, ("drop_at_s",)),
        recovered_at_s=_num(rec, ("recovered_at_s",)),
    )
