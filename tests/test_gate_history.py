"""End to end: `perfgate gate` in history mode on the demo API.

A real git repo (branch main), real demo API processes, a real SQLite store.
Ten gate runs build the history of main; a clean candidate then passes and a
candidate 50 ms slower on one route fails as a regression. Margins are wide:
a 50 ms shift on a sub-millisecond route is a move of over 5000%, and every
minimum effect is 100% (the largest the config accepts), so a clean run
fails only if the machine's noise doubles a figure. A 50% minimum effect was
not enough: a shared CI machine once made a clean run's sub-millisecond bench
median 60% slower than its history.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from perfgate.gate import GateOptions, run_gate
from perfgate.store import Store

pytestmark = pytest.mark.slow

BENCH = """\
name: quick
target: http://127.0.0.1:1
defaults: {samples: 60, warmup: 5}
operations:
  - name: Health
    request: {method: GET, url: /health}
  - name: List Bounties
    request: {method: GET, url: /api/bounties, qs: {limit: 20}}
"""

LOAD = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 3, arrivalRate: 40, name: steady}
scenarios:
  - flow:
      - get: {url: /health}
      - get: {url: /api/bounties, qs: {limit: 5}}
"""

PROJECT = """\
target: {url}
suites:
  - {{name: load, script: load.yml}}
  - {{name: bench, kind: bench, suite: bench.yml}}
profiles:
  pr: {{budget: 10, compare: history}}
slo: {{p99: null}}
compare:
  min_effect: {{median: 1.0, p95: 1.0, p99: 1.0, cpu_per_request: 1.0}}
  history: {{runs: 20, min_points: 10, branch: main}}
monitor: {{interval: 0.5}}
"""


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def make_repo(tmp_path: Path, url: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "bench.yml").write_text(BENCH)
    (repo / "load.yml").write_text(LOAD)
    (repo / "perfgate.yml").write_text(PROJECT.format(url=url))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "perf config")
    return repo


def gate(repo: Path, db: Path, reports: Path) -> tuple[int, str, object]:
    opts = GateOptions(
        config=repo / "perfgate.yml", profile="pr", store_path=db, report_dir=reports, comment=False
    )
    out = run_gate(opts, log=lambda _msg: None)
    return out.exit_code, out.verdict.state, out


def test_history_mode_builds_history_then_passes_clean_and_catches_latency(
    tmp_path: Path, shared_demo_api, start_demo_api
) -> None:
    repo = make_repo(tmp_path, shared_demo_api.url)
    db, reports = tmp_path / "runs.sqlite", tmp_path / "reports"

    states = [gate(repo, db, reports)[1] for _ in range(10)]
    # Too little history at first: compared, but it cannot fail.
    assert states[0] == "inconclusive"
    with Store(db) as store:
        assert len(store.list_runs(branch="main", limit=50)) == 10

    code, state, out = gate(repo, db, reports)
    assert (code, state) == (0, "pass"), out.verdict.reasons  # type: ignore[attr-defined]
    history = [
        c for c in out.verdict.comparisons if c.method == "history" and c.family == "primary"
    ]  # type: ignore[attr-defined]
    assert history and all(c.state != "regression" for c in history)
    assert out.report is not None and out.report.html.is_file()  # type: ignore[attr-defined]
    # Each primary metric's stored runs are kept for the report's history chart, and drawn.
    kept = out.verdict.details["history"]  # type: ignore[attr-defined]
    assert {f"{c.suite}\t{c.metric}" for c in history} <= set(kept)
    assert all(len(points) == 10 for points in kept.values())
    page = out.report.html.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert page.count('data-chart="history"') >= len([c for c in history if c.unit != "ratio"])
    assert 'class="this-run"' in page

    slow = start_demo_api("--latency-ms", "50", "--route", "/api/bounties")
    (repo / "perfgate.yml").write_text(PROJECT.format(url=slow.url))
    code, state, out = gate(repo, db, reports)
    assert (code, state) == (1, "regression")
    regressed = {c.metric for c in out.verdict.comparisons if c.state == "regression"}  # type: ignore[attr-defined]
    assert "op:List Bounties median" in regressed
    assert "endpoint:/api/bounties total.p50" in regressed
    assert "endpoint:/health total.p50" not in regressed
    assert len(out.verdict.reasons) >= 2  # type: ignore[attr-defined]


def test_gate_cli_reports_bad_config_with_location(tmp_path: Path) -> None:
    (tmp_path / "perfgate.yml").write_text("target: http://127.0.0.1:1\nsuits: []\n")
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", str(tmp_path / "perfgate.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "perfgate.yml:2" in proc.stderr and "did you mean 'suites'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gate_reports_a_target_that_never_starts(tmp_path: Path) -> None:
    (tmp_path / "load.yml").write_text(LOAD)
    (tmp_path / "perfgate.yml").write_text(
        "service:\n"
        f"  start: [{sys.executable!r}, -c, 'import sys; print(\"boom: no database\"); sys.exit(4)']\n"
        "  ready: {url: /health, timeout: 10}\n"
        "suites:\n  - {name: load, script: load.yml}\n"
        "profiles:\n  pr: {budget: 5, compare: none}\n"
    )
    out = run_gate(
        GateOptions(
            config=tmp_path / "perfgate.yml",
            store_path=tmp_path / "db.sqlite",
            report_dir=tmp_path / "r",
        ),
        log=lambda _m: None,
    )
    assert out.exit_code == 2 and out.verdict.state == "error"
    assert "boom: no database" in " ".join(out.verdict.reasons)
    assert out.report is not None and out.report.markdown.is_file()
