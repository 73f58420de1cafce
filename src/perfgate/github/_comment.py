"""The sticky pull-request comment: one comment per PR, updated in place.

The comment carries a hidden marker (an HTML comment). ``upsert_comment``
lists the PR's comments, edits the one with the marker *written by the
token's own account*, else creates one. The account is ``GET /user``'s login
(a personal token), else GraphQL's ``viewer`` (an app), else
``github-actions[bot]``, the account behind Actions' ``GITHUB_TOKEN`` (for
which ``/user`` answers 403). A person's comment quoting the marker is never
edited. With ``create=False`` an existing comment is updated but none is
created (``comment-on``, see :func:`wants_new_comment`).
Every GitHub failure (403 from a fork's read-only token, 5xx after bounded
retries, a rate limit, no network) returns ``action="skipped"`` with a
warning for the caller to surface; it never raises, so publishing can neither
turn a passing gate red nor hide a failing one (the exit code is the caller's).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import re
from dataclasses import dataclass
from typing import Any, Literal

from perfgate.errors import GitHubError
from perfgate.github._api import GitHubAPIError, GitHubClient, redact
from perfgate.github._context import DEFAULT_API_URL

__all__ = [
    "ACTIONS_BOT",
    "COMMENT_LIMIT",
    "COMMENT_ON",
    "MARKER",
    "CommentResult",
    "cap_comment",
    "compose_comment",
    "pick_comment",
    "sanitize_untrusted_markdown",
    "upsert_comment",
    "upsert_comment_async",
    "wants_new_comment",
]

#: The login of the account behind Actions' GITHUB_TOKEN.
ACTIONS_BOT = "github-actions[bot]"
#: When a new comment is posted (an existing one is always kept up to date).
COMMENT_ON = ("always", "change", "regression", "never")

MARKER = "<!-- perfgate:comment -->"
COMMENT_LIMIT = 65_536  # GitHub rejects longer issue comment bodies
TRIM_NOTE = "\n\n> **Note:** this comment was trimmed to fit GitHub's 65,536-character limit; the full report is in the job summary and the report artifact.\n"

_REPO = re.compile(r"^(?!\.\.?/)[A-Za-z0-9_.-]+/(?!\.\.?$)[A-Za-z0-9_.-]+$")
_ALLOWED_TAG = re.compile(r"</?(?:details|summary|br)\s*/?>|<details\s+open\s*>", re.IGNORECASE)
# @user, @org/team — not an e-mail address (a word character before the @).
_MENTION = re.compile(r"(?<![\w@`])@(?=[A-Za-z0-9])")

Action = Literal["created", "updated", "skipped"]


@dataclass(frozen=True, slots=True)
class CommentResult:
    url: str
    action: Action
    warning: str = ""

    @property
    def posted(self) -> bool:
        return self.action != "skipped"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _trim_units(text: str, budget: int) -> str:
    cut = text[: max(0, budget)]
    while _utf16_len(cut) > budget:  # astral characters count twice
        cut = cut[: len(cut) - (_utf16_len(cut) - budget)]
    return cut


def cap_comment(body: str, limit: int = COMMENT_LIMIT) -> str:
    """Trim ``body`` with a note so it fits GitHub's limit (counted in UTF-16 units)."""
    if _utf16_len(body) <= limit:
        return body
    budget = limit - _utf16_len(TRIM_NOTE)
    cut = _trim_units(body, budget)
    if cut.count("```") % 2:  # close a cut code fence, or it swallows the note
        cut = _trim_units(cut, budget - 4)
        if cut.count("```") % 2:
            cut += "\n```"
    return cut + TRIM_NOTE


def compose_comment(body: str, marker: str = MARKER, limit: int = COMMENT_LIMIT) -> str:
    """The marker on the first line, then the body capped to fit."""
    return marker + "\n" + cap_comment(body, limit - _utf16_len(marker) - 1)


def sanitize_untrusted_markdown(text: str) -> str:
    """Neutralise what untrusted text (e.g. an artifact from a fork's PR) could abuse.

    @mentions get a zero-width space (no notifications), HTML other than
    ``<details>``/``<summary>``/``<br>`` is escaped, which also defuses any
    perfgate marker or hidden HTML comment smuggled in.
    """
    out: list[str] = []
    pos = 0
    for match in re.finditer(r"<", text):
        start = match.start()
        if start < pos:
            continue
        allowed = _ALLOWED_TAG.match(text, start)
        out.append(text[pos:start])
        if allowed:
            out.append(allowed.group(0))
            pos = allowed.end()
        else:
            out.append("&lt;")
            pos = start + 1
    out.append(text[pos:])
    return _MENTION.sub("@\u200b", "".join(out))


def wants_new_comment(comment_on: str, state: str, moved: bool) -> bool:
    """Whether to post a new comment (pure). ``moved``: a metric changed beyond noise.

    ``always``; ``change`` when something moved or the verdict is not a plain
    pass; ``regression`` only on a regression or SLO failure; ``never``.
    """
    if comment_on == "always":
        return True
    if comment_on == "change":
        return moved or state != "pass"
    if comment_on == "regression":
        return state in ("regression", "slo-failure", "fail")
    return False


