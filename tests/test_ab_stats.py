"""A/B statistics over round pairs: sufficiency, dropping, families, new routes (pure)."""

from __future__ import annotations

import random

import pytest

from perfgate.engine.cpu_share import BusyPeriod, endpoint_cpu_ms
from perfgate.gate.ab.stats import PairFigures, RoundFigures, ab_comparisons, round_figures
from perfgate.metrics import MetricSet, names
from perfgate.verdict import MetricComparison

EFFECTS = {
    "median": 0.05,
    "p95": 0.15,
    "p99": 0.15,
    "cpu_per_request": 0.05,
    "error_rate_pp": 0.005,
}


def _round(
    rng: random.Random, n: int, scale: float, *, routes: tuple[str, ...] = ("/a",), errors: int = 0
) -> MetricSet:
    m = MetricSet()
    m.incr(names.HTTP_REQUESTS, n)
    for i in range(n):
        route = routes[i % len(routes)]
        value = scale * rng.uniform(0.9, 1.1)
        status = 500 if i < errors else 200
        m.incr(names.http_code(status))
        m.incr(f"{names.ENDPOINT_PREFIX}{route}.codes.{status}")
        m.observe(names.TOTAL, value)
        m.observe(names.endpoint_total(route), value)
    return m


def _pairs(k: int, base: float, cand: float, n: int = 400, **kw: object) -> list[PairFigures]:
    rng = random.Random(3)
    out = []
    for i in range(k):
        a = round_figures("load", _round(rng, n, base, **kw), cpu_s=n * base / 1e4, duration_s=1.8)  # type: ignore[arg-type]
        b = round_figures("load", _round(rng, n, cand, **kw), cpu_s=n * cand / 1e4, duration_s=1.8)  # type: ignore[arg-type]
        out.append(PairFigures(i, a, b))
    return out


def _by_metric(comps: list[MetricComparison]) -> dict[str, MetricComparison]:
    return {c.metric: c for c in comps}


def test_round_sufficiency_thresholds() -> None:
    rng = random.Random(1)
    small = round_figures("load", _round(rng, 49, 10.0), cpu_s=None, duration_s=1.0)
    assert small.value("total.p50") is None  # 49 < 50
    enough = round_figures("load", _round(rng, 250, 10.0), cpu_s=None, duration_s=1.0)
    assert enough.value("total.p50") is not None
    assert enough.value("total.p95") is not None  # 250 >= 200
    assert enough.value("total.p99") is None  # 250 < 1000
    assert "throughput" not in enough.figures  # an input in an open model, not compared


def test_regression_found_and_named_primary() -> None:
    comps = _by_metric(ab_comparisons("load", _pairs(10, 10.0, 13.0), min_effect=EFFECTS))
    p50 = comps["total.p50"]
    assert p50.family == "primary" and p50.method == "ab"
    assert p50.state == "regression" and 0.2 < (p50.change or 0) < 0.4
    assert p50.samples == 10
    assert comps["cpu_ms_per_request"].state == "regression"
    assert comps["endpoint:/a total.p50"].family == "primary"
    assert comps["total.p99"].state == "insufficient"  # 400 samples per round < 1000


def test_same_arms_are_within_noise() -> None:
    comps = ab_comparisons("load", _pairs(8, 10.0, 10.0), min_effect=EFFECTS)
    assert not [c for c in comps if c.state == "regression"]


def test_dropped_pairs_are_left_out_and_can_make_it_insufficient() -> None:
    pairs = _pairs(8, 10.0, 13.0)
    for p in pairs[:3]:
        p.dropped = "scheduler lag p99 5 ms > 1 ms"
    comps = _by_metric(ab_comparisons("load", pairs, min_effect=EFFECTS))
    assert comps["total.p50"].samples == 5
    assert comps["total.p50"].state == "insufficient"  # 5 < 6 pairs
    assert comps["total.p50"].family == "primary"  # the family does not shrink with the pairs


