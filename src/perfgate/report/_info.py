"""The report's information rows: environment and test parameters."""

from __future__ import annotations

from typing import Any

from perfgate.result import RunResult, SuiteResult
from perfgate.verdict import Verdict

__all__ = ["flatten", "parameters", "suite_duration"]


def suite_duration(suite: SuiteResult) -> float:
    return suite.duration_s if suite.duration_s > 0 else suite.aggregate.duration_s


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        out: list[tuple[str, str]] = []
        for k, v in data.items():
            out.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list):
        return [(prefix, ", ".join(str(x) for x in data))]
    return [(prefix, "" if data is None else str(data))]


def parameters(run: RunResult, verdict: Verdict | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key in ("profile", "label", "tool_version", "config_hash", "branch", "commit", "pr"):
        value = getattr(run, key)
        if value not in (None, ""):
            out.append((key, str(value)))
    for s in run.suites:
        desc = f"{s.kind}, {s.source or 'inline'}, {suite_duration(s):.1f} s"
        if s.scheduler is not None:
            sc = s.scheduler
            desc += f", arrivals {sc.launched}/{sc.planned}, lag p99 {sc.lag_p99_ms:.1f} ms"
            if sc.generator_limited:
                desc += " (generator-limited)"
        out.append((f"suite {s.name}", desc))
    if verdict is not None:
        out.append(("comparison mode", verdict.mode))
        out.extend(flatten(verdict.details, "verdict"))
    return out