def pick_comment(comments: list[Any], marker: str, author: str | None = None) -> Any | None:
    """The comment to edit: carries the marker and was written by ``author``
    (default :data:`ACTIONS_BOT`); never anyone else's."""
    who = author or ACTIONS_BOT

    def login(c: dict[str, Any]) -> str:
        user = c.get("user") or {}
        return str(user.get("login") or "") if isinstance(user, dict) else ""

    for c in comments:
        if isinstance(c, dict) and marker in str(c.get("body") or "") and login(c) == who:
            return c
    return None


def _explain(exc: GitHubAPIError, api_url: str, attempts: int) -> str:
    head = "perfgate could not post the PR comment"
    tail = "The report is in the job summary."
    if exc.kind == "forbidden":
        return (
            f"{head}: GitHub answered {exc.status} ({exc}; a pull request from a fork gets a "
            f"read-only token; use the fork-safe workflow pair, see docs/github.md). {tail}"
        )
    if exc.kind == "rate_limited":
        wait = f" (retry after {exc.retry_after:.0f} s)" if exc.retry_after is not None else ""
        return f"{head}: GitHub API rate limit reached{wait}. {tail}"
    if exc.kind == "server":
        return f"{head}: GitHub answered HTTP {exc.status} after {attempts} attempts. {tail}"
    if exc.kind == "network":
        return f"{head}: could not reach {api_url} ({exc}). {tail}"
    return f"{head}: {exc}. {tail}"


def graphql_url(api_url: str) -> str:
    """GraphQL's endpoint beside a REST base: ``/graphql``, or ``/api/graphql`` on GHES."""
    base = api_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/v3")] + "/graphql"
    return base + "/graphql"


async def _token_login(gh: GitHubClient) -> str:
    """The login of the token's account; see the module docstring."""
    try:
        resp = await gh.request("GET", "/user")
        login = resp.data.get("login") if isinstance(resp.data, dict) else None
        if isinstance(login, str) and login:
            return login
    except GitHubAPIError as exc:
        if exc.kind == "rate_limited":
            raise
    try:
        resp = await gh.request(
            "POST", graphql_url(gh.api_url), json={"query": "query { viewer { login } }"}
        )
        data = resp.data if isinstance(resp.data, dict) else {}
        viewer = (
            (data.get("data") or {}).get("viewer") if isinstance(data.get("data"), dict) else None
        )
        login = viewer.get("login") if isinstance(viewer, dict) else None
        if isinstance(login, str) and login:
            return login
    except GitHubAPIError as exc:
        if exc.kind == "rate_limited":
            raise
    return ACTIONS_BOT


async def upsert_comment_async(
    body: str,
    *,
    repo: str,
    pr: int,
    token: str,
    marker: str = MARKER,
    api_url: str = DEFAULT_API_URL,
    author: str | None = None,
    create: bool = True,
    retries: int = 2,
    backoff: float = 0.5,
    timeout: float = 15.0,
) -> CommentResult:
    """Create or update the PR's sticky comment; see the module docstring."""
    if not token:
        return CommentResult("", "skipped", "perfgate did not post the PR comment: no token.")
    if not _REPO.match(repo or "") or not isinstance(pr, int) or pr <= 0:
        return CommentResult(
            "", "skipped", f"perfgate did not post the PR comment: bad repo/PR {repo!r}#{pr!r}."
        )
    text = compose_comment(body, marker)
    try:
        async with GitHubClient(
            token, api_url=api_url, retries=retries, backoff=backoff, timeout=timeout
        ) as gh:
            who = author or await _token_login(gh)
            comments = await gh.paginate(f"/repos/{repo}/issues/{pr}/comments")
            existing = pick_comment(comments, marker, who)
            if existing is not None:
                resp = await gh.request(
                    "PATCH",
                    f"/repos/{repo}/issues/comments/{int(existing['id'])}",
                    json={"body": text},
                )
                action: Action = "updated"
            elif not create:
                return CommentResult("", "skipped")  # comment-on: nothing worth a new comment
            else:
                resp = await gh.request(
                    "POST", f"/repos/{repo}/issues/{pr}/comments", json={"body": text}
                )
                action = "created"
    except GitHubAPIError as exc:
        return CommentResult("", "skipped", redact(_explain(exc, api_url, retries + 1), token))
    except Exception as exc:  # never let reporting change the gate's outcome
        detail = redact(f"{type(exc).__name__}: {exc}", token)
        if not isinstance(exc, GitHubError):
            detail = f"unexpected error ({detail})"
        return CommentResult(
            "",
            "skipped",
            f"perfgate could not post the PR comment: {detail}. The report is in the job summary.",
        )
    url = resp.data.get("html_url", "") if isinstance(resp.data, dict) else ""
    return CommentResult(str(url or ""), action)


def upsert_comment(
    body: str,
    *,
    repo: str,
    pr: int,
    token: str,
    marker: str = MARKER,
    api_url: str = DEFAULT_API_URL,
    author: str | None = None,
    create: bool = True,
    retries: int = 2,
    backoff: float = 0.5,
    timeout: float = 15.0,
) -> CommentResult:
    """Synchronous :func:`upsert_comment_async`; safe to call from inside a running loop."""
    call = functools.partial(
        upsert_comment_async,
        body,
        repo=repo,
        pr=pr,
        token=token,
        marker=marker,
        api_url=api_url,
        author=author,
        create=create,
        retries=retries,
        backoff=backoff,
        timeout=timeout,
    )
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(call())
    # Called from async code: run on a private loop in a worker thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, call()).result()
