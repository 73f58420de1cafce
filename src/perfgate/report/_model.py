"""The one table model every renderer draws.

:func:`build_report` turns a RunResult (plus, optionally, the gate's Verdict
and a baseline RunResult) into typed rows and sections. Renderers never
reach into the records themselves: what a report shows is decided here,
once, and markdown, HTML, JUnit and the report directory only format it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from perfgate.figures import split_metric
from perfgate.metrics import Histogram, MetricSet, names
from perfgate.report._format import fmt_ms
from perfgate.report._info import flatten, parameters
from perfgate.report._series import Chart, process_charts, suite_charts
from perfgate.result import BenchOperation, Check, RunResult, SuiteResult
from perfgate.verdict import (
    STATE_LABELS,
    VERDICT_LABELS,
    ComparisonState,
    MetricComparison,
    Verdict,
    shown_state,
)

__all__ = [
    "BenchRow",
    "BudgetRow",
    "CheckRow",
    "ComparisonRow",
    "EndpointRow",
    "Headline",
    "Issue",
    "Report",
    "SuiteSection",
    "build_report",
]

HeadlineState = Literal["pass", "regression", "slo-failure", "inconclusive", "error"]

_HEADLINE_ICONS = {
    "pass": "✅",
    "regression": "❌",
    "slo-failure": "❌",
    "inconclusive": "⚠️",
    "error": "💥",
}
HEADLINES: dict[str, tuple[str, str]] = {
    state: (icon, VERDICT_LABELS[state]) for state, icon in _HEADLINE_ICONS.items()
}

_STATE_ICONS = {
    "regression": "🔴",
    "unresolved": "🟡",
    "slower": "🟠",
    "insufficient": "❔",
    "new": "🆕",
    "improvement": "🟢",
    "within-noise": "⚪",
    "info": "ℹ️",
}
#: How each comparison state is marked (icon, words), most severe first.
MARKERS: dict[str, tuple[str, str]] = {
    state: (_STATE_ICONS[state], label) for state, label in STATE_LABELS.items()
}
_SEVERITY = {state: i for i, state in enumerate(MARKERS)}
#: Which comparison marks an endpoint row: a judged one (regression, improvement,
#: within noise) before "insufficient", which p95/p99 rows often are.
_ROW_PRIORITY = {
    s: i
    for i, s in enumerate(
        (
            "regression",
            "unresolved",
            "slower",
            "improvement",
            "within-noise",
            "new",
            "insufficient",
            "info",
        )
    )
}

_STAT_QUANTILES = {"p50": 0.5, "median": 0.5, "p95": 0.95, "p99": 0.99}


@dataclass
class EndpointRow:
    endpoint: str
    requests: int
    rps: float | None
    error_rate: float | None  # fraction
    p50: float | None
    p95: float | None
    p99: float | None
    marker: str | None = None  # the most severe comparison touching this row (shown state)
    is_total: bool = False


@dataclass
class ComparisonRow:
    suite: str
    metric: str
    stat: str  # "total.median", "error_rate", ...
    endpoint: str | None  # None: the suite as a whole
    unit: str
    family: str
    base: float | None
    candidate: float | None
    change: float | None
    ci_low: float | None
    ci_high: float | None
    p_adjusted: float | None
    state: ComparisonState
    method: str
    detail: str = ""

    @property
    def shown_state(self) -> str:
        return shown_state(self.state, self.family)

    @classmethod
    def from_comparison(cls, c: MetricComparison) -> ComparisonRow:
        stat, _kind, endpoint = split_metric(c.metric)
        return cls(
            suite=c.suite,
            metric=c.metric,
            stat=stat,
            endpoint=endpoint,
            unit=c.unit,
            family=c.family,
            base=c.base,
            candidate=c.candidate,
            change=c.change,
            ci_low=c.ci_low,
            ci_high=c.ci_high,
            p_adjusted=c.p_adjusted,
            state=c.state,
            method=c.method,
            detail=c.detail,
        )


@dataclass
class BudgetRow:
    stat: str  # mean, median, p95, p99, max
    limit: float  # ms
    value: float | None  # None: not measured (operation skipped, stat missing)

    @property
    def failed(self) -> bool:
        return self.value is not None and self.value > self.limit


@dataclass
class BenchRow:
    operation: str
    samples: int
    failed: int
    outliers: int
    min: float | None
    max: float | None
    mean: float | None
    median: float | None
    p95: float | None
    p99: float | None
    skipped_reason: str | None = None
    budgets: list[BudgetRow] = field(default_factory=list)

    @property
    def budget_failures(self) -> list[str]:
        return [
            f"{self.operation}: {b.stat} {fmt_ms(b.value)} ms > {fmt_ms(b.limit)} ms"
            for b in self.budgets
            if b.failed
        ]


@dataclass
class CheckRow:
    scope: str  # "run", a suite name, or "slo"
    name: str
    status: str
    measured: float | None
    threshold: float | None
    unit: str
    detail: str
    criterion: str

    @classmethod
    def from_check(cls, scope: str, c: Check) -> CheckRow:
        return cls(scope, c.name, c.status, c.measured, c.threshold, c.unit, c.detail, c.criterion)


@dataclass
class Issue:
    severity: Literal["failure", "warning", "error"]
    text: str


@dataclass
class SuiteSection:
    name: str
    kind: str
    source: str
    started_at: str
    duration_s: float
    total: EndpointRow | None
    endpoints: list[EndpointRow]
    comparisons: list[ComparisonRow]
    bench: list[BenchRow]
    checks: list[CheckRow]
    charts: list[Chart]
    warnings: list[str]
    errors: list[str]
    interrupted: bool


@dataclass
class Headline:
    state: HeadlineState
    icon: str
    label: str
    reasons: list[str]
    from_gate: bool  # False: derived from the run's own checks, no Verdict given

    @property
    def text(self) -> str:
        return f"{self.icon} {self.label}"


@dataclass
class Report:
    title: str
    headline: Headline
    run_id: str
    created_at: str
    commit: str | None
    branch: str | None
    pr: int | None
    suites: list[SuiteSection]
    checks: list[CheckRow]  # run-level checks and the gate's SLO checks
    other_comparisons: list[ComparisonRow]  # comparisons whose suite is not in the run
    charts: list[Chart]  # run-level: the target's memory and CPU
    issues: list[Issue]
    environment: list[tuple[str, str]]
    parameters: list[tuple[str, str]]
    links: list[tuple[str, str]]
    verdict_mode: str
    verdict_warnings: list[str]

    @property
    def comparisons(self) -> list[ComparisonRow]:
        return [c for s in self.suites for c in s.comparisons] + self.other_comparisons


def _finite(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def _quantiles(h: Histogram | None) -> tuple[float | None, float | None, float | None]:
    if h is None or h.count == 0:
        return None, None, None
    a, b, c = h.quantiles((0.5, 0.95, 0.99))
    return _finite(a), _finite(b), _finite(c)


def _suite_duration(suite: SuiteResult) -> float:
    return suite.duration_s if suite.duration_s > 0 else suite.aggregate.duration_s


def _total_row(agg: MetricSet, duration: float, endpoint_requests: int) -> EndpointRow | None:
    requests = agg.counter(names.HTTP_REQUESTS) or endpoint_requests
    hist = agg.histograms.get(names.TOTAL) or agg.histograms.get(names.HTTP_RESPONSE_TIME)
    if not requests and hist is None:
        return None
    failed = agg.error_count() + agg.status_count(5)
    p50, p95, p99 = _quantiles(hist)
    return EndpointRow(
        endpoint="All endpoints",
        requests=requests,
        rps=requests / duration if duration > 0 else None,
        error_rate=failed / requests if requests else None,
        p50=p50,
        p95=p95,
        p99=p99,
        is_total=True,
    )


def _endpoint_rows(agg: MetricSet, duration: float) -> list[EndpointRow]:
    rows = []
    for view in agg.endpoints():
        p50, p95, p99 = _quantiles(view.total or view.response_time)
        requests = view.requests or (view.total.count if view.total else 0)
        rows.append(
            EndpointRow(
                endpoint=view.name,
                requests=requests,
                rps=requests / duration if duration > 0 and requests else None,
                error_rate=view.error_rate if view.requests else None,
                p50=p50,
                p95=p95,
                p99=p99,
            )
        )
    rows.sort(key=lambda r: (-r.requests, r.endpoint))
    return rows


def _bench_row(op: BenchOperation) -> BenchRow:
    s = dict(op.summary)
    if op.samples_ms and not {"min", "max", "mean", "median", "p95", "p99"} <= s.keys():
        h = Histogram()
        h.record_many(op.samples_ms)
        p50, p95, p99 = h.quantiles((0.5, 0.95, 0.99))
        computed = {
            "min": h.min,
            "max": h.max,
            "mean": h.mean,
            "median": p50,
            "p95": p95,
            "p99": p99,
        }
        s = {**computed, **s}
    samples = int(s.get("count", len(op.samples_ms)))
    budgets = [
        BudgetRow(
            stat, float(limit), None if op.skipped_reason or s.get(stat) is None else float(s[stat])
        )
        for stat, limit in op.budget.items()
    ]

    def get(key: str) -> float | None:
        v = s.get(key)
        return _finite(float(v)) if v is not None else None

    return BenchRow(
        operation=op.name,
        samples=samples,
        failed=op.failed,
        outliers=op.outliers,
        min=get("min"),
        max=get("max"),
        mean=get("mean"),
        median=get("median") if "median" in s else get("p50"),
        p95=get("p95"),
        p99=get("p99"),
        skipped_reason=op.skipped_reason,
        budgets=budgets,
    )


def _baseline_comparisons(
    suite: str, rows: list[EndpointRow], base_suite: SuiteResult | None
) -> list[ComparisonRow]:
    """Plain deltas against a baseline run: no statistics, so state "info"."""
    if base_suite is None:
        return []
    base_duration = _suite_duration(base_suite)
    base_rows = {r.endpoint: r for r in _endpoint_rows(base_suite.aggregate, base_duration)}
    total = _total_row(
        base_suite.aggregate, base_duration, sum(r.requests for r in base_rows.values())
    )
    if total is not None:
        base_rows[total.endpoint] = total
    out: list[ComparisonRow] = []
    for row in rows:
        base = base_rows.get(row.endpoint)
        endpoint = None if row.is_total else row.endpoint
        for stat in ("p50", "p95", "p99"):
            cand = getattr(row, stat)
            bval = getattr(base, stat) if base else None
            change = cand / bval - 1 if cand is not None and bval else None
            out.append(
                ComparisonRow(
                    suite=suite,
                    metric=f"total.{stat}" + (f" {endpoint}" if endpoint else ""),
                    stat=f"total.{stat}",
                    endpoint=endpoint,
                    unit="ms",
                    family="info",
                    base=bval,
                    candidate=cand,
                    change=change,
                    ci_low=None,
                    ci_high=None,
                    p_adjusted=None,
                    state="new" if base is None else "info",
                    method="single",
                )
            )
    return out


def _mark(rows: list[EndpointRow], comparisons: list[ComparisonRow]) -> None:
    by_endpoint: dict[str | None, list[ComparisonRow]] = {}
    for c in comparisons:
        by_endpoint.setdefault(c.endpoint, []).append(c)
    for row in rows:
        # "info" deltas carry no judgement: the comparison table shows them.
        found = [
            c
            for c in by_endpoint.get(None if row.is_total else row.endpoint, [])
            if c.state != "info"
        ]
        if found:
            row.marker = min(
                (c.shown_state for c in found), key=lambda st: _ROW_PRIORITY.get(st, 99)
            )


def _suite_section(
    suite: SuiteResult, comparisons: list[ComparisonRow], base_suite: SuiteResult | None
) -> SuiteSection:
    duration = _suite_duration(suite)
    endpoints = _endpoint_rows(suite.aggregate, duration)
    total = _total_row(suite.aggregate, duration, sum(r.requests for r in endpoints))
    if not comparisons:
        comparisons = _baseline_comparisons(
            suite.name, ([total] if total else []) + endpoints, base_suite
        )
    _mark(([total] if total else []) + endpoints, comparisons)
    comparisons.sort(key=lambda c: (c.family != "primary", _SEVERITY.get(c.state, 99)))
    return SuiteSection(
        name=suite.name,
        kind=suite.kind,
        source=suite.source,
        started_at=suite.started_at,
        duration_s=duration,
        total=total,
        endpoints=endpoints,
        comparisons=comparisons,
        bench=[_bench_row(op) for op in suite.operations],
        checks=[CheckRow.from_check(suite.name, c) for c in suite.checks],
        charts=suite_charts(suite),
        warnings=list(suite.warnings),
        errors=list(suite.errors),
        interrupted=suite.interrupted,
    )


def _headline(run: RunResult, verdict: Verdict | None, checks: list[CheckRow]) -> Headline:
    if verdict is not None:
        icon, label = HEADLINES.get(verdict.state, ("❔", verdict.state))
        return Headline(verdict.state, icon, label, list(verdict.reasons), True)
    errors = [e for s in run.suites for e in s.errors]
    failed = [c for c in checks if c.status == "fail"]
    unsure = [c for c in checks if c.status == "inconclusive"]
    state: HeadlineState
    if errors:
        state, reasons = "error", errors
    elif failed:
        state, reasons = "slo-failure", [f"{c.name} failed" for c in failed]
    elif unsure:
        state, reasons = "inconclusive", [f"{c.name} inconclusive" for c in unsure]
    else:
        state, reasons = "pass", []
    icon, label = HEADLINES[state]
    return Headline(state, icon, label, reasons, False)


def _issues(
    report_suites: list[SuiteSection], checks: list[CheckRow], verdict: Verdict | None
) -> list[Issue]:
    out: list[Issue] = []
    for s in report_suites:
        out.extend(Issue("error", f"{s.name}: {e}") for e in s.errors)
        if s.interrupted:
            out.append(Issue("error", f"{s.name}: interrupted, results are partial"))
    seen: set[tuple[str, str]] = set()  # a suite's checks also stand in the run's list
    for c in [*checks, *(c for s in report_suites for c in s.checks)]:
        if c.status == "fail" and (c.name, c.detail) not in seen:
            seen.add((c.name, c.detail))
            detail = f" ({c.detail})" if c.detail else ""
            out.append(Issue("failure", f"check failed: {c.name}{detail}"))
    for s in report_suites:
        for cmp in s.comparisons:
            if cmp.shown_state == "regression":
                out.append(Issue("failure", f"regression: {s.name} {cmp.metric}"))
        if not seen:  # budgets are checks too; list them only when no check was listed
            for b in s.bench:
                out.extend(Issue("failure", f"budget: {f}") for f in b.budget_failures)
        out.extend(Issue("warning", f"{s.name}: {w}") for w in s.warnings)
    if verdict is not None:
        out.extend(Issue("warning", w) for w in verdict.warnings)
    return out


def build_report(
    run: RunResult,
    verdict: Verdict | None = None,
    baseline: RunResult | None = None,
    *,
    title: str = "perfgate report",
    run_url: str | None = None,
    links: dict[str, str] | None = None,
) -> Report:
    """The report's rows and sections. ``verdict`` defaults to ``run.verdict``;
    ``baseline`` adds plain deltas only where the verdict has no comparisons."""
    if verdict is None and run.verdict:
        verdict = Verdict.from_dict(run.verdict)
    rows = [ComparisonRow.from_comparison(c) for c in (verdict.comparisons if verdict else [])]
    suite_names = {s.name for s in run.suites}
    suites = [
        _suite_section(
            s,
            [c for c in rows if c.suite == s.name],
            baseline.suite(s.name) if baseline is not None and not rows else None,
        )
        for s in run.suites
    ]
    checks = [CheckRow.from_check("run", c) for c in run.checks]
    if verdict is not None:
        checks.extend(CheckRow.from_check("slo", c) for c in verdict.slo_checks)
    all_checks = checks + [c for s in suites for c in s.checks]
    link_list = [("run", run_url)] if run_url else []
    link_list.extend((links or {}).items())
    return Report(
        title=title,
        headline=_headline(run, verdict, all_checks),
        run_id=run.run_id,
        created_at=run.created_at,
        commit=run.commit,
        branch=run.branch,
        pr=run.pr,
        suites=suites,
        checks=checks,
        other_comparisons=[c for c in rows if c.suite not in suite_names],
        charts=process_charts(run.monitor),
        issues=_issues(suites, checks, verdict),
        environment=flatten(run.environment),
        parameters=parameters(run, verdict),
        links=link_list,
        verdict_mode=verdict.mode if verdict else "none",
        verdict_warnings=list(verdict.warnings) if verdict else [],
    )
