"""The sticky PR comment against a local fake GitHub over real HTTP."""

from __future__ import annotations

import logging
import re

import pytest

from fake_github import FakeGitHub
from perfgate.github import (
    COMMENT_LIMIT,
    MARKER,
    cap_comment,
    sanitize_untrusted_markdown,
    upsert_comment,
    upsert_comment_async,
)
from perfgate.github._comment import pick_comment

REPO, PR = "org/api", 7
FAST = {"backoff": 0.01}


async def _upsert(gh: FakeGitHub, body: str = "## perfgate: pass", **kw: object) -> object:
    return await upsert_comment_async(
        body,
        repo=REPO,
        pr=PR,
        token=gh.token,
        api_url=gh.api_url,
        **{**FAST, **kw},  # type: ignore[arg-type]
    )


async def test_creates_when_none_exists() -> None:
    async with FakeGitHub() as gh:
        gh.add_comment(REPO, PR, "LGTM", login="alice")
        result = await _upsert(gh)
        assert result.action == "created" and result.url.endswith("#issuecomment-1002")
        assert result.warning == ""
        posted = gh.comments[(REPO, PR)][-1]
        assert posted["body"].startswith(MARKER + "\n## perfgate: pass")
        assert [c.method for c in gh.calls] == ["GET", "GET", "POST"]
        assert all(c.authorized for c in gh.calls)


async def test_updates_the_marked_comment_found_on_page_two() -> None:
    async with FakeGitHub() as gh:
        for i in range(130):
            gh.add_comment(REPO, PR, f"chatter {i}", login="alice")
        target = gh.add_comment(
            REPO, PR, MARKER + "\nold report", login="github-actions[bot]", bot=True
        )
        result = await _upsert(gh, "new report")
        assert result.action == "updated"
        assert target["body"] == MARKER + "\nnew report"
        lists = [c for c in gh.calls if c.method == "GET" and c.path.endswith("/comments")]
        assert [c.query.get("page", "1") for c in lists] == ["1", "2"]
        assert lists[0].query["per_page"] == "100"
        patch = gh.calls_of("PATCH")
        assert len(patch) == 1 and patch[0].path.endswith(f"/issues/comments/{target['id']}")
        assert len(gh.comments[(REPO, PR)]) == 131  # nothing created


async def test_never_edits_another_users_marked_comment() -> None:
    async with FakeGitHub() as gh:
        gh.add_comment(REPO, PR, f"quoting {MARKER}", login="mallory")
        result = await _upsert(gh)
        assert result.action == "created"
        assert not gh.calls_of("PATCH")


async def test_forbidden_degrades_to_skipped_with_a_warning() -> None:
    async with FakeGitHub() as gh:
        gh.fail(403, method="POST", message="Resource not accessible by integration")
        result = await _upsert(gh)
        assert result.action == "skipped" and result.url == ""
        assert "403" in result.warning and "fork" in result.warning


async def test_transient_5xx_is_retried() -> None:
    async with FakeGitHub() as gh:
        gh.add_comment(REPO, PR, MARKER + "\nold", login="github-actions[bot]", bot=True)
        gh.fail(500, times=2, method="PATCH")
        result = await _upsert(gh)
        assert result.action == "updated", result.warning
        assert [c.status for c in gh.calls_of("PATCH")] == [500, 500, 200]


async def test_persistent_5xx_is_skipped_after_bounded_retries() -> None:
    async with FakeGitHub() as gh:
        gh.fail(502, times=100, path_contains="/comments")
        result = await _upsert(gh, retries=2)
        assert result.action == "skipped"
        assert "502" in result.warning and "3 attempts" in result.warning
        assert len([c for c in gh.calls if c.path.endswith("/comments")]) == 3


@pytest.mark.parametrize("status", [403, 429])
async def test_rate_limit_is_skipped_without_waiting(status: int) -> None:
    async with FakeGitHub() as gh:
        gh.rate_limit(status=status, retry_after=3600, times=5)
        result = await _upsert(gh)
        assert result.action == "skipped"
        assert "rate limit" in result.warning and "3600" in result.warning
        assert len(gh.calls) == 1  # not retried, not waited out


async def test_enterprise_base_path_is_honoured() -> None:
    async with FakeGitHub(base_path="/api/v3") as gh:
        result = await _upsert(gh)
        assert result.action == "created"
        assert gh.calls and all(c.path.startswith("/api/v3/") for c in gh.calls)


