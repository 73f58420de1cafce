"""The baseline branch stays small: shallow fetches, pruning on push, squashed history.

Against a local bare 'origin' (real git, real SQLite).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from perfgate.store import Store, fetch_baseline, push_run
from test_baseline_sync import git, repos  # noqa: F401  (the fixture)
from test_store import make_run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def branch_commits(bare: Path) -> int:
    return int(git(bare, "rev-list", "--count", "refs/heads/perfgate-baselines"))


def test_push_prunes_by_policy_and_squashes_past_the_bound(
    repos: tuple[Path, Path, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    bare, a, b = repos
    for i in range(7):
        run = make_run(run_id=f"{i:016d}", created_at=f"2026-01-0{i + 1}T00:00:00+00:00")
        push_run(a if i % 2 else b, run, keep_runs=3, max_commits=3)
        assert branch_commits(bare) <= 3
    db = fetch_baseline(a, dest=tmp_path / "db.sqlite")
    assert db is not None
    with Store(db) as store:
        # the newest three runs survive; older ones were pruned on push
        assert store.run_ids() == [f"{i:016d}" for i in (4, 5, 6)]
    # the squash left a root commit that says why
    root = git(bare, "rev-list", "--max-parents=0", "refs/heads/perfgate-baselines")
    assert "History squashed" in git(bare, "log", "-1", "--format=%B", root)


def test_reading_the_baseline_fetches_one_commit(
    repos: tuple[Path, Path, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    bare, a, _ = repos
    for i in range(4):
        push_run(a, make_run(run_id=f"{i:016d}"))
    assert branch_commits(bare) == 4
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", "--no-local", f"file://{bare}", str(fresh))
    assert fetch_baseline(fresh, dest=tmp_path / "read.sqlite") is not None
    local = git(fresh, "rev-list", "--count", "refs/remotes/origin/perfgate-baselines")
    assert local == "1"  # shallow: only the tip travelled
    assert git(fresh, "rev-list", "--count", "HEAD") == "1"  # main's history is untouched


def test_keep_days_spares_recent_runs_beyond_the_count(
    repos: tuple[Path, Path, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    _, a, _ = repos
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    old = (now - timedelta(days=400)).isoformat(timespec="seconds")
    recent = (now - timedelta(days=1)).isoformat(timespec="seconds")
    push_run(a, make_run(run_id="0" * 16, created_at=old), keep_runs=1, keep_days=30)
    push_run(a, make_run(run_id="1" * 16, created_at=recent), keep_runs=1, keep_days=30)
    push_run(a, make_run(run_id="2" * 16, created_at=recent), keep_runs=1, keep_days=30)
    db = fetch_baseline(a, dest=tmp_path / "db.sqlite")
    assert db is not None
    with Store(db) as store:
        assert store.run_ids() == ["1" * 16, "2" * 16]  # the 400-day-old run went


def test_cli_prunes_the_branch_by_the_configs_policy(
    repos: tuple[Path, Path, Path],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from perfgate.cli import main

    bare, a, _ = repos
    for i in range(4):
        push_run(a, make_run(run_id=f"{i:016d}", created_at=f"2026-01-0{i + 1}T00:00:00+00:00"))
    (a / "load.yml").write_text(
        "config: {target: 'http://127.0.0.1:1', phases: [{duration: 1, arrivalRate: 1}]}\n"
        "scenarios: [{flow: [{get: {url: /}}]}]\n"
    )
    (a / "perfgate.yml").write_text(
        "target: http://127.0.0.1:1\n"
        "suites: [{name: load, script: load.yml}]\n"
        "store: {keep_runs: 2, max_commits: 20}\n"
    )
    assert main(["baseline", "prune", "--config", str(a / "perfgate.yml"), "--branch"]) == 0
    assert "deleted 2 run(s) from origin/perfgate-baselines" in capsys.readouterr().out
    assert branch_commits(bare) == 5
    db = fetch_baseline(a, dest=tmp_path / "db.sqlite")
    assert db is not None
    with Store(db) as store:
        assert store.run_ids() == [f"{i:016d}" for i in (2, 3)]
