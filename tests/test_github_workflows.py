"""The project's CI and the example workflows users copy: structure and safety rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "workflows"


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads `on` as true
    return data


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for job in workflow["jobs"].values() for s in job["steps"]]


ALL = sorted([*EXAMPLES.glob("*.yml"), *(REPO / ".github" / "workflows").glob("*.yml")])


def test_all_expected_workflows_exist() -> None:
    names = {p.name for p in ALL}
    assert {
        "ci.yml",
        "perfgate-pr.yml",
        "perfgate-pr-fork.yml",
        "perfgate-comment.yml",
        "perfgate-baseline.yml",
    } <= names


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_no_expression_is_interpolated_into_shell(path: Path) -> None:
    workflow = load(path)
    assert workflow["on"] and workflow["jobs"] and "permissions" in workflow
    for step in steps(workflow):
        assert "${{" not in step.get("run", ""), (path.name, step.get("name"))
        assert ("run" in step) != ("uses" in step)


def test_ci_runs_the_ci_script() -> None:
    workflow = load(REPO / ".github" / "workflows" / "ci.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert any(s.get("run", "").strip() == "bash .ci/run" for s in steps(workflow))


def test_pr_gate_checks_out_full_history() -> None:
    workflow = load(EXAMPLES / "perfgate-pr.yml")
    checkout = next(s for s in steps(workflow) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    assert workflow["permissions"]["pull-requests"] == "write"


def test_fork_pair_separates_running_code_from_writing() -> None:
    fork = load(EXAMPLES / "perfgate-pr-fork.yml")
    assert fork["permissions"] == {"contents": "read"}
    gate = next(s for s in steps(fork) if s.get("id") == "perfgate")
    assert gate["with"]["comment"] == "false"
    assert any("pr-number" in s.get("run", "") for s in steps(fork))

    comment = load(EXAMPLES / "perfgate-comment.yml")
    assert set(comment["on"]) == {"workflow_run"}
    assert comment["on"]["workflow_run"]["workflows"] == [fork["name"]]
    uses = [s.get("uses", "") for s in steps(comment)]
    assert not any(u.startswith("actions/checkout") for u in uses), "never check out PR code"
    runs = " ".join(s.get("run", "") for s in steps(comment))
    assert "perfgate.github.post_comment" in runs and "--head-sha" in runs
    assert "pip install" in runs and "perfgate==" in runs  # from the registry, not the PR


def test_baseline_refresh_runs_full_profile_on_main() -> None:
    workflow = load(EXAMPLES / "perfgate-baseline.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    gate = next(s for s in steps(workflow) if s.get("id") == "perfgate")
    assert gate["with"]["profile"] == "full" and gate["with"]["update-baseline"] == "true"
    assert workflow["permissions"]["contents"] == "write"
