"""The A/B experiment's design, pure: round order, pair seeds, the rate, settling.

Rounds come in pairs (one round per arm). Pairs are laid out in blocks of
two, ABBA or BAAB picked at random per block, so a drift of the machine
(a warming cache, a neighbour's job) falls on both arms equally within each
block, and the order carries no fixed bias. Both rounds of a pair share one
seed: the same arrival times, scenario picks and variables (common random
numbers), so the pair's difference is the arms' difference, not the dice's.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from perfgate.config import AbConfig

__all__ = [
    "Arm",
    "PairPlan",
    "SamplePlan",
    "capped_rate",
    "launch_order",
    "look_level",
    "new_seed",
    "pair_plan",
    "plan_samples",
    "settling_drift",
    "slice_plan",
]

Arm = Literal["base", "candidate"]


@dataclass(frozen=True)
class PairPlan:
    """One pair of rounds: which arm goes first, and the seed both rounds share."""

    index: int
    order: tuple[Arm, Arm]
    seed: int
    block: str  # "ABBA" or "BAAB" (A = base)


#: XORed into the run's seed ("START" in hex-speak) so the arms' launch order
#: is its own random stream: drawn from the seed, independent of the arrivals.
_LAUNCH_ORDER_SALT = 0x57A27


def launch_order(seed: int, launch: int, launches: int) -> list[Arm]:
    """Which arm is (re)started first in launch ``launch`` of ``launches``.

    Each arm first in half the launches (an odd count: one more for either),
    in an order drawn from the seed, independent of the arrivals: the arm
    started first ran 1-2% slower in A/A runs (docs/detection.md).
    """
    rng = random.Random(seed ^ _LAUNCH_ORDER_SALT)
    # Exactly as many draws as launches: one more (before 2026-12-07) put the
    # base first in launch 0 in 2/3 of runs and in both of two launches in 1/3.
    count = max(launches, launch + 1)
    base_first = rng.random() < 0.5 if count % 2 else True  # who gets the odd one
    firsts = [(k % 2 == 0) == base_first for k in range(count)]
    rng.shuffle(firsts)
    return ["base", "candidate"] if firsts[launch] else ["candidate", "base"]


def new_seed() -> int:
    """A fresh seed (stored in the details, so a run can be replayed)."""
    return random.SystemRandom().randrange(1, 2**31)


def pair_plan(pairs: int, seed: int) -> list[PairPlan]:
    """``pairs`` pairs in ABBA/BAAB blocks of random order, reproducible from ``seed``."""
    if pairs < 1:
        raise ValueError("need at least one pair")
    rng = random.Random(seed)
    out: list[PairPlan] = []
    for block_start in range(0, pairs, 2):
        block = rng.choice(("ABBA", "BAAB"))
        first: tuple[Arm, Arm] = ("base", "candidate") if block == "ABBA" else ("candidate", "base")
        second: tuple[Arm, Arm] = (first[1], first[0])
        for k, order in enumerate((first, second)):
            index = block_start + k
            if index < pairs:
                out.append(PairPlan(index, order, rng.randrange(1, 2**31), block))
    return out


def slice_plan(pair: PairPlan, slices: int) -> list[tuple[tuple[Arm, Arm], int]]:
    """The slices of one pair: (arm order, seed) each.

    A pair's two rounds are cut into ``slices`` back-to-back slices whose arm
    order alternates (AB, BA, AB, ...: A B B A A B B A), so both arms sample
    the same seconds of the machine's drift instead of two 2-second stretches
    that drift apart. Each slice has its own seed, shared by both arms
    (common random numbers per slice); one slice is the plain pair.
    """
    if slices < 1:
        raise ValueError("need at least one slice")
    rng = random.Random(pair.seed)
    out: list[tuple[tuple[Arm, Arm], int]] = []
    for j in range(slices):
        order = pair.order if j % 2 == 0 else (pair.order[1], pair.order[0])
        out.append((order, pair.seed if j == 0 else rng.randrange(1, 2**31)))
    return out


def capped_rate(
    script_rate: float | None,
    configured: float | None,
    capacity_arrivals_s: float | None,
    fraction: float,
) -> tuple[float, str]:
    """The rounds' arrival rate and why: configured, else the script's, capped by capacity.

    ``capacity_arrivals_s`` is the lower of the two arms' warm-up capacity in
    arrivals per second; the rounds stay at ``fraction`` of it so neither
    arm queues (a saturated arm measures its queue, not its code).
    """
    wanted = configured if configured else script_rate
    source = "ab.rate" if configured else "the script's sustained rate"
    if wanted is None or wanted <= 0:
        if capacity_arrivals_s is None or capacity_arrivals_s <= 0:
            raise ValueError("no rate: set ab.rate, or give the load script an arrivalRate")
        return fraction * capacity_arrivals_s, f"{fraction:.0%} of the warm-up capacity"
    if capacity_arrivals_s is not None and capacity_arrivals_s > 0:
        cap = fraction * capacity_arrivals_s
        if wanted > cap:
            return cap, (
                f"{source} {wanted:g}/s capped at {fraction:.0%} of the warm-up capacity "
                f"({capacity_arrivals_s:.0f} arrivals/s)"
            )
    return wanted, source


@dataclass(frozen=True)
class SamplePlan:
    """The rounds' rate after planning for samples, and what will still be short."""

    rate: float
    reason: str
    short: list[str]  # one line per metric that will lack samples, with the setting that fixes it


