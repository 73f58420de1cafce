"""The gate's verdict record: per-metric comparisons and the overall state.

Filled by the comparison modes (history, same-runner A/B) and the SLO
checks; rendered by every report. Pure data, JSON-serialisable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from perfgate.result import Check

__all__ = [
    "GATED_FAMILIES",
    "STATE_LABELS",
    "VERDICT_LABELS",
    "ComparisonState",
    "MetricComparison",
    "Verdict",
    "VerdictState",
    "shown_state",
]

VerdictState = Literal["pass", "regression", "slo-failure", "inconclusive", "error"]
ComparisonState = Literal[
    "regression", "unresolved", "improvement", "within-noise", "insufficient", "new", "info"
]


#: The words for each verdict and each shown comparison state, in every report
#: and on the terminal (the reports add an icon). Comparison states are listed
#: most severe first.
VERDICT_LABELS: dict[str, str] = {
    "pass": "Pass",
    "regression": "Regression",
    "slo-failure": "SLO failure",
    "inconclusive": "Inconclusive",
    "error": "Error",
}
STATE_LABELS: dict[str, str] = {
    "regression": "regression",
    "unresolved": "possible regression (undecided)",
    "slower": "slower (info, not gating)",
    "insufficient": "insufficient data",
    "new": "new",
    "improvement": "improvement",
    "slightly-slower": "slower, short of a regression",
    "faster": "faster, short of an improvement",
    "within-noise": "within noise",
    "info": "info",
}


#: Families whose regressions fail the gate: the core ("primary") and the
#: secondary (every other endpoint with enough data). "info" is shown only.
GATED_FAMILIES = ("primary", "secondary")


def shown_state(state: str, family: str) -> str:
    """The state as reports show it: a regression outside the gated families
    (core "primary" and "secondary") cannot fail the gate, so it reads
    "slower" (information), never "regression"."""
    return "slower" if state == "regression" and family not in GATED_FAMILIES else state


#: Exit codes of `perfgate gate`.
EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_ERROR = 2
EXIT_INCONCLUSIVE_STRICT = 3


#: Units whose comparisons carry an absolute change in the unit itself, not a
#: fraction (A/B's RSS growth per request); "ratio" is absolute too, in points.
ABSOLUTE_UNITS = ("KiB/req",)


@dataclass
class MetricComparison:
    """One metric of one suite, baseline against candidate."""

    suite: str
    metric: str  # e.g. "total.median GET /api/bounties", "error_rate", "cpu_ms_per_request"
    unit: str  # "ms", "%", "ms/req", "req/s"
    # "primary": the core family; "secondary": every other gated endpoint
    # metric (its own share of alpha); "info": shown, never gated.
    family: Literal["primary", "secondary", "info"] = "info"
    base: float | None = None
    candidate: float | None = None
    change: float | None = None  # relative change, candidate/base - 1 (absolute pp for rates)
    ci_low: float | None = None  # interval of the change, same scale as change
    ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None  # Holm within the primary family
    min_effect: float | None = None
    samples: int | None = None  # pairs (A/B) or history points
    state: ComparisonState = "info"
    method: Literal["ab", "history", "single"] = "single"
    detail: str = ""
    # A/B: one-sided p of "the candidate is slower at all" (no minimum effect)
    p_slower: float | None = None
    # A/B: the launch-level variance behind the interval (perfgate.stats.clustered):
    # launches, sd_between (pooled with the prior), sd_between_observed, inflation
    launch: dict[str, Any] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricComparison:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class Verdict:
    """The gate's answer and everything behind it."""

    state: VerdictState
    reasons: list[str] = field(default_factory=list)
    mode: Literal["ab", "history", "none"] = "none"
    comparisons: list[MetricComparison] = field(default_factory=list)
    slo_checks: list[Check] = field(
        default_factory=list
    )  # status "fail" + detail "pre-existing" when base breaches too
    warnings: list[str] = field(default_factory=list)
    exit_code: int = EXIT_PASS
    details: dict[str, Any] = field(
        default_factory=dict
    )  # mode-specific: seed, pairs dropped, history size...

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "reasons": self.reasons,
            "mode": self.mode,
            "comparisons": [asdict(c) for c in self.comparisons],
            "slo_checks": [asdict(c) for c in self.slo_checks],
            "warnings": self.warnings,
            "exit_code": self.exit_code,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(
            state=data["state"],
            reasons=list(data.get("reasons", [])),
            mode=data.get("mode", "none"),
            comparisons=[MetricComparison.from_dict(c) for c in data.get("comparisons", [])],
            slo_checks=[Check.from_dict(c) for c in data.get("slo_checks", [])],
            warnings=list(data.get("warnings", [])),
            exit_code=int(data.get("exit_code", 0)),
            details=dict(data.get("details", {})),
        )
