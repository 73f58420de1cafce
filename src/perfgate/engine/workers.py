"""Running a worker's share of the schedule, in this process or in N processes.

A worker is one asyncio event loop that starts a virtual user at each of its
scheduled arrivals (open model: whether or not earlier users have finished)
and measures how late each start was. Workers send their closed 10-second
windows and one-second buckets to the parent as plain dicts
(``MetricSet.to_dict``), once a second; the parent merges them exactly
(histograms add bucket counts). All workers start at one shared wall-clock
timestamp, so their schedules interleave as the script's schedule.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import random
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from perfgate.engine.arrivals import drive_arrivals
from perfgate.engine.recorder import Recorder, SecondBucket
from perfgate.engine.scheduler import Arrival, LagTracker, WorkerSchedule, split_cap
from perfgate.engine.vuser import FlowContext, run_vuser
from perfgate.metrics import Histogram, MetricSet, names
from perfgate.script import Script, pick_scenario, pick_variables

__all__ = ["Merged", "default_workers", "run_in_processes", "run_worker"]

Emit = Callable[[dict[str, Any]], None]
_TICK_S = 0.25
#: A worker's CPU share is judged only over at least this much wall time.
_MIN_CPU_WALL_S = 1.0


def default_workers() -> int:
    """One less than the cores, at least one (the API under test needs a core)."""
    return max(1, (os.cpu_count() or 1) - 1)


def _flush(rec: Recorder, emit: Emit, worker: int) -> None:
    windows, seconds = rec.drain()
    if windows or seconds:
        emit(
            {
                "kind": "tick",
                "worker": worker,
                "windows": [w.to_dict() for w in windows],
                "seconds": [s.to_dict() for s in seconds],
                "vusers_active": rec.vusers_active,
            }
        )


async def run_worker(
    script: Script,
    schedule: Iterable[Arrival],
    *,
    start_wall: float,
    stop: Callable[[], bool],
    emit: Emit,
    worker: int = 0,
    workers: int = 1,
    initial_vars: dict[str, Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """Run one worker's arrivals to the end (or until ``stop()``); returns its final message."""
    loop = asyncio.get_running_loop()
    start_mono = loop.time() + (start_wall - time.time())
    rec = Recorder(
        start_epoch_ms=start_wall * 1000.0,
        extended_metrics=script.http.extended_metrics,
        wall=lambda: time.time() * 1000.0,
    )
    rng = random.Random(seed if seed is not None else random.SystemRandom().randrange(2**32))
    ctx = FlowContext.create(script, rec, rng=rng)
    lag = LagTracker()
    caps = {p.index: split_cap(p.max_vusers, worker, workers) for p in script.phases}
    active_by_phase: dict[int, int] = {}
    tasks: set[asyncio.Task[bool]] = set()
    cpu0 = time.process_time()
    interrupted = False

    def clock() -> float:
        return loop.time()

    async def ticker() -> None:
        while True:
            await asyncio.sleep(_TICK_S)
            rec.tick(loop.time() - start_mono)
            _flush(rec, emit, worker)

    def finished(phase: int) -> Callable[[asyncio.Task[bool]], None]:
        def done(task: asyncio.Task[bool]) -> None:
            tasks.discard(task)
            active_by_phase[phase] -= 1

        return done

    vuser_index = worker

    def launch(_: int, arrival: Arrival, lag_ms: float) -> None:
        nonlocal vuser_index
        lag.planned += 1
        cap = caps.get(arrival.phase)
        if cap is not None and active_by_phase.get(arrival.phase, 0) >= cap:
            lag.skipped += 1
            rec.count(names.VUSERS_SKIPPED)
            return
        lag.record(lag_ms)
        rec.observe(names.ARRIVAL_LAG, lag_ms)  # per window: stress localises generator limits
        scenario = pick_scenario(script, rng)
        vars = pick_variables(script, rng, vuser_index)
        if initial_vars:
            vars = {**initial_vars, **vars}
        vuser_index += workers
        task = loop.create_task(run_vuser(ctx, scenario, vars, clock))
        active_by_phase[arrival.phase] = active_by_phase.get(arrival.phase, 0) + 1
        tasks.add(task)
        task.add_done_callback(finished(arrival.phase))

    tick_task = loop.create_task(ticker())
    try:
        interrupted = await drive_arrivals(schedule, start=start_mono, launch=launch, stop=stop)
        # Wait for in-flight users; on interrupt, at most the request timeout.
        deadline = loop.time() + (script.http.timeout_s if interrupted else 10 * 365 * 86400.0)
        while tasks and loop.time() < deadline:
            if stop() and not interrupted:
                interrupted = True
                deadline = min(deadline, loop.time() + script.http.timeout_s)
            await asyncio.wait(set(tasks), timeout=min(0.25, max(0.0, deadline - loop.time())))
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(set(tasks), timeout=2.0)
    finally:
        tick_task.cancel()
        ctx.close()
    wall = max(1e-9, loop.time() - start_mono)
    cpu_pct = 100.0 * (time.process_time() - cpu0) / wall
    rec.tick(loop.time() - start_mono)
    rec.finish()
    _flush(rec, emit, worker)
    cpu: dict[str, float] = {}
    if wall >= _MIN_CPU_WALL_S:  # over a shorter run the share is start-up cost, not load
        cpu["cpu_pct"] = cpu_pct
    return {
        **cpu,
        "kind": "done",
        "worker": worker,
        "lag": lag.histogram.to_dict(),
        "planned": lag.planned,
        "launched": lag.launched,
        "skipped": lag.skipped,
        "late": lag.late,
        "expect_failed": ctx.expect_failed,
        "interrupted": interrupted,
    }


