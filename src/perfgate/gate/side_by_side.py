"""``perfgate compare A B``: two runs side by side.

Every comparable figure of A and B with its relative change. A verdict is
given only where the statistics have replication: benchmark operations run
with ``--repeat`` (a Mann–Whitney test over the per-repeat medians, which
are independent runs). A single number against a single number is shown as
information — one run says nothing about the noise.
"""

from __future__ import annotations

from perfgate.figures import run_figures
from perfgate.gate.compare import min_effect_for
from perfgate.result import RunResult
from perfgate.stats import mann_whitney_u
from perfgate.verdict import MetricComparison

__all__ = ["compare_runs"]

_MIN_REPEATS = 3


def _repeat_medians(run: RunResult) -> dict[tuple[str, str], list[float]]:
    out: dict[tuple[str, str], list[float]] = {}
    for suite in run.suites:
        for op in suite.operations:
            medians = [
                float(r["median"]) for r in op.repeats if isinstance(r.get("median"), int | float)
            ]
            if medians:
                out[(suite.name, f"op:{op.name} median")] = medians
    return out


def compare_runs(
    a: RunResult, b: RunResult, min_effect: dict[str, float] | None = None
) -> list[MetricComparison]:
    """B against A, figure by figure (A is the base)."""
    effects = min_effect or {}
    fa = {(f.suite, f.metric): f for f in run_figures(a)}
    fb = {(f.suite, f.metric): f for f in run_figures(b)}
    ra, rb = _repeat_medians(a), _repeat_medians(b)
    out: list[MetricComparison] = []
    for key in list(fa) + [k for k in fb if k not in fa]:
        base, cand = fa.get(key), fb.get(key)
        ref = cand or base
        assert ref is not None
        c = MetricComparison(
            suite=key[0],
            metric=key[1],
            unit=ref.unit,
            base=base.value if base else None,
            candidate=cand.value if cand else None,
            method="single",
            state="info",
        )
        if base is None:
            c.state, c.detail = "new", "only in B"
        elif cand is None:
            c.detail = "only in A"
        elif ref.unit == "ratio":
            c.change = cand.value - base.value
        elif base.value > 0:
            c.change = cand.value / base.value - 1.0
        xs, ys = ra.get(key, []), rb.get(key, [])
        if (
            base
            and cand
            and len(xs) >= _MIN_REPEATS
            and len(ys) >= _MIN_REPEATS
            and c.change is not None
        ):
            effect = min_effect_for(key[1], effects)
            slower = mann_whitney_u(ys, xs).p_greater  # H1: B's medians above A's
            c.p_value, c.samples, c.min_effect = slower, len(xs) + len(ys), effect
            if slower < 0.05 and c.change > effect:
                c.state = "regression"
            elif mann_whitney_u(xs, ys).p_greater < 0.05 and c.change < -effect:
                c.state = "improvement"
            else:
                c.state = "within-noise"
            c.detail = f"Mann–Whitney over {len(xs)} + {len(ys)} repeat medians"
        out.append(c)
    return out
