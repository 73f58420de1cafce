"""The one table model every renderer draws.

:func:`build_report` turns a RunResult (plus, optionally, the gate's Verdict
and a baseline RunResult) into typed rows and sections. Renderers never
reach into the records themselves: what a report shows is decided here,
once, and markdown, HTML, JUnit and the report directory only format it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from perfgate.figures import split_metric
from perfgate.metrics import Histogram, MetricSet, failures, names
from perfgate.report._ab_data import AbSuiteData, ab_suite_data, arm_process
from perfgate.report._format import fmt_ms, short_endpoint, short_source
from perfgate.report._info import flatten, parameters
from perfgate.report._series import (
    Chart,
    StressPicture,
    process_charts,
    stress_picture,
    suite_charts,
)
from perfgate.result import BenchOperation, Check, RunResult, SuiteResult
from perfgate.verdict import (
    GATED_FAMILIES,
    STATE_LABELS,
    VERDICT_LABELS,
    ComparisonState,
    MetricComparison,
    Verdict,
    shown_state,
)

__all__ = [
    "MOVED",
    "BenchRow",
    "BudgetRow",
    "CheckRow",
    "ComparisonRow",
    "Counts",
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
    "slightly-slower": "🔸",
    "faster": "🔹",
    "within-noise": "⚪",
    "info": "ℹ️",
}
#: How each comparison state is marked (icon, words), most severe first.
MARKERS: dict[str, tuple[str, str]] = {
    state: (_STATE_ICONS[state], label) for state, label in STATE_LABELS.items()
}
#: Display states that count as "moved": the comment's main table.
MOVED = ("regression", "unresolved", "slower", "improvement")
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
            "slightly-slower",
            "faster",
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
    min_effect: float | None = None
    samples: int | None = None
    history: list[tuple[str, float]] = field(default_factory=list)  # history mode: stored runs

    @property
    def shown_state(self) -> str:
        return shown_state(self.state, self.family)

    @property
    def gated(self) -> bool:
        """In a family that can fail the gate (core or secondary)."""
        return self.family in GATED_FAMILIES

    @property
    def display_state(self) -> str:
        """The shown state, and for A/B "within noise" whether the interval still
        excludes no change: surely faster (or slower) by less than the minimum
        effect reads as such, not as noise."""
        state = self.shown_state
        if state != "within-noise" or self.method != "ab" or self.unit == "ratio":
            return state
        if self.ci_high is not None and self.ci_high < 0:
            return "faster"
        if self.ci_low is not None and self.ci_low > 0:
            return "slightly-slower"
        return state

    @property
    def moved(self) -> bool:
        return self.display_state in MOVED

    @property
    def label(self) -> str:
        """The metric as a reader scans it: endpoint (shortened) and statistic."""
        if self.endpoint is None:
            return self.metric
        return f"{short_endpoint(self.endpoint)} {self.stat}"

    @property
    def p_shown(self) -> float | None:
        """Holm's p of "slower beyond the minimum effect": meaningful only for a slower figure."""
        if self.p_adjusted is None or self.change is None or self.change <= 0:
            return None
        return self.p_adjusted

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
            min_effect=c.min_effect,
            samples=c.samples,
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
    duration_s: float  # measured seconds (A/B: per arm, the kept rounds)
    total: EndpointRow | None
    endpoints: list[EndpointRow]
    comparisons: list[ComparisonRow]
    bench: list[BenchRow]
    checks: list[CheckRow]
    charts: list[Chart]
    warnings: list[str]
    errors: list[str]
    interrupted: bool
    # how requests failed, as metrics.failures counts them: "25 of 500 failed (25 5xx) ..."
    failures: str = ""
    status_shifts: list[str] = field(default_factory=list)  # endpoints whose status mix moved
    nothing_answered: str | None = None  # set when not one request got an answer
    wall_s: float | None = None  # how long the suite really took (A/B: warm-up to last round)
    ab: AbSuiteData | None = None
    stress: StressPicture | None = None

    @property
    def real_duration_s(self) -> float:
        return self.wall_s if self.wall_s else self.duration_s


