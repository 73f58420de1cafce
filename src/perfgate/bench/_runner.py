"""The timing loop: setup once, then each operation's warmup and samples.

Every request goes through the load engine's transport on a kept-alive
connection (one per concurrent worker, opened during warmup); a sample is
the transport's ``total`` figure — ``perf_counter_ns`` from request start
to the last body byte. Templates render before the clock starts.

A failed sample (status outside 2xx/3xx, or a transport error) is counted
and its time kept apart, never silently dropped. With ``repeat > 1`` the
whole suite runs K times, operations shuffled per run (seeded), and each
operation gets its run-to-run consistency figures.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from perfgate.bench._suite import Operation, Suite
from perfgate.bench._summary import budget_checks, repeat_summary, summarize
from perfgate.engine import ResponseView, apply_captures, build_request, transport
from perfgate.result import BenchOperation, SuiteResult
from perfgate.script import RequestStep

__all__ = ["BenchSetup", "ProgressFn", "run_bench", "run_bench_async", "run_bench_setup"]

#: ``progress(event, operation_name, done, total)``; events: "setup", "start", "sample", "done", "skip".
ProgressFn = Callable[[str, str, int, int], None]


@dataclass
class _Samples:
    """What one run of one operation measured."""

    ok_ms: list[float] = field(default_factory=list)
    failed_ms: list[float] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)  # status or error code -> count
    reconnects: int = 0


@dataclass
class BenchSetup:
    """What a suite's setup steps left: the variables, what they failed to provide, the log."""

    vars: dict[str, Any]
    missing: dict[str, str]  # variable -> why setup did not provide it
    log: list[str]


def run_bench(
    suite: Suite,
    *,
    target: str | None = None,
    repeat: int = 1,
    seed: int | None = None,
    progress: ProgressFn | None = None,
) -> SuiteResult:
    """Run a suite and return its :class:`SuiteResult` (``kind="bench"``).

    ``target`` overrides the suite's; ``repeat`` runs the suite that many
    times in shuffled order (``seed`` makes the order reproducible).
    Budget checks are filled in ``result.checks``.
    """
    return asyncio.run(
        run_bench_async(suite, target=target, repeat=repeat, seed=seed, progress=progress)
    )


async def run_bench_async(
    suite: Suite,
    *,
    target: str | None = None,
    repeat: int = 1,
    seed: int | None = None,
    progress: ProgressFn | None = None,
    setup: BenchSetup | None = None,
) -> SuiteResult:
    """:func:`run_bench` inside a running event loop (the gate's).

    ``setup``: what an earlier :func:`run_bench_setup` against the same target
    captured; the suite's setup steps are then not run again (A/B runs the
    suite in rounds and signs in once per arm).
    """
    if repeat < 1:
        raise ValueError("repeat must be at least 1")
    base = (target or suite.target).rstrip("/")
    report = progress or _no_progress
    started = time.monotonic()
    result = SuiteResult(name=suite.name, kind="bench", source=suite.source)
    result.warnings.extend(suite.warnings)

    if setup is None:
        setup = await _run_setup(suite, base, report)
    if setup.log:
        result.extra["setup"] = setup.log

    runs: dict[str, list[_Samples]] = {op.name: [] for op in suite.operations}
    skipped: dict[str, str] = {}
    for op in suite.operations:
        lacking = sorted(op.needs & setup.missing.keys())
        if lacking:
            skipped[op.name] = "; ".join(dict.fromkeys(setup.missing[v] for v in lacking))
            report("skip", op.name, 0, 0)

    rng = random.Random(seed)
    order_log: list[list[str]] = []
    for run_index in range(repeat):
        ops = [op for op in suite.operations if op.name not in skipped]
        if repeat > 1:
            rng.shuffle(ops)  # interleave: drift of the machine spreads over every operation
        order_log.append([op.name for op in ops])
        for op in ops:
            report("start", op.name, run_index, repeat)
            runs[op.name].append(await _measure(op, base, setup.vars, report))
            report("done", op.name, run_index, repeat)
    if repeat > 1:
        result.extra["order"] = order_log
        result.extra["seed"] = seed

    for op in suite.operations:
        result.operations.append(_operation_result(op, runs[op.name], skipped.get(op.name), seed))
    result.duration_s = time.monotonic() - started
    result.checks = budget_checks(result)
    return result


