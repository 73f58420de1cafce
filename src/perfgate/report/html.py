"""One self-contained HTML report: inline CSS and SVG, no script, no CDN.

Users open it from a CI artifact, offline. Everything from the run is
escaped, and a Content-Security-Policy forbids scripts and remote loads
outright, so a hostile endpoint name cannot run anything even if a future
change forgot to escape it.
"""

from __future__ import annotations

import html

from perfgate.report._format import (
    fmt_change,
    fmt_count,
    fmt_interval,
    fmt_ms,
    fmt_rate,
    fmt_rps,
    fmt_value,
)
from perfgate.report._model import (
    MARKERS,
    BenchRow,
    CheckRow,
    ComparisonRow,
    EndpointRow,
    Report,
    SuiteSection,
    build_report,
)
from perfgate.report._series import Chart
from perfgate.report._svg import svg_line_chart
from perfgate.report._svg_ab import (
    StripRow,
    arm_series_lines,
    svg_arm_chart,
    svg_ecdf,
    svg_history,
    svg_rate_latency,
    svg_strip_plot,
)
from perfgate.result import RunResult
from perfgate.verdict import Verdict

__all__ = ["render_html", "report_html"]

_SYMBOLS = {
    "regression": "▲",
    "unresolved": "◬",
    "slower": "△",
    "improvement": "▼",
    "slightly-slower": "↗",
    "faster": "↘",
    "within-noise": "≈",
    "insufficient": "?",
    "new": "+",
    "info": "·",
}

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;--line:#d0d7de;
--grid:#eaeef2;--bad:#cf222e;--good:#1a7f37;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;
--line:#30363d;--grid:#262c34;--bad:#ff7b72;--good:#3fb950;--warn:#d29922}}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:var(--fg);background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
header.verdict{padding:16px 20px;border-radius:8px;margin:16px 0;color:#fff}
.state-pass{background:#1a7f37}.state-regression,.state-slo-failure{background:#cf222e}
.state-inconclusive{background:#9a6700}.state-error{background:#6e7781}
header h1{margin:0 0 6px;font-size:24px}header ul{margin:4px 0 0 18px;padding:0}
header .meta{opacity:.9;font-size:12px;margin-top:8px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 18px;margin:16px 0}
h2{font-size:18px;margin:4px 0 10px}h3{font-size:15px;margin:14px 0 6px}
p.note{color:var(--muted);font-size:12px;margin:2px 0 8px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{border-bottom:1px solid var(--grid);padding:4px 8px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;white-space:normal;word-break:break-all}
th{background:var(--bg)}tr.total td{font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:12px}
svg.chart{background:var(--card);border:1px solid var(--grid);border-radius:6px;max-width:100%;height:auto}
svg .grid{stroke:var(--grid)}svg .frame{fill:none;stroke:var(--line)}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}svg .ytick{text-anchor:end}
svg .xtick{text-anchor:middle}svg .xlabel{text-anchor:end}svg .ylabel{text-anchor:middle}
svg .chart-title{font-weight:600;fill:var(--fg);font-size:12px}svg .legend{fill:var(--fg)}
svg .ci,svg .estimate{stroke:var(--fg)}svg .zero{stroke:var(--muted)}
.st-fail,.st-regression{color:var(--bad);font-weight:600}.st-pass,.st-improvement,.st-faster{color:var(--good)}
.st-inconclusive,.st-insufficient,.st-slower,.st-unresolved,.st-slightly-slower{color:var(--warn)}
ul.issues li.failure{color:var(--bad)}ul.issues li.error{color:var(--muted);font-weight:600}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;font-size:13px}
dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;word-break:break-all}
a{color:inherit}
@media print{:root{--fg:#000;--muted:#333;--bg:#fff;--card:#fff;--line:#bbb;--grid:#ddd}
body{background:#fff;font-size:11px}main{max-width:none;padding:0}
section,svg.chart{break-inside:avoid}header.verdict{print-color-adjust:exact;-webkit-print-color-adjust:exact}}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(headers: list[str], rows: list[tuple[str, list[str]]], cls: str = "") -> str:
    """Headers and cells must already be escaped HTML; rows carry a row class."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        f'<tr class="{rc}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>"
        for rc, cells in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _marker(state: str | None) -> str:
    if state is None:
        return ""
    # Plain symbols: emoji fonts are often missing where artifacts are opened.
    _, label = MARKERS.get(state, ("", state))
    return f'<span class="st-{_e(state)}">{_e(_SYMBOLS.get(state, "•"))} {_e(label)}</span>'


def _endpoint_rows(rows: list[EndpointRow]) -> str:
    marked = any(r.marker for r in rows)
    headers = ["Endpoint", "Requests", "req/s", "Errors", "p50 (ms)", "p95 (ms)", "p99 (ms)"]
    if marked:
        headers.append("vs base")
    body = []
    for r in rows:
        cells = [_e(r.endpoint), fmt_count(r.requests), fmt_rps(r.rps), fmt_rate(r.error_rate)]
        cells += [fmt_ms(r.p50), fmt_ms(r.p95), fmt_ms(r.p99)]
        if marked:
            cells.append(_marker(r.marker))
        body.append(("total" if r.is_total else "", cells))
    return _table(headers, body, "endpoints")


def _interval_header(rows: list[ComparisonRow]) -> str:
    methods = {c.method for c in rows if c.ci_low is not None}
    if methods == {"history"}:
        return "History band (95%)"
    return "95% interval / band" if "history" in methods else "95% CI"


def _comparisons(rows: list[ComparisonRow]) -> str:
    headers = [
        "Metric",
        "Gate",
        "Base",
        "Candidate",
        "Change",
        _e(_interval_header(rows)),
        "p (Holm)",
        "Result",
    ]
    body = []
    for c in rows:
        interval = fmt_interval(c.ci_low, c.ci_high, c.unit)
        if c.method == "history" and interval != "–":
            interval += " band"
        body.append(
            (
                "",
                [
                    f'<span title="{_e(c.metric)}">{_e(c.label)}</span>'
                    + (f"<br><small>{_e(c.detail)}</small>" if c.detail else ""),
                    _e(c.family),
                    _e(fmt_value(c.base, c.unit)),
                    _e(fmt_value(c.candidate, c.unit)),
                    _e(fmt_change(c.change, c.unit)),
                    _e(interval),
                    "–" if c.p_shown is None else f"{c.p_shown:.3g}",
                    _marker(c.display_state),
                ],
            )
        )
    return _table(headers, body, "comparisons")


def _bench(rows: list[BenchRow]) -> str:
    headers = [
        "Operation",
        "Samples",
        "Failed",
        "Outliers",
        "Min",
        "Max",
        "Mean",
        "Median",
        "P95",
        "P99",
    ]
    body = []
    for b in rows:
        if b.skipped_reason:
            body.append(
                (
                    "",
                    [
                        _e(b.operation),
                        f'<span class="st-inconclusive">skipped: {_e(b.skipped_reason)}</span>',
                    ]
                    + [""] * 8,
                )
            )
            continue
        stats = [f"{fmt_ms(v)} ms" for v in (b.min, b.max, b.mean, b.median, b.p95, b.p99)]
        body.append(
            ("", [_e(b.operation), fmt_count(b.samples), str(b.failed), str(b.outliers), *stats])
        )
    out = _table(headers, body, "bench")
    failures = [f for b in rows for f in b.budget_failures]
    if failures:
        out += (
            "<h3>Budget failures</h3><ul>"
            + "".join(f'<li class="st-fail">{_e(f)}</li>' for f in failures)
            + "</ul>"
        )
    return out


def _checks(rows: list[CheckRow]) -> str:
    headers = ["Check", "Scope", "Status", "Measured", "Threshold", "Detail"]
    body = [
        (
            "",
            [
                _e(c.name) + (f"<br><small>{_e(c.criterion)}</small>" if c.criterion else ""),
                _e(c.scope),
                f'<span class="st-{_e(c.status)}">{_e(c.status)}</span>',
                _e(fmt_value(c.measured, c.unit)),
                _e(fmt_value(c.threshold, c.unit)),
                _e(c.detail),
            ],
        )
        for c in rows
    ]
    return _table(headers, body, "checks")


def _charts(charts: list[Chart]) -> str:
    drawn = [svg_line_chart(c) for c in charts if c.has_data]
    return f'<div class="charts">{"".join(drawn)}</div>' if drawn else ""


def _strip_rows(s: SuiteSection) -> list[StripRow]:
    assert s.ab is not None
    rows = []
    for c in s.comparisons:
        pr = s.ab.pair_ratios.get(c.metric)
        if not c.gated or pr is None or not pr.ratios:
            continue
        rows.append(
            StripRow(
                c.label,
                pr.ratios,
                c.change,
                c.ci_low,
                c.ci_high,
                c.min_effect if c.min_effect is not None else 0.05,
                c.display_state,
            )
        )
    return rows


def _ab_pictures(s: SuiteSection) -> str:
    """The A/B's own pictures: the decision, the rounds over time, the distributions."""
    ab = s.ab
    if ab is None:
        return ""
    out = []
    strip = _strip_rows(s)
    if strip:
        out.append(
            "<h3>The decision, pair by pair</h3>"
            '<p class="note">A regression needs the whole 95% interval past +δ; an '
            "improvement, past −δ.</p>" + svg_strip_plot(strip)
        )
    if ab.arms:
        spans, warm = ab.spans, ab.warmup
        charts = [
            svg_arm_chart(
                "ab-latency",
                "Latency percentiles per round, per arm",
                "ms",
                arm_series_lines(ab.arms, ("p50", "p95", "p99")),
                spans,
                warm,
            ),
            svg_arm_chart(
                "ab-throughput",
                "Throughput per round, per arm",
                "req/s",
                arm_series_lines(ab.arms, ("rps",)),
                spans,
                warm,
            ),
            svg_arm_chart(
                "ab-errors",
                "Errors per round, per arm",
                "failed requests/s",
                arm_series_lines(ab.arms, ("errors",)),
                spans,
                warm,
            ),
            svg_arm_chart(
                "ab-lag",
                "Scheduler lag p99 per round, per arm",
                "ms",
                arm_series_lines(ab.arms, ("lag_p99",)),
                spans,
                warm,
            ),
        ]
        dropped = f"; {ab.pairs_dropped} pairs dropped (faint)" if ab.pairs_dropped else ""
        out.append(
            "<h3>Rounds over time</h3>"
            f'<p class="note">Each shaded band is one round, in its arm\'s colour; grey: the '
            f"warm-up{_e(dropped)}.</p>" + f'<div class="charts">{"".join(charts)}</div>'
        )
    if ab.distributions:
        moved = {c.endpoint for c in s.comparisons if c.moved and c.endpoint}
        shown = [ab.distributions[0]] + [d for d in ab.distributions[1:] if d.title in moved]
        note = "" if ab.kept_rounds == "kept" else " (every round: no pair was kept)"
        out.append(
            f"<h3>Latency distribution, base vs candidate{note}</h3>"
            + '<div class="charts">'
            + "".join(
                svg_ecdf(d, "ecdf" if i == 0 else "ecdf-endpoint") for i, d in enumerate(shown)
            )
            + "</div>"
        )
    return "".join(out)


def _history_pictures(s: SuiteSection) -> str:
    charts = []
    for c in s.comparisons:
        if c.method != "history" or not c.gated or not c.history:
            continue
        band = None
        if (
            c.base is not None
            and c.ci_low is not None
            and c.ci_high is not None
            and c.unit != "ratio"
        ):
            band = (c.base * (1 + c.ci_low), c.base * (1 + c.ci_high))
        charts.append(
            svg_history(c.label, c.unit, c.history, c.candidate, band, c.base, c.display_state)
        )
    if not charts:
        return ""
    return "<h3>Against history</h3>" + f'<div class="charts">{"".join(charts)}</div>'


def _suite(s: SuiteSection) -> str:
    kind = "A/B" if s.kind == "ab" else s.kind
    out = [f'<section class="suite" id="suite-{_e(s.name)}"><h2>{_e(s.name)} <small>· {_e(kind)}']
    if s.real_duration_s:
        out.append(f" · {s.real_duration_s:.1f} s")
        if s.wall_s and s.duration_s:
            out.append(f" ({s.duration_s:.1f} s measured per arm)")
    out.append("</small></h2>")
    if s.source:
        out.append(f"<p><small>source: {_e(s.source)}</small></p>")
    out.extend(f'<p class="st-fail">Error: {_e(e)}</p>' for e in s.errors)
    if s.nothing_answered:
        out.append(f'<p class="st-fail">Nothing answered: {_e(s.nothing_answered)}</p>')
    if s.interrupted:
        out.append('<p class="st-inconclusive">Interrupted: the figures are partial.</p>')
    out.append(_charts(s.charts))
    out.append(_ab_pictures(s))
    out.append(_history_pictures(s))
    if s.stress is not None:
        st = s.stress
        out.append(
            "<h3>Where it broke, and whether it came back</h3>"
            + svg_rate_latency(
                st.points,
                break_at_s=st.break_at_s,
                break_rate=st.break_rate,
                sustained_rate=st.sustained_rate,
                drop_at_s=st.drop_at_s,
                recovered_at_s=st.recovered_at_s,
            )
        )
    rows = ([s.total] if s.total else []) + s.endpoints
    if rows:
        out.append("<h3>Endpoints</h3>" + _endpoint_rows(rows))
    if s.failures:
        out.append(f"<p><small>Errors: {_e(s.failures)}</small></p>")
    if s.status_shifts:
        shifts = "".join(f"<li>status mix moved: {_e(t)}</li>" for t in s.status_shifts)
        out.append(f"<ul>{shifts}</ul>")
    judged = [c for c in s.comparisons if c.state != "insufficient"]
    short = [c for c in s.comparisons if c.state == "insufficient"]
    if judged:
        out.append("<h3>Against the baseline</h3>" + _comparisons(judged))
    if short:
        out.append(
            f"<details><summary>Too little data to compare: {len(short)} metrics</summary>"
            + _comparisons(short)
            + "</details>"
        )
    if s.bench:
        out.append("<h3>Benchmarks</h3>" + _bench(s.bench))
    if s.checks:
        out.append("<h3>Checks</h3>" + _checks(s.checks))
    if s.warnings:
        out.append("<ul>" + "".join(f"<li>⚠️ {_e(w)}</li>" for w in s.warnings) + "</ul>")
    out.append("</section>")
    return "".join(out)


def _arm_process(report: Report) -> str:
    """Each arm's target RSS and CPU on one clock: two labelled lines per chart."""
    spans = [sp for s in report.suites if s.ab is not None for sp in s.ab.spans]
    mem = {
        arm: {"RSS": ([r[0] for r in rows], [r[1] for r in rows])}
        for arm, rows in report.arm_process.items()
    }
    cpu = {
        arm: {"CPU": ([r[0] for r in rows], [r[2] for r in rows])}
        for arm, rows in report.arm_process.items()
    }
    for lines in (mem, cpu):
        for arm in lines:
            lines[arm] = {"": next(iter(lines[arm].values()))}
    return (
        '<div class="charts">'
        + svg_arm_chart("ab-memory", "Target memory (RSS), per arm", "MB", mem, spans)
        + svg_arm_chart("ab-cpu", "Target CPU, per arm", "% of one core", cpu, spans)
        + "</div>"
    )


def _kv(rows: list[tuple[str, str]]) -> str:
    return (
        '<dl class="kv">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows) + "</dl>"
    )


def _link(label: str, url: str) -> str:
    if url.startswith(("https://", "http://")):
        return f'<li>{_e(label)}: <a href="{_e(url)}" rel="noopener noreferrer">{_e(url)}</a></li>'
    return f"<li>{_e(label)}: {_e(url)}</li>"


def report_html(report: Report) -> str:
    """Render a built report as one HTML document."""
    h = report.headline
    meta = [f"run {report.run_id}", report.created_at]
    if report.commit:
        meta.append(f"commit {report.commit[:12]}")
    if report.branch:
        meta.append(f"branch {report.branch}")
    if report.base:
        meta.append(f"base {report.base}")
    if report.pr is not None:
        meta.append(f"PR {report.pr}")
    if report.verdict_mode != "none":
        meta.append(f"mode {report.verdict_mode}")
    reasons = "".join(f"<li>{_e(r)}</li>" for r in h.reasons)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)} · {_e(h.label)}</title><style>{_CSS}</style></head><body><main>",
        f'<header class="verdict state-{_e(h.state)}" id="verdict"><h1>{_e(h.label)}</h1>',
        f"<ul>{reasons}</ul>" if reasons else "",
        "" if h.from_gate else "<p>Derived from the run's own checks; no gate verdict.</p>",
        f'<div class="meta">{_e(" · ".join(m for m in meta if m))}</div></header>',
    ]
    if report.issues:
        items = "".join(f'<li class="{_e(i.severity)}">{_e(i.text)}</li>' for i in report.issues)
        parts.append(
            f'<section id="issues"><h2>Issues discovered</h2><ul class="issues">{items}</ul></section>'
        )
    if report.arm_process:
        parts.append(
            f'<section id="target"><h2>Target process, per arm</h2>{_arm_process(report)}</section>'
        )
    elif report.charts:
        parts.append(
            f'<section id="target"><h2>Target process</h2>{_charts(report.charts)}</section>'
        )
    parts.extend(_suite(s) for s in report.suites)
    if report.other_comparisons:
        parts.append(
            f"<section><h2>Other comparisons</h2>{_comparisons(report.other_comparisons)}</section>"
        )
    if report.checks:
        parts.append(f'<section id="checks"><h2>Checks</h2>{_checks(report.checks)}</section>')
    parts.append('<section id="info"><h2>Environment and parameters</h2>')
    parts.append("<h3>System configuration</h3>" + _kv(report.environment))
    parts.append("<h3>Test parameters</h3>" + _kv(report.parameters))
    if report.links:
        parts.append("<h3>Links</h3><ul>" + "".join(_link(k, v) for k, v in report.links) + "</ul>")
    parts.append("</section></main></body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def render_html(
    run: RunResult,
    verdict: Verdict | None = None,
    baseline: RunResult | None = None,
    *,
    run_url: str | None = None,
    title: str = "perfgate report",
) -> str:
    """The self-contained HTML report for one run."""
    return report_html(build_report(run, verdict, baseline, title=title, run_url=run_url))
