"""History mode end to end as the documented examples run it: the baseline
workflow (push to main) records runs on the baseline branch of a bare
'origin'; a pull request's job in history mode finds them.

Real git (a throwaway repository with a bare origin), real `perfgate gate`
subprocesses against the demo API, and the action's own input handling
(action_entry.read_inputs / gate_argv) fed with the examples' `with:` blocks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfgate.github._context import GitHubContext
from perfgate.github.action_entry import gate_argv, read_inputs

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "workflows"

LOAD = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 2, arrivalRate: 15, name: steady}
scenarios:
  - flow:
      - get: {url: /health}
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def example_step(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the perfgate step's `with:`, the workflow) of an example workflow."""
    workflow = yaml.safe_load((EXAMPLES / name).read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    gate = next(s for s in steps if s.get("id") == "perfgate")
    return dict(gate["with"]), workflow


def argv_for(with_: dict[str, Any], **overrides: str) -> list[str]:
    inputs = {**{k: str(v) for k, v in with_.items()}, **overrides}
    env = {"PERFGATE_INPUT_" + k.upper().replace("-", "_"): v for k, v in inputs.items()}
    return gate_argv(read_inputs(env), GitHubContext())


def run_gate(cwd: Path, argv: list[str], report: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERFGATE_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", *argv, "--report-dir", str(report)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode in (0, 1, 3), proc.stdout + proc.stderr
    (found,) = [p for p in report.rglob("*.json") if '"verdict"' in p.read_text()[:100000]]
    data = json.loads(found.read_text())
    return data


def comparisons(report: dict[str, Any]) -> list[dict[str, Any]]:
    verdict = report.get("verdict") or report.get("run", {}).get("verdict") or {}
    return list(verdict.get("comparisons", []))


def test_a_history_mode_pr_job_finds_the_baseline_workflows_runs(
    tmp_path: Path, shared_demo_api: Any
) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    main = tmp_path / "main"
    git(tmp_path, "clone", "-q", str(bare), str(main))
    for key, value in (("user.name", "t"), ("user.email", "t@example.invalid")):
        git(main, "config", key, value)
    (main / "load.yml").write_text(LOAD)
    (main / "perfgate.yml").write_text(
        f"target: {shared_demo_api.url}\n"
        "suites:\n  - {name: load, script: load.yml}\n"
        "compare: {history: {min_points: 2}}\n"
        "slo: {p95: null, p99: null}\n"
    )
    git(main, "add", ".")
    git(main, "commit", "-q", "-m", "init")
    git(main, "push", "-q", "origin", "HEAD:main")

    # perfgate-baseline.yml on two pushes to main, every profile of its matrix
    baseline_with, baseline = example_step("perfgate-baseline.yml")
    profiles = baseline["jobs"]["baseline"]["strategy"]["matrix"]["profile"]
    for push in range(2):
        for profile in profiles:
            argv = argv_for(baseline_with, profile=profile)
            assert "--update-baseline" in argv and "history" in argv
            run_gate(main, argv, tmp_path / f"base-{push}-{profile}")
    runs = git(bare, "rev-list", "--count", "refs/heads/perfgate-baselines")
    assert int(runs) == 2 * len(profiles)

    # perfgate-pr.yml switched to history mode, in a fresh clone on a branch
    pr_with, _ = example_step("perfgate-pr.yml")
    pr = tmp_path / "pr"
    git(tmp_path, "clone", "-q", str(bare), str(pr))
    git(pr, "checkout", "-q", "-b", "feature")
    argv = argv_for(pr_with, mode="history")
    assert "--update-baseline" not in argv
    report = run_gate(pr, argv, tmp_path / "pr-report")
    history = [c for c in comparisons(report) if c.get("method") == "history"]
    assert history, report.get("verdict")
    matched = [c for c in history if c["state"] not in ("new", "insufficient")]
    assert matched, [c["state"] for c in history]
    assert all(c["samples"] == 2 for c in matched)  # the two pr-profile runs, not the full ones
