"""CPU per solo request: the bookkeeping, and a real process's clock."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from perfgate.engine.cpu_share import SoloCpuMeter, cpu_clock


class StepClock:
    """A CPU clock the test sets by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.fail = False

    def __call__(self) -> float | None:
        return None if self.fail else self.now


def test_a_solo_request_gets_exactly_the_cpu_used_while_it_was_in_flight() -> None:
    clock = StepClock()
    meter = SoloCpuMeter(clock)
    clock.now = 5.0  # CPU used before the request: nobody's
    token = meter.begin()
    clock.now = 5.002
    assert meter.end(token) == pytest.approx(2.0)
    clock.now = 6.0  # idle work between requests: nobody's
    token = meter.begin()
    clock.now = 6.0005
    assert meter.end(token) == pytest.approx(0.5)
    assert meter.in_flight == 0


@pytest.mark.parametrize("second_ends_first", [True, False])
def test_overlapping_requests_are_not_solo(second_ends_first: bool) -> None:
    clock = StepClock()
    meter = SoloCpuMeter(clock)
    a = meter.begin()
    clock.now = 0.001
    b = meter.begin()  # starts while A is in flight: neither is solo
    clock.now = 0.003
    first, second = (b, a) if second_ends_first else (a, b)
    assert meter.end(first) is None
    assert meter.end(second) is None
    # The next request alone is solo again.
    c = meter.begin()
    clock.now = 0.004
    assert meter.end(c) == pytest.approx(1.0)


def test_a_clock_that_fails_gives_none() -> None:
    clock = StepClock()
    meter = SoloCpuMeter(clock)
    token = meter.begin()
    clock.fail = True  # the target exited
    assert meter.end(token) is None
    token = meter.begin()  # unreadable at the start as well
    clock.fail = False
    assert meter.end(token) is None
    assert meter.in_flight == 0


def test_cpu_clock_reads_a_real_busy_process_to_the_microsecond() -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("per-process CPU clocks are a Linux feature")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time\n"
            "sys.stdin.readline()\n"
            "t=time.thread_time()\n"
            "while time.thread_time()-t<0.05: pass\n"
            "print('done', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        clock = cpu_clock([child.pid])
        assert clock is not None
        before = clock()
        assert before is not None
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "done"
        after = clock()
        assert after is not None
        # The child burned 50 ms of its own CPU after `before` was read.
        assert 0.05 <= after - before < 0.5
    finally:
        child.kill()
        child.wait(timeout=10)
    # An exited process's clock cannot be read: the reader says None, not 0.
    deadline = time.monotonic() + 5
    while clock() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert clock() is None


def test_cpu_clock_of_no_process_is_none() -> None:
    assert cpu_clock([]) is None
    assert cpu_clock([os.getpid()]) is not None
