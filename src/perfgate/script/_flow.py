"""Scenario and flow parsing: steps, captures, expectations, hooks.

Every template and ``ifTrue`` is compiled here, once. Processor function
references are collected (name, key path) so the loader can check them
against the processor before any load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from perfgate.config import Located, child_path, describe_kind, suggest
from perfgate.script._values import (
    as_bool,
    as_duration,
    as_name_list,
    as_number,
    as_str,
    raise_on_typo,
)
from perfgate.script.conditions import compile_condition, expression_names
from perfgate.script.jsonpath import compile_jmespath, compile_jsonpath
from perfgate.script.model import (
    EXPECT_KINDS,
    HTTP_METHODS,
    CaptureSpec,
    ExpectSpec,
    FunctionStep,
    LogStep,
    LoopStep,
    RequestStep,
    Scenario,
    Step,
    ThinkStep,
)
from perfgate.script.template import Template

__all__ = ["FlowContext", "parse_flow", "parse_scenarios"]

_COUNT_RANGE = re.compile(r"^\d+-\d+$")

STEP_ACTIONS = (*HTTP_METHODS, "think", "loop", "log", "function", "parallel")
# Keys a step may carry beside its action (a request's own keys sit under the method).
STEP_KEYS: dict[str, tuple[str, ...]] = {
    **{m: (m,) for m in HTTP_METHODS},
    "think": ("think", "jitter"),
    "log": ("log",),
    "function": ("function",),
    "parallel": ("parallel", "limit"),
}
LOOP_KEYS = ("loop", "count", "over", "whileTrue", "loopValue", "loopElement")
REQUEST_KEYS = (
    "url", "uri", "qs", "json", "body", "form", "formData", "headers", "cookie", "auth",
    "followRedirect", "name", "capture", "match", "expect", "ifTrue", "beforeRequest",
    "afterResponse", "gzip", "think", "probability", "setContentLengthHeader",
)  # fmt: skip
SCENARIO_KEYS = (
    "name", "weight", "flow", "engine", "beforeScenario", "afterScenario", "beforeRequest",
    "afterResponse", "onError",
)  # fmt: skip
CAPTURE_KINDS = ("json", "header", "regexp", "xpath", "selector")
CAPTURE_KEYS = (
    *CAPTURE_KINDS,
    "as",
    "strict",
    "group",
    "flags",
    "transform",
    "index",
    "attr",
    "value",
)


@dataclass
class FlowContext:
    """What step parsing needs from the rest of the script."""

    doc: Located
    target: str
    default_headers: dict[str, Any]
    think_jitter: tuple[float | None, float | None] | None = None  # (fraction, ms)
    strict_capture: bool = True  # config.defaults.strictCapture (Artillery's default strictness)
    function_refs: list[tuple[str, str]] = field(default_factory=list)  # (name, key path)
    # ifTrue / whileTrue values: Artillery calls a processor function of that name if there is one
    condition_names: list[tuple[str, str, RequestStep | LoopStep]] = field(default_factory=list)


def _jitter(doc: Located, value: Any, path: str) -> tuple[float | None, float | None]:
    """Artillery's jitter (commons/jitter.js): ``"10%"`` -> (0.10, None), a share
    of the think time; a bare ``10`` -> (None, 10.0), ± 10 ms."""
    if isinstance(value, str) and value.strip().endswith("%"):
        return as_number(doc, value.strip()[:-1], path, minimum=0) / 100.0, None
    ms = as_number(doc, value, path, minimum=0)
    if 0 < ms < 1:
        doc.warn(path, f"jitter {ms:g} is ± {ms:g} ms (a bare number is milliseconds, "
                 f"as in Artillery); for a share of the think time write \"{ms * 100:g}%\"")  # fmt: skip
    return None, ms


def _probability(value: Any) -> float:
    """``Number(probability) || 0``, at most 100 (engine_util's isProbableEnough)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    if number != number:  # NaN
        return 0.0
    return min(number, 100.0)


def _condition(ctx: FlowContext, expr: Any, path: str) -> tuple[str, Any]:
    text = as_str(ctx.doc, expr, path)
    try:
        compiled = compile_condition(text)
    except ValueError as exc:
        raise ctx.doc.error(path, f"invalid expression {text!r}: {exc}") from None
    if expression_names(text, quoted=True):
        ctx.doc.warn(path, "filtrex 0.5.4 (Artillery's ifTrue) has no 'quoted' names: a syntax "
                     "error there, so Artillery sends the request; perfgate reads them as names")  # fmt: skip
    for name in expression_names(text):
        if "." in name or "[" in name:
            ctx.doc.warn(path, f"filtrex reads '{name}' as one variable name (Artillery finds "
                         "none, so it is undefined there); perfgate follows the path")  # fmt: skip
    return text, compiled


def _captures(ctx: FlowContext, value: Any, path: str, *, match: bool = False) -> list[CaptureSpec]:
    """``capture`` entries, or with ``match`` the deprecated ``match`` entries
    (``value`` instead of ``as``; strict unless ``strict: false``)."""
    doc = ctx.doc
    items = value if isinstance(value, list) else [value]
    out: list[CaptureSpec] = []
    for i, item in enumerate(items):
        ipath = child_path(path, i) if isinstance(value, list) else path
        item = doc.expect_mapping(item, ipath)
        doc.check_keys(item, ipath, CAPTURE_KEYS, strict=False)
        kinds = [k for k in CAPTURE_KINDS if k in item]
        if not kinds:
            raise doc.error(ipath, "a capture needs one of 'json', 'header' or 'regexp'")
        if len(kinds) > 1:
            raise doc.error(ipath, f"a capture takes one of {', '.join(kinds)}, not several")
        kind = kinds[0]
        if kind in ("xpath", "selector"):
            raise doc.error(
                child_path(ipath, kind), f"'{kind}' captures are not supported by perfgate"
            )
        if match and "value" not in item:
            raise doc.error(ipath, "a match needs 'value' (what the value must equal)")
        if not match and "as" not in item:
            raise doc.error(ipath, "'as' is required")
        expr = as_str(doc, item[kind], child_path(ipath, kind))
        template = Template.compile(expr)
        if kind == "json" and template.is_static:
            try:
                compile_jsonpath(expr)
            except ValueError as exc:
                raise doc.error(child_path(ipath, kind), str(exc)) from None
        if kind == "regexp" and template.is_static:
            try:
                re.compile(expr)
            except re.error as exc:
                raise doc.error(
                    child_path(ipath, kind), f"invalid regular expression: {exc}"
                ) from None
        group = item.get("group")
        if group is not None and (isinstance(group, bool) or not isinstance(group, int | str)):
            raise doc.error(
                child_path(ipath, "group"),
                f"expected a group number or name, got {describe_kind(group)}",
            )
        if isinstance(group, str) and group.isdigit():
            group = int(group)
        if "transform" in item:
            doc.warn(child_path(ipath, "transform"), "'transform' is not supported and is ignored")
        out.append(
            CaptureSpec(
                kind=kind,
                expr=expr,
                as_name=as_str(doc, item["as"], child_path(ipath, "as")) if not match else "",
                group=group,
                strict=as_bool(doc, item["strict"], child_path(ipath, "strict"))
                if "strict" in item
                else (True if match else ctx.strict_capture),
                flags=as_str(doc, item["flags"], child_path(ipath, "flags"))
                if "flags" in item
                else None,
                path=ipath,
                expr_template=None if template.is_static else template,
                match_value=Template.compile(item["value"]) if match else None,
            )
        )
    return out


def _expectations(ctx: FlowContext, value: Any, path: str) -> list[ExpectSpec]:
    doc = ctx.doc
    items = value if isinstance(value, list) else [value]
    out: list[ExpectSpec] = []
    for i, item in enumerate(items):
        ipath = child_path(path, i) if isinstance(value, list) else path
        item = doc.expect_mapping(item, ipath)
        if isinstance(value, list) and len(item) > 1:
            # The plugin reads the first key of a list item as the check; the rest
            # are its options (``description`` for jmespath/jpath).
            first = next(iter(item))
            extra = [k for k in item if k != first]
            for key in extra:
                if not (first in ("jmespath", "jpath") and key == "description"):
                    doc.warn(child_path(ipath, key), f"ignored: one check per list item "
                             f"(Artillery's expect plugin reads only '{first}' here)")  # fmt: skip
            item = {first: item[first]}
        for kind, expected in item.items():
            kpath = child_path(ipath, kind)
            if kind == "description" and not isinstance(value, list):
                continue
            if kind not in EXPECT_KINDS:
                hint = suggest(kind, EXPECT_KINDS)
                doc.warn(
                    kpath,
                    f"unknown expectation '{kind}' is ignored"
                    + (f" (did you mean '{hint}'?)" if hint else ""),
                )
                continue
            if expected is None or isinstance(expected, dict):
                raise doc.error(kpath, f"expected a value or a list, got {describe_kind(expected)}")
            if kind in ("jmespath", "jpath"):
                text = as_str(doc, expected, kpath)
                try:
                    compile_jmespath(text)
                except ValueError as exc:
                    raise doc.error(kpath, f"invalid JMESPath expression {text!r}: {exc}") from None
                out.append(ExpectSpec(kind, text, kpath, None))
                continue
            template = Template.compile(expected)
            out.append(ExpectSpec(kind, expected, kpath, None if template.is_static else template))
    return out


def _request(
    ctx: FlowContext, method: str, spec: Any, path: str, scenario_hooks: tuple[list[str], list[str]]
) -> RequestStep:
    doc = ctx.doc
    spec = doc.expect_mapping(spec, path)
    doc.check_keys(spec, path, REQUEST_KEYS, strict=False)
    url_value = spec.get("url", spec.get("uri"))
    if url_value is None:
        raise doc.error(path, "'url' is required")
    url = as_str(doc, url_value, child_path(path, "url"))
    for key in ("qs", "form", "cookie", "auth", "headers"):
        if key in spec and spec[key] is not None and not isinstance(spec[key], dict):
            raise doc.error(
                child_path(path, key), f"expected a mapping, got {describe_kind(spec[key])}"
            )
    if "formData" in spec:
        doc.warn(
            child_path(path, "formData"),
            "multipart 'formData' is not supported; the request is sent without it",
        )
    if "gzip" in spec:
        doc.warn(child_path(path, "gzip"), "ignored: perfgate sends no accept-encoding, so the "
                 "server answers uncompressed (Artillery asks for gzip, deflate, br)")  # fmt: skip
    auth = spec.get("auth")
    if isinstance(auth, dict):
        doc.check_keys(auth, child_path(path, "auth"), ("user", "pass"), strict=False)
    headers = spec.get("headers") or {}
    merged = {str(k).lower(): v for k, v in ctx.default_headers.items()}
    merged.update({str(k).lower(): v for k, v in headers.items()})
    # The target is joined at send time (engine), so one script serves every arm.
    templates: dict[str, Template] = {
        "url": Template.compile(url),
        "headers": Template.compile(merged),
    }
    has_json = "json" in spec and spec["json"] is not None
    for key in ("qs", "form", "cookie", "auth"):
        if spec.get(key) is not None:
            templates[key] = Template.compile(spec[key])
    if has_json:
        templates["json"] = Template.compile(spec["json"])
    elif spec.get("body") is not None:
        templates["body"] = Template.compile(spec["body"])
    probability = None
    if spec.get("probability") is not None:
        probability = _probability(spec["probability"])
    if_true, condition = (None, None)
    if "ifTrue" in spec:
        if_true, condition = _condition(ctx, spec["ifTrue"], child_path(path, "ifTrue"))
    before = [
        *scenario_hooks[0],
        *as_name_list(doc, spec.get("beforeRequest"), child_path(path, "beforeRequest")),
    ]
    after = [
        *scenario_hooks[1],
        *as_name_list(doc, spec.get("afterResponse"), child_path(path, "afterResponse")),
    ]
    for key in ("beforeRequest", "afterResponse"):
        for name in as_name_list(doc, spec.get(key), child_path(path, key)):
            ctx.function_refs.append((name, child_path(path, key)))
    step = RequestStep(
        method=method.upper(),
        url=url,
        path=path,
        qs=spec.get("qs"),
        headers=dict(headers),
        json=spec.get("json"),
        body=spec.get("body"),
        form=spec.get("form"),
        cookie=spec.get("cookie"),
        auth=auth,
        follow_redirect=as_bool(doc, spec["followRedirect"], child_path(path, "followRedirect"))
        if "followRedirect" in spec
        else True,
        name=as_str(doc, spec["name"], child_path(path, "name"))
        if spec.get("name") is not None
        else None,
        capture=(
            _captures(ctx, spec["capture"], child_path(path, "capture"))
            if spec.get("capture")
            else []
        )
        + (
            _captures(ctx, spec["match"], child_path(path, "match"), match=True)
            if spec.get("match")
            else []
        ),
        expect=_expectations(ctx, spec["expect"], child_path(path, "expect"))
        if spec.get("expect")
        else [],
        if_true=if_true,
        before_request=before,
        after_response=after,
        condition=condition,
        has_json=has_json,
        templates=templates,
        probability=probability,
    )
    if if_true is not None:
        ctx.condition_names.append((if_true, child_path(path, "ifTrue"), step))
    return step


def _step(ctx: FlowContext, raw: Any, path: str, hooks: tuple[list[str], list[str]]) -> Step:
    doc = ctx.doc
    step = doc.expect_mapping(raw, path)
    actions = [k for k in step if k in STEP_ACTIONS]
    if not actions:
        unknown = next(iter(step), None)
        hint = suggest(str(unknown), STEP_ACTIONS) if unknown is not None else None
        what = f"unknown step '{unknown}'" if unknown is not None else "empty step"
        raise doc.error(child_path(path, str(unknown)) if unknown is not None else path, what, hint)
    action = next((a for a in actions if a in HTTP_METHODS), actions[0])
    apath = child_path(path, action)
    if action in HTTP_METHODS:
        return _request(ctx, action, step[action], apath, hooks)
    if action != "loop":  # a loop's keys are checked with its count/over/whileTrue
        doc.check_keys(step, path, STEP_KEYS.get(action, (action,)), strict=False)
    if action == "think":
        value = step["think"]
        template = None
        seconds = 0.0
        if isinstance(value, str) and "{{" in value:
            template = Template.compile(value)  # engine_util's createThink templates it
        else:
            seconds = as_duration(doc, value, apath)
            if isinstance(value, float) and not value.is_integer():
                doc.warn(apath, f"think {value:g}: Artillery reads a fractional number as "
                         f"milliseconds and pauses about 0 s; perfgate pauses {value:g} s")  # fmt: skip
        jitter, jitter_ms = (
            _jitter(doc, step["jitter"], child_path(path, "jitter"))
            if "jitter" in step
            else ctx.think_jitter or (None, None)
        )
        return ThinkStep(
            seconds=seconds, jitter=jitter, jitter_ms=jitter_ms, path=apath,
            seconds_template=template,
        )  # fmt: skip
    if action == "log":
        message = as_str(doc, step["log"], apath, allow_empty=True)
        return LogStep(message=message, path=apath, message_template=Template.compile(message))
    if action == "function":
        name = as_str(doc, step["function"], apath)
        ctx.function_refs.append((name, apath))
        return FunctionStep(name=name, path=apath)
    if action == "parallel":
        raise doc.error(apath, "'parallel' steps are not supported by perfgate")
    return _loop(ctx, step, path, hooks)


def _loop(
    ctx: FlowContext, step: dict[str, Any], path: str, hooks: tuple[list[str], list[str]]
) -> LoopStep:
    doc = ctx.doc
    if not any(k in step for k in ("count", "over", "whileTrue")):
        raise_on_typo(doc, step, path, LOOP_KEYS)  # `cuont: 3` is the missing count
    doc.check_keys(step, path, LOOP_KEYS, strict=False)
    apath = child_path(path, "loop")
    steps = parse_flow(ctx, step["loop"], apath, hooks)
    count = None
    count_from = 0
    count_template = None
    if "count" in step:
        cpath = child_path(path, "count")
        raw = step["count"]
        text = raw.strip() if isinstance(raw, str) else None
        if text is not None and "{{" in text:
            count_template = Template.compile(text)  # rendered per pass, as Artillery does
            count = 0
        elif text is not None and _COUNT_RANGE.match(text):
            # engine_util's parseLoopCount: "2-4" is from 2 to 4, i.e. $loopCount 2, 3.
            low, high = (int(x) for x in text.split("-"))
            count_from, count = low, high
        else:
            count = int(as_number(doc, raw, cpath, minimum=0, integer=True))
            if count == 0 and not isinstance(raw, str):
                doc.warn(cpath, "Artillery reads count 0 as no count (`count || -1`) and "
                         "loops forever; perfgate runs no pass")  # fmt: skip
    over = step.get("over")
    over_template = None
    if over is not None:
        if isinstance(over, str):
            over_template = Template.compile(over if "{{" in over else "{{ " + over + " }}")
        elif not isinstance(over, list):
            raise doc.error(
                child_path(path, "over"),
                f"expected a list or a variable name, got {describe_kind(over)}",
            )
    while_true = None
    while_condition = None
    wpath = child_path(path, "whileTrue")
    if "whileTrue" in step:
        while_true = as_str(doc, step["whileTrue"], wpath)
        try:
            while_condition = compile_condition(while_true)
        except ValueError:
            while_condition = None  # must then name a processor function (checked by the loader)
    if count is None and over is None and while_true is None:
        raise doc.error(
            path, "a loop needs 'count', 'over' or 'whileTrue' (perfgate runs no endless loops)"
        )
    loop = LoopStep(
        steps=steps,
        count=count,
        over=over,
        while_true=while_true,
        path=apath,
        over_template=over_template,
        while_condition=while_condition,
        count_from=count_from,
        count_template=count_template,
        index_var=as_str(doc, step["loopValue"], child_path(path, "loopValue"))
        if step.get("loopValue")
        else "$loopCount",
        element_var=as_str(doc, step["loopElement"], child_path(path, "loopElement"))
        if step.get("loopElement")
        else "$loopElement",
    )
    if while_true is not None:
        ctx.condition_names.append((while_true, wpath, loop))
    return loop


def parse_flow(
    ctx: FlowContext, value: Any, path: str, hooks: tuple[list[str], list[str]] = ([], [])
) -> list[Step]:
    if value is None:
        raise ctx.doc.error(path, "a flow (a list of steps) is required")
    items = ctx.doc.expect_list(value, path)
    return [_step(ctx, raw, child_path(path, i), hooks) for i, raw in enumerate(items)]


def parse_scenarios(ctx: FlowContext, value: Any) -> list[Scenario]:
    doc = ctx.doc
    if value is None:
        raise doc.error("scenarios", "at least one scenario is required ('scenarios' is missing)")
    items = doc.expect_list(value, "scenarios")
    if not items:
        raise doc.error("scenarios", "at least one scenario is required")
    out: list[Scenario] = []
    for i, raw in enumerate(items):
        path = child_path("scenarios", i)
        spec = doc.expect_mapping(raw, path)
        doc.check_keys(spec, path, SCENARIO_KEYS, strict=False)
        engine = spec.get("engine")
        if engine not in (None, "http"):
            raise doc.error(
                child_path(path, "engine"), f"engine {engine!r} is not supported (only http)"
            )
        weight = (
            as_number(doc, spec["weight"], child_path(path, "weight"), minimum=0)
            if "weight" in spec
            else 1.0
        )
        hooks: dict[str, list[str]] = {}
        for key in ("beforeScenario", "afterScenario", "beforeRequest", "afterResponse"):
            hooks[key] = as_name_list(doc, spec.get(key), child_path(path, key))
            ctx.function_refs.extend((name, child_path(path, key)) for name in hooks[key])
        if "onError" in spec:
            doc.warn(
                child_path(path, "onError"), "'onError' hooks are not supported and are ignored"
            )
        name = spec.get("name")
        out.append(
            Scenario(
                index=i,
                name=as_str(doc, name, child_path(path, "name")) if name is not None else str(i),
                weight=weight,
                flow=parse_flow(
                    ctx,
                    spec.get("flow"),
                    child_path(path, "flow"),
                    (hooks["beforeRequest"], hooks["afterResponse"]),
                ),
                before_scenario=hooks["beforeScenario"],
                after_scenario=hooks["afterScenario"],
                path=path,
            )
        )
    if sum(s.weight for s in out) <= 0:
        raise doc.error("scenarios", "scenario weights add up to 0: no scenario could ever run")
    return out
