"""A regression outside the primary family cannot fail the gate, and no report says it did."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import report_fixtures as fx
from perfgate.gate import verdict_text
from perfgate.report import render_html, render_junit, render_markdown
from perfgate.verdict import MetricComparison, Verdict, shown_state

_INFO_METRIC = "endpoint:GET /api/bounties/{id} total.median"


def _pass_with_info_regression() -> Verdict:
    slower = MetricComparison(
        "api-load",
        _INFO_METRIC,
        "ms",
        family="info",
        base=2.0,
        candidate=2.3,
        change=0.15,
        ci_low=0.09,
        ci_high=0.2,
        samples=12,
        state="regression",
        method="ab",
    )
    steady = MetricComparison(
        "api-load",
        "total.p50",
        "ms",
        family="primary",
        base=3.0,
        candidate=3.01,
        change=0.003,
        ci_low=-0.01,
        ci_high=0.02,
        samples=12,
        state="within-noise",
        method="ab",
    )
    return Verdict(state="pass", mode="ab", comparisons=[steady, slower])


def test_shown_state() -> None:
    assert shown_state("regression", "primary") == "regression"
    assert shown_state("regression", "info") == "slower"
    assert shown_state("improvement", "info") == "improvement"


def test_console_marks_it_slower_not_regression() -> None:
    verdict = _pass_with_info_regression()
    quiet = MetricComparison("api-load", "total.p99", "ms", family="info", state="within-noise")
    verdict.comparisons.append(quiet)
    text = verdict_text(verdict)
    assert "(1 more metrics shown as information in the report)" in text
    line = next(ln for ln in text.splitlines() if _INFO_METRIC in ln)
    assert "slower (info, not gating)" in line and "REGRESSION" not in text
    assert text.startswith("perfgate verdict: PASS")


def test_markdown_and_html_mark_it_slower_and_list_no_failure() -> None:
    verdict = _pass_with_info_regression()
    md = render_markdown(fx.candidate_run(), verdict)
    row = next(ln for ln in md.splitlines() if "/api/bounties/" in ln and "total.median" in ln)
    assert "🟠 slower (info, not gating)" in row
    assert "🔴" not in md and f"regression: api-load {_INFO_METRIC}" not in md
    doc = render_html(fx.candidate_run(), verdict)
    assert 'class="st-slower"' in doc and 'class="st-regression"' not in doc


def test_junit_keeps_it_out_of_the_failures() -> None:
    xml = render_junit(fx.candidate_run(), _pass_with_info_regression())
    cases = {tc.get("name"): tc for tc in ET.fromstring(xml).iter("testcase")}
    case = cases[_INFO_METRIC]
    assert case.find("failure") is None
    system_out = ET.tostring(case, encoding="unicode")
    assert "slower" in system_out
