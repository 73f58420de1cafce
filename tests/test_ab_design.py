"""A/B design: ABBA/BAAB order, seeds, the rate cap, settling (pure)."""

from __future__ import annotations

import pytest

from perfgate.gate.ab.design import capped_rate, pair_plan, settling_drift, slice_plan


@pytest.mark.parametrize("pairs", [2, 6, 12, 13])
def test_pairs_come_in_balanced_blocks(pairs: int) -> None:
    plan = pair_plan(pairs, seed=42)
    assert [p.index for p in plan] == list(range(pairs))
    for p in plan:
        assert sorted(p.order) == ["base", "candidate"]
    for start in range(0, pairs - 1, 2):
        a, b = plan[start], plan[start + 1]
        assert a.block == b.block
        assert b.order == (a.order[1], a.order[0])  # ABBA or BAAB
        first = "base" if a.block == "ABBA" else "candidate"
        assert a.order[0] == first
    # Each arm goes first equally often within complete blocks.
    complete = plan[: pairs - pairs % 2]
    firsts = [p.order[0] for p in complete]
    assert firsts.count("base") == firsts.count("candidate")


def test_order_and_seeds_reproduce_from_the_seed() -> None:
    assert pair_plan(12, seed=7) == pair_plan(12, seed=7)
    assert pair_plan(12, seed=7) != pair_plan(12, seed=8)
    seeds = [p.seed for p in pair_plan(12, seed=7)]
    assert len(set(seeds)) == 12  # every pair its own common random numbers


def test_block_order_is_random_not_fixed() -> None:
    blocks = {tuple(p.block for p in pair_plan(12, seed=s)) for s in range(20)}
    assert len(blocks) > 1


def test_pair_plan_rejects_zero() -> None:
    with pytest.raises(ValueError):
        pair_plan(0, seed=1)


def test_rate_configured_script_and_capped() -> None:
    assert capped_rate(50.0, None, 1000.0, 0.6) == (50.0, "the script's sustained rate")
    rate, why = capped_rate(50.0, 80.0, 1000.0, 0.6)
    assert rate == 80.0 and why == "ab.rate"
    rate, why = capped_rate(50.0, None, 60.0, 0.6)
    assert rate == pytest.approx(36.0)
    assert "capped" in why and "60%" in why
    rate, _ = capped_rate(None, None, 100.0, 0.5)
    assert rate == pytest.approx(50.0)
    assert capped_rate(50.0, None, None, 0.6)[0] == 50.0
    with pytest.raises(ValueError):
        capped_rate(None, None, None, 0.6)


def test_settling_drift() -> None:
    assert settling_drift([1.0, 1.0]) is None
    assert settling_drift([5.0, 4.0, 1.0, 1.0, 1.0, 1.0]) == pytest.approx(0.0)
    falling = settling_drift([10.0, 9.0, 8.0, 7.0, 6.0, 5.0])
    assert falling is not None and falling < -0.15


def test_slices_alternate_the_arms_and_share_seeds_per_slice() -> None:
    pair = pair_plan(2, seed=3)[0]
    slices = slice_plan(pair, 4)
    orders = [order for order, _ in slices]
    a, b = pair.order
    assert orders == [(a, b), (b, a), (a, b), (b, a)]  # A B B A A B B A
    seeds = [seed for _, seed in slices]
    assert seeds[0] == pair.seed  # one slice is the plain pair
    assert len(set(seeds)) == 4
    assert slice_plan(pair, 4) == slices  # reproducible
    assert slice_plan(pair, 1) == [(pair.order, pair.seed)]
    with pytest.raises(ValueError):
        slice_plan(pair, 0)
