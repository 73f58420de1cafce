"""Deterministic RunResults and Verdicts for the report tests.

Every value is computed from fixed arithmetic (no clocks, no randomness
beyond a seeded generator), so golden files stay byte-stable.
"""

from __future__ import annotations

import math
import random

from perfgate.metrics import MetricSet, names
from perfgate.result import BenchOperation, Check, RunResult, SchedulerStats, SuiteResult
from perfgate.verdict import MetricComparison, Verdict

EVIL_ENDPOINT = "GET /api/x|y<script>alert('pwn')</script> @admin [link](http://evil)"

# endpoint -> (requests, base latency ms, 5xx responses, transport errors)
_ENDPOINTS: dict[str, tuple[int, float, int, int]] = {
    "GET /health": (1200, 0.42, 0, 0),
    "GET /api/bounties": (900, 12.5, 3, 1),
    "POST /api/payments/intent": (300, 48.0, 0, 2),
    EVIL_ENDPOINT: (40, 3.3, 0, 0),
}

T0_MS = 1_764_151_200_000.0  # 2025-11-26T10:00:00Z


def _latencies(rng: random.Random, n: int, base: float, slow: float) -> list[float]:
    # A lognormal body and a 2% tail: realistic shape, fixed by the seed.
    out = [base * slow * math.exp(rng.gauss(0.0, 0.25)) for _ in range(n)]
    for i in range(0, n, 50):
        out[i] *= 4.0
    return out


def load_suite(
    slow: float = 1.0, name: str = "api-load", endpoints: int | None = None
) -> SuiteResult:
    rng = random.Random(1234)
    agg = MetricSet(first_ms=T0_MS, last_ms=T0_MS + 60_000)
    items = list(_ENDPOINTS.items())
    if endpoints is not None:  # many synthetic endpoints, for the size limit
        items = [
            (f"GET /api/item/{i:04d}", (20 + i % 7, 5.0 + i % 11, 0, 0)) for i in range(endpoints)
        ]
    for ep, (n, base, bad, errs) in items:
        for i, v in enumerate(_latencies(rng, n, base, slow)):
            agg.observe(names.TOTAL, v)
            agg.observe(names.endpoint_total(ep), v)
            agg.observe(names.HTTP_RESPONSE_TIME, v * 0.9)
            code = 500 if i < bad else 200
            if i >= n - errs:
                agg.incr(names.error_code("ETIMEDOUT"))
                agg.incr(names.endpoint_errors(ep, "ETIMEDOUT"))
            else:
                agg.incr(names.http_code(code))
                agg.incr(names.endpoint_codes(ep, code))
                agg.incr(names.HTTP_RESPONSES)
            agg.incr(names.HTTP_REQUESTS)
    series = []
    for s in range(60):
        wave = 1.0 + 0.2 * math.sin(s / 6.0)
        series.append(
            {
                "t": T0_MS / 1000 + s,
                "rps": round(40.0 * wave, 2),
                "p50": round(9.0 * slow * wave, 3),
                "p95": round(30.0 * slow * wave, 3),
                "p99": round(55.0 * slow * wave, 3),
                "errors": 1.0 if s % 20 == 7 else 0.0,
            }
        )
    return SuiteResult(
        name=name,
        kind="load",
        source="artillery-load-test.yml",
        started_at="2025-11-26T10:00:00+00:00",
        duration_s=60.0,
        aggregate=agg,
        series=series,
        scheduler=SchedulerStats(planned=2440, launched=2440, lag_p99_ms=0.8, lag_max_ms=3.1),
        checks=[
            Check(
                "p95 < 200 ms", "pass", 31.2, 200.0, "ms", criterion="p95 response time: < 200ms"
            ),
            Check("error rate < 1%", "pass", 0.25, 1.0, "%", criterion="Error rate: < 1%"),
        ],
        warnings=["2 arrivals launched more than 10 ms late"],
    )


def bench_suite() -> SuiteResult:
    rng = random.Random(99)
    ops = []
    for name, base, budget in (
        ("Health check", 0.41, {"p95": 10.0}),
        ("List bounties", 7.8, {"p95": 50.0, "mean": 100.0}),
        ("Create payment intent", 260.0, {"p95": 200.0, "mean": 100.0}),
    ):
        samples = [round(base * math.exp(rng.gauss(0.0, 0.1)), 4) for _ in range(100)]
        ops.append(
            BenchOperation(
                name=name, samples_ms=samples, budget=budget, failed=1 if base > 100 else 0
            )
        )
    ops.append(
        BenchOperation(name="Wallet balance", skipped_reason="setup step 'login' failed: HTTP 401")
    )
    return SuiteResult(
        name="api-bench",
        kind="bench",
        source="bench/demo-suite.yml",
        started_at="2025-11-26T10:01:05+00:00",
        duration_s=12.5,
        operations=ops,
    )


