"""One suite under A/B: warm-up, capacity, the paired rounds, the two SuiteResults.

Called from :func:`perfgate.gate.ab.run.run_ab` inside its event loop, with
both arms up. Pure parts (order, rate, settling, statistics) live in
``_ab_design`` and ``_ab_stats``; the traffic in ``_ab_rounds``.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from perfgate.engine import (
    ChunkRecord,
    RoundRecord,
    closed_loop_chunk,
    endpoint_cpu_ms,
    merge_rounds,
    process_cpu_seconds,
    run_before,
    run_round,
    scheduler,
)
from perfgate.errors import ConfigError
from perfgate.figures import Figure
from perfgate.gate.ab.design import (
    PairPlan,
    capped_rate,
    look_level,
    pair_plan,
    plan_samples,
    settling_drift,
    slice_plan,
)
from perfgate.gate.ab.launches import DEFAULT_PRIORS, LaunchPriors
from perfgate.gate.ab.stats import (
    CAPACITY_METRIC,
    PEAK_RSS_METRIC,
    PairFigures,
    RoundFigures,
    ab_comparisons,
    capacity_comparison,
    choose_families,
    paired_extra_comparisons,
    peak_rss_comparison,
    round_figures,
)
from perfgate.gate.ab.trace import AbTrace, clock_origin
from perfgate.gate.compare import undecided
from perfgate.gate.console import Log
from perfgate.gate.metric_names import requests_per_arrival
from perfgate.gate.plan import steady_phase
from perfgate.metrics import DEFAULT_POLICY, FailurePolicy, Histogram, MetricSet, names
from perfgate.result import SuiteResult
from perfgate.script import aimed_at
from perfgate.verdict import MetricComparison

if TYPE_CHECKING:
    from perfgate.config import AbConfig, CompareConfig
    from perfgate.gate.plan import PlannedSuite
    from perfgate.gate.session import ArmSession
    from perfgate.script import Script

__all__ = ["LoadSuiteRun", "SuiteOutcome", "split_pairs"]

ARMS = ("base", "candidate")
#: Warm-up chunk length and closed-loop concurrency.
CHUNK_S = 0.5
WARMUP_USERS = 16
#: A warm-up median still moving by more than this is "not settled".
SETTLED_DRIFT = 0.15
#: Fewer kept pairs than this cannot be compared.
MIN_PAIRS = 6
#: XORed into the run's seed for the spare pairs' stream ("SPARE" in hex-speak).
_SPARE_SALT = 0x5FA2E
#: Capacity chunks: closed loop at the warm-up's concurrency, this long each.
CAPACITY_CHUNK_S = 0.4
_PAGE_KIB = (os.sysconf("SC_PAGE_SIZE") // 1024) if hasattr(os, "sysconf") else 4


@dataclass
class SuiteOutcome:
    base: SuiteResult
    candidate: SuiteResult
    comparisons: list[MetricComparison] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    inconclusive: list[str] = field(default_factory=list)
    stopped: bool = False  # an arm died: no further suite


def _cpu_reader(session: ArmSession) -> Callable[[], float | None]:
    """The arm's CPU clock: nanosecond-precise when possible, else /proc ticks."""
    service = session.service
    if service is not None and process_cpu_seconds(service.pids()) is not None:
        return lambda: process_cpu_seconds(service.pids())
    return session.cpu_seconds


def _pids(session: ArmSession) -> list[int]:
    return session.service.pids() if session.service is not None else []


