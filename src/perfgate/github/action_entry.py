"""The composite action's gate step: ``python -m perfgate.github.action_entry``.

action.yml maps every input to a ``PERFGATE_INPUT_*`` variable (composite
actions get no ``INPUT_`` variables, and reading env instead of interpolating
``${{ inputs.* }}`` into shell code keeps inputs out of the script). This
module validates them, runs ``perfgate gate`` with the matching arguments,
fills the step outputs the gate did not set, and decides the step's exit code:
``fail-on-regression: false`` lets exit 1 (regression/SLO) pass with a warning
but never exit 2 (error) or 3 (inconclusive under ``strict``).

``PERFGATE_ACTION_DRY_RUN=1`` prints the command instead of running it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from perfgate.errors import GitHubError
from perfgate.github._annotations import add_mask, annotate
from perfgate.github._context import GitHubContext, load_context
from perfgate.github._files import append_summary, parse_key_value_file, set_output

__all__ = [
    "ActionInputs",
    "InputError",
    "gate_argv",
    "main",
    "read_inputs",
    "step_exit_code",
    "verdict_for_exit",
]

PREFIX = "PERFGATE_INPUT_"
MODES = ("", "ab", "history")  # "": the profile's compare: in perfgate.yml
COMMENT_ON = ("", "always", "change", "regression", "never")  # "": github.comment_on
# outputs the gate sets when it gets that far (empty otherwise)
FILE_OUTPUTS = ("comment-url", "run-id", "html-report", "markdown-report", "junit-report")
PROFILES = ("pr", "full")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}


class InputError(GitHubError):
    """An action input has a value perfgate cannot use."""


@dataclass(frozen=True, slots=True)
class ActionInputs:
    config: str = "perfgate.yml"
    mode: str = ""
    base_ref: str = ""
    profile: str = "pr"
    comment: bool = True
    comment_on: str = ""
    alert_comment: bool = False
    fail_on_regression: bool = True
    update_baseline: bool = False
    baseline_branch: str = ""
    strict: bool = False
    report_dir: str = ""
    token: str = ""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name.upper().replace("-", "_"))
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False if value else default
    raise InputError(f"input '{name}' must be true or false, got {raw.strip()!r}")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    raw = env.get(PREFIX + name.upper().replace("-", "_"), "").strip() or default
    if raw not in choices:
        named = ", ".join(c for c in choices if c)
        raise InputError(f"input '{name}' must be one of {named}, got {raw!r}")
    return raw


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(PREFIX + name.upper().replace("-", "_"), "").strip() or default
    if "\n" in value or "\0" in value:
        raise InputError(f"input '{name}' must be a single line")
    return value


def read_inputs(environ: Mapping[str, str] | None = None) -> ActionInputs:
    """The action's inputs from ``PERFGATE_INPUT_*`` (pure given ``environ``)."""
    env = os.environ if environ is None else environ
    return ActionInputs(
        config=_text(env, "config", "perfgate.yml"),
        mode=_choice(env, "mode", MODES, ""),
        base_ref=_text(env, "base-ref"),
        profile=_choice(env, "profile", PROFILES, "pr"),
        comment=_bool(env, "comment", True),
        comment_on=_choice(env, "comment-on", COMMENT_ON, ""),
        alert_comment=_bool(env, "alert-comment", False),
        fail_on_regression=_bool(env, "fail-on-regression", True),
        update_baseline=_bool(env, "update-baseline", False),
        baseline_branch=_text(env, "baseline-branch"),
        strict=_bool(env, "strict", False),
        report_dir=_text(env, "report-dir"),
        token=env.get(PREFIX + "GITHUB_TOKEN", "").strip(),
    )


def gate_argv(inputs: ActionInputs, ctx: GitHubContext) -> list[str]:
    """``perfgate gate`` arguments for these inputs (pure).

    Without a ``mode`` input the profile's ``compare:`` in perfgate.yml
    decides. Unless the mode is history, a pull request without an explicit
    base ref gets the PR's base commit from the event (A/B takes the merge
    base; the gate ignores it in history mode).
    """
    argv = ["gate", inputs.config, "--profile", inputs.profile]
    if inputs.mode:
        argv += ["--mode", inputs.mode]
    base_ref = inputs.base_ref or (ctx.base_sha if inputs.mode != "history" else "")
    if base_ref:
        argv += ["--base-ref", base_ref]
    if inputs.update_baseline:
        argv.append("--update-baseline")
    argv.append("--comment" if inputs.comment else "--no-comment")
    if inputs.comment_on:
        argv += ["--comment-on", inputs.comment_on]
    if inputs.alert_comment:
        argv.append("--alert-comment")
    if inputs.strict:
        argv.append("--strict")
    if inputs.report_dir:
        argv += ["--report-dir", inputs.report_dir]
    return argv


