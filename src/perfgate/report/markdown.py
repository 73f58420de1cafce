"""GitHub-flavoured markdown: the PR comment and the job summary.

A verdict line first, then per suite the endpoint table, the comparison with
the baseline, the seed's benchmark table and the checks; environment and
parameters collapsed at the end. The result always fits ``max_chars``
(GitHub's comment limit by default): lower-priority parts are trimmed with a
visible note, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tabulate import tabulate

from perfgate.report._format import (
    fmt_change,
    fmt_count,
    fmt_interval,
    fmt_ms,
    fmt_rate,
    fmt_rps,
    fmt_value,
    md_cell,
    md_code,
    md_text,
)
from perfgate.report._model import (
    MARKERS,
    CheckRow,
    ComparisonRow,
    Report,
    SuiteSection,
    build_report,
)
from perfgate.report._series import Chart, downsample
from perfgate.result import RunResult
from perfgate.verdict import Verdict

__all__ = ["DEFAULT_MARKER", "GITHUB_COMMENT_LIMIT", "render_markdown", "report_markdown"]

GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_MARKER = "<!-- perfgate:comment -->"
MAX_CHART_POINTS = 60

_STATUS = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "inconclusive": "⚠️ inconclusive",
    "skipped": "⏭️ skipped",
}


@dataclass(frozen=True)
class _Budget:
    """What one rendering attempt may include."""

    charts: bool
    info: bool
    top_n: int | None  # endpoint and comparison rows per suite


def _table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _marker(state: str | None) -> str:
    if state is None:
        return ""
    icon, label = MARKERS.get(state, ("❔", state))
    return f"{icon} {label}"


def _headline(report: Report) -> str:
    h = report.headline
    line = f"### {h.text}"
    reasons = [md_text(r) for r in h.reasons[:2]]
    if len(h.reasons) > 2:
        reasons.append(f"and {len(h.reasons) - 2} more")
    if reasons:
        line += " — " + "; ".join(reasons)
    if not h.from_gate:
        line += " *(from the run's own checks; no gate verdict)*"
    return line


def _run_line(report: Report) -> str:
    parts = [f"run {md_code(report.run_id)}"]
    if report.commit:
        parts.append(f"commit {md_code(report.commit[:12])}")
    if report.branch:
        parts.append(f"branch {md_code(report.branch)}")
    if report.pr is not None:
        parts.append(f"PR {int(report.pr)}")
    if report.created_at:
        parts.append(md_text(report.created_at))
    if report.verdict_mode != "none":
        parts.append(f"mode {md_text(report.verdict_mode)}")
    return "<sub>" + " · ".join(parts) + "</sub>"


def _endpoint_table(section: SuiteSection, top_n: int | None) -> list[str]:
    rows = section.endpoints
    hidden = 0
    if top_n is not None and len(rows) > top_n:
        hidden = len(rows) - top_n
        rows = rows[:top_n]
    shown = ([section.total] if section.total else []) + rows
    if not shown:
        return []
    with_marker = any(r.marker for r in shown)
    headers = ["Endpoint", "Requests", "req/s", "Errors", "p50 (ms)", "p95 (ms)", "p99 (ms)"]
    if with_marker:
        headers.append("vs base")
    body = []
    for r in shown:
        name = f"**{md_cell(r.endpoint)}**" if r.is_total else md_cell(r.endpoint)
        cells = [name, fmt_count(r.requests), fmt_rps(r.rps), fmt_rate(r.error_rate)]
        cells += [fmt_ms(r.p50), fmt_ms(r.p95), fmt_ms(r.p99)]
        if with_marker:
            cells.append(_marker(r.marker))
        body.append(cells)
    out = [_table(headers, body)]
    if hidden:
        out.append(f"\n*{hidden} more endpoints not shown (fewest requests).*")
    return out


def _failures_lines(section: SuiteSection) -> list[str]:
    """How requests failed, and endpoints whose status mix moved."""
    out = [f"<sub>Errors: {md_text(section.failures)}</sub>"] if section.failures else []
    out += [f"- ↕️ status mix moved: {md_text(t)}" for t in section.status_shifts]
    return out


def _comparison_table(rows: list[ComparisonRow], top_n: int | None) -> list[str]:
    if not rows:
        return []
    hidden = 0
    if top_n is not None and len(rows) > top_n:
        hidden = len(rows) - top_n
        rows = rows[:top_n]
    headers = ["Metric", "Gate", "Base", "Candidate", "Change", "95% interval", "Result"]
    body = [
        [
            md_cell(c.metric),
            "primary" if c.family == "primary" else "info",
            fmt_value(c.base, c.unit),
            fmt_value(c.candidate, c.unit),
            fmt_change(c.change, c.unit),
            fmt_interval(c.ci_low, c.ci_high, c.unit),
            _marker(c.shown_state),
        ]
        for c in rows
    ]
    out = [_table(headers, body)]
    if hidden:
        out.append(f"\n*{hidden} more comparisons not shown.*")
    return out


def _bench_table(section: SuiteSection) -> list[str]:
    if not section.bench:
        return []
    headers = ["Operation", "Samples", "Min", "Max", "Mean", "Median", "P95", "P99"]
    body = []
    for b in section.bench:
        if b.skipped_reason:
            body.append(
                [md_cell(b.operation), "skipped", md_cell(b.skipped_reason), "", "", "", "", ""]
            )
            continue
        samples = fmt_count(b.samples) + (f" ({b.failed} failed)" if b.failed else "")
        stats = [b.min, b.max, b.mean, b.median, b.p95, b.p99]
        body.append([md_cell(b.operation), samples, *(f"{fmt_ms(v)} ms" for v in stats)])
    out = [_table(headers, body)]
    failures = [f for b in section.bench for f in b.budget_failures]
    if failures:
        out.append("\n**Budget failures:**\n")
        out.extend(f"- {md_text(f)}" for f in failures)
    return out


def _checks_table(checks: list[CheckRow], with_scope: bool) -> list[str]:
    if not checks:
        return []
    headers = (["Scope"] if with_scope else []) + [
        "Check",
        "Status",
        "Measured",
        "Threshold",
        "Detail",
    ]
    body = []
    for c in checks:
        cells = [md_cell(c.scope)] if with_scope else []
        detail = c.detail or c.criterion
        cells += [
            md_cell(c.name),
            _STATUS.get(c.status, md_cell(c.status)),
            fmt_value(c.measured, c.unit),
            fmt_value(c.threshold, c.unit),
            md_cell(detail),
        ]
        body.append(cells)
    return [_table(headers, body)]


_MERMAID_SAFE = re.compile(r"[^A-Za-z0-9 _./:()%-]")


def _filled(values: list[float | None]) -> list[float] | None:
    """Gaps carried forward (Mermaid lines need a number at every point)."""
    first = next((v for v in values if v is not None), None)
    if first is None:
        return None
    out, last = [], first
    for v in values:
        last = v if v is not None else last
        out.append(last)
    return out


def _mermaid(chart: Chart, suite: str) -> list[str]:
    c = downsample(chart, MAX_CHART_POINTS)
    lines = [(ln.label, _filled(ln.values)) for ln in c.lines]
    series = [(label, vals) for label, vals in lines if vals is not None]
    if not series or len(c.t) < 2:
        return []
    labels = ", ".join(label for label, _ in series)
    title = _MERMAID_SAFE.sub("", f"{suite}: {chart.title} ({chart.unit}) {labels}")[:120]
    xs = ", ".join(f"{t:g}" for t in c.t)
    out = ["```mermaid", "xychart-beta", f'    title "{title}"', f'    x-axis "seconds" [{xs}]']
    out.append(f'    y-axis "{_MERMAID_SAFE.sub("", chart.unit)}"')
    out.extend(f"    line [{', '.join(f'{v:.3g}' for v in vals)}]" for _, vals in series)
    out.append("```")
    return out


def _chart_fallback(charts: list[Chart]) -> list[str]:
    """The charts' points as a collapsed table, for viewers without Mermaid."""
    lat = next((c for c in charts if c.key == "latency"), None)
    thr = next((c for c in charts if c.key == "throughput"), None)
    base = lat or thr
    if base is None:
        return []
    base = downsample(base, MAX_CHART_POINTS)
    other = downsample(thr, MAX_CHART_POINTS) if thr is not None and lat is not None else None
    headers = ["t (s)"] + [f"{ln.label} ({base.unit})" for ln in base.lines]
    if other is not None and len(other.t) == len(base.t):
        headers += [f"{ln.label}" for ln in other.lines]
    else:
        other = None
    body = []
    for i, t in enumerate(base.t):
        row = [f"{t:g}"] + [
            fmt_ms(ln.values[i]) if base.unit == "ms" else fmt_rps(ln.values[i])
            for ln in base.lines
        ]
        if other is not None:
            row += [fmt_rps(ln.values[i]) for ln in other.lines]
        body.append(row)
    return ["<details><summary>Chart data</summary>", "", _table(headers, body), "", "</details>"]


