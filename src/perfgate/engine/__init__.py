"""The load engine: scheduler, virtual users, transport, metrics recording.

- :func:`run_script` — an Artillery script's phases, open model, in worker processes
- :mod:`rounds` — the A/B round driver: one arm's arrivals at a time, over run_worker's loop
- :func:`build_request` / :class:`ResponseView` — one request on the wire, one response as seen
- :func:`endpoint_cpu_ms` — a local target's CPU per request of each endpoint (A/B)
``scheduler`` and ``transport`` are exported as modules (their functions are
used by name: ``scheduler.arrival_times``). Other packages import from here only.
"""

from perfgate.engine import scheduler, transport
from perfgate.engine.capture import apply_captures
from perfgate.engine.cpu_share import endpoint_cpu_ms, process_cpu_seconds
from perfgate.engine.progress import Progress
from perfgate.engine.response import ResponseView
from perfgate.engine.rounds import (
    ChunkRecord,
    RoundRecord,
    closed_loop_chunk,
    merge_rounds,
    run_before,
    run_round,
)
from perfgate.engine.runner import ProgressSink, run_script
from perfgate.engine.wire import build_request
from perfgate.engine.workers import Merged, default_workers

__all__ = [
    "ChunkRecord",
    "Merged",
    "Progress",
    "ProgressSink",
    "ResponseView",
    "RoundRecord",
    "apply_captures",
    "build_request",
    "closed_loop_chunk",
    "default_workers",
    "endpoint_cpu_ms",
    "merge_rounds",
    "process_cpu_seconds",
    "run_before",
    "run_round",
    "run_script",
    "scheduler",
    "transport",
]
