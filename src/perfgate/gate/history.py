"""History mode: the candidate against the base branch's stored runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from perfgate.figures import Figure, run_figures
from perfgate.gate.ab.stats import MAX_PRIMARY
from perfgate.gate.compare import history_comparison, min_effect_for
from perfgate.store import MATCH_KEYS

if TYPE_CHECKING:
    from perfgate.config import CompareConfig
    from perfgate.result import RunResult
    from perfgate.store import Store
    from perfgate.verdict import MetricComparison

__all__ = ["history_comparisons", "history_mismatch", "primary_figures"]


def primary_figures(figures: list[Figure], declared: list[str]) -> set[tuple[str, str]]:
    """The primary family: the declared metrics, else the figures' own hints.

    At most MAX_PRIMARY (the A/B core budget): a declared list longer than
    that is a config error before measuring (:func:`check_primary`)."""
    if declared:
        chosen = [f for f in figures if f.metric in declared or f"{f.suite}:{f.metric}" in declared]
    else:
        chosen = [f for f in figures if f.family_hint == "primary"]
    return {(f.suite, f.metric) for f in chosen[:MAX_PRIMARY]}


def history_comparisons(
    run: RunResult,
    store: Store,
    cfg: CompareConfig,
    kept: dict[str, Any] | None = None,
) -> list[MetricComparison]:
    """Every comparable figure of ``run`` against its history in ``store``.

    ``kept``, when given, receives each primary metric's history points
    (``"suite\tmetric" -> [[created_at, value], ...]``, oldest first) for the report.
    """
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
        if kept is not None and (fig.suite, fig.metric) in primary:
            kept[f"{fig.suite}\t{fig.metric}"] = [
                [p.created_at, round(p.value, 6)]
                for p in sorted(points, key=lambda p: p.created_at)
            ]
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


def history_mismatch(run: RunResult, store: Store, cfg: CompareConfig) -> str:
    """Why the branch's stored runs did not match ``run``, as a sentence to append
    ("" when nothing explains it): most often the baseline workflow records
    another profile than the pull request runs, or the suites' files changed."""
    rows = store.list_runs(branch=cfg.history_branch, limit=200)
    rows = [r for r in rows if r["run_id"] != run.run_id]
    if not rows:
        return f"; the store holds no run of {cfg.history_branch!r} yet"
    profiles = sorted({str(r["profile"]) for r in rows if r["profile"] != run.profile})
    same_profile = [r for r in rows if r["profile"] == run.profile]
    if not same_profile and profiles:
        return (
            f"; {cfg.history_branch!r} has runs of profile {', '.join(profiles)} but none of "
            f"{run.profile!r}: record the profile pull requests run (docs/github.md)"
        )
    if same_profile and not any(r["config_hash"] == run.config_hash for r in same_profile):
        return (
            f"; {cfg.history_branch!r}'s runs of profile {run.profile!r} used other suite "
            "files or settings (config hash differs)"
        )
    return ""
