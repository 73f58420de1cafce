"""The API under test: its spec, how to run it, sample it, probe it and watch it.

- :class:`ServiceSpec` / :func:`service_for` — one copy of the API, templated per arm
- :class:`Service` — start, readiness, port ownership, death, clean stop
- :class:`ProcessSampler` — RSS/CPU of the service's process tree
- :class:`TargetMonitor` — health/metrics polls and connection counts while a suite runs
- :class:`WatchProcess` — a TargetMonitor in a process of its own, spawned with the API
Other packages import from here only.
"""

from perfgate.target.monitor import (
    CleanupVerdict,
    TargetMonitor,
    flatten_fields,
    idle_connections_returned,
    per_second,
)
from perfgate.target.process import TcpCounts, tcp_counts
from perfgate.target.sampler import ProcessSampler
from perfgate.target.service import Service, ServiceDeath
from perfgate.target.spec import ServiceSpec, mask_text, service_for
from perfgate.target.watch_process import WatchProcess, WatchTarget

__all__ = [
    "CleanupVerdict",
    "ProcessSampler",
    "Service",
    "ServiceDeath",
    "ServiceSpec",
    "TargetMonitor",
    "TcpCounts",
    "WatchProcess",
    "WatchTarget",
    "flatten_fields",
    "idle_connections_returned",
    "mask_text",
    "per_second",
    "service_for",
    "tcp_counts",
]
