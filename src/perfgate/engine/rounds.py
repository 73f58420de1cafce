"""Driving traffic at one arm: a timed round, a closed-loop warm-up chunk.

Both run inside the A/B's one event loop, on the engine's own pieces
(:class:`~perfgate.engine.vuser.FlowContext`, :func:`run_vuser`, the
scheduler's arrival timeline, the workers' arrival loop in
:mod:`perfgate.engine.arrivals`, the script's scenario and variable picks), so a
round is exactly the script's traffic — minus forking workers, and plus what
A/B needs and ``run_script`` has no reason to offer: the first part of every
round is recorded apart and thrown away (by send time), arrivals are placed
to within tens of microseconds (the pair-drop rule is a 1 ms lag p99), and
the scenario picks and variables come from the pair's seed (common random
numbers).
"""

from __future__ import annotations

import asyncio
import gc
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfgate.engine import scheduler
from perfgate.engine.arrivals import drive_arrivals
from perfgate.engine.cpu_share import BusyPeriod, BusyPeriodMeter, cpu_clock
from perfgate.engine.recorder import Recorder
from perfgate.engine.scheduler import Arrival, LagTracker
from perfgate.engine.vuser import FlowContext, VUserFailed, run_flow, run_vuser
from perfgate.metrics import MetricSet, failures, names
from perfgate.script import Scenario, Script, pick_scenario, pick_variables

__all__ = [
    "ChunkRecord",
    "RoundRecord",
    "closed_loop_chunk",
    "merge_rounds",
    "run_before",
    "run_round",
]

CpuReader = Callable[[], float | None]

#: XORed into the round's seed ("SEEDS" in hex-speak): the flow's randomness
#: (think times, template functions) is a stream apart from the arrival times
#: and scenario picks, which use the seed itself, so adding a random step to a
#: scenario never moves the arrivals.
_FLOW_SALT = 0x5EED5


@dataclass
class RoundRecord:
    """One timed round at one arm."""

    arm: str
    metrics: MetricSet  # the measured part (after the discarded head)
    requests_all: int  # requests sent in the whole round (for CPU per request)
    requests_measured: int
    cpu_s: float | None  # the arm's CPU time over the whole round
    lag: LagTracker  # measured arrivals only
    measured_s: float  # seconds of the round that were kept
    elapsed_s: float
    # the arm's busy periods that began in the measured part (when its CPU clocks are readable)
    busy: list[BusyPeriod] = field(default_factory=list)

    @property
    def lag_p99_ms(self) -> float:
        h = self.lag.histogram
        return h.quantile(0.99) if h.count else 0.0

    @property
    def measured_cpu_s(self) -> float | None:
        """The round's CPU scaled to the measured requests (CPU/request stays exact)."""
        if self.cpu_s is None or self.requests_all == 0:
            return None
        return self.cpu_s * self.requests_measured / self.requests_all


def merge_rounds(parts: list[RoundRecord]) -> RoundRecord:
    """One arm's slices of a pair, as one round (histograms, counts, CPU and lag summed)."""
    if not parts:
        raise ValueError("no slices to merge")
    if len(parts) == 1:
        return parts[0]
    lag = LagTracker()
    for p in parts:
        lag.merge(p.lag)
    cpus = [p.cpu_s for p in parts]
    return RoundRecord(
        arm=parts[0].arm,
        metrics=MetricSet.merged([p.metrics for p in parts]),
        requests_all=sum(p.requests_all for p in parts),
        requests_measured=sum(p.requests_measured for p in parts),
        cpu_s=None if any(c is None for c in cpus) else sum(c for c in cpus if c is not None),
        lag=lag,
        measured_s=sum(p.measured_s for p in parts),
        elapsed_s=sum(p.elapsed_s for p in parts),
        busy=[b for p in parts for b in p.busy],
    )


@dataclass
class ChunkRecord:
    """One closed-loop warm-up chunk at one arm."""

    arm: str
    requests: int
    arrivals: int  # virtual users completed (scenario runs)
    elapsed_s: float
    median_ms: float | None
    errors: int

    @property
    def arrivals_per_s(self) -> float:
        return self.arrivals / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _recorder(script: Script) -> Recorder:
    wall = time.time() * 1000.0
    return Recorder(
        start_epoch_ms=wall,
        extended_metrics=script.http.extended_metrics,
        wall=lambda: time.time() * 1000.0,
    )


def _collect(rec: Recorder) -> MetricSet:
    rec.finish()
    windows, _ = rec.drain()
    out = MetricSet.merged(windows)
    out.period_ms = None
    return out


