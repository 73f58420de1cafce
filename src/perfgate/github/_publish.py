"""One call for the gate: job summary, sticky comment, alert, step outputs, warnings.

``publish_report`` never raises and never changes the gate's exit code: any
failure to publish becomes a ``::warning::`` and the report stays in the job
summary and the report directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from perfgate.errors import GitHubError
from perfgate.github._alert import is_alert, post_commit_comment
from perfgate.github._annotations import add_mask, annotate
from perfgate.github._comment import (
    COMMENT_ON,
    MARKER,
    CommentResult,
    upsert_comment,
    wants_new_comment,
)
from perfgate.github._context import GitHubContext, load_context
from perfgate.github._files import append_summary, set_output

__all__ = ["COMMENT_FILE", "PublishOptions", "publish_report"]

# Written into the report directory: the exact comment body, so the fork-safe
# workflow_run job can post it without running any of the PR's code.
COMMENT_FILE = "comment.md"


@dataclass(frozen=True)
class PublishOptions:
    """What perfgate.yml's ``github:`` section and the action's inputs ask for."""

    comment: bool = True
    comment_on: str = "change"  # always | change | regression | never (see COMMENT_ON)
    summary: bool = True
    token_env: str = "GITHUB_TOKEN"
    api_url: str | None = None  # GitHub Enterprise; default: the runner's GITHUB_API_URL
    alert_commit_comment: bool = False  # on a push (main), comment on the commit on regression
    outputs: Mapping[str, str] = field(default_factory=dict)  # more step outputs

    def __post_init__(self) -> None:
        if self.comment_on not in COMMENT_ON:
            raise GitHubError(
                f"comment-on must be one of {', '.join(COMMENT_ON)}, got {self.comment_on!r}"
            )


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
    moved: bool = True,
    options: PublishOptions | None = None,
) -> CommentResult:
    """Publish the gate's report where GitHub users look; returns what happened to the comment.

    ``moved``: some metric changed beyond noise (for ``comment-on: change``).
    """
    env = os.environ if environ is None else environ
    opts = options or PublishOptions()
    ctx = context or load_context(env)
    api_url = (opts.api_url or ctx.api_url).rstrip("/")
    token = token if token is not None else env.get(opts.token_env, "")
    add_mask(token or "", environ=env)
    body = comment_markdown if comment_markdown is not None else markdown
    problems: list[str] = []

    if report_dir is not None:
        try:
            Path(report_dir).mkdir(parents=True, exist_ok=True)
            (Path(report_dir) / COMMENT_FILE).write_text(body, encoding="utf-8")
        except OSError as exc:
            problems.append(f"could not write {COMMENT_FILE}: {exc.strerror or exc}")

    if opts.summary:
        try:
            append_summary(markdown, environ=env)
        except GitHubError as exc:
            problems.append(str(exc))

    result = CommentResult("", "skipped")
    if not ctx.is_pull_request or ctx.pr_number is None:
        # a push (main): the opt-in alert, independent of the PR comment's switches
        if opts.alert_commit_comment and is_alert(verdict) and ctx.event_name == "push":
            result = post_commit_comment(
                body, repo=ctx.repository, sha=ctx.sha, token=token, api_url=api_url
            )
    elif not comment or not opts.comment or opts.comment_on == "never":
        pass
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
            api_url=api_url,
            create=wants_new_comment(opts.comment_on, verdict, moved),
        )
    if result.warning:
        problems.append(result.warning)

    outputs = {
        "verdict": verdict,
        "exit-code": str(exit_code),
        "report-dir": "" if report_dir is None else str(report_dir),
        "comment-url": result.url,
        **opts.outputs,
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
