"""The demo API's fault switches, each against a real server process.

Timing margins are wide on purpose (a shared, noisy 2-core machine): an
injected fault is asserted at >= 0.8 of its size, an untouched route at
well below it.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from typing import Any

import psutil
import pytest

from conftest import DemoAPI
from perfgate.demo.faults import FaultConfig, burn_cpu


def get(api: DemoAPI, path: str, timeout: float = 10.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(api.url + path, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def median_ms(api: DemoAPI, path: str, n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status, _ = get(api, path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200
    return statistics.median(times)


def cpu_seconds(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def test_latency_only_on_the_chosen_route(start_demo_api: Any) -> None:
    api = start_demo_api("--latency-ms", "150", "--route", "/api/bounties")
    assert median_ms(api, "/api/bounties?limit=1", 5) >= 0.8 * 150
    assert median_ms(api, "/api/bounties/7", 3) >= 0.8 * 150  # prefix match
    assert median_ms(api, "/health", 5) < 75
    assert median_ms(api, "/metrics/json", 3) < 75  # the observation channel is exempt
    assert "latency 150ms" in api.log.read_text()


def test_flag_wins_over_env_and_env_alone_works(
    start_demo_api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFGATE_DEMO_LATENCY_MS", "5000")
    api = start_demo_api("--latency-ms", "0")
    assert median_ms(api, "/health", 3) < 1000
    monkeypatch.setenv("PERFGATE_DEMO_LATENCY_MS", "120")
    monkeypatch.setenv("PERFGATE_DEMO_ROUTE", "/wallet,/api/bounties")
    api = start_demo_api()
    assert median_ms(api, "/api/bounties?limit=1", 3) >= 0.8 * 120
    assert median_ms(api, "/health", 3) < 60


def test_jitter_adds_between_zero_and_y(start_demo_api: Any) -> None:
    api = start_demo_api("--jitter-ms", "100")
    times = []
    for _ in range(12):
        started = time.perf_counter()
        get(api, "/health")
        times.append((time.perf_counter() - started) * 1000)
    # P(all 12 uniform(0,100) draws < 15 ms) = 0.15^12: never.
    assert max(times) > 15


def test_cpu_us_is_real_cpu_work_on_the_chosen_route(start_demo_api: Any) -> None:
    api = start_demo_api("--cpu-us", "20000", "--route", "/api/bounties")
    n = 20
    before = cpu_seconds(api.proc.pid)
    for _ in range(n):
        assert get(api, "/api/bounties?limit=1")[0] == 200
    burned = cpu_seconds(api.proc.pid) - before
    assert burned >= 0.8 * n * 0.020, burned
    before = cpu_seconds(api.proc.pid)
    for _ in range(n):
        assert get(api, "/health")[0] == 200
    assert cpu_seconds(api.proc.pid) - before < 0.2


def test_error_rate_share_of_500s(start_demo_api: Any) -> None:
    api = start_demo_api("--error-rate", "0.3", wait=False)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # readiness: /metrics/json is exempt
        try:
            get(api, "/metrics/json", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    n = 300
    errors = 0
    for _ in range(n):
        status, body = get(api, "/health")
        if status == 500:
            assert "injected" in body["error"]
            errors += 1
        else:
            assert status == 200
    # Binomial(300, 0.3): mean 90, sd 7.9; +-5 sd.
    assert 50 <= errors <= 130, errors
    metrics = get(api, "/metrics/json")[1]["metrics"]
    assert metrics["requests"]["byStatus"]["500"] == errors


def test_leak_kb_grows_rss(start_demo_api: Any) -> None:
    api = start_demo_api("--leak-kb", "1024")
    proc = psutil.Process(api.proc.pid)
    before = proc.memory_info().rss
    for _ in range(40):
        assert get(api, "/health")[0] == 200
    grown = proc.memory_info().rss - before
    assert grown >= 30 * 2**20, grown
    reported = get(api, "/metrics/json")[1]["metrics"]["memory"]["rssBytes"]
    assert reported - before >= 30 * 2**20


def test_tail_fraction_slows_only_that_share(start_demo_api: Any) -> None:
    api = start_demo_api("--latency-ms", "150", "--tail-fraction", "0.2", "--route", "/health")
    n = 80
    slow = 0
    for _ in range(n):
        started = time.perf_counter()
        assert get(api, "/health")[0] == 200
        slow += time.perf_counter() - started >= 0.8 * 0.150
    # Binomial(80, 0.2): mean 16, sd 3.6; about +-3 sd. All or none would mean no tail.
    assert 5 <= slow <= 28, slow
    assert "on 20% of requests" in api.log.read_text()


def test_serialize_ms_queues_concurrent_requests_behind_one_lock(start_demo_api: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    api = start_demo_api("--serialize-ms", "60", "--route", "/health")
    assert get(api, "/health")[0] == 200  # warm
    n = 8
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        statuses = list(pool.map(lambda _: get(api, "/health")[0], range(n)))
    took = time.perf_counter() - started
    assert statuses == [200] * n
    # Under one lock the n sleeps run one after another: at least n x 60 ms.
    # Unserialised they would overlap and take ~60 ms in all.
    assert took >= 0.8 * n * 0.060, took
    started = time.perf_counter()
    assert get(api, "/api/bounties?limit=1")[0] == 200  # another route: no lock
    assert time.perf_counter() - started < n * 0.060


def test_serialize_route_gives_the_lock_its_own_scope(start_demo_api: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    api = start_demo_api(
        "--serialize-ms", "60", "--route", "/api/bounties", "--serialize-route", "/"
    )
    assert get(api, "/health")[0] == 200  # warm
    n = 6
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        statuses = list(pool.map(lambda _: get(api, "/health")[0], range(n)))
    assert statuses == [200] * n
    # /health is outside --route but inside --serialize-route /: one after another
    assert time.perf_counter() - started >= 0.8 * n * 0.060
    assert "the lock on routes /" in api.log.read_text()


def test_crash_after_n_requests(start_demo_api: Any) -> None:
    n = 5
    api = start_demo_api("--crash-after", str(n), wait=False)
    served = 0
    deadline = time.monotonic() + 30
    started = False
    while time.monotonic() < deadline and served <= n:
        try:
            status, _ = get(api, "/health", timeout=5)
        except OSError:
            if started or api.proc.poll() is not None:
                break  # the server died
            time.sleep(0.05)  # not listening yet
            continue
        started = True
        assert status == 200
        served += 1
    assert api.proc.wait(timeout=10) == 3
    assert served == n
    log = api.log.read_text()
    assert f"--crash-after {n}: served {n} requests, exiting with code 3" in log


def test_fault_config_validation_and_routes() -> None:
    for bad in (
        {"latency_ms": -1},
        {"error_rate": 1.5},
        {"routes": ("api",)},
        {"leak_kb": -2},
        {"tail_fraction": 0.0},
        {"tail_fraction": 1.5},
        {"serialize_ms": -1},
    ):
        with pytest.raises(ValueError):
            FaultConfig(**bad)
    assert not FaultConfig().active
    scoped = FaultConfig(latency_ms=1, routes=("/api/bounties",))
    assert scoped.applies_to("/api/bounties") and scoped.applies_to("/api/bounties/9")
    assert not scoped.applies_to("/api/bountiesX") and not scoped.applies_to("/health")


def test_burn_cpu_uses_cpu_time() -> None:
    started = time.thread_time()
    burn_cpu(5000)
    assert time.thread_time() - started >= 0.005
