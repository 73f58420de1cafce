"""The CPU a local target spent on each kind of request.

A latency median of a few dozen requests per round moves by several percent
between identical rounds (queueing behind other requests, a CPU whose speed
drifts); the CPU the server spent on a request moves far less, and does not
care whether the generator was a millisecond late. The kernel says how much
CPU the target's processes used, not for which request, so the meter reads
the target's CPU clock at the edges of **busy periods**: from the moment a
request is sent to an idle target until the last response of the requests
that overlapped it is in. Every request belongs to exactly one busy period,
and a period's CPU is the sum of its requests' CPU (plus whatever the server
did in the background meanwhile: a timer, a collection).

Per round, each endpoint's CPU per request is then the Huber regression of
the periods' CPU on their request counts (:func:`endpoint_cpu_ms`): a solo
request is a period of one, and overlapping requests add information instead
of being thrown away. The designs this replaced (median regression, equal
shares, solo requests only) and the figures that decided it are in
docs/ab.md ("CPU per request, per endpoint").

Only meaningful when the target runs on this machine and its process ids
are known: the A/B rounds (:mod:`perfgate.engine.rounds`) attach one; the
sole client of the arm is then the generator, so the periods are exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from perfgate.stats import RegressionFit, huber_regression

__all__ = [
    "BusyPeriod",
    "BusyPeriodMeter",
    "CpuClock",
    "cpu_clock",
    "endpoint_cpu_ms",
    "process_cpu_seconds",
]

CpuClock = Callable[[], float | None]
Fit = Callable[[npt.NDArray[np.float64], npt.NDArray[np.float64]], RegressionFit]


def _clock_id(pid: int) -> int:
    # Linux's per-process CPU clock: counts every thread, live or exited, to
    # the nanosecond (``/proc``'s CPU times tick at 10 ms).
    return ((~pid) << 3) | 2


def process_cpu_seconds(pids: Sequence[int]) -> float | None:
    """Summed CPU seconds of the ``pids`` still alive; ``None`` when none can be read."""
    if not pids or not hasattr(time, "clock_gettime"):
        return None
    total = 0.0
    read = 0
    for pid in pids:
        try:
            total += time.clock_gettime(_clock_id(pid))
            read += 1
        except OSError:  # exited meanwhile, or not Linux
            continue
    return total if read else None


def cpu_clock(pids: Sequence[int]) -> CpuClock | None:
    """A reader of the summed CPU seconds of exactly ``pids``, for the hot path.

    The clock ids are worked out once. ``None`` when the clocks are not
    available; the reader returns ``None`` once any of the processes exited
    (a request's CPU is then unknown, not smaller).
    """
    if process_cpu_seconds(pids) is None:
        return None
    ids = [_clock_id(pid) for pid in pids]
    gettime = time.clock_gettime

    def read() -> float | None:
        total = 0.0
        for clock_id in ids:
            try:
                total += gettime(clock_id)
            except OSError:  # that process exited: the target is dying
                return None
        return total

    return read


@dataclass(frozen=True, slots=True)
class BusyPeriod:
    """From a request sent to an idle target until the target is idle again."""

    cpu_ms: float
    endpoints: tuple[str, ...]  # one entry per request in the period


class _OpenPeriod:
    __slots__ = ("cpu0", "endpoints", "kept")

    def __init__(self, cpu0: float | None, kept: bool) -> None:
        self.cpu0 = cpu0
        self.kept = kept
        self.endpoints: list[str] = []


class BusyPeriodMeter:
    """``begin()`` before a request is written, ``end(token, endpoint)`` once it is over.

    Closed periods opened while ``measuring`` was true collect in ``periods``.
    """

    __slots__ = ("_clock", "_in_flight", "_open", "measuring", "periods")

    def __init__(self, clock: CpuClock, *, measuring: bool = True) -> None:
        self._clock = clock
        self._in_flight = 0
        self._open: _OpenPeriod | None = None
        self.measuring = measuring
        self.periods: list[BusyPeriod] = []

    def begin(self) -> _OpenPeriod:
        period = self._open
        if period is None:  # the target was idle: this request opens a period
            period = self._open = _OpenPeriod(self._clock(), self.measuring)
        self._in_flight += 1
        return period

    def end(self, token: _OpenPeriod, endpoint: str) -> None:
        token.endpoints.append(endpoint)
        self._in_flight = max(0, self._in_flight - 1)
        if self._in_flight:
            return
        self._open = None  # idle again: the next request opens a new period
        now = self._clock()
        if token.kept and token.cpu0 is not None and now is not None and now >= token.cpu0:
            self.periods.append(BusyPeriod((now - token.cpu0) * 1000.0, tuple(token.endpoints)))

    @property
    def in_flight(self) -> int:
        return self._in_flight


def endpoint_cpu_ms(
    periods: Sequence[BusyPeriod], fit: Fit = huber_regression
) -> dict[str, tuple[float, int]]:
    """Endpoint -> (CPU ms per request, requests behind it), by Huber regression.

    Endpoints whose cost cannot be told apart from another's (they only ever
    occur together, in fixed proportion) are left out. ``fit``: another
    regression of the same signature (studies/detection.py compares the median
    fit on the same periods).
    """
    names = sorted({e for p in periods for e in p.endpoints})
    if not names:
        return {}
    column = {name: i for i, name in enumerate(names)}
    x = np.zeros((len(periods), len(names)))
    for row, p in enumerate(periods):
        for e in p.endpoints:
            x[row, column[e]] += 1.0
    result = fit(x, np.array([p.cpu_ms for p in periods]))
    counts = x.sum(axis=0)
    return {
        name: (max(0.0, float(result.coef[i])), int(counts[i]))
        for i, name in enumerate(names)
        if result.identifiable[i]
    }
