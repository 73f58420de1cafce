"""Two multiplicity rules judged on the very same recorded gate runs.

``studies/detection.py --jsonl`` records every gating metric's per-pair
(base, candidate) figures. A verdict is a deterministic function of them, so
a different decision rule can be evaluated on identical data, without the
machine's mood differing between the rules:

* ``holm``  — what perfgate does: per metric the Hodges–Lehmann shift, its 95%
  Wilcoxon interval must clear the minimum effect, and the one-sided p-value
  must survive Holm over the primary family;
* ``wy``    — the same, with Westfall–Young step-down minP over the joint sign
  flips of the pairs in place of Holm (``perfgate.stats.multiple.signflip_minp``).

Below the table: how many runs perfgate's "unresolved" state (a possible
regression: slower beyond doubt, its interval reaching past the minimum
effect) would have turned inconclusive — A/A runs, and the A/B runs the
``holm`` rule missed.

Error-rate metrics (no per-pair figures) keep their recorded p-value and join
both families as they are (Holm: one more p; WY: Bonferroni-split beside the
paired family)::

    python studies/decision_rules.py studies/results/detection-2026-11-26-busy-periods.jsonl

``--median-fit`` judges each endpoint's CPU per request by the median
regression instead of the Huber fit perfgate uses, on the same rounds (runs
recorded with ``detection.py --median-fit``; others are skipped)::

    python studies/decision_rules.py --median-fit studies/results/detection-2026-11-26-huber.jsonl

``--declared`` makes the family only the judged metrics (the route's latency
median and CPU per request, the arm's CPU per request): what a project that
declares them as its primary metrics would get, on the same rounds::

    python studies/decision_rules.py --declared studies/results/detection-2026-11-26-huber.jsonl

``--route`` narrows the family further, to the route's latency median and CPU
per request: the issue's claim, and what ``detection.py --family declared``
declares. Runs recorded that way are re-judged with their own family and level
unless a flag says otherwise.

``--looks N`` replays perfgate's second look (``ab.extend_pairs``) on runs
recorded with more pairs: judge the first N kept pairs; when nothing is a
regression and a metric is unresolved or short of pairs, judge them all. Both
looks at Pocock's level for N and the run's recorded pairs::

    python studies/decision_rules.py --route --looks 12 studies/results/detection-2026-11-26-24pairs.jsonl

``--first N`` keeps only each run's first N recorded (kept) pairs: what a shorter
experiment would have said on the same runs (e.g. 12 of the 24 pairs of
``studies/results/detection-2026-11-26-24pairs.jsonl``)::

    python studies/decision_rules.py --first 12 studies/results/detection-2026-11-26-24pairs.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from detection import JUDGED  # studies/ is on the path when this script runs
from perfgate.gate.compare import holm_min_pairs, min_effect_for, paired_comparison
from perfgate.stats import clopper_pearson, holm, pocock_level
from perfgate.stats.multiple import signflip_minp

ALPHA = 0.05


def _verdicts(
    run: dict[str, Any],
    first: int | None = None,
    family: tuple[str, ...] | None = None,
    alpha: float = ALPHA,
) -> dict[str, dict[str, bool]]:
    """metric -> {rule: regression?} for one recorded run (its first ``first`` pairs).

    ``family``: only these metrics are primary, as for a project that declares
    them (``compare.primary``); ``None``: every recorded primary metric.
    """
    pairs: dict[str, list[list[float | None]]] = {
        m: rows[:first] for m, rows in run["pairs"].items() if family is None or m in family
    }
    other_p = {
        m: p for m, p in (run.get("primary") or {}).items() if m not in pairs and family is None
    }
    clears: dict[str, bool] = {}
    raw_p: dict[str, float] = {}
    slower_p: dict[str, float] = {}
    reaches: dict[str, bool] = {}  # the 95% interval reaches past the minimum effect
    centred: dict[str, list[float | None]] = {}
    for metric, rows in pairs.items():
        effect = min_effect_for(metric, {})
        comp = paired_comparison(
            "load",
            metric,
            "",
            [r[0] for r in rows],
            [r[1] for r in rows],
            min_effect=effect,
            family="primary",
        )
        clears[metric] = comp.state == "regression"
        raw_p[metric] = comp.p_value if comp.p_value is not None else math.nan
        slower_p[metric] = comp.p_slower if comp.p_slower is not None else math.nan
        reaches[metric] = comp.ci_high is not None and comp.ci_high > effect
        threshold = math.log1p(effect)
        centred[metric] = [
            math.log(b / a) - threshold if a and b and a > 0 and b > 0 else None for a, b in rows
        ]
    names = list(pairs)
    holm_p = dict(
        zip(
            names + list(other_p),
            holm([raw_p[m] for m in names] + list(other_p.values())),
            strict=True,
        )
    )
    # perfgate's "unresolved": not a regression after Holm, but slower beyond doubt
    # (Holm over the paired metrics) with an interval reaching past the minimum effect
    holm_slower = dict(zip(names, holm([slower_p[m] for m in names]), strict=True))
    wy = signflip_minp([centred[m] for m in names]) if names else []
    # The paired family and each error-rate p share α (Bonferroni between the parts).
    parts = 1 + len(other_p)
    wy_p = {m: min(1.0, p * parts) for m, p in zip(names, wy, strict=True)}
    return {
        m: {
            "holm": clears[m] and holm_p[m] < alpha,
            "wy": clears[m] and not math.isnan(wy_p[m]) and wy_p[m] < alpha,
            "unresolved": not (clears[m] and holm_p[m] < alpha)
            and reaches[m]
            and holm_slower[m] < alpha,
            # fewer usable pairs than Holm over the family needs (perfgate: insufficient)
            "short": sum(1 for a, b in pairs[m] if a and b)
            < holm_min_pairs(len(names) + len(other_p), alpha),
        }
        for m in names
    }


def _recorded_rule(run: dict[str, Any]) -> tuple[tuple[str, ...] | None, float]:
    """The family and per-look level the run was judged with when it was recorded."""
    family = JUDGED[:2] if run.get("family") == "declared" else None
    first, extra = run.get("round_pairs", 12), run.get("extend_pairs", 0)
    return family, pocock_level(ALPHA, first, first + extra) if extra else ALPHA


def _judge(
    run: dict[str, Any], args: argparse.Namespace
) -> tuple[dict[str, dict[str, bool]], str | None]:
    """The verdicts under the chosen rule, and the second look (``--looks``).

    The look is "taken", "" (the first look decided) or "wanted" (undecided,
    but the run recorded no more pairs to judge).
    """
    family, level = _recorded_rule(run)
    if args.declared:
        family = JUDGED
    if args.route:
        family = JUDGED[:2]
    if args.looks is None:
        return _verdicts(run, args.first, family, level), None
    total = max((len(rows) for rows in run["pairs"].values()), default=0)
    level = pocock_level(ALPHA, args.looks, max(total, args.looks))
    first = _verdicts(run, args.looks, family, level)
    decided = any(v["holm"] for v in first.values()) or not any(
        v["unresolved"] or v["short"] for v in first.values()
    )
    if decided:
        return first, ""
    if total <= args.looks:
        return first, "wanted"
    return _verdicts(run, None, family, level), "taken"


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("jsonl", type=Path, nargs="+")
    p.add_argument(
        "--first",
        type=int,
        default=None,
        help="judge only each run's first N kept (recorded) pairs",
    )
    p.add_argument(
        "--declared",
        action="store_true",
        help="the family is only the judged metrics (a project declaring them primary)",
    )
    p.add_argument(
        "--route",
        action="store_true",
        help="the family is the route's latency median and CPU per request (the issue's claim)",
    )
    p.add_argument(
        "--looks",
        type=int,
        default=None,
        help="replay the second look: first N kept pairs, then all when undecided",
    )
    p.add_argument(
        "--median-fit",
        action="store_true",
        help="judge endpoint CPU by the recorded median-regression figures (pairs_median_fit)",
    )
    args = p.parse_args()
    rows: dict[str, list[dict[str, Any]]] = {}
    mismatches = 0
    for path in args.jsonl:
        for line in path.read_text().splitlines():
            run = json.loads(line) if line.strip() else None
            if not run or not run.get("pairs"):
                continue
            if args.median_fit:
                if "pairs_median_fit" not in run:
                    continue
                run["pairs"] = {**run["pairs"], **run["pairs_median_fit"]}
            verdicts, extended = _judge(run, args)
            recorded = set(run.get("alarms") or [])
            recomputed = {m for m, v in verdicts.items() if v["holm"]}
            # error-rate p-values were recorded for all pairs: only a full run can match
            mismatches += (
                args.first is None
                and args.looks is None
                and not args.median_fit
                and not args.declared
                and not args.route
                and recomputed != (recorded & set(verdicts))
            )
            rows.setdefault(run["row"], []).append(
                {"run": run, "verdicts": verdicts, "extended": extended}
            )
    print(
        "| row | runs | rule | false alarms / detections | 95% bound "
        "| fired on the route's p50 / CPU | second looks |"
    )
    print("|---|---|---|---|---|---|---|")
    for row, runs in sorted(rows.items()):
        for rule in ("holm", "wy"):
            if row.endswith("aa"):
                hits = sum(any(v[rule] for v in r["verdicts"].values()) for r in runs)
            else:
                hits = sum(any(r["verdicts"].get(m, {}).get(rule) for m in JUDGED) for r in runs)
            ci = clopper_pearson(hits, len(runs), one_sided=True)
            bound = f"≤ {ci.high:.1%}" if row.endswith("aa") else f"≥ {ci.low:.1%}"
            fired = [
                sum(bool(r["verdicts"].get(m, {}).get(rule)) for r in runs) for m in JUDGED[:2]
            ]
            looked = sum(r["extended"] == "taken" for r in runs)
            wanted = sum(r["extended"] == "wanted" for r in runs)
            looks = f"{looked}" + (f" (+{wanted} wanted, no pairs recorded)" if wanted else "")
            print(
                f"| {row} | {len(runs)} | {rule} | {hits}/{len(runs)} | {bound} "
                f"| {fired[0]} / {fired[1]} | {looks if args.looks else '—'} |"
            )
    print(
        f"\nHolm recomputed from the pairs differs from the recorded verdict in {mismatches} runs."
    )
    print("\nPossible regressions (perfgate's 'unresolved', Holm rule; verdict inconclusive):")
    for row, runs in sorted(rows.items()):
        flagged = sum(any(v["unresolved"] for v in r["verdicts"].values()) for r in runs)
        if row.endswith("aa"):
            print(f"- {row}: {flagged}/{len(runs)} runs would end inconclusive")
            continue
        missed = [r for r in runs if not any(r["verdicts"].get(m, {}).get("holm") for m in JUDGED)]
        caught = sum(
            any(r["verdicts"].get(m, {}).get("unresolved") for m in JUDGED) for r in missed
        )
        print(
            f"- {row}: of {len(missed)} runs with no judged regression, {caught} flag a judged "
            f"metric as a possible regression"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
