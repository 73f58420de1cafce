"""``plugins.expect`` checks on one response.

Each check gives an :class:`ExpectOutcome`; the engine counts them as
``plugins.expect.ok`` / ``plugins.expect.failed`` and per check kind
(``plugins.expect.ok.statusCode``, ``plugins.expect.failed.statusCode``), as
artillery-plugin-expect does. Expected values may be templates; they are
rendered against the virtual user's vars at check time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jmespath
import jmespath.exceptions
import jmespath.parser

from perfgate.engine.conditions import truthy
from perfgate.engine.response import ResponseView
from perfgate.template import UNDEFINED, js_string, lookup_path, parse_path

if TYPE_CHECKING:
    from perfgate.config.artillery import ExpectSpec

__all__ = ["EXPECT_KINDS", "ExpectOutcome", "check_expectations", "compile_jmespath"]

EXPECT_KINDS = (
    "statusCode",
    "notStatusCode",
    "contentType",
    "hasProperty",
    "notHasProperty",
    "equals",
    "hasHeader",
    "headerEquals",
    "matchesRegexp",
    "cdnHit",
    "jmespath",
    "jpath",
)
# artillery-plugin-expect's cdnHit: these headers, value starting "hit"/"stale" (or "miss").
CDN_CACHE_HEADERS = ("cf-cache-status", "x-cache", "x-vercel-cache")


@dataclass
class ExpectOutcome:
    """One check's result; ``expected``/``got`` are for the failure message."""

    kind: str
    ok: bool
    expected: Any
    got: Any


def _status_codes(value: Any) -> list[int | None]:
    items = value if isinstance(value, list) else [value]
    out: list[int | None] = []
    for item in items:
        try:
            out.append(int(str(item).strip()))
        except ValueError:
            out.append(None)
    return out


def _has_property(response: ResponseView, prop: Any) -> tuple[bool, Any]:
    try:
        body = response.json()
    except ValueError:
        return False, "(body is not JSON)"
    parts = parse_path(str(prop))
    if parts is None or not isinstance(body, Mapping | list):
        return False, "(no such property)"
    root = {"$": body}
    found = lookup_path(root, ["$", *parts]) is not UNDEFINED
    return found, "present" if found else "(no such property)"


@lru_cache(maxsize=256)
def compile_jmespath(expr: str) -> jmespath.parser.ParsedResult:
    """A compiled JMESPath expression; ValueError on a syntax error."""
    try:
        return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(str(exc).replace("\n", " ")) from None


def _json_body(response: ResponseView) -> Any:
    """The body as the plugin sees it: parsed only for a JSON content type."""
    ctype = response.headers.get("content-type", "")
    if not any(
        t in ctype for t in ("application/json", "application/problem+json", "application/ld+json")
    ):
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _cdn_hit(expected: Any, response: ResponseView) -> tuple[bool, str]:
    wanted = ("hit", "stale") if truthy(expected) else ("miss",)
    for name in CDN_CACHE_HEADERS:
        value = response.headers.get(name)
        if value and value.lower().startswith(wanted):
            return True, f"{name} is {value}"
    return False, "cache status header not found"


def _content_type_ok(expected: str, got: str) -> bool:
    expected_l, got_l = expected.strip().lower(), got.strip().lower()
    if expected_l == "json":
        return "json" in got_l.split(";")[0]
    return got_l.split(";")[0].strip() == expected_l or got_l.startswith(expected_l)


def _check(spec: ExpectSpec, response: ResponseView, vars: Mapping[str, Any]) -> ExpectOutcome:
    expected = spec.value if spec.value_template is None else spec.value_template.render(vars)
    kind = spec.kind
    if kind in ("statusCode", "notStatusCode"):
        codes = _status_codes(expected)
        hit = response.status in codes
        return ExpectOutcome(
            kind, hit if kind == "statusCode" else not hit, expected, response.status
        )
    if kind == "contentType":
        got = response.headers.get("content-type", "")
        return ExpectOutcome(kind, _content_type_ok(js_string(expected), got), expected, got)
    if kind in ("hasProperty", "notHasProperty"):
        found, got = _has_property(response, expected)
        return ExpectOutcome(kind, found if kind == "hasProperty" else not found, expected, got)
    if kind == "equals":
        values = [js_string(v) for v in (expected if isinstance(expected, list) else [expected])]
        return ExpectOutcome(kind, len(set(values)) <= 1, values[:1], values)
    if kind == "hasHeader":
        header = response.headers.get(js_string(expected))
        return ExpectOutcome(kind, header is not None, expected, header)
    if kind == "headerEquals":
        pair = expected if isinstance(expected, list) else [expected]
        name = js_string(pair[0]) if pair else ""
        wanted = [js_string(v) for v in pair[1:]]
        value = response.headers.get(name)
        return ExpectOutcome(kind, value is not None and value in wanted, wanted, value)
    if kind == "matchesRegexp":
        try:
            ok = re.search(js_string(expected), response.text()) is not None
        except re.error:
            ok = False
        return ExpectOutcome(kind, ok, expected, response.text()[:200])
    if kind == "cdnHit":
        ok, got = _cdn_hit(expected, response)
        return ExpectOutcome(kind, ok, expected, got)
    if kind in ("jmespath", "jpath"):
        body = _json_body(response)
        if not isinstance(body, Mapping | list):
            return ExpectOutcome(kind, False, expected, "response body is not an object")
        try:
            result = compile_jmespath(str(expected)).search(body)
        except (ValueError, jmespath.exceptions.JMESPathError) as exc:
            return ExpectOutcome(kind, False, expected, str(exc))
        return ExpectOutcome(kind, truthy(result), expected, result)  # JS truthiness, as the plugin
    return ExpectOutcome(kind, False, expected, "(unknown check)")


def check_expectations(
    specs: list[ExpectSpec], response: ResponseView, vars: Mapping[str, Any]
) -> list[ExpectOutcome]:
    """Run every check (all of them, even after a failure, as the plugin does)."""
    return [_check(spec, response, vars) for spec in specs]
