"""Per-metric comparisons: history (prediction intervals) and A/B (round pairs).

Pure functions: figures in, :class:`~perfgate.verdict.MetricComparison` out.
Latency and CPU figures are compared on the log scale (a ratio), error rates
on the absolute scale (percentage points). A comparison can only be a
regression when it clears its minimum effect *and* its (Holm-adjusted)
p-value is below alpha; an A/B metric that is surely slower but may or may
not exceed its minimum effect is "unresolved"; with too little data it says
"insufficient" rather than guess. docs/statistics.md has the reasoning and references.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import numpy as np

from perfgate.figures import Figure, min_samples
from perfgate.gate.ab.launches import PRIOR_LAUNCHES, LaunchPrior, launch_min_effect
from perfgate.stats import (
    ConfidenceInterval,
    exact_two_proportion_test,
    hodges_lehmann,
    holm,
    inflate_interval,
    launch_variance,
    normal_ppf,
    prediction_interval_log,
    signflip_ci,
    signflip_p_greater,
    t_cdf,
    wilcoxon_ci,
    wilcoxon_signed_rank,
)
from perfgate.verdict import ABSOLUTE_UNITS, GATED_FAMILIES, MetricComparison

__all__ = [
    "GATED_FAMILIES",
    "SECONDARY_ALPHA_SHARE",
    "apply_holm",
    "clearly_slower",
    "family_levels",
    "history_comparison",
    "holm_min_pairs",
    "min_effect_for",
    "min_effect_text",
    "paired_comparison",
    "paired_difference_comparison",
    "paired_rate_comparison",
    "probably_slower",
    "proportion_comparison",
    "undecided",
]

#: The secondary family's share of alpha (Bonferroni between the two
#: families, Holm within each): the core keeps most of the power, and the
#: run's family-wise error over both stays at most alpha.
SECONDARY_ALPHA_SHARE = 0.3


def min_effect_for(metric: str, min_effect: dict[str, float]) -> float:
    """The minimum relative effect that may count as a regression for ``metric``."""
    stat = metric.rsplit(" ", 1)[-1]
    if stat.startswith("above_base_"):
        # points above the base's ~5% (p95) or ~1% (p99): the same relative move
        # is five times fewer points above the p99
        share = min_effect.get("tail_share_pp", 0.01)
        return share / 2.0 if stat.endswith("p99") else share
    if stat == "rss_kib_per_request":
        return min_effect.get("rss_kib_per_request", 0.5)
    if stat == "saturated_ms_per_arrival":
        return min_effect.get("capacity", 0.10)
    if stat == "peak_rss_kib":
        return min_effect.get("peak_rss", 0.10)
    if metric.endswith("cpu_ms_per_request"):
        return min_effect.get("cpu_per_request", 0.05)
    if stat.endswith(("p50", "median", "mean")):
        return min_effect.get("median", 0.05)
    if stat.endswith("p95"):
        return min_effect.get("p95", 0.15)
    if stat.endswith("p99"):
        return min_effect.get("p99", 0.15)
    if stat.endswith("error_rate"):
        return min_effect.get("error_rate_pp", 0.005)
    return min_effect.get("median", 0.05)


def _state(change_low: float, change_high: float, effect: float) -> str:
    if change_low > effect:
        return "regression"
    if change_high < -effect:
        return "improvement"
    return "within-noise"


def history_comparison(
    candidate: Figure,
    history: Sequence[float],
    *,
    min_effect: float,
    min_points: int = 10,
    family: str = "info",
) -> MetricComparison:
    """The candidate figure against the base branch's recent values of it."""
    out = MetricComparison(
        suite=candidate.suite,
        metric=candidate.metric,
        unit=candidate.unit,
        family="primary" if family == "primary" else "info",
        candidate=candidate.value,
        min_effect=min_effect,
        samples=len(history),
        method="history",
    )
    values = [v for v in history if v is not None and math.isfinite(v)]
    if not values:
        out.state = "new"
        out.detail = "no history for this metric"
        return out
    if not candidate.sufficient:
        out.state = "insufficient"
        out.detail = f"{candidate.samples} samples < {min_samples(candidate.metric)} needed"
        return out
    if candidate.unit == "ratio":  # error rate: absolute, in percentage points
        base = float(np.mean(values))
        out.base = base
        out.change = candidate.value - base
        worst = max(values)
        out.ci_low, out.ci_high = min(values) - base, worst - base
        if len(values) < min_points:
            out.state = "insufficient"
            out.detail = f"{len(values)} history points < {min_points}: shown, cannot fail"
        elif candidate.value > worst and out.change > min_effect:
            out.state = "regression"
            out.p_value = 1.0 / (
                len(values) + 1
            )  # rank of a new maximum among n+1 exchangeable values
        else:
            out.state = "within-noise"
            out.p_value = 1.0
        return out
    positive = [v for v in values if v > 0]
    if len(positive) < 2 or candidate.value <= 0:
        out.state = "insufficient"
        out.detail = "fewer than 2 usable history points"
        return out
    interval = prediction_interval_log(positive)
    logs = np.log(positive)
    n = logs.size
    mean, sd = float(logs.mean()), float(logs.std(ddof=1))
    out.base = interval.center
    out.change = candidate.value / interval.center - 1.0
    out.ci_low = interval.low / interval.center - 1.0  # where the next value is expected, relative
    out.ci_high = interval.high / interval.center - 1.0
    scale = sd * math.sqrt(1.0 + 1.0 / n)
    shift = math.log(candidate.value) - mean
    if scale > 0:
        out.p_value = 1.0 - t_cdf(shift / scale, n - 1)
    else:  # a history of identical figures: above it or not, nothing in between
        out.p_value = 0.0 if shift > 0 else 1.0
    if len(positive) < min_points:
        out.state = "insufficient"
        out.detail = f"{len(positive)} history points < {min_points}: shown, cannot fail"
        return out
    outside_high = candidate.value > interval.high
    outside_low = candidate.value < interval.low
    if outside_high and out.change > min_effect:
        out.state = "regression"
    elif outside_low and out.change < -min_effect:
        out.state = "improvement"
    else:
        out.state = "within-noise"
    return out


