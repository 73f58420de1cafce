"""The verdict over families: nothing clearly slower passes green; the second look
also when pairs were dropped (pure)."""

from __future__ import annotations

from perfgate.figures import Figure
from perfgate.gate.ab.stats import PairFigures, RoundFigures, choose_families, rank_tested
from perfgate.gate.compare import (
    apply_holm,
    clearly_slower,
    family_levels,
    holm_min_pairs,
    paired_comparison,
    probably_slower,
    undecided,
)
from perfgate.gate.decide import decide
from perfgate.verdict import MetricComparison


def _comp(metric: str, family: str, low: float, high: float, **kw: object) -> MetricComparison:
    c = MetricComparison(
        suite="load",
        metric=metric,
        unit="ms",
        family=family,  # type: ignore[arg-type]
        change=(low + high) / 2,
        ci_low=low,
        ci_high=high,
        min_effect=0.05,
        method="ab",
        samples=12,
        p_value=0.5,
        p_slower=0.5,
        state="within-noise",
    )
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def test_an_information_metric_wholly_beyond_its_effect_is_not_green() -> None:
    """The field run: an info row at +11.2% [+5.3%, +17.3%] left the gate green."""
    slow = _comp("endpoint:row page cpu_ms_per_request", "info", 0.053, 0.173, state="regression")
    quiet = _comp("total.p50", "primary", -0.01, 0.02)
    verdict = decide("ab", [quiet, slow], [])
    assert verdict.state == "inconclusive"
    assert "row page" in verdict.reasons[0] and "not gated (information)" in verdict.reasons[0]


def test_a_gated_metric_that_did_not_survive_holm_but_is_wholly_slower_is_named() -> None:
    c = _comp("endpoint:/a total.p50", "primary", 0.06, 0.09, p_value=0.04)
    others = [_comp(f"m{i}", "primary", -0.01, 0.01) for i in range(11)]
    apply_holm([c, *others], 0.05)
    assert c.state == "within-noise"  # 0.04 x 12 fails Holm
    verdict = decide("ab", [c, *others], [])
    assert verdict.state == "inconclusive" and "did not survive Holm" in verdict.reasons[0]


def test_slower_within_the_effect_and_faster_stay_green() -> None:
    assert not clearly_slower(_comp("a", "info", 0.01, 0.04))
    assert not clearly_slower(_comp("a", "info", -0.2, -0.1))
    verdict = decide("ab", [_comp("a", "info", 0.01, 0.04), _comp("b", "primary", -0.2, -0.1)], [])
    assert verdict.state == "pass"


def test_family_levels_split_alpha_only_with_a_secondary_family() -> None:
    assert family_levels(0.05, has_secondary=False) == {"primary": 0.05, "secondary": 0.0}
    split = family_levels(0.05, has_secondary=True)
    assert abs(split["primary"] + split["secondary"] - 0.05) < 1e-12
    assert split["primary"] > split["secondary"] > 0


def test_a_secondary_regression_fails_the_gate() -> None:
    rare = _comp("endpoint:/rare error_rate", "secondary", 0.2, 0.4, p_value=1e-4)
    rare.state = "regression"
    comps = [rare, _comp("total.p50", "primary", -0.01, 0.01)]
    apply_holm(comps, 0.05)
    verdict = decide("ab", comps, [])
    assert verdict.state == "regression" and "/rare" in verdict.reasons[0]


def test_second_look_when_dropped_pairs_left_too_few() -> None:
    """7 of 12 pairs dropped for lag: the metrics are insufficient, and more pairs would decide."""
    short = MetricComparison(
        suite="load",
        metric="total.p50",
        unit="ms",
        family="primary",
        method="ab",
        samples=5,
        state="insufficient",
        detail="5 usable round pairs < 6",
    )
    assert undecided([short], 0.0304) == "too few usable round pairs: total.p50"
    history = MetricComparison(
        suite="load", metric="total.p50", unit="ms", family="primary", method="history",
        state="insufficient", detail="3 history points < 10",
    )  # fmt: skip
    assert undecided([history], 0.0304) is None


# --- compare.primary: names checked against a dry plan, budget, mode ----------

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from perfgate.config.project import load_project  # noqa: E402
from perfgate.errors import ConfigError  # noqa: E402
from perfgate.gate.metric_names import check_primary  # noqa: E402
from perfgate.gate.plan import plan_suites  # noqa: E402

