"""Which runs may become baselines, and why history found nothing: the gate's side.

A real `perfgate gate --update-baseline` in a throwaway repository with a bare
origin: a run whose API never started is reported but never pushed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from perfgate.gate.history import history_mismatch
from perfgate.gate.run import baseline_unfit
from perfgate.store import Store
from perfgate.verdict import Verdict
from test_store import make_run

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_baseline_unfit() -> None:
    assert baseline_unfit(Verdict("pass"), [], False) == ""
    assert baseline_unfit(Verdict("regression"), [], False) == ""  # main moved: the new truth
    assert "errors" in baseline_unfit(Verdict("error"), [], False)
    assert "errors" in baseline_unfit(Verdict("pass"), ["suite 'x' not run"], False)
    assert "interrupted" in baseline_unfit(Verdict("pass"), [], True)


def test_a_run_that_ended_with_errors_is_not_pushed(tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    assert git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare)).returncode == 0
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(bare), str(work))
    (work / "load.yml").write_text(
        "config: {target: 'http://127.0.0.1:1', phases: [{duration: 1, arrivalRate: 1}]}\n"
        "scenarios: [{flow: [{get: {url: /}}]}]\n"
    )
    (work / "perfgate.yml").write_text(
        f"service:\n  start: [{sys.executable}, -c, 'raise SystemExit(3)']\n"
        "  ready: {port: '{{ port }}', timeout: 5}\n"
        "suites: [{name: load, script: load.yml}]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERFGATE_"))}
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", "--mode", "history", "--update-baseline"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "baseline not updated: the run ended with errors" in proc.stdout
    assert git(bare, "rev-parse", "--verify", "refs/heads/perfgate-baselines").returncode != 0


def test_history_mismatch_names_the_profile_the_branch_lacks(tmp_path: Path) -> None:
    from perfgate.config.project import CompareConfig

    with Store(tmp_path / "db.sqlite") as store:
        for i in range(3):
            run = make_run(run_id=f"{i:016d}", config_hash="hfull")
            run.profile = "full"
            store.save_run(run)
        pr_run = make_run(run_id="f" * 16, config_hash="hpr")
        pr_run.profile = "pr"
        reason = history_mismatch(pr_run, store, CompareConfig())
        assert "profile full but none of 'pr'" in reason
        same = make_run(run_id="e" * 16, config_hash="hother")
        same.profile = "full"
        assert "config hash differs" in history_mismatch(same, store, CompareConfig())
    with Store(tmp_path / "empty.sqlite") as empty:
        assert "no run of 'main'" in history_mismatch(pr_run, empty, CompareConfig())
