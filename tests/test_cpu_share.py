"""CPU per request from busy periods: the bookkeeping, the fit, and a real process's clock."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time

import pytest

from perfgate.engine.cpu_share import BusyPeriod, BusyPeriodMeter, cpu_clock, endpoint_cpu_ms


class StepClock:
    """A CPU clock the test sets by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.fail = False

    def __call__(self) -> float | None:
        return None if self.fail else self.now


def test_a_busy_period_gets_exactly_the_cpu_used_while_requests_were_in_flight() -> None:
    clock = StepClock()
    meter = BusyPeriodMeter(clock)
    clock.now = 5.0  # CPU used before the request: nobody's
    token = meter.begin()
    clock.now = 5.002
    meter.end(token, "/a")
    clock.now = 6.0  # idle work between requests: nobody's
    token = meter.begin()
    clock.now = 6.0005
    meter.end(token, "/b")
    assert meter.in_flight == 0
    assert [p.endpoints for p in meter.periods] == [("/a",), ("/b",)]
    assert [p.cpu_ms for p in meter.periods] == pytest.approx([2.0, 0.5])


@pytest.mark.parametrize("second_ends_first", [True, False])
def test_overlapping_requests_share_one_period(second_ends_first: bool) -> None:
    clock = StepClock()
    meter = BusyPeriodMeter(clock)
    a = meter.begin()
    clock.now = 0.001
    b = meter.begin()  # starts while A is in flight: same period
    assert b is a
    clock.now = 0.003
    first, second = ((b, "/b"), (a, "/a")) if second_ends_first else ((a, "/a"), (b, "/b"))
    meter.end(*first)
    assert meter.periods == []  # still busy
    c = meter.begin()  # a third request joins before the last one is in
    clock.now = 0.004
    meter.end(*second)
    meter.end(c, "/c")
    assert len(meter.periods) == 1
    assert sorted(meter.periods[0].endpoints) == ["/a", "/b", "/c"]
    assert meter.periods[0].cpu_ms == pytest.approx(4.0)
    # The next request alone opens a new period.
    d = meter.begin()
    clock.now = 0.005
    meter.end(d, "/a")
    assert meter.periods[-1] == BusyPeriod(pytest.approx(1.0), ("/a",))  # type: ignore[arg-type]


def test_only_periods_opened_while_measuring_are_kept() -> None:
    clock = StepClock()
    meter = BusyPeriodMeter(clock, measuring=False)
    head = meter.begin()
    meter.measuring = True  # the measured part starts while the head period is open
    joined = meter.begin()
    clock.now = 0.002
    meter.end(head, "/a")
    meter.end(joined, "/b")
    assert meter.periods == []  # opened in the discarded head
    token = meter.begin()
    clock.now = 0.003
    meter.end(token, "/a")
    assert [p.endpoints for p in meter.periods] == [("/a",)]


def test_a_clock_that_fails_drops_the_period() -> None:
    clock = StepClock()
    meter = BusyPeriodMeter(clock)
    token = meter.begin()
    clock.fail = True  # the target exited
    meter.end(token, "/a")
    token = meter.begin()  # unreadable at the start as well
    clock.fail = False
    meter.end(token, "/a")
    assert meter.periods == []
    assert meter.in_flight == 0


def test_endpoint_cpu_of_solo_periods_is_a_robust_mean_per_endpoint() -> None:
    periods = [BusyPeriod(c, ("/a",)) for c in (1.0, 1.1, 0.9, 50.0, 1.05)]
    periods += [BusyPeriod(c, ("/b",)) for c in (3.0, 3.3, 2.9, 3.0, 3.1)]
    fitted = endpoint_cpu_ms(periods)
    # the 50 ms collection pulls by at most one robust SD: the mean would be 10.8
    assert 0.98 < fitted["/a"][0] < 1.1
    assert fitted["/a"][1] == 5
    assert fitted["/b"][0] == pytest.approx(3.03, abs=0.02) and fitted["/b"][1] == 5


def test_endpoint_cpu_takes_another_fit_the_median_one_gives_medians() -> None:
    from perfgate.stats import median_regression

    periods = [BusyPeriod(c, ("/a",)) for c in (1.0, 1.1, 0.9, 50.0, 1.05)]
    periods += [BusyPeriod(c, ("/b",)) for c in (3.0, 3.2, 2.9)]
    fitted = endpoint_cpu_ms(periods, fit=median_regression)
    assert fitted["/a"] == (pytest.approx(1.05, abs=1e-4), 5)
    assert fitted["/b"] == (pytest.approx(3.0, abs=1e-4), 3)


def test_endpoint_cpu_untangles_overlapping_requests() -> None:
    rng = random.Random(3)
    cost = {"/list": 2.4, "/health": 0.3, "/sign-in": 4.0}
    kinds = list(cost)
    periods = []
    for _ in range(400):
        members = tuple(rng.choice(kinds) for _ in range(rng.choice((1, 2, 2, 3, 5))))
        spent = sum(cost[m] * rng.uniform(0.97, 1.03) for m in members)
        if rng.random() < 0.08:  # a collection or a preemption inside the period
            spent += rng.uniform(5.0, 40.0)
        periods.append(BusyPeriod(spent, members))
    fitted = endpoint_cpu_ms(periods)
    for kind, c in cost.items():
        assert fitted[kind][0] == pytest.approx(c, rel=0.03), kind
    assert sum(n for _, n in fitted.values()) == sum(len(p.endpoints) for p in periods)


def test_endpoint_cpu_leaves_out_what_cannot_be_told_apart() -> None:
    # /x and /y only ever come together: their split is unknowable.
    periods = [BusyPeriod(3.0, ("/x", "/y")) for _ in range(10)]
    periods += [BusyPeriod(1.0, ("/z",)) for _ in range(10)]
    fitted = endpoint_cpu_ms(periods)
    assert set(fitted) == {"/z"}
    assert fitted["/z"][0] == pytest.approx(1.0)
    assert endpoint_cpu_ms([]) == {}


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