def verdict_for_exit(code: int) -> str:
    return {0: "pass", 1: "fail", 2: "error", 3: "inconclusive"}.get(code, "error")


def step_exit_code(gate_code: int, fail_on_regression: bool) -> int:
    """The step's exit code: only a regression/SLO failure (1) may be waived."""
    if gate_code == 1 and not fail_on_regression:
        return 0
    return gate_code


def _gate_env(inputs: ActionInputs, environ: Mapping[str, str]) -> dict[str, str]:
    """The gate's environment. The token is there for publishing only: the
    service under test never inherits it (ServiceSpec.full_env)."""
    env = {k: v for k, v in environ.items() if not k.startswith(PREFIX)}
    if inputs.token:
        env["GITHUB_TOKEN"] = inputs.token
    if inputs.baseline_branch:
        env["PERFGATE_BASELINE_BRANCH"] = inputs.baseline_branch
    # the action's venv interpreter, for perfgate.yml's {{ env.PERFGATE_PYTHON }}
    env.setdefault("PERFGATE_PYTHON", sys.executable)
    workspace = env.get("GITHUB_WORKSPACE", "")
    if workspace:
        # In a container: job the checkout belongs to another uid and git
        # refuses it ("dubious ownership"); trust the workspace for the gate's
        # git calls only, without touching anyone's git config.
        count = env.get("GIT_CONFIG_COUNT", "0")
        index = int(count) if count.isdigit() else 0
        env |= {
            "GIT_CONFIG_COUNT": str(index + 1),
            f"GIT_CONFIG_KEY_{index}": "safe.directory",
            f"GIT_CONFIG_VALUE_{index}": workspace,
        }
    return env


def _fill_outputs(code: int, inputs: ActionInputs, environ: Mapping[str, str]) -> None:
    written: dict[str, str] = {}
    path = environ.get("GITHUB_OUTPUT", "")
    if path and Path(path).exists():
        try:
            written = parse_key_value_file(Path(path).read_text(encoding="utf-8"))
        except (OSError, GitHubError):
            written = {}
    defaults = {
        "verdict": verdict_for_exit(code),
        "report-dir": inputs.report_dir,
        **dict.fromkeys(FILE_OUTPUTS, ""),
    }
    for name, value in defaults.items():
        if name not in written:
            set_output(name, value, environ=environ)
    set_output("exit-code", str(code), environ=environ)


def main(environ: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    try:
        inputs = read_inputs(env)
    except InputError as exc:
        annotate("error", str(exc), title="perfgate action", environ=env)
        set_output("verdict", "error", environ=env)
        set_output("exit-code", "2", environ=env)
        return 2
    add_mask(inputs.token, environ=env)
    argv = gate_argv(inputs, load_context(env))
    print(f"perfgate-action: perfgate {shlex.join(argv)}", flush=True)
    if env.get("PERFGATE_ACTION_DRY_RUN", "").strip().lower() in _TRUE:
        set_output("verdict", "dry-run", environ=env)
        set_output("exit-code", "0", environ=env)
        set_output("report-dir", inputs.report_dir, environ=env)
        for name in FILE_OUTPUTS:
            set_output(name, "", environ=env)
        return 0
    try:
        code = subprocess.call(
            [sys.executable, "-m", "perfgate", *argv], env=_gate_env(inputs, env)
        )
    except OSError as exc:
        annotate("error", f"could not start perfgate: {exc}", title="perfgate action", environ=env)
        code = 2
    if code < 0 or code > 3:
        code = 2  # killed by a signal or an unknown failure: an error, never a pass
    _fill_outputs(code, inputs, env)
    if code == 2:
        annotate(
            "error",
            "perfgate gate stopped with an error (exit 2); see the step log.",
            title="perfgate",
            environ=env,
        )
        append_summary(
            "**perfgate:** the gate stopped with an error (exit 2); see the step log.\n",
            environ=env,
        )
    result = step_exit_code(code, inputs.fail_on_regression)
    if code == 1 and result == 0:
        annotate(
            "warning",
            "perfgate found a regression or SLO failure; the step passes because "
            "fail-on-regression is false.",
            title="perfgate",
            environ=env,
        )
    return result


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
