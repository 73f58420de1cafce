"""Round pairs nested in launches (issue 22): the variance components, the comparisons
that carry them, the paired extras (tail exceedance, RSS growth, capacity) and the
replicate launches of a real process."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import free_port
from perfgate.gate.ab.launches import LAUNCH_K, launch_min_effect, launch_sd_prior
from perfgate.gate.ab.stats import (
    CAPACITY_METRIC,
    PairFigures,
    RoundFigures,
    capacity_comparison,
    exceedance_series,
    paired_extra_comparisons,
)
from perfgate.gate.ab.suite import peak_rss_kib, rss_kib, split_pairs
from perfgate.gate.compare import paired_comparison, paired_difference_comparison
from perfgate.metrics import MetricSet, names
from perfgate.stats import launch_variance
from perfgate.target import ServiceSpec
from perfgate.target.service import Service


def test_one_launch_carries_the_prior_and_widens_the_test() -> None:
    rng = np.random.default_rng(3)
    d = rng.normal(0.0, 0.03, 12).tolist()
    plain = launch_variance(d, [0] * 12, prior_sd=0.0)
    assert plain.inflation == pytest.approx(1.0)
    lv = launch_variance(d, [0] * 12, prior_sd=0.01)
    assert lv.sd_between == pytest.approx(0.01)
    assert lv.sd_between_observed is None  # one launch cannot estimate it
    # var of the mean = within/N + between (one launch): sqrt(1 + 0.01^2 / (sd^2/12))
    expected = math.sqrt(1 + 0.01**2 / (lv.sd_within**2 / 12))
    assert lv.inflation == pytest.approx(expected)


def test_launches_that_disagree_raise_the_launch_level_sd() -> None:
    rng = np.random.default_rng(4)
    offsets = [0.04, -0.04, 0.04, -0.04]
    d, groups = [], []
    for launch, u in enumerate(offsets):
        d += (u + rng.normal(0.0, 0.01, 6)).tolist()
        groups += [launch] * 6
    lv = launch_variance(d, groups, prior_sd=0.01, prior_df=4)
    assert lv.sd_between_observed is not None and lv.sd_between_observed > 0.03
    # pooled with the prior (4 launches' worth) and the run's 3 df
    pooled = math.sqrt((4 * 0.01**2 + 3 * lv.sd_between_observed**2) / 7)
    assert lv.sd_between == pytest.approx(pooled)
    assert lv.inflation > 2


def test_launch_model_keeps_a_large_regression_significant() -> None:
    """An exact rank test's p is at least 2^-n: the launch model must not divide it away."""
    base = [2.6] * 8
    cand = [53.0 * (1 + 0.01 * k) for k in range(8)]
    c = paired_comparison(
        "load",
        "total.p50",
        "ms",
        base,
        cand,
        min_effect=0.05,
        family="primary",
        launches=[0, 0, 0, 0, 1, 1, 1, 1],
        launch_sd=launch_sd_prior("total.p50"),
    )
    assert c.state == "regression"
    assert c.p_value is not None and c.p_value < 0.001
    assert c.launch is not None and c.launch["launches"] == 2


def test_a_launch_offset_alone_is_not_a_regression() -> None:
    """A/A: every pair of one launch 1% apart (a one-SD process offset): the interval covers 0."""
    rng = np.random.default_rng(5)
    base = rng.uniform(2.9, 3.1, 12)
    cand = base * math.exp(0.01) * np.exp(rng.normal(0, 0.002, 12))
    plain = paired_comparison("load", "m total.p50", "ms", list(base), list(cand), min_effect=0.05)
    assert plain.ci_low is not None and plain.ci_low > 0  # as if 12 independent replicates
    modelled = paired_comparison(
        "load",
        "m total.p50",
        "ms",
        list(base),
        list(cand),
        min_effect=0.05,
        launches=[0] * 12,
        launch_sd=0.01,
    )
    assert modelled.ci_low is not None and modelled.ci_low < 0 < (modelled.ci_high or 0)


def test_sub_millisecond_medians_get_a_larger_minimum_effect_not_an_exemption() -> None:
    fast = launch_sd_prior("endpoint:/health total.p50", median_ms=0.45)
    slow = launch_sd_prior("endpoint:/api total.p50", median_ms=2.4)
    assert fast > slow
    assert launch_min_effect(0.05, fast) == pytest.approx(math.expm1(LAUNCH_K * fast))
    assert launch_min_effect(0.05, slow) == 0.05
    assert launch_sd_prior("endpoint:/x error_rate") == 0.0
    assert launch_sd_prior("rss_kib_per_request") == 0.0  # KiB, an absolute scale


