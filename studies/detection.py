"""The headline proof: how often does the A/B gate cry wolf, how often does it catch a regression?

Setup (every row): the demo API on both arms, started with ``--route
/api/bounties`` and ``PERFGATE_DEMO_CPU_US=2000`` (2 ms of handler CPU on the
bounty list; the flag scopes every latency, CPU and serialize fault to that
route prefix, ``/api/bounties/{id}`` included, and a flag wins over its
``PERFGATE_DEMO_ROUTE`` variable), the seed's load script at ``--rate``
arrivals/s, the ``--profile`` profile's plan (default ``pr``, what ``perfgate
gate`` runs on a pull request). The candidate's environment adds the row's
fault switches (``PERFGATE_DEMO_*``, ``perfgate demo-api --help``):

* ``aa``         — nothing: the same build against itself (false alarms).
* ``ab10``       — ``PERFGATE_DEMO_CPU_US=2200``: +10% of the route's injected CPU work.
* ``ab10-route`` — ``PERFGATE_DEMO_CPU_US=2266``: +10% of the route's *measured*
  CPU per request (2.66 ms on the 2-vCPU VM of docs/detection.md), where
  ``ab10`` moves the judged metrics by only ~7.5%. A point on the power curve.
* ``ab5``        — ``PERFGATE_DEMO_CPU_US=2100`` (+5%); a 5% minimum effect
  catches under half of true 5% changes by construction.
* ``tail``       — ``PERFGATE_DEMO_LATENCY_MS=30 PERFGATE_DEMO_TAIL_FRACTION=0.03
  PERFGATE_DEMO_ROUTE=/api/bounties``: 3% of the route's requests 30 ms slower
  (the route variable restates what the start command's flag already does).
* ``capacity``   — ``PERFGATE_DEMO_SERIALIZE_MS=2 PERFGATE_DEMO_SERIALIZE_ROUTE=/``:
  one global lock held across a 2 ms await on every route (the lock's own
  scope; the base's CPU work stays on the route): capacity at most 500
  requests/s, where the rounds run at 100 arrivals/s. The warm-up capacity of
  each arm is recorded (``capacity``).
* ``leak``       — ``PERFGATE_DEMO_LEAK_KB=2``: 2 KiB retained per request, on
  every route (the leak has no route scope).
* ``hist-aa`` / ``hist-ab10`` — history mode beside it: each run alone on a
  "different runner" (random background CPU load on the arms' CPU, 0–50%),
  the candidate against the prediction interval of ``--history`` such base runs.

A run **fails** when the gate's own verdict is "regression": the outcome of
``run_ab`` goes through ``perfgate.gate.run.judge``, as in ``perfgate gate``
(Holm over the gated families, "primary" and "secondary", at the look's
level). The SLO checks judge computes do not count (a regression outranks
them; an SLO-only failure is recorded as ``slo_breaches``, not counted). On
an ``aa`` row a fail is a false alarm, on every other row a detection. Each
run also records which gated metrics regressed, every compared metric's 95%
interval and whether it excludes 0 (the A/A goal: at most 6% of runs per
metric), its minimum effect and unadjusted p-values (from 2026-12-07 on),
and the gate's wall time (both arms' start to the verdict).

``--family declared`` makes the route's latency median and CPU per request the
primary family (``compare.primary``; the issue's claim), ``default`` leaves the
family to the gate. ``--extend-pairs`` is ``ab.extend_pairs`` (0: one look).
``--launches N`` writes ``ab.launches: N`` (replicate processes per arm; only
when given, for the perfgate versions that have the key).

Each run appends one JSON line to ``--jsonl`` with the code's commit
(``git rev-parse --short HEAD``, ``-dirty`` with uncommitted changes under
src/ or studies/) and a ``design`` dict (both arms' environment, profile,
family, rate, pairs, extend_pairs, round, slices, and max_lag/launches when
given). ``--summarize`` prints k/n per row and design (never pooled across
designs), the one-sided Clopper–Pearson 95% bound (upper for ``aa``, lower for
detections), median and p90 gate seconds, and for ``aa`` the per-metric
"interval excludes 0" k/n with its upper bound. Lines written before designs
were recorded keep their own criterion (any primary regression / a judged
metric) under a "legacy" design. One gate run at a time, rows alternating::

    python studies/detection.py --runs 1 --rows aa       --jsonl runs.jsonl   # false alarms
    python studies/detection.py --runs 1 --rows ab10     --jsonl runs.jsonl   # +10% route CPU
    python studies/detection.py --runs 1 --rows ab5      --jsonl runs.jsonl   # +5% route CPU
    python studies/detection.py --runs 1 --rows tail     --jsonl runs.jsonl   # 3% of the route +30 ms
    python studies/detection.py --runs 1 --rows capacity --jsonl runs.jsonl   # a global 2 ms lock
    python studies/detection.py --runs 1 --rows leak     --jsonl runs.jsonl   # 2 KiB kept per request
    python studies/detection.py --summarize runs.jsonl   # the table of all appended runs

    python studies/detection.py --runs 100 --rows aa,ab10,ab5,tail,capacity,leak  # the issue's table (~hours)
    python studies/detection.py --runs 1 --rows ab10 --family declared --jsonl runs.jsonl
    python studies/detection.py --runs 1 --rows aa --launches 2 --jsonl runs.jsonl
    python studies/detection.py --runs 4 --rows hist-aa,hist-ab10 --jsonl runs.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import binom

import perfgate
from perfgate.config import ProjectConfig, load_project_text
from perfgate.figures import Figure
from perfgate.gate.ab.run import AbOutcome, run_ab
from perfgate.gate.compare import history_comparison
from perfgate.gate.plan import plan_suites
from perfgate.gate.run import Measured, judge
from perfgate.stats import clopper_pearson
from perfgate.target import service_for
from perfgate.verdict import GATED_FAMILIES, MetricComparison, Verdict
from provenance import code_commit

ROUTE = "/api/bounties"
JUDGED = (
    f"endpoint:{ROUTE} total.p50",
    f"endpoint:{ROUTE} cpu_ms_per_request",
    "cpu_ms_per_request",
)
BASE_US = 2000
#: Both arms' environment (the start command adds ``--route ROUTE``).
BASE_ENV = {"PERFGATE_DEMO_CPU_US": str(BASE_US)}
#: row -> what the candidate's environment sets on top of BASE_ENV
ROWS: dict[str, dict[str, str]] = {
    "aa": {},
    "ab10": {"PERFGATE_DEMO_CPU_US": "2200"},
    "ab10-route": {"PERFGATE_DEMO_CPU_US": "2266"},
    "ab5": {"PERFGATE_DEMO_CPU_US": "2100"},
    "tail": {
        "PERFGATE_DEMO_LATENCY_MS": "30",
        "PERFGATE_DEMO_TAIL_FRACTION": "0.03",
        "PERFGATE_DEMO_ROUTE": ROUTE,
    },
    "capacity": {"PERFGATE_DEMO_SERIALIZE_MS": "2", "PERFGATE_DEMO_SERIALIZE_ROUTE": "/"},
    "leak": {"PERFGATE_DEMO_LEAK_KB": "2"},
    "hist-aa": {},
    "hist-ab10": {"PERFGATE_DEMO_CPU_US": "2200"},
}
#: The per-metric "interval excludes 0" rate an A/A row should stay under.
AA_EXCLUDES_0_GOAL = 0.06


def _false_alarm_row(row: str) -> bool:
    """Rows whose hits are false alarms (upper bound); the rest count detections."""
    return row.endswith("aa")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def design(args: argparse.Namespace, row: str) -> dict[str, Any]:
    """Everything that defines a run's design, except the code's commit."""
    out: dict[str, Any] = {
        "route": ROUTE,
        "base_env": dict(BASE_ENV),
        "candidate_env": {**BASE_ENV, **ROWS[row]},
        "profile": args.profile,
        "family": args.family,
        "rate": args.rate,
        "pairs": args.pairs,
        "extend_pairs": args.extend_pairs,
        "round": args.round,
        "slices": args.slices,
    }
    if args.max_lag is not None:
        out["max_lag"] = args.max_lag
    if args.launches is not None:
        out["launches"] = args.launches
    if args.median_fit:
        out["median_fit"] = True
    if row.startswith("hist"):
        out["history"] = args.history
    return out


def _config(work: Path, args: argparse.Namespace) -> ProjectConfig:
    script = work / "artillery-load-test.yml"
    if not script.exists():
        seed = Path(perfgate.__file__).parent / "data" / "seed"
        for name in ("artillery-load-test.yml", "artillery-processor.js"):
            (work / name).write_bytes((seed / name).read_bytes())
    lag = f"\n  max_lag: {args.max_lag}" if args.max_lag is not None else ""
    launches = f"\n  launches: {args.launches}" if args.launches is not None else ""
    declared = ", ".join(f'"{m}"' for m in JUDGED[:2])
    # "declared": the route's two metrics are the whole core (the issue's claim;
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
  slices: {args.slices}{lag}{launches}{family}
"""
    return load_project_text(text, work)


