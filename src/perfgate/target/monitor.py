"""Watching the API under test while it is loaded.

:class:`TargetMonitor` polls the target's health and metrics endpoints (each
poll bounded by its own short timeout, so a hung endpoint never stalls the
run), counts the open server-side TCP connections on the target's port, joins
the process RSS/CPU series of a service perfgate started, and notices when
that service dies. :meth:`TargetMonitor.result` is ``RunResult.monitor``.

The pure functions at the bottom read those series (connection cleanup,
per-second joins) for the stress and gate modules.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from perfgate.target import process as _process

if TYPE_CHECKING:
    from perfgate.config import MonitorConfig
    from perfgate.target.sampler import ProcessSampler
    from perfgate.target.service import Service, ServiceDeath

__all__ = [
    "CleanupVerdict",
    "TargetMonitor",
    "flatten_fields",
    "idle_connections_returned",
    "per_second",
    "poll",
]

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_MAX_ROWS = 100_000  # a 24 h soak at 1 s polls fits; beyond that rows are dropped
_MAX_FIELDS = 200


class TargetMonitor:
    """Polls one target while a suite runs. Use ``async with`` or start()/stop()."""

    def __init__(
        self,
        base_url: str,
        *,
        health_url: str | None = "/health/detailed",
        metrics_url: str | None = "/metrics/json",
        interval: float = 2.0,
        poll_timeout: float = 2.0,
        connections_interval: float = 1.0,
        port: int | None = None,
        service: Service | None = None,
        sampler: ProcessSampler | None = None,
        sample_interval: float = 0.5,
        count_connections: bool = True,
        t0: float | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.health_url = _resolve(self.base_url, health_url)
        self.metrics_url = _resolve(self.base_url, metrics_url)
        self.interval = interval
        self.poll_timeout = poll_timeout
        self.connections_interval = connections_interval
        self.service = service
        self.sampler = sampler
        self.sample_interval = sample_interval
        self.t0 = time.monotonic() if t0 is None else t0
        parts = urlsplit(self.base_url)
        local = (parts.hostname or "") in _LOOPBACK
        default_port = parts.port or (443 if parts.scheme == "https" else 80)
        self.port = port if port is not None else (default_port if local else None)
        self.count_connections = count_connections and self.port is not None
        self.health: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []
        self.connections: list[dict[str, Any]] = []
        self.death: ServiceDeath | None = None
        self.died = asyncio.Event()  # set when the watched service dies on its own
        self._tasks: list[asyncio.Task[None]] = []
        self._session: aiohttp.ClientSession | None = None
        self._own_sampler = False

    @classmethod
    def from_config(
        cls,
        config: MonitorConfig,
        base_url: str,
        *,
        service: Service | None = None,
        t0: float | None = None,
    ) -> TargetMonitor:
        return cls(
            base_url,
            health_url=config.health_url,
            metrics_url=config.metrics_url,
            interval=config.interval,
            poll_timeout=config.timeout,
            port=service.spec.listen_port if service is not None else None,
            service=service,
            sample_interval=config.sample_interval,
            count_connections=config.connections,
            t0=t0,
        )

    # -- lifecycle ----------------------------------------------------------
    async def start(self) -> TargetMonitor:
        if self._tasks:
            return self
        if self.sampler is None and self.service is not None and self.service.pid is not None:
            self._own_sampler = self.service.sampler is None
            self.sampler = self.service.start_sampler(interval=self.sample_interval, t0=self.t0)
        # force_close: the monitor must not hold idle keep-alive connections to the target.
        connector = aiohttp.TCPConnector(limit=4, force_close=True)
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": "perfgate-monitor"}
        )
        if self.health_url:
            self._tasks.append(asyncio.create_task(self._poll_loop(self.health_url, self.health)))
        if self.metrics_url:
            self._tasks.append(asyncio.create_task(self._poll_loop(self.metrics_url, self.metrics)))
        if self.count_connections or self.service is not None:
            self._tasks.append(asyncio.create_task(self._watch_loop()))
        return self

    async def stop(self) -> dict[str, Any]:
        """Stop polling (idempotent) and return :meth:`result`."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._own_sampler and self.sampler is not None:
            self.sampler.stop()
        return self.result()

    async def __aenter__(self) -> TargetMonitor:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def result(self) -> dict[str, Any]:
        """The ``RunResult.monitor`` dict (every ``t`` in seconds since ``t0``)."""
        process: list[dict[str, Any]] = []
        if self.sampler is not None:
            shift = self.sampler.t0 - self.t0
            process = [{**row, "t": round(row["t"] + shift, 3)} for row in self.sampler.series]
        return {
            "process": process,
            "health": list(self.health),
            "metrics": list(self.metrics),
            "connections": list(self.connections),
            "available": {
                "process": self.sampler is not None,
                "connections": self.count_connections,
                "health": self.health_url is not None,
                "metrics": self.metrics_url is not None,
            },
            "port": self.port,
            "poll": {"interval": self.interval, "timeout": self.poll_timeout},
            "death": self.death.to_dict() if self.death is not None else None,
        }

    # -- loops --------------------------------------------------------------
    def _now(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    async def _poll_loop(self, url: str, rows: list[dict[str, Any]]) -> None:
        await _every(self.interval, lambda: self._poll_once(url, rows))

    async def _poll_once(self, url: str, rows: list[dict[str, Any]]) -> None:
        row = await poll(self._session, url, self.poll_timeout)  # type: ignore[arg-type]
        row["t"] = round(row.pop("_started") - self.t0, 3)
        if len(rows) < _MAX_ROWS:
            rows.append(row)

    async def _watch_loop(self) -> None:
        await _every(self.connections_interval, self._watch_once)

    async def _watch_once(self) -> None:
        if self.count_connections and self.port is not None:
            counts = await asyncio.to_thread(_process.tcp_counts, self.port)
            if counts is None:
                self.count_connections = False
            elif len(self.connections) < _MAX_ROWS:
                self.connections.append(
                    {
                        "t": self._now(),
                        "established": counts.established,
                        "time_wait": counts.time_wait,
                        "close_wait": counts.close_wait,
                        "total": counts.total,
                    }
                )
        if self.service is not None and self.death is None:
            dead = self.service.death()
            if dead is not None:
                self.death = dead
                self.died.set()


async def poll(session: aiohttp.ClientSession, url: str, timeout: float) -> dict[str, Any]:
    """GET ``url`` once within ``timeout``: {ok, status, latency_ms, error, fields}."""
    started = time.monotonic()
    row: dict[str, Any] = {
        "_started": started,
        "ok": False,
        "status": None,
        "error": None,
        "fields": {},
    }
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, allow_redirects=False) as resp:
                row["status"] = resp.status
                body = await resp.read()
        row["ok"] = 200 <= resp.status < 300
        if body and "json" in (resp.content_type or ""):
            try:
                row["fields"] = flatten_fields(json.loads(body))
            except ValueError:
                row["error"] = "invalid JSON"
    except TimeoutError:
        row["error"] = f"timeout after {timeout:g}s"
    except aiohttp.ClientError as exc:
        row["error"] = f"{type(exc).__name__}: {exc}"[:200]
    except OSError as exc:
        row["error"] = f"{type(exc).__name__}: {exc.strerror or exc}"[:200]
    row["latency_ms"] = round((time.monotonic() - started) * 1000.0, 3)
    return row


