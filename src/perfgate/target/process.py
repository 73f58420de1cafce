"""Process-tree helpers for the service runner: find, measure and kill a tree.

Pure wrappers over psutil and /proc with psutil's races (a process exiting
between listing and reading) absorbed, so callers never see NoSuchProcess.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable
from dataclasses import dataclass

import psutil

__all__ = [
    "ListenerOwner",
    "TcpCounts",
    "alive",
    "describe_exit",
    "group_members",
    "kill_group",
    "listeners_on_port",
    "parse_proc_net_tcp",
    "signal_all",
    "tcp_counts",
    "tree",
    "tree_cpu_seconds",
    "tree_listens_on",
]

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


def tree(root: psutil.Process) -> list[psutil.Process]:
    """``root`` and its live descendants (root first); empty when root is gone."""
    try:
        if not root.is_running() or root.status() == psutil.STATUS_ZOMBIE:
            return []
        return [root, *root.children(recursive=True)]
    except _GONE:
        return []


def alive(procs: Iterable[psutil.Process]) -> list[psutil.Process]:
    """The processes still running and not zombies (pid reuse is checked by psutil)."""
    out = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(proc)
        except _GONE:
            continue
    return out


def tree_cpu_seconds(procs: Iterable[psutil.Process]) -> float:
    """User+system CPU seconds of the processes plus their reaped children."""
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except _GONE:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def group_members(pgid: int) -> list[psutil.Process]:
    """Live processes whose process group is ``pgid`` (orphans included)."""
    out = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                out.append(proc)
        except (*_GONE, ProcessLookupError, PermissionError):
            continue
    return out


def signal_all(procs: Iterable[psutil.Process], sig: int) -> None:
    for proc in procs:
        try:
            proc.send_signal(sig)
        except _GONE:
            continue


def kill_group(pgid: int, sig: int) -> None:
    """Signal a whole process group; a group that no longer exists is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def describe_exit(returncode: int | None) -> str:
    """'exit code 3' / 'signal 9 (SIGKILL)' / 'still running'."""
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "?"
        return f"signal {-returncode} ({name})"
    return f"exit code {returncode}"


@dataclass(frozen=True)
class ListenerOwner:
    """A process listening on a TCP port (pid None when the OS would not say)."""

    pid: int | None
    name: str = ""
    cmdline: str = ""


def _proc_connections(proc: psutil.Process) -> list[object]:
    getter = getattr(proc, "net_connections", None) or proc.connections
    return list(getter(kind="tcp"))


def tree_listens_on(procs: Iterable[psutil.Process], port: int) -> bool:
    """Whether any of ``procs`` holds a listening TCP socket on ``port``."""
    for proc in procs:
        try:
            conns = _proc_connections(proc)
        except _GONE:
            continue
        for c in conns:
            laddr = getattr(c, "laddr", None)
            if getattr(c, "status", "") == psutil.CONN_LISTEN and laddr and laddr.port == port:
                return True
    return False


def listeners_on_port(port: int) -> list[ListenerOwner]:
    """Every process listening on ``port`` system-wide, best effort.

    On macOS this needs privileges; AccessDenied yields an empty list.
    """
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError):
        return []
    owners: dict[int | None, ListenerOwner] = {}
    for c in conns:
        if c.status != psutil.CONN_LISTEN or not c.laddr or c.laddr.port != port:
            continue
        name = cmd = ""
        if c.pid is not None:
            try:
                proc = psutil.Process(c.pid)
                name = proc.name()
                cmd = " ".join(proc.cmdline())[:200]
            except _GONE:
                pass
        owners[c.pid] = ListenerOwner(c.pid, name, cmd)
    return list(owners.values())


@dataclass(frozen=True)
class TcpCounts:
    """Server-side TCP sockets on a local port, by state."""

    established: int = 0
    time_wait: int = 0
    close_wait: int = 0
    other: int = 0

    @property
    def total(self) -> int:
        return self.established + self.time_wait + self.close_wait + self.other


# /proc/net/tcp state codes (include/net/tcp_states.h).
_ESTABLISHED, _TIME_WAIT, _CLOSE_WAIT, _LISTEN = "01", "06", "08", "0A"


def parse_proc_net_tcp(text: str, port: int) -> TcpCounts:
    """Count sockets whose *local* port is ``port`` in a /proc/net/tcp{,6} table."""
    est = tw = cw = other = 0
    needle = f":{port:04X} "  # cheap pre-filter: the port appears as local or remote
    for line in text.splitlines()[1:]:
        if needle not in line:
            continue
        fields = line.split()
        if len(fields) < 4:
            continue
        local, state = fields[1], fields[3]
        try:
            lport = int(local.rsplit(":", 1)[1], 16)
        except (IndexError, ValueError):
            continue
        if lport != port or state == _LISTEN:
            continue
        if state == _ESTABLISHED:
            est += 1
        elif state == _TIME_WAIT:
            tw += 1
        elif state == _CLOSE_WAIT:
            cw += 1
        else:
            other += 1
    return TcpCounts(est, tw, cw, other)


def tcp_counts(port: int) -> TcpCounts | None:
    """Open server-side connections to a local ``port``; None when not measurable.

    Linux reads /proc/net/tcp and tcp6 directly (cheap, no privileges);
    elsewhere psutil.net_connections, which may need privileges.
    """
    if sys.platform.startswith("linux"):
        totals = [0, 0, 0, 0]
        read_any = False
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table, encoding="ascii") as fh:
                    counts = parse_proc_net_tcp(fh.read(), port)
            except OSError:
                continue
            read_any = True
            for i, v in enumerate(
                (counts.established, counts.time_wait, counts.close_wait, counts.other)
            ):
                totals[i] += v
        return TcpCounts(*totals) if read_any else None
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError):
        return None
    est = tw = cw = other = 0
    for c in conns:
        if not c.laddr or c.laddr.port != port or c.status == psutil.CONN_LISTEN:
            continue
        if c.status == psutil.CONN_ESTABLISHED:
            est += 1
        elif c.status == psutil.CONN_TIME_WAIT:
            tw += 1
        elif c.status == psutil.CONN_CLOSE_WAIT:
            cw += 1
        else:
            other += 1
    return TcpCounts(est, tw, cw, other)