def process_monitor(leak_mb_per_s: float = 0.0) -> dict[str, object]:
    rows = []
    for s in range(0, 61, 2):
        rows.append(
            {
                "t": T0_MS / 1000 + s,
                "rss_bytes": int((80 + leak_mb_per_s * s + (s % 6)) * 1e6),
                "cpu_s": round(0.35 * s, 3),
                "cpu_pct": round(30 + 10 * math.sin(s / 5.0), 2),
            }
        )
    return {"process": rows}


def candidate_run() -> RunResult:
    return RunResult(
        run_id="run0000candidate",
        created_at="2025-11-26T10:02:00+00:00",
        tool_version="0.1.0",
        commit="0123456789abcdef0123456789abcdef01234567",
        branch="feature/faster-bounties",
        pr=42,
        profile="pr",
        label="candidate",
        environment={
            "cpu_model": "AMD EPYC 7763 64-Core Processor",
            "cores": 2,
            "memory_gb": 7.8,
            "os": "Linux 6.1 (Debian 12)",
            "python": "3.11.9",
            "perfgate": "0.1.0",
            "runner": {"name": "GitHub Actions 12", "image": "ubuntu-24.04"},
        },
        config_hash="cafebabe",
        suites=[load_suite(), bench_suite()],
        monitor=process_monitor(),
        checks=[
            Check("no crashes", "pass", 0, 0, "", criterion="No crashes or unhandled errors"),
            Check(
                "memory slope",
                "inconclusive",
                0.4,
                1.0,
                "MB/min",
                detail="steady phase too short (30 s)",
            ),
        ],
    )


def baseline_run() -> RunResult:
    run = candidate_run()
    run.run_id = "run00000baseline"
    run.commit = "fedcba9876543210fedcba9876543210fedcba98"
    run.branch = "main"
    run.pr = None
    run.label = "base"
    run.suites = [load_suite(slow=0.9), bench_suite()]
    return run


def regression_verdict() -> Verdict:
    return Verdict(
        state="regression",
        reasons=[
            "api-load: endpoint:GET /api/bounties total.median +11.2% [+8.0%, +14.5%] beyond the 5% minimum effect",
            "api-load: cpu_ms_per_request +9.0%",
            "api-bench: Create payment intent p95 over budget",
        ],
        mode="ab",
        comparisons=[
            MetricComparison(
                "api-load",
                "endpoint:GET /api/bounties total.median",
                "ms",
                "primary",
                11.3,
                12.56,
                0.112,
                0.080,
                0.145,
                0.001,
                0.004,
                0.05,
                12,
                "regression",
                "ab",
            ),
            MetricComparison(
                "api-load",
                "endpoint:GET /health total.median",
                "ms",
                "primary",
                0.41,
                0.43,
                0.049,
                -0.08,
                0.19,
                0.4,
                0.8,
                0.05,
                12,
                "insufficient",
                "ab",
                "sub-millisecond route",
            ),
            MetricComparison(
                "api-load",
                "total.p95",
                "ms",
                "primary",
                30.1,
                29.5,
                -0.02,
                -0.06,
                0.03,
                0.5,
                1.0,
                0.15,
                12,
                "within-noise",
                "ab",
            ),
            MetricComparison(
                "api-load",
                "error_rate",
                "ratio",
                "primary",
                0.002,
                0.0025,
                0.0005,
                -0.002,
                0.003,
                0.6,
                1.0,
                0.5,
                12,
                "within-noise",
                "ab",
            ),
            MetricComparison(
                "api-load",
                f"endpoint:{EVIL_ENDPOINT} total.median",
                "ms",
                "info",
                None,
                3.3,
                None,
                None,
                None,
                None,
                None,
                None,
                12,
                "new",
                "ab",
            ),
            MetricComparison(
                "api-load",
                "endpoint:POST /api/payments/intent total.median",
                "ms",
                "info",
                52.0,
                48.1,
                -0.075,
                -0.11,
                -0.04,
                0.01,
                None,
                0.05,
                12,
                "improvement",
                "ab",
            ),
        ],
        slo_checks=[
            Check(
                "p99 < 500 ms", "pass", 61.0, 500.0, "ms", criterion="p99 response time: < 500ms"
            ),
            Check("bench budget: Create payment intent p95", "fail", 301.2, 200.0, "ms"),
        ],
        warnings=["2 pairs dropped: scheduler lag p99 over 1 ms"],
        exit_code=1,
        details={"pairs": 12, "seed": 7, "pairs_dropped": 2},
    )