def test_all_pairs_dropped_keeps_a_primary_family() -> None:
    pairs = _pairs(6, 10.0, 10.0)
    for p in pairs:
        p.dropped = "lag"
    comps = ab_comparisons("load", pairs, min_effect=EFFECTS)
    primary = [c for c in comps if c.family == "primary"]
    assert primary and all(c.state == "insufficient" for c in primary if c.unit != "ratio")


def test_route_missing_in_base_is_new() -> None:
    rng = random.Random(2)
    pairs = []
    for i in range(6):
        a = round_figures("load", _round(rng, 200, 10.0), cpu_s=None, duration_s=1.0)
        b = round_figures(
            "load", _round(rng, 200, 10.0, routes=("/a", "/b")), cpu_s=None, duration_s=1.0
        )
        pairs.append(PairFigures(i, a, b))
    comps = _by_metric(ab_comparisons("load", pairs, min_effect=EFFECTS))
    assert comps["endpoint:/b total.p50"].state == "new"
    assert comps["endpoint:/a total.p50"].state != "new"


def test_error_rate_is_compared_per_pair() -> None:
    comps = _by_metric(ab_comparisons("load", _pairs(6, 10.0, 10.0, errors=40), min_effect=EFFECTS))
    err = comps["error_rate"]
    assert err.family == "primary" and err.unit == "ratio"
    assert err.base == err.candidate == 40 / 400  # the summed rates, shown
    assert err.samples == 6  # pairs, not requests: failures come in bursts
    assert err.state == "within-noise" and err.ci_low is not None


def test_families_follow_the_traffic_and_every_endpoint_is_gated() -> None:
    routes = tuple(f"/r{i}" for i in range(8))
    # one failed request per route and round: a rate that never failed is not gated (e9)
    pairs = _pairs(12, 10.0, 10.0, n=800, routes=routes, errors=8)
    comps = ab_comparisons("load", pairs, min_effect=EFFECTS)
    primary = [c.metric for c in comps if c.family == "primary"]
    assert len(primary) <= 12
    # Equal traffic: the first four endpoints carry half the requests.
    assert sum(m.startswith("endpoint:") for m in primary) == 4  # no CPU figures: 4 medians
    secondary = {c.metric for c in comps if c.family == "secondary"}
    for r in routes:  # every endpoint's error rate, and the medians the core left out
        assert f"endpoint:{r} error_rate" in secondary
    assert {f"endpoint:/r{i} total.p50" for i in range(4, 8)} <= secondary
    assert not [c for c in comps if c.family == "info" and c.metric.endswith("total.p50")][4:]
    # without a failure anywhere, the routes' rates are information, the rest unchanged
    quiet = ab_comparisons("load", _pairs(12, 10.0, 10.0, n=800, routes=routes), min_effect=EFFECTS)
    families = {c.metric: c.family for c in quiet}
    assert all(families[f"endpoint:{r} error_rate"] == "info" for r in routes)
    assert families["error_rate"] == "primary"
    assert {f"endpoint:/r{i} total.p50" for i in range(4, 8)} <= {
        m for m, f in families.items() if f == "secondary"
    }


def test_declared_primary_extends_or_replaces_the_core() -> None:
    routes = tuple(f"/r{i}" for i in range(8))
    pairs = _pairs(12, 10.0, 10.0, n=800, routes=routes, errors=8)
    declared = ["endpoint:/r7 total.p50"]
    extended = ab_comparisons("load", pairs, min_effect=EFFECTS, declared_primary=declared)
    core = [c.metric for c in extended if c.family == "primary"]
    assert core[0] == "endpoint:/r7 total.p50" and "total.p50" in core and len(core) > 1
    replaced = ab_comparisons(
        "load", pairs, min_effect=EFFECTS, declared_primary=declared, primary_mode="replace"
    )
    assert [c.metric for c in replaced if c.family == "primary"] == declared
    # Replace narrows the core, never ungates the rest: the others stay secondary.
    assert "endpoint:/r0 error_rate" in {c.metric for c in replaced if c.family == "secondary"}


