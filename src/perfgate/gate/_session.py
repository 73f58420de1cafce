"""Measure one arm: start the API, watch it, run the planned suites.

One :class:`ArmSession` owns one copy of the API under test (or a remote
URL), its :class:`~perfgate.monitor.TargetMonitor` (in a thread with its own
event loop, so polls go on while a suite's own loop is busy) and a death
watch that stops the running suite as soon as the service dies. Results
gathered before a crash or a Ctrl-C are kept.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfgate.errors import ServiceError
from perfgate.gate._plan import PlannedSuite, with_target
from perfgate.result import Check, SuiteResult

if TYPE_CHECKING:
    from perfgate.config.project import MonitorConfig
    from perfgate.monitor import TargetMonitor
    from perfgate.service import Service, ServiceSpec

__all__ = ["ArmSession", "SuiteRunner", "run_planned_suite"]

Log = Callable[[str], None]
#: Runs one planned suite against a URL; ``stop`` is set when the run must end early.
SuiteRunner = Callable[[PlannedSuite, threading.Event], SuiteResult]


def run_planned_suite(
    planned: PlannedSuite, stop: threading.Event, *, workers: int | None = 1, quiet: bool = False
) -> SuiteResult:
    """Run one suite in this thread (its own event loop), honouring ``stop``."""
    if planned.kind == "bench":
        from perfgate.bench import run_bench

        assert planned.bench is not None
        result = run_bench(planned.bench, seed=0)
        result.name = planned.name
        return result
    from perfgate.engine.runner import run_script

    assert planned.script is not None
    progress = None
    if not quiet:
        from perfgate.engine import scheduler
        from perfgate.engine.progress import Progress

        phases = [
            {
                "index": p.index,
                "name": p.name,
                "start_s": off,
                "duration_s": scheduler.phase_length(p),
            }
            for p, off in zip(
                planned.script.phases, scheduler.phase_offsets(planned.script.phases), strict=True
            )
        ]
        progress = Progress(phases, scheduler.total_duration(planned.script.phases))
    result = run_script(
        planned.script,
        workers=planned.config.workers or workers,
        progress=progress,
        stop_event=stop,
        handle_sigint=threading.current_thread() is threading.main_thread(),
        seed=0,
    )
    result.name = planned.name
    if planned.kind == "stress":
        result.kind = "stress"
    return result


class _MonitorThread:
    """A TargetMonitor on its own event loop in a daemon thread."""

    def __init__(self, monitor: TargetMonitor) -> None:
        self.monitor = monitor
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="perfgate-monitor", daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.monitor.start(), self._loop).result(timeout=10)

    def stop(self) -> dict[str, Any]:
        try:
            result = asyncio.run_coroutine_threadsafe(self.monitor.stop(), self._loop).result(
                timeout=15
            )
        except Exception:  # the monitor must never cost the run its results
            result = self.monitor.result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()
        return result


@dataclass
class ArmSession:
    """One arm (``candidate`` or ``base``): a service we start, or a remote URL."""

    label: str
    spec: ServiceSpec | None = None
    url: str | None = None
    monitor_config: MonitorConfig | None = None
    log: Log = print
    service: Service | None = None
    ready_s: float | None = None
    crash: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    _monitor: _MonitorThread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _watch: threading.Thread | None = None
    _t0: float = field(default_factory=time.monotonic)

    @property
    def base_url(self) -> str:
        if self.spec is not None:
            return self.spec.base_url
        assert self.url is not None
        return self.url.rstrip("/")

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> ArmSession:
        """Start the service (if any), wait until ready, verify its port, start watching."""
        from perfgate.monitor import TargetMonitor
        from perfgate.service import Service

        if self.spec is not None:
            self.log(
                f"[{self.label}] starting: {self.spec.start if isinstance(self.spec.start, str) else ' '.join(self.spec.start)}"
            )
            self.service = Service(self.spec)
            try:
                self.service.start()
                self.ready_s = self.service.wait_ready()
                if self.spec.listen_port is not None and self.spec.ready_host in (
                    "127.0.0.1",
                    "localhost",
                    "::1",
                ):
                    self.service.verify_listener()
            except BaseException:
                self.service.stop()
                raise
            self.log(f"[{self.label}] ready after {self.ready_s:.2f}s at {self.base_url}")
            self._watch = threading.Thread(
                target=self._watch_death, name=f"perfgate-watch-{self.label}", daemon=True
            )
            self._watch.start()
        if self.monitor_config is not None and self.monitor_config.enabled:
            monitor = TargetMonitor.from_config(
                self.monitor_config, self.base_url, service=self.service, t0=self._t0
            )
            self._monitor = _MonitorThread(monitor)
            try:
                self._monitor.start()
            except Exception as exc:  # monitoring is information; measuring goes on
                self.warnings.append(f"[{self.label}] monitor did not start: {exc}")
                self._monitor = None
        return self

    def _watch_death(self) -> None:
        assert self.service is not None
        while not self._stop.is_set():
            dead = self.service.death()
            if dead is not None:
                self.crash = dead.to_dict()
                self._stop.set()
                return
            time.sleep(0.2)

    def stop(self) -> dict[str, Any]:
        """Stop watching and stop the service; returns the monitor's record."""
        monitor: dict[str, Any] = {}
        if self._monitor is not None:
            monitor = self._monitor.stop()
            self._monitor = None
        if self.service is not None:
            dead = self.service.death()
            if dead is not None and self.crash is None:
                self.crash = dead.to_dict()
            self._stop.set()
            self.service.stop()
        if self._watch is not None:
            self._watch.join(timeout=2)
        return monitor

    def __enter__(self) -> ArmSession:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- measuring ------------------------------------------------------------
    @property
    def crashed(self) -> bool:
        return self.crash is not None or (
            self.service is not None and self.service.death() is not None
        )

    def cpu_seconds(self) -> float | None:
        if self.service is None:
            return None
        try:
            return self.service.cpu_seconds()
        except Exception:  # the process tree may be gone
            return None

    def run_suite(self, planned: PlannedSuite, runner: SuiteRunner | None = None) -> SuiteResult:
        """Run one suite against this arm; a crash mid-suite is recorded, not raised."""
        aimed = with_target(planned, self.base_url)
        cpu_before = self.cpu_seconds()
        if runner is None:
            result = run_planned_suite(aimed, self._stop)
        else:
            result = runner(aimed, self._stop)
        cpu_after = self.cpu_seconds()
        if cpu_before is not None and cpu_after is not None and cpu_after >= cpu_before:
            result.extra["target_cpu_s"] = round(cpu_after - cpu_before, 6)
        if self.crashed:
            self._record_crash(result)
        return result

    def _record_crash(self, result: SuiteResult) -> None:
        if self.crash is None and self.service is not None:
            dead = self.service.death()
            self.crash = dead.to_dict() if dead is not None else None
        crash = self.crash or {}
        what = crash.get("description", "exited")
        at = crash.get("at_s")
        message = f"the API under test ({self.label}) died during suite {result.name!r}: {what}" + (
            f" at {at:.1f}s after start" if isinstance(at, int | float) else ""
        )
        result.errors.append(message)
        result.checks.append(
            Check(
                name="no crash",
                status="fail",
                detail=message + "\n" + str(crash.get("log_tail", ""))[-2000:],
                criterion="No crashes or unhandled errors",
            )
        )

    def require_alive(self) -> None:
        """Raise ServiceError (with the log tail) when the service is gone."""
        if self.service is not None:
            try:
                self.service.check_alive()
            except ServiceError:
                raise