def pass_verdict() -> Verdict:
    return Verdict(state="pass", mode="history", details={"history_points": 14})


# -- A/B: what the gate keeps in the verdict's details for the report's pictures --------

AB_ROUTE = "GET /api/bounties"
_Q = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999)
_Z = (-2.326, -1.645, -1.282, -0.674, 0.0, 0.674, 1.282, 1.645, 2.326, 3.09)


def _dist(median: float, n: int) -> dict[str, object]:
    return {"n": n, "values": [round(median * math.exp(0.3 * z), 4) for z in _Z]}


def ab_details(route_slow: float = 1.0, pairs: int = 12, dropped: int = 0) -> dict[str, object]:
    """A/B details as ``gate._ab_suite`` writes them: rounds over time, pairs, distributions."""
    rng = random.Random(7)
    rounds, rows = [], []
    primary: dict[str, list[list[float]]] = {"total.p50": [], f"endpoint:{AB_ROUTE} total.p50": []}
    t = 4.0
    for p in range(pairs):
        order = ("base", "candidate") if p % 2 == 0 else ("candidate", "base")
        is_dropped = p < dropped
        for k in range(2):
            for arm in order if k == 0 else order[::-1]:
                slow = route_slow if arm == "candidate" else 1.0
                wave = 1.0 + 0.05 * math.sin(t / 5.0) + rng.gauss(0.0, 0.01)
                rounds.append(
                    {
                        "arm": arm,
                        "pair": p,
                        "slice": k,
                        "t": round(t, 3),
                        "elapsed_s": 1.05,
                        "measured_s": 0.9,
                        "requests": 72,
                        "errors": 1 if (p + k) % 7 == 3 else 0,
                        "p50": round(2.1 * slow * wave, 3),
                        "p95": round(6.3 * slow * wave, 3),
                        "p99": round(11.0 * slow * wave, 3),
                        "lag_p99_ms": round(1.4 if is_dropped else 0.3 + 0.02 * k, 3),
                    }
                )
                t += 1.1
        rows.append(
            {"pair": p, "dropped": "scheduler lag p99 1.40 ms > 1 ms" if is_dropped else None}
        )
        if not is_dropped:
            for metric, base in (("total.p50", 2.1), (f"endpoint:{AB_ROUTE} total.p50", 12.5)):
                noise = math.exp(rng.gauss(0.0, 0.015))
                slow = route_slow if metric.startswith("endpoint:") else 1.0 + (route_slow - 1) / 3
                primary[metric].append([round(base, 4), round(base * slow * noise, 4)])
    suite = {
        "rate": 80.0,
        "rate_reason": "ab.rate",
        "pairs_planned": pairs,
        "pairs_used": pairs - dropped,
        "pairs_dropped": dropped,
        "round_s": 2.0,
        "slices": 2,
        "pairs": rows,
        "primary_pairs": primary,
        "wall_s": round(t + 2.0, 1),
        "trace": {
            "rounds": rounds,
            "warmup_s": [0.5, 3.9],
            "latency": {
                "q": list(_Q),
                "rounds": "kept",
                "base": {
                    **_dist(2.1, 2592),
                    "endpoints": {AB_ROUTE: _dist(12.5, 900), "GET /health": _dist(0.42, 1200)},
                },
                "candidate": {
                    **_dist(2.1 * (1 + (route_slow - 1) / 3), 2590),
                    "endpoints": {
                        AB_ROUTE: _dist(12.5 * route_slow, 899),
                        "GET /health": _dist(0.42, 1201),
                    },
                },
            },
        },
    }
    process = {
        arm: [
            [round(s * 0.5, 3), round(80 + (3 if arm == "candidate" else 0) + (s % 6) * 0.2, 2),
             round(35 + 10 * math.sin(s / (4.0 if arm == "base" else 5.0)), 1)]
            for s in range(0, int(t * 2))
        ]
        for arm in ("base", "candidate")
    }  # fmt: skip
    return {
        "seed": 7,
        "rate": 80.0,
        "pairs_used": pairs - dropped,
        "pairs_dropped": dropped,
        "suites": {"api-load": suite},
        "process": process,
        "measure_s": round(t + 10.0, 1),
    }


def ab_run() -> RunResult:
    """The candidate's record of an A/B run: the kept rounds merged, no per-second series."""
    run = candidate_run()
    load = load_suite()
    load.kind = "ab"
    load.series = []
    load.duration_s = 21.6  # measured seconds per arm: the kept rounds
    load.source = "/home/runner/work/app/app/perf/artillery-load-test.yml"
    load.warnings = []
    run.suites = [load, bench_suite()]
    run.checks = []
    return run


