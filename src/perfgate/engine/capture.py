"""Captures: pull values out of a response into a virtual user's vars.

Artillery 2 semantics: ``json`` takes a JSONPath (a random element when
several match, as Artillery does), ``header`` a header's value, ``regexp``
the whole match or ``group`` (index or name). A capture fails when nothing
matches (or the body isn't JSON for ``json``) or the value is ``""``; a
failed ``strict`` capture (the default) ends the virtual user; a non-strict
one leaves a ``json`` var unset and sets a ``header``/``regexp`` var to ``""``
(what their extractors return on a miss). Header names match as node
stores them, lower-case.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from perfgate.engine.response import ResponseView
from perfgate.script import UNDEFINED, jsonpath_query

if TYPE_CHECKING:
    from perfgate.script import CaptureSpec

__all__ = ["apply_captures", "capture_value"]

_rng = random.Random()


def capture_value(spec: CaptureSpec, response: ResponseView, vars: Mapping[str, Any]) -> Any:
    """The captured value, or UNDEFINED when the capture fails."""
    expr = spec.expr if spec.expr_template is None else str(spec.expr_template.render(vars))
    if spec.kind == "header":
        # node stores header names lower-case: `X-Id` is never found (Artillery 2.0.21).
        return response.headers.get(expr, UNDEFINED) if expr == expr.lower() else UNDEFINED
    if spec.kind == "json":
        try:
            document = response.json()
            matches = jsonpath_query(document, expr)
        except ValueError:
            return UNDEFINED
        if not matches:
            return UNDEFINED
        return matches[0] if len(matches) == 1 else _rng.choice(matches)
    if spec.kind == "regexp":
        try:
            rx = _regex(expr, spec.flags or "")
        except re.error:
            return UNDEFINED
        m = rx.search(response.text())
        if m is None:
            return UNDEFINED
        group = spec.group
        if group is not None and group != 0:
            try:
                value = m.group(group)
            except IndexError:
                value = None
            if value:
                return value
        return m.group(0) or UNDEFINED
    return UNDEFINED


@lru_cache(maxsize=512)
def _regex(expr: str, flags: str) -> re.Pattern[str]:
    value = 0
    for ch in flags:
        value |= {"i": re.I, "m": re.M, "s": re.S}.get(ch, 0)
    return re.compile(expr, value)


def _js_strict_equal(a: Any, b: Any) -> bool:
    """JavaScript ``===`` on JSON-ish values (containers never equal)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return bool(a == b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return (a is UNDEFINED and b is UNDEFINED) or (a is None and b is None)


def apply_captures(
    specs: list[CaptureSpec], response: ResponseView, vars: dict[str, Any]
) -> list[str]:
    """Run the captures (and ``match`` entries) as engine_util's captureOrMatch.

    Returns the names of strict captures / expressions of strict matches that
    failed (the caller ends the virtual user: ``errors.Failed capture or
    match``); then, as there, no variable is set. Otherwise every capture's
    value is set (a non-strict ``header``/``regexp`` miss as ``""``).
    """
    failed: list[str] = []
    found: dict[str, Any] = {}
    for spec in specs:
        value = capture_value(spec, response, vars)
        if spec.match_value is not None:
            got = value if value is not UNDEFINED or spec.kind == "json" else ""
            if not _js_strict_equal(got, spec.match_value.render(vars)) and spec.strict:
                failed.append(spec.expr)
            continue
        if value is UNDEFINED or (isinstance(value, str) and value == ""):  # isCaptureFailed
            if spec.strict:
                failed.append(spec.as_name)
            elif spec.kind in ("header", "regexp"):
                found[spec.as_name] = ""  # their extractors give "" on a miss, and it is set
            continue
        found[spec.as_name] = value
    if not failed:
        vars.update(found)
    return failed
