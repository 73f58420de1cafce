"""``--find-limit``: the maximum sustainable rate, searched for.

1. Ramp from a low rate towards a ceiling, stopping as soon as the SLO has
   broken (two windows in a row over it, see ``_breaking``).
2. Check the ramp's break rate with a short steady step (growing it by half
   while it holds), then bisect between the highest rate that held and the
   lowest that broke, with short steady steps: a step passes when, after its first fifth
   (warm-up), the merged p95, the error rate and the backlog are within the
   SLO and the generator kept to its schedule. A step needs the SLO's
   ``min_samples`` requests to pass (it is lengthened to get them), so a 5%
   error rate is never taken for 0% by a short step. When the break rate
   fails and nothing held yet, the ramp's starting rate is checked next:
   failing there too, there is no sustainable rate, and the result says why.
   Failed requests are counted as ``metrics.failures`` defines them.
3. Report the highest passing rate, and the bracket [limit, first failing
   rate) as its confidence. A step the generator could not deliver is never
   counted against the API: the result then says the generator bounds it.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from perfgate.metrics import DEFAULT_POLICY, FailurePolicy
from perfgate.result import SuiteResult
from perfgate.script import Phase, Script
from perfgate.stress._breaking import BreakingPoint, Slo, breaking_point, rolling_windows
from perfgate.stress._orchestrate import CaptureProgress, command_service_spec
from perfgate.stress._series import (
    Second,
    WindowStat,
    offered_per_second,
    second_of_bucket,
    window,
)
from perfgate.target import ServiceSpec

__all__ = ["LimitResult", "LimitStep", "find_limit", "judge_step"]


@dataclass(frozen=True)
class LimitStep:
    rate: float
    duration_s: float
    ok: bool
    generator_limited: bool
    p95_ms: float | None
    error_rate: float
    samples: int
    reason: str


@dataclass
class LimitResult:
    limit: float | None  # highest rate that held (arrivals/s)
    upper: float | None  # lowest rate that failed: the limit is in [limit, upper)
    ramp: dict[str, Any] = field(default_factory=dict)
    steps: list[LimitStep] = field(default_factory=list)
    generator_bound: bool = False  # the generator, not the API, set ``upper``
    reached_ceiling: bool = False  # the ramp never broke the SLO
    reason: str = ""  # why the lowest failing rate failed (the ramp's or a step's verdict)
    failures: str = "5xx or no response"  # what counted as a failed request

    @property
    def relative_width(self) -> float | None:
        if self.limit is None or self.upper is None or self.limit <= 0:
            return None
        return (self.upper - self.limit) / self.limit

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["relative_width"] = self.relative_width
        return out

    def summary(self) -> str:
        if self.reached_ceiling:
            return f"limit not reached: the SLO held up to {self.limit:g}/s (the ramp's ceiling)"
        if self.limit is None:
            why = f" ({self.reason}; failed = {self.failures})" if self.reason else ""
            return f"no sustainable rate found: even {self.upper:g}/s broke the SLO{why}"
        width = self.relative_width
        conf = f" (between {self.limit:g} and {self.upper:g}/s, ±{width / 2:.0%})" if width else ""
        bound = (
            "; the generator, not the API, was the limit above it" if self.generator_bound else ""
        )
        return f"maximum sustainable rate: {self.limit:g} arrivals/s{conf}{bound}"


def judge_step(seconds: list[Second], slo: Slo, *, rate: float, duration_s: float) -> LimitStep:
    """Did a steady step at ``rate`` hold the SLO (after its first fifth)?"""
    skip = math.ceil(duration_s / 5)
    end = max((s.t for s in seconds), default=0) + 1
    w: WindowStat = window(seconds, skip, end, slo.quantile)
    attempts = w.attempts
    p95 = None if math.isnan(w.percentile_ms) else round(w.percentile_ms, 3)
    expected = rate * (end - skip)
    reasons = []
    if attempts < slo.min_samples:  # too few to tell an error rate of 1% from 5%
        reasons.append(f"too few answers ({attempts} of ~{expected:.0f}; {slo.min_samples} needed)")
    if p95 is not None and p95 >= slo.p95_ms:
        reasons.append(f"p95 {p95:.0f} ms")
    if attempts and w.error_rate >= slo.error_rate:
        reasons.append(
            f"error rate {w.error_rate:.1%} ≥ {slo.error_rate:.0%} ({w.failed} of {attempts} failed)"
        )
    if w.requests and attempts < slo.backlog_ratio * w.requests:
        reasons.append("backlog")
    return LimitStep(
        rate=rate,
        duration_s=duration_s,
        ok=not reasons,
        generator_limited=w.generator_caused(slo.p95_ms),
        p95_ms=p95,
        error_rate=round(w.error_rate, 5),
        samples=w.samples,
        reason=", ".join(reasons) or "within the SLO",
    )


def _seconds(
    suite: SuiteResult, capture: CaptureProgress, phases: list[Phase], policy: FailurePolicy
) -> list[Second]:
    from perfgate.stress._series import GeneratorLimits, generator_limits, seconds_of

    offered = {t: float(n) for t, n in offered_per_second(phases).items()}
    limits = generator_limits(suite) or GeneratorLimits({}, set(offered))
    return seconds_of(
        suite,
        offered=offered,
        histograms=capture.second_histograms(),
        limits=limits,
        policy=policy,
    )


def step_length(rate: float, step_s: float, slo: Slo, *, longest_s: float = 60.0) -> float:
    """A steady step long enough for ``slo.min_samples`` requests after its warm-up fifth."""
    measured_s = 1.2 * slo.min_samples / max(rate, 1e-9)
    needed = measured_s * 1.25 + 1.0  # judge_step skips the first fifth, rounded up
    return max(step_s, min(max(longest_s, step_s), needed))


def find_limit(
    script: Script | str | Path,
    *,
    target: str | None = None,
    environment: str | None = None,
    start: str | None = None,
    ready: str | None = None,
    service: ServiceSpec | None = None,
    slo: Slo | None = None,
    workers: int | None = None,
    time_scale: float = 1.0,
    ramp_from: float = 10.0,
    ramp_to: float = 2000.0,
    ramp_s: float = 60.0,
    step_s: float = 15.0,
    precision: float = 0.1,
    max_steps: int = 6,
    log: Callable[[str], Any] | None = None,
    failure_policy: FailurePolicy | None = None,
) -> LimitResult:
    """Search the maximum sustainable arrival rate of ``script``'s scenarios (see module doc)."""
    from perfgate.script import load_script
    from perfgate.target import Service

    slo = slo or Slo()
    say = log or (lambda _msg: None)
    if not isinstance(script, Script):  # (a loaded Script keeps the target it was loaded with)
        if target is None and service is not None:
            target = service.base_url  # load the service we start
        script = load_script(script, environment=environment, target=target)
    # Requests slower than this are over the SLO anyway; don't wait 30 s for them between steps.
    http = dataclasses.replace(script.http, timeout_s=min(script.http.timeout_s, 5.0))
    base = dataclasses.replace(script, http=http, ensure=None)
    if service is None and start:
        service = command_service_spec(start, ready, base.target)
    svc = Service(service).start() if service is not None else None
    try:
        if svc is not None:
            svc.wait_ready()
        return _search(
            base,
            slo,
            workers=workers,
            ramp=(ramp_from, ramp_to, max(2.0, ramp_s * time_scale)),
            step_s=max(2.0, step_s * time_scale),
            precision=precision,
            max_steps=max_steps,
            say=say,
            settle_url=(service.ready_url_resolved if service else None) or ready or base.target,
            policy=failure_policy or DEFAULT_POLICY,
        )
    finally:
        if svc is not None:
            svc.stop()


