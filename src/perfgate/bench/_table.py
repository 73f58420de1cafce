"""The seed's results table, with sub-millisecond precision, as text.

``| Operation | Samples | Min | Max | Mean | Median | P95 | P99 |`` plus the
failed and outlier counts the seed never showed, the budget failures and
skipped operations under it, and with ``--repeat`` a consistency table.
"""

from __future__ import annotations

import math

from tabulate import tabulate

from perfgate.result import Check, SuiteResult

__all__ = ["fmt_ms", "render_report"]

_STATS = ("min", "max", "mean", "median", "p95", "p99")


def fmt_ms(value: float | None) -> str:
    """3 decimals under 10 ms, 2 above: a 0.4 ms health check reads 0.412, not 0."""
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.2f}"


def _table(result: SuiteResult) -> str:
    rows = []
    for op in result.operations:
        if op.skipped_reason is not None:
            rows.append([op.name, "skipped", *("–" for _ in _STATS), "–", "–"])
            continue
        s = op.summary
        rows.append(
            [
                op.name,
                str(len(op.samples_ms)),
                *(fmt_ms(s.get(k)) for k in _STATS),
                str(op.failed),
                str(op.outliers),
            ]
        )
    headers = [
        "Operation",
        "Samples",
        "Min",
        "Max",
        "Mean",
        "Median",
        "P95",
        "P99",
        "Failed",
        "Outliers",
    ]
    return tabulate(
        rows,
        headers=headers,
        tablefmt="github",
        disable_numparse=True,
        colalign=("left", *("right",) * (len(headers) - 1)),
    )


def _consistency(result: SuiteResult) -> str | None:
    rows = []
    for op in result.operations:
        c = op.extra.get("consistency")
        if not c:
            continue
        cv = c.get("median_cv", math.nan)
        rows.append(
            [
                op.name,
                int(c.get("runs", 0)),
                ", ".join(fmt_ms(r.get("median")) for r in op.repeats),
                "–" if math.isnan(cv) else f"{100 * cv:.1f}%",
                f"{fmt_ms(c.get('median_ci_low'))} – {fmt_ms(c.get('median_ci_high'))}",
            ]
        )
    if not rows:
        return None
    headers = ["Operation", "Runs", "Median per run (ms)", "Run-to-run CV", "Median 95% CI (ms)"]
    return tabulate(
        rows,
        headers=headers,
        tablefmt="github",
        disable_numparse=True,
        colalign=("left", "right", "right", "right", "right"),
    )


def _failure_line(check: Check) -> str:
    return f"  - {check.name}: {check.detail}"


def render_report(result: SuiteResult) -> str:
    """The whole text report: table, notes, consistency, failures, verdict line."""
    parts = [f"Benchmark results: {result.name} (times in ms)", "", _table(result)]
    notes = []
    for op in result.operations:
        if op.outliers:
            notes.append(
                f"  - {op.name}: {op.outliers} outlier sample(s) (> 10 robust SDs from the median; "
                "flagged, still counted)"
            )
        codes = {k: v for k, v in op.extra.get("codes", {}).items() if k[:1] not in ("2", "3")}
        if codes:
            what = ", ".join(f"{k} ×{v}" for k, v in sorted(codes.items()))
            notes.append(f"  - {op.name}: {op.failed} failed sample(s): {what}")
    if notes:
        parts += ["", "Notes:", *notes]
    consistency = _consistency(result)
    if consistency:
        parts += ["", "Consistency across runs:", "", consistency]
    skipped = [op for op in result.operations if op.skipped_reason is not None]
    if skipped:
        parts += ["", "Skipped operations:"]
        parts += [f"  - {op.name}: {op.skipped_reason}" for op in skipped]
    failures = [c for c in result.checks if c.status == "fail"]
    if failures:
        parts += ["", "Budget failures:", *(_failure_line(c) for c in failures)]
    parts.append("")
    if failures or skipped:
        verdict = f"FAIL: {len(failures)} budget failure(s)"
        if skipped:
            verdict += f", {len(skipped)} operation(s) skipped"
        parts.append(verdict)
    else:
        parts.append(f"PASS: all {len(result.operations)} operations within budget")
    return "\n".join(parts)
