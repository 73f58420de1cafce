"""Event context from the runner's environment and GITHUB_EVENT_PATH."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from perfgate.errors import GitHubError
from perfgate.github import load_context


def _event(tmp_path: Path, payload: object) -> str:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    return str(path)


def test_pull_request_from_a_fork(tmp_path: Path) -> None:
    env = {
        "GITHUB_EVENT_PATH": _event(
            tmp_path,
            {
                "pull_request": {
                    "number": 42,
                    "head": {
                        "sha": "a" * 40,
                        "ref": "feature",
                        "repo": {"full_name": "someone/api"},
                    },
                    "base": {"sha": "b" * 40, "ref": "main", "repo": {"full_name": "org/api"}},
                }
            },
        ),
        "GITHUB_REPOSITORY": "org/api",
        "GITHUB_SHA": "c" * 40,
        "GITHUB_REF": "refs/pull/42/merge",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        "GITHUB_SERVER_URL": "https://ghe.example.com",
        "GITHUB_RUN_ID": "99",
    }
    ctx = load_context(env)
    assert ctx.pr_number == 42 and ctx.is_pull_request
    assert (ctx.head_sha, ctx.head_ref, ctx.base_sha, ctx.base_ref) == (
        "a" * 40,
        "feature",
        "b" * 40,
        "main",
    )
    assert ctx.is_fork
    assert ctx.api_url == "https://ghe.example.com/api/v3"
    assert ctx.run_url == "https://ghe.example.com/org/api/actions/runs/99"
    assert ctx.commit_url.endswith("/commit/" + "a" * 40)


def test_same_repo_push_event(tmp_path: Path) -> None:
    env = {
        "GITHUB_EVENT_PATH": _event(
            tmp_path, {"ref": "refs/heads/main", "repository": {"full_name": "org/api"}}
        ),
        "GITHUB_SHA": "d" * 40,
    }
    ctx = load_context(env)
    assert ctx.repository == "org/api"
    assert ctx.pr_number is None and not ctx.is_fork
    assert ctx.api_url == "https://api.github.com"


def test_outside_actions_is_empty() -> None:
    ctx = load_context({})
    assert ctx.repository == "" and ctx.pr_number is None and ctx.run_url == ""


def test_unreadable_event_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    with pytest.raises(GitHubError, match="event payload"):
        load_context({"GITHUB_EVENT_PATH": str(bad)})
