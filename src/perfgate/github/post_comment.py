"""Post a report comment from an untrusted artifact: ``python -m perfgate.github.post_comment``.

The second half of the fork-safe pair (``comment/action.yml``): a
``workflow_run`` job (base repository's token, none of the PR's code)
downloads the artifact that the ``pull_request`` job uploaded and runs this.
Everything in the artifact is untrusted: the PR number must be a plain number
naming a PR of this repository whose head branch and head repository are the
triggering run's (``workflow_run.head_branch`` / ``head_repository``, from the
trusted event), so a tampered artifact cannot comment on another PR; the body
is size-capped and sanitised (no mentions, no raw HTML, no smuggled marker).

Not an error, a skip with a notice: the PR was closed meanwhile, or its head
moved on (a newer push) so this run's report is stale — the newer run posts.

Exit codes: 0 posted or skipped (with a notice or warning), 1 the artifact
failed verification, 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from perfgate.github._annotations import add_mask, annotate
from perfgate.github._api import GitHubAPIError, GitHubClient, redact
from perfgate.github._comment import (
    MARKER,
    CommentResult,
    sanitize_untrusted_markdown,
    upsert_comment_async,
)
from perfgate.github._context import load_context
from perfgate.github._files import set_output

__all__ = ["VerificationError", "main", "post_untrusted_comment", "read_untrusted_pr_number"]

MAX_BODY_BYTES = 2 * 1024 * 1024
_NUMBER = re.compile(r"^[1-9][0-9]{0,8}$")


class VerificationError(Exception):
    """The artifact does not match the run that produced it."""


def read_untrusted_pr_number(text: str) -> int:
    value = text.strip()
    if not _NUMBER.match(value):
        raise VerificationError(f"the artifact's PR number is not a number: {value[:40]!r}")
    return int(value)


def read_untrusted_body(path: Path) -> str:
    with path.open("rb") as fh:
        data = fh.read(MAX_BODY_BYTES + 1)
    text = data[:MAX_BODY_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_BODY_BYTES:
        text += "\n\n> **Note:** the report was larger than 2 MiB and was cut.\n"
    return sanitize_untrusted_markdown(text)


async def post_untrusted_comment(
    body: str,
    *,
    repo: str,
    pr: int,
    head_sha: str,
    token: str,
    api_url: str,
    head_branch: str = "",
    head_repository: str = "",
    marker: str = MARKER,
) -> CommentResult:
    """Verify the artifact's PR against the triggering run, then upsert the sanitised body."""
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", head_sha or ""):
        raise VerificationError("no valid head SHA of the triggering run was given")
    if not token:
        return CommentResult(
            "", "skipped", "perfgate did not post the PR comment: no GITHUB_TOKEN."
        )
    try:
        async with GitHubClient(token, api_url=api_url) as gh:
            resp = await gh.request("GET", f"/repos/{repo}/pulls/{pr}")
    except GitHubAPIError as exc:
        if exc.kind == "not_found":
            raise VerificationError(f"PR #{pr} does not exist in {repo}") from None
        return CommentResult(
            "", "skipped", redact(f"perfgate could not verify PR #{pr}: {exc}", token)
        )
    data: dict[str, Any] = resp.data if isinstance(resp.data, dict) else {}
    head: dict[str, Any] = data["head"] if isinstance(data.get("head"), dict) else {}
    actual = head.get("sha")
    ref = head.get("ref")
    head_repo: dict[str, Any] = head["repo"] if isinstance(head.get("repo"), dict) else {}
    from_repo = head_repo.get("full_name")
    if head_branch and ref != head_branch:
        raise VerificationError(
            f"PR #{pr}'s head branch is {str(ref)[:60]!r}, not the run's {head_branch[:60]!r}: "
            "the artifact does not belong to this run"
        )
    if head_repository and from_repo != head_repository:
        raise VerificationError(
            f"PR #{pr} comes from {str(from_repo)[:80]!r}, not the run's {head_repository[:80]!r}: "
            "the artifact does not belong to this run"
        )
    if data.get("state") != "open":
        return CommentResult("", "skipped", f"notice: PR #{pr} is no longer open; no comment.")
    if actual != head_sha:
        if not (head_branch or head_repository):
            raise VerificationError(
                f"PR #{pr}'s head is {str(actual)[:12]}, not the run's {head_sha[:12]}: "
                "the artifact does not belong to this run"
            )
        return CommentResult(
            "",
            "skipped",
            f"notice: PR #{pr} moved on to {str(actual)[:12]} after this run "
            f"({head_sha[:12]}); the newer run's report will be posted.",
        )
    return await upsert_comment_async(
        sanitize_untrusted_markdown(body),
        repo=repo,
        pr=pr,
        token=token,
        marker=marker,
        api_url=api_url,
    )


def _run_from_event(environ: Mapping[str, str]) -> tuple[str, str, str]:
    """(head_sha, head_branch, head_repository) of the triggering workflow_run (trusted)."""
    path = environ.get("GITHUB_EVENT_PATH", "")
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return "", "", ""
    run = event.get("workflow_run") if isinstance(event, dict) else None
    if not isinstance(run, dict):
        return "", "", ""
    repo = run.get("head_repository")
    values = (
        run.get("head_sha"),
        run.get("head_branch"),
        repo.get("full_name") if isinstance(repo, dict) else None,
    )
    sha, branch, full_name = (v if isinstance(v, str) else "" for v in values)
    return sha, branch, full_name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m perfgate.github.post_comment",
        description="Post perfgate's sticky PR comment from a downloaded (untrusted) artifact.",
    )
    parser.add_argument("--body-file", required=True, type=Path, help="the report's comment.md")
    parser.add_argument("--pr-file", required=True, type=Path, help="file holding the PR number")
    parser.add_argument(
        "--head-sha", default="", help="the triggering run's head SHA (default: from the event)"
    )
    parser.add_argument("--repo", default="", help="owner/name (default: GITHUB_REPOSITORY)")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    args = build_parser().parse_args(argv)
    ctx = load_context(env)
    token = env.get("GITHUB_TOKEN", "")
    add_mask(token, environ=env)
    repo = args.repo or ctx.repository
    event_sha, head_branch, head_repository = _run_from_event(env)
    head_sha = args.head_sha or event_sha
    try:
        pr = read_untrusted_pr_number(args.pr_file.read_text(encoding="utf-8", errors="replace"))
        body = read_untrusted_body(args.body_file)
        result = asyncio.run(
            post_untrusted_comment(
                body,
                repo=repo,
                pr=pr,
                head_sha=head_sha,
                token=token,
                api_url=ctx.api_url,
                head_branch=head_branch,
                head_repository=head_repository,
            )
        )
    except VerificationError as exc:
        annotate("error", str(exc), title="perfgate comment", environ=env)
        return 1
    except OSError as exc:
        annotate("error", f"cannot read the artifact: {exc}", title="perfgate comment", environ=env)
        return 2
    if result.warning.startswith("notice: "):
        annotate("notice", result.warning[8:], title="perfgate comment", environ=env)
    elif result.warning:
        annotate("warning", result.warning, title="perfgate comment", environ=env)
    set_output("comment-url", result.url, environ=env)
    print(f"perfgate: comment {result.action}{': ' + result.url if result.url else ''}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
