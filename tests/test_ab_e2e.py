"""A/B end to end: a git repo of two commits of a tiny API; base worktree; shallow clones.

The candidate commit sleeps 50 ms more per request, so the regression is
found whatever the machine's noise; the A/A run of one commit must not find
anything of that size. Wide margins only: other tests share these CPUs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from apps.hello_server import hello_server
from perfgate.config import AbConfig, load_project_text
from perfgate.errors import ConfigError
from perfgate.gate.ab.design import look_level
from perfgate.gate.ab.run import run_ab
from perfgate.gate.compare import apply_holm
from perfgate.gate.plan import plan_suites
from perfgate.gate.worktree import merge_base, prepare_base_worktree, remove_worktree
from perfgate.target import service_for
from perfgate.verdict import MetricComparison

SCRIPT = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 10, arrivalRate: 70, name: steady}
scenarios:
  - flow:
      - get: {url: /hello}
"""

PERFGATE_YML = f"""\
service:
  start: [{sys.executable}, "{{{{ root }}}}/server.py", "{{{{ port }}}}"]
  ready: {{url: /health, timeout: 20}}
suites:
  - {{name: load, script: load.yml}}
monitor: {{enabled: false}}
ab:
  pairs: 8   # 2^-8 < 0.03/10: enough for Holm over a 10-metric family
  extend_pairs: 4
  round: 1
  warmup: 0.5
  warmup_requests: 50
  max_lag: 1000   # this shared test machine's scheduler lag is no part of this test
  seed: 11
"""


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=30
    )
    return out.stdout.strip()


@pytest.fixture
def two_commit_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    (repo / "server.py").write_text(hello_server(delay_s=0.002))
    (repo / "load.yml").write_text(SCRIPT)
    (repo / "perfgate.yml").write_text(PERFGATE_YML)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "feature")
    (repo / "server.py").write_text(hello_server(delay_s=0.052))
    _git(repo, "commit", "-q", "-am", "50 ms slower")
    return repo


