"""The A/B base arm's source: the pull request's merge base, as a git worktree.

The base is the merge base of ``HEAD`` and the base ref (what the pull
request will be merged onto), checked out detached in its own directory, so
the candidate's checkout is never touched. CI checkouts are shallow by
default, and a shallow clone has no merge base: the error says so and names
the fix (``fetch-depth: 0``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from perfgate.errors import ConfigError, ServiceError

__all__ = ["merge_base", "prepare_base_worktree", "remove_worktree"]

_FETCH_HINT = (
    "fetch the history: in GitHub Actions set `fetch-depth: 0` on actions/checkout "
    "(or run `git fetch --unshallow`)"
)


def _git(repo: Path, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ServiceError(
            "git is not installed: A/B mode needs it to check out the base"
        ) from None
    except subprocess.TimeoutExpired:
        raise ServiceError(f"git {' '.join(args)} took longer than {timeout:.0f}s") from None


def _is_shallow(repo: Path) -> bool:
    out = _git(repo, "rev-parse", "--is-shallow-repository")
    return out.returncode == 0 and out.stdout.strip() == "true"


def _resolve(repo: Path, ref: str) -> str | None:
    """The commit ``ref`` names, trying ``origin/<ref>`` for a branch name."""
    for candidate in (ref, f"origin/{ref}", f"refs/remotes/origin/{ref}"):
        out = _git(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    return None


def merge_base(repo_dir: str | Path, base_ref: str) -> str:
    """The merge base of ``HEAD`` and ``base_ref``; ConfigError naming the fix when missing."""
    repo = Path(repo_dir)
    shallow = _is_shallow(repo)
    base = _resolve(repo, base_ref)
    if base is None:
        why = "this is a shallow clone" if shallow else "it is not in this clone"
        raise ConfigError(
            f"the A/B base {base_ref!r} cannot be found ({why}); {_FETCH_HINT}, "
            "or pass --base-ref with a commit that exists here"
        )
    out = _git(repo, "merge-base", "HEAD", base)
    if out.returncode != 0 or not out.stdout.strip():
        why = (
            "this is a shallow clone, so the common history is missing"
            if shallow
            else "HEAD and the base share no history"
        )
        raise ConfigError(
            f"no merge base of HEAD and {base_ref!r} ({why}); {_FETCH_HINT}"
            + (f" — git said: {out.stderr.strip()}" if out.stderr.strip() else "")
        )
    return out.stdout.strip()


def prepare_base_worktree(repo_dir: str | Path, base_ref: str, dest: str | Path) -> Path:
    """Check out the merge base of HEAD and ``base_ref`` detached in ``dest``; returns ``dest``.

    Raises ConfigError (no base: a shallow clone, an unknown ref) or
    ServiceError (git failed). ``dest`` is replaced if it exists.
    """
    repo = Path(repo_dir)
    target = Path(dest).resolve()
    sha = merge_base(repo, base_ref)
    if target.exists():
        remove_worktree(repo, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    out = _git(repo, "worktree", "add", "--detach", "--force", str(target), sha)
    if out.returncode != 0:
        remove_worktree(repo, target)
        raise ServiceError(
            f"could not check out the base {sha[:12]} into {target}: {out.stderr.strip()}"
        )
    return target


def remove_worktree(repo_dir: str | Path, dest: str | Path) -> None:
    """Remove the worktree at ``dest`` and its registration; never raises."""
    repo = Path(repo_dir)
    target = Path(dest).resolve()
    try:
        _git(repo, "worktree", "remove", "--force", str(target), timeout=60)
    except ServiceError:
        pass
    shutil.rmtree(target, ignore_errors=True)
    try:
        _git(repo, "worktree", "prune", timeout=60)
    except ServiceError:
        pass
