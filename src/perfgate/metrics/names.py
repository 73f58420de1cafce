"""Metric names, in one place.

Artillery's names keep Artillery's meaning (``http.response_time`` is time to
first byte after the request was written); perfgate's own figures live under
``perfgate.*``. Per-endpoint, per-status-class and per-scenario metrics are a
fixed prefix followed by the name, so an endpoint called ``/v1.2/x`` needs no
escaping: everything after the prefix is the name.
"""

from __future__ import annotations

__all__ = [
    "ENDPOINT_PREFIX",
    "ENDPOINT_TOTAL_PREFIX",
    "HTTP_CODES_PREFIX",
    "endpoint_codes",
    "endpoint_errors",
    "endpoint_response_time",
    "endpoint_total",
    "error_code",
    "http_code",
    "scenario_total",
    "status_class_response_time",
    "status_class_total",
]

# Artillery counters and summaries
HTTP_REQUESTS = "http.requests"
HTTP_RESPONSES = "http.responses"
HTTP_REQUEST_RATE = "http.request_rate"
HTTP_DOWNLOADED_BYTES = "http.downloaded_bytes"
HTTP_RESPONSE_TIME = "http.response_time"  # ms, request written -> first byte
HTTP_TOTAL = "http.total"  # extendedMetrics only
HTTP_DNS = "http.dns"
HTTP_TCP = "http.tcp"
HTTP_TLS = "http.tls"
HTTP_CODES_PREFIX = "http.codes."
VUSERS_CREATED = "vusers.created"
VUSERS_CREATED_BY_NAME = "vusers.created_by_name."
VUSERS_COMPLETED = "vusers.completed"
VUSERS_FAILED = "vusers.failed"
VUSERS_SKIPPED = "vusers.skipped"
VUSERS_SESSION_LENGTH = "vusers.session_length"
ERRORS_PREFIX = "errors."
ENDPOINT_PREFIX = "plugins.metrics-by-endpoint."
ENDPOINT_RT_PREFIX = "plugins.metrics-by-endpoint.response_time."
EXPECT_OK = "plugins.expect.ok"
EXPECT_FAILED = "plugins.expect.failed"

# perfgate's own figures (ms): request start -> last body byte, and its parts
TOTAL = "perfgate.total"
CONNECT = "perfgate.connect"
POOL_WAIT = "perfgate.pool_wait"
ENDPOINT_TOTAL_PREFIX = "perfgate.endpoint.total."
STATUS_TOTAL_PREFIX = "perfgate.status.total."
SCENARIO_TOTAL_PREFIX = "perfgate.scenario.total."
ARRIVALS_PLANNED = "perfgate.arrivals.planned"
ARRIVALS_LATE = "perfgate.arrivals.late"
ARRIVAL_LAG = "perfgate.arrival_lag"  # ms behind schedule, per arrival


def http_code(code: int) -> str:
    return f"{HTTP_CODES_PREFIX}{code}"


def error_code(code: str) -> str:
    return f"{ERRORS_PREFIX}{code}"


def endpoint_codes(endpoint: str, code: int) -> str:
    return f"{ENDPOINT_PREFIX}{endpoint}.codes.{code}"


def endpoint_errors(endpoint: str, code: str) -> str:
    return f"{ENDPOINT_PREFIX}{endpoint}.errors.{code}"


def endpoint_response_time(endpoint: str) -> str:
    return f"{ENDPOINT_RT_PREFIX}{endpoint}"


def endpoint_total(endpoint: str) -> str:
    return f"{ENDPOINT_TOTAL_PREFIX}{endpoint}"


def status_class_response_time(status: int) -> str:
    return f"{HTTP_RESPONSE_TIME}.{status // 100}xx"


def status_class_total(status: int) -> str:
    return f"{STATUS_TOTAL_PREFIX}{status // 100}xx"


def scenario_total(scenario: str) -> str:
    return f"{SCENARIO_TOTAL_PREFIX}{scenario}"