def _cmp(
    metric: str,
    family: str,
    base: float,
    change: float,
    ci: tuple[float, float],
    state: str,
    unit: str = "ms",
    p: float | None = None,
    detail: str = "",
) -> MetricComparison:
    return MetricComparison(
        "api-load", metric, unit, family,  # type: ignore[arg-type]
        base=base, candidate=base * (1 + change) if unit != "ratio" else base + change,
        change=change, ci_low=ci[0], ci_high=ci[1], p_value=p, p_adjusted=p,
        min_effect=0.005 if unit == "ratio" else 0.05, samples=12, state=state,  # type: ignore[arg-type]
        method="ab", detail=detail,
    )  # fmt: skip


def _ab_comparisons(route: MetricComparison) -> list[MetricComparison]:
    out = [
        _cmp("total.p50", "primary", 2.1, 0.004, (-0.01, 0.02), "within-noise", p=1.0),
        _cmp("total.p95", "primary", 6.3, -0.012, (-0.05, 0.03), "within-noise", p=1.0),
        _cmp("error_rate", "primary", 0.002, 0.0001, (-0.002, 0.002), "within-noise", "ratio", 0.9),
        _cmp("cpu_ms_per_request", "primary", 0.83, -0.009, (-0.02, 0.004), "within-noise", "ms/req", 1.0),
        route,
        _cmp("endpoint:GET /health cpu_ms_per_request", "primary", 0.21, 0.01, (-0.02, 0.03), "within-noise", "ms/req", 1.0),
    ]  # fmt: skip
    for i, ep in enumerate(("GET /health", "POST /api/payments/intent", EVIL_ENDPOINT)):
        out.append(
            _cmp(
                f"endpoint:{ep} total.p95", "info", 5.0 + i, 0.01 * i, (-0.04, 0.05), "within-noise"
            )
        )
        out.append(
            _cmp(f"endpoint:{ep} total.p99", "info", 9.0 + i, 0.0, (0.0, 0.0), "insufficient")
        )
        out[-1].change = out[-1].ci_low = out[-1].ci_high = None
        out[-1].detail = "3 usable round pairs < 6"
    return out  # fmt: skip


def _ab_verdict(
    state: str,
    reasons: list[str],
    route: MetricComparison,
    exit_code: int,
    route_slow: float,
    inconclusive: list[str] | None = None,
) -> Verdict:
    details = ab_details(route_slow)
    details["inconclusive"] = inconclusive or []
    return Verdict(
        state=state,  # type: ignore[arg-type]
        reasons=reasons,
        mode="ab",
        comparisons=_ab_comparisons(route),
        slo_checks=[
            Check("load total p95 < 200 ms", "pass", 6.3, 200.0, "ms", suite="api-load"),
            Check("load error rate < 1.0%", "pass", 0.002, 0.01, "ratio", suite="api-load"),
        ],
        exit_code=exit_code,
        details=details,
    )  # fmt: skip


def ab_pass_verdict() -> Verdict:
    route = _cmp(
        f"endpoint:{AB_ROUTE} total.p50",
        "primary",
        12.5,
        0.006,
        (-0.012, 0.021),
        "within-noise",
        p=1.0,
    )
    return _ab_verdict("pass", ["6 primary metrics within noise, 2 checks passed"], route, 0, 1.0)  # fmt: skip


def ab_regression_verdict() -> Verdict:
    route = _cmp(f"endpoint:{AB_ROUTE} total.p50", "primary", 12.5, 0.112, (0.08, 0.145), "regression", p=0.0029)  # fmt: skip
    return _ab_verdict(
        "regression",
        [f"api-load: endpoint:{AB_ROUTE} total.p50 +11.2%, 95% CI +8.0%…+14.5%"],
        route, 1, 1.112,
    )  # fmt: skip


def ab_inconclusive_verdict() -> Verdict:
    route = _cmp(f"endpoint:{AB_ROUTE} total.p50", "primary", 12.5, 0.062, (0.031, 0.094), "unresolved", p=0.21,
                 detail="slower (p=0.003 after Holm), but its 95% interval reaches past the 5% minimum effect")  # fmt: skip
    reason = (
        f"possible regression, undecided in 12 round pairs: api-load: endpoint:{AB_ROUTE} total.p50 "
        "+6.2%, 95% CI +3.1%…+9.4% reaches past the 5% minimum effect"
    )
    return _ab_verdict("inconclusive", [reason], route, 0, 1.062, [reason])
