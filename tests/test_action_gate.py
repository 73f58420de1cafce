"""The action end to end: its run steps, a real `perfgate gate`, a fake GitHub.

The composite action's steps run as the runner would run them (see
test_action.run_action), the gate measures the demo API for real, and the
sticky comment lands on a local fake of GitHub's REST API over real HTTP.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fake_github import FakeGitHub
from test_action import TOKEN, run_action

pytestmark = pytest.mark.slow

LOAD = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 2, arrivalRate: 20, name: steady}
scenarios:
  - flow:
      - get: {url: /health}
"""


def write_project(workspace: Path, url: str) -> None:
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "load.yml").write_text(LOAD)
    (workspace / "perfgate.yml").write_text(
        f"target: {url}\n"
        "suites:\n  - {name: load, script: load.yml}\n"
        "profiles:\n  pr: {budget: 5, compare: history}\n"
        "slo: {p95: null, p99: null}\n"
        "store: {path: runs.sqlite}\n"
    )


def test_action_runs_the_gate_and_posts_one_sticky_comment(tmp_path: Path, shared_demo_api) -> None:
    write_project(tmp_path / "workspace", shared_demo_api.url)
    # comment-on always: a passing run still gets (and keeps updating) its comment
    with FakeGitHub(token=TOKEN, login=None).running_in_thread() as gh:
        env = {"GITHUB_API_URL": gh.api_url}
        first = run_action(tmp_path, {"mode": "history", "comment-on": "always"}, extra_env=env)
        assert first.returncode == 0, first.stdout
        assert first.outputs["verdict"] in ("pass", "inconclusive")
        assert first.outputs["comment-url"]
        # outputs for later steps: this run's directory and files, and the stored run
        report_dir = Path(first.outputs["report-dir"])
        assert report_dir.parent.name == "performance-reports"
        for name, suffix in (("html-report", ".html"), ("markdown-report", ".md")):
            path = Path(first.outputs[name])
            assert path.parent == report_dir and path.suffix == suffix and path.is_file()
        assert Path(first.outputs["junit-report"]).is_file()
        assert len(first.outputs["run-id"]) >= 8
        second = run_action(tmp_path, {"mode": "history"}, extra_env=env)  # default: change
        assert second.returncode == 0, second.stdout
        comments = gh.comments[("org/api", 3)]
        assert len(comments) == 1  # updated in place, not posted twice
        body = comments[0]["body"]
        assert "<!-- perfgate:comment -->" in body and "load" in body
        created = [c for c in gh.calls_of("POST") if c.path.endswith("/comments")]
        assert len(gh.calls_of("PATCH")) == 1 and len(created) == 1
        assert comments[0]["user"]["login"] == "github-actions[bot]"  # /user answered 403
        assert all(c.authorized for c in gh.calls)
    for text in (first.stdout, second.stdout, first.summary, second.summary, body):
        # `::add-mask::` is how a step asks the runner to hide a value from its logs
        shown = [line for line in text.splitlines() if not line.startswith("::add-mask::")]
        assert all(TOKEN not in line for line in shown)
    assert "perfgate" in second.summary
    reports = list((tmp_path / "workspace" / "performance-reports").glob("*/report.html"))
    assert len(reports) == 2
    # the fork-safe comment workflow reads <report-dir>/comment.md
    comment_md = tmp_path / "workspace" / "performance-reports" / "comment.md"
    assert "<!-- perfgate:comment -->" in comment_md.read_text()


def test_a_regression_fails_the_step_unless_fail_on_regression_is_off(
    tmp_path: Path, start_demo_api
) -> None:
    broken = start_demo_api("--error-rate", "0.5")
    write_project(tmp_path / "workspace", broken.url)
    with FakeGitHub(token=TOKEN).running_in_thread() as gh:
        env = {"GITHUB_API_URL": gh.api_url}
        failing = run_action(tmp_path, {"mode": "history"}, extra_env=env)
        assert failing.returncode == 1, failing.stdout
        assert failing.outputs["verdict"] == "slo-failure"
        lenient = run_action(
            tmp_path, {"mode": "history", "fail-on-regression": "false"}, extra_env=env
        )
        assert lenient.returncode == 0, lenient.stdout
        assert lenient.outputs["verdict"] == "slo-failure"
        assert "error rate" in gh.comments[("org/api", 3)][0]["body"]