def paired_comparison(
    suite: str,
    metric: str,
    unit: str,
    base: Sequence[float | None],
    candidate: Sequence[float | None],
    *,
    min_effect: float,
    conf: float = 0.95,
    family: str = "info",
    min_pairs: int = 6,
    launches: Sequence[int] | None = None,
    launch_sd: float | LaunchPrior | None = None,
) -> MetricComparison:
    """A/B: one log(B/A) per round pair; Hodges–Lehmann with its Wilcoxon interval.

    ``None`` marks a round whose figure was insufficient (too few samples);
    its pair is left out. The p-value tests "the shift is at most the
    minimum effect" (one-sided), so Holm over the family controls false
    alarms of *meaningful* regressions.

    ``launches`` (the launch of each pair) and ``launch_sd`` (the metric's
    launch-level SD: the built-in prior worth
    :data:`~perfgate.gate.ab.launches.PRIOR_LAUNCHES` launches, or a
    :class:`~perfgate.gate.ab.launches.LaunchPrior` with its own weight) make
    the pairs nested in launches
    (:mod:`perfgate.stats.clustered`): the interval and both p-values are
    widened by the launch-level variance, and the minimum effect is at
    least :data:`~perfgate.gate.ab.launches.LAUNCH_K` launch-level SDs.
    """
    out = MetricComparison(
        suite=suite,
        metric=metric,
        unit=unit,
        family=family if family in GATED_FAMILIES else "info",  # type: ignore[arg-type]
        min_effect=min_effect,
        method="ab",
    )
    groups = list(launches) if launches is not None else [0] * len(base)
    present = [
        (a, b, g)
        for a, b, g in zip(base, candidate, groups, strict=True)
        if a is not None and b is not None
    ]
    kept = [(a, b, g) for a, b, g in present if a > 0 and b > 0]
    pairs = [(a, b) for a, b, _ in kept]
    out.samples = len(pairs)
    if len(pairs) < len(present):
        # A ratio needs two positive figures (a CPU fit can come out at 0):
        # say how many pairs that left out rather than drop them silently.
        _add_detail(out, f"{len(present) - len(pairs)} pair(s) with a non-positive figure left out")
    if pairs:
        out.base = float(np.median([a for a, _ in pairs]))
        out.candidate = float(np.median([b for _, b in pairs]))
    if len(pairs) < min_pairs:
        out.state = "insufficient"
        starved = len(base) - len(present)
        if starved and starved >= len(base) - min_pairs:
            # The kept pairs were there; their rounds lacked samples for this
            # metric (more pairs would not help, more samples per round would).
            _add_detail(
                out,
                f"too few samples per round in {starved} of {len(base)} pairs "
                f"({min_samples(metric)} needed): raise ab.rate or ab.round",
            )
        else:
            _add_detail(out, f"{len(pairs)} usable round pairs < {min_pairs}")
        return out
    d = np.log(np.array([b for _, b in pairs]) / np.array([a for a, _ in pairs]))
    shift = hodges_lehmann(d)
    ci = wilcoxon_ci(d, conf)
    if launch_sd is None:
        low, high = ci.low, ci.high
        threshold = math.log1p(min_effect)
        out.p_value = wilcoxon_signed_rank(d - threshold).p_greater
        out.p_slower = wilcoxon_signed_rank(d).p_greater
    else:
        low, high, threshold = _launch_model(out, d, shift, [g for _, _, g in kept], ci, launch_sd)
    out.change = math.expm1(shift)
    out.ci_low = math.expm1(low)
    out.ci_high = math.expm1(high)
    out.state = _state(low, high, threshold)  # type: ignore[assignment]
    return out


