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
