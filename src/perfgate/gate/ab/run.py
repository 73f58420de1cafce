"""Same-runner A/B: base and candidate on one machine, interleaved (docs/ab.md).

Both copies of the API are up at once, each on its own port, work dir and
database, both pinned to the arms' CPU (``ab.cpus.arms``) while the load
generator keeps to its own (``ab.cpus.generator``). Each arm is warmed up
(closed loop, interleaved, which also measures its capacity); then the
rounds: ``ab.pairs`` pairs of ``ab.round_s``-second rounds at one steady
rate, in ABBA/BAAB blocks, both rounds of a pair replaying the same
arrivals, scenario picks and variables. The idle arm gets no traffic.
docs/ab.md has the design and the measured noise.

:func:`run_ab` returns what was measured and compared; the gate applies
Holm, the SLO checks and the verdict.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfgate.errors import PerfgateError, ServiceError
from perfgate.gate.ab.bench import run_bench_pair
from perfgate.gate.ab.calibration import configured_priors
from perfgate.gate.ab.design import launch_order, new_seed
from perfgate.gate.ab.launches import LaunchPriors
from perfgate.gate.ab.stats import MAX_PRIMARY
from perfgate.gate.ab.suite import LoadSuiteRun
from perfgate.gate.ab.trace import arm_process_rows, clock_origin
from perfgate.gate.console import Log
from perfgate.gate.session import ArmSession
from perfgate.metrics import FailurePolicy
from perfgate.result import RunResult
from perfgate.verdict import MetricComparison

if TYPE_CHECKING:
    from perfgate.config import AbConfig, CompareConfig, MonitorConfig, ProjectConfig
    from perfgate.gate.plan import PlannedSuite
    from perfgate.target import ServiceSpec

__all__ = ["AbOutcome", "run_ab"]

#: Each load suite's seed is the run's plus this prime times its index, so
#: two suites of one run never share arrival times or picks.
_SUITE_SEED_STRIDE = 7919


@dataclass
class AbOutcome:
    """What the A/B orchestration measured and concluded (before SLOs and the verdict)."""

    base: RunResult  # label "base": its suites, monitor, checks
    candidate: RunResult  # label "candidate"
    comparisons: list[MetricComparison] = field(default_factory=list)  # Holm not yet applied
    inconclusive: list[str] = field(default_factory=list)  # e.g. "base could not be built"
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # candidate never started, ...
    details: dict[str, Any] = field(
        default_factory=dict
    )  # seed, rate, pairs, dropped pairs, capacity


def _placement(ab: AbConfig, warnings: list[str]) -> tuple[list[int] | None, list[int] | None]:
    """(arm CPUs, generator CPUs), or None where this machine cannot honour them."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is None:
        warnings.append("CPU placement is Linux-only: arms and generator share every CPU")
        return None, None
    allowed = set(getter(0))
    arms, gen = list(ab.arm_cpus or []), list(ab.generator_cpus or [])
    if len(allowed) < 2:
        warnings.append(
            f"only {len(allowed)} CPU available: the generator shares it with both arms "
            "(expect more noise)"
        )
        return None, None
    missing = sorted((set(arms) | set(gen)) - allowed)
    if missing:
        warnings.append(
            f"ab.cpus names CPUs {missing} this machine does not offer (allowed: "
            f"{sorted(allowed)}): no CPU placement"
        )
        return None, None
    return arms or None, gen or None


@contextmanager
def _pinned(cpus: list[int] | None) -> Iterator[None]:
    """Pin this process (the generator) to ``cpus`` for the block; restore after."""
    setter = getattr(os, "sched_setaffinity", None)
    if not cpus or setter is None:
        yield
        return
    before = os.sched_getaffinity(0)
    try:
        setter(0, cpus)
    except OSError:
        yield
        return
    try:
        yield
    finally:
        try:
            setter(0, before)
        except OSError:
            pass


def _quiet_monitor(config: MonitorConfig) -> MonitorConfig:
    # Health and metrics polls would be traffic to an arm outside its round
    # (and CPU inside the other's); counting connections parses
    # /proc/net/tcp, milliseconds of CPU that would delay arrivals. The
    # process sampler reads /proc/<pid> only.
    return dataclasses.replace(config, health_url=None, metrics_url=None, connections=False)


