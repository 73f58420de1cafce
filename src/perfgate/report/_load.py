"""Read a report file: perfgate's RunResult JSON or an Artillery-shaped report.

Accepted shapes (the first that matches wins):

1. a RunResult dict (``{"run_id": ..., "suites": [...], ...}``);
2. an Artillery-shaped report whose ``perfgate`` key holds
   ``{"run": <RunResult>}`` (optionally with ``"verdict"``), a RunResult dict
   itself, or ``{"suite": <SuiteResult>, "environment": {...}}`` as
   ``report/artillery_json.py`` writes it / a SuiteResult dict (wrapped in a
   RunResult).

The verdict is the run's own ``verdict`` field, else ``perfgate.verdict``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfgate.errors import PerfgateError
from perfgate.result import RunResult, SuiteResult
from perfgate.verdict import Verdict

__all__ = ["load_report_input", "parse_report_input"]

_SHAPES = (
    'a perfgate RunResult JSON, or an Artillery-shaped report with a "perfgate" key '
    'holding {"run": RunResult} or a RunResult/SuiteResult'
)


def _is_run(d: Any) -> bool:
    return isinstance(d, dict) and isinstance(d.get("suites"), list)


def _is_suite(d: Any) -> bool:
    return isinstance(d, dict) and "kind" in d and "name" in d and "suites" not in d


def parse_report_input(data: Any, source: str = "<report>") -> tuple[RunResult, Verdict | None]:
    """The run and its verdict (if any) from a decoded report document."""
    if not isinstance(data, dict):
        raise PerfgateError(f"{source}: expected a JSON object: {_SHAPES}")
    verdict_data: Any = None
    try:
        if _is_run(data):
            run = RunResult.from_dict(data)
        elif isinstance(data.get("perfgate"), dict):
            pg = data["perfgate"]
            verdict_data = pg.get("verdict")
            if _is_run(pg.get("run")):
                run = RunResult.from_dict(pg["run"])
            elif _is_run(pg):
                run = RunResult.from_dict(pg)
            elif _is_suite(pg.get("suite")):
                env = pg.get("environment")  # report/artillery_json.py writes it beside the suite
                run = RunResult(
                    suites=[SuiteResult.from_dict(pg["suite"])],
                    environment=dict(env) if isinstance(env, dict) else {},
                )
            elif _is_suite(pg):
                run = RunResult(suites=[SuiteResult.from_dict(pg)])
            else:
                raise PerfgateError(
                    f'{source}: the "perfgate" key holds no run or suite: {_SHAPES}'
                )
        else:
            keys = ", ".join(sorted(map(str, data))[:8]) or "none"
            raise PerfgateError(
                f"{source}: not a perfgate report (top-level keys: {keys}); expected {_SHAPES}"
            )
        verdict_data = run.verdict or verdict_data
        verdict = Verdict.from_dict(verdict_data) if isinstance(verdict_data, dict) else None
    except (KeyError, TypeError, ValueError) as exc:
        raise PerfgateError(
            f"{source}: malformed perfgate report: {type(exc).__name__}: {exc}"
        ) from exc
    return run, verdict


def load_report_input(path: str | Path) -> tuple[RunResult, Verdict | None]:
    """Read and parse a report file; every failure is a PerfgateError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PerfgateError(f"cannot read {p}: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PerfgateError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc
    return parse_report_input(data, str(p))
