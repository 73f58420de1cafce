"""The arrival schedule: Artillery's phase shapes, no drift, exact worker split."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.engine.scheduler import (
    LagTracker,
    arrivals,
    planned_count,
    scheduler_stats,
    split_cap,
    split_for_workers,
    total_duration,
)
from perfgate.script import Phase


def per_second(phases: list[Phase]) -> Counter[int]:
    return Counter(int(a.at_s) for a in arrivals(phases))


def test_constant_rate_is_evenly_spaced_without_drift() -> None:
    phases = [Phase(0, "c", 10.0, arrival_rate=7)]
    times = [a.at_s for a in arrivals(phases)]
    assert len(times) == 70
    assert times[0] == 0.0
    assert times[-1] == pytest.approx(69 / 7)  # absolute, not accumulated
    assert set(per_second(phases).values()) == {7}


def test_ramp_steps_every_second_and_hits_both_ends() -> None:
    phases = [Phase(0, "r", 4.0, arrival_rate=1, ramp_to=10)]
    counts = per_second(phases)
    assert [counts[i] for i in range(4)] == [1, 4, 7, 10]


def test_fractional_ramp_rates_round_per_second_as_artillery() -> None:
    """Artillery's createRamp rounds each second's rate half up (one worker):
    0.5, 0.61, ..., 1.39, 1.5 -> 1 x 9, then 2 = 11 arrivals (not the mean 10)."""
    phases = [Phase(0, "r", 10.0, arrival_rate=0.5, ramp_to=1.5)]
    assert planned_count(phases) == 11


def test_one_second_ramp_runs_the_mean_rate() -> None:
    """Issue 24 item 3. Artillery 2.0.21, `{duration: 1, arrivalRate: 1, rampTo: 5}`:
    3 arrivals (createRamp: one period runs (arrivalRate + rampTo) / 2), not 5."""
    assert planned_count([Phase(0, "r", 1.0, arrival_rate=1, ramp_to=5)]) == 3
    assert planned_count([Phase(0, "r", 1.0, arrival_rate=2, ramp_to=5)]) == 4  # 3.5 half up


def test_arrival_count_pause_and_offsets() -> None:
    phases = [
        Phase(0, "a", 10.0, arrival_count=5),
        Phase(1, "p", 0.0, pause_s=3.0),
        Phase(2, "b", 2.0, arrival_rate=2),
    ]
    got = [(round(a.at_s, 6), a.phase) for a in arrivals(phases)]
    assert got[:5] == [(0.0, 0), (2.0, 0), (4.0, 0), (6.0, 0), (8.0, 0)]
    assert got[5:] == [(13.0, 2), (13.5, 2), (14.0, 2), (14.5, 2)]
    assert total_duration(phases) == 15.0


def test_poisson_is_seeded_and_near_the_mean() -> None:
    phases = [Phase(0, "p", 100.0, arrival_rate=20, poisson=True)]
    a = [x.at_s for x in arrivals(phases, seed=3)]
    b = [x.at_s for x in arrivals(phases, seed=3)]
    assert a == b
    assert 1700 < len(a) < 2300
    assert a == sorted(a) and a[-1] < 100.0


@pytest.mark.parametrize(
    ("phases", "n"),
    [
        ([Phase(0, "c", 10.0, arrival_rate=7)], 3),
        ([Phase(0, "r", 4.0, arrival_rate=1, ramp_to=10)], 4),
        ([Phase(0, "r", 7.0, arrival_rate=3, ramp_to=1), Phase(1, "c", 3.0, arrival_count=5)], 3),
        ([Phase(0, "c", 1.0, arrival_rate=1)], 4),  # fewer arrivals than workers
    ],
)
def test_worker_split_union_is_the_schedule(phases: list[Phase], n: int) -> None:
    whole = [(a.at_s, a.phase, a.seq) for a in arrivals(phases)]
    parts = [[(a.at_s, a.phase, a.seq) for a in s] for s in split_for_workers(phases, n)]
    union = sorted(x for part in parts for x in part)
    assert union == sorted(whole)  # nothing lost, nothing duplicated, no drift
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1  # balanced


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.1, 40),
    ramp=st.one_of(st.none(), st.floats(0, 40)),
    duration=st.integers(1, 12),
    n=st.integers(1, 5),
)
def test_split_property(rate: float, ramp: float | None, duration: int, n: int) -> None:
    phases = [Phase(0, "x", float(duration), arrival_rate=rate, ramp_to=ramp)]
    whole = sorted(a.seq for a in arrivals(phases))
    union = sorted(a.seq for s in split_for_workers(phases, n) for a in s)
    assert union == whole


def test_split_cap_shares_add_up() -> None:
    assert sum(split_cap(7, i, 3) or 0 for i in range(3)) == 7
    assert split_cap(None, 0, 3) is None


def test_lag_tracker_and_generator_limited_flag() -> None:
    lag = LagTracker(late_threshold_ms=10)
    for v in [0.1] * 98 + [200.0, 300.0]:
        lag.record(v)
    stats = scheduler_stats(
        lag.histogram, planned=100, launched=lag.launched, skipped=0, late=lag.late
    )
    assert stats.late == 2 and stats.lag_max_ms == pytest.approx(300.0)
    assert stats.generator_limited  # p99 over the bound
    ok = LagTracker()
    for _ in range(100):
        ok.record(0.5)
    assert not scheduler_stats(
        ok.histogram, planned=100, launched=100, skipped=0, late=0
    ).generator_limited
    assert scheduler_stats(
        ok.histogram, planned=1, launched=1, skipped=0, late=0, cpu_pct=99.0
    ).generator_limited