def test_a_cheap_frequent_endpoint_slowed_15_percent_fails() -> None:
    """The field miss: one frequent, cheap route +15%, the rest unchanged."""
    rng = random.Random(11)

    def rounds(slow: float) -> RoundFigures:
        m = MetricSet()
        for route, n, ms in (("/cheap", 240, 2.0), ("/heavy", 40, 30.0), ("/other", 120, 5.0)):
            for _ in range(n):
                value = ms * (slow if route == "/cheap" else 1.0) * rng.uniform(0.95, 1.05)
                m.incr(names.HTTP_REQUESTS)
                m.incr(names.http_code(200))
                m.incr(f"{names.ENDPOINT_PREFIX}{route}.codes.200")
                m.observe(names.TOTAL, value)
                m.observe(names.endpoint_total(route), value)
        return round_figures("load", m, cpu_s=None, duration_s=2.0)

    pairs = [PairFigures(i, rounds(1.0), rounds(1.15)) for i in range(12)]
    comps = _by_metric(ab_comparisons("load", pairs, min_effect=EFFECTS, alpha=0.0304))
    cheap = comps["endpoint:/cheap total.p50"]
    assert cheap.family == "primary" and cheap.state == "regression"


def test_a_rare_route_failing_30_percent_is_gated_by_its_error_rate() -> None:
    rng = random.Random(12)

    def rounds(fail: float) -> RoundFigures:
        m = MetricSet()
        for route, n in (("/common", 400), ("/rare", 10)):
            for _ in range(n):
                status = 500 if route == "/rare" and rng.random() < fail else 200
                m.incr(names.HTTP_REQUESTS)
                m.incr(names.http_code(status))
                m.incr(f"{names.ENDPOINT_PREFIX}{route}.codes.{status}")
                m.observe(names.TOTAL, 3.0)
                m.observe(names.endpoint_total(route), 3.0)
        return round_figures("load", m, cpu_s=None, duration_s=2.0)

    pairs = [PairFigures(i, rounds(0.0), rounds(0.3)) for i in range(12)]
    comps = _by_metric(ab_comparisons("load", pairs, min_effect=EFFECTS, alpha=0.0304))
    rare = comps["endpoint:/rare error_rate"]
    assert rare.family == "secondary" and rare.state == "regression"
    assert rare.p_value is not None and rare.p_value < 0.001


def _cpu_round(
    rng: random.Random, cpu: dict[str, tuple[int, float]], scale: float
) -> tuple[MetricSet, dict[str, tuple[float, int]]]:
    """Routes with (requests, CPU ms per request); latency 10 ms everywhere.

    The CPU figures come out of real busy periods of one to three requests,
    through the same fit the A/B rounds use.
    """
    m = MetricSet()
    queue: list[str] = []
    for route, (n, _) in cpu.items():
        m.incr(names.HTTP_REQUESTS, n)
        queue += [route] * n
        for _ in range(n):
            m.incr(names.http_code(200))
            m.incr(f"{names.ENDPOINT_PREFIX}{route}.codes.200")
            latency = 10.0 * rng.uniform(0.8, 1.2)
            m.observe(names.TOTAL, latency)
            m.observe(names.endpoint_total(route), latency)
    rng.shuffle(queue)
    periods = []
    while queue:
        members = tuple(queue[: rng.choice((1, 1, 2, 3))])
        del queue[: len(members)]
        spent = sum(
            cpu[r][1] * (scale if r == "/heavy" else 1.0) * rng.uniform(0.99, 1.01) for r in members
        )
        periods.append(BusyPeriod(spent, members))
    return m, endpoint_cpu_ms(periods)


def _figures(m: MetricSet, fitted: dict[str, tuple[float, int]]) -> RoundFigures:
    return round_figures("load", m, cpu_s=None, duration_s=1.8, endpoint_cpu=fitted)


