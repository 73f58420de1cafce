"""``run_stress``: start and watch the target, run the script, judge the run.

The target is started (B's :class:`~perfgate.target.service.Service`) when a
service spec or a start command is given, and watched throughout by a
:class:`~perfgate.target.monitor.TargetMonitor` on a thread of its own (so the
engine's event loop is untouched). When the target dies the load stops; the
results gathered so far are kept and the crash is reported. A script whose
load never drops gets a short recovery probe at its starting rate appended,
so that "recovery after load reduction" can be measured.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from perfgate.engine import Merged, ProgressSink
from perfgate.metrics import Histogram
from perfgate.result import RunResult, SuiteResult
from perfgate.script import Phase, Script
from perfgate.stress._analyse import StressConfig, analyse, phase_rows
from perfgate.stress._checks import stress_checks
from perfgate.stress._series import offered_per_second
from perfgate.target import Service, ServiceSpec

__all__ = ["CaptureProgress", "recovery_probe", "run_stress", "stress_run_result"]

IDLE_BEFORE_S = 1.5  # connection counts before the load: the idle level
SETTLE_AFTER_S = 3.0  # after the load: do connections return to idle?
PROBE_NAME = "perfgate recovery probe"


class CaptureProgress:
    """A progress sink that keeps the engine's merge (per-second histograms) and its start."""

    def __init__(
        self,
        inner: ProgressSink | None = None,
        on_update: Callable[[Merged, float], None] | None = None,
    ) -> None:
        self.inner = inner
        self.on_update = on_update
        self.merged: Merged | None = None
        self.start_wall: float | None = None

    def update(self, merged: Merged, elapsed_s: float) -> None:
        self.merged = merged
        if self.start_wall is None:
            self.start_wall = time.time() - elapsed_s
        if self.on_update is not None:
            self.on_update(merged, elapsed_s)
        if self.inner is not None:
            self.inner.update(merged, elapsed_s)

    def finish(self, result: SuiteResult) -> None:
        if self.inner is not None:
            self.inner.finish(result)

    def second_histograms(self) -> dict[int, Histogram]:
        if self.merged is None:
            return {}
        return {t: b.total for t, b in self.merged.seconds.items()}


def recovery_probe(phases: list[Phase], seconds: float | None = None) -> Phase | None:
    """A steady phase at the starting rate, when the script's load never drops (None otherwise)."""
    from perfgate.engine import scheduler

    rates = [p.arrival_rate for p in phases if p.arrival_rate]
    if not rates:
        return None
    peak = max(max(p.arrival_rate or 0, p.ramp_to or 0) for p in phases)
    last = phases[-1]
    last_rate = last.ramp_to if last.ramp_to is not None else (last.arrival_rate or 0)
    if last.arrival_rate and last_rate <= 0.5 * peak:
        return None  # the script has its own cool-down
    total = scheduler.total_duration(phases)
    length = seconds if seconds is not None else max(10.0, min(60.0, 0.15 * total))
    return Phase(index=len(phases), name=PROBE_NAME, duration_s=length, arrival_rate=rates[0])


