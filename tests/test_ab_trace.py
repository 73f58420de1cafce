"""What A/B keeps for the report's pictures: rows on one clock, distributions, RSS/CPU per arm."""

from __future__ import annotations

import json
from dataclasses import dataclass

from perfgate.engine import RoundRecord
from perfgate.engine.scheduler import LagTracker
from perfgate.gate.ab.trace import (
    ECDF_QUANTILES,
    MAX_PROCESS_ROWS,
    AbTrace,
    arm_process_rows,
    latency_quantiles,
)
from perfgate.metrics import names
from perfgate.metrics.metricset import MetricSet


@dataclass
class _Session:
    t0: float


def _round(arm: str, latencies: list[float], lag_ms: float = 0.2) -> RoundRecord:
    m = MetricSet()
    for v in latencies:
        m.observe(names.TOTAL, v)
        m.observe(names.endpoint_total("GET /x"), v)
        m.incr(names.HTTP_REQUESTS)
        m.incr(names.http_code(200))
        m.incr(names.endpoint_codes("GET /x", 200))
    lag = LagTracker()
    lag.record(lag_ms)
    return RoundRecord(
        arm=arm, metrics=m, requests_all=len(latencies), requests_measured=len(latencies),
        cpu_s=None, lag=lag, measured_s=0.8, elapsed_s=1.0,
    )  # fmt: skip


def test_rows_on_the_ab_clock_and_the_distributions() -> None:
    trace = AbTrace(origin=100.0, warmup=[100.5, 103.0])
    trace.add(0, 0, 103.5, _round("base", [1.0, 2.0, 3.0]))
    trace.add(0, 0, 104.6, _round("candidate", [2.0, 4.0, 6.0], lag_ms=1.5))
    out = trace.to_dict({"base": MetricSet(), "candidate": MetricSet()})
    json.dumps(out)
    assert [r["t"] for r in out["rounds"]] == [3.5, 4.6]
    assert out["warmup_s"] == [0.5, 3.0]
    cand = out["rounds"][1]
    assert cand["arm"] == "candidate" and cand["requests"] == 3 and cand["lag_p99_ms"] > 1.0
    assert 3.9 < cand["p50"] < 4.1
    # Nothing kept (every pair dropped): the distributions say they come from every round.
    assert out["latency"]["rounds"] == "all (no pair was kept)"
    cand_dist = out["latency"]["candidate"]
    assert cand_dist["n"] == 3 and len(cand_dist["values"]) == len(ECDF_QUANTILES)
    assert cand_dist["endpoints"]["GET /x"]["n"] == 3


def test_latency_quantiles_of_an_empty_set_is_none() -> None:
    assert latency_quantiles(MetricSet()) is None


def test_process_rows_shift_to_the_ab_clock_and_thin_out() -> None:
    rows = [{"t": i * 0.5, "rss_bytes": 50e6 + i, "cpu_pct": 12.5} for i in range(2000)]
    out = arm_process_rows(_Session(t0=12.0), {"process": rows}, origin=10.0)  # type: ignore[arg-type]
    assert out[0] == [2.0, 50.0, 12.5]
    assert len(out) <= MAX_PROCESS_ROWS
    assert arm_process_rows(_Session(t0=0.0), {}, 0.0) == []  # type: ignore[arg-type]