def operation_extra(
    op: Operation, *, codes: dict[str, int], failed_ms: list[float], reconnects: int
) -> dict[str, Any]:
    """What a bench operation's result records beside its samples (one run or merged rounds)."""
    return {
        "method": op.request.method.upper(),
        "url": op.request.url,
        "warmup": op.warmup,
        "concurrency": op.concurrency,
        "codes": codes,
        "failed_ms": failed_ms,
        "reconnects": reconnects,
    }


def _operation_result(
    op: Operation, runs: list[_Samples], skipped_reason: str | None, seed: int | None
) -> BenchOperation:
    ok = [x for r in runs for x in r.ok_ms]
    failed = sum(len(r.failed_ms) for r in runs)
    codes: dict[str, int] = {}
    for r in runs:
        for code, n in r.codes.items():
            codes[code] = codes.get(code, 0) + n
    summary = summarize(ok, failed) if skipped_reason is None else {}
    bench_op = BenchOperation(
        name=op.name,
        samples_ms=ok,
        failed=failed,
        skipped_reason=skipped_reason,
        outliers=int(summary.get("outliers", 0)),
        summary=summary,
        budget=dict(op.budget),
        repeats=[summarize(r.ok_ms, len(r.failed_ms)) for r in runs] if len(runs) > 1 else [],
        extra=operation_extra(
            op,
            codes=codes,
            failed_ms=[x for r in runs for x in r.failed_ms],
            reconnects=sum(r.reconnects for r in runs),
        ),
    )
    if len(runs) > 1:
        bench_op.extra["consistency"] = repeat_summary([r.ok_ms for r in runs], seed=seed or 0)
    return bench_op


# -- setup ----------------------------------------------------------------------
async def run_bench_setup(
    suite: Suite, *, target: str | None = None, progress: ProgressFn | None = None
) -> BenchSetup:
    """The suite's setup steps alone, for :func:`run_bench_async`'s ``setup``."""
    return await _run_setup(suite, (target or suite.target).rstrip("/"), progress or _no_progress)


async def _run_setup(suite: Suite, base: str, report: ProgressFn) -> BenchSetup:
    vars_: dict[str, Any] = dict(suite.variables)
    missing: dict[str, str] = {}
    log: list[str] = []
    conns = transport.VUConnections()
    try:
        for i, step in enumerate(suite.setup):
            needs = suite.setup_needs[i] if i < len(suite.setup_needs) else frozenset()
            label = f"setup[{i}] {step.method.upper()} {step.url}"
            report("setup", label, i, len(suite.setup))
            lacking = sorted(needs & missing.keys())
            why: str | None
            if lacking:
                why = f"{label} not run: it needs {', '.join(lacking)}"
            else:
                why = await _setup_step(step, base, vars_, conns, suite.timeout_s, label)
            if why is not None:
                log.append(why)
            for cap in step.capture:
                if cap.as_name not in vars_ or why is not None:
                    missing.setdefault(
                        cap.as_name, why or f"{label}: capture '{cap.as_name}' found nothing"
                    )
                    vars_.pop(cap.as_name, None)
    finally:
        conns.close()
    return BenchSetup(vars_, missing, log)


