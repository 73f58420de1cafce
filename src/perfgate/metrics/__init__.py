"""Measurement primitives: mergeable histograms, metric sets and names, what a failure is."""

from perfgate.metrics import names
from perfgate.metrics.histogram import Histogram
from perfgate.metrics.metricset import EndpointView, MetricSet

from perfgate.metrics import failures  # isort: skip  (needs names and metricset first)
from perfgate.metrics.failures import DEFAULT_POLICY, FailurePolicy  # isort: skip

__all__ = [
    "DEFAULT_POLICY",
    "EndpointView",
    "FailurePolicy",
    "Histogram",
    "MetricSet",
    "failures",
    "names",
]
