"""Counters and histograms under Artillery's and perfgate's names, in windows.

The hot path (one call per response) records into the current 10-second
window and the current one-second bucket; nothing else. :meth:`Recorder.tick`
(called once a second by the worker's clock task) closes seconds and windows,
so recording never looks at the clock. The aggregate is the merge of all
windows. Memory is bounded: histograms, never lists of samples.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from perfgate.metrics import Histogram, MetricSet, names

__all__ = ["WINDOW_S", "EndpointNames", "Recorder", "SecondBucket", "series_row"]

#: Artillery's intermediate report period.
WINDOW_S = 10


@dataclass(frozen=True, slots=True)
class EndpointNames:
    """Metric names of one endpoint, computed once (not per request)."""

    endpoint: str
    endpoint_rt: str
    endpoint_total: str
    code_prefix: str  # endpoint codes counter, status appended
    error_prefix: str

    @classmethod
    def of(cls, endpoint: str) -> EndpointNames:
        return cls(
            endpoint=endpoint,
            endpoint_rt=names.endpoint_response_time(endpoint),
            endpoint_total=names.endpoint_total(endpoint),
            code_prefix=f"{names.ENDPOINT_PREFIX}{endpoint}.codes.",
            error_prefix=f"{names.ENDPOINT_PREFIX}{endpoint}.errors.",
        )


class SecondBucket:
    """One second of the run: counts and a histogram of total time.

    ``no_response`` counts requests that got no answer, ``status_5xx`` the 5xx
    answers and ``codes_4xx`` the 4xx answers by status, so the stress
    analysis counts failures as ``metrics.failures`` defines them.
    """

    __slots__ = (
        "codes_4xx",
        "no_response",
        "requests",
        "responses",
        "status_5xx",
        "t",
        "total",
        "vusers_active",
    )

    def __init__(self, t: int) -> None:
        self.t = t
        self.requests = 0
        self.responses = 0
        self.no_response = 0
        self.status_5xx = 0
        self.codes_4xx: dict[int, int] = {}
        self.vusers_active = 0
        self.total = Histogram()

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": self.t,
            "requests": self.requests,
            "responses": self.responses,
            "no_response": self.no_response,
            "status_5xx": self.status_5xx,
            "codes_4xx": {str(c): n for c, n in self.codes_4xx.items()},
            "vusers_active": self.vusers_active,
            "total": self.total.encode(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SecondBucket:
        out = cls(int(data["t"]))
        out.requests = int(data["requests"])
        out.responses = int(data["responses"])
        out.no_response = int(data.get("no_response", data.get("errors", 0)))
        out.status_5xx = int(data.get("status_5xx", 0))
        out.codes_4xx = {int(c): int(n) for c, n in dict(data.get("codes_4xx", {})).items()}
        out.vusers_active = int(data["vusers_active"])
        out.total = Histogram.decode(data["total"])
        return out

    def merge(self, other: SecondBucket) -> None:
        self.requests += other.requests
        self.responses += other.responses
        self.no_response += other.no_response
        self.status_5xx += other.status_5xx
        for c, n in other.codes_4xx.items():
            self.codes_4xx[c] = self.codes_4xx.get(c, 0) + n
        self.vusers_active += other.vusers_active
        self.total.merge(other.total)

    @property
    def failed(self) -> int:
        """No response or 5xx (``metrics.failures``' default; declared 4xx are added by readers)."""
        return self.no_response + self.status_5xx


def series_row(bucket: SecondBucket) -> dict[str, float]:
    """The per-second row the reports graph."""
    h = bucket.total
    p50, p95, p99 = h.quantiles((0.5, 0.95, 0.99)) if h.count else (0.0, 0.0, 0.0)
    return {
        "t": bucket.t,
        "requests": bucket.requests,
        "responses": bucket.responses,
        "no_response": bucket.no_response,
        "status_5xx": bucket.status_5xx,
        "status_4xx": sum(bucket.codes_4xx.values()),
        **{f"status_4xx.{c}": n for c, n in sorted(bucket.codes_4xx.items())},
        "failed": bucket.failed,
        "rate": bucket.requests,
        "p50": round(p50, 3),
        "p95": round(p95, 3),
        "p99": round(p99, 3),
        "vusers_active": bucket.vusers_active,
    }


class Recorder:
    """Records one worker's metrics; hands out closed windows and seconds."""

    def __init__(
        self, *, start_epoch_ms: float, extended_metrics: bool = False, wall: Callable[[], float]
    ) -> None:
        self.start_epoch_ms = start_epoch_ms
        self.extended = extended_metrics
        self._wall = wall  # epoch ms, for first/last metric timestamps
        self.window = MetricSet(period_ms=start_epoch_ms)
        self.window_index = 0
        self.second = SecondBucket(0)
        self.closed_windows: list[MetricSet] = []
        self.closed_seconds: list[SecondBucket] = []
        self.vusers_active = 0
        self._code_names: dict[int, tuple[str, str, str]] = {}

    # -- hot path --------------------------------------------------------------
    def request_sent(self) -> None:
        self.window.incr(names.HTTP_REQUESTS)
        self.second.requests += 1

    def response(
        self,
        ep: EndpointNames,
        scenario_total: str,
        status: int,
        *,
        response_time_ms: float,
        total_ms: float,
        connect_ms: float,
        pool_wait_ms: float,
        downloaded: int,
        endpoint: bool = True,
        phases_ms: tuple[float, float, float] | None = None,
    ) -> None:
        """Record one response. ``endpoint=False`` (a redirect hop that is
        followed) leaves out the per-endpoint metrics, as Artillery does.
        ``phases_ms``: (dns, tcp, tls) of a new connection, for extendedMetrics
        (``tls`` 0 on plain http: not recorded, as Artillery's is undefined)."""
        w = self.window
        counters = w.counters
        hists = w.histograms
        code_names = self._code_names.get(status)
        if code_names is None:
            code_names = self._code_names[status] = (
                names.http_code(status),
                names.status_class_response_time(status),
                names.status_class_total(status),
            )
        code, rt_class, total_class = code_names
        counters[names.HTTP_RESPONSES] = counters.get(names.HTTP_RESPONSES, 0) + 1
        counters[code] = counters.get(code, 0) + 1
        if endpoint:
            ep_code = ep.code_prefix + str(status)
            counters[ep_code] = counters.get(ep_code, 0) + 1
        counters[names.HTTP_DOWNLOADED_BYTES] = (
            counters.get(names.HTTP_DOWNLOADED_BYTES, 0) + downloaded
        )
        for name, value in (
            (names.HTTP_RESPONSE_TIME, response_time_ms),
            (rt_class, response_time_ms),
            (ep.endpoint_rt if endpoint else "", response_time_ms),
            (names.TOTAL, total_ms),
            (ep.endpoint_total if endpoint else "", total_ms),
            (total_class, total_ms),
            (scenario_total, total_ms),
        ):
            if not name:
                continue
            h = hists.get(name)
            if h is None:
                h = hists[name] = Histogram()
            h.record(value)
        if connect_ms:
            w.observe(names.CONNECT, connect_ms)
        if pool_wait_ms:
            w.observe(names.POOL_WAIT, pool_wait_ms)
        if self.extended:
            w.observe(names.HTTP_TOTAL, total_ms)
            if connect_ms and phases_ms is not None:
                dns_ms, tcp_ms, tls_ms = phases_ms
                w.observe(names.HTTP_DNS, dns_ms)
                w.observe(names.HTTP_TCP, tcp_ms)
                if tls_ms:
                    w.observe(names.HTTP_TLS, tls_ms)
        s = self.second
        s.responses += 1
        s.total.record(total_ms)
        if status >= 400:
            if status >= 500:
                s.status_5xx += 1
            else:
                s.codes_4xx[status] = s.codes_4xx.get(status, 0) + 1
        if w.first_ms is None:
            w.first_ms = self._wall()

    def error(self, ep: EndpointNames | None, code: str) -> None:
        w = self.window
        w.incr(names.error_code(code))
        if ep is not None:
            w.incr(ep.error_prefix + code)
        self.second.no_response += 1
        if w.first_ms is None:
            w.first_ms = self._wall()

    def count(self, name: str, by: int = 1) -> None:
        self.window.incr(name, by)

    def observe(self, name: str, value_ms: float) -> None:
        self.window.observe(name, value_ms)

    # -- clock -----------------------------------------------------------------
    def tick(self, elapsed_s: float) -> None:
        """Close the seconds (and windows) that ``elapsed_s`` has passed."""
        while elapsed_s >= self.second.t + 1:
            self.second.vusers_active = self.vusers_active
            self.closed_seconds.append(self.second)
            self.second = SecondBucket(self.second.t + 1)
        while elapsed_s >= (self.window_index + 1) * WINDOW_S:
            self._close_window()

    def _close_window(self) -> None:
        w = self.window
        if w.counters or w.histograms:
            w.last_ms = self._wall()
            if w.first_ms is None:
                w.first_ms = w.last_ms
        self.closed_windows.append(w)
        self.window_index += 1
        self.window = MetricSet(period_ms=self.start_epoch_ms + self.window_index * WINDOW_S * 1000)

    def finish(self) -> None:
        """Close the open second and window (end of run)."""
        self.second.vusers_active = self.vusers_active
        if self.second.requests or self.second.responses or self.second.no_response:
            self.closed_seconds.append(self.second)
        self.second = SecondBucket(self.second.t + 1)
        if self.window.counters or self.window.histograms:
            self._close_window()

    def drain(self) -> tuple[list[MetricSet], list[SecondBucket]]:
        """Closed windows and seconds since the last drain (sent to the parent)."""
        windows, seconds = self.closed_windows, self.closed_seconds
        self.closed_windows, self.closed_seconds = [], []
        return windows, seconds
