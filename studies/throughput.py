"""Generator speed: perfgate vs Locust FastHttpUser vs Artillery, same run, one core.

nginx (one worker) is pinned to the last core, every generator to core 0
(taskset), one at a time, a few repetitions each; the table shows medians and
the ratio to Locust. Modes:

* closed loop: a few virtual users looping requests on their own connections;
* open arrivals: one request per virtual user at an offered 16,000/s (above
  one core's capacity; ``maxVusers: 256`` skips what cannot start, so the
  backlog stays bounded), ``http.pool`` set so arrivals share connections;
* ``--memory``: RSS growth of a perfgate run at 1,000 req/s (default 600 s).

Setup (not in the test suite):
    apt-get install -y nginx
    python -m venv studies/_tools/locust-venv && studies/_tools/locust-venv/bin/pip install locust
    (cd studies/_tools && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --ignore-scripts artillery@2)
Run:
    python studies/throughput.py [--seconds 10] [--reps 3] [--vusers 8]
    python studies/throughput.py --memory [--seconds 600]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOOLS = HERE / "_tools"
LOCUST = TOOLS / "locust-venv" / "bin" / "locust"
ARTILLERY = TOOLS / "node_modules" / ".bin" / "artillery"

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 8192; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 65;
  client_body_temp_path {dir};
  proxy_temp_path {dir};
  fastcgi_temp_path {dir};
  uwsgi_temp_path {dir};
  scgi_temp_path {dir};
  server {{
    listen 127.0.0.1:{port} backlog=8192;
    location / {{ default_type application/json; return 200 '{{"status":"ok"}}'; }}
  }}
}}
"""

LOCUSTFILE = """
from locust import FastHttpUser, constant, task

class U(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self):
        self.client.get("/health")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cores() -> tuple[str, str]:
    n = os.cpu_count() or 1
    return "0", str(n - 1)


@contextmanager
def nginx(workdir: Path) -> Iterator[str]:
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port))
    _, server_core = cores()
    proc = subprocess.Popen(
        ["taskset", "-c", server_core, exe, "-p", str(workdir), "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGQUIT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _rate_from_report(path: Path) -> float:
    agg = json.loads(path.read_text())["aggregate"]
    n = agg["counters"].get("http.responses", 0)
    span_ms = (agg.get("lastCounterAt") or 0) - (agg.get("firstCounterAt") or 0)
    return n / (span_ms / 1000.0) if span_ms > 0 else 0.0


def run_perfgate(url: str, work: Path, seconds: float, vusers: int, mode: str) -> float:
    script = work / f"perfgate-{mode}.yml"
    if mode == "closed":
        count = int(15000 * seconds / vusers)
        body = f"""config:
  target: "{url}"
  phases: [{{duration: 1, arrivalCount: {vusers}}}]
scenarios:
  - flow:
      - loop:
          - get: {{url: "/health"}}
        count: {count}
"""
    else:
        body = f"""config:
  target: "{url}"
  http: {{pool: {vusers}}}
  phases: [{{duration: {seconds}, arrivalRate: 16000, maxVusers: 256}}]
scenarios:
  - flow: [{{get: {{url: "/health"}}}}]
"""
    script.write_text(body)
    report = work / f"perfgate-{mode}.json"
    gen_core, _ = cores()
    cmd = ["taskset", "-c", gen_core, sys.executable, "-m", "perfgate", "run", str(script)]
    subprocess.run(
        [*cmd, "--workers", "1", "-q", "-o", str(report)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return _rate_from_report(report)


def run_locust(url: str, work: Path, seconds: float, vusers: int) -> float:
    lf = work / "locustfile.py"
    lf.write_text(LOCUSTFILE)
    prefix = work / "locust"
    gen_core, _ = cores()
    cmd = [
        str(LOCUST),
        "-f",
        str(lf),
        "--headless",
        "-u",
        str(vusers),
        "-r",
        str(vusers),
        "-t",
        f"{int(seconds)}s",
    ]
    cmd += ["--host", url, "--csv", str(prefix), "--only-summary", "--loglevel", "ERROR"]
    subprocess.run(["taskset", "-c", gen_core, *cmd], check=False, capture_output=True, timeout=600)
    with open(f"{prefix}_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                return float(row["Requests/s"])
    return 0.0


def run_artillery(url: str, work: Path, seconds: float, vusers: int) -> float:
    script = work / "artillery.yml"
    count = int(4000 * seconds / vusers)
    script.write_text(
        f"""config:
  target: "{url}"
  phases: [{{duration: 1, arrivalCount: {vusers}}}]
