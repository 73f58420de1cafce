"""GitHub-flavoured markdown: the PR comment and the job summary.

Read in ten seconds: the verdict line with its reason, one line per suite,
one table of what moved (regressions, possible regressions, improvements)
beside the primary family, and a Mermaid chart of the metric that decided.
Everything else — information rows, rows with too little data, the suites'
tables, every check, the environment — sits in ``<details>`` blocks whose
summaries carry the counts. A pass with nothing moved is a few lines.

The result always fits ``max_chars`` (GitHub's comment limit by default):
lower-priority parts are trimmed with a visible note, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    short_endpoint,
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

__all__ = [
    "COMPACT_MAX_LINES",
    "DEFAULT_MARKER",
    "GITHUB_COMMENT_LIMIT",
    "render_markdown",
    "report_markdown",
]

GITHUB_COMMENT_LIMIT = 65_536
DEFAULT_MARKER = "<!-- perfgate:comment -->"
MAX_CHART_POINTS = 60
#: A pass with nothing moved fits in this many lines.
COMPACT_MAX_LINES = 25
MAX_SHOWN_WARNINGS = 3

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
    top_n: int | None  # rows per collapsed table


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub pipe table without padding: the comment's bytes go to content.

    Cells arrive escaped (``md_cell``: pipes included); an empty one gets a space.
    """

    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c or " " for c in cells) + " |"

    return "\n".join(
        [row(headers), "|" + "|".join("---" for _ in headers) + "|", *(row(r) for r in rows)]
    )


def _marker(state: str | None) -> str:
    if state is None:
        return ""
    icon, label = MARKERS.get(state, ("❔", state))
    return f"{icon} {label}"


def _details(summary: str, body: list[str]) -> list[str]:
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>", ""]


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


_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.:/_~%?#=&+-]+")


def _report_link(report: Report) -> str:
    """The run page, where the HTML report is an artifact (plain URLs only: no markup inside)."""
    url = next((u for label, u in report.links if label == "run"), None)
    if url and _PLAIN_URL.fullmatch(url):
        return f"[📊 full report]({url}) (HTML in the run's artifacts)"
    return ""


def _run_line(report: Report) -> str:
    parts = []
    if report.verdict_mode == "ab":
        parts.append("A/B on one runner")
    elif report.verdict_mode == "history":
        parts.append("against history")
    parts.append(f"run {md_code(report.run_id)}")
    if report.commit:
        parts.append(f"commit {md_code(report.commit[:12])}")
    if report.branch:
        parts.append(f"branch {md_code(report.branch)}")
    if report.base:
        parts.append(f"base {md_code(report.base)}")
    if report.pr is not None:
        parts.append(f"PR {int(report.pr)}")
    if report.created_at:
        parts.append(md_text(report.created_at))
    link = _report_link(report)
    # Plain text, no <sub>: the fork-safe comment workflow escapes HTML beyond <details>.
    return " · ".join(parts) + (f" · {link}" if link else "")


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def _suite_line(s: SuiteSection) -> str:
    """One line per suite: what ran, how long it really took, its headline figures."""
    parts = [f"**{md_text(s.name)}**"]
    if s.kind != s.name:
        parts.append(md_text("A/B" if s.kind == "ab" else s.kind))
    if s.real_duration_s:
        parts.append(_duration(s.real_duration_s))
    if s.ab is not None and s.ab.pairs:
        pairs = f"{s.ab.pairs} round pairs"
        if s.ab.rate:
            pairs += f" at {s.ab.rate:g} arrivals/s"
        if s.ab.pairs_dropped:
            pairs += f" ({s.ab.pairs_dropped} dropped)"
        parts.append(pairs)
    t = s.total
    if t is not None and t.requests:
        per = " per arm" if s.kind == "ab" else ""
        parts.append(f"{fmt_count(t.requests)} requests{per}")
        parts.append(f"p50 {fmt_ms(t.p50)} ms · p95 {fmt_ms(t.p95)} ms")
        parts.append(f"errors {fmt_rate(t.error_rate)}")
    if s.bench:
        parts.append(f"{len(s.bench)} operations")
        budgets = [b for op in s.bench for b in op.budgets]
        if budgets:
            failed = sum(b.failed for b in budgets)
            parts.append(f"{len(budgets) - failed}/{len(budgets)} budgets met")
    if s.errors:
        parts.append("💥 " + md_text(s.errors[0]))
    if s.interrupted:
        parts.append("⚠️ interrupted, partial")
    return "- " + " · ".join(parts)