def _launch_model(
    out: MetricComparison,
    d: np.ndarray,
    shift: float,
    launches: list[int],
    ci: ConfidenceInterval,
    launch_sd: float | LaunchPrior,
) -> tuple[float, float, float]:
    """Pairs nested in launches: set ``out``'s minimum effect, p-values and launch record.

    Returns the widened interval and the threshold, on the log scale. The
    exact rank test's p cannot carry the launch-level variance; a t statistic
    on the total standard error does (:mod:`perfgate.stats.clustered`).
    """
    prior = (
        launch_sd if isinstance(launch_sd, LaunchPrior) else LaunchPrior(launch_sd, PRIOR_LAUNCHES)
    )
    # the Wilcoxon interval's own standard error: the inflation is relative to it
    width = ci.high - ci.low
    lv = launch_variance(
        d.tolist(),
        launches,
        prior_sd=prior.sd,
        prior_df=prior.weight,
        se_within=width / (2.0 * normal_ppf(0.975)) if math.isfinite(width) and width > 0 else None,
    )
    assert out.min_effect is not None
    out.min_effect = launch_min_effect(out.min_effect, lv.sd_between)
    threshold = math.log1p(out.min_effect)
    out.p_value = lv.p_greater(shift, threshold)
    out.p_slower = lv.p_greater(shift)
    out.launch = {
        "launches": lv.launches,
        "sd_between": round(lv.sd_between, 5),
        "sd_between_observed": None
        if lv.sd_between_observed is None
        else round(lv.sd_between_observed, 5),
        # what perfgate calibrate pools: this run's own evidence, in degrees of freedom
        "df_observed": lv.launches - 1 if lv.sd_between_observed is not None else 0,
        "prior_sd": round(prior.sd, 5),
        "prior_weight": round(prior.weight, 2),
        "calibrated": prior.calibrated,
        "inflation": round(lv.inflation, 3),
    }
    if lv.inflation > 1.0:
        observed = (
            f", {lv.sd_between_observed:.2%} over this run's {lv.launches} launches"
            if lv.sd_between_observed is not None
            else ""
        )
        _add_detail(
            out,
            f"launch-level SD {lv.sd_between:.2%}{observed}"
            f"{' (calibrated prior)' if prior.calibrated else ''}: "
            f"interval widened x{lv.inflation:.2f}",
        )
    low, high = inflate_interval(shift, ci.low, ci.high, lv.inflation)
    return low, high, threshold


def proportion_comparison(
    suite: str,
    metric: str,
    failed_base: int,
    total_base: int,
    failed_candidate: int,
    total_candidate: int,
    *,
    margin: float,
    family: str = "info",
) -> MetricComparison:
    """Error rates, A against B: an exact test of "B exceeds A by more than ``margin``"."""
    out = MetricComparison(
        suite=suite,
        metric=metric,
        unit="ratio",
        family=family if family in GATED_FAMILIES else "info",  # type: ignore[arg-type]
        min_effect=margin,
        method="ab",
        samples=total_base + total_candidate,
    )
    if total_base == 0 or total_candidate == 0:
        out.state = "insufficient"
        out.detail = "no requests in one arm"
        return out
    pa, pb = failed_base / total_base, failed_candidate / total_candidate
    out.base, out.candidate, out.change = pa, pb, pb - pa
    test = exact_two_proportion_test(
        failed_base, total_base, failed_candidate, total_candidate, margin
    )
    out.p_value = test.p_value
    out.state = (
        "regression"
        if test.p_value < 0.05
        else ("improvement" if pb < pa - margin else "within-noise")
    )
    return out