def rss_kib(pids: list[int]) -> int:
    """Resident memory of the processes, KiB (0 for those gone or unreadable)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as fh:
                total += int(fh.read().split()[1]) * _PAGE_KIB
        except (OSError, ValueError, IndexError):
            continue
    return total


def _script_rate(script: Script) -> float | None:
    try:
        phase = steady_phase(script.phases)
    except ConfigError:
        return None
    if phase.arrival_rate:
        return float(phase.arrival_rate)
    if phase.arrival_count and phase.duration_s > 0:
        return phase.arrival_count / phase.duration_s
    return None


async def _warm_up(
    scripts: dict[str, Script],
    initial: dict[str, dict[str, Any]],
    ab: AbConfig,
    rng: random.Random,
    sessions: dict[str, ArmSession],
) -> dict[str, list[ChunkRecord]]:
    """Closed-loop chunks, alternating arms, until each had its time and its requests."""
    chunks: dict[str, list[ChunkRecord]] = {arm: [] for arm in ARMS}
    limit = max(4, math.ceil(3 * max(ab.warmup_s, 2.0) / CHUNK_S))

    def done(arm: str) -> bool:
        got = chunks[arm]
        return (
            len(got) >= 4
            and sum(c.elapsed_s for c in got) >= ab.warmup_s
            and sum(c.requests for c in got) >= ab.warmup_requests
        )

    order = list(ARMS)
    rng.shuffle(order)
    while not all(done(a) for a in ARMS) and min(len(c) for c in chunks.values()) < limit:
        for arm in order:
            if done(arm) or sessions[arm].crashed:
                continue
            chunks[arm].append(
                await closed_loop_chunk(
                    arm,
                    scripts[arm],
                    seed=rng.randrange(2**31),
                    duration_s=CHUNK_S,
                    concurrency=WARMUP_USERS,
                    initial_vars=initial[arm],
                )
            )
        if any(sessions[a].crashed for a in ARMS):
            break
    return chunks


def _capacity(chunks: list[ChunkRecord]) -> float | None:
    tail = [c.arrivals_per_s for c in chunks[-3:] if c.arrivals_per_s > 0]
    return statistics.median(tail) if tail else None


def _suite_result(
    name: str, source: str, rounds: list[RoundRecord], extra: dict[str, Any]
) -> SuiteResult:
    """One arm's suite: the kept rounds merged (aggregate, lag, CPU)."""
    aggregate = MetricSet.merged([r.metrics for r in rounds])
    lag = Histogram.merged(r.lag.histogram for r in rounds)
    stats = scheduler.scheduler_stats(
        lag,
        planned=sum(r.lag.planned for r in rounds),
        launched=sum(r.lag.launched for r in rounds),
        skipped=0,
        late=sum(r.lag.late for r in rounds),
    )
    if lag.count:
        aggregate.histograms[names.ARRIVAL_LAG] = lag
    result = SuiteResult(
        name=name,
        kind="ab",
        source=source,
        duration_s=round(sum(r.measured_s for r in rounds), 3),
        aggregate=aggregate,
        scheduler=stats,
        extra=dict(extra),
    )
    cpu = [r.measured_cpu_s for r in rounds]
    if rounds and all(c is not None for c in cpu):
        result.extra["target_cpu_s"] = round(sum(c for c in cpu if c is not None), 6)
    fitted = endpoint_cpu_ms([b for r in rounds for b in r.busy])
    if fitted:
        result.extra["endpoint_cpu_ms"] = {e: [round(v, 6), n] for e, (v, n) in fitted.items()}
    return result


def _pair_row(pp: PairPlan, rec: dict[str, RoundRecord], figs: PairFigures) -> dict[str, Any]:
    keys = ("total.p50", "total.p95", "cpu_ms_per_request", "error_rate")

    def pick(rf: RoundFigures) -> dict[str, float | None]:
        return {k: (round(f.value, 4) if (f := rf.figures.get(k)) else None) for k in keys}

    return {
        "pair": pp.index,
        "launch": figs.launch,
        "order": list(pp.order),
        "block": pp.block,
        "seed": pp.seed,
        "dropped": figs.dropped,
        "lag_p99_ms": {a: round(rec[a].lag_p99_ms, 3) for a in ARMS},
        "requests": {a: rec[a].requests_measured for a in ARMS},
        "base": pick(figs.base),
        "candidate": pick(figs.candidate),
    }