def test_split_pairs() -> None:
    assert split_pairs(12, 2) == [6, 6]
    assert split_pairs(13, 3) == [5, 4, 4]
    assert split_pairs(12, 1) == [12]
    assert split_pairs(0, 2) == [0, 0]


def test_paired_difference_handles_zero_and_negative_figures() -> None:
    base = [0.0, -0.2, 0.1, 0.0, 0.3, -0.1, 0.0, 0.2]
    cand = [b + 2.0 for b in base]
    c = paired_difference_comparison(
        "load", "rss_kib_per_request", "KiB/req", base, cand, margin=0.5, family="secondary"
    )
    assert c.samples == 8 and c.change == pytest.approx(2.0)
    assert c.state == "regression"
    same = paired_difference_comparison(
        "load", "rss_kib_per_request", "KiB/req", base, base, margin=0.5, family="secondary"
    )
    assert same.state == "within-noise"
    missing = paired_difference_comparison(
        "load", "x", "ratio", [None, 0.1], [0.2, None], margin=0.01, min_pairs=1
    )
    assert missing.state == "insufficient" and "2 pair(s) without the figure" in missing.detail


def _round(
    slow_share: float, rng: np.random.Generator, n: int = 400, scale: float = 1.0
) -> MetricSet:
    m = MetricSet()
    for v in rng.uniform(2.0, 3.0, n):
        ms = 33.0 if rng.random() < slow_share else float(v) * scale
        m.observe(names.TOTAL, ms)
        m.observe(names.ENDPOINT_TOTAL_PREFIX + "/api/bounties", ms)
    return m


def _pairs(
    slow_share: float, seed: int, n_pairs: int = 12, scale: float = 1.0
) -> list[PairFigures]:
    rng = np.random.default_rng(seed)
    return [
        PairFigures(
            k,
            RoundFigures(),
            RoundFigures(),
            metrics={
                "base": _round(0.0, rng),
                "candidate": _round(slow_share, rng, scale=scale),
            },
        )
        for k in range(n_pairs)
    ]


def test_tail_exceedance_catches_a_few_slow_requests() -> None:
    """3% of requests +30 ms: no median moves, the share above the base's p99 does."""
    series = exceedance_series(_pairs(0.03, seed=1))
    base, cand = series["above_base_p99"]
    assert all(b is None or b < 0.02 for b in base)
    assert np.median([c for c in cand if c is not None]) > 0.025
    comps = {
        c.metric: c for c in paired_extra_comparisons("load", _pairs(0.03, seed=1), min_effect={})
    }
    assert comps["above_base_p99"].state == "regression"
    assert comps["endpoint:/api/bounties above_base_p99"].family == "secondary"
    quiet = {
        c.metric: c for c in paired_extra_comparisons("load", _pairs(0.0, seed=2), min_effect={})
    }
    assert all(c.state != "regression" for c in quiet.values())
    # every request 5% slower: the medians' business, not a tail (the threshold is
    # the base's percentile raised by its own minimum effect, 15%)
    shifted = paired_extra_comparisons("load", _pairs(0.0, seed=3, scale=1.05), min_effect={})
    assert all(c.state != "regression" for c in shifted)