def _interval_header(rows: list[ComparisonRow]) -> str:
    methods = {c.method for c in rows if c.ci_low is not None}
    if methods == {"history"}:
        return "History band (95%)"
    if "history" in methods:
        return "95% interval / band"
    return "95% CI"


def _interval(c: ComparisonRow) -> str:
    text = fmt_interval(c.ci_low, c.ci_high, c.unit)
    # A history comparison's interval is where the next value was expected, not a CI of the change.
    return f"{text} band" if c.method == "history" and text != "–" else text


def _p(c: ComparisonRow) -> str:
    p = c.p_shown
    return "–" if p is None else f"{p:.2g}"


def _metric_cell(c: ComparisonRow, with_suite: bool, tag_info: bool) -> str:
    text = md_cell(c.label)
    if with_suite:
        text = f"{md_cell(c.suite)} · {text}"
    return f"{text} *(info)*" if tag_info and not c.gated else text


def _hidden(rows: list[ComparisonRow], top_n: int | None) -> tuple[list[ComparisonRow], int]:
    if top_n is not None and len(rows) > top_n:
        return rows[:top_n], len(rows) - top_n
    return rows, 0


def _comparison_table(
    rows: list[ComparisonRow], with_suite: bool, top_n: int | None = None, main: bool = False
) -> list[str]:
    """Moved and primary rows (``main``), or the information rows."""
    if not rows:
        return []
    rows, hidden = _hidden(rows, top_n)
    headers = ["", "Metric", "Base", "Candidate", "Change", _interval_header(rows), "p (Holm)"]
    body = [
        [
            _marker(c.display_state),
            _metric_cell(c, with_suite, tag_info=main),
            fmt_value(c.base, c.unit),
            fmt_value(c.candidate, c.unit),
            fmt_change(c.change, c.unit),
            _interval(c),
            _p(c),
        ]
        for c in rows
    ]
    out = [_table(headers, body)]
    if hidden:
        out.append(f"\n*{hidden} more rows not shown; see the full report.*")
    return out


def _short_groups(rows: list[ComparisonRow]) -> list[tuple[ComparisonRow, list[str]]]:
    """Rows with too little data, an endpoint's statistics sharing one reason on one row."""
    groups: dict[tuple[str, str | None, str, str], tuple[ComparisonRow, list[str]]] = {}
    for c in rows:
        if c.gated or c.endpoint is None:
            groups[(c.suite, c.metric, c.family, c.detail)] = (c, [c.stat])
            continue
        key = (c.suite, c.endpoint, c.family, c.detail)
        if key in groups:
            groups[key][1].append(c.stat)
        else:
            groups[key] = (c, [c.stat])
    return list(groups.values())


def _short_table(rows: list[ComparisonRow], with_suite: bool, top_n: int | None) -> list[str]:
    """Rows with too little data: what is missing and why, not columns of dashes."""
    if not rows:
        return []
    groups = _short_groups(rows)
    hidden = 0
    if top_n is not None and len(groups) > top_n:
        groups, hidden = groups[:top_n], len(groups) - top_n
    body = []
    for c, stats in groups:
        if len(stats) == 1:
            name = _metric_cell(c, with_suite, tag_info=False)
        else:
            name = md_cell(short_endpoint(c.endpoint or "")) + " " + md_cell(", ".join(stats))
            name = f"{md_cell(c.suite)} · {name}" if with_suite else name
        body.append([name, c.family, md_cell(c.detail)])
    out = [_table(["Metric", "Gate", "Why"], body)]
    if hidden:
        out.append(f"\n*{hidden} more rows not shown; see the full report.*")
    return out


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
    out = [f"*Errors: {md_text(section.failures)}*"] if section.failures else []
    out += [f"- ↕️ status mix moved: {md_text(t)}" for t in section.status_shifts]
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


def _checks_table(checks: list[CheckRow]) -> list[str]:
    if not checks:
        return []
    with_scope = len({c.scope for c in checks}) > 1
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
        cells += [
            md_cell(c.name),
            _STATUS.get(c.status, md_cell(c.status)),
            fmt_value(c.measured, c.unit),
            fmt_value(c.threshold, c.unit),
            md_cell(c.detail or c.criterion),
        ]
        body.append(cells)
    return [_table(headers, body)]


