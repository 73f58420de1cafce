"""Shared fixtures: a real demo API on a free loopback port, temp databases."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# A test skipped for a missing Python module fails the run (see the plugin).
pytest_plugins = ["import_skip_guard"]

REPO = Path(__file__).resolve().parent.parent
# The seed's scripts ship unchanged inside the package (perfgate demo uses them).
SEED = REPO / "src" / "perfgate" / "data" / "seed"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http_ok(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if 200 <= resp.status < 300:
                    return
        except Exception as exc:  # retried until the deadline
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not become ready: {last}")


class DemoAPI:
    """A running `perfgate demo-api` subprocess."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, log: Path, db: Path) -> None:
        self.proc = proc
        self.url = url
        self.log = log
        self.db = db
        self.port = int(url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def spawn_demo_api(
    directory: Path, *extra: str, db: Path | None = None, wait: float | None = 30
) -> DemoAPI:
    """Start `perfgate demo-api` on a free port, its log and database in ``directory``."""
    port = free_port()
    dbp = db or directory / f"demo-{port}.sqlite"
    log = directory / f"demo-{port}.log"
    cmd = [sys.executable, "-m", "perfgate", "demo-api", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as fh:
        proc = subprocess.Popen(
            [*cmd, "--db", str(dbp), *extra],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    api = DemoAPI(proc, f"http://127.0.0.1:{port}", log, dbp)
    if wait:
        try:
            wait_http_ok(api.url + "/health", timeout=wait)
        except RuntimeError as exc:
            api.stop()
            raise RuntimeError(f"{exc}\n{log.read_text(errors='replace')[-2000:]}") from None
    return api


@pytest.fixture
def start_demo_api(tmp_path: Path) -> Iterator[Callable[..., DemoAPI]]:
    """Factory: start_demo_api("--latency-ms", "50") -> DemoAPI (stopped at teardown)."""
    started: list[DemoAPI] = []

    def start(*extra: str, db: Path | None = None, wait: bool = True) -> DemoAPI:
        api = spawn_demo_api(tmp_path, *extra, db=db, wait=30 if wait else None)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()


@pytest.fixture(scope="session")
def shared_demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoAPI]:
    """One clean demo API for the whole session (read-mostly tests)."""
    api = spawn_demo_api(tmp_path_factory.mktemp("shared-demo"), wait=60)
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def seed_dir() -> Path:
    if not SEED.is_dir():
        pytest.skip(f"seed scripts not found at {SEED}")
    return SEED
