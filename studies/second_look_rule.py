"""What a wider second-look trigger would cost and catch, re-judged on recorded gate runs.

Design e10 adds a trigger to the interim look: a gated metric *probably* slower — its
estimate beyond the minimum effect and its 95% interval clear of 0, yet no regression
after Holm — runs the second look (``perfgate.gate.compare.probably_slower``). Each
look spends its own half of alpha, so no trigger can add false alarms; what it costs
is time (~50 s) in every A/A run it fires on, and what it buys is the runs that passed
green at one look.

Input: ``studies/detection.py`` lines (one design per file, as recorded). Only runs
that took no second look are re-judged: their final look is their first, so each
recorded metric is exactly what the interim look saw. A line without a metric's
``min_effect`` (written before 2026-12-07) is judged against the built-in minimum
effect, which is at most the gate's (a launch-level SD only raises it): its count is
then an upper bound. Pure: no server, no clock::

    python studies/second_look_rule.py studies/results/detection-2026-12-06-launches-e6.jsonl \\
        studies/results/detection-2026-12-07-e9.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from perfgate.config.sections import CompareConfig
from perfgate.gate.compare import min_effect_for

GATED = ("primary", "secondary")


def fires(metric: str, m: Mapping[str, Any], defaults: Mapping[str, float]) -> bool:
    """The e10 trigger on one recorded metric of a run's only look."""
    if m.get("family") not in GATED or m.get("state") != "within-noise":
        return False
    change, low = m.get("change"), m.get("low")
    if change is None or low is None:
        return False
    effect = m.get("min_effect")
    if effect is None:
        effect = min_effect_for(metric, dict(defaults))
    return bool(change > effect and low > 0)


def rejudge(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per row: runs with one look, how many the trigger fires on, and which of those
    ended green (pass), with the metrics it fired on."""
    defaults = CompareConfig().min_effect
    out: dict[str, dict[str, Any]] = {}
    for r in lines:
        row = out.setdefault(
            r["row"], {"runs": 0, "one_look": 0, "fires": 0, "green": 0, "metrics": Counter()}
        )
        row["runs"] += 1
        if r.get("extended"):
            continue
        row["one_look"] += 1
        hit = [k for k, m in (r.get("metrics") or {}).items() if fires(k, m, defaults)]
        if hit:
            row["fires"] += 1
            row["green"] += r.get("verdict") == "pass"
            row["metrics"].update(hit)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("jsonl", nargs="+", type=Path, help="studies/detection.py lines")
    args = parser.parse_args(argv)
    print("| file | row | runs | one look | trigger fires | of those green | on |")
    print("|---|---|---|---|---|---|---|")
    for path in args.jsonl:
        lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        for row, s in rejudge(lines).items():
            on = ", ".join(f"`{m}` {n}" for m, n in s["metrics"].most_common(3))
            print(
                f"| {path.name} | {row} | {s['runs']} | {s['one_look']} | {s['fires']} "
                f"| {s['green']} | {on or '—'} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
