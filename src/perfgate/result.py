"""RunResult: the one typed record between measuring and everything after it.

The engine, bench and stress suites fill it; the store saves it; comparison
reads two of them; every report renders it. It is JSON-serialisable
(histograms are stored encoded, so percentiles can be recomputed and runs
merged later).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from perfgate.metrics import MetricSet

__all__ = [
    "SCHEMA_VERSION",
    "BenchOperation",
    "Check",
    "CheckStatus",
    "RunResult",
    "SchedulerStats",
    "SuiteResult",
]

SCHEMA_VERSION = 1

CheckStatus = Literal["pass", "fail", "inconclusive", "skipped"]
SuiteKind = Literal["load", "bench", "stress", "ab"]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Check:
    """One verdict with the figure behind it (an SLO, a budget, a seed criterion)."""

    name: str
    status: CheckStatus
    measured: float | None = None
    threshold: float | None = None
    unit: str = ""
    detail: str = ""
    criterion: str = ""  # the seed's wording, when the check stands for one
    suite: str = ""  # the suite it belongs to ("" for run-wide checks)
    pre_existing: bool = False  # an SLO breach the baseline shows too: shown, not failing

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class SchedulerStats:
    """How well the generator kept to the arrival schedule (open model)."""

    planned: int = 0  # arrivals the phases asked for
    launched: int = 0
    skipped: int = 0  # over maxVusers
    late: int = 0  # launched more than ``late_threshold_ms`` behind schedule
    late_threshold_ms: float = 10.0
    lag_p99_ms: float = 0.0
    lag_max_ms: float = 0.0
    generator_cpu_pct: float | None = None
    generator_limited: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SchedulerStats:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class BenchOperation:
    """One benchmarked operation: its raw samples and summary (ms)."""

    name: str
    samples_ms: list[float] = field(default_factory=list)
    failed: int = 0
    skipped_reason: str | None = None
    outliers: int = 0
    summary: dict[str, float] = field(default_factory=dict)
    budget: dict[str, float] = field(default_factory=dict)
    repeats: list[dict[str, float]] = field(default_factory=list)  # per-run medians etc. (--repeat)
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchOperation:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class SuiteResult:
    """The outcome of one suite (a load script, a bench suite, a stress run)."""

    name: str
    kind: SuiteKind
    source: str = ""  # script or suite path
    started_at: str = field(default_factory=_now_iso)
    duration_s: float = 0.0
    aggregate: MetricSet = field(default_factory=MetricSet)
    intermediate: list[MetricSet] = field(default_factory=list)
    series: list[dict[str, float]] = field(default_factory=list)  # one row a second
    scheduler: SchedulerStats | None = None
    operations: list[BenchOperation] = field(default_factory=list)  # bench suites
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # fatal: target died, aborted...
    interrupted: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "aggregate": self.aggregate.to_dict(),
            "intermediate": [m.to_dict() for m in self.intermediate],
            "series": self.series,
            "scheduler": asdict(self.scheduler) if self.scheduler else None,
            "operations": [asdict(o) for o in self.operations],
            "checks": [asdict(c) for c in self.checks],
            "warnings": self.warnings,
            "errors": self.errors,
            "interrupted": self.interrupted,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuiteResult:
        sched = data.get("scheduler")
        return cls(
            name=data["name"],
            kind=data["kind"],
            source=data.get("source", ""),
            started_at=data.get("started_at", ""),
            duration_s=float(data.get("duration_s", 0.0)),
            aggregate=MetricSet.from_dict(data.get("aggregate", {})),
            intermediate=[MetricSet.from_dict(m) for m in data.get("intermediate", [])],
            series=list(data.get("series", [])),
            scheduler=SchedulerStats.from_dict(sched) if sched else None,
            operations=[BenchOperation.from_dict(o) for o in data.get("operations", [])],
            checks=[Check.from_dict(c) for c in data.get("checks", [])],
            warnings=list(data.get("warnings", [])),
            errors=list(data.get("errors", [])),
            interrupted=bool(data.get("interrupted", False)),
            extra=dict(data.get("extra", {})),
        )


@dataclass
class RunResult:
    """Everything one perfgate invocation measured, and where it ran."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    created_at: str = field(default_factory=_now_iso)
    tool_version: str = ""
    commit: str | None = None
    branch: str | None = None
    pr: int | None = None
    profile: str | None = None
    label: str | None = None  # e.g. "base" / "candidate" in A/B
    environment: dict[str, Any] = field(default_factory=dict)  # fingerprint
    config_hash: str | None = None
    suites: list[SuiteResult] = field(default_factory=list)
    monitor: dict[str, Any] = field(default_factory=dict)  # target RSS/CPU/health series
    checks: list[Check] = field(default_factory=list)
    verdict: dict[str, Any] | None = None  # filled by the gate
    schema: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "tool_version": self.tool_version,
            "commit": self.commit,
            "branch": self.branch,
            "pr": self.pr,
            "profile": self.profile,
            "label": self.label,
            "environment": self.environment,
            "config_hash": self.config_hash,
            "suites": [s.to_dict() for s in self.suites],
            "monitor": self.monitor,
            "checks": [asdict(c) for c in self.checks],
            "verdict": self.verdict,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            schema=int(data.get("schema", SCHEMA_VERSION)),
            run_id=data.get("run_id") or uuid.uuid4().hex[:16],
            created_at=data.get("created_at", ""),
            tool_version=data.get("tool_version", ""),
            commit=data.get("commit"),
            branch=data.get("branch"),
            pr=data.get("pr"),
            profile=data.get("profile"),
            label=data.get("label"),
            environment=dict(data.get("environment", {})),
            config_hash=data.get("config_hash"),
            suites=[SuiteResult.from_dict(s) for s in data.get("suites", [])],
            monitor=dict(data.get("monitor", {})),
            checks=[Check.from_dict(c) for c in data.get("checks", [])],
            verdict=data.get("verdict"),
        )

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=str)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        return cls.from_dict(json.loads(text))

    def save(self, path: str | Path) -> None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".tmp")
        tmp.write_text(self.to_json(indent=1), encoding="utf-8")
        tmp.replace(p)

    @classmethod
    def load(cls, path: str | Path) -> RunResult:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    def suite(self, name: str) -> SuiteResult | None:
        return next((s for s in self.suites if s.name == name), None)
