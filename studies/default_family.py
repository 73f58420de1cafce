"""Does the default gate catch what a user would call slower, on an API that is not the demo?

The target is ``tests/apps/shop_api.py``: a stdlib threaded server over
SQLite with seven endpoints, where a cheap product page carries the most
requests, recommendations and search the most CPU, and a coupon check is
rare (``tests/apps/shop-load.yml``). Each run builds a throwaway git
repository (``main`` and a ``feature`` branch changing one constant) and runs
``perfgate gate --base-ref main`` as a user would, with the documented
defaults (no ``compare.primary``; only ``ab.max_lag`` is raised when
``--max-lag`` says so). Rows:

* ``aa``       — nothing changed: a false alarm is exit 1.
* ``cheap15``  — the product page runs one more query (+15–20% of its CPU): detected on exit 1.
* ``rare30``   — 30% of coupon checks (2% of the traffic) answer 500: detected on exit 1.

The blind classes of issue 22, on this API (its examples were a tail and a leak
that passed the gate):

* ``tail4``    — 4% of product pages held 40 ms longer (medians do not move).
* ``leak16``   — every request keeps 16 KiB for good.
* ``lock``     — every request holds one process-wide lock for 7 ms: at most
  ~143 requests/s whatever the cores, about half the ~280/s the shop's warm-up
  measured (240–320/s on the first A/A run), so the candidate's capacity halves.

Every figure is k/n with a one-sided Clopper–Pearson 95% bound (upper for
false alarms, lower for detections), and the median gate time, per design
(the commit of ``src``, ``studies`` and ``tests/apps``; never pooled)::

    python studies/default_family.py --runs 10 --rows aa,cheap15,rare30 --jsonl runs.jsonl
    python studies/default_family.py --runs 5 --rows aa,tail4,leak16,lock --jsonl runs.jsonl
    python studies/default_family.py --summarize runs.jsonl

``--calibrate OUT`` runs ``perfgate calibrate`` on the shop (A/A launches of its
main branch) into OUT; ``--calibration OUT`` then makes every gate run read it
(``ab.calibration``), recorded as part of the design::

    python studies/default_family.py --calibrate shop-calibration.json --launches 6
    python studies/default_family.py --runs 3 --rows aa,leak16 --calibration shop-calibration.json --jsonl runs.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from launch_tradeoff import per_launch
from perfgate.gate.ab.stats import is_extra_metric
from perfgate.stats import clopper_pearson
from provenance import MEASURED, code_commit

# The shop and its throwaway repository live beside the tests that use them too.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "apps"))
from shop_repo import CHANGES, make_shop_repo

#: Where a calibration file goes in the throwaway repository.
CALIBRATION_NAME = "perfgate-calibration.json"


def _repo(work: Path, row: str, max_lag: float | None, calibration: Path | None = None) -> Path:
    ab = []
    if max_lag is not None:
        ab.append(f"max_lag: {max_lag:g}")
    if calibration is not None:
        ab.append(f"calibration: {CALIBRATION_NAME}")
    repo = make_shop_repo(work, CHANGES[row], f"ab: {{{', '.join(ab)}}}\n" if ab else "")
    if calibration is not None:  # the candidate's checkout reads it (perfgate.yml's ab.calibration)
        shutil.copy(calibration, repo / CALIBRATION_NAME)
    return repo


def calibrate(out: Path, launches: int) -> int:
    """``perfgate calibrate`` on a throwaway repository of the shop (its main branch), into ``out``
    (pooled when ``out`` exists, as the command does)."""
    with tempfile.TemporaryDirectory(prefix="perfgate-study-") as tmp:
        repo = _repo(Path(tmp), "aa", None)
        run = subprocess.run(
            [sys.executable, "-m", "perfgate", "calibrate", "--launches", str(launches),
             "--out", str(out.resolve())],
            cwd=repo, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
    print(run.stdout[-6000:], run.stderr[-3000:], sep="\n")
    return run.returncode


def one_run(row: str, max_lag: float | None, calibration: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="perfgate-study-") as tmp:
        work = Path(tmp)
        repo = _repo(work, row, max_lag, calibration)
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "perfgate", "gate", "--base-ref", "main", "--no-comment",
             "--report-dir", str(work / "reports")],
            cwd=repo, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        seconds = time.monotonic() - started
        report = next((work / "reports").rglob("report.json"), None)
        verdict = json.loads(report.read_text()).get("verdict", {}) if report else {}
    details = verdict.get("details", {}) if isinstance(verdict, dict) else {}
    load = (details.get("suites") or {}).get("load") or {}
    ab = load.get("ab") or {}
    return {
        "row": row,
        "commit": code_commit((*MEASURED, "tests/apps")),
        "exit": run.returncode,
        "state": verdict.get("state"),
        "reasons": verdict.get("reasons", [])[:2],
        "regressed": [
            c.get("metric")
            for c in verdict.get("comparisons", [])
            if isinstance(c, dict) and c.get("state") == "regression"
        ],
        "inconclusive": [str(x)[:300] for x in details.get("inconclusive") or []][:4],
        # the blind classes' metrics as judged, so a miss can be read afterwards
        "extras": {
            c["metric"]: [c.get("state"), c.get("change"), c.get("ci_low"), c.get("ci_high")]
            for c in verdict.get("comparisons", [])
            if isinstance(c, dict) and is_extra_metric(str(c.get("metric", "")))
        },
        "capacity": ab.get("capacity") or load.get("capacity"),
        "launches": load.get("launches"),
        "seconds": round(seconds, 1),
        "dropped": load.get("pairs_dropped"),
        "extended": load.get("extended"),
        "max_lag": max_lag,
        # the calibration the gate read (ab.calibration): part of the design
        "calibration": None
        if calibration is None
        else hashlib.sha256(calibration.read_bytes()).hexdigest()[:12],
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def summarize(path: Path) -> int:
    groups: dict[tuple[str, str, Any], list[dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            commit = r.get("commit") or "—"
            if r.get("calibration"):
                commit = f"{commit} + calibration {r['calibration']}"
            key = (commit, r["row"], r.get("max_lag"))
            groups.setdefault(key, []).append(r)
    print(
        "| design | row | max_lag | k/n | 95% bound | inconclusive | extended | seconds (median) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (did, row, lag), runs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        hits = sum(r["exit"] == 1 for r in runs)
        ci = clopper_pearson(hits, len(runs), one_sided=True)
        bound = f"≤ {ci.high:.1%}" if row == "aa" else f"≥ {ci.low:.1%}"
        unsure = sum(r.get("state") == "inconclusive" for r in runs)
        extended = sum(bool(r.get("extended")) for r in runs)
        secs = float(np.median([r["seconds"] for r in runs]))
        lag_text = "default" if lag is None else f"{lag:g}"
        print(
            f"| {did} | {row} | {lag_text} | {hits}/{len(runs)} | {bound} | {unsure} | {extended} "
            f"| {secs:.0f} |"
        )
    bullets = []
    for (did, row, _lag), runs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        counts: dict[str, int] = {}
        for r in runs:
            for metric in r.get("regressed") or []:
                counts[metric] = counts.get(metric, 0) + 1
        if counts:
            top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:6]
            named = ", ".join(f"`{m}` {k}/{len(runs)}" for m, k in top)
            bullets.append(f"- {did} {row}: regressed {named}")
    if bullets:
        print()
        print("\n".join(bullets))
    _print_extras(groups)
    _print_launches(groups)
    return 0


def _print_extras(groups: dict[tuple[str, str, Any], list[dict[str, Any]]]) -> None:
    """The blind classes' metrics per design and row: median change, how often the
    95% interval lay above 0 (a detection's side), how often it excluded 0 on either
    side (issue 22's per-metric A/A goal) and how often the metric was a regression."""
    lines = []
    for (did, row, _lag), runs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        seen: dict[str, list[list[Any]]] = {}
        for r in runs:
            for metric, judged in (r.get("extras") or {}).items():
                seen.setdefault(metric, []).append(judged)
        for metric, judged in sorted(seen.items()):
            changes = [j[1] for j in judged if j[1] is not None]
            above = sum(j[2] is not None and j[2] > 0 for j in judged)
            below = sum(j[3] is not None and j[3] < 0 for j in judged)
            hits = sum(j[0] == "regression" for j in judged)
            stat = metric.rsplit(" ", 1)[-1]
            unit = (
                " KiB" if stat == "rss_kib_per_request" else " pp" if "above_base" in stat else "%"
            )
            med = float(np.median(changes)) if changes else float("nan")
            med *= 1 if unit == " KiB" else 100
            lines.append(
                f"| {did} | {row} | `{metric}` | {len(judged)} | {med:+.2f}{unit} "
                f"| {above}/{len(judged)} | {above + below}/{len(judged)} "
                f"| {hits}/{len(judged)} |"
            )
    if lines:
        print()
        print(
            "| design | row | metric | runs | change (median) | interval above 0 "
            "| interval excludes 0 | regression |"
        )
        print("|---|---|---|---|---|---|---|---|")
        print("\n".join(lines))


def _print_launches(groups: dict[tuple[str, str, Any], list[dict[str, Any]]]) -> None:
    """Per design, the A/A launch pairs: peak RSS and warm-up capacity, candidate vs base."""
    rows = []
    for (did, row, _lag), runs in sorted(groups.items(), key=lambda kv: str(kv[0])):
        if row != "aa":
            continue
        for figure in ("peak_rss_kib", "capacity_warmup"):
            logs = per_launch(runs, figure)
            if len(logs) >= 2:
                higher = sum(x > 0 for x in logs)
                rows.append(
                    f"| {did} | {figure} | {len(logs)} | {np.mean(logs):+.2%} "
                    f"| {np.std(logs, ddof=1):.2%} | {max(abs(x) for x in logs):.2%} "
                    f"| {higher}/{len(logs)} |"
                )
    if rows:
        print()
        print("| design | A/A per launch (log ratio) | launch pairs | mean | SD | largest |gap| "
              "| candidate higher |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        print("\n".join(rows))


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=1, help="runs per row (default 1)")
    p.add_argument("--rows", default="aa,cheap15,rare30")
    p.add_argument(
        "--max-lag", type=float, default=None, help="ab.max_lag in ms (default: the gate's)"
    )
    p.add_argument("--jsonl", type=Path, help="append each run here")
    p.add_argument(
        "--calibration", type=Path, help="a calibration file the gate reads (ab.calibration)"
    )
    p.add_argument(
        "--calibrate",
        type=Path,
        metavar="OUT",
        help="run perfgate calibrate on the shop into OUT and exit (--launches per arm)",
    )
    p.add_argument("--launches", type=int, default=6, help="with --calibrate (default 6)")
    p.add_argument("--summarize", type=Path, help="print the table of a --jsonl file and exit")
    args = p.parse_args()
    if args.summarize:
        return summarize(args.summarize)
    if args.calibrate:
        return calibrate(args.calibrate, args.launches)
    rows = args.rows.split(",")
    for row in rows:
        if row not in CHANGES:
            p.error(f"unknown row {row!r} (rows: {', '.join(CHANGES)})")
    for _ in range(args.runs):
        for row in rows:  # rows interleaved: the machine's mood spreads over all of them
            result = one_run(row, args.max_lag, args.calibration)
            print(json.dumps(result), flush=True)
            if args.jsonl:
                with args.jsonl.open("a") as fh:
                    fh.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