def _arm_session(
    label: str,
    spec: ServiceSpec,
    cpus: tuple[list[int] | None, list[int] | None],
    monitor: MonitorConfig,
    log: Log,
) -> ArmSession:
    arm_cpus, gen_cpus = cpus
    if arm_cpus:
        spec = dataclasses.replace(spec, cpus=list(arm_cpus))
    return ArmSession(
        label,
        spec=spec,
        monitor_config=_quiet_monitor(monitor),
        monitor_cpus=list(gen_cpus) if gen_cpus else None,
        log=log,
    )


def run_ab(
    cfg: ProjectConfig,
    planned: list[PlannedSuite],
    *,
    base_spec: ServiceSpec | None,
    candidate_spec: ServiceSpec,
    log: Log = print,
    priors: LaunchPriors | None = None,
) -> AbOutcome:
    """Start both arms, warm them up, run the interleaved rounds, compare.

    A base that cannot start makes the outcome inconclusive and the candidate
    is still measured alone (history can then stand in); a candidate that
    cannot start is an error. ``priors``: the launch-level SDs to compare
    with; by default ``ab.calibration``'s, else the built-in ones (a bad
    calibration file is a ConfigError, raised before anything starts).
    """
    from perfgate.store import environment_fingerprint

    ab = cfg.ab
    seed = ab.seed if ab.seed is not None else new_seed()
    env = environment_fingerprint()
    prior_warnings: list[str] = []
    if priors is None:
        priors, prior_warnings = configured_priors(cfg, env)
    out = AbOutcome(
        base=RunResult(label="base", environment=dict(env)),
        candidate=RunResult(label="candidate", environment=dict(env)),
    )
    out.warnings += prior_warnings
    out.details.update({"seed": seed, "pairs_planned": ab.pairs, "round_s": ab.round_s})
    out.details["calibrated_metrics"] = sum(len(m) for m in priors.measured.values())
    arm_cpus, gen_cpus = _placement(ab, out.warnings)
    out.details["cpus"] = {"arms": arm_cpus, "generator": gen_cpus}
    sessions: dict[str, ArmSession] = {}
    # Both arms are launched before either is waited for: in A/A runs with
    # one arm started after the other was ready, the older process served
    # the route 0.5-0.9% slower (docs/detection.md). Which is launched first
    # is still drawn from the seed, so no order repeats in every run.
    starts = [("candidate", candidate_spec)]
    if base_spec is not None:
        starts.append(("base", base_spec))
        if launch_order(seed, 0, ab.launches)[0] == "base":
            starts.reverse()
    out.details["started_first"] = starts[0][0]

    try:
        for label, spec in starts:
            sessions[label] = _arm_session(label, spec, (arm_cpus, gen_cpus), cfg.monitor, log)
        if not _start_arms(sessions, [label for label, _ in starts], out, log):
            return out
        with _pinned(gen_cpus):
            if "base" in sessions:
                try:
                    asyncio.run(
                        _experiment(
                            cfg.ab,
                            cfg.compare,
                            planned,
                            sessions,
                            out,
                            seed,
                            log,
                            cfg.slo.failure_policy(),
                            priors,
                        )
                    )
                except KeyboardInterrupt:  # Ctrl-C: keep the suites finished so far
                    out.details["interrupted"] = True
                for p in planned:
                    if p.kind == "stress":  # one arm's limit search is no A/B pair
                        out.warnings.append(f"{p.name}: stress suites are not run in A/B mode")
            else:
                log("A/B: no base arm; measuring the candidate alone")
                for p in planned:
                    out.candidate.suites.append(sessions["candidate"].run_suite(p))
    finally:
        _stop_arms(sessions, out)
    return out


def _start_arms(
    sessions: dict[str, ArmSession], order: list[str], out: AbOutcome, log: Log
) -> bool:
    """Set both arms up at once, launch both, wait for both; False when the run cannot go on.

    Setup first, both arms in parallel (a build, an install): then the
    launches are milliseconds apart, not one setup apart. An arm that fails
    leaves ``sessions``; a base that fails leaves the outcome inconclusive.
    """

    def failed(label: str, exc: PerfgateError) -> bool:
        sessions.pop(label, None)
        if label == "candidate":
            out.errors.append(f"the candidate could not start: {exc}")
            return True
        out.inconclusive.append(f"base could not be built: {exc}")
        log(f"[base] could not start: {exc}")
        return False

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        setups = {label: pool.submit(s.set_up) for label, s in sessions.items()}
    for label in order:
        exc = setups[label].exception()
        if isinstance(exc, PerfgateError):
            if failed(label, exc):
                return False
        elif exc is not None:
            raise exc
    out.details["setup_s"] = {
        label: None if s.setup_s is None else round(s.setup_s, 2) for label, s in sessions.items()
    }
    launched: list[float] = []
    for step in ("launch", "wait_ready"):
        for label in [x for x in order if x in sessions]:
            try:
                getattr(sessions[label], step)()
            except PerfgateError as exc:
                if failed(label, exc):
                    return False
            if step == "launch":
                launched.append(time.monotonic())
        if step == "launch" and len(launched) == 2:  # seconds apart, setup excluded
            out.details["launch_gap_s"] = round(launched[1] - launched[0], 3)
            log(f"A/B: both arms launched {1000 * out.details['launch_gap_s']:.0f} ms apart")
    return True