def _suite(section: SuiteSection, budget: _Budget) -> list[str]:
    head = f"#### {md_text(section.name)} · {md_text(section.kind)}"
    if section.duration_s:
        head += f" · {section.duration_s:.1f} s"
    out = [head, ""]
    for e in section.errors:
        out.append(f"> 💥 **Error:** {md_text(e)}")
    if section.nothing_answered:
        out.append(f"> 💥 **Nothing answered:** {md_text(section.nothing_answered)}")
    if section.interrupted:
        out.append("> ⚠️ Interrupted: the figures below are partial.")
    if section.errors or section.interrupted or section.nothing_answered:
        out.append("")
    for block in (
        _endpoint_table(section, budget.top_n),
        _failures_lines(section),
        _comparison_table(section.comparisons, budget.top_n),
        _bench_table(section),
        _checks_table(section.checks, with_scope=False),
    ):
        if block:
            out.extend([*block, ""])
    if budget.charts and section.charts:
        for chart in section.charts:
            if chart.key in ("latency", "throughput"):
                mer = _mermaid(chart, section.name)
                if mer:
                    out.extend([*mer, ""])
        fb = _chart_fallback(section.charts)
        if fb:
            out.extend([*fb, ""])
    if section.warnings:
        out.extend(f"- ⚠️ {md_text(w)}" for w in section.warnings)
        out.append("")
    return out


