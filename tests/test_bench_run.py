"""`perfgate bench` against the real demo API (subprocesses on loopback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from conftest import free_port
from perfgate.bench import (
    budget_checks,
    bundled_suite_path,
    load_suite,
    load_suite_text,
    run_bench,
    run_bench_async,
)
from perfgate.result import RunResult


def _bench_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfgate", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _small(target: str, body: str, defaults: str = "samples: 20, warmup: 2") -> str:
    return f"name: small\ntarget: {target}\ndefaults: {{{defaults}}}\n{body}"


def test_bundled_suite_clean_run_cli(shared_demo_api: Any, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = _bench_cli("demo", "-t", shared_demo_api.url, "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS: all 5 operations within budget" in proc.stdout
    assert "| Health Check" in proc.stdout and "Benchmarking: Health Check" in proc.stderr

    run = RunResult.load(out)
    (suite,) = run.suites
    assert suite.kind == "bench" and suite.name == "Demo API benchmarks"
    ops = {op.name: op for op in suite.operations}
    assert len(ops["Health Check"].samples_ms) == 200  # warmup excluded, every sample kept
    assert len(ops["Create Payment Intent"].samples_ms) == 50
    for op in suite.operations:
        assert op.failed == 0 and op.skipped_reason is None
        assert op.summary["count"] == len(op.samples_ms)
        assert op.summary["min"] <= op.summary["median"] <= op.summary["max"]
        assert op.budget["p95"] == 200
    # sub-millisecond resolution: loopback health checks are not rounded to whole ms
    assert any(x != round(x) for x in ops["Health Check"].samples_ms)
    assert all(c.status == "pass" for c in suite.checks)
    # round trip: what is stored is what was measured
    assert RunResult.from_json(run.to_json()).to_dict() == run.to_dict()
    assert "authToken" not in out.read_text() and "eyJ" not in proc.stdout


def test_library_run_with_repeat(shared_demo_api: Any) -> None:
    suite = load_suite(bundled_suite_path(), target=shared_demo_api.url)
    for op in suite.operations:
        op.samples, op.warmup = 10, 2
    result = run_bench(suite, repeat=3, seed=42)
    assert all(c.status == "pass" for c in budget_checks(result)), budget_checks(result)
    orders = result.extra["order"]
    assert len(orders) == 3 and all(sorted(o) == sorted(orders[0]) for o in orders)
    for op in result.operations:
        assert len(op.samples_ms) == 30 and len(op.repeats) == 3
        c = op.extra["consistency"]
        assert c["runs"] == 3 and c["median_cv"] >= 0
        assert c["median_ci_low"] <= op.summary["median"] <= c["median_ci_high"]
    again = run_bench(suite, repeat=3, seed=42)
    assert again.extra["order"] == orders  # the shuffle is seeded


async def test_async_entry_point_runs_in_a_loop(shared_demo_api: Any) -> None:
    text = _small(shared_demo_api.url, "operations:\n  - name: h\n    request: {url: /health}\n")
    result = await run_bench_async(load_suite_text(text))
    assert len(result.operations[0].samples_ms) == 20


@pytest.mark.slow
def test_latency_fault_fails_that_budget(start_demo_api: Any, tmp_path: Path) -> None:
    api = start_demo_api("--latency-ms", "50", "--route", "/api/bounties")
    out = tmp_path / "slow.json"
    proc = _bench_cli("demo", "-t", api.url, "-o", str(out), "-q")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Budget failures:" in proc.stdout and "List Bounties: median" in proc.stdout
    suite = RunResult.load(out).suites[0]
    ops = {op.name: op for op in suite.operations}
    assert ops["List Bounties"].summary["median"] >= 40  # asyncio.sleep(0.05) never undershoots
    assert ops["Health Check"].summary["median"] < 25  # unaffected route stays fast
    failing = {c.name for c in suite.checks if c.status == "fail"}
    assert "List Bounties: median" in failing
    assert not any(name.startswith("Health Check") for name in failing)


def test_setup_failure_skips_with_reason(shared_demo_api: Any, tmp_path: Path) -> None:
    text = (
        bundled_suite_path()
        .read_text(encoding="utf-8")
        .replace("password: TestPassword123!", "password: WrongPassword!")
    )
    suite_file = tmp_path / "wrong.yml"
    suite_file.write_text(text.replace("samples: 100", "samples: 10"), encoding="utf-8")
    proc = _bench_cli(
        str(suite_file), "-t", shared_demo_api.url, "-o", str(tmp_path / "o.json"), "-q"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Skipped operations:" in proc.stdout
    assert "WrongPassword" not in proc.stdout + proc.stderr
    suite = RunResult.load(tmp_path / "o.json").suites[0]
    ops = {op.name: op for op in suite.operations}
    for name in ("Create Payment Intent", "Get Wallet Balance", "Get Notifications"):
        reason = ops[name].skipped_reason
        assert reason is not None and "HTTP 401" in reason and "/auth/sign-in" in reason
        assert not ops[name].samples_ms
        assert {c.status for c in suite.checks if c.name.startswith(name)} == {"skipped"}
    for name in ("Health Check", "List Bounties"):  # no token needed: still measured
        assert ops[name].skipped_reason is None and ops[name].samples_ms


def test_failed_samples_counted_never_dropped(start_demo_api: Any) -> None:
    api = start_demo_api("--error-rate", "0.3")
    text = _small(
        api.url,
        "operations:\n  - name: h\n    samples: 60\n    request: {url: /health}\n",
    )
    op = run_bench(load_suite_text(text)).operations[0]
    assert op.failed + len(op.samples_ms) == 60
    assert 3 <= op.failed <= 45  # 30% of 60, with a very wide margin
    assert op.extra["codes"]["500"] == op.failed
    assert len(op.extra["failed_ms"]) == op.failed
    assert op.summary["error_rate"] == pytest.approx(100 * op.failed / 60)
    checks = {c.name: c for c in budget_checks_of(op)}
    assert checks["h: failed samples"].status == "fail"


def budget_checks_of(op: Any) -> list[Any]:
    from perfgate.bench import operation_checks

    return operation_checks(op)


def test_transport_errors_are_failed_samples() -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    text = _small(
        dead, "operations:\n  - name: h\n    request: {url: /health}\n", "samples: 5, warmup: 1"
    )
    op = run_bench(load_suite_text(text)).operations[0]
    assert op.failed == 5 and not op.samples_ms
    assert op.extra["codes"] == {"ECONNREFUSED": 5}


def test_env_token_and_concurrency(shared_demo_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    req = urllib.request.Request(
        shared_demo_api.url + "/auth/sign-in",
        data=json.dumps({"email": "test2@example.com", "password": "TestPassword123!"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        token = json.loads(resp.read())["token"]
    monkeypatch.setenv("TEST_AUTH_TOKEN", token)
    body = (
        "operations:\n"
        "  - name: wallet\n"
        "    concurrency: 4\n"
        "    samples: 21\n"
        "    request:\n"
        "      url: /wallet/balance\n"
        '      headers: {Authorization: "Bearer {{ $env.TEST_AUTH_TOKEN }}"}\n'
    )
    op = run_bench(load_suite_text(_small(shared_demo_api.url, body))).operations[0]
    assert op.failed == 0 and len(op.samples_ms) == 21, op.extra["codes"]
    monkeypatch.setenv("TEST_AUTH_TOKEN", "not-a-token")
    op = run_bench(load_suite_text(_small(shared_demo_api.url, body))).operations[0]
    assert op.failed == 21 and op.extra["codes"] == {"401": 21}


def test_cli_repeat_prints_consistency(shared_demo_api: Any, tmp_path: Path) -> None:
    suite_file = tmp_path / "s.yml"
    suite_file.write_text(
        _small("http://127.0.0.1:9", "operations:\n  - name: h\n    request: {url: /health}\n"),
        encoding="utf-8",
    )
    env_free = {k: v for k, v in os.environ.items() if k != "TEST_AUTH_TOKEN"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfgate",
            "bench",
            str(suite_file),
            "-t",
            shared_demo_api.url,
            "--repeat",
            "2",
            "--seed",
            "3",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env_free,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Consistency across runs:" in proc.stdout and "Run-to-run CV" in proc.stdout
    assert _bench_cli(str(suite_file), "--repeat", "0").returncode == 2
