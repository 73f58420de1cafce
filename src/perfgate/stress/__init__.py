"""Stress testing: the seed's success criteria as measured verdicts.

- :func:`analyse` — breaking point, recovery, leak, crash, connections of one run (pure)
- :func:`stress_checks` — the seed's Load and Stress Testing criteria as checks
- :func:`run_stress` — start/monitor the target, run the script, analyse (``perfgate stress``)
- :func:`find_limit` — ramp, then bisect: the maximum sustainable rate (``--find-limit``)
"""

from perfgate.stress._analyse import StressConfig, StressReport, analyse, phase_rows
from perfgate.stress._breaking import BreakingPoint, Slo
from perfgate.stress._checks import CRITERIA, stress_checks
from perfgate.stress._find_limit import LimitResult, find_limit
from perfgate.stress._leak import LeakThresholds
from perfgate.stress._orchestrate import recovery_probe, run_stress, stress_run_result
from perfgate.stress._recovery import RecoveryTolerance
from perfgate.stress._series import seconds_of, window

__all__ = [
    "CRITERIA",
    "BreakingPoint",
    "LeakThresholds",
    "LimitResult",
    "RecoveryTolerance",
    "Slo",
    "StressConfig",
    "StressReport",
    "analyse",
    "find_limit",
    "phase_rows",
    "recovery_probe",
    "run_stress",
    "seconds_of",
    "stress_checks",
    "stress_run_result",
    "window",
]
