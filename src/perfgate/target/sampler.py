"""ProcessSampler: RSS and CPU time of a process tree at a fixed interval.

A background thread (not an asyncio task) so that sampling keeps its
cadence when the event loop is saturated by the load generator, and so the
sync and async callers can use it alike. ``cpu_seconds()`` reads the tree
on demand, so A/B rounds get exact per-round deltas, not interpolations.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

import psutil

from perfgate.target.process import tree, tree_cpu_seconds

__all__ = ["ProcessSampler"]

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


class ProcessSampler:
    """Samples a process tree (root + descendants) into ``series``.

    Each row: ``{"t": s since t0, "rss_bytes", "cpu_s" (cumulative user+sys),
    "cpu_pct" (since the previous row; 100 = one core), "threads", "procs"}``.
    """

    def __init__(
        self,
        root_pid: int,
        *,
        interval: float = 0.5,
        t0: float | None = None,
        max_samples: int = 200_000,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.root_pid = root_pid
        self.interval = interval
        self.t0 = time.monotonic() if t0 is None else t0
        self.max_samples = max_samples
        self._root: psutil.Process | None
        try:
            self._root = psutil.Process(root_pid)
        except psutil.NoSuchProcess:
            self._root = None
        self._series: list[dict[str, Any]] = []
        self._procs: list[psutil.Process] = []  # the tree at the last sample
        self._lock = threading.Lock()
        self._cpu_floor = 0.0  # cpu_s never goes back (a child's zombie state can dip it)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: tuple[float, float] | None = None  # (monotonic, cpu_s)
        self.root_gone_at: float | None = None  # t of the first sample without the root

    # -- on-demand readings -------------------------------------------------
    def cpu_seconds(self, *, rescan: bool = False) -> float:
        """Cumulative user+sys CPU seconds of the tree, read now (monotonic).

        Reads the CPU times of the processes found at the last sample (about
        0.1 ms each); ``rescan=True`` first re-lists the tree (a scan of all
        of /proc, ~10 ms on a busy host). A process born since the last
        sample is counted from the next one on; nothing is lost, as reaped
        children's time stays in their parent's ``children_*`` times.
        """
        if rescan or not self._procs:
            self._procs = tree(self._root) if self._root is not None else []
        measured = tree_cpu_seconds(self._procs) if self._procs else 0.0
        with self._lock:
            self._cpu_floor = max(self._cpu_floor, measured)
            return self._cpu_floor

    def sample_now(self) -> dict[str, Any] | None:
        """Take one sample, append it to the series and return it (None when gone)."""
        now = time.monotonic()
        procs = tree(self._root) if self._root is not None else []
        self._procs = procs
        if not procs:
            if self.root_gone_at is None:
                self.root_gone_at = now - self.t0
            return None
        rss = threads = 0
        for proc in procs:
            try:
                with proc.oneshot():
                    rss += proc.memory_info().rss
                    threads += proc.num_threads()
            except _GONE:
                continue
        cpu = tree_cpu_seconds(procs)
        with self._lock:
            cpu = self._cpu_floor = max(self._cpu_floor, cpu)
            pct = 0.0
            if self._last is not None and now > self._last[0]:
                pct = 100.0 * (cpu - self._last[1]) / (now - self._last[0])
            self._last = (now, cpu)
            row: dict[str, Any] = {
                "t": round(now - self.t0, 3),
                "rss_bytes": rss,
                "cpu_s": round(cpu, 4),
                "cpu_pct": round(pct, 1),
                "threads": threads,
                "procs": len(procs),
            }
            if len(self._series) < self.max_samples:
                self._series.append(row)
        return row

    @property
    def series(self) -> list[dict[str, Any]]:
        """A copy of the samples so far."""
        with self._lock:
            return list(self._series)

    # -- background thread --------------------------------------------------
    def start(self) -> ProcessSampler:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"perfgate-sampler-{self.root_pid}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (idempotent)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=max(5.0, 4 * self.interval))

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self.sample_now()
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (machine overloaded): skip, don't burst
                next_at = time.monotonic()
                delay = 0.0
            if self._stop.wait(delay):
                break

    def __enter__(self) -> ProcessSampler:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