async def test_token_never_appears_in_results_records_or_logs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeGitHub(token="ghp_SuperSecretValue123") as gh:
        gh.fail(403, method="POST", message="token ghp_SuperSecretValue123 is read-only")
        forbidden = await _upsert(gh)
        gh.fail(500, times=9)
        broken = await _upsert(gh)
        wrong_token = await upsert_comment_async(
            "x", repo=REPO, pr=PR, token="ghp_OtherSecret", api_url=gh.api_url, backoff=0.01
        )
        records = repr(gh.calls)
    out = capsys.readouterr()
    everything = "".join(
        [repr(forbidden), repr(broken), repr(wrong_token), records, caplog.text, out.out, out.err]
    )
    assert "SuperSecret" not in everything and "OtherSecret" not in everything
    assert "***" in forbidden.warning  # the echoed token was redacted
    assert wrong_token.action == "skipped" and "401" in wrong_token.warning


async def test_unreachable_api_is_skipped() -> None:
    async with FakeGitHub() as gh:
        url = gh.api_url
    result = await upsert_comment_async(
        "x", repo=REPO, pr=PR, token="ghs_unreachable_token", api_url=url, backoff=0.01, retries=1
    )
    assert result.action == "skipped" and "could not reach" in result.warning


async def test_bad_inputs_are_skipped_not_raised() -> None:
    closed = "http://127.0.0.1:9"  # never contacted: inputs are checked first
    assert (
        await upsert_comment_async("x", repo=REPO, pr=1, token="", api_url=closed)
    ).action == "skipped"
    for repo, pr in [("../etc", 1), ("org/..", 1), ("org", 1), ("org/api", 0)]:
        result = await upsert_comment_async(
            "x", repo=repo, pr=pr, token="ghs_x_token", api_url=closed
        )
        assert result.action == "skipped" and "bad repo" in result.warning, (repo, pr)


def test_sync_wrapper_against_threaded_server() -> None:
    with FakeGitHub(login=None).running_in_thread() as gh:  # /user answers 403, as for GITHUB_TOKEN
        first = upsert_comment("one", repo=REPO, pr=PR, token=gh.token, api_url=gh.api_url)
        second = upsert_comment("two", repo=REPO, pr=PR, token=gh.token, api_url=gh.api_url)
    assert (first.action, second.action) == ("created", "updated")
    assert gh.comments[(REPO, PR)][0]["body"].endswith("two")


async def test_sync_wrapper_inside_a_running_loop() -> None:
    with FakeGitHub().running_in_thread() as gh:
        result = upsert_comment("x", repo=REPO, pr=PR, token=gh.token, api_url=gh.api_url)
    assert result.action == "created"


async def test_long_body_is_capped_to_githubs_limit() -> None:
    async with FakeGitHub() as gh:
        body = "```\n" + "😀" * 70_000
        result = await _upsert(gh, body)
        assert result.action == "created"
        posted = gh.comments[(REPO, PR)][-1]["body"]
    assert len(posted.encode("utf-16-le")) // 2 <= COMMENT_LIMIT
    assert posted.startswith(MARKER) and "trimmed" in posted[-300:]
    assert posted.count("```") % 2 == 0


def test_cap_comment_leaves_short_bodies_alone() -> None:
    assert cap_comment("short") == "short"
    capped = cap_comment("x" * 100_000, limit=1000)
    assert len(capped) <= 1000 and capped.endswith("artifact.\n")


def test_sanitize_untrusted_markdown() -> None:
    text = (
        f"{MARKER}\nHi @octocat and @org/team, mail me@example.com\n"
        "<details open><summary>Env</summary>ok<br/></details>\n"
        "<img src=x onerror=alert(1)><script>alert(1)</script><!-- hidden -->"
    )
    clean = sanitize_untrusted_markdown(text)
    assert MARKER not in clean
    assert "@\u200boctocat" in clean and "@\u200borg/team" in clean
    assert "me@example.com" in clean
    assert re.search(r"@[A-Za-z]", clean.replace("me@example", "")) is None
    assert "<details open><summary>Env</summary>ok<br/></details>" in clean
    assert "<img" not in clean and "<script" not in clean and "<!--" not in clean
    assert "&lt;img" in clean


def test_pick_comment_prefers_author_then_bots() -> None:
    human = {"id": 1, "body": MARKER, "user": {"login": "alice", "type": "User"}}
    bot = {"id": 2, "body": MARKER, "user": {"login": "github-actions[bot]", "type": "Bot"}}
    other = {"id": 3, "body": "no marker", "user": {"login": "x"}}
    assert pick_comment([human, bot, other], MARKER)["id"] == 2
    assert pick_comment([human, bot], MARKER, "alice")["id"] == 1
    assert pick_comment([human], MARKER, "github-actions[bot]") is None
    assert pick_comment([other], MARKER) is None