def test_capacity_comparison_is_higher_is_worse() -> None:
    rng = np.random.default_rng(6)
    base = rng.uniform(1.9, 2.1, 12)
    halved = [(float(b), float(b) * 2.0, k // 6) for k, b in enumerate(base)]
    c = capacity_comparison("load", halved, min_effect={"capacity": 0.10})
    assert c.metric == CAPACITY_METRIC and c.family == "secondary"
    assert c.state == "regression"
    same = [(float(b), float(b) * 1.01, k // 6) for k, b in enumerate(base)]
    assert capacity_comparison("load", same, min_effect={}).state != "regression"


def test_respawn_gives_a_fresh_process_and_rss_is_read(tmp_path: Path) -> None:
    port = free_port()
    server = tmp_path / "server.py"
    server.write_text(
        "import http.server, os, sys\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        "        self.send_response(200); self.end_headers(); self.wfile.write(str(os.getpid()).encode())\n"
        "    def log_message(self, *a): pass\n"
        f"http.server.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n"
    )
    spec = ServiceSpec(
        name="t",
        start=[sys.executable, str(server)],
        ready_url=f"http://127.0.0.1:{port}/",
        port=port,
        workdir=tmp_path / "work",
        ready_timeout=20,
    )
    service = Service(spec)
    try:
        service.start()
        service.wait_ready()
        assert service.pid is not None
        first = service.pid
        assert rss_kib(service.pids()) > 1000
        assert (peak_rss_kib(service.pids()) or 0) >= rss_kib(service.pids())
        service.respawn()
        service.wait_ready()
        assert service.pid != first and service.death() is None
        time.sleep(0.1)
        assert rss_kib(service.pids()) > 0
    finally:
        service.stop()
    assert rss_kib([2**22 + 12345]) == 0  # a pid that does not exist


def test_rss_growth_is_shown_in_its_unit_not_as_a_percentage() -> None:
    from perfgate.gate.console import verdict_text
    from perfgate.gate.decide import describe_comparison
    from perfgate.verdict import Verdict

    c = paired_difference_comparison(
        "load",
        "rss_kib_per_request",
        "KiB/req",
        [0.0, 0.1, -0.1, 0.0, 0.2, 0.0, 0.1, 0.0],
        [2.0, 2.1, 1.9, 2.0, 2.2, 2.0, 2.1, 2.0],
        margin=0.5,
        family="secondary",
    )
    assert "+2.00 KiB/req" in verdict_text(
        Verdict(state="fail", mode="ab", comparisons=[c]), all_metrics=True
    )
    assert "+2.00 KiB/req, 95% CI" in describe_comparison(c)


def test_an_extra_joins_the_family_on_pairs_it_has_or_lost_to_lag_only() -> None:
    """A rare route's tail share, short of Holm at the first look, stays out (it would
    send every run to a second look); one pair short because a pair was dropped for
    scheduler lag stays in (the second look puts that pair back)."""
    from perfgate.gate.ab.stats import choose_families
    from perfgate.gate.compare import family_levels, holm_min_pairs

    pairs: list[PairFigures] = []  # the extras alone make the secondary family
    level = family_levels(0.05, has_secondary=True)["secondary"]
    floor = max(6, holm_min_pairs(3, level))
    extras = {"rss_kib_per_request": floor - 1, "endpoint:/rare above_base_p95": floor - 4}
    extras["above_base_p95"] = floor
    plain = choose_families("load", pairs, extras=extras, alpha=0.05)
    assert "above_base_p95" in plain.secondary
    assert "rss_kib_per_request" not in plain.secondary
    lagged = choose_families(
        "load", pairs, extras=extras, alpha=0.05, extras_growth=floor / (floor - 1)
    )
    assert "rss_kib_per_request" in lagged.secondary
    assert "endpoint:/rare above_base_p95" not in lagged.secondary


def test_launch_mean_test_carries_the_prior_and_catches_a_footprint() -> None:
    from perfgate.stats import launch_mean_test

    same = launch_mean_test([0.004, -0.006], prior_sd=0.02)
    assert same.low < 0 < same.high and same.p_greater(math.log1p(0.10)) > 0.5
    assert same.variance.df == pytest.approx(5.0)  # the prior's 4 + one from two launches
    grown = launch_mean_test([math.log(1.3), math.log(1.32)], prior_sd=0.02)
    assert grown.low > math.log1p(0.10) and grown.p_greater(math.log1p(0.10)) < 1e-3
    one = launch_mean_test([0.0], prior_sd=0.02)  # one launch: the prior alone
    assert one.variance.sd_between == pytest.approx(0.02)
    with pytest.raises(ValueError):
        launch_mean_test([], prior_sd=0.02)


def test_launch_mean_test_reads_the_spread_off_both_arms() -> None:
    """Two launches whose ratios agree by chance must not look precise when each
    arm's own processes spread widely (a thread-per-connection server's peak RSS)."""
    from perfgate.stats import launch_mean_test

    base = [math.log(190_000), math.log(178_000)]
    cand = [math.log(203_000), math.log(190_500)]  # +6.6%, +6.8%: the same by chance
    diffs = [c - b for b, c in zip(base, cand, strict=True)]
    own = launch_mean_test(diffs, prior_sd=0.02, prior_df=1.0)
    arms = launch_mean_test(diffs, prior_sd=0.02, prior_df=1.0, arms=[base, cand])
    assert own.low > 0  # the differences' own spread: excludes 0
    assert arms.low < 0 < arms.high  # each arm spread ~6.5% between its two processes
    assert arms.variance.df == pytest.approx(3.0)  # prior 1 + one per arm
    # each arm's spread is s_p; a difference of two launches spreads √2 s_p
    s_p = math.sqrt((np.var(base, ddof=1) + np.var(cand, ddof=1)) / 2)
    assert arms.variance.sd_between_observed == pytest.approx(math.sqrt(2) * s_p)
    # a quiet server (one thread): the arms agree with the differences
    quiet = launch_mean_test(
        [0.3, 0.302], prior_sd=0.02, prior_df=1.0, arms=[[10.0, 10.001], [10.3, 10.303]]
    )
    assert quiet.low > math.log1p(0.10)


def test_a_built_in_prior_is_a_floor_so_a_spread_out_api_covers_at_its_rate() -> None:
    """A/A on an API whose processes' peak RSS spreads 10% (the shop's; the
    built-in prior is 2%), two launches per arm: pooled with the prior, the
    95% interval excluded 0 in ~30% of runs (design e11: 8/24 on the shop);
    with the prior as a floor, at most its nominal 5%. Seeded draws: the
    test is exact, not timed."""
    from perfgate.stats import launch_mean_test

    rng = np.random.default_rng(22)
    runs = 2000
    excluded = {"pooled": 0, "floor": 0}
    for _ in range(runs):
        base = rng.normal(12.0, 0.10, size=2)
        cand = rng.normal(12.0, 0.10, size=2)
        diffs = list(cand - base)
        for use in excluded:
            t = launch_mean_test(
                diffs, prior_sd=0.02, arms=[list(base), list(cand)], prior_floor=use == "floor"
            )
            excluded[use] += t.low > 0 or t.high < 0
    assert excluded["pooled"] / runs > 0.15
    assert excluded["floor"] / runs <= 0.06
    # a quiet API: the floor is the prior, on the launches' two degrees of freedom
    quiet = launch_mean_test(
        [0.001, -0.001], prior_sd=0.02, arms=[[10.0, 10.0005], [10.001, 9.9995]], prior_floor=True
    )
    assert quiet.variance.sd_between == pytest.approx(0.02) and quiet.variance.df == 2.0
    # a +54% footprint (the demo's 2 KiB leak) stays far beyond a 10% minimum effect
    leak = launch_mean_test(
        [math.log(1.54), math.log(1.55)],
        prior_sd=0.02,
        arms=[[10.80, 10.75], [11.23, 11.19]],
        prior_floor=True,
    )
    assert leak.low > math.log1p(0.10)


def test_peak_rss_uses_a_built_in_prior_as_a_floor_and_pools_a_calibration() -> None:
    from perfgate.gate.ab.launches import LaunchPriors
    from perfgate.gate.ab.stats import peak_rss_comparison

    effects = {"peak_rss": 0.10}
    spread = [(178_388, 193_208), (196_096, 180_204)]  # a shop A/A run: each arm ~7%
    built_in = peak_rss_comparison("load", spread, min_effect=effects)
    assert built_in.launch is not None and built_in.launch["prior_use"] == "floor"
    assert built_in.launch["df"] == 2.0
    assert built_in.ci_low < 0 < built_in.ci_high
    calibrated = peak_rss_comparison(
        "load",
        spread,
        min_effect=effects,
        priors=LaunchPriors({"load": {"peak_rss_kib": (0.09, 30.0)}}),
    )
    assert calibrated.launch is not None and calibrated.launch["prior_use"] == "pooled"
    assert calibrated.launch["df"] == pytest.approx(32.0)  # the calibration's 30 + 2


def test_peak_rss_is_compared_per_launch() -> None:
    from perfgate.gate.ab.stats import PEAK_RSS_METRIC, peak_rss_comparison

    effects = {"peak_rss": 0.10}
    grown = peak_rss_comparison("load", [(50_000, 66_000), (51_000, 67_500)], min_effect=effects)
    assert grown.metric == PEAK_RSS_METRIC and grown.family == "secondary"
    assert grown.state == "regression" and grown.samples == 2
    assert grown.change == pytest.approx(0.32, abs=0.01) and grown.p_value is not None
    assert grown.p_slower is None  # nothing for a second look to decide
    same = peak_rss_comparison("load", [(50_000, 50_400), (51_000, 50_700)], min_effect=effects)
    assert same.state == "within-noise"
    unread = peak_rss_comparison("load", [(0, 50_000)], min_effect=effects)
    assert unread.state == "insufficient" and "unreadable" in unread.detail
