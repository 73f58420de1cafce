"""The JSONPath subset Artillery scripts use in captures and conditions, and JMESPath.

Compiled once per expression (cached) so a script's paths are checked when it
is loaded and evaluated cheaply per response.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import jmespath
import jmespath.exceptions
import jmespath.parser

__all__ = ["Selector", "compile_jmespath", "compile_jsonpath", "jsonpath_query"]

_STEP = re.compile(
    r"""\.\.(?P<deep>[A-Za-z_$][\w$-]*|\*)
      |\.(?P<name>[\w$@-]+|\*)
      |\[\s*(?P<index>-?\d+)\s*\]
      |\[\s*(?P<quoted>'[^']*'|"[^"]*")\s*\]
      |\[\s*(?P<star>\*)\s*\]
      |\[\s*(?P<slice>-?\d*\s*:\s*-?\d*)\s*\]""",
    re.X,
)

Selector = tuple[str, Any]


@lru_cache(maxsize=1024)
def compile_jsonpath(expr: str) -> tuple[Selector, ...]:
    """Parse the JSONPath subset: ``$``, ``.a``, ``.0``, ``['a']``, ``[0]``, ``[-1]``,
    ``[*]``, ``.*``, ``[1:3]`` and ``..a`` (recursive descent). ValueError otherwise."""
    text = expr.strip()
    if text.startswith("$"):
        text = text[1:]
    elif text and not text.startswith((".", "[")):
        text = "." + text  # "token" means "$.token", as jsonpath-plus reads it
    steps: list[Selector] = []
    pos = 0
    while pos < len(text):
        m = _STEP.match(text, pos)
        if m is None:
            raise ValueError(f"unsupported JSONPath {expr!r} at {text[pos:]!r}")
        if m.group("deep") is not None:
            steps.append(("deep", m.group("deep")))
        elif m.group("name") is not None:
            name = m.group("name")
            steps.append(("all", None) if name == "*" else ("key", name))
        elif m.group("index") is not None:
            steps.append(("index", int(m.group("index"))))
        elif m.group("quoted") is not None:
            steps.append(("key", m.group("quoted")[1:-1]))
        elif m.group("star") is not None:
            steps.append(("all", None))
        else:
            lo, _, hi = m.group("slice").partition(":")
            steps.append(
                ("slice", (int(lo) if lo.strip() else None, int(hi) if hi.strip() else None))
            )
        pos = m.end()
    return tuple(steps)


def _children(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _descendants(value: Any, depth: int = 0) -> list[Any]:
    out = [value]
    if depth < 64:
        for child in _children(value):
            out.extend(_descendants(child, depth + 1))
    return out


def jsonpath_query(document: Any, expr: str) -> list[Any]:
    """All values matching ``expr`` in ``document`` (in document order)."""
    current = [document]
    for kind, arg in compile_jsonpath(expr):
        nxt: list[Any] = []
        for value in current:
            if kind == "key":
                if isinstance(value, Mapping) and arg in value:
                    nxt.append(value[arg])
                elif isinstance(value, list) and arg == "length":
                    nxt.append(len(value))
                elif isinstance(value, list) and arg.isdigit() and int(arg) < len(value):
                    nxt.append(value[int(arg)])  # `$.a.0.b`: jsonpath-plus reads .0 as [0]
            elif kind == "index":
                if isinstance(value, list) and -len(value) <= arg < len(value):
                    nxt.append(value[arg])
            elif kind == "all":
                nxt.extend(_children(value))
            elif kind == "slice":
                if isinstance(value, list):
                    nxt.extend(value[arg[0] : arg[1]])
            else:  # deep
                for node in _descendants(value):
                    if arg == "*":
                        nxt.extend(_children(node))
                    elif isinstance(node, Mapping) and arg in node:
                        nxt.append(node[arg])
        current = nxt
        if not current:
            break
    return current


@lru_cache(maxsize=256)
def compile_jmespath(expr: str) -> jmespath.parser.ParsedResult:
    """A compiled JMESPath expression (expect's ``jmespath``); ValueError on a syntax error."""
    try:
        return jmespath.compile(expr)
    except jmespath.exceptions.JMESPathError as exc:
        raise ValueError(str(exc).replace("\n", " ")) from None
