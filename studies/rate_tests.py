"""A rare route's error rate, per round pair: the signed-rank test (design e7) beside the
sign-flip test of the mean (design e8), on simulated rounds.

Each simulated gate has ``--pairs`` round pairs; in each round an arm's route
gets Poisson(λ) requests (λ = requests per round and arm), each failing with
the arm's rate; a round without a request leaves its pair out, as the gate
does. A detection is the gate's rule for a secondary error rate: the 95%
interval above the 0.5 pp margin and the p-value below Holm's first step
(the secondary level 0.0075 over ``--family`` metrics; no second look). A/A rows
put failures in bursts: a share of rounds in either arm lose 30% of their
requests. Both tests see the same simulated rounds. Pure: no server, no clock::

    python studies/rate_tests.py --runs 400
    python studies/rate_tests.py --runs 400 --pairs 12 --family 16

The last two columns are each test's p-value alone below 5% (no interval, no
Holm): on the A/A rows, the test's size, which must stay at or below 5%.

The shop API at the gate's rate (~80 arrivals/s, 2% coupon checks) has λ ≈ 3.2
with the default 2-second rounds and λ ≈ 6.4 with ``ab.round: 4``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from perfgate.gate.compare import family_levels, min_effect_for
from perfgate.stats import (
    clopper_pearson,
    signflip_ci,
    signflip_p_greater,
    wilcoxon_ci,
    wilcoxon_signed_rank,
)

MARGIN = min_effect_for("error_rate", {})  # the gate's default, 0.5 pp
# the secondary family's share of alpha/2 per look (two looks): 0.0075
SECONDARY_LEVEL = family_levels(0.05 / 2, has_secondary=True)["secondary"]


@dataclass(frozen=True)
class Row:
    name: str
    requests: float  # λ per round and arm
    base_rate: float
    candidate_rate: float
    burst_share: float = 0.0  # share of rounds (either arm) that lose 30% of requests


ROWS = (
    Row("30% failing, λ 3.2 (2 s rounds)", 3.2, 0.0, 0.3),
    Row("30% failing, λ 6.4 (4 s rounds)", 6.4, 0.0, 0.3),
    Row("10% failing, λ 20", 20.0, 0.0, 0.1),
    Row("A/A, no failures, λ 3.2", 3.2, 0.0, 0.0),
    Row("A/A, bursts in 10% of rounds, λ 3.2", 3.2, 0.0, 0.0, 0.1),
    Row("A/A, bursts in 10% of rounds, λ 20", 20.0, 0.0, 0.0, 0.1),
    Row("A/A, 1% failing, λ 20", 20.0, 0.01, 0.01),
)


def _differences(row: Row, pairs: int, rng: np.random.Generator) -> np.ndarray:
    out = []
    for _ in range(pairs):
        rates = []
        for rate in (row.base_rate, row.candidate_rate):
            n = int(rng.poisson(row.requests))
            if rng.random() < row.burst_share:
                rate = min(1.0, rate + 0.3)
            rates.append(None if n == 0 else rng.binomial(n, rate) / n)
        if rates[0] is not None and rates[1] is not None:
            out.append(rates[1] - rates[0])
    return np.array(out)


def _judged(d: np.ndarray, bar: float, by_mean: bool) -> tuple[bool, bool]:
    """(detected by the gate's rule, p-value alone below 5%: the test's size on A/A)."""
    if d.size < 6:
        return False, False
    if by_mean:
        low, p = signflip_ci(d).low, signflip_p_greater(d - MARGIN)
    else:
        low, p = wilcoxon_ci(d, 0.95).low, wilcoxon_signed_rank(d - MARGIN).p_greater
    return bool(low > MARGIN and p < bar), bool(p < 0.05)


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=400, help="simulated gates per row (default 400)")
    p.add_argument("--pairs", type=int, default=22, help="round pairs per gate (default 22)")
    p.add_argument("--family", type=int, default=16, help="secondary family size (default 16)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    bar = SECONDARY_LEVEL / args.family
    print(
        f"{args.runs} simulated gates per row, {args.pairs} round pairs, margin 0.5 pp, "
        f"p < {SECONDARY_LEVEL}/{args.family}; one-sided 95% Clopper–Pearson bounds "
        "(≥ for detections, ≤ for A/A)\n"
    )
    print(
        "| row | signed rank (e7) | sign flip of the mean (e8) "
        "| p < 5% alone: signed rank | sign flip |"
    )
    print("|---|---|---|---|---|")
    for row in ROWS:
        rng = np.random.default_rng(args.seed)
        hits = {False: 0, True: 0}
        raw = {False: 0, True: 0}
        for _ in range(args.runs):
            d = _differences(row, args.pairs, rng)
            for by_mean in (False, True):
                detected, below = _judged(d, bar, by_mean)
                hits[by_mean] += detected
                raw[by_mean] += below
        aa = row.base_rate == row.candidate_rate
        cells = []
        for counts in (hits, raw):
            for by_mean in (False, True):
                ci = clopper_pearson(counts[by_mean], args.runs, one_sided=True)
                bound = f"≤ {ci.high:.1%}" if aa else f"≥ {ci.low:.1%}"
                cells.append(f"{counts[by_mean]}/{args.runs} ({bound})")
        print(f"| {row.name} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
