"""How many launches per arm (``ab.launches``)? The trade-off, from measured A/A runs.

Reads ``studies/detection.py`` JSONL lines of one design (``--commit``; runs of
other commits are left out, never pooled) whose runs recorded each pair's
launch (``pair_launches``) and each launch's peak RSS and warm-up capacity
(``launches``), and prints:

1. **Variance components** of each judged metric's per-pair log ratio, from
   the A/A runs with two launches: ``sd_within`` (pairs around their launch's
   mean) and ``sd_between`` (the launch level), the latter from the contrast
   of a run's two launch means, ``E[(m1 - m0)^2] = 2 sd_between^2 +
   sd_within^2 (1/n0 + 1/n1)``: within one run, so no run-to-run drift of the
   machine enters it. Beside it, the prior the gate uses
   (``perfgate.gate.ab.launches``).
2. **Peak RSS and warm-up capacity per launch**: the SD of their A/A log
   ratios (one value per launch pair), against the peak-RSS prior; then every
   run's peak RSS re-judged three ways (design e's prior-only test, the gate's
   current one with both arms' spread, and offline a stored calibration: the
   launch ratios' spread pooled over the other runs of the files), with how
   often an A/A interval excludes 0 and what the other rows still clear; and
   the launch-order effect both arms share. Shop runs
   (``studies/default_family.py``) record the same launches and can be passed too.
3. **Gate time** against launches and pairs: ``seconds = a + o·R + c·pairs``
   fitted over the A/A runs of every launch count given (pass the files of
   ``--launches 1`` and ``--launches 3`` runs too; their design differs only
   in R, so the fit is per R, not a pooled rate).
4. **The trade-off**: for R = 1..4 at the R = 2 design's gate time, the pairs
   left (``(T - a - o·R) / c``), then the gate's own comparison
   (``perfgate.gate.compare.paired_comparison`` with the launch model) on
   simulated runs drawn from the measured components: how often an A/A
   interval excludes 0 (nominal 5%), and how often a +10% shift clears its
   minimum effect. Simulation, calibrated by the measured SDs: it shows the
   shape of the trade-off, the A/A rows of ``studies/detection.py`` check it.

    python studies/launch_tradeoff.py studies/results/detection-2026-12-05-launches-e.jsonl \\
        --commit c658935 --times studies/results/detection-2026-12-05-launches-r.jsonl \\
        --assume-between 0.01,0.02
"""

from __future__ import annotations

import argparse
import json
import math
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from perfgate.gate.ab.calibration import calibration_from, merge_calibrations, priors_of
from perfgate.gate.ab.launches import PRIOR_LAUNCHES, launch_sd_prior
from perfgate.gate.ab.stats import PEAK_RSS_METRIC, peak_rss_comparison
from perfgate.gate.ab.suite import peak_rss_pairs
from perfgate.gate.compare import paired_comparison
from perfgate.stats import clopper_pearson, launch_mean_test

#: The metrics the trade-off is shown for: the judged route's CPU and median, the suite's.
SHOWN = (
    "endpoint:/api/bounties cpu_ms_per_request",
    "endpoint:/api/bounties total.p50",
    "cpu_ms_per_request",
)
SIMULATIONS = 400


def _runs(paths: list[Path], commit: str | None) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                if commit is None or r.get("commit") == commit:
                    out.append(r)
    return out


def components(runs: list[dict[str, Any]]) -> dict[str, tuple[float, float, int]]:
    """metric -> (sd_within, sd_between, runs) from A/A runs with two launches."""
    contrasts: dict[str, list[tuple[float, float]]] = defaultdict(list)
    within: dict[str, list[float]] = defaultdict(list)
    for r in runs:
        labels = r.get("pair_launches") or []
        if r.get("row") != "aa" or len(set(labels)) != 2:
            continue
        for metric, pairs in (r.get("pairs") or {}).items():
            if len(pairs) != len(labels):
                continue
            groups: dict[int, list[float]] = defaultdict(list)
            for (b, c), g in zip(pairs, labels, strict=True):
                if b and c and b > 0 and c > 0:
                    groups[g].append(math.log(c / b))
            g0, g1 = (np.array(groups[k]) for k in sorted(groups))
            if g0.size < 3 or g1.size < 3:
                continue
            pooled = (np.sum((g0 - g0.mean()) ** 2) + np.sum((g1 - g1.mean()) ** 2)) / (
                g0.size + g1.size - 2
            )
            within[metric].append(float(pooled))
            contrasts[metric].append(
                (float(g1.mean() - g0.mean()) ** 2, float(pooled) * (1 / g0.size + 1 / g1.size))
            )
    out = {}
    for metric, cs in contrasts.items():
        d2 = float(np.mean([c for c, _ in cs]))
        noise = float(np.mean([n for _, n in cs]))
        out[metric] = (
            math.sqrt(float(np.mean(within[metric]))),
            math.sqrt(max(0.0, (d2 - noise) / 2.0)),
            len(cs),
        )
    return out


