"""Is ``--find-limit`` stable? Two searches on the demo API, within 15% of each other?

Measured and printed, not asserted (a shared 2-core machine is noisy):

    python studies/find_limit_stability.py [--cpu-us 3000] [--time-scale 0.3]

Each run starts a fresh ``perfgate demo-api`` (on a free loopback port) and
searches the maximum sustainable rate of ``GET /health`` under the default
SLO (p95 < 200 ms, errors < 1%).
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import time
from pathlib import Path

from perfgate.script import load_script_text
from perfgate.stress import find_limit
from perfgate.target import ServiceSpec

SCRIPT = """
config:
  target: "{target}"
  phases:
    - duration: 1
      arrivalRate: 1
scenarios:
  - flow:
      - get:
          url: "/health"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_search(workdir: Path, cpu_us: int, time_scale: float) -> float | None:
    port = free_port()
    spec = ServiceSpec(
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
            str(workdir / f"demo-{port}.sqlite"),
            *(["--cpu-us", str(cpu_us)] if cpu_us else []),
        ],
        ready_url=f"http://127.0.0.1:{port}/health",
        port=port,
        log=workdir / f"demo-{port}.log",
    )
    script = load_script_text(SCRIPT.format(target=spec.base_url), file="find-limit.yml")
    started = time.monotonic()
    result = find_limit(script, service=spec, time_scale=time_scale, log=lambda m: print("   ", m))
    print(f"  {result.summary()}  [{time.monotonic() - started:.0f} s]")
    return result.limit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-us", type=int, default=3000, help="demo API CPU per request")
    parser.add_argument("--time-scale", type=float, default=0.3, help="ramp and step lengths x F")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        limits = []
        for i in (1, 2):
            print(f"run {i}: demo-api --cpu-us {args.cpu_us}, time-scale {args.time_scale}")
            limits.append(one_search(Path(tmp), args.cpu_us, args.time_scale))
    a, b = limits
    if a is None or b is None:
        print(f"no limit in one run: {limits}")
        return 0
    spread = abs(a - b) / min(a, b)
    print(
        f"limits {a:g} and {b:g} arrivals/s: differ by {spread:.1%} "
        f"({'within' if spread <= 0.15 else 'NOT within'} 15%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
