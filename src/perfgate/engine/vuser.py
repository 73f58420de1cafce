"""One virtual user: runs a scenario's flow with the script model's meaning.

Requests, captures (a failed strict capture ends the user: ``vusers.failed``),
``ifTrue``, ``think``, ``loop``, ``log``, function steps and hooks (Python
processors, with the contract of docs/processors.md: ``context`` and
``events`` per user, what ``events`` records goes into the metrics),
``expect`` (counted under ``plugins.expect.*``; failures do not end the user,
they make the run exit 21). A request that gets no response (timeout,
refused, reset) ends the user as in Artillery. docs/artillery-compat.md
lists where this follows Artillery 2's code and where it differs.

Everything per step that does not depend on the user's vars (endpoint
metric names, method, whether a body is expected) is computed once per run
in :class:`StepPlan`; the hot path renders, builds bytes, sends, records.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from multidict import CIMultiDict, CIMultiDictProxy

from perfgate.engine import transport
from perfgate.engine.capture import apply_captures
from perfgate.engine.cpu_share import BusyPeriodMeter
from perfgate.engine.expect import check_expectations
from perfgate.engine.recorder import EndpointNames, Recorder, endpoint_name
from perfgate.engine.response import ResponseView
from perfgate.engine.wire import build_request
from perfgate.errors import PerfgateError
from perfgate.metrics import names
from perfgate.script import (
    Events,
    FunctionStep,
    LogStep,
    LoopStep,
    RequestStep,
    Scenario,
    Script,
    Step,
    ThinkStep,
    call_hook,
    processor_context,
)

__all__ = ["FlowContext", "StepPlan", "build_request", "run_flow", "run_vuser", "think_seconds"]

_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_MAX_REDIRECTS = 10
MAX_WHILE_ITERATIONS = 1_000_000  # a whileTrue loop without count ends here
CAPTURE_FAILED = "Failed capture or match"


class VUserFailed(PerfgateError):
    """Ends one virtual user (counted as ``vusers.failed``)."""


@dataclass
class StepPlan:
    """A request step's per-run constants."""

    step: RequestStep
    names: EndpointNames
    method: str
    head_only: bool
    static: bool = False  # nothing to render: the wire bytes are built once
    wire: tuple[transport.Origin, str, bytes] | None = None


@dataclass
class FlowContext:
    """What every virtual user of one worker shares."""

    script: Script
    recorder: Recorder
    base_url: str
    timeout_s: float
    pool: transport.Pool | None
    ssl_context: ssl.SSLContext | None
    rng: random.Random
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)
    plans: dict[int, StepPlan] = field(default_factory=dict)
    scenario_totals: dict[int, str] = field(default_factory=dict)
    expect_failed: int = 0
    # Reads a local target's CPU over its busy periods (A/B rounds only).
    cpu_meter: BusyPeriodMeter | None = None

    @classmethod
    def create(
        cls,
        script: Script,
        recorder: Recorder,
        *,
        rng: random.Random,
        log: Callable[[str], None] | None = None,
    ) -> FlowContext:
        http = script.http
        ssl_ctx = (
            transport.make_ssl_context(http.reject_unauthorized)
            if script.target.startswith("https")
            else None
        )
        pool_size = http.pool or http.max_sockets
        pool = (
            transport.Pool(max_per_origin=pool_size, timeout_s=http.timeout_s, ssl_context=ssl_ctx)
            if pool_size
            else None
        )
        ctx = cls(
            script=script,
            recorder=recorder,
            base_url=script.target.rstrip("/"),
            timeout_s=http.timeout_s,
            pool=pool,
            ssl_context=ssl_ctx,
            rng=rng,
        )
        if log is not None:
            ctx.log = log
        for scenario in script.scenarios:
            ctx.scenario_totals[scenario.index] = names.scenario_total(scenario.name)
            ctx._plan(scenario.flow)
        ctx._plan(script.before)
        ctx._plan(script.after)
        return ctx

    def absolute(self, url: str) -> str:
        """A request's URL joined to this context's target (Artillery's rule:
        a path starting with "/" is the target's; anything else is sent as is)."""
        return self.base_url + url if url.startswith("/") else url

    def _plan(self, steps: list[Step]) -> None:
        s = self.script.metrics_by_endpoint
        for step in steps:
            if isinstance(step, LoopStep):
                self._plan(step.steps)
            elif isinstance(step, RequestStep):
                ep = endpoint_name(
                    step.url,
                    name=step.name,
                    strip_query_string=s.strip_query_string,
                    use_only_request_names=s.use_only_request_names,
                    group_dynamic_urls=s.group_dynamic_urls,
                    target=self.base_url,
                )
                method = step.method.upper()
                static = (
                    all(t.is_static for t in step.templates.values()) and not step.before_request
                )
                self.plans[id(step)] = StepPlan(
                    step, EndpointNames.of(ep), method, method == "HEAD", static
                )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


