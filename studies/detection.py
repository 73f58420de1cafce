"""The headline proof: how often does the A/B gate cry wolf, how often does it catch +10%?

Rows (each gate run within the ``pr`` budget; the demo API on both arms,
``--cpu-us 2000`` of handler CPU on ``/api/bounties``, the seed's load
script at ``--rate`` arrivals/s):

* ``aa``     — the same build against itself: false alarms (any primary regression).
* ``ab10``   — candidate ``--cpu-us 2200`` (+10% CPU on that route): detections,
  judged on the route's total-latency median and CPU per request
  (``endpoint:/api/bounties total.p50`` / ``cpu_ms_per_request``) and the
  arm's ``cpu_ms_per_request``.
* ``ab10-route`` — candidate ``--cpu-us 2266``: +10% of the route's *measured*
  CPU per request (2.66 ms on the 2-vCPU VM of docs/detection.md: the 2 ms of
  injected work plus the HTTP and handler overhead), where ``ab10``'s +10% of
  the injected work moves the judged metrics by only ~7.5%. A point on the
  power curve, in the judged metric's own units; not the issue's row.
* ``ab5``    — candidate ``--cpu-us 2100`` (+5%); a 5% minimum effect catches
  under half of true 5% changes by construction.
* ``hist-aa`` / ``hist-ab10`` — history mode beside it: each run alone on a
  "different runner" (random background CPU load on the arms' CPU, 0–50%),
  the candidate against the prediction interval of 10 such base runs.

``--family declared`` judges each run the way the issue states the claim: the
project declares the route's latency median and CPU per request as its
primary metrics (``compare.primary``); ``default`` leaves the family to the
gate (~10 metrics it picks itself). ``--extend-pairs`` is perfgate's
``ab.extend_pairs`` (12 more pairs when the first look cannot decide; 0: one
look).

Every figure is k/n with a Clopper–Pearson 95% bound (upper for false
alarms, lower for detections)::

    python studies/detection.py --runs 100              # the issue's full table (~hours)
    python studies/detection.py --runs 10 --rows aa,ab10 # a quick look
    python studies/detection.py --runs 1 --rows aa --jsonl runs.jsonl  # append, resumable
    python studies/detection.py --runs 1 --rows ab10 --family declared --jsonl runs.jsonl
    python studies/detection.py --summarize runs.jsonl    # the table of all appended runs
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from perfgate.config import ProjectConfig, load_project_text
from perfgate.figures import Figure
from perfgate.gate.ab.design import look_level
from perfgate.gate.ab.run import run_ab
from perfgate.gate.compare import apply_holm, history_comparison
from perfgate.gate.plan import plan_suites
from perfgate.stats import clopper_pearson
from perfgate.target import service_for

ROUTE = "/api/bounties"
JUDGED = (
    f"endpoint:{ROUTE} total.p50",
    f"endpoint:{ROUTE} cpu_ms_per_request",
    "cpu_ms_per_request",
)
BASE_US = 2000
ROWS = {
    "aa": BASE_US,
    "ab10": 2200,
    "ab10-route": 2266,
    "ab5": 2100,
    "hist-aa": BASE_US,
    "hist-ab10": 2200,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(work: Path, args: argparse.Namespace) -> ProjectConfig:
    script = work / "artillery-load-test.yml"
    if not script.exists():
        seed = Path(str(__import__("perfgate").__file__)).parent / "data" / "seed"
        for name in ("artillery-load-test.yml", "artillery-processor.js"):
            (work / name).write_bytes((Path(seed) / name).read_bytes())
    lag = f"\n  max_lag: {args.max_lag}" if args.max_lag is not None else ""
    declared = ", ".join(f'"{m}"' for m in JUDGED[:2])
    # "declared": the route's two metrics are the whole core (the claim;
    # replace, since declaring now extends the default core)
    family = (
        f"\ncompare:\n  primary: [{declared}]\n  primary_mode: replace"
        if args.family == "declared"
        else ""
    )
    text = f"""
service:
  start: [{sys.executable}, -m, perfgate, demo-api, --port, "{{{{ port }}}}",
          --db, "{{{{ workdir }}}}/api.sqlite", --route, {ROUTE}]
  ready: {{url: /health}}