def gate_verdict(cfg: ProjectConfig, out: AbOutcome, *, strict: bool) -> Verdict:
    """The verdict ``perfgate gate`` gives this outcome: :func:`perfgate.gate.run.judge`
    on what its A/B measurement hands it (``_measure_ab``), without a history store."""
    base = out.base if out.base.suites else None
    measured = Measured(
        mode="history" if base is None and not out.errors else "ab",
        run=out.candidate,
        base=base,
        comparisons=list(out.comparisons),
        errors=list(out.errors),
        inconclusive=list(out.inconclusive),
        warnings=list(out.warnings),
        details=dict(out.details),
        interrupted=bool(out.details.get("interrupted", False)),
    )
    return judge(cfg, measured, None, strict=strict)


def _excludes_0(c: MetricComparison) -> bool | None:
    if c.ci_low is None or c.ci_high is None:
        return None
    return c.ci_low > 0 or c.ci_high < 0


def ab_run(
    cfg: ProjectConfig,
    work: Path,
    env: dict[str, str],
    probe: MedianFitProbe | None = None,
    *,
    profile: str = "pr",
) -> dict[str, Any]:
    """One gate run: both arms, the rounds, the verdict; the record of one JSON line."""
    planned = plan_suites(cfg, profile)
    t0 = time.monotonic()
    specs = {}
    for arm, arm_env in (("base", BASE_ENV), ("candidate", {**BASE_ENV, **env})):
        spec = service_for(cfg, arm, _free_port(), Path(tempfile.mkdtemp(dir=work)))
        spec.env.update(arm_env)
        specs[arm] = spec
    out = run_ab(
        cfg, planned, base_spec=specs["base"], candidate_spec=specs["candidate"], log=lambda _: None
    )
    verdict = gate_verdict(cfg, out, strict=cfg.profiles[profile].strict)
    seconds = time.monotonic() - t0
    comparisons = verdict.comparisons
    gated = [c for c in comparisons if c.family in GATED_FAMILIES]
    primary = [c for c in comparisons if c.family == "primary"]
    judged = {c.metric: c for c in primary if c.metric in JUDGED}
    load = (out.details.get("suites") or {}).get("load", {})
    record = {
        # the gate's wall time: both arms' start to the verdict
        "seconds": seconds,
        "verdict": verdict.state,
        "exit_code": verdict.exit_code,
        # the criterion: the gate's own verdict is "regression" (SLOs not counted)
        "fails": verdict.state == "regression",
        "reasons": verdict.reasons,
        "regressed": [c.metric for c in gated if c.state == "regression"],
        "inconclusive": verdict.details.get("inconclusive") or [],
        "slo_breaches": [
            c.name for c in verdict.slo_checks if c.status == "fail" and not c.pre_existing
        ],
        # every compared metric: its family, state and 95% interval of the change
        "metrics": {
            c.metric: {
                "family": c.family,
                "state": c.state,
                "change": c.change,
                "low": c.ci_low,
                "high": c.ci_high,
                "excludes_0": _excludes_0(c),
                # what the verdict held it to, and its unadjusted p-values of "beyond
                # that" and of "slower at all" (to re-judge other rules offline: what
                # asks for a second look, say)
                "min_effect": c.min_effect,
                "p": c.p_value,
                "p_slower": c.p_slower,
            }
            for c in comparisons
        },
        # the earlier designs' criteria, kept for comparison with their files:
        # any primary regression (false alarm), a judged metric's (detection)
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
        "errors": verdict.reasons if verdict.state == "error" else [],
        "dropped": out.details.get("pairs_dropped"),
        # the second look: why the first could not decide (None: it could)
        "extended": load.get("extended"),
        "pairs_run": load.get("pairs_planned"),
        # spare pairs run in place of those dropped for lag (ab.replace_dropped; None before)
        "replaced": load.get("pairs_replaced"),
        "started_first": out.details.get("started_first"),
        "launch_gap_s": out.details.get("launch_gap_s"),
        "seed": out.details.get("seed"),
        # every gating metric's per-pair (base, candidate) figures: other decision
        # rules can be judged on the very same runs (studies/decision_rules.py)
        "primary": {c.metric: c.p_value for c in primary if c.p_value is not None},
        "pairs": load.get("primary_pairs"),
        # each arm's warm-up capacity (arrivals/s): the capacity row's other effect
        "capacity": load.get("capacity"),
        # the launch each kept pair ran in (the order of "pairs"), each launch's
        # peak RSS and warm-up capacity, and the saturated pairs: the launch-level
        # variance and the choice of ab.launches are read off these
        # (studies/launch_variance.py --tradeoff)
        "pair_launches": [
            row.get("launch") for row in load.get("pairs") or [] if row.get("dropped") is None
        ],
        "launches": load.get("launches"),
        "capacity_pairs": load.get("capacity_pairs"),
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


class HistogramProbe:
    """Keeps the final look's per-pair latency histograms of every subject (the suite and
    each endpoint, both arms, kept pairs), for ``studies/tail_statistics.py`` to re-judge
    other tail statistics on the very same rounds. Bench-only instrumentation: it wraps
    the tail-exceedance series, which every look computes from exactly those pairs."""

    def __init__(self, path: Path) -> None:
        import perfgate.gate.ab.stats as stats

        self.path = path
        self.last: list[dict[str, Any]] | None = None
        series = stats.exceedance_series

        def wrapped(pairs: Any, margin: Any = None) -> Any:
            self.last = [
                {
                    arm: {s: h.to_dict() for s, h in stats._histograms(p.metrics[arm]).items()}
                    for arm in ("base", "candidate")
                }
                | {"launch": p.launch, "index": p.index}
                for p in pairs
                if p.dropped is None and p.metrics is not None
            ]
            return series(pairs, margin)

        stats.exceedance_series = wrapped

    def write(self, env: dict[str, str], record: dict[str, Any]) -> None:
        """One gzip JSON line: the run's candidate environment, verdict, seed and pairs."""
        line = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "env": env,
            "verdict": record["verdict"],
            "seed": record.get("seed"),
            "pairs": self.last,
        }
        with gzip.open(self.path, "at") as f:
            f.write(json.dumps(line) + "\n")
        self.last = None


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


