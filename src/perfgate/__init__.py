"""perfgate: a performance-regression gate for HTTP APIs.

The public API is listed in ``__all__``; importing perfgate runs nothing.
"""

from perfgate.errors import (
    ConfigError,
    GitHubError,
    PerfgateError,
    ServiceError,
    StoreError,
    TransportError,
)
from perfgate.metrics import Histogram, MetricSet
from perfgate.result import BenchOperation, Check, RunResult, SchedulerStats, SuiteResult

__version__ = "0.1.0"

__all__ = [
    "BenchOperation",
    "Check",
    "ConfigError",
    "GitHubError",
    "Histogram",
    "MetricSet",
    "PerfgateError",
    "RunResult",
    "SchedulerStats",
    "ServiceError",
    "StoreError",
    "SuiteResult",
    "TransportError",
    "__version__",
]