def paired_difference_comparison(
    suite: str,
    metric: str,
    unit: str,
    base: Sequence[float | None],
    candidate: Sequence[float | None],
    *,
    margin: float,
    conf: float = 0.95,
    family: str = "info",
    min_pairs: int = 6,
    by_mean: bool = False,
) -> MetricComparison:
    """A/B on the absolute scale: one difference (candidate − base) per round pair.

    For figures that may be 0 or negative (a share of requests, RSS growth):
    Hodges–Lehmann shift with its Wilcoxon interval (a sign-flip test on the
    ranks of the per-pair differences); the p-value tests "the candidate
    exceeds the base by more than ``margin``" (one-sided). ``by_mean``: the mean
    difference with the sign-flip test and interval on the differences
    themselves (:mod:`perfgate.stats.signflip`), for coarse ones such as a rare
    route's error rate. ``None`` marks a round without the figure; its pair is
    left out, and the detail says how many.
    """
    out = MetricComparison(
        suite=suite,
        metric=metric,
        unit=unit,
        family=family if family in GATED_FAMILIES else "info",  # type: ignore[arg-type]
        min_effect=margin,
        method="ab",
    )
    pairs = [
        (a, b) for a, b in zip(base, candidate, strict=True) if a is not None and b is not None
    ]
    out.samples = len(pairs)
    if len(pairs) < len(base):
        _add_detail(out, f"{len(base) - len(pairs)} pair(s) without the figure left out")
    if pairs:
        out.base = float(np.median([a for a, _ in pairs]))
        out.candidate = float(np.median([b for _, b in pairs]))
        out.change = out.candidate - out.base
    if len(pairs) < min_pairs:
        out.state = "insufficient"
        _add_detail(out, f"{len(pairs)} usable round pairs < {min_pairs}")
        return out
    d = np.array([b - a for a, b in pairs])
    if by_mean:
        out.change = float(d.mean())
        ci = signflip_ci(d, conf)
        out.p_value = signflip_p_greater(d - margin)
        out.p_slower = signflip_p_greater(d)
    else:
        out.change = hodges_lehmann(d)
        ci = wilcoxon_ci(d, conf)
        out.p_value = wilcoxon_signed_rank(d - margin).p_greater
        out.p_slower = wilcoxon_signed_rank(d).p_greater
    out.ci_low, out.ci_high = ci.low, ci.high
    out.state = _state(ci.low, ci.high, margin)  # type: ignore[assignment]
    return out


def paired_rate_comparison(
    suite: str,
    metric: str,
    base: Sequence[tuple[int, int] | None],
    candidate: Sequence[tuple[int, int] | None],
    *,
    margin: float,
    conf: float = 0.95,
    family: str = "info",
    min_pairs: int = 6,
) -> MetricComparison:
    """Error rates, A against B, one difference per round pair.

    ``base``/``candidate``: (failed, requests) of each round, ``None`` where
    the round had no request (its pair is left out). Failures come in bursts
    (a restart, a pool exhausted), so requests are not independent; the round
    pair is the unit, as for latency. The mean difference, by the sign-flip
    test on the differences (``by_mean``): a rare route's rates are coarse,
    and a signed-rank test shifted by the margin counted each round where
    none of its few requests failed as a whole negative rank (design e8).
    ``base``/``candidate`` of the result are the summed rates.
    """
    usable = [
        (a, b) if a is not None and b is not None and a[1] > 0 and b[1] > 0 else None
        for a, b in zip(base, candidate, strict=True)
    ]
    pairs = [p for p in usable if p is not None]
    out = paired_difference_comparison(
        suite,
        metric,
        "ratio",
        [None if p is None else p[0][0] / p[0][1] for p in usable],
        [None if p is None else p[1][0] / p[1][1] for p in usable],
        margin=margin,
        conf=conf,
        family=family,
        min_pairs=min_pairs,
        by_mean=True,
    )
    failed_a, total_a = sum(a[0] for a, _ in pairs), sum(a[1] for a, _ in pairs)
    failed_b, total_b = sum(b[0] for _, b in pairs), sum(b[1] for _, b in pairs)
    if total_a and total_b:
        out.base, out.candidate = failed_a / total_a, failed_b / total_b
        if out.ci_low is None:  # insufficient: the summed difference, for the reader
            out.change = out.candidate - out.base
    return out


