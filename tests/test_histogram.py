"""The mergeable histogram: accuracy, merging, serialisation."""

from __future__ import annotations

import math
import random

import pytest

from perfgate.metrics.histogram import DEFAULT_ACCURACY, Histogram


def exact_quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[math.floor(q * (len(sorted_values) - 1))]


@pytest.mark.parametrize("dist", ["lognormal", "uniform", "bimodal"])
def test_quantiles_within_relative_accuracy(dist: str) -> None:
    rng = random.Random(7)
    if dist == "lognormal":
        values = [rng.lognormvariate(0.5, 1.2) for _ in range(50_000)]
    elif dist == "uniform":
        values = [rng.uniform(0.05, 900.0) for _ in range(50_000)]
    else:
        values = [
            rng.gauss(2.0, 0.1) if rng.random() < 0.9 else rng.gauss(250.0, 5.0)
            for _ in range(50_000)
        ]
    h = Histogram()
    h.record_many(values)
    values.sort()
    for q in (0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999):
        got = h.quantile(q)
        want = exact_quantile(values, q)
        assert abs(got - want) <= want * (DEFAULT_ACCURACY * 2 + 1e-9), (q, got, want)
    assert h.count == len(values)
    assert h.min == values[0] and h.max == values[-1]
    assert math.isclose(h.mean, sum(values) / len(values), rel_tol=1e-9)


def test_quantiles_batch_equals_single() -> None:
    rng = random.Random(1)
    h = Histogram()
    h.record_many(rng.expovariate(0.2) for _ in range(5_000))
    qs = [0.999, 0.0, 0.5, 1.0, 0.95, 0.5]
    assert h.quantiles(qs) == [h.quantile(q) for q in qs]


def test_merge_is_exact_union() -> None:
    rng = random.Random(3)
    a_vals = [rng.lognormvariate(1, 1) for _ in range(3_000)]
    b_vals = [rng.lognormvariate(2, 0.5) for _ in range(2_000)]
    a, b, both = Histogram(), Histogram(), Histogram()
    a.record_many(a_vals)
    b.record_many(b_vals)
    both.record_many(a_vals + b_vals)
    merged = Histogram.merged([a, b])
    assert merged == both
    assert merged.summary() == both.summary()
    # merging into an empty histogram, and merging an empty one, change nothing
    assert Histogram.merged([Histogram(), a]) == a
    a_copy = a.copy()
    a_copy.merge(Histogram())
    assert a_copy == a


def test_zero_and_negative_values_count() -> None:
    h = Histogram()
    for v in (0.0, -1.0, 0.5, 2.0):
        h.record(v)
    assert h.count == 4 and h.zeros == 2
    assert h.quantile(0.0) == -1.0
    assert h.quantile(0.25) == 0.0
    assert h.quantile(1.0) == 2.0


def test_empty_histogram() -> None:
    h = Histogram()
    assert math.isnan(h.quantile(0.5))
    assert h.summary()["count"] == 0
    assert Histogram.decode(h.encode()) == h


def test_encode_round_trip_and_bad_input() -> None:
    h = Histogram()
    h.record_many([0.25, 1.0, 1.0, 30.0, 1e4])
    back = Histogram.decode(h.encode())
    assert back == h
    assert back.summary() == h.summary()
    with pytest.raises(ValueError):
        Histogram.decode("not base64 at all!!")
    data = h.to_dict()
    data["count"] = 99
    with pytest.raises(ValueError):
        Histogram.from_dict(data)


def test_merge_rejects_different_accuracy() -> None:
    with pytest.raises(ValueError):
        Histogram(0.01).merge(Histogram(0.005))


def test_memory_is_bounded_by_range_not_count() -> None:
    h = Histogram()
    rng = random.Random(5)
    h.record_many(rng.uniform(0.1, 10_000.0) for _ in range(200_000))
    # log range 1e5 at 0.5% accuracy -> about ln(1e5)/ln(1.01) ~ 1157 buckets
    assert len(h.to_dict()["keys"]) < 1_300
