"""publish_report (the gate's one call) and the fork-safe comment poster."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from perfgate.github import COMMENT_FILE, MARKER, parse_key_value_file, post_comment, publish_report

REPO, PR = "org/api", 5
HEAD = "a" * 40


def _runner_env(tmp_path: Path, gh: FakeGitHub | None, event: dict[str, object]) -> dict[str, str]:
    (tmp_path / "event.json").write_text(json.dumps(event))
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
    }
    if gh is not None:
        env["GITHUB_API_URL"] = gh.api_url
        env["GITHUB_TOKEN"] = gh.token
    return env


def _pr_event() -> dict[str, object]:
    return {"pull_request": {"number": PR, "head": {"sha": HEAD, "repo": {"full_name": REPO}}}}


def test_publish_writes_summary_comment_outputs_and_comment_file(tmp_path: Path) -> None:
    with FakeGitHub().running_in_thread() as gh:
        env = _runner_env(tmp_path, gh, _pr_event())
        out = io.StringIO()
        with redirect_stdout(out):
            result = publish_report(
                "## perfgate: regression",
                verdict="fail",
                exit_code=1,
                report_dir=tmp_path / "rep",
                environ=env,
            )
    assert result.action == "created"
    outputs = parse_key_value_file(Path(env["GITHUB_OUTPUT"]).read_text())
    assert outputs == {
        "verdict": "fail",
        "exit-code": "1",
        "report-dir": str(tmp_path / "rep"),
        "comment-url": result.url,
    }
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "## perfgate: regression\n"
    assert (tmp_path / "rep" / COMMENT_FILE).read_text() == "## perfgate: regression"
    assert f"::add-mask::{gh.token}" in out.getvalue()  # the token is masked first


def test_publish_degrades_on_403_with_a_warning_and_keeps_the_summary(tmp_path: Path) -> None:
    with FakeGitHub().running_in_thread() as gh:
        gh.fail(403, times=10, method="POST")
        env = _runner_env(tmp_path, gh, _pr_event())
        out = io.StringIO()
        with redirect_stdout(out):
            result = publish_report("## pass", verdict="pass", exit_code=0, environ=env)
    assert result.action == "skipped"
    assert (
        "::warning title=perfgate report::perfgate could not post the PR comment" in out.getvalue()
    )
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == "## pass\n"
    assert parse_key_value_file(Path(env["GITHUB_OUTPUT"]).read_text())["comment-url"] == ""


def test_publish_on_push_does_not_comment(tmp_path: Path) -> None:
    env = _runner_env(tmp_path, None, {"ref": "refs/heads/main"})
    env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # must never be contacted
    env["GITHUB_TOKEN"] = "ghs_never_used"
    result = publish_report("x", verdict="pass", exit_code=0, environ=env)
    assert result.action == "skipped" and result.warning == ""


def _artifact(tmp_path: Path, body: str, pr: str) -> tuple[Path, Path]:
    (tmp_path / "art").mkdir()
    body_file, pr_file = tmp_path / "art" / "comment.md", tmp_path / "art" / "pr-number"
    body_file.write_text(body)
    pr_file.write_text(pr)
    return body_file, pr_file


def test_post_comment_verifies_and_sanitises(tmp_path: Path) -> None:
    body_file, pr_file = _artifact(
        tmp_path, f"{MARKER}\n## result @admin <script>x</script>", f"{PR}\n"
    )
    with FakeGitHub().running_in_thread() as gh:
        gh.add_pull(REPO, PR, HEAD)
        env = _runner_env(tmp_path, gh, {"workflow_run": {"head_sha": HEAD}})
        code = post_comment.main(
            ["--body-file", str(body_file), "--pr-file", str(pr_file)], environ=env
        )
    assert code == 0
    posted = gh.comments[(REPO, PR)][0]["body"]
    assert posted.count(MARKER) == 1 and posted.startswith(MARKER)
    assert "@\u200badmin" in posted and "<script>" not in posted
    assert parse_key_value_file(Path(env["GITHUB_OUTPUT"]).read_text())["comment-url"].endswith(
        "1001"
    )


@pytest.mark.parametrize(
    ("pr_text", "pull_head", "reason"),
    [
        ("6", HEAD, "does not exist"),  # another PR number smuggled in
        (str(PR), "b" * 40, "does not belong"),  # PR moved on / not this run
        ("5; rm -rf /", HEAD, "not a number"),
    ],
)
def test_post_comment_rejects_tampered_artifacts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pr_text: str, pull_head: str, reason: str
) -> None:
    body_file, pr_file = _artifact(tmp_path, "body", pr_text)
    with FakeGitHub().running_in_thread() as gh:
        gh.add_pull(REPO, PR, pull_head)
        env = _runner_env(tmp_path, gh, {"workflow_run": {"head_sha": HEAD}})
        code = post_comment.main(
            ["--body-file", str(body_file), "--pr-file", str(pr_file)], environ=env
        )
    assert code == 1
    assert reason in capsys.readouterr().out
    assert not gh.calls_of("POST") and not gh.calls_of("PATCH")


def test_post_comment_without_token_warns_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body_file, pr_file = _artifact(tmp_path, "body", str(PR))
    env = _runner_env(tmp_path, None, {"workflow_run": {"head_sha": HEAD}})
    env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # never contacted
    code = post_comment.main(
        ["--body-file", str(body_file), "--pr-file", str(pr_file)], environ=env
    )
    assert code == 0
    assert (
        "::warning title=perfgate comment::perfgate did not post the PR comment: no GITHUB_TOKEN."
        in capsys.readouterr().out
    )
