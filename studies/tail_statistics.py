"""Tail statistics re-judged on recorded rounds: which share of requests says "a few of
this route's requests got much slower" with the fewest pairs and no false alarms.

Input: the per-pair latency histograms of recorded gate runs (``--histograms``, gzip
JSON lines; ``studies/detection.py --histograms FILE`` writes them beside its own
lines: every subject — the suite and each endpoint — of both arms' kept rounds at the
final look). Each statistic is a share of a round's requests above a threshold taken
from the base's pooled rounds; every run is judged by the gate's rule for a secondary
extra (the 95% interval above the statistic's margin and the shifted test's p below
``--level``/``--family``, Holm's first step), on the first ``--first`` pairs (the first
look) and on all recorded pairs. Pure: no server, no clock::

    python studies/tail_statistics.py --histograms studies/results/tail-histograms-2026-12-07-e9.jsonl.gz

A run counts for a statistic when any subject's share is a regression (tail rows: a
detection; A/A rows: a false alarm); "excl. 0" counts runs where some subject's
interval excludes 0 on the slower side.
"""

from __future__ import annotations

import argparse
import gzip
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from perfgate.gate.compare import family_levels, paired_difference_comparison
from perfgate.metrics import Histogram
from perfgate.stats import clopper_pearson


@dataclass(frozen=True)
class TailStatistic:
    name: str
    threshold: Callable[[Histogram], float]  # from the base's pooled rounds
    margin: float  # its minimum effect, in share points
    per_round: int  # requests a round needs for its share
    pooled: int  # requests the pooled threshold needs
    by_mean: bool = False


STATISTICS = (
    # the gate's (designs e..e9): above the base's p95 raised by the p95's 15% minimum effect
    TailStatistic("p95 x 1.15, 1 pp", lambda h: h.quantile(0.95) * 1.15, 0.01, 40, 200),
    TailStatistic("p99 x 1.15, 0.5 pp", lambda h: h.quantile(0.99) * 1.15, 0.005, 40, 500),
    TailStatistic(
        "p99 x 1.15, 0.5 pp, mean", lambda h: h.quantile(0.99) * 1.15, 0.005, 40, 500, True
    ),
    TailStatistic("2 x p95, 0.5 pp", lambda h: h.quantile(0.95) * 2.0, 0.005, 40, 200),
    TailStatistic("2 x p95, 0.5 pp, mean", lambda h: h.quantile(0.95) * 2.0, 0.005, 40, 200, True),
    TailStatistic("2 x p99, 0.5 pp, mean", lambda h: h.quantile(0.99) * 2.0, 0.005, 40, 500, True),
)


def _shares(
    pairs: Sequence[dict[str, Any]], subject: str, stat: TailStatistic
) -> tuple[list[float | None], list[float | None]] | None:
    pooled = Histogram()
    hists = []
    for p in pairs:
        arms = {}
        for arm in ("base", "candidate"):
            d = p[arm].get(subject)
            arms[arm] = Histogram.from_dict(d) if d is not None else None
        hists.append(arms)
        if arms["base"] is not None:
            pooled.merge(arms["base"])
    if pooled.count < stat.pooled:
        return None
    threshold = stat.threshold(pooled)
    out: dict[str, list[float | None]] = {"base": [], "candidate": []}
    for arms in hists:
        for arm in ("base", "candidate"):
            h = arms[arm]
            out[arm].append(
                h.count_above(threshold) / h.count
                if h is not None and h.count >= stat.per_round
                else None
            )
    return out["base"], out["candidate"]


def judge(
    pairs: Sequence[dict[str, Any]], stat: TailStatistic, bar: float, min_pairs: int = 8
) -> tuple[list[str], list[str]]:
    """(subjects whose share is a regression, subjects whose interval excludes 0 above)."""
    regressed, excluded = [], []
    subjects = sorted({s for p in pairs for s in p["base"]})
    for subject in subjects:
        got = _shares(pairs, subject, stat)
        if got is None:
            continue
        c = paired_difference_comparison(
            "load",
            subject or "suite",
            "ratio",
            got[0],
            got[1],
            margin=stat.margin,
            min_pairs=min_pairs,
            by_mean=stat.by_mean,
        )
        if c.ci_low is None or c.p_value is None:
            continue
        if c.ci_low > stat.margin and c.p_value < bar:
            regressed.append(subject or "suite")
        if c.ci_low > 0:
            excluded.append(subject or "suite")
    return regressed, excluded


def _cell(k: int, n: int, false_alarms: bool) -> str:
    ci = clopper_pearson(k, n, one_sided=True)
    return f"{k}/{n} ({f'≤ {ci.high:.1%}' if false_alarms else f'≥ {ci.low:.1%}'})"


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--histograms", type=Path, nargs="+", required=True)
    p.add_argument("--family", type=int, default=16, help="secondary family size (default 16)")
    p.add_argument(
        "--level",
        type=float,
        default=family_levels(0.05 / 2, has_secondary=True)["secondary"],
        help="the secondary family's level per look (default: 0.0075)",
    )
    p.add_argument("--first", type=int, default=12, help="pairs of the first look (default 12)")
    args = p.parse_args()
    runs = []
    for path in args.histograms:
        with gzip.open(path, "rt") as f:
            runs += [json.loads(line) for line in f if line.strip()]
    bar = args.level / args.family
    rows: dict[str, list[dict[str, Any]]] = {}
    for r in runs:
        if not r.get("pairs"):
            continue
        env = r.get("env") or {}
        row = "tail" if "PERFGATE_DEMO_TAIL_FRACTION" in env else ("aa" if not env else "other")
        rows.setdefault(row, []).append(r)
    print(
        f"p < {args.level:.4g}/{args.family} and the 95% interval above the margin; "
        f"first look = the first {args.first} kept pairs; one-sided 95% Clopper–Pearson\n"
    )
    print("| row | statistic | first look | all recorded pairs | excl. 0 (all pairs) |")
    print("|---|---|---|---|---|")
    for row, rs in sorted(rows.items()):
        for stat in STATISTICS:
            first = every = excl = 0
            for r in rs:
                pairs = r["pairs"]
                first += bool(judge(pairs[: args.first], stat, bar)[0])
                reg, ex = judge(pairs, stat, bar)
                every += bool(reg)
                excl += bool(ex)
            n = len(rs)
            cells = " | ".join(_cell(k, n, row == "aa") for k in (first, every))
            print(f"| {row} | {stat.name} | {cells} | {excl}/{n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
