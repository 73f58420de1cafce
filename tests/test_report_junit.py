"""JUnit XML: parsed back, every verdict a testcase with the right outcome."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import report_fixtures as fx
from perfgate.report import render_junit


def _cases(xml: str) -> dict[tuple[str, str], ET.Element]:
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    return {(tc.get("classname", ""), tc.get("name", "")): tc for tc in root.iter("testcase")}


def _outcome(tc: ET.Element) -> str:
    for kind in ("failure", "error", "skipped"):
        if tc.find(kind) is not None:
            return kind
    return "pass"


def test_regression_run_parses_back() -> None:
    xml = render_junit(fx.candidate_run(), fx.regression_verdict())
    root = ET.fromstring(xml)
    cases = _cases(xml)
    assert _outcome(cases[("perfgate.gate", "verdict")]) == "failure"
    assert (
        _outcome(
            cases[("perfgate.comparisons.api-load", "endpoint:GET /api/bounties total.median")]
        )
        == "failure"
    )
    assert (
        _outcome(cases[("perfgate.comparisons.api-load", "endpoint:GET /health total.median")])
        == "skipped"
    )
    assert _outcome(cases[("perfgate.comparisons.api-load", "total.p95")]) == "pass"
    assert _outcome(cases[("perfgate.checks.run", "memory slope")]) == "skipped"
    assert _outcome(cases[("perfgate.checks.api-load", "p95 < 200 ms")]) == "pass"
    assert (
        _outcome(cases[("perfgate.bench.api-bench", "Create payment intent p95 < 200 ms")])
        == "failure"
    )
    assert _outcome(cases[("perfgate.bench.api-bench", "Health check p95 < 10.0 ms")]) == "pass"
    failure = cases[
        ("perfgate.comparisons.api-load", "endpoint:GET /api/bounties total.median")
    ].find("failure")
    assert failure is not None and "+11.2%" in (failure.get("message") or "")
    # Totals agree with the cases.
    total = len(cases)
    failures = sum(_outcome(c) == "failure" for c in cases.values())
    assert root.get("tests") == str(total) and root.get("failures") == str(failures)
    assert failures == 5


def test_untrusted_names_survive_as_text() -> None:
    run = fx.candidate_run()
    run.checks[0].name = 'weird \x01 <name> & "quotes"'
    xml = render_junit(run, fx.regression_verdict())
    cases = _cases(xml)  # parses: control characters stripped, markup escaped
    assert ("perfgate.checks.run", 'weird  <name> & "quotes"') in cases
    assert any(fx.EVIL_ENDPOINT in name for _, name in cases)


def test_pass_without_verdict_has_no_failures() -> None:
    run = fx.candidate_run()
    run.suites = [fx.load_suite()]
    run.checks = []
    root = ET.fromstring(render_junit(run))
    assert root.get("failures") == "0" and root.get("errors") == "0"
    assert _outcome(_cases(render_junit(run))[("perfgate.gate", "verdict")]) == "pass"


def test_suite_error_is_an_error_case() -> None:
    run = fx.candidate_run()
    run.suites[0].errors.append("target died: exit code -9")
    cases = _cases(render_junit(run))
    assert _outcome(cases[("perfgate.gate", "verdict")]) == "error"
    assert _outcome(cases[("perfgate.api-load", "suite error")]) == "error"


def test_a_possible_regression_is_skipped_not_passed() -> None:
    verdict = fx.regression_verdict()
    p95 = next(c for c in verdict.comparisons if c.metric == "total.p95")
    p95.state = "unresolved"
    cases = _cases(render_junit(fx.candidate_run(), verdict))
    assert _outcome(cases[("perfgate.comparisons.api-load", "total.p95")]) == "skipped"
