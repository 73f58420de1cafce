"""A flat, mergeable set of counters and histograms for one time window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from perfgate.metrics import names
from perfgate.metrics.histogram import Histogram

__all__ = ["EndpointView", "MetricSet"]


@dataclass
class MetricSet:
    """Counters and histograms of one window (or the whole run).

    ``first_ms``/``last_ms`` are wall-clock epoch milliseconds of the first
    and last metric recorded (Artillery's ``firstMetricAt``/``lastMetricAt``);
    ``period_ms`` is the window start for intermediate windows.
    """

    counters: dict[str, int] = field(default_factory=dict)
    histograms: dict[str, Histogram] = field(default_factory=dict)
    first_ms: float | None = None
    last_ms: float | None = None
    period_ms: float | None = None

    def incr(self, name: str, by: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by

    def observe(self, name: str, value_ms: float) -> None:
        hist = self.histograms.get(name)
        if hist is None:
            hist = self.histograms[name] = Histogram()
        hist.record(value_ms)

    def merge(self, other: MetricSet) -> None:
        for k, v in other.counters.items():
            self.counters[k] = self.counters.get(k, 0) + v
        for k, h in other.histograms.items():
            mine = self.histograms.get(k)
            if mine is None:
                self.histograms[k] = h.copy()
            else:
                mine.merge(h)
        if other.first_ms is not None:
            self.first_ms = (
                other.first_ms if self.first_ms is None else min(self.first_ms, other.first_ms)
            )
        if other.last_ms is not None:
            self.last_ms = (
                other.last_ms if self.last_ms is None else max(self.last_ms, other.last_ms)
            )
        if other.period_ms is not None and self.period_ms is None:
            self.period_ms = other.period_ms

    @classmethod
    def merged(cls, sets: list[MetricSet]) -> MetricSet:
        out = cls()
        for s in sets:
            out.merge(s)
        return out

    @property
    def duration_s(self) -> float:
        if self.first_ms is None or self.last_ms is None:
            return 0.0
        return max(0.0, (self.last_ms - self.first_ms) / 1000.0)

    def counter(self, name: str) -> int:
        return self.counters.get(name, 0)

    def error_count(self) -> int:
        """Requests that got no response (timeouts, resets, ...); a *failed* request
        also includes 5xx answers: count those with :func:`perfgate.metrics.failures.count`."""
        return sum(v for k, v in self.counters.items() if k.startswith(names.ERRORS_PREFIX))

    def status_count(self, klass: int) -> int:
        """Responses whose status is in class ``klass`` (5 for 5xx)."""
        total = 0
        for k, v in self.counters.items():
            if k.startswith(names.HTTP_CODES_PREFIX):
                code = k[len(names.HTTP_CODES_PREFIX) :]
                if code.isdigit() and int(code) // 100 == klass:
                    total += v
        return total

    def endpoints(self) -> list[EndpointView]:
        """Per-endpoint figures, derived from the metrics-by-endpoint names."""
        seen: dict[str, EndpointView] = {}
        for k, h in self.histograms.items():
            if k.startswith(names.ENDPOINT_TOTAL_PREFIX):
                ep = k[len(names.ENDPOINT_TOTAL_PREFIX) :]
                seen.setdefault(ep, EndpointView(ep)).total = h
            elif k.startswith(names.ENDPOINT_RT_PREFIX):
                ep = k[len(names.ENDPOINT_RT_PREFIX) :]
                seen.setdefault(ep, EndpointView(ep)).response_time = h
        prefix = names.ENDPOINT_PREFIX
        for k, v in self.counters.items():
            if not k.startswith(prefix):
                continue
            rest = k[len(prefix) :]
            for marker, is_code in ((".codes.", True), (".errors.", False)):
                cut = rest.rfind(marker)
                if cut > 0:
                    ep, code = rest[:cut], rest[cut + len(marker) :]
                    view = seen.setdefault(ep, EndpointView(ep))
                    bucket = view.codes if is_code else view.errors
                    bucket[code] = bucket.get(code, 0) + v
                    break
        return sorted(seen.values(), key=lambda e: e.name)

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "histograms": {k: h.encode() for k, h in self.histograms.items()},
            "first_ms": self.first_ms,
            "last_ms": self.last_ms,
            "period_ms": self.period_ms,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricSet:
        return cls(
            counters={k: int(v) for k, v in data.get("counters", {}).items()},
            histograms={k: Histogram.decode(v) for k, v in data.get("histograms", {}).items()},
            first_ms=data.get("first_ms"),
            last_ms=data.get("last_ms"),
            period_ms=data.get("period_ms"),
        )


@dataclass
class EndpointView:
    """One endpoint's figures within a MetricSet."""

    name: str
    total: Histogram | None = None
    response_time: Histogram | None = None
    codes: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def responses(self) -> int:
        return sum(self.codes.values())

    @property
    def requests(self) -> int:
        return self.responses + sum(self.errors.values())

    @property
    def failed(self) -> int:
        """Failed requests under the default policy (:mod:`perfgate.metrics.failures`)."""
        from perfgate.metrics.failures import count_endpoint  # (imports this module)

        return count_endpoint(self).failed

    @property
    def error_rate(self) -> float:
        return self.failed / self.requests if self.requests else 0.0