SEED = Path(__file__).resolve().parent.parent / "src" / "perfgate" / "data" / "seed"


def _project(tmp_path: Path, compare: str) -> Path:
    shutil.copy(SEED / "artillery-load-test.yml", tmp_path / "load.yml")
    shutil.copy(SEED / "artillery-processor.js", tmp_path / "artillery-processor.js")
    path = tmp_path / "perfgate.yml"
    path.write_text(
        "service:\n"
        "  start: [python, -m, http.server, '{{ port }}']\n"
        "suites:\n"
        "  - {name: load, script: load.yml}\n"
        "compare:\n" + compare
    )
    return path


def _check(path: Path) -> None:
    cfg = load_project(path)
    check_primary(cfg.compare, plan_suites(cfg, "pr"))


def test_a_misspelt_primary_name_gets_did_you_mean_with_file_and_line(tmp_path: Path) -> None:
    path = _project(
        tmp_path, "  primary:\n    - total.p95\n    - endpoint:/api/bountis total.p50\n"
    )
    with pytest.raises(ConfigError) as err:
        _check(path)
    e = err.value
    assert e.file and e.file.endswith("perfgate.yml") and e.line == 8
    assert e.key_path == "compare.primary[1]"
    assert e.suggestion == "endpoint:/api/bounties total.p50"
    assert "perfgate gate --list-metrics" in str(e)


def test_a_primary_list_over_the_budget_is_a_config_error(tmp_path: Path) -> None:
    names = ["total.p50", "total.p95", "total.p99", "error_rate", "cpu_ms_per_request"]
    names += [f"endpoint:/api/bounties {s}" for s in ("total.p50", "total.p95", "total.p99")]
    names += [f"endpoint:/health {s}" for s in ("total.p50", "total.p95", "total.p99")]
    names += ["endpoint:/health error_rate", "endpoint:/api/bounties error_rate"]
    assert len(names) == 13
    path = _project(tmp_path, "  primary:\n" + "".join(f"    - '{n}'\n" for n in names))
    with pytest.raises(ConfigError, match="budget of 12 per suite"):
        _check(path)
    ok = _project(tmp_path, "  primary:\n" + "".join(f"    - '{n}'\n" for n in names[:12]))
    _check(ok)


def test_primary_mode_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_project(_project(tmp_path, "  primary_mode: replaced\n"))
    assert err.value.suggestion == "replace"
    assert load_project(_project(tmp_path, "  primary_mode: replace\n")).compare.primary_mode == (
        "replace"
    )


def test_list_metrics_prints_what_primary_accepts(tmp_path: Path) -> None:
    path = _project(tmp_path, "  alpha: 0.05\n")
    out = subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", str(path), "--list-metrics"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "total.p50" in lines and "endpoint:/api/bounties total.p50" in lines
    assert "endpoint:/api/bounties error_rate" in lines


def test_non_positive_figures_are_reported_not_dropped_silently() -> None:
    from perfgate.gate.compare import paired_comparison

    base = [1.0] * 10 + [0.0]
    cand = [1.01] * 10 + [1.0]
    c = paired_comparison(
        "load", "endpoint:/a cpu_ms_per_request", "ms/req", base, cand, min_effect=0.05
    )
    assert c.samples == 10
    assert "1 pair(s) with a non-positive figure left out" in c.detail


def test_a_configured_percentile_slo_is_remembered(tmp_path: Path) -> None:
    cfg = load_project(_project(tmp_path, "  alpha: 0.05\nslo:\n  p99: 400\n"))
    assert cfg.slo.default.configured == frozenset({"p99"})
    assert load_project(_project(tmp_path, "  alpha: 0.05\n")).slo.default.configured == frozenset()


def test_insufficient_says_whether_samples_or_pairs_were_short() -> None:
    from perfgate.gate.compare import paired_comparison

    starved = paired_comparison(
        "load", "endpoint:/a total.p50", "ms", [None] * 12, [None] * 12, min_effect=0.05
    )
    assert starved.state == "insufficient"
    assert "too few samples per round in 12 of 12 pairs (50 needed)" in starved.detail
    assert undecided([_as_primary(starved)], 0.03) is None  # more pairs would not help
    dropped = paired_comparison(
        "load", "endpoint:/a total.p50", "ms", [1.0] * 5, [1.0] * 5, min_effect=0.05
    )
    assert "5 usable round pairs < 6" in dropped.detail
    assert undecided([_as_primary(dropped)], 0.03) is not None