_MERMAID_SAFE = re.compile(r"[^A-Za-z0-9 _./:()%+-]")


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


def _deciding(report: Report) -> tuple[SuiteSection, ComparisonRow] | None:
    """The metric that decided the verdict (or came closest), when its pairs were kept."""
    candidates: list[tuple[int, float, SuiteSection, ComparisonRow]] = []
    rank = {"regression": 0, "unresolved": 1, "slightly-slower": 2}
    for s in report.suites:
        if s.ab is None:
            continue
        for c in s.comparisons:
            ratios = s.ab.pair_ratios.get(c.metric)
            if not c.gated or ratios is None or len(ratios.ratios) < 2:
                continue
            candidates.append((rank.get(c.display_state, 3), -(c.change or 0.0), s, c))
    if not candidates:
        return None
    _, _, section, row = min(candidates, key=lambda x: (x[0], x[1]))
    return section, row


def _history_chart(report: Report) -> list[str]:
    """History mode: the deciding metric's stored runs and this run, with the expected band."""
    rank = {"regression": 0, "improvement": 1}
    found = [
        c
        for c in report.comparisons
        if c.method == "history" and c.gated and len(c.history) >= 2
        and c.candidate is not None and c.unit != "ratio"
    ]  # fmt: skip
    if not found:
        return []
    c = min(found, key=lambda r: (rank.get(r.display_state, 2), -abs(r.change or 0.0)))
    assert c.candidate is not None
    values = [*(v for _, v in c.history[-MAX_CHART_POINTS + 1 :]), c.candidate]
    band = (
        (c.base * (1 + c.ci_low), c.base * (1 + c.ci_high))
        if c.base is not None and c.ci_low is not None and c.ci_high is not None
        else None
    )
    top = max([*values, *(band or ())]) * 1.05
    name = _MERMAID_SAFE.sub("", f"{c.suite}: {c.label} ({c.unit})")[:90]
    xs = ", ".join([*(str(i + 1) for i in range(len(values) - 1)), '"this run"'])
    out = [
        "```mermaid",
        "xychart-beta",
        f'    title "{name} - history and this run"',
        f"    x-axis [{xs}]",
        f'    y-axis "{_MERMAID_SAFE.sub("", c.unit)}" 0 --> {top:.4g}',
        f"    bar [{', '.join(f'{v:.4g}' for v in values)}]",
    ]
    if band is not None:
        out += [f"    line [{', '.join(f'{b:.4g}' for _ in values)}]" for b in band]
    out += [
        "```",
        "",
        f"*Bars: the stored runs of {md_text(c.label)}, oldest first, and this run (last)"
        + ("; lines: the history band, where the next value was expected (95%)" if band else "")
        + ".*",
        "",
    ]
    return out


def _ratio_chart(report: Report) -> list[str]:
    """Per-pair candidate/base of the deciding metric, with the minimum effect as a line."""
    found = _deciding(report)
    if found is None:
        return []
    section, c = found
    assert section.ab is not None
    ratios = section.ab.pair_ratios[c.metric].ratios[:MAX_CHART_POINTS]
    delta = c.min_effect if c.min_effect is not None else 0.05
    top = max([*ratios, 1 + delta]) * 1.02
    bottom = min([*ratios, 1 - delta]) * 0.98
    name = _MERMAID_SAFE.sub("", f"{section.name}: {c.label}")[:90]
    xs = ", ".join(str(i + 1) for i in range(len(ratios)))
    out = [
        "```mermaid",
        "xychart-beta",
        f'    title "{name} - candidate / base per round pair"',
        f'    x-axis "round pair" [{xs}]',
        f'    y-axis "candidate / base" {bottom:.3f} --> {top:.3f}',
        f"    bar [{', '.join(f'{r:.4f}' for r in ratios)}]",
        f"    line [{', '.join(f'{1 + delta:.4f}' for _ in ratios)}]",
        f"    line [{', '.join('1' for _ in ratios)}]",
        "```",
        "",
        f"*Bars: each round pair's candidate/base for {md_text(c.label)}; upper line: the "
        f"{delta:.0%} minimum effect (δ), lower line: no change. Estimate "
        f"{fmt_change(c.change, c.unit)}, 95% CI {fmt_interval(c.ci_low, c.ci_high, c.unit)}.*",
        "",
    ]
    return out


