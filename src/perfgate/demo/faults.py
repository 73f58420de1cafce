"""Fault switches: make a latency or CPU regression, errors, a leak or a crash
reproducible on demand, so that the gate itself can be tested.

All are off by default. ``/metrics/json`` is exempt from every switch except
crash-after: it is the observation channel and must stay truthful.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

__all__ = ["CRASH_EXIT_CODE", "FaultConfig", "burn_cpu", "fault_middleware", "leaked_bytes"]

log = logging.getLogger("perfgate.demo")

CRASH_EXIT_CODE = 3
_EXEMPT_PATHS = frozenset({"/metrics/json"})

# --leak-kb retains memory here, on purpose never freed: the leak is the feature.
_LEAKED: list[bytes] = []

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def leaked_bytes() -> int:
    return sum(len(b) for b in _LEAKED)


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    # Share of the routes' requests that get the latency: < 1 makes a tail
    # regression (a few slow requests) that leaves the median where it was.
    tail_fraction: float = 1.0
    cpu_us: int = 0
    # A global lock held across an await of this many ms: throughput at
    # saturation falls to 1000/MS requests/s while a lone request barely slows.
    serialize_ms: float = 0.0
    routes: tuple[str, ...] = ()
    # the lock's own prefixes when given (else ``routes``): a lock on every
    # route beside CPU work on one
    serialize_routes: tuple[str, ...] = ()
    error_rate: float = 0.0
    leak_kb: int = 0
    crash_after: int = 0

    def __post_init__(self) -> None:
        for name in ("latency_ms", "jitter_ms", "cpu_us", "serialize_ms", "leak_kb", "crash_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if not 0.0 < self.tail_fraction <= 1.0:
            raise ValueError("tail_fraction must be above 0 and at most 1")
        for route in self.routes + self.serialize_routes:
            if not route.startswith("/"):
                raise ValueError(f"route {route!r} must start with '/'")

    @property
    def active(self) -> bool:
        return any(
            (
                self.latency_ms,
                self.jitter_ms,
                self.cpu_us,
                self.serialize_ms,
                self.error_rate,
                self.leak_kb,
            )
        ) or bool(self.crash_after)

    def applies_to(self, path: str, routes: tuple[str, ...] | None = None) -> bool:
        """Whether latency/CPU faults hit ``path``: every path, or the given
        route prefixes (``/api/bounties`` matches ``/api/bounties/42``)."""
        routes = self.routes if routes is None else routes
        if not routes:
            return True
        return any(path == r or path.startswith(r.rstrip("/") + "/") for r in routes)

    def locks(self, path: str) -> bool:
        """Whether ``path`` takes the --serialize-ms lock."""
        return bool(self.serialize_ms) and self.applies_to(
            path, self.serialize_routes or self.routes
        )

    def describe(self) -> str:
        parts = []
        if self.latency_ms or self.jitter_ms:
            tail = f" on {self.tail_fraction:.0%} of requests" if self.tail_fraction < 1 else ""
            parts.append(f"latency {self.latency_ms:g}ms + jitter 0..{self.jitter_ms:g}ms{tail}")
        if self.cpu_us:
            parts.append(f"cpu {self.cpu_us}us/request")
        if self.serialize_ms:
            parts.append(f"serialized {self.serialize_ms:g}ms/request under one lock")
        if self.routes and (self.latency_ms or self.jitter_ms or self.cpu_us or self.serialize_ms):
            parts.append(f"on routes {', '.join(self.routes)}")
        if self.serialize_ms and self.serialize_routes:
            parts.append(f"the lock on routes {', '.join(self.serialize_routes)}")
        if self.error_rate:
            parts.append(f"error rate {self.error_rate:g}")
        if self.leak_kb:
            parts.append(f"leak {self.leak_kb} KiB/request")
        if self.crash_after:
            parts.append(f"crash after {self.crash_after} requests")
        return "; ".join(parts)


def burn_cpu(microseconds: int) -> None:
    """Busy work until this thread has used ``microseconds`` of CPU time.

    Measured in thread CPU time, not wall time: on a loaded machine the
    request costs the same CPU and takes longer, as a real CPU regression does.
    """
    deadline = time.thread_time() + microseconds / 1e6
    x = 0
    while time.thread_time() < deadline:
        for i in range(200):
            x ^= i * i
    _ = x


def _crash(count: int) -> None:
    log.error(
        "--crash-after %d: served %d requests, exiting with code %d (fault injection)",
        count,
        count,
        CRASH_EXIT_CODE,
    )
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(CRASH_EXIT_CODE)


def fault_middleware(
    config: FaultConfig, rng: random.Random | None = None
) -> Callable[..., Awaitable[web.StreamResponse]]:
    rand = rng or random.Random()
    served = 0
    # Created lazily: a Lock must belong to the serving loop.
    lock: asyncio.Lock | None = None

    @web.middleware
    async def faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal served, lock
        served += 1
        number = served
        if config.crash_after and number > config.crash_after:
            await asyncio.sleep(60)  # the process exits within ~50 ms of request N
        if request.path not in _EXEMPT_PATHS:
            if config.applies_to(request.path):
                if (config.latency_ms or config.jitter_ms) and (
                    config.tail_fraction >= 1.0 or rand.random() < config.tail_fraction
                ):
                    delay = config.latency_ms + rand.uniform(0.0, config.jitter_ms)
                    await asyncio.sleep(delay / 1000.0)
                if config.cpu_us:
                    burn_cpu(config.cpu_us)
            if config.locks(request.path):
                lock = lock or asyncio.Lock()
                async with lock:  # held across the await, as a real lock-in-handler bug
                    await asyncio.sleep(config.serialize_ms / 1000.0)
            if config.leak_kb:
                _LEAKED.append(b"x" * (config.leak_kb * 1024))  # touched: counts in RSS
            if config.error_rate and rand.random() < config.error_rate:
                response: web.StreamResponse = web.json_response(
                    {"error": f"injected failure (--error-rate {config.error_rate:g})"},
                    status=500,
                )
            else:
                response = await handler(request)
        else:
            response = await handler(request)
        if config.crash_after and number == config.crash_after:
            # Send response N in full, then die: exactly N requests were served.
            await response.prepare(request)
            await response.write_eof()
            asyncio.get_running_loop().call_later(0.05, _crash, number)
        return response

    return faults