def plan_samples(
    rate: float,
    reason: str,
    *,
    requests_per_arrival: dict[str, float],
    round_s: float,
    ceiling: float | None,
    may_raise: bool,
    needed_median: int = 50,
    needed_p95: int = 200,
    needed_rate: int = 6,
    busy_share: float = 0.5,
) -> SamplePlan:
    """Raise the rate so the gated medians get their samples in each round, before measuring.

    ``requests_per_arrival``: endpoint -> expected requests of it per arrival
    (the script's scenario mix). The endpoints that together carry
    ``busy_share`` of the requests (the core family's busiest) need
    ``needed_median`` samples per round for a median, and the suite
    ``needed_p95`` for its p95. When ``may_raise`` (no ``ab.rate`` set), the
    rate goes up to what that takes, but never past ``ceiling`` (the
    capacity fraction); every endpoint still short gets a line saying which
    setting would fix it. An endpoint's error rate is compared with any
    requests, but under ``needed_rate`` a round its rate is coarse (0, 1/3, …)
    and some rounds have none: its line says so, with the ``ab.round`` that
    gives it that many (in simulation, 30% failing on ~3 requests a round was
    caught in 316 of 400 gates, on ~6 in 400 of 400: studies/rate_tests.py).
    """
    total = sum(requests_per_arrival.values())
    if total <= 0 or round_s <= 0:
        return SamplePlan(rate, reason, [])
    busy: list[str] = []
    carried = 0.0
    for name in sorted(requests_per_arrival, key=lambda n: (-requests_per_arrival[n], n)):
        if carried >= busy_share * total:
            break
        busy.append(name)
        carried += requests_per_arrival[name]
    wanted = max(
        [needed_median / (round_s * requests_per_arrival[n]) for n in busy]
        + [needed_p95 / (round_s * total)]
    )
    if may_raise and wanted > rate:
        raised = min(wanted, ceiling) if ceiling else wanted
        if raised > rate:
            reason = (
                f"{reason}, raised to {raised:.1f}/s so the busiest endpoints get "
                f"{needed_median} samples per round"
                + (" (capped by capacity)" if ceiling and wanted > ceiling else "")
            )
            rate = raised
    short = []
    for name in sorted(requests_per_arrival, key=lambda n: (-requests_per_arrival[n], n)):
        per_round = rate * round_s * requests_per_arrival[name]
        if per_round < needed_median:
            fix = needed_median / (rate * requests_per_arrival[name])
            line = (
                f"endpoint:{name} total.p50: ~{per_round:.0f} samples per round < "
                f"{needed_median}, not compared; ab.round: {math.ceil(fix)} (or a higher "
                "ab.rate) would give it enough"
            )
            if per_round < needed_rate:
                rate_fix = needed_rate / (rate * requests_per_arrival[name])
                line += (
                    f"; its error rate is compared but coarse (< {needed_rate} requests per "
                    f"round): ab.round: {math.ceil(rate_fix)} would give it {needed_rate}"
                )
            short.append(line)
    if rate * round_s * total < needed_p95:
        fix = needed_p95 / (rate * total)
        short.append(
            f"total.p95: ~{rate * round_s * total:.0f} samples per round < {needed_p95}, "
            f"not compared; ab.round: {math.ceil(fix)} (or a higher ab.rate) would give it enough"
        )
    return SamplePlan(rate, reason, short)


def settling_drift(window_medians: Sequence[float], tail: int = 4) -> float | None:
    """Relative drift of the last warm-up windows: (last half - first half) / first half.

    ``None`` with too few windows to tell. A settled arm drifts by a few
    percent at most; a JIT or a cache still filling shows as a steady fall.
    """
    values = [v for v in window_medians if v > 0 and math.isfinite(v)][-tail:]
    if len(values) < 4:
        return None
    half = len(values) // 2
    early = statistics.median(values[:half])
    late = statistics.median(values[half:])
    if early <= 0:
        return None
    return late / early - 1.0


def look_level(ab: AbConfig, alpha: float) -> float:
    """The level each look of the A/B test spends: ``compare.alpha`` over one or two looks.

    With ``ab.extend_pairs`` the gate may look after ``ab.pairs`` pairs and
    again after the extension. Each look spends half of alpha (Bonferroni
    over the two looks), so the family-wise error over both looks is at
    most alpha exactly, whatever Holm does within a look: Pocock's level,
    exact for one test, let Holm over ten metrics reach ~5.4%
    (docs/statistics.md).
    """
    if ab.extend_pairs <= 0:
        return alpha
    return alpha / 2.0