class _Watcher:
    """TargetMonitor plus generator-CPU samples, on a thread with its own event loop."""

    def __init__(
        self,
        base_url: str,
        *,
        service: Service | None,
        on_death: Callable[[], None],
        interval: float,
    ) -> None:
        self.base_url = base_url
        self.service = service
        self.on_death = on_death
        self.interval = interval
        self.t0_mono = time.monotonic()
        self.t0_wall = time.time()
        self.cpu_rows: list[dict[str, float]] = []  # {"wall", "cpu_pct"}
        self.connections: list[dict[str, Any]] = []
        self.port = _local_port(base_url, service)
        self.result: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._main, name="perfgate-stress-monitor", daemon=True
        )

    def start(self) -> _Watcher:
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=15)
        return self.result

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        from perfgate.target import TargetMonitor

        port = self.port
        # Open connections are counted before and after the load only (count_now): reading
        # /proc/net/tcp with tens of thousands of sockets during the load slowed the generator's
        # own connects (arrival lag of seconds in the seed's stress run).
        monitor = TargetMonitor(
            self.base_url,
            interval=self.interval,
            poll_timeout=min(2.0, self.interval),
            service=self.service,
            port=port,
            t0=self.t0_mono,
            count_connections=False,
        )
        await monitor.start()
        cpu = _GeneratorCpu(self.service)
        died = False
        try:
            while not self._stop.is_set():
                await asyncio.sleep(0.25)
                if not died and monitor.death is not None:
                    died = True
                    self.on_death()
                row = cpu.sample()
                if row is not None:
                    self.cpu_rows.append(row)
        finally:
            self.result = await monitor.stop()
            self.result["connections"] = list(self.connections)
            self.result.setdefault("available", {})["connections"] = bool(self.connections)
            self.result["port"] = self.port

    def count_now(self) -> None:
        """One open-connection sample of the target's port (monitor clock)."""
        from perfgate.target import tcp_counts

        if self.port is None:
            return
        counts = tcp_counts(self.port)
        if counts is not None:
            self.connections.append(
                {
                    "t": round(time.monotonic() - self.t0_mono, 3),
                    "established": counts.established,
                    "time_wait": counts.time_wait,
                    "close_wait": counts.close_wait,
                    "total": counts.total,
                }
            )

    def count_for(self, seconds: float, every: float = 0.5) -> None:
        for _ in range(max(1, int(seconds / every))):
            self.count_now()
            time.sleep(every)


class _GeneratorCpu:
    """Busiest generator process's CPU (percent of one core), once a second."""

    def __init__(self, service: Service | None) -> None:
        import psutil

        self._psutil = psutil
        self.me = psutil.Process(os.getpid())
        self.service = service
        self.last: dict[int, tuple[float, float]] = {}
        self.next_at = time.monotonic() + 1.0

    def sample(self) -> dict[str, float] | None:
        now = time.monotonic()
        if now < self.next_at:
            return None
        self.next_at = now + 1.0
        exclude = set(self.service.pids()) if self.service is not None else set()
        try:
            procs = [self.me, *self.me.children(recursive=True)]
        except self._psutil.Error:
            return None
        busiest = 0.0
        for p in procs:
            if p.pid in exclude:
                continue
            try:
                t = p.cpu_times()
            except self._psutil.Error:
                continue
            used = t.user + t.system
            prev = self.last.get(p.pid)
            self.last[p.pid] = (now, used)
            if prev is not None and now > prev[0]:
                busiest = max(busiest, 100.0 * (used - prev[1]) / (now - prev[0]))
        return {"wall": time.time(), "cpu_pct": round(busiest, 1)}


def _local_port(base_url: str, service: Service | None) -> int | None:
    if service is not None and service.spec.listen_port is not None:
        return service.spec.listen_port
    parts = urlsplit(base_url)
    if parts.hostname not in {"127.0.0.1", "localhost", "::1"}:
        return None
    return parts.port or (443 if parts.scheme == "https" else 80)


def command_service_spec(start: str, ready: str | None, target: str) -> ServiceSpec:
    """The spec of a target started by ``perfgate stress --start`` (ready at ``--ready``)."""
    parts = urlsplit(target)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return ServiceSpec(
        start=start, ready_url=ready or f"{target.rstrip('/')}/health", port=port, name="target"
    )


