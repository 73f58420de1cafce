"""Request statistics behind ``GET /metrics/json``.

Recording costs a few microseconds per request (two dict increments and a
histogram insert), so /health stays cheap under the stress script's
1000 requests/s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psutil

from perfgate.metrics import Histogram

__all__ = ["UNMATCHED_ROUTE", "ServerStats"]

UNMATCHED_ROUTE = "(unmatched)"


class ServerStats:
    """Counts by route and status, latency per route, in-flight requests."""

    def __init__(self, connections: Callable[[], int] | None = None) -> None:
        self.started = time.monotonic()
        self.total = 0
        self.in_flight = 0
        self.sign_ins = 0
        self.by_route: dict[str, int] = {}
        self.by_status: dict[int, int] = {}
        self.latency: dict[str, Histogram] = {}
        # Set once the server runs: how many TCP connections it holds open.
        self.connections: Callable[[], int] = connections or (lambda: 0)
        self._process = psutil.Process()

    def record(self, route: str, status: int, elapsed_ms: float) -> None:
        self.total += 1
        self.by_route[route] = self.by_route.get(route, 0) + 1
        self.by_status[status] = self.by_status.get(status, 0) + 1
        hist = self.latency.get(route)
        if hist is None:
            hist = self.latency[route] = Histogram()
        hist.record(elapsed_ms)

    def uptime(self) -> float:
        return time.monotonic() - self.started

    def snapshot(self) -> dict[str, Any]:
        """The ``/metrics/json`` body."""
        latency: dict[str, dict[str, float]] = {}
        for route, hist in sorted(self.latency.items()):
            p50, p95, p99 = hist.quantiles((0.5, 0.95, 0.99))
            latency[route] = {
                "count": hist.count,
                "mean": round(hist.mean, 3),
                "p50": round(p50, 3),
                "p95": round(p95, 3),
                "p99": round(p99, 3),
                "max": round(hist.max, 3),
            }
        mem = self._process.memory_info()
        return {
            "metrics": {
                "requests": {
                    "total": self.total,
                    "inFlight": self.in_flight,
                    "byRoute": dict(sorted(self.by_route.items())),
                    "byStatus": {str(k): v for k, v in sorted(self.by_status.items())},
                },
                "latency": latency,
                "activeConnections": self.connections(),
                "memory": {"rssBytes": mem.rss, "vmsBytes": mem.vms},
                "signIns": self.sign_ins,
                "uptimeSeconds": round(self.uptime(), 3),
            }
        }
