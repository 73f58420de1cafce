"""A :class:`TargetMonitor` in a process of its own.

Reading /proc/net/tcp under load and polling endpoints cost the generator's
process GIL time that shows up as arrival lag; a separate process keeps the
watcher from disturbing what it watches.

The process is spawned as soon as the API is launched and imports while the
API starts; :meth:`WatchProcess.start` then hands it its target. It runs
``python -c`` with this module only, not multiprocessing's spawn: spawn
re-imports the parent's main script in each child (the fork server's
preload of ``__main__`` does not take effect on Python 3.11), ~1.2 s per
arm and per launch, waited for before each launch's warm-up (~6 s of a
2-launch A/B's ~93 s); this child imports in ~0.3 s, overlapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from perfgate.config import MonitorConfig

__all__ = ["WatchProcess", "WatchTarget"]

#: Seconds a watcher may take to report that it started, and to hand its record over.
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class WatchTarget:
    """What the watch process watches, and where it may run (picklable)."""

    base_url: str
    config: MonitorConfig
    pid: int | None
    port: int | None
    t0: float
    cpus: list[int] | None = None  # A/B: the generator's CPUs, not the arms'


def yield_to_generator(cpus: list[int] | None) -> None:
    """Keep to the generator's CPUs (``cpus``), and run only when they are idle.

    The monitor shares the generator's CPU. At normal priority each sample
    (a few /proc reads, every half second) preempts the generator and makes
    arrivals late, and the A/B drops every pair whose lag p99 exceeds 1 ms.
    As SCHED_IDLE (threads started later inherit it) it waits for the
    generator's idle moments, which at A/B rates are most of the time.
    """
    if cpus and hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)  # never on the arms' CPU
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):  # not Linux: the lowest nice value instead
        with contextlib.suppress(AttributeError, OSError):
            os.nice(19)


def _watch(conn: Connection, target: WatchTarget) -> dict[str, Any]:
    """Poll and sample ``target`` until the parent says "stop"; the record."""
    yield_to_generator(target.cpus)
    config, pid, port, t0 = target.config, target.pid, target.port, target.t0
    from perfgate.target.monitor import TargetMonitor
    from perfgate.target.sampler import ProcessSampler

    async def main() -> dict[str, Any]:
        sampler = (
            ProcessSampler(pid, interval=config.sample_interval, t0=t0).start() if pid else None
        )
        monitor = TargetMonitor.from_config(config, target.base_url, t0=t0)
        monitor.sampler = sampler
        if port is not None:
            monitor.port = port
            monitor.count_connections = config.connections
        await monitor.start()
        conn.send("started")
        loop = asyncio.get_running_loop()
        while not await loop.run_in_executor(None, conn.poll, 0.2):
            pass
        result = await monitor.stop()
        if sampler is not None:
            sampler.stop()
            result = monitor.result()
        return result

    return asyncio.run(main())


def child_main(fd: int) -> None:
    """The watch process (``python -c``): wait for a target on ``fd``, watch it, answer
    "stop" with the record. Ends quietly when the parent goes without sending one."""
    conn = Connection(fd)
    try:
        try:
            target = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(_watch(conn, target))
        except Exception as exc:  # reported to the parent as a warning, never a crash
            conn.send({"error": f"{type(exc).__name__}: {exc}"})
    except (EOFError, OSError):  # the parent went away mid-watch
        pass
    finally:
        conn.close()


class WatchProcess:
    """One watcher process, spawned now, idle until :meth:`start` gives it a target.

    :meth:`start` waits until it watches; :meth:`stop` returns its record
    (``{"error": ...}`` when it ended early). A watcher never started is
    ended by :meth:`stop` too (or by the parent's exit: it reads EOF).
    """

    def __init__(self) -> None:
        self._conn, child = Pipe()
        # the perfgate this process runs, whatever the child's own sys.path says
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH")) if p
        )}  # fmt: skip
        try:
            self._proc = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from perfgate.target.watch_process import child_main; "
                    f"child_main({child.fileno()})",
                ],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            child.close()
        self._started = False

    def start(self, target: WatchTarget) -> None:
        """Hand the watcher its target; raise RuntimeError when it does not start."""
        try:
            self._conn.send(target)
            ok = self._conn.poll(START_TIMEOUT_S) and self._conn.recv() == "started"
        except (OSError, EOFError):
            ok = False
        if not ok:
            self._end()
            raise RuntimeError("the monitor process did not start")
        self._started = True

    def stop(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self._started:
            try:
                self._conn.send("stop")
                if self._conn.poll(STOP_TIMEOUT_S):
                    result = self._conn.recv()
            except (OSError, EOFError):
                result = {"error": "the monitor process ended early"}
        self._end()
        return result

    def _end(self) -> None:
        self._conn.close()  # an idle watcher reads EOF and exits
        try:
            self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)
