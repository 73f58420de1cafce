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
from typing import TYPE_CHECKING, Any

import jmespath.exceptions

from perfgate.engine.response import ResponseView
from perfgate.script import (
    UNDEFINED,
    compile_jmespath,
    js_string,
    lookup_path,
    parse_path,
    truthy,
)

if TYPE_CHECKING:
    from perfgate.script import ExpectSpec

__all__ = ["ExpectOutcome", "check_expectations"]

# artillery-plugin-expect's cdnHit: these headers, value starting "hit"/"stale" (or "miss").
CDN_CACHE_HEADERS = ("cf-cache-status", "x-cache", "x-vercel-cache")
_JSON_TYPES = ("application/json", "application/problem+json", "application/ld+json")


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


def _has_property(response: ResponseView, prop: Any) -> tuple[bool | None, Any]:
    """(found, got); found None when the body is no JSON object (the plugin's
    checkProperty then fails hasProperty and notHasProperty alike)."""
    body = _json_body(response)
    if not isinstance(body, Mapping | list):
        return None, "response body is not an object"
    parts = parse_path(str(prop))
    if parts is None:
        return False, "(no such property)"
    found = lookup_path({"$": body}, ["$", *parts]) is not UNDEFINED
    return found, "present" if found else "(no such property)"


def _js_text(response: ResponseView) -> str:
    """What ``RegExp.test(body)`` sees: a parsed JSON body is coerced with
    String(), so an object is ``[object Object]`` (the plugin tests the parsed body)."""
    body = _json_body(response)
    if body is None:
        return response.text()
    return _js_to_string(body)


def _js_to_string(value: Any) -> str:
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list):
        return ",".join("" if v is None else _js_to_string(v) for v in value)
    return js_string(value)


def _json_body(response: ResponseView) -> Any:
    """The body as the plugin's maybeParseBody sees it: parsed only for a JSON
    content type (None when it is not, or does not parse)."""
    ctype = response.headers.get("content-type", "")
    if not any(t in ctype for t in _JSON_TYPES):
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


def _content_type_ok(expected: str, response: ResponseView) -> bool:
    """The plugin: ``json`` wants a body that parses to an object and a JSON content
    type; anything else must equal the whole header, case aside (a charset counts)."""
    got = response.headers.get("content-type", "")
    if expected == "json":
        return isinstance(_json_body(response), Mapping | list)
    return bool(got) and got.lower() == expected.lower()


def _node_header(response: ResponseView, name: str) -> str | None:
    """``res.headers[name]`` in node: names are lower-cased, so ``Content-Type`` is
    never found; an empty value is falsy."""
    if name != name.lower():
        return None
    return response.headers.get(name) or None


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
        return ExpectOutcome(kind, _content_type_ok(js_string(expected), response), expected, got)
    if kind in ("hasProperty", "notHasProperty"):
        found, got = _has_property(response, expected)
        ok = found is not None and (found if kind == "hasProperty" else not found)
        return ExpectOutcome(kind, ok, expected, got)
    if kind == "equals":
        values = [js_string(v) for v in (expected if isinstance(expected, list) else [expected])]
        return ExpectOutcome(kind, len(set(values)) <= 1, values[:1], values)
    if kind == "hasHeader":
        header = _node_header(response, js_string(expected))
        return ExpectOutcome(kind, header is not None, expected, header)
    if kind == "headerEquals":
        pair = expected if isinstance(expected, list) else [expected]
        name = js_string(pair[0]) if pair else ""
        wanted = js_string(pair[1]) if len(pair) > 1 and pair[1] not in (None, "") else ""
        value = _node_header(response, name)
        # The plugin names this check after the header: `header <name> values equals`.
        return ExpectOutcome(f"header {name} values equals", value == wanted, wanted, value)
    if kind == "matchesRegexp":
        try:
            ok = re.search(js_string(expected), _js_text(response)) is not None
        except re.error:
            ok = False
        return ExpectOutcome(kind, ok, expected, _js_text(response)[:200])
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
