"""The service runner: start the API under test, wait for it, watch it, stop it.

``Service(spec)`` runs the spec's setup command, then its start command in a
session (process group) of its own with stdout+stderr in a log file; waits
until a readiness URL answers 2xx or a TCP port opens *and* the listener on
that port belongs to its own process tree; notices when it dies; and stops
it so that nothing is left behind (SIGTERM to the group, SIGKILL after the
grace period, then any descendant that escaped the group).

POSIX only (Linux, macOS). CPU pinning uses ``os.sched_setaffinity`` and is
Linux-only; elsewhere it is skipped with a warning.
"""

from __future__ import annotations

import atexit
import logging
import os
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

import psutil

from perfgate.errors import ServiceError
from perfgate.target import process as _process
from perfgate.target.probe import probe_http, probe_tcp
from perfgate.target.sampler import ProcessSampler
from perfgate.target.spec import ServiceSpec, mask_text

__all__ = ["Service", "ServiceDeath"]

log = logging.getLogger("perfgate.target.service")

_LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""}
_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class ServiceDeath:
    """How and when the service ended on its own."""

    exit_code: int | None
    signal: int | None
    at_s: float  # seconds after start when perfgate noticed
    log_tail: str

    def describe(self) -> str:
        return _process.describe_exit(-self.signal if self.signal else self.exit_code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "exit_code": self.exit_code,
            "signal": self.signal,
            "at_s": round(self.at_s, 3),
            "description": self.describe(),
            "log_tail": self.log_tail,
        }