def _ab(
    repo: Path, base_root: Path, tmp: Path, yml: str | None = None
) -> tuple[list[MetricComparison], dict[str, Any]]:
    from conftest import free_port

    cfg = load_project_text(yml or (repo / "perfgate.yml").read_text(), repo)
    planned = plan_suites(cfg, "pr")
    base = service_for(cfg, "base", free_port(), tmp / "base", root=base_root)
    cand = service_for(cfg, "candidate", free_port(), tmp / "cand")
    out = run_ab(cfg, planned, base_spec=base, candidate_spec=cand, log=lambda _: None)
    assert not out.errors, out.errors
    assert out.base.label == "base" and out.candidate.label == "candidate"
    assert [s.kind for s in out.candidate.suites] == ["ab"]
    assert "target_cpu_s" in out.candidate.suites[0].extra
    suite = out.details["suites"]["load"]
    assert out.details["seed"] == 11
    # 8 pairs, and 4 more only when the first look could not decide
    assert suite["pairs_planned"] == len(suite["pairs"]) == (8 if suite["extended"] is None else 12)
    # What the report draws: every slice of both arms on one clock, both distributions.
    trace = suite["trace"]
    assert len(trace["rounds"]) == 2 * len(suite["pairs"]) * suite["slices"]
    assert {r["arm"] for r in trace["rounds"]} == {"base", "candidate"}
    times = [r["t"] for r in trace["rounds"]]
    assert times == sorted(times) and trace["warmup_s"][0] <= times[0]
    for arm in ("base", "candidate"):
        dist = trace["latency"][arm]
        assert dist["n"] > 0 and len(dist["values"]) == len(trace["latency"]["q"])
        assert dist["values"] == sorted(dist["values"])
    assert suite["wall_s"] >= sum(r["measured_s"] for r in trace["rounds"]) / 2
    json.dumps(out.details)  # kept in the verdict's details: plain JSON
    apply_holm(out.comparisons, look_level(cfg.ab, cfg.compare.alpha))
    return out.comparisons, suite


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_ab_finds_the_50ms_regression_and_aa_finds_none(
    two_commit_repo: Path, tmp_path: Path
) -> None:
    repo = two_commit_repo
    tree = prepare_base_worktree(repo, "main", tmp_path / "base-tree")
    try:
        assert "0.002" in (tree / "server.py").read_text()
        found, suite = _ab(repo, tree, tmp_path / "ab")
        comps = {c.metric: c for c in found}
    finally:
        remove_worktree(repo, tmp_path / "base-tree")
    assert not (tmp_path / "base-tree").exists()
    assert "base-tree" not in _git(repo, "worktree", "list")
    p50 = comps["total.p50"]
    assert p50.family == "primary"
    assert p50.state == "regression", p50
    assert (p50.change or 0) > 1.0  # ~3 ms -> ~53 ms
    assert comps["endpoint:/hello total.p50"].state == "regression"
    assert suite["extended"] is None  # decided at the first look: no more pairs

    # A/A: the candidate against itself — nothing of a 50 ms scale.
    same, _ = _ab(repo, repo, tmp_path / "aa")
    big = [
        c
        for c in same
        if c.family == "primary" and c.state == "regression" and (c.change or 0) > 0.5
    ]
    assert not big, big
    # peak resident memory, one figure per launch of both arms: compared, no alarm
    peak = {c.metric: c for c in same}["peak_rss_kib"]
    assert peak.family == "secondary" and peak.samples == 2, peak
    assert peak.state == "within-noise" and peak.base and peak.candidate, peak


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_an_undecided_first_look_runs_the_extension_pairs(
    two_commit_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interim look says "undecided": the extension pairs run and join the comparison.

    Only the interim decision is forced (what makes a real run undecided is
    tested on its own in test_ab_stats); the rounds, arms and traffic are real.
    """
    from perfgate.gate.ab import suite as ab_suite

    looks: list[int] = []

    def forced(comparisons: list[MetricComparison], level: float) -> str:
        looks.append(next(c.samples or 0 for c in comparisons if c.metric == "cpu_ms_per_request"))
        return "forced by the test"

    monkeypatch.setattr(ab_suite, "undecided", forced)
    yml = (two_commit_repo / "perfgate.yml").read_text().replace("round: 1", "round: 0.5")
    comps, suite = _ab(two_commit_repo, two_commit_repo, tmp_path / "ext", yml)
    assert len(looks) == 1 and 6 <= looks[0] <= 8  # one look, after 8 pairs (some dropped?)
    assert suite["extended"] == "forced by the test"
    assert suite["pairs_planned"] == 12
    assert [row["pair"] for row in suite["pairs"]] == list(range(12))
    assert suite["alpha_per_look"] == pytest.approx(0.025)  # Bonferroni over two looks
    cpu = next(c for c in comps if c.metric == "cpu_ms_per_request")
    assert looks[0] < (cpu.samples or 0) <= 12  # the comparison counts the extension's pairs


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_pairs_dropped_for_scheduler_lag_are_run_again_as_spares(
    two_commit_repo: Path, tmp_path: Path
) -> None:
    """Every pair is late for a lag bound of 1 ns: each launch runs spares for its dropped
    pairs until ``ab.replace_dropped`` is spent, then the run is inconclusive, not a pass.

    The lag is real (the generator's own); only the bound is set below any machine's.
    """
    from conftest import free_port

    yml = (
        (two_commit_repo / "perfgate.yml")
        .read_text()
        .replace("round: 1", "round: 0.5")
        .replace("extend_pairs: 4", "extend_pairs: 0\n  replace_dropped: 3")
        .replace("max_lag: 1000", "max_lag: 0.000001")
    )
    cfg = load_project_text(yml, two_commit_repo)
    assert cfg.ab.launches == 2 and cfg.ab.replace_dropped == 3
    tmp = tmp_path / "spares"
    base = service_for(cfg, "base", free_port(), tmp / "base", root=two_commit_repo)
    cand = service_for(cfg, "candidate", free_port(), tmp / "cand")
    lines: list[str] = []
    out = run_ab(cfg, plan_suites(cfg, "pr"), base_spec=base, candidate_spec=cand, log=lines.append)
    assert not out.errors, out.errors
    suite = out.details["suites"]["load"]
    # launch 1: its 4 planned pairs, then all 3 spares (numbered after the plan's 8);
    # launch 2: its 4 planned pairs and no spare left
    assert [row["pair"] for row in suite["pairs"]] == [0, 1, 2, 3, 8, 9, 10, 4, 5, 6, 7]
    assert suite["pairs_replaced"] == 3
    assert suite["pairs_dropped"] == 11 and suite["pairs_used"] == 0
    assert any("running 3 spare(s)" in line for line in lines)
    assert sum("spare(s)" in line for line in lines) == 1  # launch 2 had none left
    assert any("3 spare pair(s) run in their place" in w for w in out.warnings), out.warnings
    assert any("only 0 comparable round pairs" in i for i in out.inconclusive), out.inconclusive


def test_merge_base_and_worktree(two_commit_repo: Path, tmp_path: Path) -> None:
    repo = two_commit_repo
    base_sha = _git(repo, "rev-parse", "main")
    assert merge_base(repo, "main") == base_sha
    dest = tmp_path / "wt"
    tree = prepare_base_worktree(repo, "main", dest)
    assert _git(tree, "rev-parse", "HEAD") == base_sha
    assert _git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "feature"  # candidate untouched
    remove_worktree(repo, dest)
    remove_worktree(repo, dest)  # idempotent, never raises
    assert not dest.exists()


def test_unknown_base_names_the_fix(two_commit_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fetch-depth: 0"):
        prepare_base_worktree(two_commit_repo, "no-such-branch", tmp_path / "wt")


@pytest.mark.parametrize("all_branches", [False, True])
def test_shallow_clone_names_fetch_depth(
    two_commit_repo: Path, tmp_path: Path, all_branches: bool
) -> None:
    clone = tmp_path / "shallow"
    args = ["clone", "-q", "--depth", "1", "-b", "feature"]
    if all_branches:
        args.append("--no-single-branch")  # both tips present, the common history not
    subprocess.run(["git", *args, f"file://{two_commit_repo}", str(clone)], check=True, timeout=30)
    with pytest.raises(ConfigError) as info:
        prepare_base_worktree(clone, "main", tmp_path / "wt")
    message = str(info.value)
    assert "fetch-depth: 0" in message and "shallow" in message
    assert not (tmp_path / "wt").exists()


def _seed_starting(first: str) -> int:
    # run_ab draws the start order of each launch from the seed (gate/ab/run.py).
    from perfgate.gate.ab.design import launch_order

    for seed in range(1, 1000):
        if launch_order(seed, 0, AbConfig().launches)[0] == first:
            return seed
    raise AssertionError("no seed found")


BROKEN_SERVER = "import sys\nprint('boom: no such table', file=sys.stderr)\nsys.exit(3)\n"


def _run_arms(tmp_path: Path, first: str, *, base_server: str, candidate_server: str) -> Any:
    """run_ab on two one-file servers, the start order chosen by the seed; (outcome, base port)."""
    from conftest import free_port

    roots = {}
    for arm, source in (("base", base_server), ("candidate", candidate_server)):
        roots[arm] = tmp_path / f"{arm}-root"
        roots[arm].mkdir()
        (roots[arm] / "server.py").write_text(source)
        (roots[arm] / "load.yml").write_text(SCRIPT.replace("duration: 10", "duration: 1"))
    yml = PERFGATE_YML.replace("seed: 11", f"seed: {_seed_starting(first)}")
    cfg = load_project_text(yml, roots["candidate"])
    base_port = free_port()
    base = service_for(cfg, "base", base_port, tmp_path / "base", root=roots["base"])
    cand = service_for(cfg, "candidate", free_port(), tmp_path / "cand")
    out = run_ab(
        cfg, plan_suites(cfg, "pr"), base_spec=base, candidate_spec=cand, log=lambda _: None
    )
    assert out.details["started_first"] == first
    return out, base_port


@pytest.mark.timeout(120)
@pytest.mark.parametrize("first", ["base", "candidate"])
def test_a_base_that_cannot_start_leaves_the_candidate_measured_alone(
    tmp_path: Path, first: str
) -> None:
    out, _ = _run_arms(
        tmp_path,
        first,
        base_server=BROKEN_SERVER,
        candidate_server=hello_server(delay_s=0.001),
    )
    assert not out.errors, out.errors
    assert out.inconclusive and "base could not be built" in out.inconclusive[0]
    assert "boom: no such table" in out.inconclusive[0]  # the base's log tail
    assert [s.name for s in out.candidate.suites] == ["load"]  # measured alone
    assert not out.base.suites


@pytest.mark.timeout(120)
@pytest.mark.parametrize("first", ["base", "candidate"])
def test_a_candidate_that_cannot_start_is_an_error_and_stops_the_base(
    tmp_path: Path, first: str
) -> None:
    import psutil

    out, base_port = _run_arms(
        tmp_path,
        first,
        base_server=hello_server(delay_s=0.001),
        candidate_server=BROKEN_SERVER,
    )
    assert out.errors and "the candidate could not start" in out.errors[0]
    assert not out.candidate.suites and not out.base.suites
    # Whichever started first, nothing is left listening on the base's port.
    listening = {
        c.laddr.port
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr
    }
    assert base_port not in listening


SLOW_STARTING = "import time\ntime.sleep(1.0)\n" + hello_server(delay_s=0.001)


@pytest.mark.timeout(120)
def test_both_arms_are_launched_before_either_is_ready(tmp_path: Path) -> None:
    # Each server takes a second to listen. Launched one after the other was
    # ready, the second launch would come a second after the first: the
    # first-started arm was the slower one in A/A runs (docs/detection.md).
    out, _ = _run_arms(tmp_path, "base", base_server=SLOW_STARTING, candidate_server=SLOW_STARTING)
    assert not out.errors and not out.inconclusive, (out.errors, out.inconclusive)
    assert out.details["launch_gap_s"] < 0.5
    assert [s.name for s in out.base.suites] == [s.name for s in out.candidate.suites] == ["load"]
