"""Bench suites under A/B, end to end: `perfgate gate` on two demo APIs, interleaved rounds.

The same tree on both arms (as `perfgate demo` runs it); the candidate gets a
fault on one operation's route through the demo's PERFGATE_DEMO_* switches.
Wide margins only (a 20% minimum effect against a ~10x slowdown): other tests
share these CPUs. Each run takes a few seconds.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from perfgate.bench import BenchSetup, load_suite_text, run_bench_async
from perfgate.gate import GateOptions, GateOutcome, run_gate

BENCH = """\
name: quick
target: http://127.0.0.1:1
variables: {email: test1@example.com, password: TestPassword123!}
defaults: {samples: 60, warmup: 5}
setup:
  - post:
      url: /auth/sign-in
      json: {email: "{{ email }}", password: "{{ password }}"}
      capture: [{json: $.token, as: token}]
operations:
  - name: Health
    request: {url: /health}
  - name: List Bounties
    request: {url: /api/bounties, qs: {limit: 20}}
  - name: Wallet
    request: {url: /wallet/balance, headers: {Authorization: "Bearer {{ token }}"}}
"""

PROJECT = """\
service:
  start: [{python}, -m, perfgate, demo-api, --host, 127.0.0.1, --port, "{{{{ port }}}}",
          --db, "{{{{ workdir }}}}/demo.sqlite"{args}]
  ready: {{url: /health, timeout: 30}}
suites:
  - {{name: bench, kind: bench, suite: bench.yml}}
monitor: {{enabled: false}}
compare: {{min_effect: {{median: 0.2}}}}
ab: {{bench_rounds: 8, max_lag: 1000, seed: 7}}
"""


def _gate(tmp_path: Path, *, args: str = "", env: dict[str, str] | None = None) -> GateOutcome:
    (tmp_path / "bench.yml").write_text(BENCH)
    (tmp_path / "perfgate.yml").write_text(PROJECT.format(python=sys.executable, args=args))
    return run_gate(
        GateOptions(
            config=tmp_path / "perfgate.yml",
            mode="ab",
            same_tree_base=True,
            report_dir=tmp_path / "reports",
            store_path=tmp_path / "store.sqlite",
            comment=False,
            candidate_env=env or {},
        ),
        log=lambda _line: None,
    )


def _bench_details(outcome: GateOutcome) -> dict[str, Any]:
    details = outcome.verdict.details["suites"]["bench"]
    # 3 operations at Pocock's level: Holm needs 9 pairs, so ab.bench_rounds 8 is raised
    assert details["rounds"] == details["pairs_used"] == len(details["pairs"]) == 9
    assert "raised from ab.bench_rounds 8" in details["rounds_reason"]
    assert details["samples_per_round"] == {"Health": 15, "List Bounties": 15, "Wallet": 15}
    blocks = [row["order"] for row in details["pairs"]]
    for i in range(0, 8, 2):  # ABBA / BAAB: each block's second pair reverses its first
        assert blocks[i + 1] == blocks[i][::-1]
    for run in (outcome.run, outcome.base):
        assert run is not None
        (suite,) = run.suites
        assert suite.kind == "bench" and suite.extra["ab"]["rounds"] == 9
        for op in suite.operations:  # every round's samples, merged; the setup ran and held
            assert op.skipped_reason is None and op.failed == 0
            assert len(op.samples_ms) == 9 * 15 and len(op.repeats) == 9
    return details


@pytest.mark.timeout(120)
def test_a_bench_operation_slower_in_the_candidate_fails_the_gate(tmp_path: Path) -> None:
    fault = {"PERFGATE_DEMO_LATENCY_MS": "3", "PERFGATE_DEMO_ROUTE": "/api/bounties"}
    outcome = _gate(tmp_path, env=fault)
    verdict = outcome.verdict
    assert verdict.state == "regression" and outcome.exit_code == 1, verdict.reasons
    assert "op:List Bounties median" in verdict.reasons[0]
    by = {c.metric: c for c in verdict.comparisons}
    bounties = by["op:List Bounties median"]
    assert bounties.family == "secondary" and bounties.method == "ab"
    assert bounties.state == "regression" and (bounties.change or 0) > 2.0  # ~0.3 ms -> ~3.3 ms
    assert bounties.samples == 9 and bounties.p_adjusted is not None
    others = [c for m, c in by.items() if m != "op:List Bounties median"]
    assert others and not any(c.state == "regression" for c in others), others
    details = _bench_details(outcome)
    ratios = [c / b for b, c in details["primary_pairs"]["op:List Bounties median"]]
    assert len(ratios) == 9 and min(ratios) > 2.0  # every round pair says so
    markdown = "\n".join(f.read_text() for f in (tmp_path / "reports").rglob("report.md"))
    assert "candidate / base per round pair" in markdown  # the deciding metric's chart


@pytest.mark.timeout(120)
def test_the_same_build_does_not_fail_on_its_bench(tmp_path: Path) -> None:
    # Both arms 3 ms slower on the route: a gated (not sub-millisecond) median, no change.
    outcome = _gate(tmp_path, args=", --latency-ms, '3', --route, /api/bounties")
    verdict = outcome.verdict
    assert outcome.exit_code == 0, verdict.reasons
    assert verdict.state in ("pass", "inconclusive"), verdict.reasons
    bounties = next(c for c in verdict.comparisons if c.metric == "op:List Bounties median")
    assert bounties.family == "secondary" and bounties.samples == 9
    assert bounties.state != "regression", bounties
    assert not any(c.state == "regression" for c in verdict.comparisons)
    _bench_details(outcome)


async def test_prepared_setup_is_not_run_again(start_demo_api: Any) -> None:
    """A round reuses what the arm's setup captured: the steps are not sent again."""
    api = start_demo_api()
    suite = load_suite_text(
        BENCH.replace("/auth/sign-in", "/no-such-route").replace("samples: 60", "samples: 3"),
        target=api.url,
    )
    fresh = await run_bench_async(suite)  # its own setup fails: the wallet is skipped
    wallet = next(op for op in fresh.operations if op.name == "Wallet")
    assert wallet.skipped_reason is not None and "setup[0]" in fresh.extra["setup"][0]
    prepared = BenchSetup(vars={**suite.variables, "token": "not-a-token"}, missing={}, log=[])
    reused = await run_bench_async(suite, setup=prepared)
    assert "setup" not in reused.extra
    wallet = next(op for op in reused.operations if op.name == "Wallet")
    assert wallet.skipped_reason is None and wallet.failed == 3  # sent, with the given token
