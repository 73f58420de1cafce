"""The open-model arrival loop: start something at each scheduled time, late or not.

One loop for both drivers of traffic: a worker of ``run_script``
(:func:`perfgate.engine.workers.run_worker`) and an A/B round
(:func:`perfgate.engine.rounds.run_round`). The caller's ``launch`` does the
rest (pick a scenario, start the virtual user, count the lag); it must not
block, so arrivals never wait for earlier users (open model).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from perfgate.engine.scheduler import Arrival

__all__ = ["Launch", "drive_arrivals"]

#: ``launch(index, arrival, lag_ms)``: called at each arrival's time.
Launch = Callable[[int, Arrival, float], None]

#: Coarse waiting: an arrival less than this ahead is not slept for.
_SLEEP_MIN_S = 0.0005
#: Behind schedule, yield to the loop after this many back-to-back arrivals,
#: so responses keep coming in while the generator catches up.
_BURST = 32
#: Precise waiting: sleep until this close to an arrival, then yield to the
#: loop until it is due (asyncio's timers wake up to 1 ms late: epoll's
#: millisecond timeout).
_SPIN_S = 0.0015


async def until(loop: asyncio.AbstractEventLoop, due: float) -> None:
    """Wait until the loop's clock reaches ``due``, to within tens of microseconds.

    The last stretch yields to the loop instead of sleeping, so in-flight
    users run meanwhile.
    """
    delay = due - loop.time()
    if delay > _SPIN_S:
        await asyncio.sleep(delay - _SPIN_S)
    while loop.time() < due:
        await asyncio.sleep(0)


async def drive_arrivals(
    schedule: Iterable[Arrival],
    *,
    start: float,
    launch: Launch,
    stop: Callable[[], bool] | None = None,
    precise: bool = False,
) -> bool:
    """Call ``launch`` at ``start + arrival.at_s`` (loop clock) for each arrival.

    ``precise``: spin the last 1.5 ms to each arrival (A/B rounds: the
    pair-drop rule is a 1 ms lag p99); otherwise sleep when more than 0.5 ms
    ahead (workers: cheaper, lag is measured either way). Returns True when
    ``stop()`` ended the schedule early.
    """
    loop = asyncio.get_running_loop()
    burst = 0
    for index, arrival in enumerate(schedule):
        due = start + arrival.at_s
        if precise:
            await until(loop, due)
        else:
            delay = due - loop.time()
            if delay > _SLEEP_MIN_S:
                await asyncio.sleep(delay)
                burst = 0
            else:
                burst += 1
                if burst >= _BURST:
                    burst = 0
                    await asyncio.sleep(0)
        if stop is not None and stop():
            return True
        launch(index, arrival, max(0.0, (loop.time() - due) * 1000.0))
    return False
