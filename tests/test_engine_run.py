"""The load engine end to end, against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tests.conftest import free_port

from perfgate.engine import run_script
from perfgate.metrics import names
from perfgate.result import SuiteResult
from perfgate.script import load_script_text

pytestmark = pytest.mark.timeout(120)


class Server:
    """An aiohttp app in a thread; records what arrives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[tuple[float, str, dict[str, str]]] = []
        self.connections: set[int] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append((time.monotonic(), request.path, dict(request.headers)))
        self.connections.add(id(request.transport))
        if request.path == "/slow":
            await asyncio.sleep(3)
        if request.path == "/login":
            return web.json_response({"token": "tok-123"})
        if request.path == "/me":
            ok = request.headers.get("Authorization") == "Bearer tok-123"
            return web.json_response({"me": ok}, status=200 if ok else 401)
        if request.path == "/chunked":
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            await resp.write(b'{"a":')
            await resp.write(b"1}")
            await resp.write_eof()
            return resp
        return web.json_response({"path": request.path})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._runner = runner
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def start(self) -> Server:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.hits]


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server().start()
    yield s
    s.stop()


def run_text(text: str, **kw: Any) -> SuiteResult:
    script = load_script_text(text, file="test.yml")
    return run_script(script, workers=1, handle_sigint=False, **kw)


def test_ramp_arrivals_follow_the_schedule(server: Server) -> None:
    result = run_text(
        f"""
config:
  target: "{server.url}"
  phases:
    - duration: 4
      arrivalRate: 2
      rampTo: 8
scenarios:
  - flow:
      - get: {{url: "/ramp"}}
"""
    )
    times = [t for t, p, _ in server.hits if p == "/ramp"]
    assert len(times) == 20  # 2 + 4 + 6 + 8
    t0 = min(times)
    buckets = collections.Counter(min(3, int(t - t0)) for t in times)
    assert buckets[0] + buckets[1] < buckets[2] + buckets[3]  # ramping up, generously
    agg = result.aggregate
    assert agg.counter(names.HTTP_REQUESTS) == 20
    assert agg.counter("http.codes.200") == 20
    assert agg.histograms[names.HTTP_RESPONSE_TIME].count == 20
    assert result.scheduler is not None and result.scheduler.launched == 20
    assert sum(row["requests"] for row in result.series) == 20
    assert result.aggregate.histograms[names.TOTAL].count == 20


def test_weights_pick_scenarios_in_proportion(server: Server) -> None:
    run_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 400}}]
scenarios:
  - weight: 3
    flow: [{{get: {{url: "/a"}}}}]
  - weight: 1
    flow: [{{get: {{url: "/b"}}}}]
""",
        seed=7,
    )
    counts = collections.Counter(server.paths())
    assert counts["/a"] + counts["/b"] == 400
    assert 60 <= counts["/b"] <= 140  # expected 100, sd ~8.7


def test_each_vuser_keeps_its_own_connection(server: Server) -> None:
    result = run_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 5}}]
scenarios:
  - flow:
      - loop:
          - get: {{url: "/ka"}}
        count: 4
"""
    )
    assert len(server.paths()) == 20
    assert len(server.connections) == 5
    assert result.aggregate.histograms["perfgate.connect"].count == 5


def test_shared_pool_caps_connections(server: Server) -> None:
    run_text(
        f"""
config:
  target: "{server.url}"
  http: {{pool: 2}}
  phases: [{{duration: 1, arrivalCount: 30}}]
scenarios:
  - flow: [{{get: {{url: "/pool"}}}}]
"""
    )
    assert len(server.paths()) == 30
    assert 1 <= len(server.connections) <= 2


def test_timeout_counts_etimedout_and_fails_the_vuser(server: Server) -> None:
    result = run_text(
        f"""
config:
  target: "{server.url}"
  http: {{timeout: 0.3}}
  phases: [{{duration: 1, arrivalCount: 3}}]
scenarios:
  - flow: [{{get: {{url: "/slow"}}}}, {{get: {{url: "/never"}}}}]
"""
    )
    agg = result.aggregate
    assert agg.counter("errors.ETIMEDOUT") == 3
    assert agg.counter(names.VUSERS_FAILED) == 3
    assert "/never" not in server.paths()
    assert agg.counter("plugins.metrics-by-endpoint./slow.errors.ETIMEDOUT") == 3


def test_connection_refused_is_counted() -> None:
    port = free_port()  # nothing listens there
    result = run_text(
        f"""
config:
  target: "http://127.0.0.1:{port}"
  phases: [{{duration: 1, arrivalCount: 2}}]
scenarios:
  - flow: [{{get: {{url: "/"}}}}]
"""
    )
    assert result.aggregate.counter("errors.ECONNREFUSED") == 2
    assert result.aggregate.counter(names.VUSERS_FAILED) == 2


def test_capture_iftrue_and_chunked_bodies(server: Server) -> None:
    result = run_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 2}}]
  plugins:
    expect: {{}}
scenarios:
  - flow:
      - post:
          url: "/login"
          json: {{user: "x"}}
          capture: [{{json: "$.token", as: "token"}}]
      - get:
          url: "/me"
          headers: {{Authorization: "Bearer {{{{ token }}}}"}}
          ifTrue: "token"
          expect: [{{statusCode: 200}}]
      - get:
          url: "/skipped"
          ifTrue: "neverSet"
      - get:
          url: "/chunked"
          capture: [{{json: "$.a", as: "a"}}]
      - get:
          url: "/after-{{{{ a }}}}"