async def _every(interval: float, action: Any) -> None:
    """Run ``action`` on a fixed cadence; an overrun skips slots rather than bursting."""
    next_at = time.monotonic()
    while True:
        await action()
        next_at += interval
        now = time.monotonic()
        if next_at < now:
            next_at = now + interval - ((now - next_at) % interval)
        await asyncio.sleep(next_at - now)


def _resolve(base_url: str, url: str | None) -> str | None:
    if not url:
        return None
    return url if url.startswith(("http://", "https://")) else urljoin(base_url, url.lstrip("/"))


# -- pure helpers over the series ----------------------------------------------


def flatten_fields(data: Any, prefix: str = "", limit: int = _MAX_FIELDS) -> dict[str, Any]:
    """Scalar leaves of a JSON document by dotted path (``metrics.requests.total``).

    Numbers, booleans and short strings are kept; lists are skipped (they are
    rarely stable keys); at most ``limit`` fields.
    """
    out: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{path}.{k}" if path else str(k))
        elif path and (
            isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 64)
        ):
            out[path] = value

    walk(data, prefix)
    return out


@dataclass(frozen=True)
class CleanupVerdict:
    """Did open connections return to their idle level after the load?"""

    idle_level: float | None  # median established before the load
    final_level: int | None  # established at the last sample
    returned: bool | None  # None: not measurable (no samples before or after)
    returned_after_s: float | None  # first time after load end within tolerance


def idle_connections_returned(
    series: Iterable[Mapping[str, Any]],
    *,
    load_start_t: float,
    load_end_t: float,
    tolerance: int = 2,
    key: str = "established",
) -> CleanupVerdict:
    """Compare connections after ``load_end_t`` with the idle level before ``load_start_t``."""
    rows = [r for r in series if key in r]
    before = [r[key] for r in rows if r["t"] <= load_start_t]
    after = [r for r in rows if r["t"] >= load_end_t]
    if not before or not after:
        return CleanupVerdict(None, after[-1][key] if after else None, None, None)
    idle = float(statistics.median(before))
    back_at = next((r["t"] - load_end_t for r in after if r[key] <= idle + tolerance), None)
    final = int(after[-1][key])
    return CleanupVerdict(idle, final, final <= idle + tolerance, back_at)


def per_second(rows: Iterable[Mapping[str, Any]], key: str) -> dict[int, float]:
    """The last value of ``key`` in each whole second (for joining the run's series).

    ``key`` may be a dotted field of a poll row (``fields.metrics.requests.total``).
    """
    out: dict[int, float] = {}
    for row in rows:
        value: Any = row
        if key.startswith("fields."):
            value = row.get("fields", {}).get(key[len("fields.") :])
        else:
            value = row.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[int(row["t"])] = float(value)
    return out
