"""Live progress while a load test runs, and the end-of-run summary table.

On a terminal: one line rewritten in place every half second. Otherwise
(CI logs): a plain line every 10 seconds. Formatting is pure (``status_line``,
``summary_table``); :class:`Progress` only decides when and where to print.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from perfgate.engine.workers import Merged
from perfgate.metrics import MetricSet, failures, names
from perfgate.result import SuiteResult

__all__ = ["Progress", "status_line", "summary_table"]


def _phase_at(phases: Sequence[dict[str, Any]], t: float) -> str:
    for p in phases:
        if p["start_s"] <= t < p["start_s"] + p["duration_s"]:
            return str(p["name"] or f"phase {p['index']}")
    return "draining" if phases else ""


def status_line(
    merged: Merged, elapsed_s: float, total_s: float, phases: Sequence[dict[str, Any]]
) -> str:
    """``[Sustained load] 00:42 / 09:00  rate 50/s  p95 12.3 ms  failed 0  vusers 3``."""
    recent = [merged.seconds[t] for t in sorted(merged.seconds)[-5:]]
    rate = sum(s.requests for s in recent) / len(recent) if recent else 0.0
    p95 = 0.0
    if recent:
        h = recent[0].total.copy()
        for s in recent[1:]:
            h.merge(s.total)
        p95 = h.quantile(0.95) if h.count else 0.0
    failed = sum(s.failed for s in merged.seconds.values())
    active = sum(merged.active.values())
    remaining = max(0.0, total_s - elapsed_s)
    return (
        f"[{_phase_at(phases, elapsed_s)}] {_mmss(elapsed_s)} elapsed, {_mmss(remaining)} left  "
        f"rate {rate:.0f}/s  p95 {p95:.1f} ms  failed {failed}  vusers {active}"
    )


def _mmss(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 60:02d}:{s % 60:02d}"


def summary_table(aggregate: MetricSet) -> str:
    """Per endpoint: requests, codes, failed share, no-response codes, response time and total percentiles."""
    from tabulate import tabulate

    rows = []
    for ep in aggregate.endpoints():
        rt = ep.response_time.summary() if ep.response_time else {}
        tot = ep.total.summary() if ep.total else {}
        rows.append(
            [
                ep.name,
                ep.requests,
                " ".join(f"{c}:{n}" for c, n in sorted(ep.codes.items())),
                f"{failures.count_endpoint(ep).rate or 0.0:.1%}",
                " ".join(f"{c}:{n}" for c, n in sorted(ep.errors.items())) or "-",
                rt.get("p50", 0),
                rt.get("p95", 0),
                rt.get("p99", 0),
                tot.get("p95", 0),
            ]
        )
    headers = [
        "endpoint",
        "requests",
        "codes",
        "failed",
        "no response",
        "rt p50",
        "rt p95",
        "rt p99",
        "total p95",
    ]
    return tabulate(rows, headers=headers, floatfmt=".1f")


class Progress:
    """Prints status lines; a live line on a TTY, periodic lines otherwise."""

    def __init__(
        self, phases: Sequence[dict[str, Any]], total_s: float, stream: TextIO | None = None
    ) -> None:
        self.phases = phases
        self.total_s = total_s
        self.stream = stream or sys.stdout
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.5 if self.tty else 10.0
        self._last = 0.0

    def update(self, merged: Merged, elapsed_s: float) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        line = status_line(merged, elapsed_s, self.total_s, self.phases)
        if self.tty:
            self.stream.write("\r\x1b[2K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def finish(self, result: SuiteResult) -> None:
        if self.tty:
            self.stream.write("\n")
        agg = result.aggregate
        counted = failures.count(agg, failures.policy_of(result))
        head = (
            f"{'Interrupted' if result.interrupted else 'Finished'} after {result.duration_s:.1f} s: "
            f"{agg.counter(names.HTTP_REQUESTS)} requests, {agg.counter(names.HTTP_RESPONSES)} responses, "
            f"{counted.failed} failed, vusers {agg.counter(names.VUSERS_CREATED)} created / "
            f"{agg.counter(names.VUSERS_COMPLETED)} completed / {agg.counter(names.VUSERS_FAILED)} failed"
        )
        self.stream.write(head + "\n")
        if agg.endpoints():
            self.stream.write(summary_table(agg) + "\n")
        for w in result.warnings:
            self.stream.write(f"warning: {w}\n")
        self.stream.flush()
