"""One virtual user: runs a scenario's flow with the script model's meaning.

Requests, captures (a failed strict capture ends the user: ``vusers.failed``),
``ifTrue``, ``think``, ``loop``, ``log``, function steps and hooks (Python
processors), ``expect`` (counted under ``plugins.expect.*``; failures do not
end the user, they make the run exit 21). A request that gets no response
(timeout, refused, reset) ends the user as in Artillery.

Everything per step that does not depend on the user's vars (endpoint
metric names, method, whether a body is expected) is computed once per run
in :class:`StepPlan`; the hot path renders, builds bytes, sends, records.
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json as jsonlib
import random
import ssl
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin

from multidict import CIMultiDict, CIMultiDictProxy

from perfgate.config.artillery import (
    FunctionStep,
    LogStep,
    LoopStep,
    RequestStep,
    Scenario,
    Script,
    Step,
    ThinkStep,
)
from perfgate.engine import transport
from perfgate.engine.capture import apply_captures
from perfgate.engine.expect import check_expectations
from perfgate.engine.recorder import EndpointNames, Recorder, endpoint_name
from perfgate.engine.response import ResponseView
from perfgate.metrics import names
from perfgate.template import Template

__all__ = ["FlowContext", "StepPlan", "build_request", "run_flow", "run_vuser"]

_REDIRECTS = frozenset((301, 302, 303, 307, 308))
_MAX_REDIRECTS = 10
CAPTURE_FAILED = "Failed capture or match"


class VUserFailed(Exception):
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
    default_headers: Template | None = None
    plans: dict[int, StepPlan] = field(default_factory=dict)
    scenario_totals: dict[int, str] = field(default_factory=dict)
    expect_failed: int = 0

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


def build_request(
    method: str,
    url: str,
    *,
    base_url: str,
    qs: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    json: Any,
    body: Any,
    form: Mapping[str, Any] | None,
    cookies: Mapping[str, str] | None,
    auth: Mapping[str, Any] | None,
) -> tuple[transport.Origin, str, bytes]:
    """Serialise one request: (origin, absolute url, HTTP/1.1 bytes)."""
    full = url if "://" in url else base_url + (url if url.startswith("/") else "/" + url)
    if qs:
        full += ("&" if "?" in full else "?") + urlencode(
            {k: _qs_text(v) for k, v in qs.items()}, doseq=True
        )
    origin, target = transport.origin_of(full)
    payload = b""
    content_type = None
    if json is not None:
        payload = jsonlib.dumps(json, separators=(",", ":"), ensure_ascii=False).encode()
        content_type = "application/json"
    elif form is not None:
        payload = urlencode({k: _qs_text(v) for k, v in form.items()}).encode()
        content_type = "application/x-www-form-urlencoded"
    elif body is not None:
        payload = body if isinstance(body, bytes) else str(body).encode()
    lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}"]
    lower = {k.lower() for k in headers}
    if "user-agent" not in lower:
        lines.append("User-Agent: perfgate")
    if "accept" not in lower:
        lines.append("Accept: */*")
    if content_type and "content-type" not in lower:
        lines.append(f"Content-Type: {content_type}")
    if auth and "authorization" not in lower:
        token = f"{auth.get('user', '')}:{auth.get('pass', '')}".encode()
        lines.append("Authorization: Basic " + base64.b64encode(token).decode())
    if cookies:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    for k, v in headers.items():
        if k.lower() not in ("host", "content-length"):
            lines.append(f"{k}: {_header_text(v)}")
    if payload or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(payload)}")
    return origin, full, ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + payload


def _qs_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_qs_text(v) for v in value]
    return value


def _header_text(value: str) -> str:
    # Header injection guard: a rendered value never spans lines.
    return value.replace("\r", " ").replace("\n", " ")


async def _call(fn: Callable[..., Any], *args: Any) -> Any:
    out = fn(*args)
    if inspect.isawaitable(out):
        out = await out
    return out


class _VUser:
    __slots__ = ("conns", "cookies", "ctx", "scenario", "vars")

    def __init__(self, ctx: FlowContext, scenario: Scenario, vars: dict[str, Any]) -> None:
        self.ctx = ctx
        self.scenario = scenario
        self.vars = vars
        self.cookies: dict[str, str] = {}
        self.conns: transport.Pool | transport.VUConnections = ctx.pool or transport.VUConnections()

    def _function(self, name: str) -> Callable[..., Any]:
        proc = self.ctx.script.processor
        fn = proc.functions.get(name) if proc is not None else None
        if fn is None:  # the loader rejects unknown names; this is a safety net
            raise VUserFailed(f"processor function {name!r} not found")
        return fn

    async def run_steps(self, steps: list[Step]) -> None:
        for step in steps:
            if isinstance(step, RequestStep):
                await self.request(step)
            elif isinstance(step, ThinkStep):
                await asyncio.sleep(self._think_s(step))
            elif isinstance(step, LoopStep):
                await self.loop(step)
            elif isinstance(step, LogStep):
                tpl = step.message_template
                self.ctx.log(str(tpl.render(self.vars) if tpl is not None else step.message))
            elif isinstance(step, FunctionStep):
                await _call(self._function(step.name), self.vars, None)

    def _think_s(self, step: ThinkStep) -> float:
        seconds = step.seconds
        if step.jitter:
            j = step.jitter if step.jitter <= 1 else step.jitter / 100.0
            seconds += self.ctx.rng.uniform(-j, j) * seconds
        return max(0.0, seconds)

    async def loop(self, step: LoopStep) -> None:
        vars = self.vars
        over = step.over
        if step.over_template is not None:
            over = step.over_template.render(vars)
        if isinstance(over, list):
            for i, element in enumerate(over):
                vars["$loopCount"] = i + 1
                vars["$loopElement"] = element
                await self.run_steps(step.steps)
            return
        limit = step.count if step.count is not None else (None if step.while_condition else 1)
        i = 0
        while limit is None or i < limit:
            if step.while_condition is not None and not step.while_condition(vars):
                break
            vars["$loopCount"] = i + 1
            await self.run_steps(step.steps)
            i += 1
            if limit is None and i >= 1_000_000:  # a runaway whileTrue
                break

    async def request(self, step: RequestStep) -> None:
        ctx = self.ctx
        vars = self.vars
        if step.condition is not None and not step.condition(vars):
            return
        plan = ctx.plans[id(step)]
        if plan.static and not self.cookies:
            await self._send_static(step, plan)
            return
        rendered = step.render(vars)
        headers = dict(rendered.headers)
        if ctx.default_headers is not None:
            defaults = ctx.default_headers.render(vars) or {}
            present = {k.lower() for k in headers}
            for k, v in defaults.items():
                if str(k).lower() not in present:
                    headers[str(k)] = "" if v is None else str(v)
        params: dict[str, Any] = {
            "method": plan.method,
            "url": rendered.url,
            "qs": rendered.qs,
            "headers": headers,
            "json": rendered.json,
            "body": rendered.body,
            "form": rendered.form,
            "cookie": rendered.cookie,
            "auth": rendered.auth,
            "name": step.name,
        }
        for name in step.before_request:
            await _call(self._function(name), params, vars, None)
        cookies = self.cookies
        if params["cookie"]:
            cookies = {**cookies, **params["cookie"]}
        url = params["url"]
        method = params["method"]
        rec = ctx.recorder
        for _ in range(_MAX_REDIRECTS + 1):
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
            rec.request_sent()
            try:
                raw = await transport.request(
                    self.conns,
                    origin,
                    data,
                    head_only=plan.head_only,
                    timeout_s=ctx.timeout_s,
                    ssl_context=ctx.ssl_context,
                )
            except transport.RequestFailed as exc:
                rec.error(plan.names, exc.code)
                raise VUserFailed(exc.code) from None
            rec.response(
                plan.names,
                ctx.scenario_totals[self.scenario.index],
                raw.status,
                response_time_ms=raw.response_time_ns / 1e6,
                total_ms=raw.total_ns / 1e6,
                connect_ms=raw.connect_ns / 1e6,
                pool_wait_ms=raw.pool_wait_ns / 1e6,
                downloaded=len(raw.body),
            )
            if b"set-cookie" in raw.head.lower():
                self._store_cookies(raw)
                cookies = {**self.cookies, **(params["cookie"] or {})}
            if raw.status in _REDIRECTS and step.follow_redirect:
                location = _header(raw, "location")
                if location:
                    url = urljoin(full_url, location)
                    if raw.status == 303 or (raw.status in (301, 302) and method == "POST"):
                        method = "GET"
                        params = {**params, "json": None, "body": None, "form": None}
                    params = {**params, "qs": None}
                    continue
            break
        if step.capture or step.expect or step.after_response:
            await self._after(step, raw, full_url, params)

    async def _send_static(self, step: RequestStep, plan: StepPlan) -> None:
        """The hot path for a request with nothing to render (bytes built once)."""
        ctx = self.ctx
        if plan.wire is None:
            r = step.render(self.vars)
            plan.wire = build_request(
                plan.method,
                r.url,
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
        rec = ctx.recorder
        rec.request_sent()
        try:
            raw = await transport.request(
                self.conns,
                origin,
                data,
                head_only=plan.head_only,
                timeout_s=ctx.timeout_s,
                ssl_context=ctx.ssl_context,
            )
        except transport.RequestFailed as exc:
            rec.error(plan.names, exc.code)
            raise VUserFailed(exc.code) from None
        rec.response(
            plan.names,
            ctx.scenario_totals[self.scenario.index],
            raw.status,
            response_time_ms=raw.response_time_ns / 1e6,
            total_ms=raw.total_ns / 1e6,
            connect_ms=raw.connect_ns / 1e6,
            pool_wait_ms=raw.pool_wait_ns / 1e6,
            downloaded=len(raw.body),
        )
        if b"set-cookie" in raw.head.lower():
            self._store_cookies(raw)
        if raw.status in _REDIRECTS and step.follow_redirect:
            plan.static = False  # redirects take the general path (it follows them) from now on
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
        if step.capture:
            failed = apply_captures(step.capture, view, self.vars)
            if failed:
                ctx.recorder.error(ctx.plans[id(step)].names, CAPTURE_FAILED)
                raise VUserFailed(CAPTURE_FAILED)
        if step.expect and ctx.script.expect_enabled:
            outcomes = check_expectations(step.expect, view, self.vars)
            for o in outcomes:
                ok = "ok" if o.ok else "failed"
                ctx.recorder.count(f"plugins.expect.{ok}")
                ctx.recorder.count(f"plugins.expect.{ok}.{o.kind}")
                if not o.ok:
                    ctx.expect_failed += 1
        for name in step.after_response:
            await _call(self._function(name), params, view, self.vars, None)

    def _store_cookies(self, raw: transport.RawResponse) -> None:
        for k, v in raw.header_pairs():
            if k.lower() == "set-cookie":
                pair = v.split(";", 1)[0]
                name, sep, value = pair.partition("=")
                if sep:
                    self.cookies[name.strip()] = value.strip()


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
            await _call(vu._function(name), vars, None)
        await vu.run_steps(scenario.flow)
        for name in scenario.after_scenario:
            await _call(vu._function(name), vars, None)
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
