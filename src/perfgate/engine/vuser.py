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
from perfgate.engine.apdex import APDEX_COUNTERS, classify
from perfgate.engine.capture import apply_captures
from perfgate.engine.cpu_share import BusyPeriodMeter
from perfgate.engine.expect import check_expectations
from perfgate.engine.recorder import EndpointNames, Recorder
from perfgate.engine.response import ResponseView
from perfgate.engine.wire import build_request
from perfgate.errors import PerfgateError
from perfgate.metrics import names
from perfgate.script import (
    Events,
    ExpectSpec,
    FunctionStep,
    LogStep,
    LoopStep,
    RequestStep,
    Scenario,
    Script,
    Step,
    Template,
    ThinkStep,
    call_hook,
    endpoint_of,
    js_string,
    parse_duration,
    processor_context,
    request_steps,
)

__all__ = [
    "FlowContext",
    "StepPlan",
    "build_request",
    "loop_range",
    "run_flow",
    "run_vuser",
    "think_seconds",
]

_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_MAX_REDIRECTS = 10
MAX_WHILE_ITERATIONS = 1_000_000  # a whileTrue loop without count ends here
CAPTURE_FAILED = "Failed capture or match"
COOKIE_PARSE_ERROR = "cookie_parse_error_invalid_cookie"
EXPECT_FAILED = "Failed expectations for request "


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
    default_cookie: Template | None = None  # config.(http.)defaults.cookie
    # a plugin (expect with expectDefault200, apdex) looks at every response
    after_every_response: bool = False
    default_200: list[ExpectSpec] = field(default_factory=list)
    response_plugins: tuple[str, ...] = ()  # "expect" / "apdex", in config.plugins order

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
        if http.default_cookie is not None:
            ctx.default_cookie = Template.compile(http.default_cookie)
        ctx.after_every_response = script.apdex_threshold_ms is not None or (
            script.expect_enabled and script.expect_options.expect_default_200
        )
        ctx.default_200 = [ExpectSpec("statusCode", 200, "expectDefault200")]
        enabled = {"expect": script.expect_enabled, "apdex": script.apdex_threshold_ms is not None}
        order = [p for p in script.plugin_order if p in enabled] + ["expect", "apdex"]
        ctx.response_plugins = tuple(p for p in dict.fromkeys(order) if enabled[p])
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
        for step in request_steps(steps):
            ep = endpoint_of(self.script, step, target=self.base_url)
            method = step.method.upper()
            static = all(t.is_static for t in step.templates.values()) and not step.before_request
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
        self.cookies: dict[str, str] = {}  # the user's cookie jar (Artillery: one per user)
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
                try:
                    pause = think_seconds(step, self.ctx.rng, self.vars)
                except VUserFailed as exc:  # Artillery: the thrown error is counted, the user fails
                    self.ctx.recorder.error(None, str(exc))
                    raise
                await asyncio.sleep(pause)
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
        index_var, element_var = step.index_var, step.element_var
        if isinstance(over, list):
            for i, element in enumerate(over):
                vars[index_var] = i
                vars[element_var] = element
                await self.run_steps(step.steps)
            return
        if step.over is not None:  # engine_util: `over` that is no array ends the loop at once
            return
        has_while = step.while_function is not None or step.while_condition is not None
        first, limit = step.count_from, step.count
        if step.count_template is not None:
            first, limit = loop_range(step.count_template.render(vars))
        elif limit is None and not has_while:
            limit = 1
        i = first
        while limit is None or i < limit:
            vars[index_var] = i  # from 0, as Artillery's code (its docs say 1: issue #3412)
            vars[element_var] = i  # engine_util: a count loop's element is the index too
            await self.run_steps(step.steps)
            i += 1
            # As Artillery: whileTrue is asked after each pass (the first pass always runs).
            if has_while and not await self._while_holds(step):
                break
            if limit is None and i - first >= MAX_WHILE_ITERATIONS:  # a runaway whileTrue
                break

    async def request(self, step: RequestStep) -> None:
        ctx = self.ctx
        # engine_util's isProbableEnough: lodash random(100) is 0..100 inclusive.
        if step.probability is not None and not ctx.rng.randint(0, 100) < step.probability:
            return
        if (step.condition is not None or step.if_true_function is not None) and not (
            await self._if_true(step)
        ):
            return
        if ctx.default_cookie is not None:
            # engine_http sets config's default cookie in the user's jar before every request.
            rendered_cookie = ctx.default_cookie.render(self.vars)
            self.cookies.update({str(k): js_string(v) for k, v in rendered_cookie.items()})
        plan = ctx.plans[id(step)]
        if plan.static and not self.cookies and not step.cookie:
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
        if params["cookie"]:  # engine_http sets a step's cookie in the user's jar: it stays
            self.cookies.update(params["cookie"])
        cookies = self.cookies
        url = params["url"]
        method = params["method"]
        rec = ctx.recorder
        if not url.startswith(("/", "http")):  # engine_http prepends the target to "/…" only
            code = f"Invalid URL - {url}"
            rec.error(plan.names, code)
            raise VUserFailed(code)
        for _ in range(_MAX_REDIRECTS + 1):
            if first is not None:
                raw, full_url = first
                first = None
            else:
                try:
                    origin, full_url, data = build_request(
                        method,
                        _without_query(url) if params["qs"] is not None else url,
                        base_url=ctx.base_url,
                        qs=params["qs"],
                        headers=params["headers"],
                        json=params["json"],
                        body=params["body"],
                        form=params["form"],
                        cookies=cookies,
                        auth=params["auth"],
                    )
                except ValueError:
                    code = f"Invalid URL - {url}"  # engine_http's error for a URL got refuses
                    rec.error(plan.names, code)
                    raise VUserFailed(code) from None
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
                self._store_cookies(raw, plan)
                cookies = self.cookies
            if not location:
                break
            url = urljoin(full_url, location)
            if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
                method = "GET"
                params = {**params, "json": None, "body": None, "form": None}
            params = {**params, "qs": None}
        if step.capture or step.expect or step.after_response or ctx.after_every_response:
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
            if not r.url.startswith(("/", "http")):
                plan.static = False  # the general path counts the error, every time
                await self.request(step)
                return
            plan.wire = build_request(
                plan.method,
                ctx.absolute(_without_query(r.url) if r.qs is not None else r.url),
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
            self._store_cookies(raw, plan)
        if step.capture or step.expect or step.after_response or ctx.after_every_response:
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
        # The plugins' afterResponse hooks come after the scenario's (they append theirs).
        if step.after_response:
            context, events = self._hook_args()
            for name in step.after_response:
                await self._hook(name, params, view, context, events)
        script = ctx.script
        if self.scenario.index >= 0:  # plugins hook scenarios only, in config.plugins order
            for plugin in ctx.response_plugins:
                if plugin == "expect":
                    self._expect(step, view, params)  # may end the user: later hooks don't run
                elif script.apdex_threshold_ms is not None:
                    rec = ctx.recorder
                    for counter in APDEX_COUNTERS:  # the plugin adds 0 to each, then 1 to one
                        rec.count(counter, 0)
                    rec.count(classify(raw.total_ns / 1e6, script.apdex_threshold_ms))
        if capture_failed:  # as Artillery: afterResponse hooks run first, then the user fails
            ctx.recorder.error(ctx.plans[id(step)].names, CAPTURE_FAILED)
            raise VUserFailed(CAPTURE_FAILED)

    def _expect(self, step: RequestStep, view: ResponseView, params: dict[str, Any]) -> None:
        """artillery-plugin-expect's afterResponse hook."""
        ctx = self.ctx
        opts = ctx.script.expect_options
        specs = step.expect or (ctx.default_200 if opts.expect_default_200 else [])
        if not specs:
            return
        failed = 0
        for o in check_expectations(specs, view, self.vars):
            ok = "ok" if o.ok else "failed"
            ctx.recorder.count(f"plugins.expect.{ok}")
            ctx.recorder.count(f"plugins.expect.{ok}.{o.kind}")
            if not o.ok:
                failed += 1
        ctx.expect_failed += failed
        if failed and opts.report_failures_as_errors:
            label = step.name if opts.use_only_request_names and step.name else params["url"]
            code = EXPECT_FAILED + str(label)
            ctx.recorder.error(ctx.plans[id(step)].names, code)
            raise VUserFailed(code)

    def _store_cookies(self, raw: transport.RawResponse, plan: StepPlan) -> None:
        for k, v in raw.header_pairs():
            if k.lower() == "set-cookie":
                pair = v.split(";", 1)[0]
                name, sep, value = pair.partition("=")
                if sep and name.strip():
                    self.cookies[name.strip()] = value.strip()
                else:  # tough-cookie cannot parse it: Artillery counts it and goes on
                    self.ctx.recorder.error(None, COOKIE_PARSE_ERROR)


def loop_range(value: Any) -> tuple[int, int]:
    """engine_util's parseLoopCount on a rendered count: a number n is 0..n,
    ``"2-4"`` is 2..4 ($loopCount 2, 3); anything else runs no pass."""
    if isinstance(value, bool):
        return 0, 0
    if isinstance(value, int | float):
        return 0, int(value)
    text = js_string(value).strip()
    try:
        return 0, int(float(text))
    except ValueError:
        pass
    low, sep, high = text.partition("-")
    if sep and low.strip().isdigit() and high.strip().isdigit():
        return int(low), int(high)
    return 0, 0


def think_seconds(step: ThinkStep, rng: random.Random, vars: dict[str, Any] | None = None) -> float:
    """A think step's pause, with Artillery's jitter: ``"10%"`` is ± 10 % of the
    think time (``step.jitter`` = 0.10), a bare number is ± that many ms
    (``step.jitter_ms``); never below zero. A templated think is rendered
    against ``vars``; a value that is no duration fails the user, as
    Artillery's "Invalid think time"."""
    seconds = step.seconds
    if step.seconds_template is not None:
        rendered = step.seconds_template.render(vars or {})
        parsed = parse_duration(rendered)
        if parsed is None or parsed < 0:
            raise VUserFailed(f"Invalid think time: {js_string(rendered)}")
        seconds = parsed
    if step.jitter:
        seconds += rng.uniform(-step.jitter, step.jitter) * seconds
    elif step.jitter_ms:
        seconds += rng.uniform(-step.jitter_ms, step.jitter_ms) / 1000.0
    return max(0.0, seconds)


def _without_query(url: str) -> str:
    """got's ``searchParams`` (what engine_http makes of ``qs``) replaces the URL's
    own query string: ``url: /x?a=1, qs: {b: 2}`` requests ``/x?b=2``."""
    return url.split("?", 1)[0]


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
        rec.count(names.VUSERS_FAILED, 0)  # as Artillery's runner: the counter is always written
        rec.count(names.VUSERS_COMPLETED)
        rec.observe(names.VUSERS_SESSION_LENGTH, (clock() - t0) * 1000.0)
    else:
        rec.count(names.VUSERS_FAILED)
    return ok
