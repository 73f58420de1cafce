"""One call for the gate: job summary, sticky comment, step outputs, warnings.

``publish_report`` never raises and never changes the gate's exit code: any
failure to publish becomes a ``::warning::`` and the report stays in the job
summary and the report directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from perfgate.errors import GitHubError
from perfgate.github._annotations import add_mask, annotate
from perfgate.github._comment import MARKER, CommentResult, upsert_comment
from perfgate.github._context import GitHubContext, load_context
from perfgate.github._files import append_summary, set_output

__all__ = ["COMMENT_FILE", "publish_report"]

# Written into the report directory: the exact comment body, so the fork-safe
# workflow_run job can post it without running any of the PR's code.
COMMENT_FILE = "comment.md"


def publish_report(
    markdown: str,
    *,
    verdict: str,
    exit_code: int,
    report_dir: str | os.PathLike[str] | None = None,
    comment: bool = True,
    comment_markdown: str | None = None,
    token: str | None = None,
    context: GitHubContext | None = None,
    environ: Mapping[str, str] | None = None,
    marker: str = MARKER,
) -> CommentResult:
    """Publish the gate's report where GitHub users look; returns what happened to the comment."""
    env = os.environ if environ is None else environ
    ctx = context or load_context(env)
    token = token if token is not None else env.get("GITHUB_TOKEN", "")
    add_mask(token or "", environ=env)
    body = comment_markdown if comment_markdown is not None else markdown
    problems: list[str] = []

    if report_dir is not None:
        try:
            Path(report_dir).mkdir(parents=True, exist_ok=True)
            (Path(report_dir) / COMMENT_FILE).write_text(body, encoding="utf-8")
        except OSError as exc:
            problems.append(f"could not write {COMMENT_FILE}: {exc.strerror or exc}")

    try:
        append_summary(markdown, environ=env)
    except GitHubError as exc:
        problems.append(str(exc))

    if not comment:
        result = CommentResult("", "skipped")
    elif not ctx.is_pull_request or ctx.pr_number is None:
        result = CommentResult("", "skipped")  # nothing to comment on: not an error
    elif not token:
        result = CommentResult(
            "", "skipped", "perfgate did not post the PR comment: no GitHub token was given."
        )
    else:
        result = upsert_comment(
            body,
            repo=ctx.repository,
            pr=ctx.pr_number,
            token=token,
            marker=marker,
            api_url=ctx.api_url,
        )
    if result.warning:
        problems.append(result.warning)

    outputs = {
        "verdict": verdict,
        "exit-code": str(exit_code),
        "report-dir": "" if report_dir is None else str(report_dir),
        "comment-url": result.url,
    }
    for name, value in outputs.items():
        try:
            set_output(name, value, environ=env)
        except GitHubError as exc:
            problems.append(str(exc))
            break
    for problem in problems:
        annotate("warning", problem, title="perfgate report", environ=env)
    return result
