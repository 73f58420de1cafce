"""One bench suite under A/B: interleaved rounds, one median per operation per round, paired.

The suite runs in ``R`` rounds per arm (``ab.bench_rounds``, at least 8),
the arms taking turns in ABBA/BAAB blocks of round pairs
(:func:`perfgate.gate.ab.design.pair_plan`: the order and each pair's seed,
shared by both of its rounds). A round is one :func:`perfgate.bench.run_bench_async`
with a share of each operation's samples, ``max(15, ceil(samples / R))``, so
the whole A/B costs about what one run per arm did. The setup steps (a
sign-in, say) run once per arm, before its first round: every round reuses
what they captured (a setup that creates a user cannot run twice). An arm's
first round keeps the operations' warm-up; the later ones re-warm each new
connection with at most :data:`REWARM` requests.

Per operation, each round gives one median (``None`` where a sample failed
or the operation was skipped): the round pairs go to
:func:`perfgate.gate.compare.paired_comparison` exactly like a load suite's
medians (log ratio per pair, Hodges–Lehmann, Wilcoxon). The medians are in
the secondary family (Holm there; a regression fails the gate); the rounds
share one launch of both arms, so each comparison carries the calibrated
launch-level SD (:mod:`perfgate.gate.ab.launches`): a sub-millisecond
operation is gated with a larger minimum effect, as a load suite's endpoints.
"""

from __future__ import annotations

import dataclasses
import math
import random
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from perfgate.gate.ab.design import PairPlan, look_level, pair_plan
from perfgate.gate.ab.launches import DEFAULT_PRIORS, LaunchPriors
from perfgate.gate.ab.suite import MIN_PAIRS
from perfgate.gate.compare import family_levels, holm_min_pairs, min_effect_for, paired_comparison
from perfgate.gate.console import Log
from perfgate.result import BenchOperation, SuiteResult
from perfgate.verdict import MetricComparison

if TYPE_CHECKING:
    from perfgate.bench import BenchSetup, Suite
    from perfgate.config import AbConfig, CompareConfig
    from perfgate.gate.plan import PlannedSuite
    from perfgate.gate.session import ArmSession

__all__ = [
    "REWARM",
    "SAMPLE_FLOOR",
    "bench_comparisons",
    "bench_rounds",
    "merged_result",
    "op_medians",
    "op_metric",
    "round_samples",
    "round_suite",
    "run_bench_pair",
]

ARMS = ("base", "candidate")
#: Samples per operation per round at least: enough for a median that is not one request.
SAMPLE_FLOOR = 15
#: Warm-up requests per operation in an arm's later rounds (a round opens new connections).
REWARM = 2


def round_samples(samples: int, rounds: int, concurrency: int = 1) -> int:
    """An operation's samples per round: its share of ``samples``, at least :data:`SAMPLE_FLOOR`."""
    return max(SAMPLE_FLOOR, math.ceil(samples / rounds), concurrency)


def round_suite(suite: Suite, rounds: int, *, first: bool) -> Suite:
    """The suite one round runs: each operation's share of the samples; the warm-up in full
    only in an arm's ``first`` round, later at most :data:`REWARM`."""
    ops = [
        dataclasses.replace(
            op,
            samples=round_samples(op.samples, rounds, op.concurrency),
            warmup=op.warmup if first else min(op.warmup, REWARM),
        )
        for op in suite.operations
    ]
    return dataclasses.replace(suite, operations=ops)


def bench_rounds(configured: int, family: int, level: float) -> int:
    """Rounds per arm: ``configured``, or as many as Holm over ``family`` metrics at
    ``level`` needs before any of them can be a regression (:func:`holm_min_pairs`)."""
    return max(configured, holm_min_pairs(family, level))


def op_metric(operation: str) -> str:
    """The metric name of an operation's median (:mod:`perfgate.figures`)."""
    return f"op:{operation} median"


def op_medians(result: SuiteResult) -> dict[str, float | None]:
    """One round's median per operation; ``None`` where a sample failed or none was taken."""
    out: dict[str, float | None] = {}
    for op in result.operations:
        ok = op.skipped_reason is None and op.failed == 0 and bool(op.samples_ms)
        out[op.name] = statistics.median(op.samples_ms) if ok else None
    return out


