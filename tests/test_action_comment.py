"""comment/action.yml (the fork-safe poster) run as the runner would, against
the local fake GitHub: it installs perfgate from its own path, reads the
downloaded artifact as untrusted data, and posts (or skips) the sticky comment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fake_github import FakeGitHub
from test_action import REPO, TOKEN, run_action

POSTER = REPO / "comment" / "action.yml"
BASE, PR = "org/api", 12
FORK = "contributor/api"
HEAD = "e" * 40


def workflow_run_event(head_sha: str = HEAD) -> dict[str, Any]:
    return {
        "workflow_run": {
            "id": 4242,
            "event": "pull_request",
            "head_sha": head_sha,
            "head_branch": "faster-list",
            "head_repository": {"full_name": FORK},
        }
    }


def place_artifact(tmp_path: Path, body: str, pr: str) -> None:
    """What actions/download-artifact (recorded, not run) would have written."""
    report = tmp_path / "runner_temp" / "perfgate-report"
    report.mkdir(parents=True, exist_ok=True)
    (report / "comment.md").write_text(body)
    (report / "pr-number").write_text(pr + "\n")


def poster_env(gh: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_API_URL": gh.api_url, "GITHUB_REPOSITORY": BASE}


def test_poster_installs_from_its_own_path_and_posts_the_sanitised_report(
    tmp_path: Path,
) -> None:
    place_artifact(tmp_path, "## perfgate: pass\ncc @maintainer <img src=x>", str(PR))
    with FakeGitHub(token=TOKEN, login=None).running_in_thread() as gh:
        gh.add_pull(BASE, PR, HEAD, head_repo=FORK, head_ref="faster-list")
        result = run_action(
            tmp_path, {}, extra_env=poster_env(gh), action_file=POSTER, event=workflow_run_event()
        )
        assert result.returncode == 0, result.stdout
        (comment,) = gh.comments[(BASE, PR)]
    assert result.pip_calls == [f"install --quiet -c {REPO}/requirements.lock {REPO}"]
    assert not any("perfgate==" in call for call in result.pip_calls)  # never a registry
    uses = [u["uses"].split("@")[0] for u in result.uses]
    assert uses == ["actions/setup-python", "actions/download-artifact"]
    assert result.uses[1]["with"]["name"] == "perfgate-report"
    assert comment["body"].startswith("<!-- perfgate:comment -->\n## perfgate: pass")
    assert "@\u200bmaintainer" in comment["body"] and "<img" not in comment["body"]
    assert result.outputs["comment-url"] == comment["html_url"]
    assert all(TOKEN not in line for line in result.stdout.splitlines() if "add-mask" not in line)


def test_a_newer_push_skips_with_a_notice_not_a_red_run(tmp_path: Path) -> None:
    place_artifact(tmp_path, "## stale report", str(PR))
    with FakeGitHub(token=TOKEN).running_in_thread() as gh:
        gh.add_pull(BASE, PR, "f" * 40, head_repo=FORK, head_ref="faster-list")
        result = run_action(
            tmp_path, {}, extra_env=poster_env(gh), action_file=POSTER, event=workflow_run_event()
        )
        assert result.returncode == 0, result.stdout
        assert (BASE, PR) not in gh.comments
    assert "::notice title=perfgate comment::" in result.stdout and "moved on" in result.stdout


@pytest.mark.parametrize("pr_number", ["7", "12; rm -rf /", ""])
def test_a_tampered_artifact_fails_and_posts_nothing(tmp_path: Path, pr_number: str) -> None:
    place_artifact(tmp_path, "## report", pr_number)
    with FakeGitHub(token=TOKEN).running_in_thread() as gh:
        gh.add_pull(BASE, PR, HEAD, head_repo=FORK, head_ref="faster-list")
        gh.add_pull(BASE, 7, HEAD, head_repo="someone-else/api", head_ref="faster-list")
        result = run_action(
            tmp_path, {}, extra_env=poster_env(gh), action_file=POSTER, event=workflow_run_event()
        )
        assert result.returncode == 1, result.stdout
        assert not gh.calls_of("POST") and not gh.calls_of("PATCH")