class _VUser:
    __slots__ = ("conns", "context", "cookies", "ctx", "events", "scenario", "vars")

    def __init__(self, ctx: FlowContext, scenario: Scenario, vars: dict[str, Any]) -> None:
        self.ctx = ctx
        self.scenario = scenario
        self.vars = vars
        self.cookies: dict[str, str] = {}
        self.conns: transport.Pool | transport.VUConnections = ctx.pool or transport.VUConnections()
        # Built on the first processor call: most scripts never pay for them.
        self.context: dict[str, Any] | None = None
        self.events: Events | None = None

    # -- processor functions (docs/processors.md) --------------------------------
    def _function(self, name: str) -> Callable[..., Any]:
        proc = self.ctx.script.processor
        fn = proc.functions.get(name) if proc is not None else None
        if fn is None:  # the loader rejects unknown names; this is a safety net
            raise VUserFailed(f"processor function {name!r} not found")
        return fn

    def _hook_args(self) -> tuple[dict[str, Any], Events]:
        if self.context is None or self.events is None:
            self.context = processor_context(self.vars, self.scenario.name)
            self.events = Events()
        return self.context, self.events

    async def _hook(self, name: str, *args: Any) -> Any:
        """Call processor function ``name``; what it emitted goes into the metrics."""
        try:
            return await call_hook(self._function(name), *args)
        finally:
            if self.events is not None:
                self._record_events(self.events)

    def _record_events(self, events: Events) -> None:
        counters, histograms, rates = events.drain()
        rec = self.ctx.recorder
        for name, value in counters.items():
            rec.count(name, round(value))
        for name, values in histograms.items():
            for v in values:
                rec.observe(name, v)
        for name, n in rates.items():  # reported as a count per window
            rec.count(name, n)

    async def _if_true(self, step: RequestStep) -> bool:
        if step.if_true_function is not None:
            # Artillery: cond(context.vars); a condition that throws lets the request through.
            try:
                return bool(await self._hook(step.if_true_function, self.vars))
            except VUserFailed:
                raise
            except Exception:
                return True
        return step.condition is None or bool(step.condition(self.vars))

    async def _while_holds(self, step: LoopStep) -> bool:
        if step.while_function is not None:  # Artillery: whileTrue(context, done)
            context, _ = self._hook_args()
            return bool(await self._hook(step.while_function, context))
        return step.while_condition is None or bool(step.while_condition(self.vars))

    # -- steps ---------------------------------------------------------------------
    async def run_steps(self, steps: list[Step]) -> None:
        for step in steps:
            if isinstance(step, RequestStep):
                await self.request(step)
            elif isinstance(step, ThinkStep):
                await asyncio.sleep(think_seconds(step, self.ctx.rng))
            elif isinstance(step, LoopStep):
                await self.loop(step)
            elif isinstance(step, LogStep):
                tpl = step.message_template
                self.ctx.log(str(tpl.render(self.vars) if tpl is not None else step.message))
            elif isinstance(step, FunctionStep):
                await self._hook(step.name, *self._hook_args())

    async def loop(self, step: LoopStep) -> None:
        vars = self.vars
        over = step.over
        if step.over_template is not None:
            over = step.over_template.render(vars)
        if isinstance(over, list):
            for i, element in enumerate(over):
                vars["$loopCount"] = i
                vars["$loopElement"] = element
                await self.run_steps(step.steps)
            return
        has_while = step.while_function is not None or step.while_condition is not None
        limit = step.count if step.count is not None else (None if has_while else 1)
        i = 0
        while limit is None or i < limit:
            vars["$loopCount"] = i  # from 0, as Artillery's code (its docs say 1: issue #3412)
            await self.run_steps(step.steps)
            i += 1
            # As Artillery: whileTrue is asked after each pass (the first pass always runs).
            if has_while and not await self._while_holds(step):
                break
            if limit is None and i >= MAX_WHILE_ITERATIONS:  # a runaway whileTrue
                break

    async def request(self, step: RequestStep) -> None:
        ctx = self.ctx
        if (step.condition is not None or step.if_true_function is not None) and not (
            await self._if_true(step)
        ):
            return
        plan = ctx.plans[id(step)]
        if plan.static and not self.cookies:
            await self._send_static(step, plan)
            return
        rendered = step.render(self.vars)  # config default headers already merged in
        params: dict[str, Any] = {
            "method": plan.method,
            "url": ctx.absolute(rendered.url),
            "qs": rendered.qs,
            "headers": rendered.headers,
            "json": rendered.json,
            "body": rendered.body,
            "form": rendered.form,
            "cookie": rendered.cookie,
            "auth": rendered.auth,
            "name": step.name,
        }
        if step.before_request:
            context, events = self._hook_args()
            for name in step.before_request:
                await self._hook(name, params, context, events)
        await self._send(step, plan, params)

    async def _send(
        self,
        step: RequestStep,
        plan: StepPlan,
        params: dict[str, Any],
        first: tuple[transport.RawResponse, str] | None = None,
    ) -> None:
        """Send ``params`` and follow redirects. ``first``: a response already
        received for them (the static path hands over a redirect)."""
        ctx = self.ctx
        cookies = self.cookies
        if params["cookie"]:
            cookies = {**cookies, **params["cookie"]}
        url = params["url"]
        method = params["method"]
        rec = ctx.recorder
        for _ in range(_MAX_REDIRECTS + 1):
            if first is not None:
                raw, full_url = first
                first = None
            else:
                try:
                    origin, full_url, data = build_request(
                        method,
                        url,
                        base_url=ctx.base_url,
                        qs=params["qs"],
                        headers=params["headers"],
                        json=params["json"],
                        body=params["body"],
                        form=params["form"],
                        cookies=cookies,
                        auth=params["auth"],
                    )
                except ValueError as exc:
                    rec.error(plan.names, "EINVALIDURL")
                    raise VUserFailed(str(exc)) from None
                raw = await self._exchange(plan, origin, data)
            location = (
                _header(raw, "location")
                if raw.status in _REDIRECTS and step.follow_redirect
                else None
            )
            # As Artillery: every hop counts in http.*; the endpoint's metrics
            # (metrics-by-endpoint runs after the last response) only the final one.
            self._record(plan, raw, final=not location)
            if b"set-cookie" in raw.head.lower():
                self._store_cookies(raw)
                cookies = {**self.cookies, **(params["cookie"] or {})}
            if not location:
                break
            url = urljoin(full_url, location)
            if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
                method = "GET"
                params = {**params, "json": None, "body": None, "form": None}
            params = {**params, "qs": None}
        if step.capture or step.expect or step.after_response:
            await self._after(step, raw, full_url, params)

    async def _exchange(
        self, plan: StepPlan, origin: transport.Origin, data: bytes
    ) -> transport.RawResponse:
        ctx = self.ctx
        ctx.recorder.request_sent()
        meter = ctx.cpu_meter
        token = meter.begin() if meter is not None else None
        try:
            return await transport.request(
                self.conns,
                origin,
                data,
                head_only=plan.head_only,
                timeout_s=ctx.timeout_s,
                ssl_context=ctx.ssl_context,
            )
        except transport.RequestFailed as exc:
            ctx.recorder.error(plan.names, exc.code)
            raise VUserFailed(exc.code) from None
        finally:
            if meter is not None and token is not None:
                meter.end(token, plan.names.endpoint)

    def _record(self, plan: StepPlan, raw: transport.RawResponse, *, final: bool = True) -> None:
        self.ctx.recorder.response(
            plan.names,
            self.ctx.scenario_totals[self.scenario.index],
            raw.status,
            response_time_ms=raw.response_time_ns / 1e6,
            total_ms=raw.total_ns / 1e6,
            connect_ms=raw.connect_ns / 1e6,
            pool_wait_ms=raw.pool_wait_ns / 1e6,
            downloaded=len(raw.body),
            endpoint=final,
            phases_ms=(raw.dns_ns / 1e6, raw.tcp_ns / 1e6, raw.tls_ns / 1e6)
            if raw.connect_ns
            else None,
        )

    async def _send_static(self, step: RequestStep, plan: StepPlan) -> None:
        """The hot path for a request with nothing to render (bytes built once)."""
        ctx = self.ctx
        if plan.wire is None:
            r = step.render(self.vars)
            plan.wire = build_request(
                plan.method,
                ctx.absolute(r.url),
                base_url=ctx.base_url,
                qs=r.qs,
                headers=r.headers,
                json=r.json,
                body=r.body,
                form=r.form,
                cookies=r.cookie,
                auth=r.auth,
            )
        origin, full_url, data = plan.wire
        raw = await self._exchange(plan, origin, data)
        if raw.status in _REDIRECTS and step.follow_redirect and _header(raw, "location"):
            # Redirects take the general path (it follows them), now and from now on.
            plan.static = False
            r = step.render(self.vars)
            params: dict[str, Any] = {
                "method": plan.method,
                "url": ctx.absolute(r.url),
                "qs": r.qs,
                "headers": r.headers,
                "json": r.json,
                "body": r.body,
                "form": r.form,
                "cookie": r.cookie,
                "auth": r.auth,
                "name": step.name,
            }
            await self._send(step, plan, params, first=(raw, full_url))
            return
        self._record(plan, raw)
        if b"set-cookie" in raw.head.lower():
            self._store_cookies(raw)
        if step.capture or step.expect or step.after_response:
            params = {"method": plan.method, "url": full_url, "name": step.name}
            await self._after(step, raw, full_url, params)

    async def _after(
        self, step: RequestStep, raw: transport.RawResponse, url: str, params: dict[str, Any]
    ) -> None:
        ctx = self.ctx
        view = ResponseView(
            raw.status, CIMultiDictProxy(CIMultiDict(raw.header_pairs())), raw.body, url
        )
        capture_failed = bool(step.capture) and bool(apply_captures(step.capture, view, self.vars))
        if step.expect and ctx.script.expect_enabled:
            outcomes = check_expectations(step.expect, view, self.vars)
            for o in outcomes:
                ok = "ok" if o.ok else "failed"
                ctx.recorder.count(f"plugins.expect.{ok}")
                ctx.recorder.count(f"plugins.expect.{ok}.{o.kind}")
                if not o.ok:
                    ctx.expect_failed += 1
        if step.after_response:
            context, events = self._hook_args()
            for name in step.after_response:
                await self._hook(name, params, view, context, events)
        if capture_failed:  # as Artillery: afterResponse hooks run first, then the user fails
            ctx.recorder.error(ctx.plans[id(step)].names, CAPTURE_FAILED)
            raise VUserFailed(CAPTURE_FAILED)

    def _store_cookies(self, raw: transport.RawResponse) -> None:
        for k, v in raw.header_pairs():
            if k.lower() == "set-cookie":
                pair = v.split(";", 1)[0]
                name, sep, value = pair.partition("=")
                if sep:
                    self.cookies[name.strip()] = value.strip()