def settle(url: str, *, fast_ms: float = 50.0, max_wait_s: float = 30.0) -> float:
    """Wait until ``url`` answers fast twice in a row (the previous step's backlog drained).

    Any HTTP answer counts (a 404 is fast too); returns the seconds waited.
    """
    import time
    import urllib.error
    import urllib.request

    started = time.monotonic()
    fast = 0
    for _ in range(int(max_wait_s * 10)):  # bounded: at most max_wait_s of 0.1-s pauses and probes
        if time.monotonic() - started > max_wait_s:
            break
        t0 = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=2.0) as resp:
                resp.read()
            answered = True
        except urllib.error.HTTPError:
            answered = True
        except (OSError, ValueError):
            answered = False
        elapsed_ms = (time.monotonic() - t0) * 1000.0
        fast = fast + 1 if answered and elapsed_ms < fast_ms else 0
        if fast >= 2:
            break
        time.sleep(0.1)
    return time.monotonic() - started


def _run(
    script: Script, phases: list[Phase], workers: int | None, on_update: Any = None
) -> tuple[SuiteResult, CaptureProgress, threading.Event]:
    from perfgate.engine import run_script

    stop = threading.Event()
    capture = CaptureProgress(on_update=on_update(stop) if on_update else None)
    suite = run_script(
        dataclasses.replace(script, phases=phases),
        workers=workers,
        progress=capture,
        stop_event=stop,
        handle_sigint=False,
    )
    return suite, capture, stop


