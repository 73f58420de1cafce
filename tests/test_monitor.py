"""TargetMonitor against real loopback servers (an in-process aiohttp app, a subprocess)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from conftest import free_port
from perfgate.target import (
    Service,
    ServiceSpec,
    TargetMonitor,
    flatten_fields,
    idle_connections_returned,
    per_second,
)


def make_app(hang_health: bool = False) -> web.Application:
    state = {"requests": 0}

    async def health(request: web.Request) -> web.Response:
        if hang_health:
            await asyncio.sleep(30)
        return web.json_response(
            {"status": "healthy", "checks": {"database": "ok"}, "uptime": 12.5}
        )

    async def metrics(request: web.Request) -> web.Response:
        state["requests"] += 1
        return web.json_response(
            {"metrics": {"requests": {"total": state["requests"]}, "routes": [1, 2]}}
        )

    app = web.Application()
    app.router.add_get("/health/detailed", health)
    app.router.add_get("/metrics/json", metrics)
    return app


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    srv = TestServer(make_app(), host="127.0.0.1")
    await srv.start_server()
    yield srv
    await srv.close()


async def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def test_polls_recorded_with_fields(server: TestServer) -> None:
    url = str(server.make_url("/"))
    mon = TargetMonitor(url, interval=0.1, poll_timeout=2.0, connections_interval=0.1)
    async with mon:
        await wait_for(lambda: len(mon.metrics) >= 3 and len(mon.health) >= 3)
    out = mon.result()
    assert len(out["metrics"]) >= 3 and len(out["health"]) >= 3
    totals = [row["fields"]["metrics.requests.total"] for row in out["metrics"]]
    assert totals == sorted(totals) and totals[-1] >= 3
    first = out["health"][0]
    assert first["ok"] and first["status"] == 200 and first["error"] is None
    assert first["fields"]["checks.database"] == "ok"
    assert first["latency_ms"] > 0
    assert out["available"] == {
        "process": False,
        "connections": True,
        "health": True,
        "metrics": True,
    }
    assert out["port"] == server.port
    assert per_second(out["metrics"], "fields.metrics.requests.total")


async def test_hung_health_endpoint_times_out_without_stalling() -> None:
    srv = TestServer(make_app(hang_health=True), host="127.0.0.1")
    await srv.start_server()
    try:
        mon = TargetMonitor(
            str(srv.make_url("/")), interval=0.2, poll_timeout=0.5, connections_interval=0.2
        )
        t0 = time.monotonic()
        async with mon:
            await wait_for(lambda: len(mon.health) >= 2 and len(mon.metrics) >= 5)
        assert time.monotonic() - t0 < 15
        assert len(mon.health) >= 2
        for row in mon.health:
            assert not row["ok"] and row["error"] == "timeout after 0.5s"
            assert (
                400 <= row["latency_ms"] < 5000
            )  # bounded by the poll timeout, not the 30 s handler
        # the metrics poll kept its own cadence meanwhile
        assert len(mon.metrics) >= 5 and all(r["ok"] for r in mon.metrics)
    finally:
        await srv.close()


async def test_unreachable_target_recorded_as_errors() -> None:
    mon = TargetMonitor(f"http://127.0.0.1:{free_port()}", interval=0.1, poll_timeout=0.5)
    async with mon:
        await wait_for(lambda: len(mon.health) >= 2)
    assert mon.health and all(not r["ok"] and r["error"] for r in mon.health)


async def test_connections_counted(server: TestServer) -> None:
    mon = TargetMonitor(
        str(server.make_url("/")), health_url=None, metrics_url=None, connections_interval=0.1
    )
    async with mon:
        await wait_for(lambda: len(mon.connections) >= 2)
        load_start = time.monotonic() - mon.t0
        conns = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(5)]
        await wait_for(lambda: mon.connections[-1]["established"] >= 5)
        peak = max(r["established"] for r in mon.connections)
        for _, writer in conns:
            writer.close()
            await writer.wait_closed()
        load_end = time.monotonic() - mon.t0
        await wait_for(
            lambda: mon.connections[-1]["t"] > load_end and mon.connections[-1]["established"] == 0
        )
    assert peak >= 5
    verdict = idle_connections_returned(
        mon.connections, load_start_t=load_start, load_end_t=load_end, tolerance=0
    )
    assert verdict.idle_level == 0 and verdict.returned is True and verdict.final_level == 0


def test_idle_connections_returned_pure() -> None:
    rows = [
        {"t": t, "established": e}
        for t, e in [(0, 2), (1, 2), (2, 40), (3, 40), (4, 30), (5, 3), (6, 2)]
    ]
    v = idle_connections_returned(rows, load_start_t=1, load_end_t=4, tolerance=1)
    assert v.idle_level == 2 and v.returned is True and v.returned_after_s == 1
    leaky = [*rows[:-2], {"t": 5, "established": 25}, {"t": 6, "established": 25}]
    assert idle_connections_returned(leaky, load_start_t=1, load_end_t=4).returned is False
    assert idle_connections_returned(rows, load_start_t=-1, load_end_t=4).returned is None


def test_flatten_fields() -> None:
    doc = {"status": "ok", "metrics": {"requests": {"total": 5}, "list": [1]}, "big": "x" * 100}
    assert flatten_fields(doc) == {"status": "ok", "metrics.requests.total": 5}
    assert len(flatten_fields({str(i): i for i in range(500)})) == 200


SERVER = """
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "healthy"}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


async def test_joins_process_series_and_notices_death(tmp_path: Path) -> None:
    script = tmp_path / "srv.py"
    script.write_text(SERVER)
    port = free_port()
    svc = Service(
        ServiceSpec(
            start=[sys.executable, str(script), str(port)],
            ready_url="/",
            port=port,
            workdir=tmp_path,
        )
    )
    try:
        svc.start()
        svc.wait_ready()
        mon = TargetMonitor(
            svc.spec.base_url,
            interval=0.2,
            poll_timeout=1.0,
            connections_interval=0.1,
            service=svc,
            sample_interval=0.1,
        )
        async with mon:
            await wait_for(lambda: mon.sampler is not None and len(mon.sampler.series) >= 3)
            assert svc.pid is not None
            os.kill(svc.pid, signal.SIGKILL)
            await asyncio.wait_for(mon.died.wait(), timeout=15)
        out = mon.result()
        assert out["available"]["process"] is True
        assert len(out["process"]) >= 3 and out["process"][0]["rss_bytes"] > 0
        assert out["death"] is not None and out["death"]["signal"] == signal.SIGKILL
    finally:
        svc.stop()


def test_parse_proc_net_tcp_counts_server_side_only() -> None:
    from perfgate.target.process import parse_proc_net_tcp

    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
    rows = [
        "0: 0100007F:0BB9 00000000:0000 0A 0:0 00:00000000 0",  # LISTEN on 3001: not a connection
        "1: 0100007F:0BB9 0100007F:D431 01 0:0 00:00000000 0",  # server side, established
        "2: 0100007F:D431 0100007F:0BB9 01 0:0 00:00000000 0",  # client side: local port is not 3001
        "3: 0100007F:0BB9 0100007F:D432 06 0:0 00:00000000 0",  # time wait
        "4: 0100007F:0BB9 0100007F:D433 08 0:0 00:00000000 0",  # close wait
        "5: 0100007F:1F90 0100007F:D434 01 0:0 00:00000000 0",  # another port
    ]
    counts = parse_proc_net_tcp("\n".join([header, *rows]), 3001)
    assert (counts.established, counts.time_wait, counts.close_wait, counts.other) == (1, 1, 1, 0)
    assert counts.total == 3
