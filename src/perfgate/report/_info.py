"""The report's information rows: environment and test parameters."""

from __future__ import annotations

from typing import Any

from perfgate.report._format import short_source
from perfgate.result import RunResult, SuiteResult
from perfgate.verdict import Verdict

__all__ = ["flatten", "parameters", "suite_duration"]


def suite_duration(suite: SuiteResult) -> float:
    return suite.duration_s if suite.duration_s > 0 else suite.aggregate.duration_s


#: A parameter value longer than this is cut (the full record is report.json).
MAX_VALUE_CHARS = 160


def _short(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def flatten(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """Nested details as (key path, short text) rows; records are counted, not printed."""
    if isinstance(data, dict):
        out: list[tuple[str, str]] = []
        for k, v in data.items():
            out.extend(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list):
        if any(isinstance(x, dict | list) for x in data):
            return [(prefix, f"{len(data)} records (see report.json)")]
        return [(prefix, _short(", ".join(str(x) for x in data)))]
    return [(prefix, "" if data is None else _short(str(data)))]


def parameters(run: RunResult, verdict: Verdict | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key in ("profile", "label", "tool_version", "config_hash", "branch", "commit", "pr"):
        value = getattr(run, key)
        if value not in (None, ""):
            out.append((key, str(value)))
    for s in run.suites:
        desc = f"{s.kind}, {short_source(s.source) or 'inline'}, {suite_duration(s):.1f} s"
        if s.scheduler is not None:
            sc = s.scheduler
            desc += f", arrivals {sc.launched}/{sc.planned}, lag p99 {sc.lag_p99_ms:.1f} ms"
            if sc.generator_limited:
                desc += " (generator-limited)"
        out.append((f"suite {s.name}", desc))
    if verdict is not None:
        out.append(("comparison mode", verdict.mode))
        out.extend(flatten(_without_charts(verdict.details), "verdict"))
    return out


#: Details that are the charts' data (drawn, not listed): per round, per pair, per arm.
CHART_DATA_KEYS = frozenset({"trace", "process", "primary_pairs", "pairs", "warmup", "history"})


def _without_charts(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_charts(v) for k, v in data.items() if k not in CHART_DATA_KEYS}
    return data