@dataclass
class Merged:
    """The parent's exact merge of every worker's messages."""

    windows: dict[float, MetricSet] = field(default_factory=dict)  # by period_ms
    seconds: dict[int, SecondBucket] = field(default_factory=dict)
    finals: list[dict[str, Any]] = field(default_factory=list)
    active: dict[int, int] = field(default_factory=dict)

    def add(self, msg: dict[str, Any]) -> None:
        if msg["kind"] == "tick":
            for wd in msg["windows"]:
                w = MetricSet.from_dict(wd)
                key = w.period_ms or 0.0
                if key in self.windows:
                    self.windows[key].merge(w)
                else:
                    self.windows[key] = w
            for sd in msg["seconds"]:
                s = SecondBucket.from_dict(sd)
                if s.t in self.seconds:
                    self.seconds[s.t].merge(s)
                else:
                    self.seconds[s.t] = s
            self.active[msg["worker"]] = msg.get("vusers_active", 0)
        elif msg["kind"] == "done":
            self.finals.append(msg)

    def lag_histogram(self) -> Histogram:
        return Histogram.merged(Histogram.from_dict(f["lag"]) for f in self.finals)

    def total(self, key: str) -> int:
        return sum(int(f.get(key, 0)) for f in self.finals)


def _process_main(
    script: Script,
    schedule: WorkerSchedule,
    start_wall: float,
    stop_event: Any,
    out: Any,
    initial_vars: dict[str, Any] | None,
    seed: int | None,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        final = asyncio.run(
            run_worker(
                script,
                schedule,
                start_wall=start_wall,
                stop=stop_event.is_set,
                emit=out.put,
                worker=schedule.index,
                workers=schedule.count,
                initial_vars=initial_vars,
                seed=None if seed is None else seed + schedule.index,
            )
        )
    except BaseException as exc:  # report, never hang the parent
        final = {"kind": "done", "worker": schedule.index, "error": f"{type(exc).__name__}: {exc}"}
    out.put(final)


def run_in_processes(
    script: Script,
    schedules: list[WorkerSchedule],
    *,
    start_wall: float,
    stop_requested: Callable[[], bool],
    on_message: Callable[[Merged], None],
    initial_vars: dict[str, Any] | None = None,
    seed: int | None = None,
) -> Merged:
    """Fork one process per schedule; merge their messages until all are done."""
    ctx = mp.get_context("fork")  # the compiled script (closures) is inherited, not pickled
    stop_event = ctx.Event()
    out: Any = ctx.Queue()
    procs = [
        ctx.Process(
            target=_process_main,
            args=(script, s, start_wall, stop_event, out, initial_vars, seed),
            daemon=True,
        )
        for s in schedules
    ]
    for p in procs:
        p.start()
    merged = Merged()
    done = 0
    try:
        while done < len(procs):
            if stop_requested() and not stop_event.is_set():
                stop_event.set()
            try:
                msg = out.get(timeout=0.25)
            except queue.Empty:
                if all(not p.is_alive() for p in procs):
                    break  # a worker died without a final message
                continue
            merged.add(msg)
            if msg["kind"] == "done":
                done += 1
            on_message(merged)
    finally:
        stop_event.set()
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
    return merged
