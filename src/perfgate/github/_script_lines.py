"""Error annotations on the script line: a regressed endpoint points at its request.

perfgate keeps the YAML line of every key it loads; a comparison or SLO check
naming ``endpoint:/api/x`` is mapped back to the first request step of the
suite's Artillery script whose metrics-by-endpoint name is ``/api/x``, so the
annotation reads ``::error file=perf/load.yml,line=42::...`` and GitHub shows
it on that line of the pull request's files. Findings without an endpoint, or
whose script lies outside the repository, are annotated without a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from perfgate.errors import PerfgateError

if TYPE_CHECKING:
    from perfgate.result import Check
    from perfgate.script import Script
    from perfgate.verdict import MetricComparison

__all__ = ["ScriptAnnotation", "endpoint_lines", "finding_annotations"]


@dataclass(frozen=True, slots=True)
class ScriptAnnotation:
    message: str
    title: str
    file: str | None = None
    line: int | None = None


def endpoint_lines(script: Script) -> dict[str, int]:
    """Endpoint name -> line of its first request step in ``script.source``."""
    from perfgate.config import load_yaml
    from perfgate.script import endpoint_of, request_steps

    try:
        doc = load_yaml(script.source)
    except (PerfgateError, OSError):
        return {}
    flows = [*(s.flow for s in script.scenarios), script.before, script.after]
    out: dict[str, int] = {}
    for flow in flows:
        for step in request_steps(flow):
            name = endpoint_of(script, step)
            line = doc.line_of(step.path)
            if line is not None:
                out.setdefault(name, line)
    return out


def _relative(path: Path, repo_root: Path | None) -> str | None:
    if repo_root is None:
        return None
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return None


def _endpoint_of(metric: str) -> str | None:
    from perfgate.figures import split_metric

    _, kind, name = split_metric(metric)
    return name if kind == "endpoint" else None


def finding_annotations(
    comparisons: Iterable[MetricComparison],
    checks: Iterable[Check],
    scripts: Mapping[str, Script],
    repo_root: Path | None,
) -> list[ScriptAnnotation]:
    """One annotation per gating regression and failed SLO check.

    ``scripts``: suite name -> its loaded Artillery script (bench suites have none).
    """
    lines: dict[str, dict[str, int]] = {}

    def where(suite: str, metric: str) -> tuple[str | None, int | None]:
        script = scripts.get(suite)
        if script is None:
            return None, None
        file = _relative(script.source, repo_root)
        if file is None:
            return None, None
        if suite not in lines:
            lines[suite] = endpoint_lines(script)
        known = lines[suite]
        endpoint = _endpoint_of(metric)
        if endpoint is None:  # an SLO check's name: "<suite> <endpoint> total p95 < 200 ms"
            found = [ep for ep in known if f" {ep} " in f" {metric} "]
            endpoint = max(found, key=len) if found else None
        return file, known.get(endpoint) if endpoint else None

    out: list[ScriptAnnotation] = []
    for c in comparisons:
        if c.state != "regression" or c.family not in ("primary", "secondary"):
            continue
        change = f" ({c.change:+.1%})" if c.change is not None else ""
        file, line = where(c.suite, c.metric)
        out.append(
            ScriptAnnotation(
                f"{c.suite}: {c.metric} regressed{change}: {c.base} -> {c.candidate} {c.unit}".strip(),
                "perfgate: regression",
                file,
                line,
            )
        )
    for check in checks:
        if check.status != "fail" or check.pre_existing:
            continue
        file, line = where(check.suite, check.name)
        measured = f": {check.measured:g} {check.unit}" if check.measured is not None else ""
        limit = f" (limit {check.threshold:g})" if check.threshold is not None else ""
        out.append(
            ScriptAnnotation(
                f"{check.suite + ': ' if check.suite else ''}{check.name}{measured}{limit}",
                "perfgate: SLO failed",
                file,
                line,
            )
        )
    return out
