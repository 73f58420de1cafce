"""The verdict as the terminal shows it (tabulate)."""

from __future__ import annotations

from collections.abc import Callable

from tabulate import tabulate

from perfgate.verdict import (
    ABSOLUTE_UNITS,
    GATED_FAMILIES,
    STATE_LABELS,
    VERDICT_LABELS,
    MetricComparison,
    Verdict,
    shown_state,
)

__all__ = ["Log", "verdict_text"]

#: Where the gate says what it is doing (print, or a test's list.append).
Log = Callable[[str], None]


def _mark(c: MetricComparison) -> str:
    state = shown_state(c.state, c.family)
    return STATE_LABELS.get(state, state)


def _value(v: float | None, unit: str) -> str:
    if v is None:
        return "–"
    if unit == "ratio":
        return f"{v:.2%}"
    if unit == "ms":
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"
    return f"{v:.3g}"


def _change(c: MetricComparison) -> str:
    if c.change is None:
        return "–"
    if c.unit == "ratio":
        return f"{c.change * 100:+.2f} pp"
    if c.unit in ABSOLUTE_UNITS:
        return f"{c.change:+.2f} {c.unit}"
    text = f"{c.change:+.1%}"
    if c.ci_low is not None and c.ci_high is not None:
        text += f" [{c.ci_low:+.1%}, {c.ci_high:+.1%}]"
    return text


def verdict_text(verdict: Verdict, *, all_metrics: bool = False) -> str:
    """Verdict line, comparison table (primary family unless ``all_metrics``), checks."""
    lines = [
        f"perfgate verdict: {VERDICT_LABELS.get(verdict.state, verdict.state).upper()} (mode: {verdict.mode})"
    ]
    lines += [f"  - {r}" for r in verdict.reasons]
    shown = [
        c
        for c in verdict.comparisons
        if all_metrics or c.family in GATED_FAMILIES or c.state == "regression"
    ]
    if shown:
        rows = [
            [
                c.suite,
                c.metric,
                c.family,
                _value(c.base, c.unit),
                _value(c.candidate, c.unit),
                _change(c),
                _mark(c),
                c.samples or "",
            ]
            for c in shown
        ]
        lines.append("")
        lines.append(
            tabulate(
                rows,
                headers=[
                    "suite",
                    "metric",
                    "family",
                    "base",
                    "candidate",
                    "change [95% CI]",
                    "result",
                    "n",
                ],
            )
        )
        hidden = len(verdict.comparisons) - len(shown)
        if hidden > 0:
            lines.append(f"({hidden} more metrics shown as information in the report)")
    checks = verdict.slo_checks
    if checks:
        rows = [
            [
                c.name,
                c.status.upper() + (" (pre-existing)" if c.pre_existing else ""),
                _value(c.measured, c.unit),
                _value(c.threshold, c.unit),
            ]
            for c in checks
        ]
        lines.append("")
        lines.append(tabulate(rows, headers=["check", "status", "measured", "threshold"]))
    for w in verdict.warnings[:10]:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
