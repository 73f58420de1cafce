"""JUnit XML, so any CI shows the gate's verdicts as test cases.

One testsuite per kind of verdict: the gate itself, checks (SLOs, stress
criteria), comparisons with the baseline, benchmark budgets. A failed check,
a regression or a busted budget is a ``<failure>``; inconclusive,
unresolved (a possible regression) and insufficient results are
``<skipped>`` with the reason; the suite's fatal
errors are ``<error>``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from perfgate.report._format import fmt_change, fmt_interval, fmt_ms, fmt_value, strip_control
from perfgate.report._model import Report, build_report
from perfgate.result import RunResult
from perfgate.verdict import Verdict

__all__ = ["render_junit", "report_junit"]


@dataclass
class _Case:
    classname: str
    name: str
    outcome: str = "pass"  # pass | failure | skipped | error
    message: str = ""
    text: str = ""


@dataclass
class _Suite:
    name: str
    cases: list[_Case] = field(default_factory=list)


def _gate_suite(report: Report) -> _Suite:
    h = report.headline
    outcome = {"pass": "pass", "inconclusive": "skipped", "error": "error"}.get(h.state, "failure")
    case = _Case(
        "perfgate.gate",
        "verdict",
        outcome,
        f"{h.label}: " + "; ".join(h.reasons) if h.reasons else h.label,
    )
    suite = _Suite("perfgate.gate", [case])
    for s in report.suites:
        for e in s.errors:
            suite.cases.append(_Case(f"perfgate.{s.name}", "suite error", "error", e))
    return suite


def _checks_suite(report: Report) -> _Suite:
    suite = _Suite("perfgate.checks")
    for c in [*report.checks, *(c for s in report.suites for c in s.checks)]:
        outcome = {"fail": "failure", "inconclusive": "skipped", "skipped": "skipped"}.get(
            c.status, "pass"
        )
        figures = (
            f"measured {fmt_value(c.measured, c.unit)}, threshold {fmt_value(c.threshold, c.unit)}"
        )
        message = f"{c.name}: {c.status} ({figures})" + (f" — {c.detail}" if c.detail else "")
        suite.cases.append(
            _Case(f"perfgate.checks.{c.scope}", c.name, outcome, message, c.criterion)
        )
    return suite


def _comparisons_suite(report: Report) -> _Suite:
    suite = _Suite("perfgate.comparisons")
    for c in report.comparisons:
        state = c.shown_state  # a non-gating regression is not a failure
        outcome = {"regression": "failure", "unresolved": "skipped", "insufficient": "skipped"}.get(
            state, "pass"
        )
        message = (
            f"{c.metric}: {state}; base {fmt_value(c.base, c.unit)}, candidate {fmt_value(c.candidate, c.unit)}, "
            f"change {fmt_change(c.change, c.unit)} {fmt_interval(c.ci_low, c.ci_high, c.unit)}"
        )
        if c.detail:
            message += f" — {c.detail}"
        suite.cases.append(
            _Case(
                f"perfgate.comparisons.{c.suite}",
                c.metric,
                outcome,
                message,
                f"{state}; family {c.family}, method {c.method}",
            )
        )
    return suite


def _budgets_suite(report: Report) -> _Suite:
    suite = _Suite("perfgate.budgets")
    for s in report.suites:
        for b in s.bench:
            for budget in b.budgets:
                name = f"{b.operation} {budget.stat} < {fmt_ms(budget.limit)} ms"
                if b.skipped_reason:
                    case = _Case(f"perfgate.bench.{s.name}", name, "skipped", b.skipped_reason)
                elif budget.value is None:
                    case = _Case(
                        f"perfgate.bench.{s.name}", name, "skipped", f"{budget.stat} not measured"
                    )
                else:
                    outcome = "failure" if budget.failed else "pass"
                    message = f"{b.operation}: {budget.stat} {fmt_ms(budget.value)} ms, budget {fmt_ms(budget.limit)} ms"
                    case = _Case(f"perfgate.bench.{s.name}", name, outcome, message)
                suite.cases.append(case)
    return suite


def report_junit(report: Report) -> str:
    """Render a built report as a JUnit XML document."""
    root = ET.Element("testsuites", name="perfgate")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in (
        _gate_suite(report),
        _checks_suite(report),
        _comparisons_suite(report),
        _budgets_suite(report),
    ):
        if not suite.cases:
            continue
        counts = {
            "tests": len(suite.cases),
            "failures": sum(c.outcome == "failure" for c in suite.cases),
            "errors": sum(c.outcome == "error" for c in suite.cases),
            "skipped": sum(c.outcome == "skipped" for c in suite.cases),
        }
        attrs = {"name": suite.name, **{k: str(v) for k, v in counts.items()}}
        el = ET.SubElement(root, "testsuite", attrs)
        for k, v in counts.items():
            totals[k] += v
        for case in suite.cases:
            tc = ET.SubElement(
                el,
                "testcase",
                classname=strip_control(case.classname),
                name=strip_control(case.name),
            )
            if case.outcome != "pass":
                child = ET.SubElement(tc, case.outcome, message=strip_control(case.message))
                child.text = strip_control(case.message)
            if case.text:
                ET.SubElement(tc, "system-out").text = strip_control(case.text)
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render_junit(
    run: RunResult, verdict: Verdict | None = None, baseline: RunResult | None = None
) -> str:
    """The JUnit XML for one run."""
    return report_junit(build_report(run, verdict, baseline))
