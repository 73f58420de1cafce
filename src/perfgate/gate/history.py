"""History mode: the candidate against the base branch's stored runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfgate.figures import Figure, run_figures
from perfgate.gate.compare import history_comparison, min_effect_for
from perfgate.store import MATCH_KEYS

if TYPE_CHECKING:
    from perfgate.config import CompareConfig
    from perfgate.result import RunResult
    from perfgate.store import Store
    from perfgate.verdict import MetricComparison

__all__ = ["history_comparisons", "primary_figures"]

#: At most this many metrics gate (the rest is information).
MAX_PRIMARY = 10


def primary_figures(figures: list[Figure], declared: list[str]) -> set[tuple[str, str]]:
    """The primary family: the declared metrics, else the figures' own hints (≤ 10)."""
    if declared:
        chosen = [f for f in figures if f.metric in declared or f"{f.suite}:{f.metric}" in declared]
    else:
        chosen = [f for f in figures if f.family_hint == "primary"]
    return {(f.suite, f.metric) for f in chosen[:MAX_PRIMARY]}


def history_comparisons(run: RunResult, store: Store, cfg: CompareConfig) -> list[MetricComparison]:
    """Every comparable figure of ``run`` against its history in ``store``."""
    figures = run_figures(run)
    primary = primary_figures(figures, cfg.primary)
    fingerprint = {k: run.environment.get(k) for k in MATCH_KEYS if k in run.environment}
    out = []
    for fig in figures:
        points = store.history(
            fig.suite,
            fig.metric,
            branch=cfg.history_branch,
            fingerprint=fingerprint or None,
            config_hash=run.config_hash,
            limit=cfg.history_runs,
            exclude_run_id=run.run_id,
        )
        out.append(
            history_comparison(
                fig,
                [p.value for p in points],
                min_effect=min_effect_for(fig.metric, cfg.min_effect),
                min_points=cfg.history_min_points,
                family="primary" if (fig.suite, fig.metric) in primary else "info",
            )
        )
    return out