scenarios:
  - flow:
      - loop:
          - get: {{url: "/health"}}
        count: {count}
"""
    )
    report = work / "artillery.json"
    gen_core, _ = cores()
    env = {**os.environ, "ARTILLERY_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}
    subprocess.run(
        ["taskset", "-c", gen_core, str(ARTILLERY), "run", "-o", str(report), str(script)],
        check=False,
        capture_output=True,
        timeout=900,
        env=env,
    )
    # Time from the report's own metric timestamps: offline, telemetry stalls exit.
    return _rate_from_report(report) if report.exists() else 0.0


def throughput(args: argparse.Namespace) -> None:
    from tabulate import tabulate

    with tempfile.TemporaryDirectory(prefix="perfgate-bench-") as tmp:
        work = Path(tmp)
        with nginx(work) as url:
            tools: dict[str, Callable[[], float]] = {
                "perfgate closed loop": lambda: run_perfgate(
                    url, work, args.seconds, args.vusers, "closed"
                ),
                "perfgate open arrivals (pool)": lambda: run_perfgate(
                    url, work, args.seconds, args.vusers, "open"
                ),
            }
            if LOCUST.exists():
                tools["locust FastHttpUser"] = lambda: run_locust(
                    url, work, args.seconds, args.vusers
                )
            if ARTILLERY.exists() and not args.no_artillery:
                tools["artillery 2"] = lambda: run_artillery(url, work, args.seconds, args.vusers)
            results: dict[str, list[float]] = {name: [] for name in tools}
            for rep in range(args.reps):  # interleaved, so drift hits every tool alike
                for name, fn in tools.items():
                    rate = fn()
                    results[name].append(rate)
                    print(f"rep {rep + 1}: {name}: {rate:,.0f} req/s", file=sys.stderr)
    base = (
        statistics.median(results["locust FastHttpUser"])
        if "locust FastHttpUser" in results
        else None
    )
    rows = []
    for name, rates in results.items():
        med = statistics.median(rates)
        ratio = f"{med / base:.2f}" if base else "-"
        rows.append([name, f"{med:,.0f}", " ".join(f"{r:,.0f}" for r in rates), ratio])
    print(tabulate(rows, headers=["generator (1 core)", "median req/s", "runs", "vs locust"]))


def memory(args: argparse.Namespace) -> None:
    import psutil

    with tempfile.TemporaryDirectory(prefix="perfgate-mem-") as tmp:
        work = Path(tmp)
        with nginx(work) as url:
            script = work / "mem.yml"
            script.write_text(
                f"""config:
  target: "{url}"
  phases: [{{duration: {int(args.seconds)}, arrivalRate: 1000}}]
scenarios:
  - flow: [{{get: {{url: "/health?x={{{{ $randomNumber(1, 1000000) }}}}"}}}}]
"""
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "perfgate", "run", str(script), "--workers", "1", "-q"],
                stdout=subprocess.DEVNULL,
            )
            p = psutil.Process(proc.pid)
            samples: list[tuple[float, float]] = []
            t0 = time.monotonic()
            try:
                while proc.poll() is None:
                    try:
                        samples.append((time.monotonic() - t0, p.memory_info().rss / 2**20))
                    except psutil.NoSuchProcess:
                        break
                    time.sleep(2)
            finally:
                if proc.poll() is None:
                    proc.terminate()
                proc.wait(30)
    warm = [rss for t, rss in samples if t >= 10] or [rss for _, rss in samples]
    growth = max(warm) - warm[0] if warm else 0.0
    print(
        f"RSS after warm-up {warm[0]:.1f} MB, peak {max(warm):.1f} MB, growth {growth:.1f} MB over {args.seconds:.0f} s"
    )
    print("PASS" if growth < 50 else "FAIL", "(budget: < 50 MB growth)")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop nginx
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--seconds", type=float, default=None, help="per run (default 10; --memory: 600)"
    )
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--vusers", type=int, default=8)
    ap.add_argument("--no-artillery", action="store_true")
    ap.add_argument("--memory", action="store_true", help="RSS growth at 1,000 req/s instead")
    args = ap.parse_args()
    if args.memory:
        args.seconds = args.seconds or 600.0
        memory(args)
    else:
        args.seconds = args.seconds or 10.0
        throughput(args)


if __name__ == "__main__":
    main()
