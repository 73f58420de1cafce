"""Benchmark suites: the model and its loader.

A suite (YAML) names a target, variables, suite-wide defaults (samples,
warmup, concurrency, budget), setup steps in the load scripts' request
syntax (``- post: {url, json, capture}``) and the operations to measure::

    name: Demo API
    target: http://127.0.0.1:3001
    defaults: {samples: 100, warmup: 10, budget: {p95: 200, mean: 100}}
    setup:
      - post: {url: /auth/sign-in, json: {...}, capture: [{json: $.token, as: token}]}
    operations:
      - name: Health Check
        request: {method: GET, url: /health}
        budget: {median: 10}

Requests become the script model's :class:`RequestStep` (templates compiled
once), so bench renders and sends exactly what a load script would.
Every error names file, line and key path, with a did-you-mean.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from perfgate.config import Located, child_path, load_yaml, load_yaml_text
from perfgate.script import HTTP_METHODS, CaptureSpec, RequestStep, Template

__all__ = [
    "BUDGET_KEYS",
    "Operation",
    "Suite",
    "bundled_suite_path",
    "load_suite",
    "load_suite_text",
]

#: Budget keys: latency statistics in ms, and ``error_rate`` (percent of samples allowed to fail).
BUDGET_KEYS = ("mean", "median", "p95", "p99", "max", "error_rate")
LATENCY_BUDGET_KEYS = BUDGET_KEYS[:-1]

_TOP_KEYS = ("name", "target", "variables", "defaults", "setup", "operations", "timeout")
_DEFAULT_KEYS = ("samples", "warmup", "concurrency", "budget", "timeout")
_OP_KEYS = ("name", "request", "samples", "warmup", "concurrency", "budget", "timeout")
_REQUEST_KEYS = ("method", "url", "qs", "headers", "json", "body")
_SETUP_STEP_KEYS = ("url", "qs", "headers", "json", "body", "capture", "name")
_CAPTURE_KINDS = ("json", "header", "regexp")
_CAPTURE_KEYS = (*_CAPTURE_KINDS, "as", "strict", "group", "flags")

DEFAULT_SAMPLES = 100
DEFAULT_WARMUP = 10
DEFAULT_CONCURRENCY = 1
DEFAULT_TIMEOUT_S = 10.0
_MAX_SAMPLES = 1_000_000
_MAX_CONCURRENCY = 1024

# {{ name }}, {{ name.field }}, {{ $env.X }}: the first segment is the variable.
_VAR_REF = re.compile(r"\{\{\{?\s*([A-Za-z_$][\w$]*)")


@dataclass
class Operation:
    """One benchmarked operation.

    ``budget`` maps :data:`BUDGET_KEYS` to limits (suite defaults merged
    under the operation's own); ``needs`` are the variables its request
    templates reference (so a failed setup can skip exactly what it broke).
    """

    name: str
    request: RequestStep
    samples: int
    warmup: int
    concurrency: int
    budget: dict[str, float]
    timeout_s: float
    path: str
    needs: frozenset[str] = frozenset()


@dataclass
class Suite:
    """A loaded, validated benchmark suite."""

    name: str
    source: str
    target: str
    variables: dict[str, Any]
    setup: list[RequestStep]
    operations: list[Operation]
    timeout_s: float = DEFAULT_TIMEOUT_S
    warnings: list[str] = field(default_factory=list)
    # variable names each setup step needs (same order as ``setup``)
    setup_needs: list[frozenset[str]] = field(default_factory=list)

    def operation(self, name: str) -> Operation | None:
        return next((op for op in self.operations if op.name == name), None)


def bundled_suite_path() -> Path:
    """The suite for the demo API shipped with perfgate (``perfgate demo`` uses it)."""
    return Path(str(resources.files("perfgate") / "data" / "demo" / "bench-suite.yml"))


def load_suite(path: str | Path, *, target: str | None = None) -> Suite:
    """Load and validate a suite file; ``target`` (``-t``) overrides its target.

    Raises :class:`~perfgate.errors.ConfigError` with file, line and key path.
    """
    return _build(load_yaml(path), target)


def load_suite_text(text: str, file: str = "<string>", *, target: str | None = None) -> Suite:
    """Like :func:`load_suite`, from text."""
    return _build(load_yaml_text(text, file), target)


# -- building -----------------------------------------------------------------
def _build(doc: Located, target_override: str | None) -> Suite:
    top = doc.data
    if not isinstance(top, dict):
        raise doc.error("", "a bench suite must be a mapping with 'operations'")
    doc.check_keys(top, "", _TOP_KEYS, strict=True)

    name = top.get("name", Path(doc.file).stem)
    if not isinstance(name, str | int | float) or not str(name).strip():
        raise doc.error("name", "expected a non-empty string")
    target = target_override if target_override is not None else top.get("target")
    if target is None:
        raise doc.error("target", "no target: set 'target' in the suite or pass -t URL")
    target = _check_target(doc, target, "target" if target_override is None else "")

    variables = doc.expect_mapping(top.get("variables"), "variables")
    defaults_map = doc.expect_mapping(top.get("defaults"), "defaults")
    doc.check_keys(defaults_map, "defaults", _DEFAULT_KEYS, strict=True)
    timeout_s = _number(
        doc,
        top.get("timeout", defaults_map.get("timeout", DEFAULT_TIMEOUT_S)),
        "timeout" if "timeout" in top else "defaults.timeout",
        low=0.001,
    )
    defaults = {
        "samples": _int(
            doc, defaults_map.get("samples", DEFAULT_SAMPLES), "defaults.samples", 1, _MAX_SAMPLES
        ),
        "warmup": _int(
            doc, defaults_map.get("warmup", DEFAULT_WARMUP), "defaults.warmup", 0, _MAX_SAMPLES
        ),
        "concurrency": _int(
            doc,
            defaults_map.get("concurrency", DEFAULT_CONCURRENCY),
            "defaults.concurrency",
            1,
            _MAX_CONCURRENCY,
        ),
    }
    # Failed samples fail the operation unless the suite allows some.
    default_budget = {
        "error_rate": 0.0,
        **_budget(doc, defaults_map.get("budget"), "defaults.budget"),
    }

    setup: list[RequestStep] = []
    setup_needs: list[frozenset[str]] = []
    for i, raw in enumerate(doc.expect_list(top.get("setup"), "setup")):
        step, needs = _setup_step(doc, raw, child_path("setup", i))
        setup.append(step)
        setup_needs.append(needs)

    raw_ops = doc.expect_list(top.get("operations"), "operations")
    if not raw_ops:
        raise doc.error("operations", "a suite needs at least one operation")
    operations: list[Operation] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(raw_ops):
        op = _operation(doc, raw, child_path("operations", i), defaults, default_budget, timeout_s)
        if op.name in seen:
            raise doc.error(
                f"{op.path}.name",
                f"duplicate operation name '{op.name}' (first at {seen[op.name]})",
            )
        seen[op.name] = op.path
        operations.append(op)

    return Suite(
        name=str(name),
        source=doc.file,
        target=target,
        variables=dict(variables),
        setup=setup,
        operations=operations,
        timeout_s=timeout_s,
        warnings=list(doc.warnings),
        setup_needs=setup_needs,
    )


def _operation(
    doc: Located,
    raw: Any,
    path: str,
    defaults: dict[str, int],
    default_budget: dict[str, float],
    suite_timeout_s: float,
) -> Operation:
    op = doc.expect_mapping(raw, path)
    doc.check_keys(op, path, _OP_KEYS, strict=True)
    name = op.get("name")
    if not isinstance(name, str) or not name.strip():
        raise doc.error(f"{path}.name", "every operation needs a name (a non-empty string)")
    if "request" not in op:
        raise doc.error(path, f"operation '{name}' has no 'request'", "request")
    rpath = f"{path}.request"
    req = doc.expect_mapping(op["request"], rpath)
    doc.check_keys(req, rpath, _REQUEST_KEYS, strict=True)
    method = req.get("method", "GET")
    if not isinstance(method, str) or method.lower() not in HTTP_METHODS:
        hint = None
        if isinstance(method, str):
            from perfgate.config import suggest

            hint = suggest(method.lower(), HTTP_METHODS)
        raise doc.error(f"{rpath}.method", f"unknown HTTP method {method!r}", hint and hint.upper())
    step = _request(doc, req, rpath, method.lower())
    samples = _int(doc, op.get("samples", defaults["samples"]), f"{path}.samples", 1, _MAX_SAMPLES)
    warmup = _int(doc, op.get("warmup", defaults["warmup"]), f"{path}.warmup", 0, _MAX_SAMPLES)
    concurrency = _int(
        doc,
        op.get("concurrency", defaults["concurrency"]),
        f"{path}.concurrency",
        1,
        _MAX_CONCURRENCY,
    )
    if concurrency > samples:
        raise doc.error(
            f"{path}.concurrency", f"concurrency {concurrency} exceeds samples {samples}"
        )
    budget = {**default_budget, **_budget(doc, op.get("budget"), f"{path}.budget")}
    timeout_s = _number(doc, op.get("timeout", suite_timeout_s), f"{path}.timeout", low=0.001)
    return Operation(
        name=name.strip(),
        request=step,
        samples=samples,
        warmup=warmup,
        concurrency=concurrency,
        budget=budget,
        timeout_s=timeout_s,
        path=path,
        needs=frozenset(_var_refs(req)),
    )


def _setup_step(doc: Located, raw: Any, path: str) -> tuple[RequestStep, frozenset[str]]:
    entry = doc.expect_mapping(raw, path)
    if len(entry) != 1:
        raise doc.error(
            path, "a setup step is one request: '- post: {url: ...}' (or get, put, ...)"
        )
    ((method, body),) = entry.items()
    if str(method).lower() not in HTTP_METHODS:
        from perfgate.config import suggest

        raise doc.error(
            child_path(path, str(method)),
            f"unknown setup step '{method}'",
            suggest(str(method), HTTP_METHODS),
        )
    spath = child_path(path, str(method))
    spec = doc.expect_mapping(body, spath)
    doc.check_keys(spec, spath, _SETUP_STEP_KEYS, strict=True)
    step = _request(doc, spec, spath, str(method).lower())
    step.capture = _captures(doc, spec.get("capture"), f"{spath}.capture")
    if spec.get("name") is not None:
        step.name = str(spec["name"])
    needs = {k: v for k, v in spec.items() if k != "capture"}
    return step, frozenset(_var_refs(needs))


def _request(doc: Located, spec: dict[str, Any], path: str, method: str) -> RequestStep:
    url = spec.get("url")
    if not isinstance(url, str) or not url:
        raise doc.error(
            f"{path}.url", "expected a URL (a path like /health, or an absolute http(s) URL)"
        )
    qs = doc.expect_mapping(spec.get("qs"), f"{path}.qs") if "qs" in spec else None
    headers = doc.expect_mapping(spec.get("headers"), f"{path}.headers")
    if "json" in spec and "body" in spec:
        raise doc.error(f"{path}.body", "give either 'json' or 'body', not both")
    step = RequestStep(
        method=method,
        url=url,
        path=path,
        qs=qs,
        headers=dict(headers),
        json=spec.get("json"),
        body=spec.get("body"),
        has_json="json" in spec,
    )
    templates: dict[str, Template] = {
        "url": Template.compile(url),
        "headers": Template.compile(step.headers),
    }
    if qs is not None:
        templates["qs"] = Template.compile(qs)
    if "json" in spec:
        templates["json"] = Template.compile(spec["json"])
    if "body" in spec:
        templates["body"] = Template.compile(spec["body"])
    step.templates = templates
    return step


def _captures(doc: Located, raw: Any, path: str) -> list[CaptureSpec]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    out: list[CaptureSpec] = []
    for i, item in enumerate(items):
        cpath = child_path(path, i) if isinstance(raw, list) else path
        spec = doc.expect_mapping(item, cpath)
        doc.check_keys(spec, cpath, _CAPTURE_KEYS, strict=True)
        kinds = [k for k in _CAPTURE_KINDS if k in spec]
        if len(kinds) != 1:
            raise doc.error(cpath, "a capture needs exactly one of json, header, regexp")
        as_name = spec.get("as")
        if not isinstance(as_name, str) or not as_name:
            raise doc.error(f"{cpath}.as", "a capture needs 'as: variableName'")
        strict = spec.get("strict", True)
        if not isinstance(strict, bool):
            raise doc.error(f"{cpath}.strict", "expected true or false")
        expr = str(spec[kinds[0]])
        out.append(
            CaptureSpec(
                kind=kinds[0],
                expr=expr,
                as_name=as_name,
                group=spec.get("group"),
                strict=strict,
                flags=spec.get("flags"),
                path=cpath,
                expr_template=Template.compile(expr) if "{{" in expr else None,
            )
        )
    return out


def _budget(doc: Located, raw: Any, path: str) -> dict[str, float]:
    spec = doc.expect_mapping(raw, path)
    doc.check_keys(spec, path, BUDGET_KEYS, strict=True, what="budget statistic")
    out: dict[str, float] = {}
    for key, value in spec.items():
        low = 0.0 if key == "error_rate" else 1e-9
        high = 100.0 if key == "error_rate" else None
        out[key] = _number(doc, value, child_path(path, key), low=low, high=high)
    return out


# -- small validators ----------------------------------------------------------
def _check_target(doc: Located, target: Any, path: str) -> str:
    if not isinstance(target, str) or not re.match(r"^https?://[^/\s]+", target):
        raise doc.error(path, f"target must be an http(s) URL, got {target!r}")
    return target.rstrip("/")


def _int(doc: Located, value: Any, path: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise doc.error(path, f"expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise doc.error(path, f"must be between {low} and {high}, got {value}")
    return value


def _number(doc: Located, value: Any, path: str, *, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise doc.error(path, f"expected a number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise doc.error(path, f"must be {bound}, got {value}")
    return float(value)


def _var_refs(value: Any) -> Iterable[str]:
    """Variables a raw (uncompiled) request value references, ``$``-builtins excluded."""
    if isinstance(value, str):
        for m in _VAR_REF.finditer(value):
            if not m.group(1).startswith("$"):
                yield m.group(1)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _var_refs(k)
            yield from _var_refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _var_refs(v)