def bench_comparisons(
    suite: str,
    base: Sequence[Mapping[str, float | None]],
    candidate: Sequence[Mapping[str, float | None]],
    *,
    min_effect: dict[str, float],
    min_pairs: int = MIN_PAIRS,
    priors: LaunchPriors = DEFAULT_PRIORS,
) -> list[MetricComparison]:
    """Each operation's median, base against candidate, over the round pairs.

    ``base[i]`` and ``candidate[i]`` are the two rounds of pair ``i``: operation
    -> that round's median (``None``: left out, as its pair is). An operation
    the base never measured is "new"; every other one is in the secondary
    family, its pairs in one launch (the launch-level prior carries the offset
    between the two processes: several percent for a sub-millisecond median).
    """
    names = list(dict.fromkeys([n for r in candidate for n in r] + [n for r in base for n in r]))
    out: list[MetricComparison] = []
    for name in names:
        metric = op_metric(name)
        b = [r.get(name) for r in base]
        c = [r.get(name) for r in candidate]
        medians = [statistics.median(v) for v in (_known(b), _known(c)) if v]
        family = "secondary"
        if not _known(b) and _known(c):
            out.append(
                MetricComparison(
                    suite=suite,
                    metric=metric,
                    unit="ms",
                    family=family,  # type: ignore[arg-type]
                    candidate=statistics.median(_known(c)),
                    state="new",
                    method="ab",
                    detail="no successful round on the base (a new or broken route)",
                )
            )
            continue
        comparison = paired_comparison(
            suite,
            metric,
            "ms",
            b,
            c,
            min_effect=min_effect_for(metric, min_effect),
            family=family,
            min_pairs=min_pairs,
            launches=[0] * len(b),
            launch_sd=priors.prior(suite, metric, max(medians) if medians else None),
        )
        out.append(comparison)
    return out


