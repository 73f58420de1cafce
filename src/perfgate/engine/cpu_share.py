"""The CPU a local target spent on each request that had it to itself.

A latency median of a few dozen requests per round moves by several percent
between identical rounds (queueing behind other requests, a CPU whose speed
drifts); the CPU the server spent on one request moves far less, and does
not care whether the generator was a millisecond late. The kernel says how
much CPU the target's processes used, not for which request, so the meter
reads the target's CPU clock when a request is sent and when its response
is in, and keeps the difference only for a **solo** request: one that no
other request of the target overlapped, from its send to its response. Its
difference is then that request's CPU, exactly (plus whatever the server
did in the background meanwhile: a timer, a collection).

Equal shares among overlapping requests were tried and dropped: on an
event-loop server most requests in flight are waiting, not running, and a
cheap request beside a sign-in waiting on its password hash got half the
hash's CPU.

Only meaningful when the target runs on this machine and its process ids
are known: the A/B rounds (:mod:`perfgate.gate._ab_rounds`) attach one; the
sole client of the arm is then the generator, so "solo" is exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

__all__ = ["CpuClock", "CpuToken", "SoloCpuMeter", "cpu_clock", "process_cpu_seconds"]

CpuClock = Callable[[], float | None]
#: (CPU seconds at send, overlap count at send); None: not solo from the start
CpuToken = tuple[float, int] | None


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


class SoloCpuMeter:
    """``begin()`` before a request is written, ``end(token)`` once it is over.

    ``end`` returns the target's CPU milliseconds over the request when no
    other request overlapped it, else ``None``.
    """

    __slots__ = ("_clock", "_in_flight", "_overlaps")

    def __init__(self, clock: CpuClock) -> None:
        self._clock = clock
        self._in_flight = 0
        # Bumped whenever a request starts while another is in flight: a
        # request is solo when it started alone and this did not move.
        self._overlaps = 0

    def begin(self) -> CpuToken:
        if self._in_flight:
            self._in_flight += 1
            self._overlaps += 1
            return None
        self._in_flight = 1
        now = self._clock()
        return None if now is None else (now, self._overlaps)

    def end(self, token: CpuToken) -> float | None:
        self._in_flight = max(0, self._in_flight - 1)
        if token is None or token[1] != self._overlaps:
            return None
        now = self._clock()
        if now is None or now < token[0]:
            return None
        return (now - token[0]) * 1000.0

    @property
    def in_flight(self) -> int:
        return self._in_flight