def run_stress(
    script: Script | str | Path,
    *,
    target: str | None = None,
    service: ServiceSpec | None = None,
    start: str | None = None,
    ready: str | None = None,
    time_scale: float = 1.0,
    environment: str | None = None,
    config: StressConfig | None = None,
    workers: int | None = None,
    probe_s: float | None = None,
    monitor_interval: float = 1.0,
    progress: ProgressSink | None = None,
    seed: int | None = None,
) -> SuiteResult:
    """Run ``script`` as a stress test and return its result (kind "stress", with checks).

    ``service`` (or ``start`` + ``ready``) starts the target first and stops
    it after; otherwise the target is assumed running. ``probe_s``: length of
    the appended recovery probe (0: none; None: automatic). The monitor's
    record is in ``extra["monitor"]`` (see :func:`stress_run_result`).
    """
    from perfgate.engine import run_script
    from perfgate.script import load_script

    if not isinstance(script, Script):
        script = load_script(script, environment=environment, target=target, time_scale=time_scale)
    probe = None if probe_s == 0 else recovery_probe(script.phases, probe_s)
    if probe is not None:
        script = dataclasses.replace(script, phases=[*script.phases, probe])
    if service is None and start:
        service = command_service_spec(start, ready, script.target)
    svc = Service(service).start() if service is not None else None
    try:
        if svc is not None:
            svc.wait_ready()
        return _run_watched(
            script, svc, config, workers, monitor_interval, progress, seed, run_script
        )
    finally:
        if svc is not None:
            svc.stop()


def _run_watched(
    script: Script,
    svc: Service | None,
    config: StressConfig | None,
    workers: int | None,
    monitor_interval: float,
    progress: ProgressSink | None,
    seed: int | None,
    run_script: Callable[..., SuiteResult],
) -> SuiteResult:
    stop = threading.Event()
    watcher = _Watcher(
        script.target, service=svc, on_death=stop.set, interval=monitor_interval
    ).start()
    capture = CaptureProgress(progress)
    try:
        watcher.count_for(IDLE_BEFORE_S)
        called_at = time.time()
        suite = run_script(script, workers=workers, progress=capture, stop_event=stop, seed=seed)
        if not stop.is_set():
            watcher.count_for(SETTLE_AFTER_S)
    finally:
        monitor = watcher.stop()
    start_wall = capture.start_wall or called_at
    shift = start_wall - watcher.t0_wall  # the run's t=0 on the monitor's clock
    death = monitor.get("death")
    crash_shift = shift
    if death and svc is not None and svc.started_at is not None:
        crash_shift = shift - (
            svc.started_at - watcher.t0_mono
        )  # death at_s counts from the service's start
    cpu_rows = [
        {"t": int(r["wall"] - start_wall), "cpu_pct": r["cpu_pct"]}
        for r in watcher.cpu_rows
        if r["wall"] >= start_wall
    ]
    histograms = capture.second_histograms()
    offered = offered_per_second(script.phases, seed=seed or 0)
    phases = phase_rows(script.phases)
    suite.extra["start_epoch_ms"] = start_wall * 1000.0
    if config is not None and config.failures is not None:
        suite.extra["failure_policy"] = config.failures.to_dict()
    report = analyse(
        suite,
        monitor={**monitor, "death": None},  # the crash is judged on its own clock below
        phases=phases,
        offered={t: float(n) for t, n in offered.items()},
        histograms=histograms,
        generator_cpu=cpu_rows,
        shift_s=shift,
        config=config,
    )
    if death:
        from perfgate.stress._crash import crash_of

        report.crash = crash_of(monitor, suite.series, shift_s=crash_shift)
    checks = stress_checks(suite, report, config)
    suite.kind = "stress"
    suite.checks = [*suite.checks, *checks]
    if report.crash is not None:
        suite.errors.append(report.crash.headline())
        suite.interrupted = True
    if not report.generator_localised:
        suite.warnings.append(
            "generator-limited run without per-window lag: breaking point not localised"
        )
    suite.extra.update(
        {
            "stress": {
                **report.to_dict(),
                "phases": phases,
                "probe": phases[-1]["name"] == PROBE_NAME,
            },
            "second_histograms": {str(t): h.encode() for t, h in sorted(histograms.items())},
            "generator_cpu": cpu_rows,
            "monitor_shift_s": round(shift, 3),
            "monitor": monitor,
        }
    )
    return suite


def stress_run_result(suite: SuiteResult, **fields: Any) -> RunResult:
    """A RunResult for one stress suite: the monitor record moves to ``RunResult.monitor``."""
    monitor = suite.extra.pop("monitor", {})
    return RunResult(suites=[suite], monitor=monitor, checks=list(suite.checks), **fields)