def family_levels(alpha: float, *, has_secondary: bool) -> dict[str, float]:
    """Each gated family's level: the core has all of alpha unless a secondary family exists."""
    if has_secondary:
        return {
            "primary": alpha * (1.0 - SECONDARY_ALPHA_SHARE),
            "secondary": alpha * SECONDARY_ALPHA_SHARE,
        }
    return {"primary": alpha, "secondary": 0.0}


def clearly_slower(c: MetricComparison) -> bool:
    """The whole interval lies beyond the minimum effect in the slower direction.

    Whatever its family, or whether it survived Holm: such a metric must
    never leave a run green (the gate says inconclusive, naming it).
    """
    if c.min_effect is None:
        return False
    if c.ci_low is not None:
        return c.ci_low > c.min_effect
    # An exact test without an interval (summed error counts): its own test.
    return c.unit == "ratio" and c.p_value is not None and c.p_value < 0.05


def probably_slower(c: MetricComparison) -> bool:
    """The estimate lies beyond the minimum effect and the interval excludes no change.

    Weaker than :func:`clearly_slower`: reason enough to look again, never to
    fail or to leave a run inconclusive.
    """
    if c.min_effect is None or c.change is None or c.ci_low is None:
        return False
    return c.change > c.min_effect and c.ci_low > 0


def min_effect_text(c: MetricComparison) -> str:
    """A metric's minimum effect in its own unit: "5%", "0.5 pp" (an error rate), "10 KiB/req"."""
    if c.unit == "ratio":
        return f"{(c.min_effect or 0) * 100:.2g} pp"
    if c.unit in ABSOLUTE_UNITS:
        return f"{c.min_effect or 0:.2g} {c.unit}"
    return f"{c.min_effect or 0:.0%}"


def holm_min_pairs(family: int, alpha: float = 0.05) -> int:
    """The fewest round pairs with which Holm over ``family`` metrics can reject at all.

    An exact one-sided Wilcoxon p-value of n pairs is at least 2^-n, and Holm's
    first step needs family · p < alpha.
    """
    return max(1, math.floor(math.log2(max(1, family) / alpha)) + 1)


def _add_detail(c: MetricComparison, text: str) -> None:
    c.detail = f"{c.detail}; {text}" if c.detail else text


def apply_holm(comparisons: list[MetricComparison], alpha: float = 0.05) -> list[str]:
    """Holm-adjust each gated family's p-values; a regression must survive it.

    The core ("primary") and secondary families each get their share of
    alpha (:func:`family_levels`) and Holm within. Comparisons outside them
    are information: shown, never failing the gate. A/B metrics that are
    not a regression then get a second look (:func:`_mark_unresolved`,
    :func:`_mark_too_few_pairs`).

    Returns why the verdict cannot be trusted to pass: the suites whose
    gated metrics had too few round pairs to show any regression.
    """
    short: list[str] = []
    has_secondary = any(c.family == "secondary" for c in comparisons)
    for family, level in family_levels(alpha, has_secondary=has_secondary).items():
        members = [c for c in comparisons if c.family == family]
        if not members:
            continue
        tested = [c for c in members if c.p_value is not None]
        adjusted = holm([c.p_value for c in tested if c.p_value is not None])
        for c, p in zip(tested, adjusted, strict=True):
            c.p_adjusted = p
            if c.state == "regression" and p >= level:
                c.state = "within-noise"
                _add_detail(c, f"not significant after Holm (p={p:.3f}, level {level:.3g})")
        paired = [c for c in members if c.p_slower is not None]
        _mark_unresolved(paired, level)
        short += _mark_too_few_pairs(paired, len(tested), level, family)
    return short


def _mark_unresolved(paired: list[MetricComparison], alpha: float) -> None:
    """Surely slower, maybe beyond the minimum effect: "unresolved", not "within noise".

    Slower beyond doubt: ``p_slower`` survives Holm over the family's paired
    metrics. The 95% interval reaching past the minimum effect, the data
    cannot tell a regression from a smaller slowdown. In the detection
    studies this flagged the route in 42 of the 45 runs the gate missed
    (docs/detection.md).
    """
    adjusted = holm([c.p_slower for c in paired if c.p_slower is not None])
    for c, p in zip(paired, adjusted, strict=True):
        if (
            c.state == "within-noise"
            and p < alpha
            and c.ci_high is not None
            and c.min_effect is not None
            and c.ci_high > c.min_effect
        ):
            c.state = "unresolved"
            _add_detail(
                c,
                f"slower (p={p:.3f} after Holm), but its 95% interval reaches past the "
                f"{min_effect_text(c)} minimum effect: more round pairs would decide",
            )