@dataclass
class _Rounds:
    """The paired rounds of one suite so far: run in batches, kept across looks."""

    name: str
    scripts: dict[str, Script]
    initial: dict[str, dict[str, Any]]
    cpu: dict[str, Callable[[], float | None]]
    pids: dict[str, list[int]]
    sessions: dict[str, ArmSession]
    ab: AbConfig
    rate: float
    kept: dict[str, list[RoundRecord]] = field(default_factory=lambda: {a: [] for a in ARMS})
    pairs: list[PairFigures] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    dead: str | None = None  # the arm that crashed: no further rounds
    policy: FailurePolicy = DEFAULT_POLICY  # what a failed request is (metrics.failures)
    trace: AbTrace | None = None  # every slice as it ran, for the report's charts
    launch: int = 0  # the launch the next pairs run in
    replaced: int = 0  # pairs run again because one was dropped for scheduler lag

    def aim(self, sessions: dict[str, ArmSession]) -> None:
        """Follow a new launch's processes (new pids, new CPU clocks)."""
        self.sessions = sessions
        self.cpu = {a: _cpu_reader(sessions[a]) for a in ARMS}
        self.pids = {a: _pids(sessions[a]) for a in ARMS}

    async def run(self, plan: list[PairPlan]) -> None:
        ab = self.ab
        slice_s = ab.round_s / ab.slices
        for pp in plan:
            if self.dead is not None:
                return
            parts: dict[str, list[RoundRecord]] = {a: [] for a in ARMS}
            grown = {a: 0 for a in ARMS}  # resident KiB gained over the arm's slices
            for k, (order, slice_seed) in enumerate(slice_plan(pp, ab.slices)):
                for arm in order:
                    if self.sessions[arm].crashed:
                        self.dead = arm
                        return
                    started = time.monotonic()
                    rss_before = rss_kib(self.pids[arm])
                    parts[arm].append(
                        await run_round(
                            arm,
                            self.scripts[arm],
                            seed=slice_seed,
                            rate=self.rate,
                            duration_s=slice_s,
                            discard_s=slice_s * ab.discard_fraction,
                            initial_vars=self.initial[arm],
                            cpu=self.cpu[arm],
                            pids=self.pids[arm],
                        )
                    )
                    grown[arm] += rss_kib(self.pids[arm]) - rss_before
                    if self.trace is not None:
                        self.trace.add(pp.index, k, started, parts[arm][-1])
            crashed = [a for a in ARMS if self.sessions[a].crashed]
            if crashed:
                self.dead = crashed[0]
                return
            self._add(pp, {a: merge_rounds(parts[a]) for a in ARMS}, grown)

    def _add(self, pp: PairPlan, rec: dict[str, RoundRecord], grown: dict[str, int]) -> None:
        per_arm = {
            a: round_figures(
                self.name,
                rec[a].metrics,
                cpu_s=rec[a].measured_cpu_s,
                duration_s=rec[a].measured_s,
                endpoint_cpu=endpoint_cpu_ms(rec[a].busy),
                policy=self.policy,
            )
            for a in ARMS
        }
        for a in ARMS:
            sent = rec[a].requests_all
            if sent:
                per_arm[a].figures["rss_kib_per_request"] = Figure(
                    self.name, "rss_kib_per_request", grown[a] / sent, "KiB/req", sent
                )
        figs = PairFigures(
            pp.index,
            per_arm["base"],
            per_arm["candidate"],
            launch=self.launch,
            metrics={a: rec[a].metrics for a in ARMS},
        )
        worst = max(rec[a].lag_p99_ms for a in ARMS)
        if worst > self.ab.max_lag_ms:
            figs.dropped = f"scheduler lag p99 {worst:.2f} ms > {self.ab.max_lag_ms:g} ms"
        else:
            for a in ARMS:
                self.kept[a].append(rec[a])
        self.pairs.append(figs)
        self.rows.append(_pair_row(pp, rec, figs))


@dataclass
class _WarmUp:
    """What the warm-up chunks said: each arm's capacity, and the rate the rounds run at."""

    chunks: dict[str, list[ChunkRecord]]
    capacity: dict[str, float | None]
    rate: float
    reason: str
    warnings: list[str]