def _search(
    script: Script,
    slo: Slo,
    *,
    workers: int | None,
    ramp: tuple[float, float, float],
    step_s: float,
    precision: float,
    max_steps: int,
    say: Callable[[str], Any],
    settle_url: str,
    policy: FailurePolicy = DEFAULT_POLICY,
) -> LimitResult:
    low, high, ramp_len = ramp
    # a short ramp (time-scaled) needs shorter windows to see two of them in a row
    slo = dataclasses.replace(slo, window_s=max(2, min(slo.window_s, round(ramp_len / 6))))
    phases = [
        Phase(index=0, name="find-limit ramp", duration_s=ramp_len, arrival_rate=low, ramp_to=high)
    ]
    offered = {t: float(n) for t, n in offered_per_second(phases).items()}

    def watch(stop: threading.Event) -> Callable[[Any, float], None]:
        def update(merged: Any, elapsed: float) -> None:
            seconds = [
                second_of_bucket(t, offered.get(t, 0.0), b, policy)
                for t, b in sorted(merged.seconds.items())
            ]
            if breaking_point(rolling_windows(seconds, slo), slo).status == "broken":
                stop.set()  # broken: no need to ramp on

        return update

    say(f"ramp {low:g} -> {high:g}/s over {ramp_len:.0f} s")
    suite, capture, _ = _run(script, phases, workers, watch)
    bp: BreakingPoint = breaking_point(
        rolling_windows(_seconds(suite, capture, phases, policy), slo), slo
    )
    result = LimitResult(
        limit=None, upper=None, ramp=bp.to_dict(), reason=bp.reason, failures=policy.describe()
    )
    say(
        f"ramp: {bp.status} {bp.reason} (sustained {bp.max_sustained_rate}, at break {bp.rate_at_break})"
    )
    if bp.status == "held" or bp.status == "insufficient":
        result.limit = bp.max_sustained_rate
        result.reached_ceiling = bp.status == "held"
        return result
    lo = bp.max_sustained_rate or 0.0
    if bp.status == "generator_limited":
        hi = bp.generator_limited_rate or high
        result.generator_bound = True
    else:
        hi = bp.rate_at_break or high
    if hi <= lo:
        hi = lo * 1.5 if lo else low
    lo, hi = _bisect(
        script,
        slo,
        result,
        (lo, hi),
        workers=workers,
        step_s=step_s,
        precision=precision,
        max_steps=max_steps,
        say=say,
        settle_url=settle_url,
        low=low,
        policy=policy,
    )
    result.limit = lo if lo > 0 else None
    result.upper = hi
    return result


def _bisect(
    script: Script,
    slo: Slo,
    result: LimitResult,
    bracket: tuple[float, float],
    *,
    workers: int | None,
    step_s: float,
    precision: float,
    max_steps: int,
    say: Callable[[str], Any],
    settle_url: str,
    low: float,
    policy: FailurePolicy,
) -> tuple[float, float]:
    """Constant-rate steps inside ``bracket`` (held, over) until it is ``precision`` wide.

    The ramp's break is an estimate (a fast ramp overshoots, a backlog lags):
    the first step checks that rate; while it holds, the bracket grows by
    half. Each step lands in ``result.steps``; returns the final bracket.
    """
    lo, hi = bracket
    verified = False
    for _ in range(max_steps):
        if verified and lo > 0 and (hi - lo) / lo <= precision:
            break
        if verified and lo <= 0 and hi <= low:
            break  # failing at the ramp's starting rate: no sustainable rate to find
        waited = settle(settle_url)
        if waited > 1.0:
            say(f"waited {waited:.1f} s for the target to drain its backlog")
        # nothing held yet: check the ramp's starting rate before bisecting below the break
        rate = hi if not verified else (low if lo <= 0 else round(math.sqrt(lo * hi), 1))
        length = step_length(rate, step_s, slo)
        step_phases = [
            Phase(index=0, name=f"find-limit step {rate:g}/s", duration_s=length, arrival_rate=rate)
        ]
        step_suite, step_capture, _ = _run(script, step_phases, workers)
        step = judge_step(
            _seconds(step_suite, step_capture, step_phases, policy),
            slo,
            rate=rate,
            duration_s=length,
        )
        result.steps.append(step)
        say(f"step {rate:g}/s: {'ok' if step.ok else 'over'} ({step.reason}, p95 {step.p95_ms} ms)")
        if step.ok and not step.generator_limited:
            lo = rate
            if not verified:
                hi = round(rate * 1.5, 1)
        else:
            hi = rate
            verified = True
            result.generator_bound = result.generator_bound or step.generator_limited
            result.reason = f"at {rate:g}/s: {step.reason}"
    return lo, hi