def _as_primary(c: MetricComparison) -> MetricComparison:
    c.family = "primary"
    return c


def test_second_look_when_a_gated_metric_is_clearly_slower_but_short_of_holm() -> None:
    """A rare route's error rate, wholly past +0.5 pp, but p too large for Holm over 14."""
    rare = _comp("endpoint:/coupon error_rate", "secondary", 0.2, 0.4, p_value=0.004)
    rare.unit, rare.min_effect, rare.state = "ratio", 0.005, "regression"
    others = [_comp(f"endpoint:/r{i} error_rate", "secondary", 0.0, 0.0) for i in range(13)]
    for c in others:
        c.unit, c.min_effect = "ratio", 0.005
    core = [_comp("total.p50", "primary", -0.01, 0.01)]
    reason = undecided([rare, *others, *core], 0.0304)
    assert reason == "clearly slower, short of Holm: endpoint:/coupon error_rate"


def test_second_look_when_a_gated_metric_is_probably_slower_but_short_of_holm() -> None:
    """Design e10: the shop's tail4 run that passed green at one look (the product
    page's share above the base's p95 +4.7 pp, [+0.98, +8.7] against 1 pp, short of
    Holm) asks for more pairs; an estimate inside the minimum effect, an interval
    reaching 0, information or what a second look cannot re-measure do not."""

    def share(
        low: float, change: float, high: float, family: str = "secondary"
    ) -> MetricComparison:
        c = _comp("endpoint:/products above_base_p95", family, low, high, p_value=0.02)
        c.change, c.unit, c.min_effect = change, "ratio", 0.01
        return c

    core = [_comp("total.p50", "primary", -0.01, 0.01)]
    green = share(0.0098, 0.047, 0.087)
    assert probably_slower(green) and not clearly_slower(green)
    why = undecided([green, *core], 0.025)
    assert why == "probably slower, short of Holm: endpoint:/products above_base_p95"
    assert green.state == "within-noise"  # the look judged copies
    assert undecided([share(0.001, 0.008, 0.02), *core], 0.025) is None  # inside 1 pp
    assert undecided([share(-0.002, 0.03, 0.06), *core], 0.025) is None  # reaches 0
    assert undecided([share(0.0098, 0.047, 0.087, "info"), *core], 0.025) is None
    from perfgate.gate.ab.stats import peak_rss_comparison

    grown = peak_rss_comparison(
        "load", [(100_000, 112_000), (100_000, 110_000)], min_effect={"peak_rss": 0.05}
    )
    grown.state, grown.family = "within-noise", "secondary"
    assert probably_slower(grown) and undecided([grown, *core], 0.025) is None


def test_what_a_second_look_cannot_remeasure_never_asks_for_one() -> None:
    """Peak RSS (one value per launch) and capacity (chunks after each launch's
    first-look rounds) are fixed before a second look: clearly slower short of
    Holm, they leave the run inconclusive instead of costing ~50 s for nothing."""
    from perfgate.gate.ab.stats import peak_rss_comparison

    leak = peak_rss_comparison(
        "load", [(186_828, 269_792), (177_156, 282_820)], min_effect={"peak_rss": 0.10}
    )
    leak.state, leak.family = "within-noise", "secondary"  # as when Holm was not met
    assert clearly_slower(leak)
    assert undecided([leak], 0.03) is None
    route = paired_comparison(
        "load", "endpoint:/a total.p50", "ms", [1.0] * 12, [1.3] * 12, min_effect=0.05
    )
    route.state, route.family = "within-noise", "secondary"
    why = undecided([route], 0.03)  # a route's pairs: more of them do decide
    assert why is not None and why.endswith(": endpoint:/a total.p50")


