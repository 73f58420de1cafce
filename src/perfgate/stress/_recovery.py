"""Recovery: after the load drops, do latency and errors return to the warm-up level?

The warm-up level is the first phase's merged p95 and error rate. The load
*drops* at the first second after the peak where the rate actually sent
falls below half of the peak (sent, not scheduled: a generator running late
delivers its peak after the schedule does). The API has recovered at the earliest second from
which every later window (with enough samples) is within tolerance of the
warm-up level; the recovery time is that second minus the drop. A run whose
load never drops cannot say (inconclusive); one that never gets back fails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from perfgate.stress._series import Second, WindowStat, window

__all__ = ["Recovery", "RecoveryTolerance", "load_drop", "recovery"]

RecoveryStatus = Literal["recovered", "not_recovered", "no_drop", "insufficient"]


@dataclass(frozen=True)
class RecoveryTolerance:
    """Back to normal: p95 ≤ warm-up × factor + slack, errors ≤ warm-up + slack."""

    p95_factor: float = 1.5
    p95_slack_ms: float = 10.0
    error_rate_slack: float = 0.01
    window_s: int = 5
    min_samples: int = 50
    quantile: float = 0.95

    def p95_limit(self, baseline_ms: float) -> float:
        return baseline_ms * self.p95_factor + self.p95_slack_ms


@dataclass(frozen=True)
class Recovery:
    status: RecoveryStatus
    baseline_p95_ms: float | None = None
    baseline_error_rate: float | None = None
    p95_limit_ms: float | None = None
    drop_at_s: int | None = None
    recovered_at_s: int | None = None
    recovery_time_s: float | None = None
    final_p95_ms: float | None = None
    final_error_rate: float | None = None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_drop(seconds: Sequence[Second], smooth_s: int = 5) -> int | None:
    """The first second after the peak where the offered rate falls below half of it."""
    if not seconds:
        return None
    # What was actually sent: a generator running late delivers the peak after its schedule.
    sent = any(s.requests for s in seconds)
    rates = [float(s.requests) if sent else s.offered for s in seconds]
    smooth = [
        sum(rates[max(0, i - smooth_s + 1) : i + 1]) / min(smooth_s, i + 1)
        for i in range(len(rates))
    ]
    peak = max(smooth)
    if peak <= 0:
        return None
    last_peak = max(i for i, v in enumerate(rates) if v >= 0.8 * peak)
    for i in range(last_peak + 1, len(seconds)):
        if 0 < rates[i] <= 0.5 * peak:
            return seconds[i].t
    return None


def _ok(w: WindowStat, limit_ms: float, max_err: float) -> bool:
    return w.percentile_ms <= limit_ms and w.error_rate <= max_err


def recovery(
    seconds: Sequence[Second],
    *,
    warmup: tuple[int, int],
    tolerance: RecoveryTolerance | None = None,
) -> Recovery:
    """Judge recovery; ``warmup`` is the [start, end) seconds of the warm-up phase."""
    tol = tolerance or RecoveryTolerance()
    base = window(seconds, warmup[0], warmup[1], tol.quantile)
    if base.samples < tol.min_samples:
        return Recovery(
            "insufficient", reason=f"warm-up had {base.samples} samples (< {tol.min_samples})"
        )
    limit = tol.p95_limit(base.percentile_ms)
    max_err = base.error_rate + tol.error_rate_slack
    common: dict[str, Any] = {
        "baseline_p95_ms": round(base.percentile_ms, 3),
        "baseline_error_rate": round(base.error_rate, 5),
        "p95_limit_ms": round(limit, 3),
    }
    drop = load_drop(seconds)
    if drop is None:
        return Recovery(
            "no_drop", reason="the load never dropped after its peak (no cool-down)", **common
        )
    loaded = [s for s in seconds if s.t >= drop and (s.offered > 0 or s.requests > 0)]
    if not loaded:
        return Recovery("insufficient", drop_at_s=drop, reason="no load after the drop", **common)
    end = loaded[-1].t + 1
    windows = [
        w
        for w in (
            window(seconds, s, s + tol.window_s, tol.quantile)
            for s in range(drop, end - tol.window_s + 1)
        )
        if w.attempts >= tol.min_samples
    ]
    if not windows:
        return Recovery(
            "insufficient",
            drop_at_s=drop,
            reason=f"no {tol.window_s}-s window after the drop had {tol.min_samples} samples",
            **common,
        )
    last = windows[-1]
    final: dict[str, Any] = {
        "final_p95_ms": None if math.isnan(last.percentile_ms) else round(last.percentile_ms, 3),
        "final_error_rate": round(last.error_rate, 5),
    }
    recovered_from: WindowStat | None = None
    for w in reversed(windows):  # the earliest start from which every later window is fine
        if not _ok(w, limit, max_err):
            break
        recovered_from = w
    if recovered_from is None:
        return Recovery(
            "not_recovered",
            drop_at_s=drop,
            reason=(
                f"still p95 {last.percentile_ms:.1f} ms (limit {limit:.1f}) and error rate "
                f"{last.error_rate:.1%} (limit {max_err:.1%}) at the end of the run"
            ),
            **common,
            **final,
        )
    return Recovery(
        "recovered",
        drop_at_s=drop,
        recovered_at_s=recovered_from.start,
        recovery_time_s=float(recovered_from.start - drop),
        reason=f"within p95 ≤ {limit:.1f} ms and error rate ≤ {max_err:.1%} from {recovered_from.start} s",
        **common,
        **final,
    )
