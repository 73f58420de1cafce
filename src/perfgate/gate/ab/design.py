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

from perfgate.stats import pocock_level

if TYPE_CHECKING:
    from perfgate.config import AbConfig

__all__ = [
    "Arm",
    "PairPlan",
    "capped_rate",
    "look_level",
    "new_seed",
    "pair_plan",
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
    again after the extension; Pocock's level keeps the chance of a false
    alarm at either look at ``compare.alpha`` (docs/statistics.md).
    """
    if ab.extend_pairs <= 0:
        return alpha
    return pocock_level(alpha, ab.pairs, ab.pairs + ab.extend_pairs)
