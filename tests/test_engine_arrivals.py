"""The one arrival loop under run_worker and the A/B rounds (no timing assertions)."""

from __future__ import annotations

import asyncio

import pytest

from perfgate.engine.arrivals import drive_arrivals
from perfgate.engine.scheduler import Arrival

SCHEDULE = [Arrival(at_s=0.001 * i, phase=0, seq=i) for i in range(5)]


@pytest.mark.parametrize("precise", [False, True])
async def test_every_arrival_is_launched_in_order_with_its_lag(precise: bool) -> None:
    seen: list[tuple[int, int, float]] = []
    stopped = await drive_arrivals(
        SCHEDULE,
        start=asyncio.get_running_loop().time(),
        launch=lambda i, a, lag: seen.append((i, a.seq, lag)),
        precise=precise,
    )
    assert not stopped
    assert [(i, seq) for i, seq, _ in seen] == [(i, i) for i in range(5)]
    assert all(lag >= 0.0 for _, _, lag in seen)


async def test_stop_ends_the_schedule_before_the_next_launch() -> None:
    seen: list[int] = []
    stopped = await drive_arrivals(
        SCHEDULE,
        start=asyncio.get_running_loop().time(),
        launch=lambda i, a, lag: seen.append(i),
        stop=lambda: len(seen) >= 2,
    )
    assert stopped and seen == [0, 1]