def _kv_table(rows: list[tuple[str, str]]) -> str:
    return _table(["", ""], [[md_cell(k), md_cell(v)] for k, v in rows])


def _details(report: Report, budget: _Budget) -> list[str]:
    out = ["<details><summary>Environment, parameters and links</summary>", ""]
    if budget.info:
        if report.environment:
            out.extend(["**Environment**", "", _kv_table(report.environment), ""])
        if report.parameters:
            out.extend(["**Parameters**", "", _kv_table(report.parameters), ""])
    else:
        out.extend(
            ["*Environment and parameters omitted to fit the size limit; see the full report.*", ""]
        )
    for label, url in report.links:
        if url.startswith(("https://", "http://")):
            out.append(f"- {md_text(label)}: <{md_text(url).replace('>', '')}>")
        else:
            out.append(f"- {md_text(label)}: {md_text(url)}")
    out.extend(["", "</details>"])
    return out


def _render(report: Report, marker: str, budget: _Budget, note: str) -> str:
    out = [marker, _headline(report), "", _run_line(report), ""]
    if note:
        out.extend([f"> ✂️ {note}", ""])
    for section in report.suites:
        out.extend(_suite(section, budget))
    if report.other_comparisons:
        out.extend(
            [
                "#### Other comparisons",
                "",
                *_comparison_table(report.other_comparisons, budget.top_n),
                "",
            ]
        )
    if report.checks:
        scoped = len({c.scope for c in report.checks}) > 1
        out.extend(["#### Checks", "", *_checks_table(report.checks, with_scope=scoped), ""])
    if report.verdict_warnings:
        out.extend(f"- ⚠️ {md_text(w)}" for w in report.verdict_warnings)
        out.append("")
    out.extend(_details(report, budget))
    return "\n".join(out).rstrip() + "\n"


_TRIM_STEPS: tuple[_Budget, ...] = (
    _Budget(True, True, None),
    _Budget(False, True, None),
    _Budget(False, False, None),
    _Budget(False, False, 20),
    _Budget(False, False, 5),
)


def _trim_note(budget: _Budget, charts: bool, max_chars: int) -> str:
    omitted = []
    if charts and not budget.charts:
        omitted.append("charts omitted")
    if not budget.info:
        omitted.append("environment and parameters omitted")
    if budget.top_n is not None:
        omitted.append(f"top {budget.top_n} rows per table")
    if not omitted:
        return ""
    return f"Trimmed to fit {max_chars:,} characters: {'; '.join(omitted)}. The full report is in the artifact."


def report_markdown(
    report: Report,
    *,
    marker: str = DEFAULT_MARKER,
    max_chars: int = GITHUB_COMMENT_LIMIT,
    charts: bool = True,
) -> str:
    """Render a built report; always returns text of at most ``max_chars``.

    Trimming order: charts, then environment/parameter rows, then table
    rows beyond the top 20, then beyond the top 5; last, the verdict alone.
    """
    for budget in _TRIM_STEPS:
        if not charts and budget.charts:
            continue
        text = _render(report, marker, budget, _trim_note(budget, charts, max_chars))
        if len(text) <= max_chars:
            return text
    # Last resort: the verdict alone is always small enough to be useful.
    text = "\n".join(
        [
            marker,
            _headline(report),
            "",
            "> ✂️ The report is too large for this comment; see the full report.",
            "",
        ]
    )
    return text if len(text) <= max_chars else text[: max(0, max_chars)]


def render_markdown(
    run: RunResult,
    verdict: Verdict | None = None,
    baseline: RunResult | None = None,
    *,
    marker: str = DEFAULT_MARKER,
    max_chars: int = GITHUB_COMMENT_LIMIT,
    charts: bool = True,
    run_url: str | None = None,
    title: str = "perfgate report",
) -> str:
    """The PR comment / job summary for one run."""
    report = build_report(run, verdict, baseline, title=title, run_url=run_url)
    return report_markdown(report, marker=marker, max_chars=max_chars, charts=charts)
