"""The alert on main: a commit comment on the pushed commit when the baseline
workflow itself sees a regression (opt-in, as github-action-benchmark's
``comment-on-alert``). Like the PR comment it never raises: a failure is a
skipped result with a warning.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re

from perfgate.errors import GitHubError
from perfgate.github._api import GitHubAPIError, GitHubClient, redact
from perfgate.github._comment import MARKER, CommentResult, compose_comment
from perfgate.github._context import DEFAULT_API_URL

__all__ = ["ALERT_STATES", "is_alert", "post_commit_comment"]

#: Verdict states that alert on main.
ALERT_STATES = ("regression", "slo-failure")
_SHA = re.compile(r"^[0-9a-f]{40}$|^[0-9a-f]{64}$")
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def is_alert(state: str) -> bool:
    return state in ALERT_STATES


async def _post(body: str, repo: str, sha: str, token: str, api_url: str) -> CommentResult:
    async with GitHubClient(token, api_url=api_url, backoff=0.2) as gh:
        resp = await gh.request(
            "POST", f"/repos/{repo}/commits/{sha}/comments", json={"body": body}
        )
    url = resp.data.get("html_url", "") if isinstance(resp.data, dict) else ""
    return CommentResult(str(url or ""), "created")


def post_commit_comment(
    body: str, *, repo: str, sha: str, token: str, api_url: str = DEFAULT_API_URL
) -> CommentResult:
    """Comment on commit ``sha`` (needs ``contents: write``); never raises."""
    if not token or not _REPO.match(repo or "") or not _SHA.match(sha or ""):
        return CommentResult(
            "", "skipped", "perfgate did not post the alert: no token, repository or commit."
        )
    text = compose_comment(body, MARKER.replace("comment", "alert"))
    try:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_post(text, repo, sha, token, api_url))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:  # inside a loop
            return pool.submit(asyncio.run, _post(text, repo, sha, token, api_url)).result()
    except (GitHubAPIError, GitHubError, OSError) as exc:
        return CommentResult(
            "", "skipped", redact(f"perfgate could not post the alert commit comment: {exc}", token)
        )
