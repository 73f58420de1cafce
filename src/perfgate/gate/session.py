"""Measure one arm: start the API, watch it, run the planned suites.

One :class:`ArmSession` owns one copy of the API under test (or a remote
URL), its :class:`~perfgate.target.monitor.TargetMonitor` (in a process of its
own, :mod:`perfgate.target.watch_process`, so polls go on while a suite's own
loop is busy and never cost the generator its CPU time) and a death
watch that stops the running suite as soon as the service dies. Results
gathered before a crash or a Ctrl-C are kept.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from perfgate.gate.console import Log
from perfgate.gate.plan import PlannedSuite, with_target
from perfgate.result import Check, SuiteResult
from perfgate.stress import CRITERIA

if TYPE_CHECKING:
    from perfgate.config import MonitorConfig
    from perfgate.target import Service, ServiceSpec, WatchProcess

__all__ = ["ArmSession", "run_planned_suite"]


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
    assert planned.script is not None
    if planned.kind == "stress":
        # Breaking point, recovery, leak, crash and cleanup verdicts (stress/)
        from perfgate.stress import StressConfig, run_stress

        result = run_stress(
            planned.script,
            workers=planned.config.workers or workers,
            seed=0,
            config=StressConfig(failures=planned.failures),
        )
        result.name = planned.name
        return result
    from perfgate.engine import run_script

    progress = None
    if not quiet:
        from perfgate.engine import Progress, scheduler

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
    return result


def _command(cmd: str | list[str]) -> str:
    return cmd if isinstance(cmd, str) else " ".join(cmd)


@dataclass
class ArmSession:
    """One arm (``candidate`` or ``base``): a service we start, or a remote URL."""

    label: str
    spec: ServiceSpec | None = None
    url: str | None = None
    monitor_config: MonitorConfig | None = None
    monitor_cpus: list[int] | None = None  # A/B: the generator's CPUs, not the arms'
    log: Log = print
    service: Service | None = None
    ready_s: float | None = None  # from the start command's spawn, setup excluded
    setup_s: float | None = None
    crash: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    _monitor: WatchProcess | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _watch: threading.Thread | None = None
    _t0: float = field(default_factory=time.monotonic)

    @property
    def t0(self) -> float:
        """When the session began (monotonic): time zero of its monitor's rows."""
        return self._t0

    @property
    def base_url(self) -> str:
        if self.spec is not None:
            return self.spec.base_url
        assert self.url is not None
        return self.url.rstrip("/")

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> ArmSession:
        """Start the service (if any), wait until ready, verify its port, start watching."""
        return self.launch().wait_ready()

    def set_up(self) -> ArmSession:
        """Run the service's setup, without starting it (A/B: both arms, in parallel).

        On failure the service is stopped and the error raised.
        """
        from perfgate.target import Service

        if self.spec is not None and self.service is None:
            self.service = Service(self.spec)
            if self.spec.setup:
                self.log(f"[{self.label}] setting up: {_command(self.spec.setup)}")
                began = time.monotonic()
                self.service.prepare()  # stops itself on failure
                self.setup_s = time.monotonic() - began
                self.log(f"[{self.label}] set up in {self.setup_s:.2f}s")
            else:
                self.service.prepare()
        return self

    def launch(self) -> ArmSession:
        """Spawn the (set-up) service, without waiting for it to be ready.

        A/B sets both arms up, then launches both before waiting for either,
        so that neither is the older process when the rounds begin. On
        failure the service is stopped and the error raised.
        """
        if self.spec is not None:
            self.set_up()
            assert self.service is not None
            self.log(f"[{self.label}] starting: {_command(self.spec.start)}")
            self.service.spawn()  # stops itself on failure
            self._spawn_watcher()
        return self

    def wait_ready(self) -> ArmSession:
        """Wait until the launched service is ready, verify its port, start watching."""
        if self.spec is not None:
            assert self.service is not None, "launch() first"
            try:
                self.ready_s = self.service.wait_ready()
                if self.spec.listen_port is not None and self.spec.ready_host in (
                    "127.0.0.1",
                    "localhost",
                    "::1",
                ):
                    self.service.verify_listener()
            except BaseException:
                self._stop_monitor()
                self.service.stop()
                raise
            self.log(f"[{self.label}] ready {self.ready_s:.2f}s after its start at {self.base_url}")
            self._watch = threading.Thread(
                target=self._watch_death, name=f"perfgate-watch-{self.label}", daemon=True
            )
            self._watch.start()
        if self.monitor_config is not None and self.monitor_config.enabled:
            from perfgate.target import WatchTarget

            if self._monitor is None:  # a remote URL: nothing was launched
                self._spawn_watcher()
            monitor, self._monitor = self._monitor, None
            if monitor is not None:
                try:
                    monitor.start(
                        WatchTarget(
                            base_url=self.base_url,
                            config=self.monitor_config,
                            pid=self.service.pid if self.service is not None else None,
                            port=self.spec.listen_port if self.spec is not None else None,
                            t0=self._t0,
                            cpus=self.monitor_cpus,
                        )
                    )
                    self._monitor = monitor
                except Exception as exc:  # monitoring is information; measuring goes on
                    self.warnings.append(f"[{self.label}] monitor did not start: {exc}")
        return self

    def _spawn_watcher(self) -> None:
        """Spawn the monitor's process now, to import while the service starts."""
        if self.monitor_config is None or not self.monitor_config.enabled:
            return
        from perfgate.target import WatchProcess

        try:
            self._monitor = WatchProcess()
        except OSError as exc:  # monitoring is information; measuring goes on
            self.warnings.append(f"[{self.label}] monitor did not start: {exc}")

    def relaunch(self) -> dict[str, Any]:
        """Stop the process and spawn a fresh one of the same build (setup not repeated).

        A/B's replicate launches (``ab.launches``); :meth:`wait_ready` next
        (both arms are spawned before either is waited for). Returns the
        monitor record of the launch that ended. Raises ServiceError when the
        service had died or cannot be spawned.
        """
        record = self._stop_monitor()
        if self.service is None:
            return record
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout=2)
            self._watch = None
        self.service.respawn()  # raises on an earlier death (kept in .crash by the watch)
        self._stop = threading.Event()
        self._spawn_watcher()
        return record

    def _stop_monitor(self) -> dict[str, Any]:
        """Stop the monitor (if any); its record, an error moved to the warnings."""
        record: dict[str, Any] = {}
        if self._monitor is not None:
            record = self._monitor.stop()
            self._monitor = None
            if "error" in record:
                self.warnings.append(f"[{self.label}] monitor: {record.pop('error')}")
        return record

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
        monitor = self._stop_monitor()
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

    def run_suite(self, planned: PlannedSuite) -> SuiteResult:
        """Run one suite against this arm; a crash mid-suite is recorded, not raised."""
        aimed = with_target(planned, self.base_url)
        cpu_before = self.cpu_seconds()
        result = run_planned_suite(aimed, self._stop)
        cpu_after = self.cpu_seconds()
        if cpu_before is not None and cpu_after is not None and cpu_after >= cpu_before:
            result.extra["target_cpu_s"] = round(cpu_after - cpu_before, 6)
        if self.crashed:
            self.record_crash(result)
        return result

    def record_crash(self, result: SuiteResult) -> str:
        """The "no crash" check, failed, and the error on ``result``; returns the message."""
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
                criterion=CRITERIA["stress.no_crashes"],
                suite=result.name,
            )
        )
        return message
