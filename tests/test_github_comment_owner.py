"""Whose comment is the sticky one, when a comment is posted, the alert on main,
and the fork poster's verification — against the local fake GitHub over real HTTP."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from fake_github import FakeGitHub
from perfgate.github import (
    MARKER,
    PublishOptions,
    publish_report,
    upsert_comment_async,
    wants_new_comment,
)
from perfgate.github.post_comment import VerificationError, post_untrusted_comment

REPO, PR = "org/api", 9
HEAD = "c" * 40


async def _upsert(gh: FakeGitHub, body: str, **kw: object) -> object:
    return await upsert_comment_async(
        body,
        repo=REPO,
        pr=PR,
        token=gh.token,
        api_url=gh.api_url,
        backoff=0.01,
        **kw,  # type: ignore[arg-type]
    )


async def test_a_persons_comment_with_the_marker_is_never_edited() -> None:
    # GITHUB_TOKEN: GET /user and GraphQL viewer answer 403; the bot is github-actions[bot]
    async with FakeGitHub(login=None) as gh:
        quoting = gh.add_comment(REPO, PR, f"> {MARKER}\n> the bot said...", login="alice")
        bot = gh.add_comment(
            REPO, PR, MARKER + "\nold report", login="github-actions[bot]", bot=True
        )
        result = await _upsert(gh, "new report")
        assert result.action == "updated"  # type: ignore[attr-defined]
        assert bot["body"] == MARKER + "\nnew report"  # the bot's comment, in place
        assert quoting["body"].startswith(f"> {MARKER}")  # the person's, untouched
        assert len(gh.calls_of("PATCH")) == 1
        assert all("/comments" not in c.path for c in gh.calls_of("POST"))


async def test_only_a_persons_marked_comment_means_a_new_one() -> None:
    async with FakeGitHub(login=None) as gh:
        quoting = gh.add_comment(REPO, PR, f"quoting {MARKER}", login="alice")
        result = await _upsert(gh, "report")
        assert result.action == "created"  # type: ignore[attr-defined]
        assert quoting["body"] == f"quoting {MARKER}" and not gh.calls_of("PATCH")
        assert gh.comments[(REPO, PR)][-1]["user"]["login"] == "github-actions[bot]"


async def test_an_apps_token_finds_its_own_comment_through_graphql_viewer() -> None:
    async with FakeGitHub(login=None, viewer="perf-app[bot]", base_path="/api/v3") as gh:
        other_bot = gh.add_comment(
            REPO, PR, MARKER + "\nnot mine", login="github-actions[bot]", bot=True
        )
        mine = gh.add_comment(REPO, PR, MARKER + "\nmine", login="perf-app[bot]", bot=True)
        result = await _upsert(gh, "fresh")
        assert result.action == "updated"  # type: ignore[attr-defined]
        assert mine["body"].endswith("fresh") and other_bot["body"].endswith("not mine")
        assert any(c.path == "/api/graphql" for c in gh.calls)  # GHES: /api/graphql


@pytest.mark.parametrize(
    ("comment_on", "state", "moved", "wanted"),
    [
        ("always", "pass", False, True),
        ("change", "pass", False, False),
        ("change", "pass", True, True),
        ("change", "inconclusive", False, True),
        ("change", "error", False, True),
        ("regression", "pass", True, False),
        ("regression", "regression", True, True),
        ("regression", "slo-failure", False, True),
        ("never", "regression", True, False),
    ],
)
def test_wants_new_comment(comment_on: str, state: str, moved: bool, wanted: bool) -> None:
    assert wants_new_comment(comment_on, state, moved) is wanted


def _env(tmp_path: Path, gh: FakeGitHub, event: dict[str, object], name: str) -> dict[str, str]:
    (tmp_path / "event.json").write_text(json.dumps(event))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_EVENT_NAME": name,
        "GITHUB_SHA": HEAD,
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "GITHUB_API_URL": gh.api_url,
        "GITHUB_TOKEN": gh.token,
    }


PR_EVENT = {"pull_request": {"number": PR, "head": {"sha": HEAD}}}


def test_comment_on_regression_posts_nothing_on_a_pass(tmp_path: Path) -> None:
    with FakeGitHub().running_in_thread() as gh:
        env = _env(tmp_path, gh, PR_EVENT, "pull_request")
        opts = PublishOptions(comment_on="regression")
        passed = publish_report("## pass", verdict="pass", exit_code=0, environ=env, options=opts)
        assert passed.action == "skipped" and passed.warning == ""
        assert not gh.calls_of("POST") and not gh.calls_of("PATCH")
        failed = publish_report(
            "## regression", verdict="regression", exit_code=1, environ=env, options=opts
        )
        assert failed.action == "created"
        # a later pass still updates the existing comment (it must not stay red)
        again = publish_report(
            "## pass again", verdict="pass", exit_code=0, environ=env, options=opts
        )
        assert again.action == "updated"
        assert gh.comments[(REPO, PR)][0]["body"].endswith("## pass again")


def test_never_and_the_token_env_and_api_url_keys(tmp_path: Path) -> None:
    with FakeGitHub(base_path="/api/v3").running_in_thread() as gh:
        env = _env(tmp_path, gh, PR_EVENT, "pull_request")
        env.pop("GITHUB_TOKEN")
        env["GITHUB_API_URL"] = "http://127.0.0.1:9"  # wrong on purpose: api_url overrides it
        env["PERF_TOKEN"] = gh.token
        opts = PublishOptions(token_env="PERF_TOKEN", api_url=gh.api_url, summary=False)
        result = publish_report(
            "## moved", verdict="regression", exit_code=1, environ=env, options=opts
        )
        assert result.action == "created", result.warning
        assert not Path(env["GITHUB_STEP_SUMMARY"]).exists()  # github.summary: false
        never = PublishOptions(comment_on="never", token_env="PERF_TOKEN", api_url=gh.api_url)
        publish_report("## x", verdict="regression", exit_code=1, environ=env, options=never)
        assert len(gh.calls_of("PATCH")) == 0


def test_alert_on_main_comments_on_the_commit_only_when_asked(tmp_path: Path) -> None:
    push = {"ref": "refs/heads/main", "after": HEAD}
    with FakeGitHub().running_in_thread() as gh:
        env = _env(tmp_path, gh, push, "push")
        quiet = publish_report("## regression", verdict="regression", exit_code=1, environ=env)
        assert quiet.action == "skipped" and not gh.commit_comments
        opts = PublishOptions(alert_commit_comment=True, comment=False)
        passed = publish_report("## pass", verdict="pass", exit_code=0, environ=env, options=opts)
        assert passed.action == "skipped" and not gh.commit_comments
        alert = publish_report(
            "## regression on main", verdict="regression", exit_code=1, environ=env, options=opts
        )
        assert alert.action == "created" and "commitcomment" in alert.url
        (posted,) = gh.commit_comments[(REPO, HEAD)]
        assert "regression on main" in posted["body"]


def _post(gh: FakeGitHub, **kw: str) -> object:
    return asyncio.run(
        post_untrusted_comment(
            "## report",
            repo=REPO,
            pr=PR,
            head_sha=HEAD,
            token=gh.token,
            api_url=gh.api_url,
            **kw,
        )
    )


def test_fork_poster_skips_a_superseded_or_closed_pr_and_refuses_another_prs() -> None:
    fork = "someone/api"
    with FakeGitHub().running_in_thread() as gh:
        gh.add_pull(REPO, PR, "d" * 40, head_repo=fork, head_ref="feature")
        stale = _post(gh, head_branch="feature", head_repository=fork)
        assert stale.action == "skipped" and "moved on" in stale.warning  # type: ignore[attr-defined]
        gh.add_pull(REPO, PR, HEAD, head_repo=fork, head_ref="feature", state="closed")
        closed = _post(gh, head_branch="feature", head_repository=fork)
        assert closed.action == "skipped" and "no longer open" in closed.warning  # type: ignore[attr-defined]
        gh.add_pull(REPO, PR, HEAD, head_repo=fork, head_ref="feature")
        with pytest.raises(VerificationError, match="comes from"):
            _post(gh, head_branch="feature", head_repository="mallory/api")
        with pytest.raises(VerificationError, match="head branch"):
            _post(gh, head_branch="other", head_repository=fork)
        posted = _post(gh, head_branch="feature", head_repository=fork)
        assert posted.action == "created"  # type: ignore[attr-defined]
    assert not gh.calls_of("PATCH")
