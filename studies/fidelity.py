"""How close is ``perfgate bench``'s median to a delay we know? (Not a test.)

A local aiohttp server (its own process) answers ``/delay/{ms}`` after
a precise delay (sleep, then spin to the microsecond) and records each handler's own duration with
``perf_counter`` (asyncio.sleep overshoots a little, so the server-side
figure is the truth to compare against). We run ``perfgate bench`` on it as
a user would (the CLI, ``-o`` JSON) and, in the same invocation, the seed's
method: ``Date.now()`` before/after each request (emulated with
``time.time()`` rounded down to whole ms) over a ``urllib`` loop, and its
``times[floor(n/2)]`` median.

    python studies/fidelity.py [--samples 200] [--delays 0,5,20]

Goal: perfgate's median within 0.5 ms of the known delay.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


# -- the server (run as a child: fidelity.py --serve PORT) ------------------------
def serve(port: int) -> None:
    from aiohttp import web

    handler_ms: dict[int, list[float]] = {}

    async def delay(request: web.Request) -> web.Response:
        t0 = time.perf_counter()
        ms = int(request.match_info["ms"])
        if ms:
            # asyncio.sleep wakes up to ~1 ms late (epoll's millisecond timeout):
            # sleep to 2 ms short of the delay, then spin, so the delay is exact.
            due = t0 + ms / 1000
            if ms > 2:
                await asyncio.sleep(ms / 1000 - 0.002)
            while time.perf_counter() < due:
                pass
        handler_ms.setdefault(ms, []).append((time.perf_counter() - t0) * 1000)
        return web.json_response({"slept_ms": ms})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({str(k): v for k, v in handler_ms.items()})

    async def reset(request: web.Request) -> web.Response:
        handler_ms.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/delay/{ms}", delay)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- the measuring side -----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, data: bytes | None = None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as resp:
        return bytes(resp.read())


def _wait_ready(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("fidelity server exited early")
        try:
            _get(base + "/stats")
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("fidelity server did not start")


def _server_medians(base: str) -> dict[int, float]:
    raw = json.loads(_get(base + "/stats"))
    return {int(k): statistics.median(v) for k, v in raw.items()}


def seed_method(url: str, samples: int) -> float:
    """benchmark.ts's measureOperation: Date.now() deltas, times[floor(n/2)]."""
    times = []
    for _ in range(samples):
        start = math.floor(time.time() * 1000)
        _get(url)
        times.append(math.floor(time.time() * 1000) - start)
    times.sort()
    return float(times[len(times) // 2])


def reference_client(port: int, path: str, samples: int, warmup: int = 20) -> float:
    """The floor: blocking http.client on one kept-alive connection, perf_counter_ns.
    What perfgate reports above this is perfgate's own overhead; what this
    reports above the server's handler time is the OS and loopback."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times = []
    try:
        for i in range(warmup + samples):
            t0 = time.perf_counter_ns()
            conn.request("GET", path)
            conn.getresponse().read()
            if i >= warmup:
                times.append((time.perf_counter_ns() - t0) / 1e6)
    finally:
        conn.close()
    return statistics.median(times)


def perfgate_bench(base: str, delays: list[int], samples: int, workdir: Path) -> dict[int, float]:
    lines = ["name: fidelity", f"target: {base}", f"defaults: {{samples: {samples}, warmup: 20}}"]
    lines.append("operations:")
    for ms in delays:
        lines += [f"  - name: delay {ms} ms", f"    request: {{url: /delay/{ms}}}"]
    suite = workdir / "fidelity.yml"
    suite.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = workdir / "fidelity.json"
    cmd = [sys.executable, "-m", "perfgate", "bench", str(suite), "-o", str(out), "-q"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"perfgate bench failed:\n{proc.stdout}\n{proc.stderr}")
    ops = json.loads(out.read_text(encoding="utf-8"))["suites"][0]["operations"]
    return {ms: float(op["summary"]["median"]) for ms, op in zip(delays, ops, strict=True)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--delays", default="0,5,20", help="known delays in ms (comma-separated)")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    delays = [int(x) for x in args.delays.split(",")]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        _wait_ready(base, proc)
        with tempfile.TemporaryDirectory() as tmp:
            _get(base + "/reset", b"")
            ours = perfgate_bench(base, delays, args.samples, Path(tmp))
            server_ours = _server_medians(base)
        _get(base + "/reset", b"")
        seed = {ms: seed_method(f"{base}/delay/{ms}", args.samples) for ms in delays}
        server_seed = _server_medians(base)
        ref = {ms: reference_client(port, f"/delay/{ms}", args.samples) for ms in delays}
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    print(f"median of {args.samples} samples (ms); server = handler time measured in the server")
    head = (
        "| delay | server (perfgate run) | perfgate bench | error vs delay | error vs server "
        "| http.client ref | perfgate - ref | server (seed run) | seed Date.now() | error vs delay |"
    )
    print(head)
    print("|" + "---|" * 10)
    worst = 0.0
    for ms in delays:
        err = ours[ms] - ms
        worst = max(worst, abs(err)) if ms else worst
        print(
            f"| {ms} | {server_ours[ms]:.3f} | {ours[ms]:.3f} | {err:+.3f} | "
            f"{ours[ms] - server_ours[ms]:+.3f} | {ref[ms]:.3f} | {ours[ms] - ref[ms]:+.3f} | "
            f"{server_seed[ms]:.3f} | {seed[ms]:.0f} | "
            f"{seed[ms] - ms:+.0f} |"
        )
    verdict = "within" if worst <= 0.5 else "OUTSIDE"
    print(
        f"\nperfgate: worst |median - delay| over non-zero delays = {worst:.3f} ms ({verdict} 0.5 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