def think_seconds(step: ThinkStep, rng: random.Random) -> float:
    """A think step's pause, with Artillery's jitter: ``"10%"`` is ± 10 % of the
    think time (``step.jitter`` = 0.10), a bare number is ± that many ms
    (``step.jitter_ms``); never below zero."""
    seconds = step.seconds
    if step.jitter:
        seconds += rng.uniform(-step.jitter, step.jitter) * step.seconds
    elif step.jitter_ms:
        seconds += rng.uniform(-step.jitter_ms, step.jitter_ms) / 1000.0
    return max(0.0, seconds)


def _header(raw: transport.RawResponse, name: str) -> str | None:
    for k, v in raw.header_pairs():
        if k.lower() == name:
            return v
    return None


async def run_flow(
    ctx: FlowContext, steps: list[Step], vars: dict[str, Any], scenario: Scenario
) -> None:
    """Run bare steps (the script's before/after sections); errors propagate."""
    vu = _VUser(ctx, scenario, vars)
    try:
        await vu.run_steps(steps)
    finally:
        if isinstance(vu.conns, transport.VUConnections):
            vu.conns.close()


async def run_vuser(
    ctx: FlowContext, scenario: Scenario, vars: dict[str, Any], clock: Callable[[], float]
) -> bool:
    """Run one virtual user to the end; True when it completed."""
    rec = ctx.recorder
    rec.count(names.VUSERS_CREATED)
    rec.count(names.VUSERS_CREATED_BY_NAME + scenario.name)
    rec.vusers_active += 1
    t0 = clock()
    vu = _VUser(ctx, scenario, vars)
    ok = False
    try:
        for name in scenario.before_scenario:
            await vu._hook(name, *vu._hook_args())
        await vu.run_steps(scenario.flow)
        for name in scenario.after_scenario:
            await vu._hook(name, *vu._hook_args())
        ok = True
    except VUserFailed:
        pass
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a processor function raised: count it, keep the run going
        rec.count(names.error_code(type(exc).__name__))
    finally:
        rec.vusers_active -= 1
        if isinstance(vu.conns, transport.VUConnections):
            vu.conns.close()
    if ok:
        rec.count(names.VUSERS_COMPLETED)
        rec.observe(names.VUSERS_SESSION_LENGTH, (clock() - t0) * 1000.0)
    else:
        rec.count(names.VUSERS_FAILED)
    return ok
