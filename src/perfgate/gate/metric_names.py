"""The metric names a plan can produce, and ``compare.primary`` checked against them.

Names are what every report prints: a suite's own figures (``total.p50``,
``error_rate``, ``cpu_ms_per_request``...) and each endpoint's, prefixed
``endpoint:<name> `` where the name is the one Artillery's
metrics-by-endpoint gives (``/api/bounties`` or ``GET /x (name)``).
``compare.primary`` takes either form, or ``<suite>:<name>`` for one suite.
A name that no planned suite can produce is a config error with a
suggestion, never a silent no-op, and a suite's declared core must fit its
budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from perfgate.config import suggest
from perfgate.errors import ConfigError
from perfgate.gate.ab.stats import MAX_PRIMARY
from perfgate.script import LoopStep, RequestStep, Script, Step, endpoint_of, request_steps

if TYPE_CHECKING:
    from perfgate.config import CompareConfig
    from perfgate.gate.plan import PlannedSuite

__all__ = [
    "ENDPOINT_STATS",
    "SUITE_METRICS",
    "check_primary",
    "planned_metric_names",
    "requests_per_arrival",
    "suite_metric_names",
]

#: A load suite's own figures, as every report names them.
SUITE_METRICS = ("total.p50", "total.p95", "total.p99", "error_rate", "cpu_ms_per_request")
#: Each endpoint's figures, after ``endpoint:<name> ``.
ENDPOINT_STATS = ("total.p50", "total.p95", "total.p99", "cpu_ms_per_request", "error_rate")


def _endpoints(script: Script) -> list[str]:
    steps: list[Step] = [*script.before, *script.after]
    for scenario in script.scenarios:
        steps += scenario.flow
    return sorted({endpoint_of(script, step) for step in request_steps(steps)})


def _expected(script: Script, steps: Sequence[Step], times: float, out: dict[str, float]) -> None:
    for step in steps:
        if isinstance(step, LoopStep):
            passes = (step.count - step.count_from) if step.count else len(step.over or []) or 1
            _expected(script, step.steps, times * max(1, passes), out)
        elif isinstance(step, RequestStep):
            name = endpoint_of(script, step)
            out[name] = out.get(name, 0.0) + times


def requests_per_arrival(script: Script) -> dict[str, float]:
    """Endpoint -> requests of it one arrival makes on average (the scenario mix).

    A dry estimate from the script (loops at their count, or once when it is
    decided at run time), to plan the A/B rate before measuring.
    """
    total_weight = sum(sc.weight for sc in script.scenarios) or 1.0
    out: dict[str, float] = {}
    for scenario in script.scenarios:
        _expected(script, scenario.flow, scenario.weight / total_weight, out)
    return out


def suite_metric_names(planned: PlannedSuite) -> list[str]:
    """Every comparable metric name one load suite can produce (a dry plan)."""
    if planned.script is None:
        return []
    out = list(SUITE_METRICS)
    for endpoint in _endpoints(planned.script):
        out += [f"endpoint:{endpoint} {stat}" for stat in ENDPOINT_STATS]
    return out


def check_primary(compare: CompareConfig, planned: Sequence[PlannedSuite]) -> None:
    """Raise ConfigError for a ``compare.primary`` name no suite produces, or a budget overrun."""
    catalogue = {p.name: suite_metric_names(p) for p in planned if p.script is not None}
    if not catalogue:
        return
    known = {m for names in catalogue.values() for m in names}
    known |= {f"{suite}:{m}" for suite, names in catalogue.items() for m in names}
    for i, name in enumerate(compare.primary):
        if name in known:
            continue
        file, line = compare.primary_at[i] if i < len(compare.primary_at) else (None, None)
        raise ConfigError(
            f"no planned suite produces the metric {name!r} "
            "(list them with: perfgate gate --list-metrics)",
            file=file,
            line=line,
            key_path=f"compare.primary[{i}]",
            suggestion=suggest(name, sorted(known)),
        )
    for suite, names in catalogue.items():
        mine = [n for n in compare.primary if n in names or n.startswith(f"{suite}:")]
        if len(mine) > MAX_PRIMARY:
            file, line = compare.primary_at[0] if compare.primary_at else (None, None)
            raise ConfigError(
                f"{len(mine)} primary metrics declared for suite {suite!r}, over the core "
                f"family's budget of {MAX_PRIMARY} per suite (Holm over more needs more round "
                "pairs); declare fewer: every other endpoint is gated in the secondary family",
                file=file,
                line=line,
                key_path="compare.primary",
            )


def planned_metric_names(config: str | Path, profile: str = "pr") -> dict[str, list[str]]:
    """Suite -> the metric names its load suite can produce, for ``--list-metrics``."""
    from perfgate.config import load_project
    from perfgate.gate.plan import plan_suites

    cfg = load_project(config)
    return {p.name: suite_metric_names(p) for p in plan_suites(cfg, profile) if p.script}
