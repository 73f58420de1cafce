"""artillery-plugin-apdex: classify each response's total time, score the run.

With ``config.plugins.apdex`` every final response of a scenario adds to
``apdex.satisfied`` (total <= T), ``apdex.tolerated`` (<= 4T) or
``apdex.frustrated``; the plugin writes all three counters on every response
(zero increments included), so they are in the report even when 0. T is
``config.apdex.threshold``, else ``config.plugins.apdex.threshold``, else
500 ms. With ``config.apdex`` set the score ``(s + t/2) / (s + t + f)`` is
also a name ``ensure`` conditions may use (``apdex``).
"""

from __future__ import annotations

__all__ = ["APDEX_COUNTERS", "APDEX_FRUSTRATED", "APDEX_SATISFIED", "APDEX_TOLERATED", "classify"]

APDEX_SATISFIED = "apdex.satisfied"
APDEX_TOLERATED = "apdex.tolerated"
APDEX_FRUSTRATED = "apdex.frustrated"
APDEX_COUNTERS = (APDEX_SATISFIED, APDEX_TOLERATED, APDEX_FRUSTRATED)


def classify(total_ms: float, threshold_ms: float) -> str:
    """The counter one response adds 1 to."""
    if total_ms <= threshold_ms:
        return APDEX_SATISFIED
    if total_ms <= 4 * threshold_ms:
        return APDEX_TOLERATED
    return APDEX_FRUSTRATED
