"""The project's CI and the example workflows users copy: structure and safety rules."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfgate.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "workflows"
SCHEMAS = Path(__file__).resolve().parent / "schemas"  # vendored, see schemas/README.md


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
        "perfgate.yml",
        "perfgate-pr.yml",
        "perfgate-pr-fork.yml",
        "perfgate-comment.yml",
        "perfgate-baseline.yml",
        "perfgate-release.yml",
        "perfgate-calibrate.yml",
    } <= names


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_workflow_matches_githubs_workflow_schema(path: Path) -> None:
    import jsonschema

    schema = json.loads((SCHEMAS / "github-workflow.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    # validate the document as GitHub reads it (`on` is a key, not YAML 1.1's true)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(load(path))]
    assert errors == []


def test_the_schema_catches_a_broken_workflow() -> None:
    import jsonschema

    schema = json.loads((SCHEMAS / "github-workflow.json").read_text())
    broken = load(EXAMPLES / "perfgate-pr.yml")
    broken["jobs"]["gate"]["runs_on"] = broken["jobs"]["gate"].pop("runs-on")
    broken["permissions"]["pull-request"] = "write"
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert len(list(validator.iter_errors(broken))) >= 2


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_sha(path: Path) -> None:
    for step in steps(load(path)):
        uses = step.get("uses", "")
        if uses.startswith("actions/"):
            assert re.fullmatch(r"[^@]+@[0-9a-f]{40}", uses), (path.name, uses)


def test_dogfood_runs_the_action_from_this_checkout_plain_and_in_a_container() -> None:
    workflow = load(REPO / ".github" / "workflows" / "perfgate.yml")
    assert set(workflow["on"]) == {"pull_request"}
    jobs = workflow["jobs"]
    plain = [j for j in jobs.values() if "container" not in j]
    boxed = [j for j in jobs.values() if "container" in j]
    assert plain and boxed
    for job in (plain[0], boxed[0]):
        gate = next(s for s in job["steps"] if s.get("id") == "perfgate")
        assert gate["uses"] == "./"
        config = REPO / gate["with"]["config"]
        assert config.is_file()
        from perfgate.config.project import load_project

        assert load_project(config).service is not None  # the bundled demo API, started


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
    # the poster is this repository's sub-action: perfgate from the action's own files
    assert uses == ["perfgate/perfgate/comment@v1"]
    assert not any("pip install" in s.get("run", "") for s in steps(comment))


def test_the_poster_sub_action_installs_from_its_own_path() -> None:
    action = yaml.safe_load((REPO / "comment" / "action.yml").read_text())
    runs = "\n".join(s.get("run", "") for s in action["runs"]["steps"])
    assert 'cd "$GITHUB_ACTION_PATH/.."' in runs
    assert '-c "$root/requirements.lock" "$root"' in runs
    assert "perfgate==" not in runs and "github.action_path" not in runs
    assert "perfgate.github.post_comment" in runs
    for step in action["runs"]["steps"]:
        if "uses" in step:
            assert re.fullmatch(r"[^@]+@[0-9a-f]{40}", step["uses"]), step["uses"]
    import jsonschema

    schema = json.loads((SCHEMAS / "github-action.json").read_text())
    assert not list(jsonschema.validators.validator_for(schema)(schema).iter_errors(action))


def test_one_pull_request_workflow_is_picked() -> None:
    for name in ("perfgate-pr.yml", "perfgate-pr-fork.yml"):
        text = (EXAMPLES / name).read_text()
        assert "twice" in text or "INSTEAD" in text, name


def test_baseline_refresh_records_every_profile_history_jobs_use() -> None:
    workflow = load(EXAMPLES / "perfgate-baseline.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    gate = next(s for s in steps(workflow) if s.get("id") == "perfgate")
    assert gate["with"]["update-baseline"] == "true" and gate["with"]["mode"] == "history"
    profiles = workflow["jobs"]["baseline"]["strategy"]["matrix"]["profile"]
    pr_gate = next(
        s for s in steps(load(EXAMPLES / "perfgate-pr.yml")) if s.get("id") == "perfgate"
    )
    assert pr_gate["with"]["profile"] in profiles and "full" in profiles
    assert workflow["permissions"]["contents"] == "write"


def test_release_gate_runs_full_ab_against_the_previous_tag() -> None:
    workflow = load(EXAMPLES / "perfgate-release.yml")
    assert workflow["on"]["push"]["tags"]
    gate = next(s for s in steps(workflow) if s.get("id") == "perfgate")
    assert gate["with"]["profile"] == "full" and gate["with"]["mode"] == "ab"
    assert "steps.previous.outputs.tag" in gate["with"]["base-ref"]


def test_calibrate_workflow_measures_on_the_gates_runner_and_keeps_the_file() -> None:
    workflow = load(EXAMPLES / "perfgate-calibrate.yml")
    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read"}  # the file is an artifact to commit
    job = workflow["jobs"]["calibrate"]
    assert job["runs-on"] == load(EXAMPLES / "perfgate-pr.yml")["jobs"]["gate"]["runs-on"]
    runs = "\n".join(s.get("run", "") for s in job["steps"])
    assert "-c .perfgate/requirements.lock ./.perfgate" in runs  # the lock file's versions
    assert '/bin/perfgate" calibrate "${args[@]}"' in runs
    assert "then args+=(--fresh); fi" in runs
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    # the workflow's own command line, its inputs' defaults filled in, parses with
    # perfgate's CLI and writes the file the upload step keeps
    declared = re.search(r"^\s*args=\((.*)\)$", runs, re.MULTILINE)
    assert declared is not None
    launches = workflow["on"]["workflow_dispatch"]["inputs"]["launches"]["default"]
    argv = shlex.split(declared.group(1).replace("$LAUNCHES", launches))
    for extra in ([], ["--fresh"]):
        args = build_parser().parse_args(["calibrate", *argv, *extra])
        assert args.launches == int(launches) and args.fresh == bool(extra)
        assert str(args.out) == upload["with"]["path"] == "perfgate-calibration.json"
    assert upload["with"]["if-no-files-found"] == "error"
