"""The shop's fault constants do what the blind-class rows of studies/default_family.py
say (issue 22): a real shop process per case, patched as its candidate branch would be."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from apps.shop_repo import APPS, CHANGES
from conftest import free_port, wait_http_ok


@contextmanager
def _shop(tmp_path: Path, *changes: tuple[str, str]) -> Iterator[tuple[str, int]]:
    source = (APPS / "shop_api.py").read_text()
    for old, new in changes:
        assert old in source, old
        source = source.replace(old, new)
    script = tmp_path / "shop_api.py"
    script.write_text(source)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port), str(tmp_path / "shop.sqlite")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(url + "/health")
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _get(url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=10) as resp:
        resp.read()
    return time.monotonic() - started


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_the_blind_class_rows_change_one_constant_each() -> None:
    for row in ("tail4", "leak16", "lock"):
        change = CHANGES[row]
        assert change is not None and change[0] in (APPS / "shop_api.py").read_text()


def test_tail_fraction_slows_that_share_of_product_pages_only(tmp_path: Path) -> None:
    # every page slowed (fraction 1) so one request shows it; the health check is not
    with _shop(tmp_path, ("PRODUCT_TAIL_FRACTION = 0.0", "PRODUCT_TAIL_FRACTION = 1.0")) as (
        url,
        _,
    ):
        assert _get(url + "/products/7") >= 0.040
        assert min(_get(url + "/health") for _ in range(5)) < 0.040


def test_leak_keeps_what_each_request_allocates(tmp_path: Path) -> None:
    with _shop(tmp_path, CHANGES["leak16"] or ("", "")) as (url, pid):
        for _ in range(20):  # settle the allocator and the thread pool first
            _get(url + "/health")
        before = _rss_kib(pid)
        for _ in range(300):
            _get(url + "/health")
        grown = _rss_kib(pid) - before
    assert grown >= 0.8 * 300 * 16, grown  # 16 KiB a request, resident


def test_global_lock_serializes_requests(tmp_path: Path) -> None:
    with (
        _shop(tmp_path, ("GLOBAL_LOCK_MS = 0.0", "GLOBAL_LOCK_MS = 20.0")) as (url, _),
        ThreadPoolExecutor(8) as pool,
    ):
        started = time.monotonic()
        list(pool.map(lambda _: _get(url + "/health"), range(16)))
        elapsed = time.monotonic() - started
    # 16 requests on 8 connections, one lock held 20 ms each: at least 320 ms in all
    assert elapsed >= 16 * 0.020, elapsed