def test_endpoint_cpu_ranks_the_family_and_catches_a_cpu_regression() -> None:
    # /cheap is the most requested, /heavy costs the server the most CPU.
    routes = {"/cheap": (300, 0.2), "/heavy": (90, 3.0)}
    routes.update({f"/r{i}": (120 - i, 0.3) for i in range(6)})
    rng = random.Random(5)
    pairs = [
        PairFigures(
            i,
            _figures(*_cpu_round(rng, routes, 1.0)),
            _figures(*_cpu_round(rng, routes, 1.10)),
        )
        for i in range(10)
    ]
    comps = ab_comparisons("load", pairs, min_effect=EFFECTS)
    primary = [c.metric for c in comps if c.family == "primary"]
    assert len(primary) <= 12
    endpoint_metrics = [m for m in primary if m.startswith("endpoint:")]
    assert endpoint_metrics[:2] == [
        "endpoint:/heavy total.p50",
        "endpoint:/heavy cpu_ms_per_request",
    ]
    # The core is full (12): overall p50, p95, error rate, then the endpoints
    # carrying most requests or CPU; what did not fit is gated as secondary.
    assert len(primary) == 12 and len(endpoint_metrics) == 9
    assert "endpoint:/r5 cpu_ms_per_request" in {c.metric for c in comps if c.family == "secondary"}
    by = _by_metric(comps)
    heavy = by["endpoint:/heavy cpu_ms_per_request"]
    assert heavy.state == "regression" and heavy.unit == "ms/req"
    assert heavy.change is not None and 0.08 < heavy.change < 0.12
    assert by["endpoint:/heavy total.p50"].state == "within-noise"  # latency did not move
    assert by["endpoint:/cheap cpu_ms_per_request"].state == "within-noise"
    # 90 requests per round suffice for a CPU figure (fitted from every request).
    assert pairs[0].base.value("endpoint:/heavy cpu_ms_per_request") is not None
    few = _figures(*_cpu_round(rng, {"/heavy": (19, 3.0), "/cheap": (50, 0.2)}, 1.0))
    assert few.figures["endpoint:/heavy cpu_ms_per_request"].value == pytest.approx(3.0, rel=0.02)
    assert few.value("endpoint:/heavy cpu_ms_per_request") is None  # 19 requests < 20


def test_sub_millisecond_medians_are_gated_with_the_larger_launch_level_minimum_effect() -> None:
    routes = {"/fast": (300, 0.2), "/heavy": (90, 3.0)}

    def pairs_with(fast_ms: tuple[float, float]) -> list[PairFigures]:
        rng = random.Random(9)
        out = []
        for i in range(10):
            arms = []
            for latency in fast_ms:
                m, fitted = _cpu_round(rng, routes, 1.0)
                # /fast at `latency` ms instead of the helper's 10 ms
                m.histograms.pop(names.endpoint_total("/fast"))
                for _ in range(300):
                    m.observe(names.endpoint_total("/fast"), latency * rng.uniform(0.95, 1.05))
                arms.append(_figures(m, fitted))
            out.append(PairFigures(i, arms[0], arms[1]))
        return out

    quiet = _by_metric(ab_comparisons("load", pairs_with((0.4, 0.44)), min_effect=EFFECTS))
    fast = quiet["endpoint:/fast total.p50"]
    # +10% on a 0.4 ms route: gated, but two processes of one build differ by ~5% there,
    # so its minimum effect is 3 launch-level SDs (~16%), and +10% is not a regression
    assert fast.family == "primary" and fast.min_effect is not None and fast.min_effect > 0.15
    assert fast.state != "regression"
    assert quiet["endpoint:/fast cpu_ms_per_request"].family == "primary"
    assert quiet["endpoint:/heavy total.p50"].family == "primary"

    slowed = _by_metric(ab_comparisons("load", pairs_with((0.4, 50.0)), min_effect=EFFECTS))
    assert slowed["endpoint:/fast total.p50"].family == "primary"
    assert slowed["endpoint:/fast total.p50"].state == "regression"
