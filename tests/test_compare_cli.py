"""`perfgate compare`: side by side, a verdict only with replication."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from perfgate.gate import compare_runs
from perfgate.result import BenchOperation, RunResult, SuiteResult
from perfgate.store import Store


def bench_run(medians: list[float], commit: str) -> RunResult:
    op = BenchOperation(
        name="Health",
        samples_ms=[m for m in medians for _ in range(20)],
        repeats=[{"median": m, "mean": m} for m in medians],
    )
    return RunResult(
        commit=commit, suites=[SuiteResult(name="bench", kind="bench", operations=[op])]
    )


def test_replicated_bench_gets_a_verdict_single_numbers_do_not() -> None:
    a = bench_run([1.0, 1.02, 0.99, 1.01, 1.0], "a")
    slower = bench_run([1.5, 1.52, 1.49, 1.51, 1.5], "b")
    rows = {c.metric: c for c in compare_runs(a, slower)}
    assert rows["op:Health median"].state == "regression"
    assert rows["op:Health p95"].state == "info"  # no replication for p95
    same = bench_run([1.01, 0.99, 1.0, 1.02, 1.0], "c")
    assert {c.metric: c for c in compare_runs(a, same)}["op:Health median"].state == "within-noise"
    single_a, single_b = bench_run([1.0], "a"), bench_run([2.0], "b")
    row = {c.metric: c for c in compare_runs(single_a, single_b)}["op:Health median"]
    assert row.state == "info" and row.change is not None and abs(row.change - 1.0) < 1e-9


def test_cli_compares_files_and_stored_runs(tmp_path: Path) -> None:
    a = bench_run([1.0, 1.02, 0.99, 1.01, 1.0], "aaa")
    b = bench_run([1.5, 1.52, 1.49, 1.51, 1.5], "bbb")
    a.save(tmp_path / "a.json")
    b.save(tmp_path / "b.json")
    cmd = [sys.executable, "-m", "perfgate", "compare"]
    files = subprocess.run(
        [*cmd, str(tmp_path / "a.json"), str(tmp_path / "b.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        files.returncode == 1
        and "regression" in files.stdout
        and "op:Health median" in files.stdout
    )
    db = tmp_path / "runs.sqlite"
    with Store(db) as store:
        store.save_run(a)
        store.save_run(b)
    stored = subprocess.run(
        [*cmd, b.run_id[:8], a.run_id[:8], "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert stored.returncode == 0 and "improvement" in stored.stdout
    missing = subprocess.run(
        [*cmd, "nope", "nada", "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