@dataclass
class Counts:
    """How many comparisons of each kind: the headline and the summaries agree with the rows."""

    primary: int = 0
    primary_moved: int = 0
    info: int = 0
    info_moved: int = 0
    insufficient: int = 0
    by_state: dict[str, int] = field(default_factory=dict)  # primary display states
    checks: dict[str, int] = field(default_factory=dict)  # status -> count


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
    all_checks: list[CheckRow] = field(default_factory=list)  # every check once
    counts: Counts = field(default_factory=Counts)
    arm_process: dict[str, list[tuple[float, float | None, float | None]]] = field(
        default_factory=dict
    )
    base: str | None = None  # A/B: "REF at SHA12", the base the candidate was compared with

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


def _total_row(
    agg: MetricSet,
    duration: float,
    endpoint_requests: int,
    policy: failures.FailurePolicy = failures.DEFAULT_POLICY,
) -> EndpointRow | None:
    requests = agg.counter(names.HTTP_REQUESTS) or endpoint_requests
    hist = agg.histograms.get(names.TOTAL) or agg.histograms.get(names.HTTP_RESPONSE_TIME)
    if not requests and hist is None:
        return None
    failed = failures.count(agg, policy).failed
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


def _endpoint_rows(
    agg: MetricSet, duration: float, policy: failures.FailurePolicy = failures.DEFAULT_POLICY
) -> list[EndpointRow]:
    rows = []
    for view in agg.endpoints():
        p50, p95, p99 = _quantiles(view.total or view.response_time)
        requests = view.requests or (view.total.count if view.total else 0)
        rows.append(
            EndpointRow(
                endpoint=short_endpoint(view.name),
                requests=requests,
                rps=requests / duration if duration > 0 and requests else None,
                error_rate=failures.count_endpoint(view, policy).rate if view.requests else None,
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
    for c in comparisons:  # endpoint rows carry the shortened name
        key = short_endpoint(c.endpoint) if c.endpoint is not None else None
        by_endpoint.setdefault(key, []).append(c)
    for row in rows:
        # "info" deltas carry no judgement: the comparison table shows them.
        found = [
            c
            for c in by_endpoint.get(None if row.is_total else row.endpoint, [])
            if c.state != "info"
        ]
        if found:
            row.marker = min(
                (c.display_state for c in found), key=lambda st: _ROW_PRIORITY.get(st, 99)
            )


def _suite_section(
    suite: SuiteResult,
    comparisons: list[ComparisonRow],
    base_suite: SuiteResult | None,
    ab_details: Any = None,
) -> SuiteSection:
    duration = _suite_duration(suite)
    policy = failures.policy_of(suite)
    endpoints = _endpoint_rows(suite.aggregate, duration, policy)
    total = _total_row(suite.aggregate, duration, sum(r.requests for r in endpoints), policy)
    counted = failures.count(suite.aggregate, policy)
    if not comparisons:  # plain deltas only where the verdict has no comparisons
        comparisons = _baseline_comparisons(
            suite.name, ([total] if total else []) + endpoints, base_suite
        )
    _mark(([total] if total else []) + endpoints, comparisons)
    comparisons.sort(key=lambda c: (not c.gated, _SEVERITY.get(c.display_state, 99)))
    ab = ab_suite_data(ab_details)
    return SuiteSection(
        name=suite.name,
        kind=suite.kind,
        source=short_source(suite.source),
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
        failures=f"{counted.detail()}; failed = {policy.describe()}" if counted.requests else "",
        status_shifts=[
            sh.describe()
            for sh in failures.status_mix_shifts(base_suite.aggregate, suite.aggregate)
        ]
        if base_suite is not None
        else [],
        nothing_answered=_nothing_answered(counted),
        wall_s=ab.wall_s if ab is not None else None,
        ab=ab,
        stress=stress_picture(suite),
    )


def _nothing_answered(counted: failures.Failures) -> str | None:
    return counted.no_answer_message() if counted.nothing_answered else None


def _counts(rows: list[ComparisonRow], checks: list[CheckRow]) -> Counts:
    primary = [c for c in rows if c.gated]
    info = [c for c in rows if not c.gated]
    return Counts(
        primary=len(primary),
        primary_moved=sum(c.moved for c in primary),
        info=len(info),
        info_moved=sum(c.moved for c in info),
        insufficient=sum(c.state == "insufficient" for c in rows),
        by_state=dict(Counter(c.display_state for c in primary)),
        checks=dict(Counter(c.status for c in checks)),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pass_reason(counts: Counts) -> str:
    """Why a pass is a pass, counted from the rows the report shows."""
    st = counts.by_state
    parts = []
    if counts.primary:
        moved = [
            f"{st[k]} {word}"
            for k, word in (
                ("improvement", "improved"),
                ("faster", "faster short of an improvement"),
                ("slightly-slower", "slower short of a regression"),
                ("within-noise", "within noise"),
                ("insufficient", "with too little data"),
                ("new", "new"),
            )
            if st.get(k)
        ]
        if len(moved) == 1 and moved[0].startswith(f"{counts.primary} "):
            parts.append(
                _plural(counts.primary, "primary metric") + moved[0][len(str(counts.primary)) :]
            )
        else:
            parts.append(f"{_plural(counts.primary, 'primary metric')}: " + ", ".join(moved))
    passed = counts.checks.get("pass", 0)
    if passed:
        parts.append(f"{_plural(passed, 'check')} passed")
    head = "nothing moved" if not counts.primary_moved else "no regression"
    return head + (" — " + "; ".join(parts) if parts else "")


def _headline(
    run: RunResult,
    verdict: Verdict | None,
    checks: list[CheckRow],
    counts: Counts,
    suites: list[SuiteSection],
) -> Headline:
    if verdict is not None:
        icon, label = HEADLINES.get(verdict.state, ("❔", verdict.state))
        reasons = list(verdict.reasons)
        if verdict.state == "pass" and (counts.primary or counts.checks):
            reasons = [pass_reason(counts)]  # the gate's own text counted other things
        return Headline(verdict.state, icon, label, reasons, True)
    errors = [e for s in run.suites for e in s.errors]
    errors += [f"{s.name}: {s.nothing_answered}" for s in suites if s.nothing_answered]
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
        if s.nothing_answered and not any(s.nothing_answered in e for e in s.errors):
            out.append(Issue("error", f"{s.name}: {s.nothing_answered}"))
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
            if cmp.display_state == "regression":
                out.append(Issue("failure", f"regression: {s.name} {cmp.metric}"))
        if not seen:  # budgets are checks too; list them only when no check was listed
            for b in s.bench:
                out.extend(Issue("failure", f"budget: {f}") for f in b.budget_failures)
        out.extend(Issue("warning", f"{s.name}: {w}") for w in s.warnings)
        out.extend(Issue("warning", f"{s.name}: status mix moved: {t}") for t in s.status_shifts)
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
    _attach_history(rows, verdict.details.get("history") if verdict is not None else None)
    suite_names = {s.name for s in run.suites}
    details: dict[str, Any] = verdict.details if verdict is not None else {}
    found = details.get("suites")
    ab_suites: dict[str, Any] = found if isinstance(found, dict) else {}
    suites = [
        _suite_section(
            s,
            [c for c in rows if c.suite == s.name],
            baseline.suite(s.name) if baseline is not None else None,
            ab_suites.get(s.name),
        )
        for s in run.suites
    ]
    checks = [CheckRow.from_check("run", c) for c in run.checks]
    if verdict is not None:
        checks.extend(CheckRow.from_check("slo", c) for c in verdict.slo_checks)
    all_checks = _unique_checks(checks + [c for s in suites for c in s.checks])
    link_list = [("run", run_url)] if run_url else []
    link_list.extend((links or {}).items())
    counts = _counts(rows, all_checks)
    return Report(
        title=title,
        headline=_headline(run, verdict, all_checks, counts, suites),
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
        all_checks=all_checks,
        counts=counts,
        arm_process=arm_process(details),
        base=_base_name(verdict),
    )


def _attach_history(rows: list[ComparisonRow], history: Any) -> None:
    """History mode: each primary metric's stored runs, as the gate kept them."""
    if not isinstance(history, dict):
        return
    for row in rows:
        points = history.get(f"{row.suite}\t{row.metric}")
        if isinstance(points, list):
            row.history = [
                (str(p[0]), float(p[1]))
                for p in points
                if isinstance(p, list) and len(p) == 2 and isinstance(p[1], int | float)
            ]


def _unique_checks(checks: list[CheckRow]) -> list[CheckRow]:
    """Each check once: the gate's SLO list repeats the suites' own (bench budgets)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for c in checks:
        key = (c.name, c.status, c.detail)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _base_name(verdict: Verdict | None) -> str | None:
    base = verdict.details.get("base") if verdict else None
    if not isinstance(base, dict) or not base.get("ref"):
        return None
    commit = str(base.get("commit") or "")[:12]
    return f"{base['ref']} at {commit}" if commit else str(base["ref"])
