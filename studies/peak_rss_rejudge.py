"""Design e12's peak-RSS test on runs recorded under e11: which verdicts carry over.

e12 changes one thing: peak RSS (one figure per launch and arm) takes the
built-in prior as a floor under the launches' own spread instead of pooling
with it (``perfgate.stats.launch_mean_test``, ``prior_floor``). Every
recorded run keeps both arms' peak RSS per launch, so the e12 interval of
each run is recomputed exactly here with the shipped
:func:`perfgate.gate.ab.stats.peak_rss_comparison`; the e11 interval is
recomputed beside it by the same function with the prior handed in as a
calibration (pooled, e11's rule) and checked against the one the run
recorded (the replay's fidelity).

What carries over, and why: the floor never narrows the interval and never
lowers the p-value of "above the minimum effect" (a larger SD on fewer
degrees of freedom), peak RSS never asks for a second look, and Holm's
step-down only loses rejections when a p-value grows. So a run in which e11
did not find peak RSS regressed gets the same verdict under e12, on the
same measurements; a run in which it did (a leak row) does not carry over
and needs e12 runs of its own. Nothing here is pooled across designs: this
prints, per file and row, the e11 runs re-read, never new e12 runs.

    python studies/peak_rss_rejudge.py studies/results/detection-2026-12-07-e11*.jsonl \\
        studies/results/default-family-2026-12-07-e11.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from perfgate.gate.ab.launches import DEFAULT_PRIORS, PRIOR_LAUNCHES, LaunchPriors
from perfgate.gate.ab.stats import PEAK_RSS_METRIC, peak_rss_comparison
from perfgate.stats import clopper_pearson

#: e11's rule through the shipped comparison: a calibration is pooled, so one
#: that names the built-in prior at the built-in weight pools exactly as e11 did.
E11_PRIORS = LaunchPriors(
    {"load": {PEAK_RSS_METRIC: (DEFAULT_PRIORS.prior("load", PEAK_RSS_METRIC).sd, PRIOR_LAUNCHES)}}
)

#: The e11 recording and the replay agree to this (the lines round nothing, the
#: floating point of two runs of the same formula may differ in the last bits).
FIDELITY = 1e-6


def recorded_peak(run: dict[str, Any]) -> tuple[str, float, float] | None:
    """(state, low, high) of peak RSS as the run recorded it, either study's format."""
    metrics = run.get("metrics") or {}
    if PEAK_RSS_METRIC in metrics:
        m = metrics[PEAK_RSS_METRIC]
        return m["state"], m["low"], m["high"]
    extras = run.get("extras") or {}
    if PEAK_RSS_METRIC in extras:
        state, _change, low, high = extras[PEAK_RSS_METRIC]
        return state, low, high
    return None


def launches_of(run: dict[str, Any]) -> list[tuple[int, int]]:
    """Both arms' peak RSS (KiB) per launch, as the gate compares them."""
    peaks = [launch.get("peak_rss_kib") or {} for launch in run.get("launches") or []]
    return [
        (int(p["base"]), int(p["candidate"]))
        for p in peaks
        if (p.get("base") or 0) > 0 and (p.get("candidate") or 0) > 0
    ]


def interval(kept: list[tuple[int, int]], priors: LaunchPriors) -> tuple[float, float]:
    """Peak RSS's 95% interval as the shipped comparison computes it with ``priors``."""
    c = peak_rss_comparison("load", kept, min_effect={}, priors=priors)
    assert c.ci_low is not None and c.ci_high is not None
    return c.ci_low, c.ci_high


def study(path: Path) -> list[str]:
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    worst = 0.0
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        run = json.loads(line)
        if run.get("calibration"):
            continue  # a calibrated prior is pooled under both designs: nothing changes
        kept = launches_of(run)
        recorded = recorded_peak(run)
        if len(kept) < 2 or recorded is None:
            continue
        state, low, high = recorded
        old_low, old_high = interval(kept, E11_PRIORS)
        new_low, new_high = interval(kept, DEFAULT_PRIORS)
        worst = max(worst, abs(old_low - low), abs(old_high - high))
        c = rows[run["row"]]
        c["n"] += 1
        c["e11 excl0"] += low > 0 or high < 0
        c["e12 excl0"] += new_low > 0 or new_high < 0
        c["e11 regressed"] += state == "regression"
    lines = [
        f"== {path.name} (replay fidelity: largest |e11 recorded - e11 recomputed| {worst:.1e})"
    ]
    if worst > FIDELITY:
        lines.append(
            "   !! the recorded e11 intervals are not reproduced: the replay does not hold"
        )
    lines.append(
        f"   {'row':12} {'n':>4} {'e11 excl 0':>18} {'e12 excl 0':>18} "
        f"{'e11 peak regressed':>18} {'verdict carries':>15}"
    )
    for row, c in sorted(rows.items()):
        n = c["n"]

        def frac(k: int, n: int = n) -> str:
            return f"{k}/{n} (≤{clopper_pearson(k, n, one_sided=True).high:.1%})"

        lines.append(
            f"   {row:12} {n:>4} {frac(c['e11 excl0']):>18} {frac(c['e12 excl0']):>18} "
            f"{c['e11 regressed']:>18} {n - c['e11 regressed']:>15}"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path, help="JSONL files of recorded runs")
    args = ap.parse_args()
    for path in args.files:
        print("\n".join(study(path)))


if __name__ == "__main__":
    main()
