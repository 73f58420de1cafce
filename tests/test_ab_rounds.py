"""A/B rounds against a real demo API: slices of a pair merge into one round per arm."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from perfgate.engine import merge_rounds, run_round
from perfgate.metrics import names
from perfgate.script import load_script_text


def _script(url: str) -> Any:
    return load_script_text(
        f"""
config:
  target: "{url}"
  phases: [{{duration: 1, arrivalRate: 40}}]
scenarios:
  - flow:
      - get: {{url: /health}}
"""
    )


async def test_slices_merge_into_one_round(shared_demo_api: Any) -> None:
    script = _script(shared_demo_api.url)
    ticks = itertools.count()  # a CPU clock that advances one second per reading

    parts = [
        await run_round(
            "base",
            script,
            seed=seed,
            rate=40.0,
            duration_s=0.5,
            discard_s=0.05,
            initial_vars={},
            cpu=lambda: float(next(ticks)),
        )
        for seed in (11, 12, 13)
    ]
    merged = merge_rounds(parts)

    total = [p.metrics.histograms[names.TOTAL].count for p in parts]
    assert all(n > 0 for n in total)
    assert merged.metrics.histograms[names.TOTAL].count == sum(total)
    assert merged.requests_all == sum(p.requests_all for p in parts)
    assert merged.requests_measured == sum(p.requests_measured for p in parts)
    assert merged.lag.planned == sum(p.lag.planned for p in parts)
    assert merged.lag.histogram.count == sum(p.lag.histogram.count for p in parts)
    assert merged.measured_s == pytest.approx(3 * 0.45)
    assert merged.cpu_s == pytest.approx(3.0)  # one second per slice, summed
    # The head of every slice is discarded: fewer measured than sent.
    assert merged.requests_measured < merged.requests_all

    # One slice whose CPU could not be read makes the pair's CPU unknown, not partial.
    blind = await run_round(
        "base",
        script,
        seed=14,
        rate=40.0,
        duration_s=0.3,
        discard_s=0.0,
        initial_vars={},
        cpu=lambda: None,
    )
    assert merge_rounds([parts[0], blind]).cpu_s is None
    assert merge_rounds([parts[0]]) is parts[0]
    with pytest.raises(ValueError):
        merge_rounds([])