def _suite_block(section: SuiteSection, budget: _Budget) -> list[str]:
    head = (
        f"#### {md_text(section.name)} · {md_text('A/B' if section.kind == 'ab' else section.kind)}"
    )
    if section.real_duration_s:
        head += f" · {_duration(section.real_duration_s)}"
    if section.source:
        head += f" · {md_code(section.source)}"
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
        _bench_table(section),
    ):
        if block:
            out.extend([*block, ""])
    if budget.charts and section.charts:
        for chart in section.charts:
            if chart.key in ("latency", "throughput"):
                mer = _mermaid(chart, section.name)
                if mer:
                    out.extend([*mer, ""])
    return out


def _kv_table(rows: list[tuple[str, str]]) -> str:
    return _table(["", ""], [[md_cell(k), md_cell(v)] for k, v in rows])


def _info_block(report: Report, budget: _Budget) -> list[str]:
    body: list[str] = []
    if budget.info:
        if report.environment:
            body.extend(["**Environment**", "", _kv_table(report.environment), ""])
        if report.parameters:
            body.extend(["**Parameters**", "", _kv_table(report.parameters), ""])
    else:
        body.extend(
            ["*Environment and parameters omitted to fit the size limit; see the full report.*", ""]
        )
    for label, url in report.links:
        if _PLAIN_URL.fullmatch(url):  # a markdown link, not <autolink>: see _run_line
            body.append(f"- {md_text(label)}: [{url}]({url})")
        else:
            body.append(f"- {md_text(label)}: {md_text(url)}")
    while body and body[-1] == "":
        body.pop()
    return _details("Environment, parameters and links", body)


_NOUNS = ("regression", "possible regression", "improvement")


def _count_summary(parts: list[tuple[int, str]]) -> str:
    """``[(2, "regression"), (0, "improvement")]`` -> "2 regressions"."""
    words = []
    for n, label in parts:
        if n:
            head, _, tail = label.partition(" (")
            plural = head + "s" if n > 1 and head in _NOUNS else head
            words.append(f"{n} {plural}" + (f" ({tail}" if tail else ""))
    return " · ".join(words) or "none"


def _warnings(report: Report) -> list[str]:
    shown = [f"- ⚠️ {md_text(w)}" for w in report.verdict_warnings[:MAX_SHOWN_WARNINGS]]
    more = len(report.verdict_warnings) - MAX_SHOWN_WARNINGS
    if more > 0:
        shown.append(f"- and {more} more warnings in the full report")
    return [*shown, ""] if shown else []


def _compact(report: Report) -> bool:
    """A pass with nothing moved (and nothing failed): a few lines."""
    c = report.counts
    return (
        report.headline.state == "pass"
        and not c.primary_moved
        and not c.info_moved
        and not c.checks.get("fail")
        and not any(s.errors or s.interrupted or s.status_shifts for s in report.suites)
    )


def _render_compact(report: Report, marker: str, note: str) -> str:
    out = [marker, _headline(report), "", _run_line(report), ""]
    if note:
        out.extend([f"> ✂️ {note}", ""])
    out.extend(_suite_line(s) for s in report.suites)
    out.append("")
    unsure = [c for c in report.all_checks if c.status == "inconclusive"]
    out.extend(
        f"- ⚠️ {md_text(c.name)}: inconclusive" + (f" ({md_text(c.detail)})" if c.detail else "")
        for c in unsure[:MAX_SHOWN_WARNINGS]
    )
    out.extend(_warnings(report) if report.verdict_warnings else [""] if unsure else [])
    primary = [c for c in report.comparisons if c.gated]
    rest = _count_summary(
        [
            (report.counts.info, "information metrics (none moved)"),
            (report.counts.checks.get("pass", 0), "checks passed"),
        ]
    )
    tail = f"*{rest}; the environment: in the full report.*"
    with_table = [
        *_details(
            f"Primary metrics: {len(primary)} · none moved",
            _comparison_table(primary, _multi_suite(report)),
        ),
        tail,
    ]
    if primary and len(out) + len(with_table) <= COMPACT_MAX_LINES:
        out.extend(with_table)
    else:
        out.append(tail)
    return "\n".join(out).rstrip() + "\n"


