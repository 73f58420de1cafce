"""The baseline branch against a local bare repository, with a racing push."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perfgate.errors import StoreError
from perfgate.store import Store, fetch_baseline, push_run
from test_store import make_run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")

TESTS_DIR = Path(__file__).parent


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare 'origin' with one commit on main, and two clones of it."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    for key, value in (("user.name", "t"), ("user.email", "t@example.invalid")):
        git(seed, "config", key, value)
    (seed / "README").write_text("hello\n")
    git(seed, "add", "README")
    git(seed, "commit", "-q", "-m", "init")
    git(seed, "push", "-q", "origin", "HEAD:main")
    clones = []
    for name in ("a", "b"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", str(bare), str(clone))
        clones.append(clone)
    return bare, clones[0], clones[1]


def test_fetch_before_any_push_is_none(repos: tuple[Path, Path, Path]) -> None:
    _, a, _ = repos
    assert fetch_baseline(a) is None


def test_push_then_fetch_without_touching_the_checkout(
    repos: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, b = repos
    (a / "work.txt").write_text("uncommitted\n")  # the user's work in progress
    head = git(a, "rev-parse", "HEAD")
    run1 = make_run(run_id="1" * 16)
    outcome = push_run(a, run1)
    assert outcome.attempts == 1
    assert git(a, "rev-parse", "HEAD") == head
    assert git(a, "status", "--porcelain") == "?? work.txt"
    assert git(a, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    run2 = make_run(run_id="2" * 16, created_at="2026-01-02T00:00:00+00:00")
    push_run(b, run2)
    path = fetch_baseline(a, dest=tmp_path / "fetched.sqlite")
    assert path == tmp_path / "fetched.sqlite"
    with Store(path) as store:
        assert set(store.run_ids()) == {run1.run_id, run2.run_id}
        assert store.get_run(run1.run_id).to_dict() == run1.to_dict()
    default = fetch_baseline(b)
    assert default is not None and ".git" in default.parts


_HOOK = textwrap.dedent(
    """\
    #!{python}
    # pre-push hook of clone A: the first time, clone B wins the race.
    import os, sys
    marker = {marker!r}
    if not os.path.exists(marker):
        open(marker, "w").close()
        sys.path.insert(0, {tests!r})
        from test_store import make_run
        from perfgate.store import push_run
        push_run({clone_b!r}, make_run(run_id="b" * 16, created_at="2026-01-03T00:00:00+00:00"))
    """
)


def test_push_retries_after_a_concurrent_push(
    repos: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    bare, a, b = repos
    push_run(a, make_run(run_id="0" * 16))  # the branch exists
    hook = a / ".git" / "hooks" / "pre-push"
    hook.write_text(
        _HOOK.format(
            python=sys.executable,
            marker=str(tmp_path / "raced"),
            tests=str(TESTS_DIR),
            clone_b=str(b),
        )
    )
    hook.chmod(0o755)
    outcome = push_run(a, make_run(run_id="a" * 16, created_at="2026-01-04T00:00:00+00:00"))
    assert outcome.attempts == 2  # rejected once as non-fast-forward, then re-appended
    inspect = tmp_path / "inspect"
    git(tmp_path, "clone", "-q", "-b", "perfgate-baselines", str(bare), str(inspect))
    with Store(inspect / "perfgate.sqlite") as store:
        assert set(store.run_ids()) == {"0" * 16, "a" * 16, "b" * 16}
    history = git(inspect, "log", "--format=%s").splitlines()
    assert len(history) == 3 and all(line.startswith("perfgate: add run") for line in history)


def test_git_failures_become_store_errors(tmp_path: Path) -> None:
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    git(lonely, "init", "-q")
    with pytest.raises(StoreError, match="git fetch"):
        fetch_baseline(lonely)  # no 'origin' remote
    with pytest.raises(StoreError, match="plain file name"):
        fetch_baseline(lonely, file="a/b.sqlite")