def single_run(
    cfg: ProjectConfig, work: Path, env: dict[str, str], rng: random.Random, profile: str = "pr"
) -> float | None:
    """One history-mode run: one arm alone, on a runner with random background load."""
    import asyncio

    from perfgate.engine import run_round
    from perfgate.gate.session import ArmSession
    from perfgate.script import aimed_at

    spec = service_for(cfg, "candidate", _free_port(), Path(tempfile.mkdtemp(dir=work)))
    spec.env.update({**BASE_ENV, **env})
    spec.cpus = cfg.ab.arm_cpus
    burner = _burner(cfg.ab.arm_cpus, rng.uniform(0.0, 0.5))
    session = ArmSession("candidate", spec=spec, log=lambda _: None).start()
    try:
        planned = plan_suites(cfg, profile)[0]
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


def _env_label(env: dict[str, str]) -> str:
    return " ".join(f"{k.removeprefix('PERFGATE_DEMO_')}={v}" for k, v in sorted(env.items()))


def _design_key(r: dict[str, Any]) -> tuple[str, str]:
    """(setup, candidate environment): everything that defines the run's design.

    Lines written before designs were recorded: the fields they carry (before
    round_pairs was recorded, the default 12; before family and extend_pairs,
    the default family and one look), marked legacy.
    """
    if "design" in r:
        d = dict(r["design"])
        env = d.pop("candidate_env", {})
        return json.dumps({"commit": r.get("commit"), **d}, sort_keys=True), _env_label(env)
    legacy = {
        "legacy": True,
        "family": r.get("family", "default"),
        "slices": r.get("slices"),
        "rate": r.get("rate"),
        "pairs": r.get("round_pairs", 12),
        "extend_pairs": r.get("extend_pairs", 0),
    }
    return json.dumps(legacy, sort_keys=True), "(not recorded)"


