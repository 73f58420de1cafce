"""``run_script``: a loaded Artillery script -> a SuiteResult (kind ``load``).

One worker runs in this process (simplest, and what tests use); more are
forked (see workers.py). Ctrl-C (SIGINT) stops new arrivals, waits for
in-flight requests up to the script's timeout and returns the partial
result with ``interrupted=True``.
"""

from __future__ import annotations

import asyncio
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from perfgate.engine import scheduler
from perfgate.engine.ensure import evaluate_ensure
from perfgate.engine.recorder import Recorder, series_row
from perfgate.engine.vuser import FlowContext, VUserFailed, run_flow
from perfgate.engine.workers import Merged, default_workers, run_in_processes, run_worker
from perfgate.metrics import MetricSet, names
from perfgate.result import SuiteResult
from perfgate.script import Scenario, Script

__all__ = ["ProgressSink", "run_script"]


class ProgressSink(Protocol):
    def update(self, merged: Merged, elapsed_s: float) -> None: ...
    def finish(self, result: SuiteResult) -> None: ...


class _StopFlag:
    """Set by SIGINT (or the caller's event); read by the workers."""

    def __init__(self, external: threading.Event | None) -> None:
        self.external = external
        self.flag = False

    def __call__(self) -> bool:
        return self.flag or (self.external is not None and self.external.is_set())


async def _run_section(script: Script, steps: list[Any], vars: dict[str, Any]) -> dict[str, Any]:
    """The script's ``before``/``after`` flow: once, in this process."""
    rec = Recorder(start_epoch_ms=time.time() * 1000, wall=lambda: time.time() * 1000)
    ctx = FlowContext.create(script, rec, rng=random.Random())
    scenario = Scenario(index=-1, name="before/after", weight=0.0, flow=steps)
    ctx.scenario_totals[-1] = "perfgate.scenario.total.before/after"
    try:
        await run_flow(ctx, steps, vars, scenario)
    except VUserFailed:
        pass
    finally:
        ctx.close()
    return vars


def run_script(
    script: Script,
    *,
    workers: int | None = None,
    progress: ProgressSink | None = None,
    stop_event: threading.Event | None = None,
    handle_sigint: bool = True,
    seed: int | None = None,
) -> SuiteResult:
    """Run ``script`` to the end (or until interrupted) and return its result."""
    n = workers or default_workers()
    stop = _StopFlag(stop_event)
    started_at = time.time()
    initial_vars: dict[str, Any] = {}
    if script.before:
        initial_vars = asyncio.run(_run_section(script, script.before, {}))
    schedules = scheduler.split_for_workers(script.phases, n, seed=seed or 0)
    start_wall = time.time() + (0.5 if n > 1 else 0.02)

    def on_message(merged: Merged) -> None:
        if progress is not None:
            progress.update(merged, time.time() - start_wall)

    previous = None
    if handle_sigint and threading.current_thread() is threading.main_thread():

        def on_sigint(signum: int, frame: Any) -> None:
            if stop.flag:  # second Ctrl-C: give up waiting
                raise KeyboardInterrupt
            stop.flag = True

        previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        if n == 1:
            merged = Merged()

            def emit(msg: dict[str, Any]) -> None:
                merged.add(msg)
                on_message(merged)

            final = asyncio.run(
                run_worker(
                    script,
                    schedules[0],
                    start_wall=start_wall,
                    stop=stop,
                    emit=emit,
                    initial_vars=initial_vars,
                    seed=seed,
                )
            )
            merged.add(final)
        else:
            merged = run_in_processes(
                script,
                schedules,
                start_wall=start_wall,
                stop_requested=stop,
                on_message=on_message,
                initial_vars=initial_vars,
                seed=seed,
            )
        if script.after and not stop():
            asyncio.run(_run_section(script, script.after, dict(initial_vars)))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    result = build_result(script, merged, started_at=started_at, interrupted=stop(), workers=n)
    if progress is not None:
        progress.finish(result)
    return result


def build_result(
    script: Script,
    merged: Merged,
    *,
    started_at: float,
    interrupted: bool,
    workers: int,
    clock: Callable[[], float] = time.time,
) -> SuiteResult:
    """Merge workers' windows into the aggregate, series, scheduler stats, checks."""
    intermediate = [merged.windows[k] for k in sorted(merged.windows)]
    aggregate = MetricSet()
    for w in intermediate:
        aggregate.merge(w)
    aggregate.period_ms = None
    series = [series_row(merged.seconds[t]) for t in sorted(merged.seconds)]
    lag = merged.lag_histogram()
    cpu = [float(f["cpu_pct"]) for f in merged.finals if "cpu_pct" in f]
    stats = scheduler.scheduler_stats(
        lag,
        planned=merged.total("planned"),
        launched=merged.total("launched"),
        skipped=merged.total("skipped"),
        late=merged.total("late"),
        cpu_pct=max(cpu) if cpu else None,
    )
    if lag.count:
        aggregate.histograms[names.ARRIVAL_LAG] = lag
    aggregate.counters[names.ARRIVALS_PLANNED] = stats.planned
    aggregate.counters[names.ARRIVALS_LATE] = stats.late
    warnings = list(script.warnings)
    errors = [f["error"] for f in merged.finals if "error" in f]
    if stats.generator_limited:
        warnings.append(
            f"generator-limited: arrivals ran late (p99 lag {stats.lag_p99_ms:.1f} ms, "
            f"max {stats.lag_max_ms:.1f} ms, generator CPU {stats.generator_cpu_pct or 0:.0f}%); "
            "latencies may understate the API's; use more --workers or a lower rate"
        )
    expect_failed = merged.total("expect_failed")
    result = SuiteResult(
        name=script.source.stem if hasattr(script.source, "stem") else str(script.source),
        kind="load",
        source=str(script.source),
        started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started_at)),
        duration_s=round(clock() - started_at, 3),
        aggregate=aggregate,
        intermediate=intermediate,
        series=series,
        scheduler=stats,
        warnings=warnings,
        errors=errors,
        interrupted=interrupted,
        extra={
            "workers": workers,
            "target": script.target,
            "environment": script.environment,
            "time_scale": getattr(script, "time_scale", 1.0),
            "expect_failed": expect_failed,
            "phases": [
                {
                    "index": p.index,
                    "name": p.name,
                    "start_s": off,
                    "duration_s": scheduler.phase_length(p),
                }
                for p, off in zip(
                    script.phases, scheduler.phase_offsets(script.phases), strict=True
                )
            ],
        },
    )
    if script.ensure is not None:
        result.checks = evaluate_ensure(script.ensure, aggregate)
    return result