async def _setup_step(
    step: RequestStep,
    base: str,
    vars_: dict[str, Any],
    conns: transport.VUConnections,
    timeout_s: float,
    label: str,
) -> str | None:
    """Run one setup request; None on success, else why it failed (no secrets)."""
    try:
        origin, data, head_only, url = _prepare(step, base, vars_)
        raw = await transport.request(
            conns, origin, data, head_only=head_only, timeout_s=timeout_s, ssl_context=_ssl(origin)
        )
    except transport.RequestFailed as exc:
        return f"{label} failed: {exc.code}"
    except ValueError as exc:
        return f"{label} failed: {exc}"
    if not 200 <= raw.status < 400:
        return f"{label} failed: HTTP {raw.status}"
    view = ResponseView(raw.status, dict(raw.header_pairs()), raw.body, url)
    failed = apply_captures(step.capture, view, vars_)
    if failed:
        return f"{label}: capture of {', '.join(failed)} failed"
    return None


# -- measuring -------------------------------------------------------------------
async def _measure(
    op: Operation, base: str, vars_: Mapping[str, Any], report: ProgressFn
) -> _Samples:
    out = _Samples()
    workers = [transport.VUConnections() for _ in range(op.concurrency)]
    warm_left = op.warmup
    todo = op.samples
    done = 0

    async def worker(conns: transport.VUConnections) -> None:
        nonlocal warm_left, todo, done
        while warm_left > 0:
            warm_left -= 1
            await _one(op, base, vars_, conns, None)
        while todo > 0:
            todo -= 1
            await _one(op, base, vars_, conns, out)
            done += 1
            if done % 10 == 0 or done == op.samples:
                report("sample", op.name, done, op.samples)

    try:
        if op.concurrency == 1:
            await worker(workers[0])
        else:
            await asyncio.gather(*(worker(c) for c in workers))
    finally:
        for c in workers:
            c.close()
    return out


async def _one(
    op: Operation,
    base: str,
    vars_: Mapping[str, Any],
    conns: transport.VUConnections,
    out: _Samples | None,
) -> None:
    """One request; records it in ``out`` (None: warmup, discarded)."""
    t0 = time.perf_counter_ns()
    try:
        origin, data, head_only, _url = _prepare(op.request, base, vars_)
        t0 = time.perf_counter_ns()
        raw = await transport.request(
            conns,
            origin,
            data,
            head_only=head_only,
            timeout_s=op.timeout_s,
            ssl_context=_ssl(origin),
        )
    except (transport.RequestFailed, ValueError) as exc:
        if out is not None:
            out.failed_ms.append((time.perf_counter_ns() - t0) / 1e6)
            code = exc.code if isinstance(exc, transport.RequestFailed) else "EINVAL"
            out.codes[code] = out.codes.get(code, 0) + 1
        return
    if out is None:
        return
    key = str(raw.status)
    out.codes[key] = out.codes.get(key, 0) + 1
    if raw.connect_ns:
        out.reconnects += 1
    ms = raw.total_ns / 1e6
    (out.ok_ms if 200 <= raw.status < 400 else out.failed_ms).append(ms)


def _prepare(
    step: RequestStep, base: str, vars_: Mapping[str, Any]
) -> tuple[transport.Origin, bytes, bool, str]:
    """Render a step against the vars and serialise it with the load engine's
    request builder; raises ValueError on a bad URL."""
    r = step.render(vars_)
    method = r.method.upper()
    origin, url, data = build_request(
        method,
        r.url,
        base_url=base,
        qs=r.qs,
        headers=r.headers,
        json=r.json,
        body=r.body,
        form=r.form,
        cookies=r.cookie,
        auth=r.auth,
    )
    return origin, data, method == "HEAD", url


_SSL_CACHE: dict[str, Any] = {}


def _ssl(origin: transport.Origin) -> Any:
    if not origin.tls:
        return None
    ctx = _SSL_CACHE.get("default")
    if ctx is None:
        ctx = _SSL_CACHE["default"] = transport.make_ssl_context(True)
    return ctx


def _no_progress(event: str, name: str, done: int, total: int) -> None:
    return None