def _describe(setup: str) -> str:
    d = json.loads(setup)
    if d.pop("legacy", False):
        return (
            "legacy lines, no design recorded; counted by their own criterion (any primary "
            "regression for A/A, a judged metric's for the rest): "
            + ", ".join(f"{k} {v}" for k, v in d.items())
        )
    return ", ".join(
        f"{k} {_env_label(v) if isinstance(v, dict) else v}"
        for k, v in sorted(d.items(), key=lambda kv: kv[0] != "commit")
    )


def _hit(r: dict[str, Any]) -> bool:
    """The gate's verdict failed; legacy lines: their own criterion."""
    if "fails" in r:
        return bool(r["fails"])
    return bool(r["alarm"] if _false_alarm_row(r["row"]) else r["detected"])


def _bound(row: str, k: int, n: int) -> str:
    ci = clopper_pearson(k, n, one_sided=True)
    return f"≤ {ci.high:.1%}" if _false_alarm_row(row) else f"≥ {ci.low:.1%}"


def _quantile(values: list[float], q: float, fmt: str) -> str:
    return format(float(np.quantile(values, q)), fmt) if values else "—"


Group = tuple[str, str, str]  # (design id, row, candidate environment)


def _groups(
    paths: Sequence[Path],
) -> tuple[dict[Group, list[dict[str, Any]]], dict[str, str]]:
    """Runs by design and row, in the order of ROWS; design id -> its description.

    Several files: one design's runs are one group wherever they were appended
    (a design is its commit and setup, not its file); two designs never are."""
    ids: dict[str, str] = {}
    groups: dict[Group, list[dict[str, Any]]] = {}
    lines = [line for path in paths for line in path.read_text().splitlines()]
    for line in lines:
        if not line.strip():
            continue
        r = json.loads(line)
        setup, env = _design_key(r)
        if setup not in ids:
            prefix = "D" if "design" in r else "L"  # L: legacy lines
            ids[setup] = f"{prefix}{1 + sum(i.startswith(prefix) for i in ids.values())}"
        groups.setdefault((ids[setup], r["row"], env), []).append(r)
    order = list(ROWS)

    def rank(g: Group) -> tuple[str, int, int, str]:
        return (
            g[0][0],
            int(g[0][1:]),
            order.index(g[1]) if g[1] in order else len(order),
            g[1] + g[2],
        )

    legend = {i: _describe(setup) for setup, i in ids.items()}
    return dict(sorted(groups.items(), key=lambda kv: rank(kv[0]))), legend


