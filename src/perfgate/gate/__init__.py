"""The gate: measure, compare against a baseline, decide, report.

- :func:`run_gate` — the whole gate as one call (``perfgate gate``)
- :func:`decide` — comparisons and checks to one verdict (pure)
- :func:`slo_checks` — the seed's acceptable performance as checks (pure)
"""

from perfgate.gate.console import verdict_text
from perfgate.gate.decide import decide
from perfgate.gate.metric_names import planned_metric_names
from perfgate.gate.run import GateOptions, GateOutcome, run_gate
from perfgate.gate.slo import slo_checks

__all__ = [
    "GateOptions",
    "GateOutcome",
    "decide",
    "planned_metric_names",
    "run_gate",
    "slo_checks",
    "verdict_text",
]
