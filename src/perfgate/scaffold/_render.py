"""The files ``perfgate init`` writes: a commented perfgate.yml and a GitHub workflow."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DEFAULT_ACTION", "render_config", "render_workflow", "validate_workflow"]

#: This repository's action (action.yml at its root; README: ``uses: <owner>/perfgate@v1``).
DEFAULT_ACTION = "perfgate/perfgate@v1"


def _q(text: str) -> str:
    """A YAML scalar: JSON strings are valid YAML and keep ``{{ }}`` intact."""
    return json.dumps(text)


def _command(start: str | list[str]) -> str:
    if isinstance(start, str):
        return _q(start)
    return "[" + ", ".join(_q(a) for a in start) + "]"


def render_config(
    *,
    start: str | list[str],
    start_source: str,
    env: dict[str, str],
    ready: str | None,
    suites: Sequence[tuple[str, str, str]],  # (name, kind, script path)
    notes: Sequence[str] = (),
) -> str:
    """perfgate.yml, every choice commented (the full reference is docs/perfgate-yml.md)."""
    lines = [
        "# perfgate.yml, written by `perfgate init`. Every key is checked when perfgate",
        "# loads it; the full reference is docs/perfgate-yml.md in the perfgate repository.",
        "# Try it locally: perfgate gate --mode none",
        "service:",
        f"  # guessed from {start_source}" if start_source else "  # given with --start",
    ]
    for n in notes:
        lines += [f"  # {part}" for part in textwrap.wrap(f"note: {n}", 84)]
    lines += [
        f"  start: {_command(start)}",
        "  # perfgate gives each run (and each arm of an A/B run) a free port: the API",
        "  # must listen on {{ port }} (here passed as PORT and/or on the command line)",
    ]
    if env:
        lines.append("  env:")
        lines += [f"    {k}: {_q(v)}" for k, v in env.items()]
    lines.append("  ready:")
    if ready:
        lines.append(f"    url: {_q(ready)}            # must answer 2xx once the API is up")
    else:
        lines.append("    # no health route found: ready when the port accepts connections")
        lines.append('    port: "{{ port }}"')
    lines += [
        "    timeout: 60                # seconds to wait for it",
        "",
        "suites:",
        "  # Artillery scripts, run unchanged; a pull request runs a steady slice of",
        "  # each load script (profiles.pr.budget seconds), the full profile all of it",
    ]
    for name, kind, script in suites:
        extra = "" if kind == "load" else f", kind: {kind}"
        lines.append(f"  - {{name: {_q(name)}{extra}, script: {_q(script)}}}")
    lines += [
        "",
        "# The seed's service levels, as defaults; uncomment to change them.",
        "# A failed request is no response or a 5xx; 4xx answers count apart unless",
        "# declared (fail_on_4xx: true, or a list such as [401, 404]; also per endpoint).",
        "# slo:",
        "#   p50: 100",
        "#   p95: 200",
        "#   p99: 500",
        '#   error_rate: "1%"',
        "#   fail_on_4xx: false",
        "",
        "# Comparison: same-runner A/B on pull requests (the default), or the history",
        "# of main (compare: history) once `perfgate gate --update-baseline` stores runs.",
        "# profiles:",
        "#   pr: {budget: 60, compare: ab}",
        "",
    ]
    return "\n".join(lines)


def render_workflow(config: str = "perfgate.yml", action: str = DEFAULT_ACTION) -> str:
    """.github/workflows/perfgate.yml: the gate on pull requests (see examples/workflows/)."""
    return f"""\
# Performance gate on pull requests, written by `perfgate init`: the pull request
# and its merge base run interleaved on this runner (A/B); the verdict goes to the
# job summary and a sticky PR comment, and a regression fails the check.
# For pull requests from forks see perfgate's examples/workflows/perfgate-pr-fork.yml.
name: perfgate

on:
  pull_request:

permissions:
  contents: read
  pull-requests: write  # the sticky comment

concurrency:
  group: perfgate-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  gate:
    runs-on: ubuntu-latest
    timeout-minutes: 20
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0  # A/B builds the base from the merge base: full history needed

      # Set up whatever your API needs to start (perfgate.yml's service: runs on
      # this runner), e.g. actions/setup-node@v4 and `npm ci`, or setup-python.

      - name: perfgate
        id: perfgate
        uses: {action}  # this repository's action (README: <owner>/perfgate@v1)
        with:
          config: {config}
          mode: ab
          profile: pr

      - name: Upload the reports
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: perfgate-report
          path: ${{{{ steps.perfgate.outputs.report-dir || 'performance-reports' }}}}
          if-no-files-found: ignore
"""


def validate_workflow(text: str, config: str | Path = "perfgate.yml") -> list[str]:
    """Problems with a workflow file: its structure, the perfgate step, no expression in shell."""
    try:
        doc: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    if not isinstance(doc, dict):
        return ["not a mapping"]
    problems = []
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    if not on:
        problems.append("no 'on:' trigger")
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict) or not jobs:
        return [*problems, "no jobs"]
    gate_steps = []
    for job_name, job in jobs.items():
        steps = job.get("steps") if isinstance(job, dict) else None
        if not isinstance(job, dict) or "runs-on" not in job or not isinstance(steps, list):
            problems.append(f"jobs.{job_name}: needs runs-on and steps")
            continue
        for i, step in enumerate(steps):
            if not isinstance(step, dict) or ("run" in step) == ("uses" in step):
                problems.append(f"jobs.{job_name}.steps[{i}]: exactly one of run/uses")
                continue
            if "${{" in str(step.get("run", "")):
                problems.append(f"jobs.{job_name}.steps[{i}]: an expression inside run")
            if "/perfgate@" in str(step.get("uses", "")):
                gate_steps.append(step)
    if not gate_steps:
        problems.append("no perfgate step (uses: <owner>/perfgate@v1)")
    for step in gate_steps:
        if str((step.get("with") or {}).get("config", "perfgate.yml")) != str(config):
            problems.append(f"the perfgate step's config is not {config}")
    return problems