suites:
  - {{name: load, script: artillery-load-test.yml}}
ab:
  rate: {args.rate}
  pairs: {args.pairs}
  extend_pairs: {args.extend_pairs}
  round: {args.round}
  slices: {args.slices}{lag}{family}
"""
    return load_project_text(text, work)


def ab_run(
    cfg: ProjectConfig, work: Path, cand_us: int, probe: MedianFitProbe | None = None
) -> dict[str, Any]:
    planned = plan_suites(cfg, "pr")
    specs = {}
    for arm, us in (("base", BASE_US), ("candidate", cand_us)):
        spec = service_for(cfg, arm, _free_port(), Path(tempfile.mkdtemp(dir=work)))
        spec.env["PERFGATE_DEMO_CPU_US"] = str(us)
        specs[arm] = spec
    t0 = time.monotonic()
    out = run_ab(
        cfg, planned, base_spec=specs["base"], candidate_spec=specs["candidate"], log=lambda _: None
    )
    too_few = apply_holm(out.comparisons, look_level(cfg.ab, cfg.compare.alpha))
    primary = [c for c in out.comparisons if c.family == "primary"]
    judged = {c.metric: c for c in primary if c.metric in JUDGED}
    load = (out.details.get("suites") or {}).get("load", {})
    record = {
        "seconds": time.monotonic() - t0,
        "alarm": any(c.state == "regression" for c in primary),
        "detected": any(c.state == "regression" for c in judged.values()),
        "route_change": judged[JUDGED[0]].change if JUDGED[0] in judged else None,
        "route_low": judged[JUDGED[0]].ci_low if JUDGED[0] in judged else None,
        "judged": {
            m: {"state": c.state, "change": c.change, "low": c.ci_low, "high": c.ci_high}
            for m, c in judged.items()
        },
        "alarms": [c.metric for c in primary if c.state == "regression"],
        # possible regressions: slower beyond doubt, not beyond the minimum effect
        "unresolved": [c.metric for c in primary if c.state == "unresolved"],
        "dropped": out.details.get("pairs_dropped"),
        # the second look: why the first could not decide (None: it could)
        "extended": load.get("extended"),
        "pairs_run": load.get("pairs_planned"),
        "started_first": out.details.get("started_first"),
        "launch_gap_s": out.details.get("launch_gap_s"),
        # every gating metric's per-pair (base, candidate) figures: other decision
        # rules can be judged on the very same runs
        "primary": {c.metric: c.p_value for c in primary if c.p_value is not None},
        "pairs": load.get("primary_pairs"),
        # each arm's warm-up capacity: does the arm started first also serve less?
        "capacity": load.get("capacity"),
        "insufficient": bool(out.inconclusive or too_few),
    }
    if probe is not None:
        record["pairs_median_fit"] = probe.pairs(set(record["pairs"] or {}), cfg.ab.max_lag_ms)
    return record


class MedianFitProbe:
    """Refits each merged round's busy periods with the median regression.

    perfgate fits each endpoint's CPU per request with a Huber regression;
    ``--median-fit`` records, per kept pair, what the median regression it
    replaced would have said on the very same periods (``pairs_median_fit``),
    so ``decision_rules.py --median-fit`` can judge both fits on identical
    rounds. Bench-only instrumentation: it wraps the suite's round merger.
    """

    def __init__(self) -> None:
        import perfgate.gate.ab.suite as suite

        self._merge = suite.merge_rounds
        self.rounds: list[tuple[float, dict[str, float]]] = []

        def merge(parts: Any) -> Any:
            record = self._merge(parts)
            self.rounds.append((record.lag_p99_ms, _median_fit(record.busy)))
            return record

        suite.merge_rounds = merge

    def pairs(self, metrics: set[str], max_lag_ms: float) -> dict[str, list[list[float | None]]]:
        """metric -> [[base, candidate], ...] over the kept pairs (rounds merge base first)."""
        out: dict[str, list[list[float | None]]] = {}
        for (lag_b, base), (lag_c, cand) in zip(self.rounds[::2], self.rounds[1::2], strict=False):
            if max(lag_b, lag_c) > max_lag_ms:
                continue
            for endpoint in sorted(set(base) | set(cand)):
                metric = f"endpoint:{endpoint} cpu_ms_per_request"
                if metric in metrics:
                    out.setdefault(metric, []).append([base.get(endpoint), cand.get(endpoint)])
        self.rounds.clear()
        return out


def _median_fit(periods: Any) -> dict[str, float]:
    from perfgate.engine import endpoint_cpu_ms
    from perfgate.stats import median_regression

    return {e: v for e, (v, _) in endpoint_cpu_ms(periods, fit=median_regression).items()}


def _burner(cpus: list[int], duty: float) -> subprocess.Popen[bytes] | None:
    if duty <= 0:
        return None
    code = (
        "import os,time\n"
        f"os.sched_setaffinity(0,{cpus!r})\n"
        "while True:\n"
        " t=time.perf_counter()\n"
        f" while time.perf_counter()-t<{0.01 * duty}: pass\n"
        f" time.sleep({0.01 * (1 - duty)})\n"
    )
    return subprocess.Popen([sys.executable, "-c", code])


def single_run(cfg: ProjectConfig, work: Path, us: int, rng: random.Random) -> float | None:
    """One history-mode run: one arm alone, on a runner with random background load."""
    import asyncio

    from perfgate.engine import run_round
    from perfgate.gate.session import ArmSession
    from perfgate.script import aimed_at

    spec = service_for(cfg, "candidate", _free_port(), Path(tempfile.mkdtemp(dir=work)))
    spec.env["PERFGATE_DEMO_CPU_US"] = str(us)
    spec.cpus = cfg.ab.arm_cpus
    burner = _burner(cfg.ab.arm_cpus, rng.uniform(0.0, 0.5))
    session = ArmSession("candidate", spec=spec, log=lambda _: None).start()
    try:
        planned = plan_suites(cfg, "pr")[0]
        assert planned.script is not None
        script = aimed_at(planned.script, session.base_url)
        total = cfg.ab.pairs * cfg.ab.round_s

        async def measure() -> Any:
            await run_round(
                "w",
                script,
                seed=1,
                rate=cfg.ab.rate or 50,
                duration_s=3,
                discard_s=3,
                initial_vars={},
                cpu=lambda: None,
            )
            return await run_round(
                "m",
                script,
                seed=2,
                rate=cfg.ab.rate or 50,
                duration_s=total,
                discard_s=0.1 * total,
                initial_vars={},
                cpu=lambda: None,
            )

        rec = asyncio.run(measure())
        hist = rec.metrics.histograms.get(f"perfgate.endpoint.total.{ROUTE}")
        return hist.quantile(0.5) if hist is not None and hist.count else None
    finally:
        session.stop()
        if burner is not None:
            burner.kill()
            burner.wait()


def summarize(path: Path) -> int:
    """The table from a ``--jsonl`` file (runs appended by any number of invocations)."""
    groups: dict[tuple[str, Any, Any, Any, Any], list[dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            # runs before round_pairs was recorded had the default 12; before
            # family and extend_pairs, the default family and one look
            pairs = f"{r.get('round_pairs', 12)}+{r.get('extend_pairs', 0)}"
            key = (r["row"], r.get("family", "default"), r.get("slices"), r.get("rate"), pairs)
            groups.setdefault(key, []).append(r)
    print(
        "| row | family | slices | rate | pairs | k/n | 95% bound | route Δ median [IQR] "
        "| pairs dropped (median) | extended | seconds (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (row, family, slices, rate, n_pairs), runs in sorted(
        groups.items(), key=lambda kv: str(kv[0])
    ):
        hits = sum(bool(r["alarm"] if row == "aa" else r["detected"]) for r in runs)
        ci = clopper_pearson(hits, len(runs), one_sided=True)
        bound = f"≤ {ci.high:.1%}" if row.endswith("aa") else f"≥ {ci.low:.1%}"
        changes = [r["route_change"] for r in runs if r.get("route_change") is not None]
        q = np.quantile(changes, [0.25, 0.5, 0.75]) if changes else None
        spread = f"{q[1]:+.1%} [{q[0]:+.1%}, {q[2]:+.1%}]" if q is not None else "—"
        drops = [r["dropped"] for r in runs if r.get("dropped") is not None]
        dropped = f"{float(np.median(drops)):g}" if drops else "—"
        extended = sum(bool(r.get("extended")) for r in runs)
        secs = [r["seconds"] for r in runs if r.get("seconds") is not None]
        took = f"{float(np.median(secs)):.0f}" if secs else "—"
        print(
            f"| {row} | {family} | {slices or '—'} | {rate or '—'} | {n_pairs} | {hits}/{len(runs)} | {bound} "
            f"| {spread} | {dropped} | {extended}/{len(runs)} | {took} |"
        )
    # Which judged metric said "regression", and what raised the false alarms.
    print()
    for (row, family, _sl, _rate, n_pairs), runs in sorted(
        groups.items(), key=lambda kv: str(kv[0])
    ):
        per_metric: dict[str, int] = {}
        for r in runs:
            for metric, c in (r.get("judged") or {}).items():
                per_metric[metric] = per_metric.get(metric, 0) + (c["state"] == "regression")
        alarms: dict[str, int] = {}
        for r in runs:
            for metric in r.get("alarms") or []:
                alarms[metric] = alarms.get(metric, 0) + 1
        judged = ", ".join(f"{m} {k}/{len(runs)}" for m, k in sorted(per_metric.items()))
        recorded = [r for r in runs if "unresolved" in r]
        unresolved = (
            f"; a possible regression (inconclusive) in "
            f"{sum(bool(r['unresolved']) for r in recorded)}/{len(recorded)}"
            if recorded
            else ""
        )
        print(
            f"- {row} ({family} family, {n_pairs} pairs): regression on {judged or '—'}; "
            f"alarms by metric {alarms}{unresolved}"
        )
    # How each judged metric moved across the runs (Hodges–Lehmann change per run).
    print()
    print(
        "| row | pairs | judged metric | runs | change median | SD | min … max | interval low, median |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (row, _family, _slices, _rate, n_pairs), runs in sorted(
        groups.items(), key=lambda kv: str(kv[0])
    ):
        for metric in JUDGED:
            seen = [
                c
                for r in runs
                if (c := (r.get("judged") or {}).get(metric)) and c.get("change") is not None
            ]
            if not seen:
                continue
            ch = np.array([c["change"] for c in seen])
            lows = [c["low"] for c in seen if c.get("low") is not None]
            sd = f"{ch.std(ddof=1):.2%}" if ch.size > 1 else "—"
            low = f"{float(np.median(lows)):+.1%}" if lows else "—"
            print(
                f"| {row} | {n_pairs} | `{metric}` | {ch.size} | {float(np.median(ch)):+.1%} | {sd} "
                f"| {ch.min():+.1%} … {ch.max():+.1%} | {low} |"
            )
    # Does the arm that started first differ? (A/A: any difference is the process's.)
    by_start: dict[tuple[str, str], list[float]] = {}
    for (row, _family, _slices, _rate, _pairs), runs in groups.items():
        if row != "aa":
            continue
        for r in runs:
            first = r.get("started_first") or "candidate (before it was drawn)"
            for metric, c in (r.get("judged") or {}).items():
                if c.get("change") is not None:
                    by_start.setdefault((first, metric), []).append(c["change"])
    if by_start:
        print()
        print("| A/A, started first | judged metric | runs | change mean ± SE |")
        print("|---|---|---|---|")
        for (first, metric), values in sorted(by_start.items()):
            v = np.array(values)
            se = f" ± {v.std(ddof=1) / np.sqrt(v.size):.2%}" if v.size > 1 else ""
            print(f"| {first} | `{metric}` | {v.size} | {v.mean():+.2%}{se} |")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=100, help="gate runs per row (default: %(default)s)")
    p.add_argument("--rows", default="aa,ab10,ab5,hist-aa,hist-ab10")
    p.add_argument("--rate", type=float, default=100.0, help="arrivals/s (default: %(default)s)")
    p.add_argument("--pairs", type=int, default=12)
    p.add_argument(
        "--extend-pairs", type=int, default=12, help="ab.extend_pairs (default: %(default)s)"
    )
    p.add_argument(
        "--family",
        choices=("default", "declared"),
        default="default",
        help="declared: the route's median and CPU are the primary family (the issue's claim)",
    )
    p.add_argument("--round", type=float, default=2.0)
    p.add_argument("--slices", type=int, default=4, help="slices per round (default: %(default)s)")
    p.add_argument("--max-lag", type=float, default=None, help="ms; default: perfgate's (1)")
    p.add_argument(
        "--jsonl", type=Path, default=None, help="append one JSON line per gate run to this file"
    )
    p.add_argument("--history", type=int, default=10, help="history points (default: %(default)s)")
    p.add_argument("--summarize", type=Path, default=None, help="print the table of a --jsonl file")
    p.add_argument(
        "--median-fit",
        action="store_true",
        help="also record each endpoint's CPU by the median regression (pairs_median_fit)",
    )
    args = p.parse_args()
    if args.summarize is not None:
        return summarize(args.summarize)
    work = Path(tempfile.mkdtemp(prefix="perfgate-detection-"))
    cfg = _config(work, args)
    rng = random.Random(0)
    probe = MedianFitProbe() if args.median_fit else None
    table: list[tuple[str, int, str, str, str]] = []
    history_points: list[float] | None = None
    for row in args.rows.split(","):
        us = ROWS[row]
        hits = 0
        notes: list[str] = []
        if row.startswith("hist"):
            if history_points is None:
                history_points = [
                    v
                    for v in (single_run(cfg, work, BASE_US, rng) for _ in range(args.history))
                    if v
                ]
            for _ in range(args.runs):
                v = single_run(cfg, work, us, rng)
                fig = Figure("load", f"endpoint:{ROUTE} total.p50", v or 0.0, "ms", 10**6)
                c = history_comparison(fig, history_points, min_effect=0.05, family="primary")
                hits += c.state == "regression"
                if args.jsonl is not None:
                    record = {
                        "row": row,
                        "alarm": c.state == "regression",
                        "detected": c.state == "regression",
                        "route_change": c.change,
                    }
                    with args.jsonl.open("a") as fh:
                        fh.write(json.dumps(record) + "\n")
        else:
            for i in range(args.runs):
                r = ab_run(cfg, work, us, probe)
                hits += r["alarm"] if row == "aa" else r["detected"]
                if args.jsonl is not None:
                    record = {
                        "row": row,
                        "slices": args.slices,
                        "rate": args.rate,
                        "round_pairs": args.pairs,
                        "extend_pairs": args.extend_pairs,
                        "family": args.family,
                        **r,
                    }
                    with args.jsonl.open("a") as fh:
                        fh.write(json.dumps(record) + "\n")
                notes.append(
                    f"{r['route_change'] or 0:+.1%}(≥{r['route_low'] or 0:+.1%})"
                    f"/{r['dropped']}d/{r['seconds']:.0f}s"
                )
                print(f"  {row} run {i + 1}: {notes[-1]}", file=sys.stderr)
        n = args.runs
        ci = clopper_pearson(hits, n, one_sided=True)
        low, high = ci.low, ci.high
        bound = f"≤ {high:.1%}" if row.endswith("aa") else f"≥ {low:.1%}"
        table.append((row, us, f"{hits}/{n}", bound, " ".join(notes[:6])))
    print(
        f"# perfgate detection — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {len(__import__('os').sched_getaffinity(0))} CPUs"
    )
    print(
        f"rate {args.rate}/s, {args.pairs} pairs × {args.round}s rounds in {args.slices} slices, "
        f"route {ROUTE}, base --cpu-us {BASE_US}"
    )
    print(
        "| row | candidate cpu-us | k/n | 95% bound | per-run route Δ / dropped pairs / seconds |"
    )
    print("|---|---|---|---|---|")
    for row_cells in table:
        print("| " + " | ".join(str(x) for x in row_cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