def _known(values: Sequence[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def merged_result(name: str, suite: Suite, rounds: Sequence[SuiteResult]) -> SuiteResult:
    """One arm's bench suite: every round's samples merged (the report's tables, the budgets).

    Each operation keeps its rounds' summaries as ``repeats`` (independent
    runs, as ``perfgate bench --repeat`` gives them).
    """
    from perfgate.bench import budget_checks, operation_extra, summarize

    out = SuiteResult(name=name, kind="bench", source=suite.source)
    if rounds:
        out.started_at = rounds[0].started_at
    out.duration_s = round(sum(r.duration_s for r in rounds), 3)
    out.warnings = list(dict.fromkeys(w for r in rounds for w in r.warnings))
    setup_log = list(dict.fromkeys(line for r in rounds for line in r.extra.get("setup", [])))
    if setup_log:
        out.extra["setup"] = setup_log
    for op in suite.operations:
        runs = [x for r in rounds for x in r.operations if x.name == op.name]
        measured = [x for x in runs if x.skipped_reason is None]
        skipped = next((x.skipped_reason for x in runs if x.skipped_reason), None)
        ok = [s for x in measured for s in x.samples_ms]
        failed = sum(x.failed for x in measured)
        summary = summarize(ok, failed) if measured or skipped is None else {}
        codes: dict[str, int] = {}
        for x in runs:
            for code, n in x.extra.get("codes", {}).items():
                codes[code] = codes.get(code, 0) + n
        out.operations.append(
            BenchOperation(
                name=op.name,
                samples_ms=ok,
                failed=failed,
                skipped_reason=None if measured else skipped,
                outliers=int(summary.get("outliers", 0)),
                summary=summary,
                budget=dict(op.budget),
                repeats=[summarize(x.samples_ms, x.failed) for x in measured],
                extra=operation_extra(
                    op,
                    codes=codes,
                    failed_ms=[s for x in measured for s in x.extra.get("failed_ms", [])],
                    reconnects=sum(int(x.extra.get("reconnects", 0)) for x in runs),
                )
                | {"rounds": len(measured)},
            )
        )
    out.checks = budget_checks(out)
    cpu = [r.extra.get("target_cpu_s") for r in rounds]
    if rounds and all(isinstance(c, int | float) for c in cpu):
        out.extra["target_cpu_s"] = round(sum(float(c) for c in cpu if c is not None), 6)
    return out


async def run_bench_pair(
    planned: PlannedSuite,
    sessions: dict[str, ArmSession],
    *,
    rng: random.Random,
    log: Log,
    ab: AbConfig,
    compare: CompareConfig,
    earlier: Sequence[MetricComparison] = (),
    details: dict[str, Any] | None = None,
    priors: LaunchPriors = DEFAULT_PRIORS,
) -> tuple[SuiteResult, SuiteResult, list[MetricComparison]]:
    """The bench suite on both arms in interleaved rounds; its operations' medians compared.

    ``rng``: draws the seed of the rounds' plan. ``earlier``: the run's
    comparisons so far; the rounds are raised until Holm over the secondary
    family (its members there and this suite's operations) can reject.
    ``details``: where the suite's A/B record goes, under its name (the
    verdict's ``details["suites"]``, which the report draws from).
    Returns both arms' merged results and the comparisons (Holm not applied).
    """
    from perfgate.bench import run_bench_async, run_bench_setup

    assert planned.bench is not None
    suite, name = planned.bench, planned.name
    started = time.monotonic()
    family = sum(c.family == "secondary" and c.p_value is not None for c in earlier)
    family += len(suite.operations)
    level = family_levels(look_level(ab, compare.alpha), has_secondary=True)["secondary"]
    rounds = bench_rounds(ab.bench_rounds, family, level)
    plan_seed = rng.randrange(1, 2**31)
    plan = pair_plan(rounds, plan_seed)
    reason = "ab.bench_rounds"
    if rounds > ab.bench_rounds:
        reason = (
            f"raised from ab.bench_rounds {ab.bench_rounds} so Holm over {family} secondary "
            f"metrics at {level:.3g} can reject"
        )
    per_round = {
        op.name: round_samples(op.samples, rounds, op.concurrency) for op in suite.operations
    }
    fewest, most = min(per_round.values()), max(per_round.values())
    log(
        f"[{name}] bench: {rounds} rounds per arm in ABBA/BAAB pairs ({reason}), "
        f"{fewest if fewest == most else f'{fewest}-{most}'} samples per operation per round; "
        f"seed {plan_seed}"
    )
    results: dict[str, list[SuiteResult]] = {a: [] for a in ARMS}
    setups: dict[str, BenchSetup] = {}
    dead: str | None = None
    done: list[PairPlan] = []
    for pp in plan:
        for arm in pp.order:
            session = sessions[arm]
            if session.crashed:
                dead = arm
                break
            if arm not in setups:
                setups[arm] = await run_bench_setup(suite, target=session.base_url)
            before = session.cpu_seconds()
            result = await run_bench_async(
                round_suite(suite, rounds, first=not results[arm]),
                target=session.base_url,
                seed=pp.seed,
                setup=setups[arm],
            )
            after = session.cpu_seconds()
            if before is not None and after is not None and after >= before:
                result.extra["target_cpu_s"] = round(after - before, 6)
            results[arm].append(result)
        if dead is not None:
            break
        done.append(pp)
    if dead is None:  # a crash in the last round
        dead = next((a for a in ARMS if sessions[a].crashed), None)
    kept = {a: results[a][: len(done)] for a in ARMS}
    medians = {a: [op_medians(r) for r in kept[a]] for a in ARMS}
    comparisons = bench_comparisons(
        name, medians["base"], medians["candidate"], min_effect=compare.min_effect, priors=priors
    )
    gated_ops = {c.metric for c in comparisons if c.family == "secondary" and c.state != "new"}
    merged = {a: merged_result(name, suite, results[a]) for a in ARMS}
    if dead is not None:
        message = sessions[dead].record_crash(merged[dead])
        log(f"[{name}] {message}: bench stopped after {len(done)} of {rounds} round pairs")
    record = {
        "kind": "bench",
        "seed": plan_seed,
        "rounds": rounds,
        "rounds_reason": reason,
        "samples_per_round": per_round,
        "pairs_planned": rounds,
        "pairs_used": len(done),
        "wall_s": round(time.monotonic() - started, 1),
        "pairs": [
            _pair_row(pp, medians["base"][i], medians["candidate"][i]) for i, pp in enumerate(done)
        ],
        # the per-pair figures behind each gated comparison (the report's strip plot and chart)
        "primary_pairs": {
            op_metric(op): [
                [_rounded(b.get(op)), _rounded(c.get(op))]
                for b, c in zip(medians["base"], medians["candidate"], strict=True)
            ]
            for op in per_round
            if op_metric(op) in gated_ops
        },
    }
    for a in ARMS:
        merged[a].extra["ab"] = {k: record[k] for k in ("seed", "rounds", "pairs_used")}
    if details is not None:
        details[name] = record
    return merged["base"], merged["candidate"], comparisons


def _pair_row(
    pp: PairPlan, base: Mapping[str, float | None], candidate: Mapping[str, float | None]
) -> dict[str, Any]:
    return {
        "pair": pp.index,
        "order": list(pp.order),
        "block": pp.block,
        "seed": pp.seed,
        "base": {k: _rounded(v) for k, v in base.items()},
        "candidate": {k: _rounded(v) for k, v in candidate.items()},
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
