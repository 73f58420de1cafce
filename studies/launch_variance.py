"""How much do two processes of one build differ, and does the A/B interval carry it?

Reads recorded A/A runs (``"row": "aa"`` lines of ``studies/detection.py``'s
JSONL, which keep every judged metric's per-pair figures) and prints, per
file (one file = one design; files are never pooled) and per metric:

* ``sd_within``: the SD of one pair's log ratio inside a run;
* ``sd_between``: the launch-level SD, method of moments: the variance of
  the runs' mean log ratios minus what their pairs' noise explains (each
  recorded run is one launch pair, so its mean carries one offset);
* how often the gate's 95% interval excluded 0: as the gate computed it
  before the launch model (Wilcoxon over the pairs, as if independent),
  and with the launch model (``perfgate.gate.compare.paired_comparison``
  with the metric's calibrated prior), each k/n with its one-sided 95%
  Clopper–Pearson upper bound. The nominal rate is 5%.

The priors in ``src/perfgate/gate/ab/launches.py`` were read off this table
(rounded up); re-checking them on the same runs is in-sample, so the
"after" column shows the correction is the right size on these runs, not
that it generalizes: new A/A runs (``studies/detection.py --rows aa``) do.

    python studies/launch_variance.py studies/results/detection-*.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from perfgate.gate.ab.launches import launch_sd_prior
from perfgate.gate.compare import paired_comparison
from perfgate.stats import clopper_pearson

MIN_RUNS = 10


def _excludes_zero(low: float | None, high: float | None) -> bool:
    return low is not None and high is not None and (low > 0 or high < 0)


def study(path: Path) -> list[str]:
    runs = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    runs = [r for r in runs if r.get("row") == "aa" and r.get("pairs")]
    per_metric: dict[str, list[list[tuple[float, float]]]] = defaultdict(list)
    for r in runs:
        for metric, pairs in r["pairs"].items():
            kept = [(b, c) for b, c in pairs if b and c and b > 0 and c > 0]
            if len(kept) >= 6:
                per_metric[metric].append(kept)
    lines = [f"== {path.name}: {len(runs)} A/A runs with per-pair figures"]
    if not per_metric:
        return lines
    lines.append(
        f"{'metric':58} {'runs':>4} {'pairs':>5} {'sd_within':>9} {'sd_between':>10} "
        f"{'excl0 before':>16} {'excl0 after':>16}"
    )
    for metric in sorted(per_metric):
        samples = per_metric[metric]
        if len(samples) < MIN_RUNS:
            continue
        logs = [np.log(np.array([c for _, c in s]) / np.array([b for b, _ in s])) for s in samples]
        means = np.array([d.mean() for d in logs])
        noise = float(np.mean([d.var(ddof=1) / d.size for d in logs]))
        sd_between = math.sqrt(max(0.0, float(means.var(ddof=1)) - noise))
        sd_within = math.sqrt(float(np.mean([d.var(ddof=1) for d in logs])))
        before = after = 0
        for s in samples:
            base, cand = [b for b, _ in s], [c for _, c in s]
            typical = float(np.median(base))
            unit = "ms" if "total." in metric else "ms/req"
            plain = paired_comparison("load", metric, unit, base, cand, min_effect=0.05)
            modelled = paired_comparison(
                "load",
                metric,
                unit,
                base,
                cand,
                min_effect=0.05,
                launches=[0] * len(s),
                launch_sd=launch_sd_prior(metric, typical if unit == "ms" else None),
            )
            before += _excludes_zero(plain.ci_low, plain.ci_high)
            after += _excludes_zero(modelled.ci_low, modelled.ci_high)
        n = len(samples)

        def rate(k: int, n: int = n) -> str:
            bound = clopper_pearson(k, n, one_sided=True).high
            return f"{k:3d}/{n:<3d} <= {bound:4.0%}"

        lines.append(
            f"{metric[:58]:58} {n:4d} {int(np.median([len(s) for s in samples])):5d} "
            f"{sd_within:9.2%} {sd_between:10.2%} {rate(before):>16} {rate(after):>16}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="detection.py JSONL files")
    args = parser.parse_args()
    for path in args.files:
        print("\n".join(study(path)))


if __name__ == "__main__":
    main()
