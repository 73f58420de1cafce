"""Markdown report: golden files, escaping, the size limit, charts.

Regenerate the goldens after an intended change with
``PERFGATE_UPDATE_GOLDEN=1 pytest tests/test_report_markdown.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import report_fixtures as fx
from perfgate.report import GITHUB_COMMENT_LIMIT, render_markdown
from perfgate.report.markdown import COMPACT_MAX_LINES
from perfgate.result import Check, RunResult
from perfgate.verdict import MetricComparison, Verdict

GOLDEN = Path(__file__).parent / "golden"


_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")


def structure(text: str) -> list[str]:
    """The markdown's structure and cells, not its padding (tabulate versions pad differently).

    Table rows become their stripped cells joined by " | " (escaped pipes stay
    inside their cell); separator rows become "---"; other lines keep their
    words with runs of blanks collapsed.
    """
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("|"):
            if _SEPARATOR.match(s):
                out.append("---")
                continue
            cells = re.split(r"(?<!\\)\|", s.strip("|"))
            out.append(" | ".join(c.strip() for c in cells))
        else:
            out.append(" ".join(s.split()))
    return out


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PERFGATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path}; run with PERFGATE_UPDATE_GOLDEN=1"
    assert structure(text) == structure(path.read_text(encoding="utf-8")), (
        f"{name} differs from its golden file"
    )


def test_structure_ignores_padding_only() -> None:
    a = "| A   | B |\n|-----|---|\n| x\\|y | 1 |\n"
    b = "| A | B   |\n|---|-----|\n| x\\|y   |   1 |\n"
    assert structure(a) == structure(b) == ["A | B", "---", "x\\|y | 1"]
    assert structure(a) != structure(a.replace("1", "2"))


def _ab(verdict: Verdict) -> str:
    return render_markdown(fx.ab_run(), verdict, run_url="https://github.com/o/r/actions/runs/1")


def test_golden_ab_pass_with_nothing_moved_is_a_few_lines() -> None:
    text = _ab(fx.ab_pass_verdict())
    _check_golden("ab_pass.md", text)
    lines = text.splitlines()
    assert len(lines) <= COMPACT_MAX_LINES
    assert lines[1] == (
        "### ✅ Pass — nothing moved — 6 primary metrics within noise; 4 checks passed"
    )
    assert "[📊 full report](https://github.com/o/r/actions/runs/1)" in lines[3]
    assert "xychart-beta" not in text and "Environment" not in text


def test_golden_ab_regression_on_one_route() -> None:
    text = _ab(fx.ab_regression_verdict())
    _check_golden("ab_regression.md", text)
    assert len(text) < 20_000
    lines = text.splitlines()
    assert lines[1].startswith("### ❌ Regression — api-load: endpoint:GET /api/bounties total.p50")
    # One table of what moved and the primary family, before any <details>.
    first_details = next(i for i, ln in enumerate(lines) if ln.startswith("<details>"))
    rows = [ln for ln in lines[:first_details] if ln.startswith("| ")]
    assert "🔴 regression" in rows[1] and "GET /api/bounties total.p50" in rows[1]
    assert sum("⚪ within noise" in r for r in rows) == 5  # the rest of the primary family
    # The deciding metric's per-pair ratios as a Mermaid chart, with the δ line.
    chart = text[text.index("```mermaid") : text.index("```", text.index("xychart"))]
    assert "candidate / base per round pair" in chart and "line [1.0500" in chart
    assert chart.count("bar [") == 1 and chart.split("bar [")[1].split("]")[0].count(",") == 11
    # Everything else collapsed, with counts in the summaries; each check once.
    summaries = re.findall(r"<summary>(.*?)</summary>", text)
    assert summaries == [
        "Other metrics: 3 · 0 moved",
        "Too little data: 3 metrics",
        "Suites: api-load, api-bench (endpoints, benchmarks)",
        "Checks: 4 passed",
        "Environment, parameters and links",
    ]
    checks = text[text.index("<summary>Checks") :]
    assert checks.count("load total p95 &lt; 200 ms") == 1
    # Sources relative, the real A/B duration, no p(Holm) of 1 beside an improvement.
    assert "/home/runner" not in text and "`…/perf/artillery-load-test.yml`" in text
    assert "#### api-load · A/B · 59 s" in text


def test_golden_ab_inconclusive() -> None:
    text = _ab(fx.ab_inconclusive_verdict())
    _check_golden("ab_inconclusive.md", text)
    lines = text.splitlines()
    assert lines[1].startswith("### ⚠️ Inconclusive — possible regression, undecided")
    assert (
        "**What moved:** 1 possible regression · gated: 6 metrics (core and secondary families)"
        in text
    )
    assert "🟡 possible regression (undecided)" in text
    assert "xychart-beta" in text


def test_improvements_do_not_read_within_noise() -> None:
    verdict = fx.ab_pass_verdict()
    cpu = next(c for c in verdict.comparisons if c.metric == "cpu_ms_per_request")
    cpu.change, cpu.ci_low, cpu.ci_high = -0.063, -0.087, -0.043  # surely faster, under δ
    faster = next(c for c in verdict.comparisons if c.metric == "total.p95")
    faster.change, faster.ci_low, faster.ci_high, faster.state = -0.2, -0.25, -0.15, "improvement"
    faster.p_adjusted = 1.0
    text = _ab(verdict)
    row = next(ln for ln in text.splitlines() if ln.startswith("| ") and "cpu\\_ms" in ln)
    assert "🔹 faster, short of an improvement" in row and "within noise" not in row
    row = next(ln for ln in text.splitlines() if ln.startswith("| ") and "total.p95" in ln)
    assert "🟢 improvement" in row and row.rstrip(" |").endswith("–")  # no p(Holm) = 1
    # The headline counts what the rows say.
    assert "1 improved, 1 faster short of an improvement, 4 within noise" in text.splitlines()[1]


def test_history_band_is_not_called_a_confidence_interval() -> None:
    verdict = fx.pass_verdict()
    verdict.state = "regression"
    verdict.comparisons = [
        MetricComparison(
            "api-load", "total.p95", "ms", "primary", base=10.0, candidate=311.8, change=30.18,
            ci_low=-0.189, ci_high=0.233, state="regression", method="history",
        )
    ]  # fmt: skip
    verdict.details["history"] = {
        "api-load\ttotal.p95": [[f"2025-11-2{i}T10:00:00+00:00", 9.5 + i * 0.3] for i in range(5)]
    }
    text = render_markdown(fx.candidate_run(), verdict)
    header = next(ln for ln in text.splitlines() if ln.startswith("|") and "Metric" in ln)
    assert "History band (95%)" in header and "CI" not in header
    assert "[-18.9%, +23.3%] band" in text
    # The deciding metric's history and this run, with the band, as a Mermaid chart.
    chart = text[text.index("```mermaid") : text.index("```", text.index("xychart"))]
    assert 'x-axis [1, 2, 3, 4, 5, "this run"]' in chart
    assert "bar [9.5, 9.8, 10.1, 10.4, 10.7, 311.8]" in chart
    assert "line [8.11, " in chart and "line [12.33, " in chart


def test_long_url_templates_are_shortened() -> None:
    from perfgate.report._format import short_endpoint

    name = "http://127.0.0.1:8080/api/bounties/{{ $randomNumber(1, 900) }}/comments?" + "&".join(
        f"field{i}={{{{ v{i} }}}}" for i in range(20)
    )
    short = short_endpoint(name)
    assert len(short) <= 56 and short.startswith("/api/bounties/{…}/comments?")
    assert "…" in short and "127.0.0.1" not in short
    assert short_endpoint("GET /users/{{ id }}") == "GET /users/{id}"


def test_golden_regression_with_charts() -> None:
    text = render_markdown(
        fx.candidate_run(), fx.regression_verdict(), run_url="https://github.com/o/r/actions/runs/1"
    )
    _check_golden("report_regression.md", text)


def test_golden_pass_without_charts() -> None:
    run = fx.candidate_run()
    run.suites = [fx.load_suite()]
    _check_golden("report_pass.md", render_markdown(run, fx.pass_verdict(), charts=False))


def test_golden_baseline_deltas_without_verdict() -> None:
    text = render_markdown(fx.candidate_run(), baseline=fx.baseline_run(), charts=False)
    _check_golden("report_baseline.md", text)


def test_verdict_line_comes_first_with_two_reasons() -> None:
    lines = render_markdown(
        fx.candidate_run(), fx.regression_verdict(), marker="<!-- m -->"
    ).splitlines()
    assert lines[0] == "<!-- m -->"
    assert lines[1].startswith("### ❌ Regression — ")
    assert "cpu" in lines[1] and "and 1 more" in lines[1]
    assert "Create payment intent p95 over budget" not in lines[1]


@pytest.mark.parametrize(
    ("state", "headline"),
    [("pass", "✅ Pass"), ("slo-failure", "❌ SLO failure"), ("inconclusive", "⚠️ Inconclusive")],
)
def test_verdict_states(state: str, headline: str) -> None:
    verdict = fx.pass_verdict()
    verdict.state = state  # type: ignore[assignment]
    assert (
        render_markdown(fx.candidate_run(), verdict).splitlines()[1].startswith(f"### {headline}")
    )


def test_no_verdict_derives_from_checks() -> None:
    run = fx.candidate_run()
    run.checks[0].status = "fail"
    assert render_markdown(run).splitlines()[1].startswith("### ❌ SLO failure — no crashes failed")


def _table_rows(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("|")]


def test_untrusted_text_is_escaped() -> None:
    run = fx.candidate_run()
    run.environment["evil"] = "<img src=x onerror=alert(1)> | @everyone"
    text = render_markdown(run, fx.regression_verdict())
    assert "<script>" not in text and "<img" not in text
    assert "@everyone" not in text and "@admin" not in text
    assert "](http://evil)" not in text
    # Every row of a table has the same number of unescaped cell separators.
    blocks = re.split(r"\n(?!\|)", text)
    for block in blocks:
        rows = _table_rows(block)
        if rows:
            counts = {len(re.findall(r"(?<!\\)\|", r)) for r in rows}
            assert len(counts) == 1, rows


def test_sub_millisecond_precision_and_benchmark_table() -> None:
    text = render_markdown(fx.candidate_run(), charts=False)
    assert "| Operation" in text and "| Samples" in text and "P99" in text
    assert re.search(r"\| GET /health +\| 1,200 +\| 20\.0 +\| 0% +\| 0\.\d\d ", text)
    assert "Budget failures" in text and "Create payment intent: p95" in text
    assert "setup step 'login' failed" in text


def test_mermaid_charts_downsampled() -> None:
    run = fx.candidate_run()
    suite = run.suites[0]
    suite.series = [
        {"t": float(i), "rps": 10.0 + i % 3, "p50": 1.0, "p95": 2.0, "p99": 3.0 + i}
        for i in range(500)
    ]
    text = render_markdown(run)
    assert "xychart-beta" in text
    for line in text.splitlines():
        if line.strip().startswith(("line [", "x-axis")):
            inner = line[line.index("[") + 1 : line.rindex("]")]
            assert len(inner.split(",")) <= 60
    # The spike at the end survives downsampling (latency takes the bucket maximum).
    assert "502" in text


def _big_run(endpoints: int) -> RunResult:
    run = fx.candidate_run()
    run.suites = [fx.load_suite(endpoints=endpoints)]
    run.environment.update({f"key{i}": "x" * 200 for i in range(200)})
    return run


def test_fits_github_limit_by_trimming() -> None:
    run = _big_run(1500)
    full = render_markdown(run, max_chars=10**9)
    assert len(full) > GITHUB_COMMENT_LIMIT
    text = render_markdown(run)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "✂️ Trimmed to fit 65,536 characters" in text
    assert "more endpoints not shown" in text
    assert text.splitlines()[1].startswith("### ")


@pytest.mark.parametrize("limit", [0, 10, 150, 2_000, 20_000])
def test_never_fails_at_any_limit(limit: int) -> None:
    text = render_markdown(_big_run(200), fx.regression_verdict(), max_chars=limit)
    assert len(text) <= limit


def test_trims_charts_first() -> None:
    run = fx.candidate_run()
    full = render_markdown(run)
    without_charts = render_markdown(run, charts=False)
    text = render_markdown(run, max_chars=len(without_charts) + 200)
    assert len(full) > len(text)
    assert "xychart-beta" not in text and "charts omitted" in text
    assert "**Environment**" in text  # info rows kept while charts alone suffice


def test_an_unresolved_metric_reads_as_a_possible_regression() -> None:
    import math

    from perfgate.gate import decide
    from perfgate.gate.compare import apply_holm, paired_comparison

    # every pair ~6% slower: surely slower, but the interval straddles 5%
    ratios = [0.06 + x / 1000 for x in (-30, -20, -15, -10, -5, 0, 0, 5, 10, 15, 20, 30)]
    base = [2.5] * len(ratios)
    comp = paired_comparison(
        "api-load",
        "total.p50",
        "ms",
        base,
        [b * math.exp(d) for b, d in zip(base, ratios, strict=True)],
        min_effect=0.05,
        family="primary",
    )
    apply_holm([comp])
    lines = render_markdown(fx.candidate_run(), decide("ab", [comp], [])).splitlines()
    assert lines[1].startswith(
        "### ⚠️ Inconclusive — possible regression, undecided in 12 round pairs: "
        "api-load: total.p50 +6.2%"
    )
    row = next(line for line in _table_rows("\n".join(lines)) if "| total.p50 " in line)
    assert row.startswith("| 🟡 possible regression (undecided) |")


def test_each_check_once_and_counts_match_the_rows() -> None:
    run = fx.ab_run()
    verdict = fx.ab_regression_verdict()
    budget = Check("Health check: p95", "pass", 0.47, 10.0, "ms", suite="api-bench")
    run.suites[1].checks.append(budget)
    verdict.slo_checks.append(budget)  # the gate lists the suites' checks again
    text = _ab(verdict)
    assert text.count("Health check: p95") == 1
    assert "<summary>Checks: 5 passed</summary>" in text
    body = text[
        text.index("<summary>Checks") : text.index("</details>", text.index("<summary>Checks"))
    ]
    assert len([ln for ln in body.splitlines() if ln.startswith("| ")]) == 1 + 5  # header + rows


def test_report_link_only_for_a_plain_url() -> None:
    text = render_markdown(fx.ab_run(), fx.ab_pass_verdict(), run_url="https://x/y)[z](http://evil")
    assert "full report" not in text.splitlines()[3]


def test_the_record_keeps_every_table_even_on_a_quiet_pass(tmp_path: Path) -> None:
    from perfgate.report._directory import write_report_directory

    files = write_report_directory(fx.ab_run(), fx.ab_pass_verdict(), root=tmp_path)
    text = files.markdown.read_text(encoding="utf-8")
    assert "<summary>Suites: api-load, api-bench (endpoints, benchmarks)</summary>" in text
    assert "| GET /api/bounties | 900 |" in text and "**Environment**" in text


def test_survives_the_fork_safe_sanitiser_unchanged() -> None:
    """The fork-safe comment workflow escapes HTML other than <details>/<summary>/<br>."""
    from perfgate.github import sanitize_untrusted_markdown

    for verdict in (fx.ab_pass_verdict(), fx.ab_regression_verdict(), fx.ab_inconclusive_verdict()):
        text = render_markdown(
            fx.ab_run(), verdict, run_url="https://github.com/o/r/actions/runs/1", marker=""
        )
        assert sanitize_untrusted_markdown(text) == text


def test_a_shortened_endpoint_keeps_its_marker() -> None:
    long_name = "http://127.0.0.1:8080/api/bounties/{{ $randomString() }}?" + "x=1&" * 20
    run = fx.ab_run()
    agg = run.suites[0].aggregate
    from perfgate.metrics import names

    for _ in range(60):
        agg.observe(names.endpoint_total(long_name), 5.0)
        agg.incr(names.endpoint_codes(long_name, 200))
    verdict = fx.ab_regression_verdict()
    verdict.comparisons.append(
        MetricComparison(
            "api-load", f"endpoint:{long_name} total.p50", "ms", "info", base=1.0, candidate=5.0,
            change=4.0, ci_low=3.0, ci_high=5.0, state="regression", method="ab",
        )
    )  # fmt: skip
    text = render_markdown(run, verdict)
    suites = text[text.index("<summary>Suites") :]
    row = next(ln for ln in suites.splitlines() if ln.startswith("| /api/bounties/"))
    assert "127.0.0.1" not in row and row.rstrip(" |").endswith("🟠 slower (info, not gating)")