class LoadSuiteRun:
    """One load suite under A/B, across launches: warm-up, pairs and capacity per launch,
    then the looks (:meth:`finish`).

    The first launch's warm-up sets the rate every launch runs at; the
    planned pairs are split between the launches, and a second look's
    pairs run in the last launch (its processes are still up).
    """

    def __init__(
        self,
        planned: PlannedSuite,
        ab: AbConfig,
        compare: CompareConfig,
        *,
        seed: int,
        primary_budget: int,
        log: Log,
        policy: FailurePolicy = DEFAULT_POLICY,
        priors: LaunchPriors = DEFAULT_PRIORS,
    ) -> None:
        assert planned.script is not None
        self.planned, self.ab, self.compare, self.priors = planned, ab, compare, priors
        self.name = planned.name
        self.seed, self.primary_budget, self.log, self.policy = seed, primary_budget, log, policy
        self.rng = random.Random(seed)
        self.plan = pair_plan(ab.pairs + ab.extend_pairs, seed)
        # the spares for pairs dropped for lag: their own stream, indices after the plan's
        self.spares = [
            replace(pp, index=len(self.plan) + pp.index)
            for pp in (
                pair_plan(ab.replace_dropped, seed ^ _SPARE_SALT) if ab.replace_dropped else []
            )
        ]
        self.first_look = split_pairs(ab.pairs, ab.launches)
        self.capacity_split = split_pairs(ab.capacity_pairs, ab.launches)
        self.rounds: _Rounds | None = None
        self.warm: _WarmUp | None = None
        self.trace: AbTrace | None = None
        self.capacity: list[tuple[float, float, int]] = []  # (base, candidate, launch) ms/arrival
        self.launch_rows: list[dict[str, Any]] = []
        self.started = time.monotonic()

    async def run_launch(self, sessions: dict[str, ArmSession], launch: int) -> None:
        """Warm this launch's processes up, run its share of the pairs and capacity chunks."""
        assert self.planned.script is not None
        scripts = {a: aimed_at(self.planned.script, sessions[a].base_url) for a in ARMS}
        initial = {a: await run_before(scripts[a]) for a in ARMS}
        if self.trace is None:
            self.trace = AbTrace(clock_origin(sessions), warmup=[time.monotonic()])
        warm = await _warm_up_and_rate(
            self.planned, scripts, initial, self.ab, self.rng, sessions, self.log
        )
        if self.warm is None:
            self.warm = warm
            self.trace.warmup.append(time.monotonic())
            sliced = f" in {self.ab.slices} alternating slices" if self.ab.slices > 1 else ""
            per_launch = (
                f" over {self.ab.launches} launches of both arms" if self.ab.launches > 1 else ""
            )
            self.log(
                f"[{self.name}] {self.ab.pairs} pairs of {self.ab.round_s:g}s rounds{sliced}"
                f"{per_launch} at {warm.rate:.1f} arrivals/s ({warm.reason}); seed {self.seed}"
            )
            self.rounds = _Rounds(
                self.name,
                scripts,
                initial,
                {a: _cpu_reader(sessions[a]) for a in ARMS},
                {a: _pids(sessions[a]) for a in ARMS},
                sessions,
                self.ab,
                warm.rate,
                policy=self.policy,
                trace=self.trace,
            )
        else:
            self.warm.warnings += [w for w in warm.warnings if w not in self.warm.warnings]
        rounds = self.rounds
        assert rounds is not None
        rounds.aim(sessions)
        rounds.scripts, rounds.initial, rounds.launch = scripts, initial, launch
        start = sum(self.first_look[:launch])
        before = len(rounds.pairs)
        await rounds.run(self.plan[start : start + self.first_look[launch]])
        await self._replace_dropped(rounds, before)
        if rounds.dead is None and self.capacity_split[launch]:
            await self._capacity_pairs(scripts, initial, sessions, launch)
        self.launch_rows.append(
            {
                "launch": launch,
                "capacity_warmup": {
                    a: None if c is None else round(c, 1) for a, c in warm.capacity.items()
                },
                "peak_rss_kib": {a: peak_rss_kib(_pids(sessions[a])) for a in ARMS},
            }
        )

    async def _replace_dropped(self, rounds: _Rounds, before: int) -> None:
        """Run a spare pair for each pair of this launch dropped for scheduler lag, while
        ``ab.replace_dropped`` lasts.

        One dropped pair at the fewest pairs Holm can use leaves every metric short of
        it, and the first look then asks for a second (12 more pairs, ~50 s); a spare
        costs one pair (~4 s). Whether a pair is dropped depends on the generator's
        lag, never on what the arms measured, so running spares until the planned
        count is usable does not bias a comparison. A spare can be dropped too; the
        count bounds the loop.
        """
        ran = 0
        while rounds.dead is None and rounds.replaced < len(self.spares):
            lost = sum(p.dropped is not None for p in rounds.pairs[before:]) - ran
            if lost <= 0:
                return
            batch = self.spares[rounds.replaced : rounds.replaced + lost]
            self.log(
                f"[{self.name}] {lost} pair(s) dropped for scheduler lag in launch "
                f"{rounds.launch + 1}: running {len(batch)} spare(s)"
            )
            rounds.replaced += len(batch)
            ran += len(batch)
            await rounds.run(batch)

    async def _capacity_pairs(
        self,
        scripts: dict[str, Script],
        initial: dict[str, dict[str, Any]],
        sessions: dict[str, ArmSession],
        launch: int,
    ) -> None:
        """Closed-loop chunks, both arms saturated in turn (ABBA/BAAB blocks, as the rounds),
        both chunks of a pair on one seed."""
        for pp in pair_plan(self.capacity_split[launch], self.rng.randrange(1, 2**31)):
            got: dict[str, float] = {}
            for arm in pp.order:
                if sessions[arm].crashed:
                    return
                chunk = await closed_loop_chunk(
                    arm,
                    scripts[arm],
                    seed=pp.seed,
                    duration_s=CAPACITY_CHUNK_S,
                    concurrency=WARMUP_USERS,
                    initial_vars=initial[arm],
                )
                got[arm] = chunk.arrivals_per_s
            if all(got[a] > 0 for a in ARMS):
                self.capacity.append((1000.0 / got["base"], 1000.0 / got["candidate"], launch))

    async def finish(self, sessions: dict[str, ArmSession]) -> SuiteOutcome:
        """The looks (a second one in the running launch when the first cannot decide)."""
        rounds, warm, trace = self.rounds, self.warm, self.trace
        assert rounds is not None and warm is not None and trace is not None
        rounds.aim(sessions)
        level = look_level(self.ab, self.compare.alpha)
        comparisons, extended = await _run_looks(
            rounds,
            self.plan,
            self.compare,
            first_look=sum(self.first_look),
            level=level,
            primary_budget=self.primary_budget,
            capacity=self.capacity,
            peak_rss=peak_rss_pairs(self.launch_rows),
            log=self.log,
            priors=self.priors,
        )
        details = _details(rounds, warm, self.ab, seed=self.seed, level=level, extended=extended)
        details["launches"] = self.launch_rows
        details["capacity_pairs"] = [[round(b, 4), round(c, 4), k] for b, c, k in self.capacity]
        out = _outcome(self.planned, sessions, rounds, comparisons, details, warm.warnings)
        # every slice as it ran and the arms' latency distributions, for the report's charts
        out.details["trace"] = trace.to_dict(
            {"base": out.base.aggregate, "candidate": out.candidate.aggregate}
        )
        out.details["wall_s"] = round(time.monotonic() - self.started, 1)
        return out