def _mark_too_few_pairs(
    paired: list[MetricComparison], family: int, alpha: float, name: str = "primary"
) -> list[str]:
    """Metrics with fewer pairs than :func:`holm_min_pairs` are "insufficient".

    Such a metric (pairs dropped for scheduler lag, say) could not have shown
    a regression whatever it measured; passing on it would be a silent lie.
    """
    needed = holm_min_pairs(family, alpha)
    short: dict[str, list[MetricComparison]] = {}
    for c in paired:
        if c.state != "regression" and c.samples is not None and c.samples < needed:
            c.state = "insufficient"
            _add_detail(
                c,
                f"{c.samples} round pairs cannot show a regression after Holm over "
                f"{family} {name} metrics (needs {needed})",
            )
            short.setdefault(c.suite, []).append(c)
    return [
        f"{suite}: {len(cs)} {name} metric(s) with only {min(c.samples or 0 for c in cs)} "
        f"usable round pairs, too few to show any regression after Holm over {family} "
        f"(needs {needed})"
        for suite, cs in short.items()
    ]


def undecided(comparisons: Sequence[MetricComparison], alpha: float) -> str | None:
    """Why more round pairs could decide what these cannot, or ``None``.

    An interim look: Holm on copies, as the verdict would apply it. Nothing
    to add when a gated metric is already a regression (the gate fails
    either way) or when none is unresolved or short of pairs, whether short
    of what Holm needs or short of the minimum because pairs were dropped
    (scheduler lag, a crash).
    """
    looked = [copy.copy(c) for c in comparisons]
    short = apply_holm(looked, alpha)
    gated = [c for c in looked if c.family in GATED_FAMILIES]
    if any(c.state == "regression" for c in gated):
        return None
    unresolved = [
        c.metric for c in gated if c.state == "unresolved" and not _fixed_at_first_look(c)
    ]
    if unresolved:
        return "possible regression: " + ", ".join(unresolved)
    # Slower but short of Holm, the stronger reason first. "Clearly": the whole
    # interval past the minimum effect (a rare route: few requests per round,
    # some pairs with none failing). "Probably": the estimate past it and the
    # interval clear of 0 (a tail share of a few requests per round: 4% of the
    # shop's product pages +40 ms, +4.7 pp [+0.98, +8.7] against 1 pp, passed
    # green at one look). Asking costs no false alarms: each look spends its
    # own half of alpha, whatever decides to take the second (design e10,
    # docs/detection.md).
    for label, slower in (("clearly", clearly_slower), ("probably", probably_slower)):
        named = [
            c.metric
            for c in gated
            if c.state == "within-noise" and slower(c) and not _fixed_at_first_look(c)
        ]
        if named:
            return f"{label} slower, short of Holm: " + ", ".join(named)
    if short:
        few = [c.metric for c in gated if c.state == "insufficient" and _short_of_holm(c)]
        return "too few round pairs for Holm: " + ", ".join(few)
    dropped = [c.metric for c in gated if c.state == "insufficient" and _short_of_pairs(c)]
    if dropped:
        return "too few usable round pairs: " + ", ".join(dropped)
    return None


#: Measured once per launch, before any second look (whose pairs run in the
#: last launch): more pairs cannot change them, so they never ask for them.
FIXED_AT_FIRST_LOOK = ("peak_rss_kib", "saturated_ms_per_arrival")


def _fixed_at_first_look(c: MetricComparison) -> bool:
    return c.metric.rsplit(" ", 1)[-1] in FIXED_AT_FIRST_LOOK


def _short_of_holm(c: MetricComparison) -> bool:
    """Insufficient because Holm over its family needs more pairs than it has."""
    return "cannot show a regression after Holm" in c.detail


def _short_of_pairs(c: MetricComparison) -> bool:
    """Insufficient for want of round pairs (more pairs help), not of anything else."""
    return c.method == "ab" and "usable round pairs <" in c.detail