def _multi_suite(report: Report) -> bool:
    return len({c.suite for c in report.comparisons}) > 1


def _render(report: Report, marker: str, budget: _Budget, note: str, compact: bool = True) -> str:
    if compact and _compact(report):
        return _render_compact(report, marker, note)
    out = [marker, _headline(report), "", _run_line(report), ""]
    if note:
        out.extend([f"> ✂️ {note}", ""])
    out.extend(_suite_line(s) for s in report.suites)
    out.append("")
    rows = report.comparisons
    main = [c for c in rows if c.moved or (c.family == "primary" and c.state != "insufficient")]
    main.sort(key=lambda c: (not c.moved, not c.gated))
    out.extend(_moved_block(report, main))
    failing = [c for c in report.all_checks if c.status in ("fail", "inconclusive")]
    if failing:
        out.extend(["**Checks that did not pass**", "", *_checks_table(failing), ""])
    if budget.charts:
        out.extend(_ratio_chart(report) or _history_chart(report))
    out.extend(_warnings(report))
    out.extend(_collapsed_blocks(report, main, budget))
    out.extend(_info_block(report, budget))
    return "\n".join(out).rstrip() + "\n"


def _moved_block(report: Report, main: list[ComparisonRow]) -> list[str]:
    """One table: what moved (regressions, possible regressions, improvements) and the core."""
    if not main:
        return []
    moved = _count_summary(
        [
            (sum(r.display_state == "regression" for r in main), "regression"),
            (sum(r.display_state == "unresolved" for r in main), "possible regression"),
            (sum(r.display_state == "slower" for r in main), "slower (information)"),
            (sum(r.display_state == "improvement" for r in main), "improvement"),
        ]
    )
    return [
        f"**What moved:** {moved if moved != 'none' else 'nothing'} · "
        f"gated: {report.counts.primary} metrics (core and secondary families)",
        "",
        *_comparison_table(main, _multi_suite(report), main=True),
        "",
    ]


def _collapsed_blocks(report: Report, main: list[ComparisonRow], budget: _Budget) -> list[str]:
    """Everything else, inside <details> with counts in the summaries."""
    rows, multi = report.comparisons, _multi_suite(report)
    out: list[str] = []
    in_main = {id(c) for c in main}
    info = [c for c in rows if id(c) not in in_main and c.state != "insufficient"]
    if info:
        info.sort(key=lambda c: not c.moved)
        summary = f"Other metrics: {len(info)} · {sum(c.moved for c in info)} moved"
        out.extend(_details(summary, _comparison_table(info, multi, budget.top_n)))
    short = [c for c in rows if c.state == "insufficient"]
    if short:
        gated_short = sum(c.gated for c in short)
        summary = f"Too little data: {len(short)} metrics" + (
            f" ({gated_short} gated)" if gated_short else ""
        )
        out.extend(_details(summary, _short_table(short, multi, budget.top_n)))
    suites = [line for s in report.suites for line in _suite_block(s, budget)]
    if suites:
        names = ", ".join(md_text(s.name) for s in report.suites)
        out.extend(_details(f"Suites: {names} (endpoints, benchmarks)", suites))
    if report.all_checks:
        counts = report.counts.checks
        summary = "Checks: " + _count_summary(
            [
                (counts.get("pass", 0), "passed"),
                (counts.get("fail", 0), "failed"),
                (counts.get("inconclusive", 0), "inconclusive"),
                (counts.get("skipped", 0), "skipped"),
            ]
        )
        out.extend(_details(summary, _checks_table(report.all_checks)))
    return out


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
    compact: bool = True,
) -> str:
    """Render a built report; always returns text of at most ``max_chars``.

    ``compact``: a pass with nothing moved is a few lines (the comment); False
    keeps every table (the report directory's ``report.md``).

    Trimming order: charts, then environment/parameter rows, then table
    rows beyond the top 20, then beyond the top 5; last, the verdict alone.
    """
    for budget in _TRIM_STEPS:
        if not charts and budget.charts:
            continue
        text = _render(report, marker, budget, _trim_note(budget, charts, max_chars), compact)
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