def _crowded_pairs(endpoints: int, n_pairs: int = 12) -> list[PairFigures]:
    """Rounds of a suite with ``endpoints`` routes, the first the busiest, each with a
    median, a CPU per request and an error rate backed by plenty of requests (one
    failed request per route in each base round: a rate without failures is no candidate)."""

    def rounds(failed: int) -> RoundFigures:
        figs = {
            m: Figure("load", m, v, "ms", 5000)
            for m, v in (("total.p50", 2.0), ("total.p95", 5.0), ("cpu_ms_per_request", 1.0))
        }
        figs["error_rate"] = Figure("load", "error_rate", 0.0, "ratio", 5000)
        for i in range(endpoints):
            name = f"endpoint:/r{i:02d}"
            requests = 400 - 10 * i
            figs[f"{name} total.p50"] = Figure("load", f"{name} total.p50", 2.0, "ms", requests)
            figs[f"{name} cpu_ms_per_request"] = Figure(
                "load", f"{name} cpu_ms_per_request", 1.0, "ms", requests
            )
            figs[f"{name} error_rate"] = Figure(
                "load", f"{name} error_rate", failed / requests, "ratio", requests
            )
        return RoundFigures(figs)

    return [PairFigures(k, rounds(1), rounds(0), launch=k * 2 // n_pairs) for k in range(n_pairs)]


def test_a_crowded_secondary_family_drops_its_last_rank_tests_not_the_whole_family() -> None:
    """Design e4: once the secondary family had 31 candidates, Holm's bar for an exact rank
    test of 12 pairs (2^-12 < 0.0075/31 fails) was applied to every candidate, and the whole
    family - medians, CPU, the blind classes - went to information in ~10% of A/A runs."""
    level = 0.025  # alpha/2 per look
    sec_level = family_levels(level, has_secondary=True)["secondary"]
    small = choose_families("load", _crowded_pairs(8), alpha=level)
    crowded = choose_families(
        "load",
        _crowded_pairs(16),
        alpha=level,
        extras={"above_base_p95": 12, "rss_kib_per_request": 12, "saturated_ms_per_arrival": 12},
    )
    # the small suite: everything past the core is secondary, as before
    assert all(m in small.core + small.secondary for m in ("endpoint:/r07 error_rate",))
    # the crowded one: every t-tested candidate stays, so do capacity and the suite-wide extras
    t_tested = [m for m in crowded.secondary if not rank_tested(m)]
    assert "saturated_ms_per_arrival" in crowded.secondary
    assert {"above_base_p95", "rss_kib_per_request"} <= set(crowded.secondary)
    assert all(
        f"endpoint:/r{i:02d} total.p50" in crowded.core + crowded.secondary for i in range(16)
    )
    # the rank-tested ones fill the family up to what 12 pairs can clear, busiest first
    assert 2**-12 * len(crowded.secondary) < sec_level
    assert 2**-12 * (len(crowded.secondary) + 1) >= sec_level
    rates = [m for m in crowded.secondary if m.endswith(" error_rate")]
    assert rates and len(rates) < 16 and len(t_tested) >= 16
    assert "endpoint:/r00 error_rate" in rates and "endpoint:/r15 error_rate" not in rates
    assert holm_min_pairs(len(crowded.secondary), sec_level) <= 12


def _shop_pairs(n_pairs: int = 12, coupon_gap: int = 5) -> list[PairFigures]:
    """Six busy routes and a rare coupon check (~6 requests a round); in pair
    ``coupon_gap`` the candidate's round had no coupon request, so its rate is undefined.
    The candidate fails 2 of its 6 coupon checks; the busy routes fail nowhere."""

    def rounds(coupon: bool, failed: int) -> RoundFigures:
        figs = {
            m: Figure("load", m, v, "ms", 5000)
            for m, v in (("total.p50", 2.0), ("total.p95", 5.0), ("cpu_ms_per_request", 1.0))
        }
        figs["error_rate"] = Figure("load", "error_rate", 0.0, "ratio", 5000)
        for i in range(6):
            name = f"endpoint:/r{i:02d}"
            figs[f"{name} cpu_ms_per_request"] = Figure(
                "load", f"{name} cpu_ms_per_request", 1.0, "ms", 100
            )
            figs[f"{name} error_rate"] = Figure("load", f"{name} error_rate", 0.0, "ratio", 100)
        if coupon:
            figs["endpoint:/coupon error_rate"] = Figure(
                "load", "endpoint:/coupon error_rate", failed / 6, "ratio", 6
            )
        return RoundFigures(figs)

    return [
        PairFigures(k, rounds(True, 0), rounds(k != coupon_gap, 2), launch=k * 2 // n_pairs)
        for k in range(n_pairs)
    ]


def test_a_rare_routes_error_rate_with_one_round_short_of_requests_stays_gated() -> None:
    """The shop's coupon check failing 30% passed CI (design e6): one first-look round
    without a coupon request left its rate 11 usable pairs, below the 12 a full
    secondary family of 16 needs at 0.0075, so it was never a candidate. It is one
    with the pairs a family of one needs (design e7), and joins while the family it
    makes can still clear Holm with its 11 pairs (2^-11 x 14 < 0.0075)."""
    level = 0.025  # alpha/2 per look
    sec_level = family_levels(level, has_secondary=True)["secondary"]
    extras = {
        "above_base_p95": 12,
        "above_base_p99": 12,
        "rss_kib_per_request": 12,
        "saturated_ms_per_arrival": 12,
        **{f"endpoint:/r{i:02d} above_base_p95": 12 for i in range(3)},
    }
    families = choose_families("load", _shop_pairs(), alpha=level, extras=extras)
    assert "endpoint:/coupon error_rate" in families.secondary
    assert rank_tested("endpoint:/coupon error_rate")
    # the busy routes never failed: their rates are information (design e9), so the
    # family is 14 and the routes' tail shares fit beside the coupon's 11 pairs
    assert not any(m.startswith("endpoint:/r") and "error_rate" in m for m in families.secondary)
    assert len(families.secondary) == 14
    assert holm_min_pairs(len(families.secondary), sec_level) <= 11
    assert {f"endpoint:/r{i:02d} above_base_p95" for i in range(3)} <= set(families.secondary)
    # with two rounds short it has 10 pairs: 2^-10 x 14 > 0.0075, it cannot clear Holm
    sparse = _shop_pairs()
    sparse[7].candidate.figures.pop("endpoint:/coupon error_rate")
    thin = choose_families("load", sparse, alpha=level, extras=extras)
    assert "endpoint:/coupon error_rate" not in thin.secondary
    assert {"endpoint:/r00 above_base_p95", "above_base_p95"} <= set(thin.secondary)


def test_an_error_rate_without_a_failure_in_either_arm_is_information() -> None:
    """Design e9: a rate no arm ever failed has a difference of 0 in every pair, so its
    test cannot reject; left in the family it only raised Holm's bar for the rest (13 of
    the demo's 29 secondary metrics). Whichever arm failed, the rate is a candidate: the
    filter pools both arms, so the families are the same with the arms swapped."""
    level = 0.025

    def quiet() -> list[PairFigures]:
        pairs = _crowded_pairs(4, n_pairs=16)
        for p in pairs:
            for rounds in (p.base, p.candidate):
                for m, f in list(rounds.figures.items()):
                    if m.endswith(" error_rate"):
                        rounds.figures[m] = Figure("load", m, 0.0, "ratio", f.samples)
        return pairs

    assert not any(
        m.endswith(" error_rate") for m in choose_families("load", quiet(), alpha=level).secondary
    )

    def failing_once(arm: str) -> list[PairFigures]:
        # the quietest route fails once, in one arm's round of one pair
        pairs = quiet()
        f = getattr(pairs[3], arm).figures["endpoint:/r03 error_rate"]
        getattr(pairs[3], arm).figures[f.metric] = Figure(
            "load", f.metric, 1 / f.samples, "ratio", f.samples
        )
        return pairs

    in_base = choose_families("load", failing_once("base"), alpha=level)
    in_candidate = choose_families("load", failing_once("candidate"), alpha=level)
    assert "endpoint:/r03 error_rate" in in_base.secondary
    assert in_base == in_candidate
    # a failure in a dropped pair is not counted: that pair is not tested either
    dropped = failing_once("candidate")
    dropped[3].dropped = "lag"
    assert "endpoint:/r03 error_rate" not in choose_families("load", dropped, alpha=level).secondary


def test_an_undecided_error_rate_names_its_minimum_effect_in_points() -> None:
    """The shop's undecided coupon check read "reaches past the 0% minimum effect" (0.5 pp)."""
    rate = _comp("endpoint:/coupon error_rate", "secondary", 0.002, 0.4, unit="ratio")
    rate.min_effect, rate.state, rate.base, rate.candidate = 0.005, "unresolved", 0.0, 0.3
    verdict = decide("ab", [rate, _comp("total.p50", "primary", -0.01, 0.01)], [])
    assert verdict.state == "inconclusive"
    assert "reaches past the 0.5 pp minimum effect" in verdict.reasons[0], verdict.reasons