def per_launch(runs: list[dict[str, Any]], key: str) -> list[float]:
    """A/A log ratios (candidate / base) of one per-launch figure, one per launch pair."""
    out = []
    for r in runs:
        if r.get("row") != "aa":
            continue
        for row in r.get("launches") or []:
            fig = row.get(key) or {}
            b, c = fig.get("base"), fig.get("candidate")
            if b and c and b > 0 and c > 0:
                out.append(math.log(c / b))
    return out


def _diff_spread(kept: list[tuple[int, int]]) -> tuple[float, int]:
    """(sum of squares, df) of one run's per-launch log ratios around their mean: a
    constant effect (a leak, a bigger pool) moves their mean, not their spread."""
    d = np.log(np.array([c / b for b, c in kept], dtype=np.float64))
    return float(np.sum((d - d.mean()) ** 2)), int(d.size - 1)


def peak_rss_rejudge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Every run's peak RSS re-judged three ways; the A/A rows say how often the
    interval excludes 0 (nominal 5%), the other rows what the test still detects.

    - ``prior``: the launch ratios' own spread with the 2% prior worth 4 launches
      (design e2, c658935);
    - ``arms``: both arms' spread across their launches with the prior (the gate
      since ffceddf, :func:`peak_rss_comparison`);
    - ``history``: the launch ratios' spread pooled with that of every *other* run
      in the files (leave one out) and the prior (offline only);
    - ``calibrated``: the gate with ``ab.calibration`` (:func:`peak_rss_comparison`
      with the priors of a calibration file), the file pooled from every *other* A/A
      run's own launch estimate exactly as ``perfgate calibrate`` pools its runs
      (:func:`calibration_from`, :func:`merge_calibrations`; leave one out).

    Also the launch-order effect both arms share: the mean of each arm's
    log(launch 1 / launch 0), which the arms' spread counts as noise.
    """
    kept_of = [(r.get("row"), peak_rss_pairs(r.get("launches") or [])) for r in runs]
    kept_of = [(row, kept) for row, kept in kept_of if len(kept) >= 2]
    if not kept_of:
        return {}
    spreads = [_diff_spread(kept) for _, kept in kept_of]
    # each A/A run as one calibration run would record it (its own launches only)
    own = [
        calibration_from([peak_rss_comparison("load", kept, min_effect={})]) if row == "aa" else {}
        for row, kept in kept_of
    ]
    total_ss, total_df = sum(ss for ss, _ in spreads), sum(df for _, df in spreads)
    prior = launch_sd_prior(PEAK_RSS_METRIC)
    out: dict[str, Any] = {"rows": {}, "history_df": total_df, "order": []}
    for i, (row, kept) in enumerate(kept_of):
        logs = [math.log(c / b) for b, c in kept]
        ss = total_ss - spreads[i][0]
        df = total_df - spreads[i][1]
        hist_var = (PRIOR_LAUNCHES * prior**2 + ss) / (PRIOR_LAUNCHES + df)
        tests = {
            "prior": launch_mean_test(logs, prior_sd=prior, prior_df=PRIOR_LAUNCHES),
            "history": launch_mean_test(
                logs, prior_sd=math.sqrt(hist_var), prior_df=PRIOR_LAUNCHES + df
            ),
        }
        now = peak_rss_comparison("load", kept, min_effect={})
        assert now.ci_low is not None and now.ci_high is not None and now.min_effect
        pooled: dict[str, dict[str, Any]] = {}
        for j, cal in enumerate(own):
            if j != i and cal:
                pooled = merge_calibrations(pooled, cal)
        cal_df = pooled.get("load", {}).get(PEAK_RSS_METRIC, {}).get("df", 0)
        out["calibration_df"] = max(out.get("calibration_df", 0), cal_df)
        calibrated = peak_rss_comparison(
            "load", kept, min_effect={}, priors=priors_of({"suites": pooled})
        )
        assert calibrated.ci_low is not None and calibrated.ci_high is not None
        floor = math.log1p(now.min_effect)
        entry = out["rows"].setdefault(str(row), {"runs": 0})
        entry["runs"] += 1
        results = {k: (t.low, t.high) for k, t in tests.items()}
        results["arms"] = (math.log1p(now.ci_low), math.log1p(now.ci_high))
        results["calibrated"] = (math.log1p(calibrated.ci_low), math.log1p(calibrated.ci_high))
        for name, (low, high) in results.items():
            e = entry.setdefault(name, {"excludes_0": 0, "clears": 0, "widths": []})
            e["excludes_0"] += low > 0 or high < 0
            e["clears"] += low > floor
            e["widths"].append(math.expm1(high) - math.expm1(low))
        for arm in (0, 1):
            out["order"].append(math.log(kept[1][arm] / kept[0][arm]))
    return out


def time_fit(runs: list[dict[str, Any]]) -> tuple[float, float, float] | None:
    """(a, o, c) of seconds = a + o·launches + c·pairs over A/A runs; None when unidentifiable."""
    rows = [
        (1.0, float((r.get("design") or {}).get("launches") or 1), float(r["pairs_run"]))
        for r in runs
        if r.get("row") == "aa" and r.get("pairs_run") and r.get("seconds")
    ]
    secs = [
        float(r["seconds"])
        for r in runs
        if r.get("row") == "aa" and r.get("pairs_run") and r.get("seconds")
    ]
    x = np.array(rows)
    if len(rows) < 4 or np.linalg.matrix_rank(x) < 3:
        return None
    coef, *_ = np.linalg.lstsq(x, np.array(secs), rcond=None)
    return float(coef[0]), float(coef[1]), float(coef[2])


def simulate(
    metric: str, sd_within: float, sd_between: float, launches: int, pairs: int, shift: float
) -> tuple[int, int, int]:
    """(runs, intervals excluding 0, clearing the minimum effect) of the gate's comparison."""
    rng = random.Random(f"{metric}{launches}{pairs}{shift}")
    prior = launch_sd_prior(metric, 2.4 if "total." in metric else None)
    labels = [k * launches // pairs for k in range(pairs)]
    excl = cleared = 0
    for _ in range(SIMULATIONS):
        offsets = [rng.gauss(0.0, sd_between) for _ in range(launches)]
        d = [math.log1p(shift) + offsets[g] + rng.gauss(0.0, sd_within) for g in labels]
        c = paired_comparison(
            "load",
            metric,
            "ms",
            [1.0] * pairs,
            [math.exp(v) for v in d],
            min_effect=0.05,
            launches=labels,
            launch_sd=prior,
        )
        excl += c.ci_low is not None and c.ci_high is not None and (c.ci_low > 0 or c.ci_high < 0)
        cleared += c.state == "regression"
    return SIMULATIONS, excl, cleared


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("files", nargs="+", type=Path, help="detection.py JSONL of the R = 2 design")
    p.add_argument("--commit", default=None, help="the design's commit (default: every line)")
    p.add_argument(
        "--times", nargs="*", type=Path, default=[], help="JSONL of A/A runs at other ab.launches"
    )
    p.add_argument(
        "--assume-between",
        default="",
        help="comma list of launch-level SDs to simulate besides the measured one "
        "(an API whose processes differ more than the demo's), e.g. 0.01,0.02",
    )
    args = p.parse_args()
    runs = _runs(args.files, args.commit)
    aa = [r for r in runs if r.get("row") == "aa"]
    print(f"# {len(aa)} A/A runs of {args.commit or 'every commit'}")
    comp = components(runs)
    print("\n| metric | A/A runs | sd_within | sd_between (launch) | gate's prior |")
    print("|---|---|---|---|---|")
    for metric, (sw, sb, n) in sorted(comp.items()):
        prior = launch_sd_prior(metric, 2.4 if "total." in metric else None)
        print(f"| `{metric}` | {n} | {sw:.2%} | {sb:.2%} | {prior:.2%} |")
    print("\n| per launch (A/A, log ratio) | launch pairs | SD | largest |gap| | gate's prior |")
    print("|---|---|---|---|---|")
    for key, prior_of in (("peak_rss_kib", "peak_rss_kib"), ("capacity_warmup", None)):
        v = np.array(per_launch(runs, key))
        if v.size:
            sd = math.sqrt(float(np.mean(v**2)))  # A/A: the true mean is 0
            prior_text = f"{launch_sd_prior(prior_of):.2%}" if prior_of else "—"
            print(
                f"| {key} | {v.size} | {sd:.2%} | {float(np.max(np.abs(v))):.2%} | {prior_text} |"
            )
    rejudged = peak_rss_rejudge(runs)
    if rejudged:
        order = np.array(rejudged["order"])
        print(
            f"\nPeak RSS re-judged, each run (history: the other runs' launch-ratio spread, "
            f"{rejudged['history_df']} df in all). Launch 1 against launch 0 of the same arm: "
            f"{math.expm1(float(order.mean())):+.1%} on average ({order.size} arms), an order "
            "effect both arms share.\n"
        )
        print("| row | runs | test | interval excludes 0 | low > min. effect | width, median |")
        print("|---|---|---|---|---|---|")
        labels = {
            "prior": "launch ratios' spread + prior (c658935)",
            "arms": "both arms' spread + prior (current)",
            "history": "launch ratios' spread + other runs' + prior (offline)",
            "calibrated": f"the gate with ab.calibration of the other A/A runs "
            f"({rejudged.get('calibration_df', 0)} df)",
        }
        for row, entry in sorted(rejudged["rows"].items()):
            n = entry["runs"]
            for name, label in labels.items():
                e = entry[name]
                k = e["excludes_0"]
                bound = (
                    f" (≤ {clopper_pearson(k, n, one_sided=True).high:.1%})" if row == "aa" else ""
                )
                print(
                    f"| {row} | {n} | {label} | {k}/{n}{bound} | {e['clears']}/{n} "
                    f"| {float(np.median(e['widths'])):.1%} |"
                )
    fit = time_fit(aa + [r for r in _runs(args.times, None) if r.get("row") == "aa"])
    if fit is None:
        print("\n(gate time: too few A/A runs at other launch counts to fit; pass --times)")
        return 0
    a, o, c = fit
    two = a + 2 * o + 12 * c
    print(f"\ngate time ≈ {a:.1f} s + {o:.1f} s × launches + {c:.2f} s × pairs (A/A fit)")
    print(f"budget: the R = 2 design's {two:.0f} s (12 pairs)\n")
    print("| metric | R | pairs | A/A excl. 0 (k/n, bound) | +10% cleared (k/n) |")
    print("|---|---|---|---|---|")
    assumed = [float(x) for x in args.assume_between.split(",") if x.strip()]
    for metric in SHOWN:
        if metric not in comp:
            continue
        sw, measured_sb, _ = comp[metric]
        for sb in (measured_sb, *assumed):
            _tradeoff_rows(metric, sw, sb, sb == measured_sb, (a, o, c), two)
    return 0


def _tradeoff_rows(
    metric: str,
    sw: float,
    sb: float,
    measured: bool,
    fit: tuple[float, float, float],
    budget: float,
) -> None:
    """One metric's rows of the trade-off at launch-level SD ``sb``: R = 1..4 in ``budget`` s."""
    a, o, c = fit
    label = f"`{metric}` (launch SD {sb:.2%}, {'measured' if measured else 'assumed'})"
    for launches in (1, 2, 3, 4):
        pairs = math.floor((budget - a - o * launches) / c + 1e-9)  # R = 2 gets its 12 exactly
        pairs -= pairs % launches  # equal launches
        if pairs < 6:
            print(f"| {label} | {launches} | {pairs} | (fewer than 6 pairs) | |")
            continue
        n, excl, _ = simulate(metric, sw, sb, launches, pairs, 0.0)
        _, _, hit = simulate(metric, sw, sb, launches, pairs, 0.10)
        bound = clopper_pearson(excl, n, one_sided=True).high
        print(f"| {label} | {launches} | {pairs} | {excl}/{n} (≤ {bound:.1%}) | {hit}/{n} |")


if __name__ == "__main__":
    raise SystemExit(main())
