"""The results database on a dedicated branch of the user's repository.

Between CI runs the database lives on a branch (default
``perfgate-baselines``) holding one file. Main's workflow appends its run
with :func:`push_run`; pull-request jobs only read it with
:func:`fetch_baseline`. Neither touches the user's checkout, index or HEAD:
reading is ``git fetch`` + ``git show``; writing builds the commit with
plumbing (``hash-object``, ``mktree``, ``commit-tree``) and pushes it by
ref. When two runs race (two merges to main), the loser's push is rejected
as non-fast-forward; it re-fetches, re-appends its run onto the fresh
database and pushes again, so no run is lost.

The branch stays small: fetches are shallow (one commit to read, at most
``max_commits`` to write), every push prunes the database by policy
(``keep_runs``/``keep_days``, then VACUUM), and once the branch holds
``max_commits`` commits the push replaces its history with one squashed
commit (``--force-with-lease`` on the fetched tip, so a concurrent push
still wins and this one retries).
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from perfgate.errors import StoreError
from perfgate.result import RunResult

if TYPE_CHECKING:
    from perfgate.store._db import Store

__all__ = [
    "DEFAULT_BRANCH",
    "DEFAULT_FILE",
    "PushOutcome",
    "fetch_baseline",
    "prune_branch",
    "push_run",
]

DEFAULT_BRANCH = "perfgate-baselines"
DEFAULT_FILE = "perfgate.sqlite"
_GIT_TIMEOUT_S = 120
_REJECTED_MARKERS = (
    "non-fast-forward",
    "fetch first",
    "[rejected]",
    "stale info",
    "cannot lock ref",
)


@dataclass(frozen=True)
class PushOutcome:
    commit: str
    attempts: int


def _git(
    repo_dir: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo_dir), *args],
            input=input,
            capture_output=True,
            env=env,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except FileNotFoundError as exc:
        raise StoreError("git is not installed (needed for the baseline branch)") from exc
    except subprocess.TimeoutExpired as exc:
        raise StoreError(f"git {args[0]} timed out after {_GIT_TIMEOUT_S} s") from exc
    if check and proc.returncode != 0:
        raise StoreError(f"git {args[0]} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc


def _fetch(repo_dir: Path, branch: str, remote: str, depth: int | None = 1) -> str | None:
    """Fetch the branch (``depth`` commits deep) into its remote-tracking ref;
    its commit, or None if absent."""
    tracking = f"refs/remotes/{remote}/{branch}"
    shallow = [f"--depth={depth}"] if depth else []
    proc = _git(
        repo_dir,
        "fetch",
        "--quiet",
        "--no-tags",
        *shallow,
        remote,
        f"+refs/heads/{branch}:{tracking}",
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        if "couldn't find remote ref" in err.lower():
            return None
        raise StoreError(f"git fetch {remote} {branch} failed: {err}")
    return _git(repo_dir, "rev-parse", "--verify", f"{tracking}^{{commit}}").stdout.decode().strip()


def _read_file(repo_dir: Path, commit: str, file: str) -> bytes | None:
    proc = _git(repo_dir, "cat-file", "blob", f"{commit}:{file}", check=False)
    return proc.stdout if proc.returncode == 0 else None


def _default_dest(repo_dir: Path) -> Path:
    git_dir = _git(repo_dir, "rev-parse", "--absolute-git-dir").stdout.decode().strip()
    return Path(git_dir) / "perfgate" / "baseline.sqlite"


def _check_file(file: str) -> None:
    if not file or "/" in file or "\\" in file:
        raise StoreError(
            f"the baseline file must be a plain file name at the branch root, not {file!r}"
        )


def fetch_baseline(
    repo_dir: str | Path,
    branch: str = DEFAULT_BRANCH,
    remote: str = "origin",
    *,
    dest: str | Path | None = None,
    file: str = DEFAULT_FILE,
) -> Path | None:
    """Fetch the baseline database from ``remote``'s ``branch`` into ``dest``.

    Returns the path written, or None when the branch (or the file on it)
    does not exist yet. ``dest`` defaults to ``.git/perfgate/baseline.sqlite``
    so the work tree is untouched.
    """
    _check_file(file)
    repo = Path(repo_dir)
    commit = _fetch(repo, branch, remote)
    if commit is None:
        return None
    data = _read_file(repo, commit, file)
    if data is None:
        return None
    target = Path(dest) if dest is not None else _default_dest(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)  # a leftover WAL would be replayed onto the new file
    tmp = target.with_name(target.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def _identity_env(repo_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    has_identity = _git(repo_dir, "config", "user.email", check=False).stdout.strip()
    if not has_identity and "GIT_AUTHOR_EMAIL" not in env:
        env.update(
            GIT_AUTHOR_NAME="perfgate",
            GIT_AUTHOR_EMAIL="perfgate@localhost",
            GIT_COMMITTER_NAME="perfgate",
            GIT_COMMITTER_EMAIL="perfgate@localhost",
        )
    return env


def _commit_database(
    repo_dir: Path, db_path: Path, parent: str | None, file: str, message: str
) -> str:
    blob = _git(repo_dir, "hash-object", "-w", "--", str(db_path)).stdout.decode().strip()
    entries: list[bytes] = []
    if parent is not None:
        listing = _git(repo_dir, "ls-tree", "-z", parent).stdout
        entries = [e for e in listing.split(b"\0") if e and e.split(b"\t", 1)[-1] != file.encode()]
    entries.append(f"100644 blob {blob}\t{file}".encode())
    tree = _git(repo_dir, "mktree", "-z", input=b"\0".join(entries) + b"\0").stdout.decode().strip()
    args = ["commit-tree", tree, "-m", message]
    if parent is not None:
        args += ["-p", parent]
    return _git(repo_dir, *args, env=_identity_env(repo_dir)).stdout.decode().strip()


def _history_full(repo_dir: Path, parent: str | None, max_commits: int) -> bool:
    """Whether the fetched branch already holds ``max_commits`` commits (or more)."""
    if parent is None:
        return False
    count = _git(repo_dir, "rev-list", "--count", parent).stdout.decode().strip()
    return int(count or 0) >= max_commits


def push_run(
    repo_dir: str | Path,
    run: RunResult,
    branch: str = DEFAULT_BRANCH,
    remote: str = "origin",
    retries: int = 5,
    *,
    file: str = DEFAULT_FILE,
    keep_runs: int | None = None,
    keep_days: float | None = None,
    max_commits: int | None = None,
) -> PushOutcome:
    """Append ``run`` to the database on ``branch`` and push it.

    Each attempt starts from a fresh (shallow) fetch; a non-fast-forward
    rejection (a concurrent push won) retries after a short jittered pause.
    ``keep_runs``/``keep_days`` prune the database before it is committed;
    ``max_commits`` bounds the branch's history (see the module docstring).
    Git failures become StoreError carrying git's message.
    """

    def add(store: Store) -> str:
        store.save_run(run)
        if keep_runs is not None:
            store.prune(keep_last=keep_runs, older_than_days=keep_days)
        return f"perfgate: add run {run.run_id}" + (f" ({run.commit[:12]})" if run.commit else "")

    return _rewrite_branch(Path(repo_dir), branch, remote, retries, file, add, max_commits, True)


def prune_branch(
    repo_dir: str | Path,
    branch: str = DEFAULT_BRANCH,
    remote: str = "origin",
    *,
    keep_runs: int,
    keep_days: float | None = None,
    max_commits: int | None = None,
    retries: int = 5,
    file: str = DEFAULT_FILE,
) -> tuple[PushOutcome, int]:
    """Prune the database on ``branch`` by policy and push it; (outcome, runs deleted).

    Raises StoreError when the branch (or its database) does not exist.
    """
    deleted = 0

    def prune(store: Store) -> str:
        nonlocal deleted
        deleted = store.prune(keep_last=keep_runs, older_than_days=keep_days)
        return f"perfgate: prune {deleted} run(s) (keep {keep_runs}, days {keep_days})"

    outcome = _rewrite_branch(
        Path(repo_dir), branch, remote, retries, file, prune, max_commits, False
    )
    return outcome, deleted


def _rewrite_branch(
    repo: Path,
    branch: str,
    remote: str,
    retries: int,
    file: str,
    change: Callable[[Store], str],
    max_commits: int | None,
    create: bool,
) -> PushOutcome:
    """Fetch the database, ``change`` it (returns the commit message), commit, push; retry races."""
    from perfgate.store._db import Store

    _check_file(file)
    last_error = ""
    for attempt in range(1, max(1, retries) + 1):
        parent = _fetch(repo, branch, remote, depth=max_commits)
        if parent is None and not create:
            raise StoreError(f"{remote} has no branch {branch!r} to change")
        squash = max_commits is not None and _history_full(repo, parent, max_commits)
        with tempfile.TemporaryDirectory(prefix="perfgate-push-") as tmp:
            db_path = Path(tmp) / file
            if parent is not None:
                data = _read_file(repo, parent, file)
                if data is not None:
                    db_path.write_bytes(data)
                elif not create:
                    raise StoreError(f"{remote}/{branch} holds no {file}")
            store = Store(db_path)
            try:
                message = change(store)
            finally:
                store.close()
            if squash:
                message += f"\n\nHistory squashed: the branch had reached {max_commits} commits."
            commit = _commit_database(repo, db_path, None if squash else parent, file, message)
        refspec = f"{commit}:refs/heads/{branch}"
        if squash:
            lease = f"--force-with-lease=refs/heads/{branch}:{parent}"
            proc = _git(repo, "push", "--quiet", lease, remote, refspec, check=False)
        else:
            proc = _git(repo, "push", "--quiet", remote, refspec, check=False)
        if proc.returncode == 0:
            _git(repo, "update-ref", f"refs/remotes/{remote}/{branch}", commit, check=False)
            return PushOutcome(commit, attempt)
        last_error = proc.stderr.decode(errors="replace").strip()
        if not any(marker in last_error for marker in _REJECTED_MARKERS):
            raise StoreError(f"git push {remote} {branch} failed: {last_error}")
        time.sleep(min(2.0, 0.2 * attempt) * (0.5 + random.random()))
    raise StoreError(
        f"git push {remote} {branch} still rejected after {retries} attempts: {last_error}"
    )
