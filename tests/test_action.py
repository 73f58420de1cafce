"""action.yml: metadata schema, input mapping, and its run steps executed as the runner would.

The runner here is a small stand-in for GitHub's: it evaluates the
``${{ inputs.* }}`` / ``${{ github.* }}`` expressions in ``env``/``with``/
``working-directory``, runs each ``run:`` step with ``bash --noprofile --norc
-eo pipefail`` and fresh GITHUB_OUTPUT/GITHUB_STEP_SUMMARY/GITHUB_ENV files,
and resolves the action's outputs from the steps' output files. ``uses:`` steps
(actions/setup-python) are recorded, not run; ``python -m pip`` is shimmed so
the test never reinstalls the package.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from perfgate.github import GitHubContext, parse_key_value_file
from perfgate.github.action_entry import (
    ActionInputs,
    InputError,
    gate_argv,
    read_inputs,
    step_exit_code,
)

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
SCHEMAS = Path(__file__).resolve().parent / "schemas"  # vendored, see schemas/README.md
TOKEN = "ghs_RunnerTokenNeverPrinted42"
BASE_SHA = "b" * 40

# The documented action metadata format, compactly (composite actions).
ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "description", "runs"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "description": {"type": "string", "minLength": 1},
        "author": {"type": "string"},
        "branding": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"icon": {"type": "string"}, "color": {"type": "string"}},
        },
        "inputs": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
            "additionalProperties": {
                "type": "object",
                "required": ["description"],
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string"},
                    "required": {"type": "boolean"},
                    "default": {"type": "string"},
                    "deprecationMessage": {"type": "string"},
                },
            },
        },
        "outputs": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["description", "value"],
                "additionalProperties": False,
                "properties": {"description": {"type": "string"}, "value": {"type": "string"}},
            },
        },
        "runs": {
            "type": "object",
            "required": ["using", "steps"],
            "additionalProperties": False,
            "properties": {
                "using": {"const": "composite"},
                "steps": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "id": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
                            "if": {"type": "string"},
                            "run": {"type": "string"},
                            "shell": {"type": "string"},
                            "uses": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                            "with": {"type": "object"},
                            "env": {"type": "object", "additionalProperties": {"type": "string"}},
                            "working-directory": {"type": "string"},
                            "continue-on-error": {"type": ["boolean", "string"]},
                        },
                        # A run step needs a shell; a step is either run or uses.
                        "oneOf": [
                            {"required": ["run", "shell"], "not": {"required": ["uses"]}},
                            {"required": ["uses"], "not": {"required": ["run"]}},
                        ],
                    },
                },
            },
        },
    },
}


def load_action(path: Path = ACTION) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict)
    return data


def schema_errors(doc: Any, schema: dict[str, Any]) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def vendored_schema(name: str) -> dict[str, Any]:
    data = json.loads((SCHEMAS / name).read_text())
    assert isinstance(data, dict)
    return data


def test_action_yml_matches_the_metadata_schema() -> None:
    assert schema_errors(load_action(), ACTION_SCHEMA) == []
    assert schema_errors(load_action(), vendored_schema("github-action.json")) == []


def test_third_party_actions_are_pinned_by_full_sha() -> None:
    for step in load_action()["runs"]["steps"]:
        if "uses" in step:
            ref = step["uses"].split("@", 1)[1]
            assert re.fullmatch(r"[0-9a-f]{40}", ref), step["uses"]


def test_installs_into_its_own_venv_from_its_own_path_with_the_lock() -> None:
    install = next(s for s in load_action()["runs"]["steps"] if s.get("name") == "Install perfgate")
    run = install["run"]
    assert '"$RUNNER_TEMP/perfgate-venv"' in run
    assert '-c "$GITHUB_ACTION_PATH/requirements.lock" "$GITHUB_ACTION_PATH"' in run
    assert "github.action_path" not in json.dumps(load_action()["runs"])  # host path in containers
    setup = next(s for s in load_action()["runs"]["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["update-environment"] is False  # the user's python stays theirs
    cache = next(s for s in load_action()["runs"]["steps"] if "actions/cache" in s.get("uses", ""))
    assert "steps.lock.outputs.hash" in cache["with"]["key"]


def test_schema_catches_mistakes() -> None:
    doc = load_action()
    broken = json.loads(json.dumps(doc))
    broken["runs"]["steps"][1].pop("shell")  # the lock-hash step
    broken["inputs"]["mode"]["defualt"] = "ab"
    broken["outputs"]["verdict"].pop("value")
    assert len(schema_errors(broken, ACTION_SCHEMA)) >= 3


def test_every_input_reaches_the_gate_step_through_env() -> None:
    action = load_action()
    gate = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    env = gate["env"]
    used_elsewhere = {"python-version", "working-directory"}
    for name in action["inputs"]:
        if name in used_elsewhere:
            continue
        var = "PERFGATE_INPUT_" + name.upper().replace("-", "_")
        assert env.get(var) == f"${{{{ inputs.{name} }}}}", name
    assert gate["working-directory"] == "${{ inputs.working-directory }}"
    # No expression is ever interpolated into shell code (script injection).
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step.get("name")
    # Outputs come from the gate step's GITHUB_OUTPUT.
    for name, out in action["outputs"].items():
        assert out["value"] == f"${{{{ steps.gate.outputs.{name} }}}}"


# -- a minimal local runner ----------------------------------------------------

_EXPR = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")


@dataclass
class RunResult:
    returncode: int
    outputs: dict[str, str]
    stdout: str
    summary: str
    uses: list[dict[str, Any]] = field(default_factory=list)
    pip_calls: list[str] = field(default_factory=list)
    action_path: Path = REPO


def _evaluate(expr: str, ctx: dict[str, dict[str, str]]) -> str:
    scope, _, key = expr.partition(".")
    if scope == "steps":  # steps.<id>.outputs.<name>
        step_id, _, rest = key.partition(".outputs.")
        return ctx["steps"].get(f"{step_id}.{rest}", "")
    return ctx[scope].get(key, "")


def _substitute(text: str, ctx: dict[str, dict[str, str]]) -> str:
    return _EXPR.sub(lambda m: _evaluate(m.group(1), ctx), text)


def _condition(cond: str | None, ctx: dict[str, dict[str, str]]) -> bool:
    if cond is None:
        return True
    m = re.fullmatch(r"inputs\.([\w-]+)\s*(==|!=)\s*''", cond.strip())
    assert m, f"the test runner cannot evaluate if: {cond}"
    empty = ctx["inputs"].get(m.group(1), "") == ""
    return empty if m.group(2) == "==" else not empty


def run_action(
    tmp_path: Path,
    inputs: dict[str, str],
    *,
    extra_env: dict[str, str] | None = None,
    action_file: Path = ACTION,
    event: dict[str, Any] | None = None,
) -> RunResult:
    action = load_action(action_file)
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    temp = tmp_path / "runner_temp"
    temp.mkdir(exist_ok=True)
    payload = event or {
        "pull_request": {
            "number": 3,
            "base": {"sha": BASE_SHA, "ref": "main"},
            "head": {"sha": "a" * 40},
        }
    }
    event_file = temp / "event.json"
    event_file.write_text(json.dumps(payload))
    # Shim: `python3 -m venv DIR` makes DIR/bin/python this shim; `python -m pip ...`
    # is recorded; everything else is the real interpreter (with perfgate installed).
    shim_dir = temp / "bin"
    shim_dir.mkdir(exist_ok=True)
    pip_log = temp / "pip.log"
    shim = shim_dir / "python3"
    shim.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ] && [ "$2" = "pip" ]; then shift 2; echo "$*" >> "{pip_log}"; exit 0; fi\n'
        f'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then mkdir -p "$3/bin" && ln -sf "{shim}" "$3/bin/python"; exit 0; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    action_path = action_file.parent  # the action's own directory, lock file included

    defaults = {k: str(v.get("default", "")) for k, v in action["inputs"].items()}
    ctx: dict[str, dict[str, str]] = {
        "github": {"action_path": str(action_path), "token": TOKEN, "workspace": str(workspace)},
        "runner": {"os": "Linux", "temp": str(temp)},
        "steps": {},
        "inputs": {},
    }
    ctx["inputs"] = {k: _substitute(v, ctx) for k, v in defaults.items()} | inputs
    summary = temp / "step_summary"
    base_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERFGATE_", "RUNNER_"))
    }
    base_env |= {
        "PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(action_path),
        "RUNNER_TEMP": str(temp),
        "GITHUB_EVENT_PATH": str(event_file),
        "GITHUB_EVENT_NAME": "workflow_run" if "workflow_run" in payload else "pull_request",
        "GITHUB_REPOSITORY": "org/api",
        "GITHUB_API_URL": "http://127.0.0.1:9",  # loopback only, never contacted here
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ENV": str(temp / "env"),
        **(extra_env or {}),
    }
    result = RunResult(0, {}, "", "")
    for index, step in enumerate(action["runs"]["steps"]):
        if not _condition(step.get("if"), ctx):
            continue
        if "uses" in step:
            result.uses.append(
                {
                    "uses": step["uses"],
                    "with": {k: _substitute(str(v), ctx) for k, v in step.get("with", {}).items()},
                }
            )
            continue
        assert step["shell"] == "bash"
        output_file = temp / f"output_{index}"
        output_file.touch()
        env = base_env | {k: _substitute(str(v), ctx) for k, v in step.get("env", {}).items()}
        env["GITHUB_OUTPUT"] = str(output_file)
        cwd = workspace / _substitute(step.get("working-directory", "."), ctx)
        script = temp / f"step_{index}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        result.stdout += proc.stdout + proc.stderr
        for name, value in parse_key_value_file(output_file.read_text()).items():
            ctx["steps"][f"{step.get('id', index)}.{name}"] = value
        if proc.returncode != 0:
            result.returncode = proc.returncode
            break
    result.outputs = {k: _substitute(v["value"], ctx) for k, v in action["outputs"].items()}
    result.summary = summary.read_text() if summary.exists() else ""
    result.pip_calls = pip_log.read_text().splitlines() if pip_log.exists() else []
    result.action_path = action_path
    return result


DRY = {"PERFGATE_ACTION_DRY_RUN": "1"}


def _argv_line(stdout: str) -> str:
    lines = [line for line in stdout.splitlines() if line.startswith("perfgate-action: perfgate ")]
    assert len(lines) == 1, stdout
    return lines[0].removeprefix("perfgate-action: perfgate ")


def test_defaults_run_the_ab_gate_against_the_prs_base(tmp_path: Path) -> None:
    result = run_action(tmp_path, {}, extra_env=DRY)
    assert result.returncode == 0, result.stdout
    assert [u["uses"].split("@")[0] for u in result.uses] == [
        "actions/setup-python",
        "actions/cache",
    ]
    assert result.uses[0]["with"] == {"python-version": "3.11", "update-environment": "False"}
    lock = result.action_path / "requirements.lock"
    assert result.pip_calls == [f"install --quiet -c {lock} {result.action_path}"]
    # no mode input: the profile's compare: decides (pr: ab, with the PR's base)
    assert (
        _argv_line(result.stdout)
        == f"gate perfgate.yml --profile pr --base-ref {BASE_SHA} --comment"
    )
    assert result.outputs == {
        "verdict": "dry-run",
        "exit-code": "0",
        "report-dir": "",
        "html-report": "",
        "markdown-report": "",
        "junit-report": "",
        "run-id": "",
        "comment-url": "",
    }
    # The token is only ever printed inside the runner's own mask command.
    leaks = [line for line in result.stdout.splitlines() if TOKEN in line]
    assert leaks == [f"::add-mask::{TOKEN}"]


def test_every_input_changes_the_command(tmp_path: Path) -> None:
    (tmp_path / "workspace" / "svc").mkdir(parents=True)
    inputs = {
        "config": "perf/gate.yml",
        "mode": "history",
        "base-ref": "",
        "profile": "full",
        "comment": "false",
        "comment-on": "regression",
        "alert-comment": "true",
        "fail-on-regression": "false",
        "update-baseline": "true",
        "baseline-branch": "perf-data",
        "strict": "true",
        "report-dir": "out/reports",
        "python-version": "",
        "working-directory": "svc",
    }
    result = run_action(tmp_path, inputs, extra_env=DRY)
    assert result.returncode == 0, result.stdout
    assert [u["uses"].split("@")[0] for u in result.uses] == ["actions/cache"]  # no setup-python
    assert _argv_line(result.stdout) == (
        "gate perf/gate.yml --profile full --mode history --update-baseline --no-comment "
        "--comment-on regression --alert-comment --strict --report-dir out/reports"
    )
    assert result.outputs["report-dir"] == "out/reports"


def test_inputs_cannot_inject_shell(tmp_path: Path) -> None:
    evil = '"; touch PWNED; echo "$(touch PWNED2)`touch PWNED3`'
    result = run_action(
        tmp_path, {"base-ref": evil, "config": "$(touch PWNED4).yml"}, extra_env=DRY
    )
    assert result.returncode == 0, result.stdout
    assert not list((tmp_path / "workspace").glob("PWNED*"))
    assert "--base-ref" in _argv_line(result.stdout) and "touch PWNED3" in result.stdout


def test_bad_input_fails_the_step_with_a_clear_error(tmp_path: Path) -> None:
    result = run_action(tmp_path, {"mode": "abba", "fail-on-regression": "false"}, extra_env=DRY)
    assert result.returncode == 2
    assert (
        "::error title=perfgate action::input 'mode' must be one of ab, history, got 'abba'"
        in result.stdout
    )
    assert result.outputs["verdict"] == "error" and result.outputs["exit-code"] == "2"


def test_a_gate_error_fails_the_step_even_without_fail_on_regression(tmp_path: Path) -> None:
    # Real run, no dry-run: the gate cannot load a missing config -> exit 2.
    result = run_action(
        tmp_path, {"config": "missing.yml", "fail-on-regression": "false", "comment": "false"}
    )
    assert result.returncode == 2, result.stdout
    assert result.outputs["verdict"] == "error" and result.outputs["exit-code"] == "2"
    assert "stopped with an error" in result.summary
    assert "::error title=perfgate::perfgate gate stopped with an error (exit 2)" in result.stdout
    assert TOKEN not in result.stdout.replace(f"::add-mask::{TOKEN}", "")


@pytest.mark.parametrize(
    ("gate", "fail_on_regression", "step"),
    [
        (0, True, 0),
        (1, True, 1),
        (1, False, 0),
        (2, False, 2),
        (3, False, 3),
        (3, True, 3),
        (0, False, 0),
    ],
)
def test_step_exit_code(gate: int, fail_on_regression: bool, step: int) -> None:
    assert step_exit_code(gate, fail_on_regression) == step


def test_read_inputs_validates() -> None:
    assert read_inputs({}) == ActionInputs()
    assert read_inputs({"PERFGATE_INPUT_COMMENT": " FALSE "}).comment is False
    for var, value in [("COMMENT", "maybe"), ("PROFILE", "nightly"), ("BASE_REF", "a\nb")]:
        with pytest.raises(InputError):
            read_inputs({f"PERFGATE_INPUT_{var}": value})


def test_explicit_base_ref_wins_and_history_mode_needs_none() -> None:
    ctx = GitHubContext(base_sha=BASE_SHA)
    assert "--base-ref" not in gate_argv(ActionInputs(mode="history"), ctx)
    assert "--mode" not in gate_argv(ActionInputs(), ctx)  # the profile's compare: decides
    argv = gate_argv(ActionInputs(base_ref="origin/main"), ctx)
    assert argv[argv.index("--base-ref") + 1] == "origin/main"
