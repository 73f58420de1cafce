"""From comparisons and checks to one verdict and one exit code (pure)."""

from __future__ import annotations

from perfgate.gate.compare import clearly_slower, min_effect_text
from perfgate.result import Check
from perfgate.verdict import (
    ABSOLUTE_UNITS,
    EXIT_ERROR,
    EXIT_FAIL,
    EXIT_INCONCLUSIVE_STRICT,
    EXIT_PASS,
    GATED_FAMILIES,
    MetricComparison,
    Verdict,
)

__all__ = ["decide", "describe_comparison"]


def _pct(x: float | None) -> str:
    return "?" if x is None else f"{x:+.1%}"


def describe_comparison(c: MetricComparison) -> str:
    where = f"{c.suite}: {c.metric}" if c.suite else c.metric
    if c.unit == "ratio":
        return (
            f"{where} {c.base or 0:.2%} → {c.candidate or 0:.2%} ({(c.change or 0) * 100:+.2f} pp)"
        )
    if c.unit in ABSOLUTE_UNITS:
        interval = f", 95% CI {c.ci_low:+.2f}…{c.ci_high or 0:+.2f}" if c.ci_low is not None else ""
        return f"{where} {c.change or 0:+.2f} {c.unit}{interval}"
    interval = f", 95% CI {_pct(c.ci_low)}…{_pct(c.ci_high)}" if c.ci_low is not None else ""
    return f"{where} {_pct(c.change)}{interval}"


def decide(
    mode: str,
    comparisons: list[MetricComparison],
    checks: list[Check],
    *,
    errors: list[str] | None = None,
    inconclusive: list[str] | None = None,
    warnings: list[str] | None = None,
    strict: bool = False,
) -> Verdict:
    """The gate's verdict: error > regression > SLO failure > inconclusive > pass."""
    errors = errors or []
    inconclusive = list(inconclusive or [])
    verdict = Verdict(
        state="pass",
        mode=mode if mode in ("ab", "history") else "none",  # type: ignore[arg-type]
        comparisons=comparisons,
        slo_checks=checks,
        warnings=list(warnings or []),
    )
    gated = [c for c in comparisons if c.family in GATED_FAMILIES]
    regressions = [c for c in gated if c.state == "regression"]
    breaches = [c for c in checks if c.status == "fail" and not c.pre_existing]
    primary = [c for c in comparisons if c.family == "primary"]
    inconclusive += _inconclusive_reasons(primary, gated, comparisons, checks)

    if errors:
        verdict.state, verdict.exit_code = "error", EXIT_ERROR
        verdict.reasons = errors[:2]
    elif regressions:
        verdict.state, verdict.exit_code = "regression", EXIT_FAIL
        verdict.reasons = [describe_comparison(c) for c in regressions[:2]]
    elif breaches:
        verdict.state, verdict.exit_code = "slo-failure", EXIT_FAIL
        verdict.reasons = [_check_reason(c) for c in breaches[:2]]
    elif inconclusive:
        verdict.state = "inconclusive"
        verdict.exit_code = EXIT_INCONCLUSIVE_STRICT if strict else EXIT_PASS
        verdict.reasons = inconclusive[:2]
    else:
        verdict.reasons = [_pass_reason(gated, checks)]
    if regressions and breaches:
        verdict.reasons = [*verdict.reasons[:1], _check_reason(breaches[0])]
    extra_regressions = len(regressions) - 2
    if extra_regressions > 0:
        verdict.reasons.append(f"and {extra_regressions} more regression(s)")
    verdict.details["inconclusive"] = inconclusive
    return verdict


def _pass_reason(gated: list[MetricComparison], checks: list[Check]) -> str:
    """Counted by state, so the headline agrees with the rows below it."""
    states = [("improvement", "improved"), ("within-noise", "within noise")]
    states += [("insufficient", "with too little data"), ("new", "new")]
    counts = [(sum(c.state == s for c in gated), label) for s, label in states]
    described = ", ".join(f"{n} {label}" for n, label in counts if n)
    return (
        f"{len(gated)} gated metrics"
        + (f" ({described})" if described else "")
        + f", {sum(c.status == 'pass' for c in checks)} checks passed"
    )


def _why_not_gated(c: MetricComparison) -> str:
    if c.family not in GATED_FAMILIES:
        return "information"
    return "did not survive Holm" if c.state == "within-noise" else c.state


def _inconclusive_reasons(
    primary: list[MetricComparison],
    gated: list[MetricComparison],
    comparisons: list[MetricComparison],
    checks: list[Check],
) -> list[str]:
    """Why the gate cannot say pass: no primary data, undecided or clearly slower
    metrics, inconclusive checks."""
    reasons: list[str] = []
    if primary and all(c.state in ("insufficient", "new") for c in primary):
        reasons.append("no primary metric had enough data to compare")
    reasons += [
        f"possible regression, undecided in {c.samples} round pairs: {describe_comparison(c)}"
        f" reaches past the {min_effect_text(c)} minimum effect"
        " (more pairs: ab.pairs, ab.extend_pairs)"
        for c in gated
        if c.state == "unresolved"
    ]
    # Nothing clearly slower passes green: a metric whose whole interval lies
    # beyond its minimum effect, outside the gated families or short of Holm,
    # still names itself (docs/ab.md, "Nothing clearly slower passes green").
    reasons += [
        f"clearly slower but not gated ({_why_not_gated(c)}): {describe_comparison(c)},"
        f" beyond the {min_effect_text(c)} minimum effect"
        for c in comparisons
        if c.state != "new"
        and clearly_slower(c)
        and not (c.family in GATED_FAMILIES and c.state in ("regression", "unresolved"))
    ]
    reasons += [f"{c.name}: {c.detail}" for c in checks if c.status == "inconclusive" and c.detail]
    return reasons


def _check_reason(c: Check) -> str:
    if c.measured is None:
        return c.name
    if c.unit == "ratio":
        return f"{c.name}: measured {c.measured:.2%}"
    return f"{c.name}: measured {c.measured:.1f} {c.unit}"