class Service:
    """One running copy of the API under test. See the module docstring."""

    def __init__(self, spec: ServiceSpec) -> None:
        self.spec = spec
        self.log_path = spec.resolved_log()
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None  # time.monotonic()
        self.ready_after_s: float | None = None
        self.killed_after_grace = False  # stop() needed SIGKILL
        self.warnings: list[str] = []
        self._root: psutil.Process | None = None
        self._known: dict[int, psutil.Process] = {}
        self._log_fh: IO[bytes] | None = None
        self._stopped = False
        self._death: ServiceDeath | None = None
        self._sampler: ProcessSampler | None = None
        self._lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> Service:
        """Run setup (if any), then start the service. Raises ServiceError."""
        return self.prepare().spawn()

    def prepare(self) -> Service:
        """Make the directories and run setup (if any), without starting. Raises ServiceError.

        Separate from :meth:`spawn` so that A/B can set both arms up (in
        parallel) before launching either: a launch gap of milliseconds,
        not the length of one arm's setup.
        """
        if self._log_fh is not None:
            raise ServiceError(f"{self.spec.name} was already prepared")
        try:
            self._prepare_dirs()
            self._log_fh = self.log_path.open("ab")
            if self.spec.setup:
                self._run_setup()
        except BaseException:
            self.stop()
            raise
        return self

    def spawn(self) -> Service:
        """Start the prepared service (:meth:`prepare` first). Raises ServiceError."""
        if self.proc is not None:
            raise ServiceError(f"{self.spec.name} was already started")
        if self._log_fh is None:
            self.prepare()
        try:
            self._write_log(f"--- perfgate: start: {_show(self.spec.start)}\n")
            self.started_at = time.monotonic()
            self.proc = self._spawn(self.spec.start)
            self._root = _psutil_process(self.proc.pid)
            _track(self)
            self._pin_cpus()
            self._remember()
        except BaseException:
            self.stop()
            raise
        return self

    def respawn(self) -> Service:
        """Stop the running process and start the command again, setup not repeated.

        A/B's replicate launches: a fresh process of the same build (its own
        memory layout, hash seed, start order), same port, work dir and log.
        Raises ServiceError when the service had died (its death stays recorded).
        """
        self.check_alive()
        proc = self._require_started()
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None
        self.killed_after_grace = self._terminate(proc, self.spec.stop_timeout)
        _untrack(self)
        self._write_log("--- perfgate: stopped for a new launch (A/B replicate)\n")
        self.proc = None
        self._root = None
        self._known = {}
        return self.spawn()

    def wait_ready(self) -> float:
        """Block until ready; returns seconds since start. Raises ServiceError.

        Ready means: the URL answers 2xx (or the port accepts a connection),
        and — for a local port — a process of this service's tree listens on it.
        """
        proc = self._require_started()
        assert self.started_at is not None
        timeout = self.spec.ready_timeout
        deadline = time.monotonic() + timeout
        port = self.spec.listen_port
        verify = port is not None and self.spec.ready_host in _LOOPBACK
        detail = "no attempt yet"
        pause = 0.05
        while True:
            try:
                if proc.poll() is not None:
                    why = f"exited ({_process.describe_exit(proc.returncode)}) before it was ready"
                    if verify and _process.listeners_on_port(port or 0):
                        why += f"; {self._foreign_listener_detail(port or 0)}"
                    raise self._not_ready(why)
                remaining = deadline - time.monotonic()
                ok, detail = self._probe(max(0.05, min(1.0, remaining)))
                self._remember()
                if ok and (not verify or _process.tree_listens_on(self._tree(), port or 0)):
                    break
                if ok:
                    detail = self._foreign_listener_detail(port or 0)
                if time.monotonic() >= deadline:
                    raise self._not_ready(f"not ready after {timeout:g}s: {detail}")
                time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
                pause = min(pause * 1.5, 0.25)
            except BaseException:
                self.stop()
                raise
        self._pin_cpus()  # workers forked during start-up
        self.ready_after_s = time.monotonic() - self.started_at
        return self.ready_after_s

    def stop(self) -> None:
        """Stop the service and everything it started; idempotent, never raises."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            if self._sampler is not None:
                self._sampler.stop()
            if self.proc is not None:
                self.killed_after_grace = self._terminate(self.proc, self.spec.stop_timeout)
                if self.killed_after_grace:
                    self._write_log("--- perfgate: killed with SIGKILL after the grace period\n")
        finally:
            if self._log_fh is not None:
                self._log_fh.close()
            _untrack(self)

    def __enter__(self) -> Service:
        self.start()
        self.wait_ready()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- watching -----------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def death(self) -> ServiceDeath | None:
        """How the service died on its own, or None (running, or stopped by us)."""
        if self._death is not None:
            return self._death
        if self.proc is None or self._stopped:
            return None
        rc = self.proc.poll()
        if rc is None:
            return None
        at = time.monotonic() - (self.started_at or time.monotonic())
        self._death = ServiceDeath(
            exit_code=rc if rc >= 0 else None,
            signal=-rc if rc < 0 else None,
            at_s=at,
            log_tail=self.log_tail(),
        )
        return self._death

    def check_alive(self) -> None:
        """Raise ServiceError (exit code, signal, log tail) if the service died."""
        self._require_started()
        self._remember()
        dead = self.death()
        if dead is not None:
            raise ServiceError(
                f"{self.spec.name} died {dead.at_s:.1f}s after start ({dead.describe()})",
                log_tail=dead.log_tail,
                exit_code=dead.exit_code,
                signal=dead.signal,
            )

    def verify_listener(self, port: int | None = None) -> None:
        """Raise ServiceError unless this service's process tree listens on ``port``.

        Catches the base arm that died with "address in use" while another
        process (the candidate, a stale server) answers on its port.
        """
        self._require_started()
        port = port if port is not None else self.spec.listen_port
        if port is None:
            raise ServiceError(
                f"{self.spec.name}: no port to verify (set service.ready.port or port)"
            )
        if _process.tree_listens_on(self._tree(), port):
            return
        raise ServiceError(
            f"{self.spec.name}: port {port} is not held by this service: {self._foreign_listener_detail(port)}",
            log_tail=self.log_tail(),
            exit_code=self.proc.returncode if self.proc is not None else None,
        )

    def pids(self) -> list[int]:
        """Pids of the live process tree (root first)."""
        return [p.pid for p in self._tree()]

    def cpu_seconds(self) -> float:
        """Cumulative user+sys CPU seconds of the tree, read now."""
        if self._sampler is not None:
            return self._sampler.cpu_seconds()
        return _process.tree_cpu_seconds(self._tree())

    def start_sampler(self, interval: float = 0.5, t0: float | None = None) -> ProcessSampler:
        """Start (once) and return the RSS/CPU sampler of this tree; stop() stops it."""
        proc = self._require_started()
        if self._sampler is None:
            self._sampler = ProcessSampler(proc.pid, interval=interval, t0=t0).start()
        return self._sampler

    @property
    def sampler(self) -> ProcessSampler | None:
        return self._sampler

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the service log, secrets masked."""
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(0, os.SEEK_END)
                size = fh.tell()
                fh.seek(max(0, size - _TAIL_BYTES))
                data = fh.read()
        except OSError:
            return ""
        text = data.decode("utf-8", errors="replace")
        tail = "\n".join(text.splitlines()[-lines:]) if lines > 0 else ""
        return mask_text(tail, self.spec.mask)

    # -- internals ----------------------------------------------------------
    def _require_started(self) -> subprocess.Popen[bytes]:
        if self.proc is None:
            raise ServiceError(f"{self.spec.name} was not started")
        return self.proc

    def _tree(self) -> list[psutil.Process]:
        return _process.tree(self._root) if self._root is not None else []

    def _remember(self) -> None:
        # Descendants seen once are killed at stop() even if they were orphaned.
        for p in self._tree():
            self._known.setdefault(p.pid, p)

    def _prepare_dirs(self) -> None:
        if self.spec.workdir is not None:
            (self.spec.workdir / "tmp").mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        if self.spec.cwd is not None and not self.spec.cwd.is_dir():
            raise ServiceError(
                f"{self.spec.name}: working directory {self.spec.cwd} does not exist"
            )

    def _write_log(self, text: str) -> None:
        if self._log_fh is not None and not self._log_fh.closed:
            self._log_fh.write(mask_text(text, self.spec.mask).encode("utf-8", errors="replace"))
            self._log_fh.flush()

    def _spawn(self, command: str | list[str]) -> subprocess.Popen[bytes]:
        argv = ["/bin/sh", "-c", command] if isinstance(command, str) else list(command)
        try:
            return subprocess.Popen(
                argv,
                cwd=self.spec.cwd,
                env=self.spec.full_env(),
                stdin=subprocess.DEVNULL,
                stdout=self._log_fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: one signal reaches the tree
                close_fds=True,
            )
        except OSError as exc:
            self._write_log(f"--- perfgate: cannot start: {exc}\n")
            raise ServiceError(
                f"{self.spec.name}: cannot run {_show(command)!r}: {exc.strerror or exc}",
                log_tail=self.log_tail(),
            ) from None

    def _run_setup(self) -> None:
        assert self.spec.setup is not None
        self._write_log(f"--- perfgate: setup: {_show(self.spec.setup)}\n")
        proc = self._spawn(self.spec.setup)
        try:
            rc = proc.wait(timeout=self.spec.setup_timeout)
        except subprocess.TimeoutExpired:
            self._terminate(proc, grace=2.0)
            raise ServiceError(
                f"{self.spec.name}: setup did not finish within {self.spec.setup_timeout:g}s",
                log_tail=self.log_tail(),
            ) from None
        except BaseException:
            self._terminate(proc, grace=2.0)
            raise
        # A setup that leaves a daemon behind would hold ports and CPU: end its group.
        _process.kill_group(proc.pid, 9)
        if rc != 0:
            raise ServiceError(
                f"{self.spec.name}: setup failed ({_process.describe_exit(rc)})",
                log_tail=self.log_tail(),
                exit_code=rc if rc >= 0 else None,
                signal=-rc if rc < 0 else None,
            )

    def _terminate(self, proc: subprocess.Popen[bytes], grace: float) -> bool:
        """SIGTERM the group and known descendants; SIGKILL after ``grace``. True if SIGKILL was needed."""
        import signal

        pgid = proc.pid  # start_new_session: pgid == pid
        root = _psutil_process(proc.pid) if proc.poll() is None else None
        others = {p.pid: p for p in (_process.tree(root) if root else [])}
        others.update(self._known if proc is self.proc else {})
        others.update({p.pid: p for p in _process.group_members(pgid)})
        others.pop(proc.pid, None)  # the root is reaped through Popen, not psutil
        rest = list(others.values())
        deadline = time.monotonic() + max(grace, 0.0)
        _process.kill_group(pgid, signal.SIGTERM)
        _process.signal_all(rest, signal.SIGTERM)
        try:
            proc.wait(timeout=max(grace, 0.0))
        except subprocess.TimeoutExpired:
            pass
        _, still = psutil.wait_procs(
            _process.alive(rest), timeout=max(0.0, deadline - time.monotonic())
        )
        still = _process.alive([*still, *_process.group_members(pgid)])
        still = [p for p in still if p.pid != proc.pid]
        needed_kill = proc.poll() is None or bool(still)
        _process.kill_group(pgid, signal.SIGKILL)
        _process.signal_all(still, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            log.warning("pid %s did not exit after SIGKILL", proc.pid)
        psutil.wait_procs(still, timeout=5)
        return needed_kill

    def _probe(self, timeout: float) -> tuple[bool, str]:
        url = self.spec.ready_url_resolved
        if url:
            return probe_http(url, timeout)
        port = self.spec.listen_port
        assert port is not None, "ServiceSpec requires ready_url or a port"
        return probe_tcp(self.spec.ready_host or "127.0.0.1", port, timeout)

    def _foreign_listener_detail(self, port: int) -> str:
        mine = {p.pid for p in self._tree()}
        owners = [o for o in _process.listeners_on_port(port) if o.pid not in mine]
        if owners:
            o = owners[0]
            who = (
                f"pid {o.pid} ({o.name}: {o.cmdline})"
                if o.pid
                else "a process perfgate cannot identify"
            )
            return f"port {port} answers, but its listener is {who}, not this service"
        return f"port {port} answers, but no process of this service listens on it"

    def _not_ready(self, what: str) -> ServiceError:
        rc = self.proc.poll() if self.proc is not None else None
        return ServiceError(
            f"{self.spec.name} {what}",
            log_tail=self.log_tail(),
            exit_code=rc if rc is not None and rc >= 0 else None,
            signal=-rc if rc is not None and rc < 0 else None,
        )

    def _pin_cpus(self) -> None:
        cpus = self.spec.cpus
        if not cpus:
            return
        setter = getattr(os, "sched_setaffinity", None)
        if setter is None:
            if not self.warnings:
                msg = f"{self.spec.name}: CPU pinning is Linux-only; cpus {cpus} ignored on {sys.platform}"
                self.warnings.append(msg)
                log.warning(msg)
            return
        for p in self._tree():
            try:
                setter(p.pid, cpus)
            except ProcessLookupError:
                continue
            except OSError as exc:
                allowed = sorted(os.sched_getaffinity(0))
                raise ServiceError(
                    f"{self.spec.name}: cannot pin to CPUs {cpus} (this machine allows {allowed}): {exc.strerror}"
                ) from None


def _psutil_process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.NoSuchProcess:
        return None


def _show(command: str | list[str]) -> str:
    return command if isinstance(command, str) else " ".join(command)


# Services still running at interpreter exit are stopped (Ctrl-C during a run
# unwinds through finally blocks; this catches callers that forgot one).
_live: weakref.WeakSet[Service] = weakref.WeakSet()
_atexit_registered = False


def _track(service: Service) -> None:
    global _atexit_registered
    _live.add(service)
    if not _atexit_registered:
        atexit.register(_stop_all)
        _atexit_registered = True


def _untrack(service: Service) -> None:
    _live.discard(service)


def _stop_all() -> None:
    for service in list(_live):
        service.stop()
