"""Which suites a profile runs, loaded and validated before anything starts.

Every script and bench suite is loaded up front, so a typo in the third
suite fails in a second with file, line and key path — not after the API
was built and the first two suites ran. The ``pr`` profile measures a
steady slice of each load script: its sustained phase, shortened to fit the
profile's budget.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from perfgate.errors import ConfigError
from perfgate.metrics import FailurePolicy

if TYPE_CHECKING:
    from perfgate.bench import Suite
    from perfgate.config import ProjectConfig, SuiteConfig
    from perfgate.script import Phase, Script

__all__ = ["PlannedSuite", "plan_suites", "steady_phase", "steady_slice", "with_target"]

#: Placeholder target used while loading; each arm sets its own URL.
_PLAN_TARGET = "http://127.0.0.1:1"

#: Share of a profile's budget that load slices may take (bench suites and
#: warm-up take the rest).
_LOAD_SHARE = 0.6


@dataclass
class PlannedSuite:
    """One suite, loaded, ready to run against any target."""

    config: SuiteConfig
    kind: Literal["load", "bench", "stress"]
    script: Script | None = None
    bench: Suite | None = None
    slice_s: float | None = None  # pr profile: the steady slice's length
    failures: FailurePolicy | None = None  # what a failed request is (slo.fail_on_4xx)

    @property
    def name(self) -> str:
        return self.config.name


def steady_phase(phases: list[Phase], choice: str | int | None = None) -> Phase:
    """The phase to slice: named/indexed by ``choice``, else the longest constant-rate one."""
    if choice is not None:
        for p in phases:
            if (isinstance(choice, int) and p.index == choice) or p.name == choice:
                if p.arrival_rate is None and p.arrival_count is None:
                    raise ConfigError(f"slice_phase {choice!r} is a pause, not a load phase")
                return p
        names = ", ".join(repr(p.name or p.index) for p in phases)
        raise ConfigError(f"slice_phase {choice!r} names no phase (phases: {names})")
    steady = [
        p for p in phases if p.arrival_rate is not None and p.ramp_to is None and p.pause_s is None
    ]
    if not steady:
        steady = [p for p in phases if p.arrival_rate is not None or p.arrival_count is not None]
    if not steady:
        raise ConfigError("the script has no load phase to slice")
    return max(steady, key=lambda p: (p.duration_s, p.arrival_rate or 0.0))


def steady_slice(script: Script, *, duration_s: float, choice: str | int | None = None) -> Script:
    """A copy of ``script`` that runs only its steady phase, for ``duration_s`` at most."""
    phase = steady_phase(script.phases, choice)
    rate = phase.arrival_rate
    if rate is None and phase.arrival_count is not None and phase.duration_s > 0:
        rate = phase.arrival_count / phase.duration_s
    if rate is None or rate <= 0:
        raise ConfigError(f"phase {phase.name or phase.index!r} has no arrival rate to slice")
    length = min(duration_s, phase.duration_s) if phase.duration_s > 0 else duration_s
    sliced = dataclasses.replace(
        phase,
        index=0,
        name=f"{phase.name or 'phase ' + str(phase.index)} (steady slice)",
        duration_s=length,
        arrival_rate=rate,
        ramp_to=None,
        arrival_count=None,
        pause_s=None,
    )
    return dataclasses.replace(script, phases=[sliced])


def with_target(planned: PlannedSuite, url: str) -> PlannedSuite:
    """The same suite aimed at ``url`` (each A/B arm has its own port).

    Nothing is re-read: request URLs are joined to the target when sent.
    """
    from perfgate.script import aimed_at

    if planned.bench is not None:
        bench = dataclasses.replace(planned.bench, target=url)
        return dataclasses.replace(planned, bench=bench)
    assert planned.script is not None
    return dataclasses.replace(planned, script=aimed_at(planned.script, url))


def _load(sc: SuiteConfig) -> Script:
    from perfgate.script import load_script

    return load_script(sc.path, target=_PLAN_TARGET, time_scale=sc.time_scale or 1.0)


def plan_suites(cfg: ProjectConfig, profile: str) -> list[PlannedSuite]:
    """Load every suite of ``profile``; raises ConfigError on the first bad one."""
    from perfgate.bench import load_suite

    if profile not in cfg.profiles:
        known = ", ".join(sorted(cfg.profiles))
        raise ConfigError(f"unknown profile {profile!r} (known: {known})", file=str(cfg.path or ""))
    budget = cfg.profiles[profile].budget_s
    chosen = cfg.suites_for(profile)
    if not chosen:
        raise ConfigError(
            f"profile {profile!r} runs no suite", file=str(cfg.path or ""), key_path="suites"
        )
    loads = [s for s in chosen if s.kind == "load"]
    out: list[PlannedSuite] = []
    for sc in chosen:
        if sc.kind == "bench":
            out.append(PlannedSuite(sc, "bench", bench=load_suite(sc.path, target=_PLAN_TARGET)))
            continue
        script = _load(sc)
        slice_s = None
        if sc.kind == "load" and (
            budget is not None or sc.slice_phase is not None or sc.max_duration_s
        ):
            share = (budget * _LOAD_SHARE / max(1, len(loads))) if budget is not None else None
            limits = [x for x in (share, sc.max_duration_s) if x]
            slice_s = (
                min(limits) if limits else steady_phase(script.phases, sc.slice_phase).duration_s
            )
            script = steady_slice(script, duration_s=slice_s, choice=sc.slice_phase)
        out.append(
            PlannedSuite(
                sc, sc.kind, script=script, slice_s=slice_s, failures=cfg.slo.failure_policy()
            )
        )
    return out
