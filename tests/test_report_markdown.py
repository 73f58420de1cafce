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
from perfgate.result import RunResult

GOLDEN = Path(__file__).parent / "golden"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PERFGATE_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path}; run with PERFGATE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


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
    row = next(line for line in _table_rows("\n".join(lines)) if line.startswith("| total.p50 "))
    assert "| primary |" in row and "🟡 possible regression (undecided)" in row
