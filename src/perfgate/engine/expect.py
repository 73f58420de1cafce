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

from perfgate.engine.response import ResponseView
from perfgate.script import UNDEFINED, js_string, lookup_path, parse_path

if TYPE_CHECKING:
    from perfgate.script import ExpectSpec

__all__ = ["ExpectOutcome", "check_expectations"]


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
    return ExpectOutcome(kind, False, expected, "(unknown check)")


def check_expectations(
    specs: list[ExpectSpec], response: ResponseView, vars: Mapping[str, Any]
) -> list[ExpectOutcome]:
    """Run every check (all of them, even after a failure, as the plugin does)."""
    return [_check(spec, response, vars) for spec in specs]