async def _drain(tasks: set[asyncio.Task[bool]], timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while tasks and loop.time() < deadline:
        await asyncio.wait(set(tasks), timeout=min(0.25, max(0.0, deadline - loop.time())))
    for task in list(tasks):
        task.cancel()
    if tasks:
        await asyncio.wait(set(tasks), timeout=2.0)


async def run_before(script: Script) -> dict[str, Any]:
    """The script's ``before`` flow, once per arm (its captures feed every user)."""
    if not script.before:
        return {}
    rec = _recorder(script)
    ctx = FlowContext.create(script, rec, rng=random.Random(0))
    scenario = Scenario(index=-1, name="before", weight=0.0, flow=script.before)
    ctx.scenario_totals[-1] = names.scenario_total("before")
    variables: dict[str, Any] = {}
    try:
        await run_flow(ctx, script.before, variables, scenario)
    except VUserFailed:
        pass
    finally:
        ctx.close()
    return variables


def _round_phase(script: Script, rate: float, duration_s: float) -> Any:
    phase = script.phases[0] if script.phases else None
    poisson = bool(getattr(phase, "poisson", False))
    from perfgate.script import Phase

    return Phase(
        index=0, name="A/B round", duration_s=duration_s, arrival_rate=rate, poisson=poisson
    )


async def run_round(
    arm: str,
    script: Script,
    *,
    seed: int,
    rate: float,
    duration_s: float,
    discard_s: float,
    initial_vars: dict[str, Any],
    cpu: CpuReader,
    pids: Sequence[int] = (),
) -> RoundRecord:
    """``duration_s`` of open-model arrivals at ``rate``; the first ``discard_s`` are dropped.

    Everything random comes from ``seed``: the arrival times (Poisson
    phases), the scenario picks, the variables and template functions.
    ``pids``: the arm's processes; when their CPU clocks can be read, the
    round records the arm's busy periods (:mod:`perfgate.engine.cpu_share`).
    """
    loop = asyncio.get_running_loop()
    head, kept = _recorder(script), _recorder(script)
    picks = random.Random(seed)
    ctx = FlowContext.create(script, head, rng=random.Random(seed ^ _FLOW_SALT))
    clock = cpu_clock(pids)
    meter = ctx.cpu_meter = None if clock is None else BusyPeriodMeter(clock, measuring=False)
    lag = LagTracker()
    tasks: set[asyncio.Task[bool]] = set()
    timeline = list(scheduler.arrivals([_round_phase(script, rate, duration_s)], seed=seed))

    def launch(i: int, arrival: Arrival, lag_ms: float) -> None:
        if arrival.at_s >= discard_s:
            if ctx.recorder is head:
                ctx.recorder = kept
                if meter is not None:
                    meter.measuring = True
            lag.planned += 1
            lag.record(lag_ms)
        scenario = pick_scenario(script, picks)
        variables = pick_variables(script, picks, i)
        if initial_vars:
            variables = {**initial_vars, **variables}
        task = loop.create_task(run_vuser(ctx, scenario, variables, loop.time))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    # A cyclic-GC pass over the engine's objects can hold the loop for
    # milliseconds: collect before the round, not during it.
    gc.collect()
    gc.disable()
    cpu0 = cpu()
    t0 = loop.time()
    start = t0 + 0.002
    try:
        await drive_arrivals(timeline, start=start, launch=launch, precise=True)
        await _drain(tasks, script.http.timeout_s)
    finally:
        gc.enable()
        ctx.close()
    cpu1 = cpu()
    elapsed = loop.time() - t0
    head_set, kept_set = _collect(head), _collect(kept)
    sent_head = head_set.counter(names.HTTP_REQUESTS)
    sent_kept = kept_set.counter(names.HTTP_REQUESTS)
    return RoundRecord(
        arm=arm,
        metrics=kept_set,
        requests_all=sent_head + sent_kept,
        requests_measured=sent_kept,
        cpu_s=(cpu1 - cpu0) if cpu0 is not None and cpu1 is not None and cpu1 >= cpu0 else None,
        lag=lag,
        measured_s=max(0.0, duration_s - discard_s),
        elapsed_s=elapsed,
        busy=[] if meter is None else meter.periods,
    )


async def closed_loop_chunk(
    arm: str,
    script: Script,
    *,
    seed: int,
    duration_s: float,
    concurrency: int,
    initial_vars: dict[str, Any],
) -> ChunkRecord:
    """``concurrency`` users back to back for ``duration_s``: warm-up and capacity at once."""
    loop = asyncio.get_running_loop()
    rec = _recorder(script)
    picks = random.Random(seed)
    ctx = FlowContext.create(script, rec, rng=random.Random(seed ^ _FLOW_SALT))
    counter = [0]
    t0 = loop.time()
    end = t0 + duration_s

    async def user_loop() -> None:
        while loop.time() < end:
            counter[0] += 1
            scenario = pick_scenario(script, picks)
            variables = pick_variables(script, picks, counter[0])
            if initial_vars:
                variables = {**initial_vars, **variables}
            await run_vuser(ctx, scenario, variables, loop.time)

    try:
        await asyncio.wait_for(
            asyncio.gather(*(user_loop() for _ in range(concurrency))),
            timeout=duration_s + script.http.timeout_s,
        )
    except TimeoutError:
        pass
    finally:
        ctx.close()
    elapsed = loop.time() - t0
    m = _collect(rec)
    total = m.histograms.get(names.TOTAL)
    return ChunkRecord(
        arm=arm,
        requests=m.counter(names.HTTP_REQUESTS),
        arrivals=m.counter(names.VUSERS_COMPLETED) + m.counter(names.VUSERS_FAILED),
        elapsed_s=elapsed,
        median_ms=total.quantile(0.5) if total is not None and total.count else None,
        errors=failures.count(m).failed,
    )
