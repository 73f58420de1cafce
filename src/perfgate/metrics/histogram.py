"""A mergeable, log-bucketed latency histogram.

Values (milliseconds, any positive float) fall into buckets whose bounds grow
by a constant factor ``gamma = (1 + a) / (1 - a)``; reporting a bucket's
midpoint keeps every quantile within relative error ``a`` of a true sample
value (the DDSketch construction, Masson et al. 2019). Memory is bounded by
the dynamic range, not the number of samples, and two histograms merge
exactly by adding bucket counts — so percentiles of workers, shards and
stored runs are computed from merged histograms, never by averaging
percentiles.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from collections.abc import Iterable
from typing import Any

__all__ = ["DEFAULT_ACCURACY", "SUMMARY_QUANTILES", "Histogram"]

#: Relative accuracy of every reported quantile (0.5%: comfortably inside 1%).
DEFAULT_ACCURACY = 0.005

#: Artillery's summary statistics, in its order.
SUMMARY_QUANTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.50),
    ("median", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p95", 0.95),
    ("p99", 0.99),
    ("p999", 0.999),
)

# Values at or below this (ms) count as zero: 1 ns.
_MIN_VALUE = 1e-6


class Histogram:
    """Log-bucketed histogram with exact count, sum, min and max."""

    __slots__ = (
        "_buckets",
        "_gamma",
        "_inv_log_gamma",
        "accuracy",
        "count",
        "max",
        "min",
        "sum",
        "zeros",
    )

    def __init__(self, accuracy: float = DEFAULT_ACCURACY) -> None:
        if not 0 < accuracy < 1:
            raise ValueError("accuracy must be in (0, 1)")
        self.accuracy = accuracy
        self._gamma = (1 + accuracy) / (1 - accuracy)
        self._inv_log_gamma = 1.0 / math.log(self._gamma)
        self._buckets: dict[int, int] = {}
        self.count = 0
        self.zeros = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf

    # -- recording ---------------------------------------------------------
    def record(self, value: float, count: int = 1) -> None:
        """Add ``count`` samples of ``value`` (negative values count as 0)."""
        self.count += count
        self.sum += value * count
        if value < self.min:
            self.min = value
        if value > self.max:
            self.max = value
        if value <= _MIN_VALUE:
            self.zeros += count
            return
        key = math.ceil(math.log(value) * self._inv_log_gamma)
        buckets = self._buckets
        buckets[key] = buckets.get(key, 0) + count

    def record_many(self, values: Iterable[float]) -> None:
        for value in values:
            self.record(value)

    def merge(self, other: Histogram) -> None:
        """Add every sample of ``other`` into this histogram (exact)."""
        if other.accuracy != self.accuracy:
            raise ValueError("cannot merge histograms of different accuracy")
        if other.count == 0:
            return
        buckets = self._buckets
        for key, n in other._buckets.items():
            buckets[key] = buckets.get(key, 0) + n
        self.count += other.count
        self.zeros += other.zeros
        self.sum += other.sum
        self.min = min(self.min, other.min)
        self.max = max(self.max, other.max)

    @classmethod
    def merged(cls, histograms: Iterable[Histogram]) -> Histogram:
        out: Histogram | None = None
        for h in histograms:
            if out is None:
                out = cls(h.accuracy)
            out.merge(h)
        return out if out is not None else cls()

    def copy(self) -> Histogram:
        out = Histogram(self.accuracy)
        out.merge(self)
        return out

    # -- reading -----------------------------------------------------------
    @property
    def mean(self) -> float:
        return self.sum / self.count if self.count else math.nan

    def _bucket_value(self, key: int) -> float:
        return 2.0 * self._gamma**key / (self._gamma + 1.0)

    def quantile(self, q: float) -> float:
        """The value at quantile ``q`` in [0, 1]; NaN when empty.

        Rank convention: the sample at 0-based rank ``floor(q * (n - 1))``
        of the sorted samples, clamped to the exact min and max.
        """
        if self.count == 0:
            return math.nan
        if q <= 0:
            return self.min
        if q >= 1:
            return self.max
        rank = math.floor(q * (self.count - 1))
        if rank < self.zeros:
            return max(self.min, 0.0)
        seen = self.zeros
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if seen > rank:
                return min(max(self._bucket_value(key), self.min), self.max)
        return self.max

    def count_above(self, value: float) -> int:
        """Samples above ``value``, at the buckets' resolution (within ``accuracy``)."""
        if self.count == 0 or value >= self.max:
            return 0
        above = sum(n for key, n in self._buckets.items() if self._bucket_value(key) > value)
        return above + (self.zeros if value < 0 else 0)

    def quantiles(self, qs: Iterable[float]) -> list[float]:
        """Several quantiles in one pass over the sorted buckets."""
        wanted = list(qs)
        if self.count == 0:
            return [math.nan for _ in wanted]
        order = sorted(range(len(wanted)), key=lambda i: wanted[i])
        out = [math.nan] * len(wanted)
        keys = sorted(self._buckets)
        ki = 0
        seen = self.zeros
        for i in order:
            q = wanted[i]
            if q <= 0:
                out[i] = self.min
                continue
            if q >= 1:
                out[i] = self.max
                continue
            rank = math.floor(q * (self.count - 1))
            if rank < self.zeros:
                out[i] = max(self.min, 0.0)
                continue
            while ki < len(keys) and seen + self._buckets[keys[ki]] <= rank:
                seen += self._buckets[keys[ki]]
                ki += 1
            if ki >= len(keys):
                out[i] = self.max
            else:
                out[i] = min(max(self._bucket_value(keys[ki]), self.min), self.max)
        return out

    def summary(self, digits: int = 3) -> dict[str, float]:
        """Artillery's summary shape: min, max, count, mean and percentiles."""
        if self.count == 0:
            return {
                "min": 0,
                "max": 0,
                "count": 0,
                "mean": 0,
                **{k: 0 for k, _ in SUMMARY_QUANTILES},
            }
        values = self.quantiles(q for _, q in SUMMARY_QUANTILES)
        out: dict[str, float] = {
            "min": round(self.min, digits),
            "max": round(self.max, digits),
            "count": self.count,
            "mean": round(self.mean, digits),
        }
        for (name, _), value in zip(SUMMARY_QUANTILES, values, strict=True):
            out[name] = round(value, digits)
        return out

    def __len__(self) -> int:
        return self.count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (
            self.accuracy == other.accuracy
            and self._buckets == other._buckets
            and self.count == other.count
            and self.zeros == other.zeros
            and math.isclose(self.sum, other.sum, rel_tol=1e-9, abs_tol=1e-9)
            and (self.count == 0 or (self.min == other.min and self.max == other.max))
        )

    def __repr__(self) -> str:
        if not self.count:
            return "Histogram(empty)"
        return f"Histogram(count={self.count}, p50={self.quantile(0.5):.3f}, max={self.max:.3f})"

    # -- serialisation -----------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        keys = sorted(self._buckets)
        return {
            "accuracy": self.accuracy,
            "count": self.count,
            "zeros": self.zeros,
            "sum": self.sum,
            "min": self.min if self.count else None,
            "max": self.max if self.count else None,
            "keys": keys,
            "counts": [self._buckets[k] for k in keys],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Histogram:
        h = cls(float(data.get("accuracy", DEFAULT_ACCURACY)))
        keys = data.get("keys", [])
        counts = data.get("counts", [])
        if len(keys) != len(counts):
            raise ValueError("histogram keys and counts differ in length")
        h._buckets = {int(k): int(n) for k, n in zip(keys, counts, strict=True) if int(n) > 0}
        h.count = int(data.get("count", 0))
        h.zeros = int(data.get("zeros", 0))
        h.sum = float(data.get("sum", 0.0))
        if h.count:
            h.min = float(data["min"])
            h.max = float(data["max"])
        if h.count != h.zeros + sum(h._buckets.values()):
            raise ValueError("histogram count does not match its buckets")
        return h

    def encode(self) -> str:
        """A compact text form (zlib + base64 of the dict), for storage."""
        raw = json.dumps(self.to_dict(), separators=(",", ":")).encode()
        return base64.b64encode(zlib.compress(raw, 6)).decode("ascii")

    @classmethod
    def decode(cls, text: str) -> Histogram:
        try:
            data = json.loads(zlib.decompress(base64.b64decode(text)))
        except (ValueError, zlib.error) as exc:
            raise ValueError(f"not an encoded histogram: {exc}") from exc
        return cls.from_dict(data)
