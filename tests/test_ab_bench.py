"""Bench suites under A/B, the pure parts: rounds, samples, medians, the paired comparison."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from perfgate.bench import load_suite_text
from perfgate.config import load_project_text
from perfgate.errors import ConfigError
from perfgate.gate.ab.bench import (
    REWARM,
    SAMPLE_FLOOR,
    bench_comparisons,
    bench_rounds,
    merged_result,
    op_medians,
    round_samples,
    round_suite,
)
from perfgate.gate.compare import apply_holm, holm_min_pairs
from perfgate.result import BenchOperation, SuiteResult

SUITE = """\
name: s
target: http://127.0.0.1:1
defaults: {samples: 100, warmup: 10, budget: {median: 50}}
operations:
  - {name: Health, request: {url: /health}, samples: 200}
  - {name: Few, request: {url: /few}, samples: 10, warmup: 0}
  - {name: Busy, request: {url: /busy}, samples: 40, concurrency: 20}
"""


def test_each_round_runs_a_share_of_the_samples_never_fewer_than_the_floor() -> None:
    assert round_samples(200, 12) == 17  # ceil(200 / 12)
    assert round_samples(100, 12) == SAMPLE_FLOOR == 15
    assert round_samples(10, 8) == SAMPLE_FLOOR  # a median is not one request
    assert round_samples(40, 12, concurrency=20) == 20  # every worker takes a sample
    suite = load_suite_text(SUITE)
    first = round_suite(suite, 12, first=True)
    later = round_suite(suite, 12, first=False)
    assert [op.samples for op in first.operations] == [17, 15, 20]
    assert [op.warmup for op in first.operations] == [10, 0, 10]  # an arm's first round: in full
    assert [op.warmup for op in later.operations] == [REWARM, 0, REWARM]  # then a re-warm
    assert [op.samples for op in suite.operations] == [200, 10, 40]  # the suite is untouched
    assert first.setup == suite.setup and first.variables == suite.variables


def test_rounds_are_raised_until_holm_over_the_secondary_family_can_reject() -> None:
    assert bench_rounds(12, 5, 0.015) == 12
    assert bench_rounds(8, 5, 0.015) == holm_min_pairs(5, 0.015) == 9
    # a run whose load suites already gate 40 secondary metrics, at Pocock's level
    assert bench_rounds(12, 45, 0.3 * 0.0304) == holm_min_pairs(45, 0.3 * 0.0304) == 13


def _round(ops: dict[str, tuple[list[float], int, str | None]]) -> SuiteResult:
    result = SuiteResult(name="s", kind="bench")
    for name, (samples, failed, skipped) in ops.items():
        result.operations.append(
            BenchOperation(name=name, samples_ms=samples, failed=failed, skipped_reason=skipped)
        )
    return result


def test_a_round_with_a_failed_sample_has_no_median_for_that_operation() -> None:
    medians = op_medians(
        _round(
            {
                "ok": ([3.0, 1.0, 2.0], 0, None),
                "one failed": ([1.0, 2.0], 1, None),
                "skipped": ([], 0, "setup failed"),
                "nothing": ([], 0, None),
            }
        )
    )
    assert medians == {"ok": 2.0, "one failed": None, "skipped": None, "nothing": None}


def _pairs(
    rng: random.Random, n: int, base_ms: float, factor: float, noise: float = 0.02
) -> tuple[list[float], list[float]]:
    base = [base_ms * (1 + rng.uniform(-noise, noise)) for _ in range(n)]
    cand = [b * factor * (1 + rng.uniform(-noise, noise)) for b in base]
    return base, cand


def test_operation_medians_are_paired_per_round_and_gated_in_the_secondary_family() -> None:
    rng = random.Random(5)
    n = 12
    slow_b, slow_c = _pairs(rng, n, 4.0, 1.3)  # 30% slower in every pair
    same_b, same_c = _pairs(rng, n, 4.0, 1.0)
    tiny_b, tiny_c = _pairs(rng, n, 0.3, 1.3)  # sub-millisecond in both arms
    base = [
        {"Slow": slow_b[i], "Same": same_b[i], "Tiny": tiny_b[i], "New": None} for i in range(n)
    ]
    cand = [{"Slow": slow_c[i], "Same": same_c[i], "Tiny": tiny_c[i], "New": 2.0} for i in range(n)]
    # two rounds lost a sample: their pairs are left out of that operation only
    base[3]["Same"] = None
    cand[7]["Same"] = None
    found = bench_comparisons("bench", base, cand, min_effect={"median": 0.05})
    by = {c.metric: c for c in found}
    assert list(by) == [
        "op:Slow median",
        "op:Same median",
        "op:Tiny median",
        "op:New median",
    ]
    slow = by["op:Slow median"]
    assert (slow.family, slow.method, slow.unit, slow.samples) == ("secondary", "ab", "ms", n)
    assert slow.state == "regression" and slow.min_effect == 0.05
    assert slow.change == pytest.approx(0.3, abs=0.03)
    assert slow.ci_low is not None and slow.ci_low > 0.05
    assert slow.p_value is not None and slow.p_value < 0.001  # t on the launch-level SE
    assert slow.launch is not None and slow.launch["launches"] == 1
    same = by["op:Same median"]
    assert same.family == "secondary" and same.samples == n - 2
    assert same.state == "within-noise"
    tiny = by["op:Tiny median"]
    # sub-millisecond: gated, with the larger launch-level prior's minimum effect (~16%)
    assert tiny.family == "secondary" and tiny.min_effect is not None and tiny.min_effect > 0.15
    assert tiny.change == pytest.approx(0.3, abs=0.03)
    assert by["op:New median"].state == "new"

    # Holm over the secondary family: the 30% regression survives it and fails the gate
    apply_holm(found, 0.05)
    assert slow.state == "regression" and slow.p_value is not None
    assert slow.p_adjusted == pytest.approx(3 * slow.p_value)  # Holm over 3 tested operations
    assert same.p_adjusted is not None


def test_too_few_usable_round_pairs_are_insufficient() -> None:
    base = [{"Op": 5.0 if i < 5 else None} for i in range(8)]
    cand = [{"Op": 9.0} for _ in range(8)]
    (c,) = bench_comparisons("bench", base, cand, min_effect={})
    assert c.state == "insufficient" and c.samples == 5 and c.family == "secondary"


def test_an_arms_rounds_merge_into_one_suite_for_the_report() -> None:
    suite = load_suite_text(SUITE)
    rounds = []
    for k in range(3):
        r = _round(
            {
                "Health": ([1.0 + k, 2.0 + k], 0, None),
                "Few": ([5.0], 1 if k == 1 else 0, None),
                "Busy": ([], 0, "setup failed"),
            }
        )
        r.duration_s = 0.5
        r.extra["target_cpu_s"] = 0.25
        r.operations[1].extra = {"codes": {"200": 1, "500": 1 if k == 1 else 0}, "failed_ms": []}
        rounds.append(r)
    merged = merged_result("bench", suite, rounds)
    assert merged.kind == "bench" and merged.name == "bench" and merged.duration_s == 1.5
    assert merged.extra["target_cpu_s"] == 0.75
    ops = {op.name: op for op in merged.operations}
    assert ops["Health"].samples_ms == [1.0, 2.0, 2.0, 3.0, 3.0, 4.0]
    assert ops["Health"].summary["median"] == 2.5
    assert [r["median"] for r in ops["Health"].repeats] == [1.5, 2.5, 3.5]  # one per round
    assert ops["Health"].extra["rounds"] == 3 and ops["Health"].extra["warmup"] == 10
    assert ops["Few"].failed == 1 and ops["Few"].extra["codes"] == {"200": 3, "500": 1}
    assert ops["Busy"].skipped_reason == "setup failed" and not ops["Busy"].summary
    checks = {c.name: c.status for c in merged.checks}
    assert checks["Health: median"] == "pass"
    assert checks["Few: failed samples"] == "fail"  # 1 of 4 failed, none allowed
    assert checks["Busy: median"] == "skipped"


def test_bench_rounds_is_an_ab_key(tmp_path: Path) -> None:
    assert load_project_text("", tmp_path).ab.bench_rounds == 12
    assert load_project_text("ab:\n  bench_rounds: 20\n", tmp_path).ab.bench_rounds == 20
    with pytest.raises(ConfigError) as low:
        load_project_text("ab:\n  bench_rounds: 4\n", tmp_path)
    assert low.value.key_path == "ab.bench_rounds" and ">= 8" in str(low.value)
    with pytest.raises(ConfigError) as typo:
        load_project_text("ab:\n  bench_round: 10\n", tmp_path)
    assert typo.value.suggestion == "bench_rounds"