def split_pairs(pairs: int, launches: int) -> list[int]:
    """``pairs`` split between ``launches`` as evenly as possible (earlier launches get more)."""
    launches = max(1, launches)
    return [pairs // launches + (1 if k < pairs % launches else 0) for k in range(launches)]


def peak_rss_kib(pids: list[int]) -> int | None:
    """Peak resident memory of the processes so far (VmHWM), KiB; None where unreadable."""
    total, seen = 0, False
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
                        seen = True
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total if seen else None


async def _warm_up_and_rate(
    planned: PlannedSuite,
    scripts: dict[str, Script],
    initial: dict[str, dict[str, Any]],
    ab: AbConfig,
    rng: random.Random,
    sessions: dict[str, ArmSession],
    log: Log,
) -> _WarmUp:
    assert planned.script is not None
    name = planned.name
    log(f"[{name}] warm-up: both arms, interleaved, closed loop ({WARMUP_USERS} users)")
    chunks = await _warm_up(scripts, initial, ab, rng, sessions)
    capacity = {a: _capacity(chunks[a]) for a in ARMS}
    warnings: list[str] = []
    for a in ARMS:
        # Throughput of the closed-loop chunks, not their medians: a chunk's
        # median swings with its scenario mix (a sign-in is 20x a health check).
        drift = settling_drift([c.arrivals_per_s for c in chunks[a]], tail=8)
        if drift is not None and abs(drift) > SETTLED_DRIFT:
            warnings.append(
                f"{name}: the {a} arm had not settled after warm-up (throughput still moving "
                f"{drift:+.0%}); raise ab.warmup / ab.warmup_requests"
            )
    known = [c for c in capacity.values() if c]
    rate, reason = capped_rate(
        _script_rate(planned.script), ab.rate, min(known) if known else None, ab.capacity_fraction
    )
    # Plan the samples before measuring: a median needs 50 per round.
    plan = plan_samples(
        rate,
        reason,
        requests_per_arrival=requests_per_arrival(planned.script),
        round_s=ab.round_s,
        ceiling=ab.capacity_fraction * min(known) if known else None,
        may_raise=not ab.rate,
    )
    if plan.short:
        log(f"[{name}] too few samples per round for {len(plan.short)} metric(s):")
        for line in plan.short[:8]:
            log(f"[{name}]   {line}")
        warnings.append(
            f"{name}: {len(plan.short)} metric(s) will have too few samples per round to compare "
            f"(first: {plan.short[0]})"
        )
    return _WarmUp(chunks, capacity, plan.rate, plan.reason, warnings)


async def _run_looks(
    rounds: _Rounds,
    plan: list[PairPlan],
    compare: CompareConfig,
    *,
    first_look: int,
    level: float,
    primary_budget: int,
    capacity: list[tuple[float, float, int]],
    peak_rss: list[tuple[int, int]],
    log: Log,
    priors: LaunchPriors = DEFAULT_PRIORS,
) -> tuple[list[MetricComparison], str | None]:
    """The pairs run so far, compared; the extension pairs too when the first look is undecided.

    Returns the comparisons and why the run was extended (None: it was not).
    """
    ab = rounds.ab
    # Chosen once, at the first look: the second look tests the same families.
    first_extras = paired_extra_comparisons(
        rounds.name, rounds.pairs, min_effect=compare.min_effect, min_pairs=MIN_PAIRS
    )
    measured = {c.metric: c.samples or 0 for c in first_extras}
    if len(capacity) >= MIN_PAIRS:
        measured[CAPACITY_METRIC] = len(capacity)
    if peak_rss:
        # a t test over launches: no 2^-n floor, so it joins whenever measured
        measured[PEAK_RSS_METRIC] = sys.maxsize
    families = choose_families(
        rounds.name,
        rounds.pairs,
        declared_primary=compare.primary,
        primary_mode=compare.primary_mode,
        primary_budget=primary_budget,
        min_pairs=MIN_PAIRS,
        alpha=level,
        extras=measured,
        extras_growth=_lag_replacement(rounds, len(plan) > first_look, first_look),
        planned_pairs=first_look,
    )
    extras = [m for m in measured if m in families.secondary]

    def judged(extra: list[MetricComparison] | None = None) -> list[MetricComparison]:
        """All comparisons; ``extra``: the paired extras when already compared on these pairs."""
        out = ab_comparisons(
            rounds.name,
            rounds.pairs,
            min_effect=compare.min_effect,
            min_pairs=MIN_PAIRS,
            alpha=level,
            families=families,
            priors=priors,
        )
        out += (
            extra
            if extra is not None
            else paired_extra_comparisons(
                rounds.name,
                rounds.pairs,
                min_effect=compare.min_effect,
                min_pairs=MIN_PAIRS,
                only=extras,
            )
        )
        if CAPACITY_METRIC in extras:
            out.append(
                capacity_comparison(
                    rounds.name,
                    capacity,
                    min_effect=compare.min_effect,
                    min_pairs=MIN_PAIRS,
                    priors=priors,
                )
            )
        if PEAK_RSS_METRIC in extras:
            out.append(
                peak_rss_comparison(
                    rounds.name, peak_rss, min_effect=compare.min_effect, priors=priors
                )
            )
        return out

    comparisons = judged([c for c in first_extras if c.metric in extras])
    extended: str | None = None
    if rounds.dead is None and len(plan) > first_look:
        extended = undecided(comparisons, level)
        if extended is not None:
            log(
                f"[{rounds.name}] undecided after {first_look} pairs ({extended}): "
                f"{ab.extend_pairs} more"
            )
            await rounds.run(plan[first_look:])
            comparisons = judged()
    return comparisons, extended


def peak_rss_pairs(launch_rows: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """(base, candidate) peak RSS of each launch where both were read (after its pairs
    and capacity chunks of the first look)."""
    out = []
    for row in launch_rows:
        peak = row.get("peak_rss_kib") or {}
        if peak.get("base") and peak.get("candidate"):
            out.append((int(peak["base"]), int(peak["candidate"])))
    return out


def _lag_replacement(rounds: _Rounds, can_extend: bool, first_look: int) -> float:
    """Pairs planned for the first look / pairs usable: what a second look would put
    back for pairs lost to scheduler lag and not already run again as spares (an RSS
    figure one dropped pair short of Holm keeps its place)."""
    used = sum(p.dropped is None for p in rounds.pairs)
    if not can_extend or rounds.dead is not None or used == 0:
        return 1.0
    return max(1.0, first_look / used)


def _details(
    rounds: _Rounds,
    warm: _WarmUp,
    ab: AbConfig,
    *,
    seed: int,
    level: float,
    extended: str | None,
) -> dict[str, Any]:
    """The suite's A/B record: rate, warm-up, pairs (the report's and the studies' reading)."""
    chunks = warm.chunks
    dropped = sum(p.dropped is not None for p in rounds.pairs)
    return {
        "rate": round(warm.rate, 3),
        "rate_reason": warm.reason,
        "capacity": {a: None if c is None else round(c, 1) for a, c in warm.capacity.items()},
        "requests_per_arrival": _requests_per_arrival(chunks),
        "warmup": {
            a: {
                "chunks": len(chunks[a]),
                "requests": sum(c.requests for c in chunks[a]),
                "seconds": round(sum(c.elapsed_s for c in chunks[a]), 2),
                "medians_ms": [
                    None if c.median_ms is None else round(c.median_ms, 3) for c in chunks[a]
                ],
            }
            for a in ARMS
        },
        "seed": seed,
        "pairs_planned": ab.pairs + (ab.extend_pairs if extended else 0),
        "pairs_replaced": rounds.replaced,
        "extended": extended,
        "alpha_per_look": round(level, 5),
        "pairs_used": len(rounds.pairs) - dropped,
        "pairs_dropped": dropped,
        "round_s": ab.round_s,
        "slices": ab.slices,
        "discard_s": ab.round_s * ab.discard_fraction,
        "max_lag_ms": ab.max_lag_ms,
        "pairs": rounds.rows,
    }


def _outcome(
    planned: PlannedSuite,
    sessions: dict[str, ArmSession],
    rounds: _Rounds,
    comparisons: list[MetricComparison],
    details: dict[str, Any],
    warnings: list[str],
) -> SuiteOutcome:
    """Both arms' suite results, and what makes the suite inconclusive or stopped."""
    assert planned.script is not None
    name, ab = planned.name, rounds.ab
    pairs, dead = rounds.pairs, rounds.dead
    dropped, used = details["pairs_dropped"], details["pairs_used"]
    extra = {"ab": {k: details[k] for k in ("rate", "seed", "pairs_used", "pairs_dropped")}}
    source = str(planned.script.source)
    out = SuiteOutcome(
        base=_suite_result(name, source, rounds.kept["base"], extra),
        candidate=_suite_result(name, source, rounds.kept["candidate"], extra),
    )
    if dropped:
        warnings.append(
            f"{name}: {dropped} of {len(pairs)} round pairs dropped (scheduler lag p99 over "
            f"{ab.max_lag_ms:g} ms: the generator was late, so those rounds are not comparable)"
            + (f"; {rounds.replaced} spare pair(s) run in their place" if rounds.replaced else "")
        )
    if used < MIN_PAIRS:
        out.inconclusive.append(
            f"{name}: only {used} comparable round pairs (< {MIN_PAIRS}); "
            + (f"{dropped} dropped for scheduler lag" if dropped else "an arm stopped early")
        )
    if dead is not None:
        out.stopped = True
        message = sessions[dead].record_crash(getattr(out, dead))
        if dead == "base":
            out.inconclusive.append(f"the base died during the A/B rounds: {message}")
    out.comparisons = comparisons
    details["primary_pairs"] = _primary_pairs(pairs, comparisons)
    out.details = details
    out.warnings = warnings
    return out


def _primary_pairs(
    pairs: list[PairFigures], comparisons: list[MetricComparison]
) -> dict[str, list[list[float | None]]]:
    """The per-pair figures behind each gating comparison, for the report's reader
    and for judging decision rules on recorded runs (studies/detection.py)."""
    return {
        c.metric: [
            [_rounded(p.base.value(c.metric)), _rounded(p.candidate.value(c.metric))]
            for p in pairs
            if p.dropped is None
        ]
        for c in comparisons
        if c.family == "primary" and c.unit != "ratio" and c.state != "new"
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _requests_per_arrival(chunks: dict[str, list[ChunkRecord]]) -> float | None:
    requests = sum(c.requests for cs in chunks.values() for c in cs)
    arrivals = sum(c.arrivals for cs in chunks.values() for c in cs)
    return round(requests / arrivals, 3) if arrivals else None