def _stop_arms(sessions: dict[str, ArmSession], out: AbOutcome) -> None:
    """Stop both arms (never losing the results); both arms' RSS/CPU on one clock."""
    for label, session in sessions.items():
        run = out.base if label == "base" else out.candidate
        try:
            run.monitor = session.stop()
        except Exception as exc:  # stopping must not cost the results
            out.warnings.append(f"[{label}] stop: {exc}")
        out.warnings.extend(session.warnings)
    if sessions:  # for the report
        origin = clock_origin(sessions)
        out.details["process"] = {
            label: arm_process_rows(
                s, (out.base if label == "base" else out.candidate).monitor, origin
            )
            for label, s in sessions.items()
        }


def _relaunch(
    sessions: dict[str, ArmSession], order: Sequence[str], out: AbOutcome, log: Log
) -> bool:
    """Both arms afresh for the next launch: both spawned, then both waited for.

    False when an arm could not come back (the run keeps what it measured).
    """
    records = out.details.setdefault("earlier_launch_monitors", {})
    for step in ("relaunch", "wait_ready"):
        for label in order:
            try:
                result = getattr(sessions[label], step)()
            except PerfgateError as exc:
                if label == "candidate":
                    out.errors.append(f"the candidate could not be launched again: {exc}")
                else:
                    out.inconclusive.append(f"the base could not be launched again: {exc}")
                return False
            if step == "relaunch":
                records.setdefault(label, []).append(result)
    log(f"A/B: both arms launched afresh ({order[0]} first)")
    return True


async def _experiment(
    ab: AbConfig,
    compare: CompareConfig,
    planned: list[PlannedSuite],
    sessions: dict[str, ArmSession],
    out: AbOutcome,
    seed: int,
    log: Log,
    policy: FailurePolicy,
    priors: LaunchPriors,
) -> None:
    rng = random.Random(seed)
    runs = [
        LoadSuiteRun(
            p,
            ab,
            compare,
            seed=seed + _SUITE_SEED_STRIDE * index,
            primary_budget=MAX_PRIMARY,
            log=log,
            policy=policy,
            priors=priors,
        )
        for index, p in enumerate(x for x in planned if x.kind == "load")
    ]
    started: list[LoadSuiteRun] = []
    stopped = False
    for launch in range(ab.launches):
        if launch and (
            not runs or not _relaunch(sessions, launch_order(seed, launch, ab.launches), out, log)
        ):
            break
        for run in runs:
            try:
                await run.run_launch(sessions, launch)
            except ServiceError as exc:
                out.errors.append(f"{run.name}: {exc}")
                stopped = True
                break
            if run not in started:
                started.append(run)
            if run.rounds is not None and run.rounds.dead is not None:
                stopped = True
                break
        if stopped:
            break
    out.details["launches"] = ab.launches
    suites: dict[str, Any] = {}
    for run in started:
        outcome = await run.finish(sessions)
        out.base.suites.append(outcome.base)
        out.candidate.suites.append(outcome.candidate)
        out.comparisons += outcome.comparisons
        out.warnings += outcome.warnings
        out.errors += outcome.errors
        out.inconclusive += outcome.inconclusive
        suites[run.name] = outcome.details
        if outcome.stopped:
            break
    for p in planned:
        if p.kind != "bench":
            continue
        base, cand, comps = await run_bench_pair(
            p,
            sessions,
            rng=rng,
            log=log,
            ab=ab,
            compare=compare,
            earlier=out.comparisons,
            details=suites,
            priors=priors,
        )
        out.base.suites.append(base)
        out.candidate.suites.append(cand)
        out.comparisons += comps
    out.details["suites"] = suites
    first = next(iter(suites.values()), None)
    if first:  # the headline figures of the first load suite, for the report's summary
        for key in ("rate", "rate_reason", "capacity", "pairs_used", "pairs_dropped", "extended"):
            out.details[key] = first.get(key)