"""
    )
    paths = server.paths()
    assert paths.count("/me") == 2 and "/skipped" not in paths
    assert paths.count("/after-1") == 2  # the chunked body was decoded and captured
    me = [h for _, p, h in server.hits if p == "/me"]
    assert all(h["Authorization"] == "Bearer tok-123" for h in me)
    agg = result.aggregate
    assert agg.counter("plugins.expect.ok") == 2
    assert agg.counter(names.VUSERS_COMPLETED) == 2


def test_strict_capture_failure_ends_the_vuser(server: Server) -> None:
    result = run_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 2}}]
scenarios:
  - flow:
      - get:
          url: "/x"
          capture: [{{json: "$.missing", as: "m"}}]
      - get: {{url: "/unreached"}}
"""
    )
    assert "/unreached" not in server.paths()
    assert result.aggregate.counter(names.VUSERS_FAILED) == 2


# -- the CLI: seed scripts, workers, exit codes, Ctrl-C ----------------------------


def perfgate(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "perfgate", "run", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ["artillery-load-test.yml", "artillery-stress-test.yml"])
def test_seed_scripts_run_unchanged(
    name: str, seed_dir: Path, shared_demo_api: Any, tmp_path: Path
) -> None:
    report = tmp_path / "report.json"
    scale = "0.005" if "stress" in name else "0.01"
    proc = perfgate(
        str(seed_dir / name),
        "-t",
        shared_demo_api.url,
        "--time-scale",
        scale,
        "--workers",
        "1",
        "-o",
        str(report),
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads(report.read_text())
    agg = data["aggregate"]
    for key in (
        "counters",
        "rates",
        "summaries",
        "histograms",
        "firstCounterAt",
        "lastCounterAt",
        "period",
    ):
        assert key in agg
    assert agg["counters"]["http.requests"] > 0
    assert agg["counters"]["vusers.created"] == agg["counters"]["vusers.completed"]
    rt = agg["summaries"]["http.response_time"]
    assert set(rt) >= {
        "min",
        "max",
        "mean",
        "median",
        "p50",
        "p75",
        "p90",
        "p95",
        "p99",
        "p999",
        "count",
    }
    assert "http.request_rate" in agg["rates"]
    assert isinstance(data["intermediate"], list) and data["intermediate"]
    assert data["perfgate"]["scheduler"]["launched"] > 0
    assert data["perfgate"]["suite"]["kind"] == "load"
    if "load" in name:
        assert (
            "plugins.metrics-by-endpoint.response_time./api/bounties/{{ $randomString() }}"
            in agg["summaries"]
        )
        assert agg["counters"]["plugins.expect.ok"] > 0
    # Tokens never leak: no Authorization value in output or report.
    for text in (proc.stdout, proc.stderr, report.read_text()):
        assert "Bearer " not in text


@pytest.mark.slow
def test_two_workers_merge_to_the_union(shared_demo_api: Any, tmp_path: Path) -> None:
    script = tmp_path / "w.yml"
    script.write_text(
        f"""
config:
  target: "{shared_demo_api.url}"
  phases: [{{duration: 2, arrivalRate: 15}}]
scenarios:
  - flow: [{{get: {{url: "/health"}}}}]
"""
    )
    report = tmp_path / "r.json"
    proc = perfgate(str(script), "--workers", "2", "-o", str(report))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    agg = data["aggregate"]
    assert agg["counters"]["http.requests"] == 30
    assert agg["counters"]["vusers.created"] == 30
    assert agg["summaries"]["http.response_time"]["count"] == 30
    assert data["perfgate"]["scheduler"]["planned"] == 30


@pytest.mark.slow
def test_exit_codes_for_ensure_and_expect(shared_demo_api: Any, tmp_path: Path) -> None:
    base = f"""
config:
  target: "{shared_demo_api.url}"
  phases: [{{duration: 1, arrivalCount: 3}}]
"""
    ensure = tmp_path / "ensure.yml"
    ensure.write_text(
        base
        + "  ensure:\n    thresholds:\n      - http.response_time.p95: 0.000001\n"
        + _flow("/health", 200)
    )
    proc = perfgate(str(ensure))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    expect = tmp_path / "expect.yml"
    expect.write_text(base + "  plugins:\n    expect: {}\n" + _flow("/health", 201))
    proc = perfgate(str(expect))
    assert proc.returncode == 21, proc.stdout + proc.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text("config:\n  target: 1\n  phasez: []\nscenarios: 3\n")
    proc = perfgate(str(bad))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def _flow(url: str, status: int) -> str:
    return f"""scenarios:
  - flow:
      - get:
          url: "{url}"
          expect: [{{statusCode: {status}}}]
"""


@pytest.mark.slow
def test_ctrl_c_writes_a_partial_report(shared_demo_api: Any, tmp_path: Path) -> None:
    script = tmp_path / "long.yml"
    script.write_text(
        f"""
config:
  target: "{shared_demo_api.url}"
  phases: [{{duration: 120, arrivalRate: 5}}]
scenarios:
  - flow: [{{get: {{url: "/health"}}}}]
"""
    )
    report = tmp_path / "partial.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfgate", "run", str(script), "--workers", "1", "-o", str(report)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 130, out + err
    data = json.loads(report.read_text())
    assert data["perfgate"]["interrupted"] is True
    assert 0 < data["aggregate"]["counters"]["http.requests"] < 600
