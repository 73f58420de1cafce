"""Measurement primitives: mergeable histograms, metric sets and names."""

from perfgate.metrics import names
from perfgate.metrics.histogram import Histogram
from perfgate.metrics.metricset import EndpointView, MetricSet

__all__ = ["EndpointView", "Histogram", "MetricSet", "names"]
