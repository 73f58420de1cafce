"""What the gate needs to know about the checkout: commit, branch, PR."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GitInfo", "git_info", "is_git_repo"]


@dataclass
class GitInfo:
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    base_sha: str | None = None  # a pull request's base, from the event
    repo_dir: Path | None = None


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def is_git_repo(path: Path) -> Path | None:
    top = _git(path, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def git_info(path: Path, environ: Mapping[str, str] | None = None) -> GitInfo:
    """Commit and branch from git, overridden by GitHub's environment when present."""
    from perfgate.github import in_actions, load_context

    env = os.environ if environ is None else environ
    info = GitInfo(repo_dir=is_git_repo(path))
    if info.repo_dir is not None:
        info.commit = _git(info.repo_dir, "rev-parse", "HEAD")
        info.branch = _git(info.repo_dir, "branch", "--show-current")
    if in_actions(env):
        ctx = load_context(env)
        info.pr = ctx.pr_number
        info.commit = ctx.head_sha or ctx.sha or info.commit
        info.branch = env.get("GITHUB_HEAD_REF") or env.get("GITHUB_REF_NAME") or info.branch
        info.base_sha = ctx.base_sha or None
    return info