def summarize(paths: Sequence[Path], top: int = 8) -> int:
    """The table from ``--jsonl`` files (runs appended by any number of invocations)."""
    groups, legend = _groups(paths)
    print("Designs (never pooled):")
    for i, text in sorted(legend.items()):
        print(f"- {i}: {text}")
    print()
    print(
        "| design | row | candidate env | k/n fails | 95% bound | errors | inconclusive "
        "| gate s median | gate s p90 | route Δ median [IQR] | pairs dropped (median) | second looks |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (did, row, env), runs in groups.items():
        counted = [r for r in runs if r.get("verdict") != "error"]
        hits = sum(_hit(r) for r in counted)
        errors = len(runs) - len(counted)
        inconclusive = sum(r.get("verdict") == "inconclusive" for r in runs)
        secs = [r["seconds"] for r in runs if r.get("seconds") is not None]
        changes = [r["route_change"] for r in runs if r.get("route_change") is not None]
        q = np.quantile(changes, [0.25, 0.5, 0.75]) if changes else None
        spread = f"{q[1]:+.1%} [{q[0]:+.1%}, {q[2]:+.1%}]" if q is not None else "—"
        drops = [r["dropped"] for r in runs if r.get("dropped") is not None]
        extended = sum(bool(r.get("extended")) for r in runs)
        print(
            f"| {did} | {row} | {env or '—'} | {hits}/{len(counted)} "
            f"| {_bound(row, hits, len(counted))} | {errors} | {inconclusive} "
            f"| {_quantile(secs, 0.5, '.0f')} | {_quantile(secs, 0.9, '.0f')} | {spread} "
            f"| {_quantile(drops, 0.5, 'g')} | {extended}/{len(runs)} |"
        )
    # Which metrics regressed (the verdict's), which primary ones (legacy lines).
    print()
    for (did, row, _env), runs in groups.items():
        new = [r for r in runs if "regressed" in r]
        key, what = ("regressed", "regressed") if new else ("alarms", "primary regressions")
        counts: dict[str, int] = {}
        for r in new or runs:
            for metric in r.get(key) or []:
                counts[metric] = counts.get(metric, 0) + 1
        n = len(new or runs)
        listed = ", ".join(
            f"`{m}` {k}/{n}" for m, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        notes = []
        recorded = [r for r in runs if "unresolved" in r]
        if recorded:
            k = sum(bool(r["unresolved"]) for r in recorded)
            notes.append(f"a primary metric unresolved in {k}/{len(recorded)}")
        breaches = [r for r in new if r.get("slo_breaches")]
        if breaches:
            notes.append(f"SLO breaches (not counted) in {len(breaches)}/{len(new)}")
        ratios = [
            cap["candidate"] / cap["base"] - 1
            for r in runs
            if (cap := r.get("capacity")) and cap.get("base") and cap.get("candidate")
        ]
        if ratios:
            notes.append(f"warm-up capacity, candidate vs base: {float(np.median(ratios)):+.1%}")
        tail = f" ({'; '.join(notes)})" if notes else ""
        print(f"- {did} {row}: {what} {listed or '—'}{tail}")
    # A/A: how often does each metric's 95% interval exclude 0? (goal: ≤ 6% of runs)
    aa = [(g, runs) for g, runs in groups.items() if g[1] == "aa"]
    if any("metrics" in r for _, runs in aa for r in runs):
        print()
        print(
            f"A/A, per metric: runs whose 95% interval excludes 0 (goal ≤ {AA_EXCLUDES_0_GOAL:.0%}; "
            f"top {top} per design)"
        )
        print()
        print(
            "| design | metric | family | excludes 0 | 95% upper bound | goal "
            "| P(≥ k at the goal's 6%) |"
        )
        print("|---|---|---|---|---|---|---|")
    for (did, _row, _env), runs in aa:
        per: dict[str, list[bool]] = {}
        family: dict[str, str] = {}
        for r in runs:
            for metric, m in (r.get("metrics") or {}).items():
                if m.get("excludes_0") is not None:
                    per.setdefault(metric, []).append(bool(m["excludes_0"]))
                    family[metric] = m.get("family", "?")
        if not per:
            continue
        ranked = sorted(per.items(), key=lambda kv: (-sum(kv[1]) / len(kv[1]), kv[0]))
        for metric, flags in ranked[:top]:
            k, n = sum(flags), len(flags)
            ci = clopper_pearson(k, n, one_sided=True)
            goal = "met" if k / n <= AA_EXCLUDES_0_GOAL else "**missed**"
            p_goal = float(binom.sf(k - 1, n, AA_EXCLUDES_0_GOAL))
            print(
                f"| {did} | `{metric}` | {family[metric]} | {k}/{n} | ≤ {ci.high:.1%} | {goal} "
                f"| {p_goal:.2g} |"
            )
        rest = ranked[top:]
        with_metrics = [r for r in runs if r.get("metrics")]
        anywhere = sum(
            any(m.get("excludes_0") for m in r["metrics"].values()) for r in with_metrics
        )
        worst = max((sum(f) / len(f) for _, f in rest), default=0.0)
        print(
            f"| {did} | {len(rest)} more metrics, each at most {worst:.0%}; any metric: "
            f"{anywhere}/{len(with_metrics)} runs | | | | | |"
        )
        # The worst of M metrics is a maximum: at k/n it is expected somewhere even when
        # every metric is calibrated. The pooled rate and a Bonferroni bar say whether
        # one metric's rate is evidence (the metrics of a run are correlated: pooled k/N
        # is a rate, its bound is not exact).
        flat = [f for _, flags in ranked for f in flags]
        pooled = clopper_pearson(sum(flat), len(flat), one_sided=True)
        bar = 0.05 / len(ranked)
        above = [m for m, f in ranked if binom.sf(sum(f) - 1, len(f), AA_EXCLUDES_0_GOAL) < bar]
        print(
            f"| {did} | pooled over {len(ranked)} metrics: {sum(flat)}/{len(flat)} "
            f"(≤ {pooled.high:.1%}); above the goal at 0.05/{len(ranked)}: "
            f"{', '.join(f'`{m}`' for m in above) or 'none'} | | | | | |"
        )
    # How each judged metric moved across the runs (Hodges–Lehmann change per run).
    print()
    print(
        "| design | row | judged metric | runs | change median | SD | min … max | interval low, median |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (did, row, _env), runs in groups.items():
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
                f"| {did} | {row} | `{metric}` | {ch.size} | {float(np.median(ch)):+.1%} | {sd} "
                f"| {ch.min():+.1%} … {ch.max():+.1%} | {low} |"
            )
    # Does the arm that started first differ? (A/A: any difference is the process's.)
    by_start: dict[tuple[str, str, str], list[float]] = {}
    for (did, _row, _env), runs in aa:
        for r in runs:
            first = r.get("started_first") or "candidate (before it was drawn)"
            for metric, c in (r.get("judged") or {}).items():
                if c.get("change") is not None:
                    by_start.setdefault((did, first, metric), []).append(c["change"])
    if by_start:
        print()
        print("| design | A/A, started first | judged metric | runs | change mean ± SE |")
        print("|---|---|---|---|---|")
        for (did, first, metric), values in sorted(by_start.items()):
            v = np.array(values)
            se = f" ± {v.std(ddof=1) / np.sqrt(v.size):.2%}" if v.size > 1 else ""
            print(f"| {did} | {first} | `{metric}` | {v.size} | {v.mean():+.2%}{se} |")
    return 0


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=100, help="gate runs per row (default: %(default)s)")
    p.add_argument(
        "--rows",
        default="aa,ab10,ab5,tail,capacity,leak",
        help=f"comma-separated, of {', '.join(ROWS)} (default: %(default)s)",
    )
    p.add_argument(
        "--profile", default="pr", help="the profile whose plan is run (default: %(default)s)"
    )
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
        "--launches",
        type=int,
        default=None,
        help="ab.launches: replicate processes per arm (written only when given)",
    )
    p.add_argument(
        "--jsonl", type=Path, default=None, help="append one JSON line per gate run to this file"
    )
    p.add_argument("--history", type=int, default=10, help="history points (default: %(default)s)")
    p.add_argument(
        "--summarize",
        type=Path,
        nargs="+",
        default=None,
        help="print the table of --jsonl files (a design's runs grouped across them)",
    )
    p.add_argument(
        "--histograms",
        type=Path,
        default=None,
        help="append each run's per-pair latency histograms to this gzip JSON-lines file "
        "(studies/tail_statistics.py re-judges tail statistics on them)",
    )
    p.add_argument(
        "--median-fit",
        action="store_true",
        help="also record each endpoint's CPU by the median regression (pairs_median_fit)",
    )
    args = p.parse_args()
    if args.summarize is not None:
        return summarize(args.summarize)
    rows = args.rows.split(",")
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        p.error(f"unknown rows {unknown} (known: {', '.join(ROWS)})")
    work = Path(tempfile.mkdtemp(prefix="perfgate-detection-"))
    cfg = _config(work, args)
    commit = code_commit()
    rng = random.Random(0)
    probe = MedianFitProbe() if args.median_fit else None
    histograms = HistogramProbe(args.histograms) if args.histograms else None
    table: list[tuple[str, str, str, str, str]] = []
    history_points: list[float] | None = None

    def append(row: str, record: dict[str, Any]) -> None:
        if args.jsonl is None:
            return
        line = {
            "row": row,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "commit": commit,
            "host": platform.node(),
            "python": platform.python_version(),
            "design": design(args, row),
            # the fields studies/decision_rules.py and legacy summaries read
            "slices": args.slices,
            "rate": args.rate,
            "round_pairs": args.pairs,
            "extend_pairs": args.extend_pairs,
            "family": args.family,
            **record,
        }
        with args.jsonl.open("a") as fh:
            fh.write(json.dumps(line) + "\n")

    for row in rows:
        env = ROWS[row]
        hits = 0
        notes: list[str] = []
        if row.startswith("hist"):
            if history_points is None:
                history_points = [
                    v
                    for v in (
                        single_run(cfg, work, {}, rng, args.profile) for _ in range(args.history)
                    )
                    if v
                ]
            for _ in range(args.runs):
                t0 = time.monotonic()
                v = single_run(cfg, work, env, rng, args.profile)
                fig = Figure("load", f"endpoint:{ROUTE} total.p50", v or 0.0, "ms", 10**6)
                c = history_comparison(fig, history_points, min_effect=0.05, family="primary")
                hits += c.state == "regression"
                append(
                    row,
                    {
                        "seconds": time.monotonic() - t0,
                        "fails": c.state == "regression",
                        "alarm": c.state == "regression",
                        "detected": c.state == "regression",
                        "route_change": c.change,
                    },
                )
        else:
            for i in range(args.runs):
                r = ab_run(cfg, work, env, probe, profile=args.profile)
                if histograms is not None:
                    histograms.write(env, r)
                hits += r["fails"]
                append(row, r)
                notes.append(
                    f"{r['verdict']} {r['route_change'] or 0:+.1%}(≥{r['route_low'] or 0:+.1%})"
                    f"/{r['dropped']}d/{r['seconds']:.0f}s"
                )
                regressed = ", ".join(r["regressed"]) or "—"
                print(
                    f"  {row} run {i + 1}: {notes[-1]}; regressed: {regressed}",
                    file=sys.stderr,
                    flush=True,
                )
        n = args.runs
        table.append(
            (
                row,
                _env_label({**BASE_ENV, **env}),
                f"{hits}/{n}",
                _bound(row, hits, n),
                " ".join(notes[:6]),
            )
        )
    print(
        f"# perfgate detection — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} CPUs, "
        f"commit {commit}"
    )
    print(
        f"profile {args.profile}, rate {args.rate}/s, {args.pairs}+{args.extend_pairs} pairs × "
        f"{args.round}s rounds in {args.slices} slices, route {ROUTE}, base {_env_label(BASE_ENV)}"
        + (f", launches {args.launches}" if args.launches is not None else "")
    )
    print(
        "| row | candidate env | k/n (gate fails) | 95% bound | per-run verdict route Δ / dropped pairs / seconds |"
    )
    print("|---|---|---|---|---|")
    for row_cells in table:
        print("| " + " | ".join(str(x) for x in row_cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
