"""Stress verdicts against the demo API's fault switches, as real processes.

Each test starts ``perfgate demo-api`` through the service runner, loads it
on 127.0.0.1 and checks the verdict. Rates and thresholds leave wide margins:
the leak is ~100x the threshold, the crash is an exit code, the CPU fault
costs the API most of its throughput.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import free_port
from perfgate.result import Check
from perfgate.script import load_script_text
from perfgate.stress import Slo, find_limit, run_stress, stress_run_result
from perfgate.target import ServiceSpec

pytestmark = [pytest.mark.timeout(90), pytest.mark.slow]


def demo_spec(tmp_path: Path, *flags: str) -> ServiceSpec:
    port = free_port()
    return ServiceSpec(
        start=[
            sys.executable,
            "-m",
            "perfgate",
            "demo-api",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--db",
            str(tmp_path / f"demo-{port}.sqlite"),
            *flags,
        ],
        ready_url=f"http://127.0.0.1:{port}/health",
        port=port,
        log=tmp_path / f"demo-{port}.log",
        name="demo-api",
    )


def steady_script(target: str, rate: int, seconds: int) -> str:
    return f"""
config:
  target: "{target}"
  phases:
    - duration: {seconds}
      arrivalRate: {rate}
      name: steady
scenarios:
  - flow:
      - get:
          url: "/health"
"""


def check(checks: list[Check], name: str) -> Check:
    return next(c for c in checks if c.name == name)


def run_steady(tmp_path: Path, *flags: str, rate: int = 100, seconds: int = 8):  # type: ignore[no-untyped-def]
    spec = demo_spec(tmp_path, *flags)
    script = load_script_text(steady_script(spec.base_url, rate, seconds), file="steady.yml")
    return run_stress(script, service=spec, probe_s=0, workers=1)


def test_leak_is_caught_while_the_clean_api_passes(tmp_path: Path) -> None:
    clean = check(run_steady(tmp_path).checks, "load.memory_leak")
    assert clean.status == "pass", clean.detail
    assert clean.measured is not None and clean.measured < 2.0
    # 20 KiB retained per request: ~195 MB per 10k requests, ~100x the threshold
    leaky = check(run_steady(tmp_path, "--leak-kb", "20").checks, "load.memory_leak")
    assert leaky.status == "fail", leaky.detail
    assert leaky.measured is not None and leaky.measured > 40
    assert "MB/min" in leaky.detail


def test_crash_is_reported_with_its_log_tail_and_the_results_so_far(tmp_path: Path) -> None:
    suite = run_steady(tmp_path, "--crash-after", "300", seconds=20)
    crash = suite.extra["stress"]["crash"]
    assert crash is not None
    assert crash["exit_code"] == 3
    assert "--crash-after" in crash["log_tail"]
    assert crash["at_s"] is not None and 0.5 < crash["at_s"] < 15
    verdict = check(suite.checks, "stress.no_crashes")
    assert verdict.status == "fail"
    assert "exit code 3" in verdict.detail and "--crash-after" in verdict.detail
    # the results gathered before the crash are kept (the API's 300 include the monitor's
    # polls), and the load stopped early
    assert suite.aggregate.counter("http.responses") >= 250
    assert suite.series and suite.interrupted
    assert suite.duration_s < 18
    assert any("died" in e for e in suite.errors)
    run = stress_run_result(suite)
    assert run.monitor["death"]["exit_code"] == 3
    assert run.checks and "monitor" not in run.suites[0].extra


def test_cpu_fault_lowers_the_found_limit(tmp_path: Path) -> None:
    slo = Slo(min_samples=100)
    options = {"ramp_from": 20.0, "ramp_to": 600.0, "ramp_s": 6.0, "step_s": 2.0, "max_steps": 2}
    found = []
    for flags in ((), ("--cpu-us", "8000")):
        spec = demo_spec(tmp_path, *flags)
        found.append(
            find_limit(
                load_script_text(steady_script(spec.base_url, 1, 1), file="limit.yml"),
                service=spec,
                slo=slo,
                workers=1,
                **options,  # type: ignore[arg-type]
            )
        )
    clean, slow = found
    assert clean.limit is not None
    assert slow.limit is not None
    # 8 ms of CPU per request caps the API near 125/s; the clean one holds far more
    assert slow.limit < 0.5 * clean.limit, (slow.summary(), clean.summary())
    assert not slow.reached_ceiling
