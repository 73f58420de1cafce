"""The gate: measure, compare against a baseline, decide, report.

- :func:`run_gate` — the whole gate as one call (``perfgate gate``)
- :func:`decide` — comparisons and checks to one verdict (pure)
- :func:`slo_checks` — the seed's acceptable performance as checks (pure)
- :func:`compare_runs` — two stored runs side by side (``perfgate compare``)
- :func:`run_calibration` — this API's launch-level SDs (``perfgate calibrate``)
"""

from perfgate.gate.calibrate import CalibrateOptions, CalibrationOutcome, run_calibration
from perfgate.gate.console import verdict_text
from perfgate.gate.decide import decide
from perfgate.gate.git import is_git_repo
from perfgate.gate.metric_names import planned_metric_names
from perfgate.gate.plan import PlannedSuite, plan_suites
from perfgate.gate.run import GateOptions, GateOutcome, run_gate
from perfgate.gate.side_by_side import compare_runs
from perfgate.gate.slo import slo_checks

__all__ = [
    "CalibrateOptions",
    "CalibrationOutcome",
    "GateOptions",
    "GateOutcome",
    "PlannedSuite",
    "compare_runs",
    "decide",
    "is_git_repo",
    "plan_suites",
    "planned_metric_names",
    "run_calibration",
    "run_gate",
    "slo_checks",
    "verdict_text",
]
