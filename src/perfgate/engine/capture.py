"""Captures: pull values out of a response into a virtual user's vars.

Artillery 2 semantics: ``json`` takes a JSONPath (a random element when
several match, as Artillery does), ``header`` a header's value, ``regexp``
the whole match or ``group`` (index or name). A capture fails when nothing
matches (or the body isn't JSON for ``json``); a failed ``strict`` capture
(the default) ends the virtual user, a non-strict one leaves the var unset.
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
        return response.headers.get(expr, UNDEFINED)
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


def apply_captures(
    specs: list[CaptureSpec], response: ResponseView, vars: dict[str, Any]
) -> list[str]:
    """Run the captures in order, setting ``vars[spec.as_name]`` on success.

    Returns the ``as`` names of strict captures that failed (the caller ends
    the virtual user: ``errors.Failed capture or match``, ``vusers.failed``).
    """
    failed: list[str] = []
    for spec in specs:
        value = capture_value(spec, response, vars)
        if value is UNDEFINED:
            if spec.strict:
                failed.append(spec.as_name)
            continue
        vars[spec.as_name] = value
    return failed
