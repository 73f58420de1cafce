"""Where the job runs: repository, commit, pull request, API endpoints.

Read from the runner's environment and the event payload at
``GITHUB_EVENT_PATH``. ``GITHUB_API_URL`` carries GitHub Enterprise's
``https://HOST/api/v3``; the default is the public API.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfgate.errors import GitHubError

__all__ = ["DEFAULT_API_URL", "DEFAULT_SERVER_URL", "GitHubContext", "load_context"]

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"


@dataclass(frozen=True, slots=True)
class GitHubContext:
    repository: str = ""
    sha: str = ""
    ref: str = ""
    event_name: str = ""
    api_url: str = DEFAULT_API_URL
    server_url: str = DEFAULT_SERVER_URL
    run_id: str = ""
    run_attempt: str = ""
    actor: str = ""
    pr_number: int | None = None
    head_sha: str = ""
    head_ref: str = ""
    head_repository: str = ""
    base_sha: str = ""
    base_ref: str = ""

    @property
    def is_pull_request(self) -> bool:
        return self.pr_number is not None

    @property
    def is_fork(self) -> bool:
        """A PR whose head lives in another repository (its token is read-only)."""
        return bool(self.head_repository) and self.head_repository != self.repository

    @property
    def run_url(self) -> str:
        if not (self.repository and self.run_id):
            return ""
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"

    @property
    def commit_url(self) -> str:
        sha = self.head_sha or self.sha
        if not (self.repository and sha):
            return ""
        return f"{self.server_url}/{self.repository}/commit/{sha}"


def _read_event(path: str) -> dict[str, Any]:
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise GitHubError(f"cannot read the event payload {path}: {exc}") from None
    return data if isinstance(data, dict) else {}


def _dig(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def load_context(environ: Mapping[str, str] | None = None) -> GitHubContext:
    """The job's context; empty fields outside Actions. Never needs a network call."""
    env = os.environ if environ is None else environ
    event = _read_event(env.get("GITHUB_EVENT_PATH", ""))
    pr = event.get("pull_request") if isinstance(event.get("pull_request"), dict) else None
    number: int | None = None
    if pr is not None and isinstance(pr.get("number"), int):
        number = pr["number"]
    elif isinstance(_dig(event, "issue", "pull_request"), dict) and isinstance(
        _dig(event, "issue", "number"), int
    ):
        number = event["issue"]["number"]  # issue_comment on a PR
    return GitHubContext(
        repository=env.get("GITHUB_REPOSITORY", "") or _str(_dig(event, "repository", "full_name")),
        sha=env.get("GITHUB_SHA", ""),
        ref=env.get("GITHUB_REF", ""),
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        server_url=(env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/"),
        run_id=env.get("GITHUB_RUN_ID", ""),
        run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
        actor=env.get("GITHUB_ACTOR", ""),
        pr_number=number,
        head_sha=_str(_dig(pr, "head", "sha")),
        head_ref=_str(_dig(pr, "head", "ref")) or env.get("GITHUB_HEAD_REF", ""),
        head_repository=_str(_dig(pr, "head", "repo", "full_name")),
        base_sha=_str(_dig(pr, "base", "sha")),
        base_ref=_str(_dig(pr, "base", "ref")) or env.get("GITHUB_BASE_REF", ""),
    )
