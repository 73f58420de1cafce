"""Artillery's template language, compiled once and rendered per request.

``{{ var }}``, ``{{ a.b }}``, ``{{ a[0] }}``, ``{{ $env.HOME }}`` and the
functions ``$randomString(n)`` / ``$randomNumber(a, b)`` are resolved against
a virtual user's vars. Semantics follow Artillery 2's ``engine_util``:

- a string that is exactly one placeholder keeps the value's type (numbers
  stay numbers in JSON bodies); an undefined one drops its key from a
  mapping (JSON.stringify drops undefined) and is ``None`` elsewhere;
- inside a longer string an undefined value renders as ``undefined``,
  ``None`` as ``null``, booleans as ``true``/``false`` and containers as
  compact JSON;
- ``$env`` / ``$processEnvironment`` fall back to ``os.environ`` and
  ``$uuid`` to a fresh UUID when the vars don't carry them.

Static strings (no ``{{``) compile to a template whose render returns the
string itself, so the hot path pays nothing for them.
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import uuid
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["UNDEFINED", "Template", "js_string", "lookup_path", "parse_path"]


class _Undefined:
    """JavaScript's ``undefined``: distinct from ``None`` (JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()

_PLACEHOLDER = re.compile(r"\{\{\{?\s*(.*?)\s*\}?\}\}", re.S)
_FUNC_CALL = re.compile(r"^(\$[A-Za-z0-9_]+)\s*\((.*)\)$", re.S)
_PATH_TOKEN = re.compile(r"""\s*(?:\.?\s*([^.\[\]\s]+)|\[\s*(-?\d+|'[^']*'|"[^"]*")\s*\])""")
_ALPHABET = string.ascii_letters + string.digits
_rng = random.Random()

Getter = Callable[[Mapping[str, Any]], Any]


def parse_path(expr: str) -> list[str | int] | None:
    """``a.b[0]["c d"]`` -> ``["a", "b", 0, "c d"]``; None if it isn't a path."""
    parts: list[str | int] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _PATH_TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            return None
        name, index = m.group(1), m.group(2)
        if name is not None:
            if not parts and expr[pos] == ".":
                return None
            parts.append(name)
        elif index[0] in "'\"":
            parts.append(index[1:-1])
        else:
            parts.append(int(index))
        pos = m.end()
    return parts or None


def lookup_path(context: Mapping[str, Any], parts: list[str | int]) -> Any:
    """lodash ``_.get``: walk mappings and lists; UNDEFINED when any step misses."""
    head = parts[0]
    value: Any = context.get(head, UNDEFINED) if isinstance(head, str) else UNDEFINED
    if value is UNDEFINED:
        value = _fallback(head)
    for part in parts[1:]:
        if isinstance(value, Mapping):
            value = value.get(str(part), UNDEFINED)
        elif isinstance(value, list | tuple | str) and _as_index(part) is not None:
            idx = _as_index(part)
            value = value[idx] if idx is not None and 0 <= idx < len(value) else UNDEFINED
        else:
            return UNDEFINED
        if value is UNDEFINED:
            return UNDEFINED
    return value


def _as_index(part: str | int) -> int | None:
    if isinstance(part, int):
        return part
    return int(part) if part.isdigit() else None


def _fallback(head: str | int) -> Any:
    if head in ("$env", "$processEnvironment"):
        return os.environ
    if head == "$uuid":
        return str(uuid.uuid4())
    return UNDEFINED


def js_string(value: Any) -> str:
    """How JavaScript's ``String.replace`` would print a value into a string."""
    if isinstance(value, str):
        return value
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping | list | tuple):
        try:
            return json.dumps(value, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _random_string(length: Any = 10) -> str:
    n = int(length) if isinstance(length, int | float) else 10
    return "".join(_rng.choice(_ALPHABET) for _ in range(max(0, min(n, 1_000_000))))


def _random_number(low: Any = 0, high: Any = 1) -> int | float:
    lo = float(low) if isinstance(low, int | float) else 0.0
    hi = float(high) if isinstance(high, int | float) else 1.0
    if lo > hi:
        lo, hi = hi, lo
    if lo.is_integer() and hi.is_integer():
        return _rng.randint(int(lo), int(hi))
    return _rng.uniform(lo, hi)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "$randomString": _random_string,
    "$randomNumber": _random_number,
}


def _parse_args(text: str) -> list[Any] | None:
    """Literal arguments only (numbers, quoted strings), as Artillery's parser reads them."""
    text = text.strip()
    if not text:
        return []
    out: list[Any] = []
    for raw in text.split(","):
        item = raw.strip()
        if len(item) >= 2 and item[0] == item[-1] and item[0] in "'\"":
            out.append(item[1:-1])
            continue
        try:
            out.append(int(item))
        except ValueError:
            try:
                out.append(float(item))
            except ValueError:
                return None
    return out


def _compile_expr(expr: str, original: str) -> Getter:
    """A placeholder's inside -> a function of the context."""
    call = _FUNC_CALL.match(expr)
    if call is not None:
        fn = FUNCTIONS.get(call.group(1))
        args = _parse_args(call.group(2))
        if fn is None or args is None:
            return lambda _ctx: original  # unknown function: left as written (Artillery does too)
        bound = fn
        return lambda _ctx: bound(*args)
    parts = parse_path(expr)
    if parts is None:
        return lambda _ctx: original
    if len(parts) == 1 and isinstance(parts[0], str):
        key = parts[0]

        def get_one(ctx: Mapping[str, Any]) -> Any:
            value = ctx.get(key, UNDEFINED)
            return _fallback(key) if value is UNDEFINED else value

        return get_one
    return lambda ctx: lookup_path(ctx, parts)


class Template:
    """A compiled template of any shape (str, mapping, list, scalar).

    ``Template.compile(x).render(vars)`` gives what Artillery would send.
    ``is_static`` says the render never depends on the vars.
    """

    __slots__ = ("_render", "is_static", "source")

    def __init__(
        self, source: Any, render: Callable[[Mapping[str, Any]], Any], is_static: bool
    ) -> None:
        self.source = source
        self._render = render
        self.is_static = is_static

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    @classmethod
    def compile(cls, source: Any) -> Template:
        if isinstance(source, str):
            return _compile_str(source)
        if isinstance(source, Mapping):
            return _compile_mapping(source)
        if isinstance(source, list | tuple):
            return _compile_list(list(source))
        return cls(source, lambda _ctx: source, True)

    def render(self, context: Mapping[str, Any]) -> Any:
        return self._render(context)


def _compile_str(source: str) -> Template:
    if "{{" not in source:
        return Template(source, lambda _ctx: source, True)
    matches = list(_PLACEHOLDER.finditer(source))
    if not matches:
        return Template(source, lambda _ctx: source, True)
    if len(matches) == 1 and matches[0].group(0) == source:
        getter = _compile_expr(matches[0].group(1), source)
        return Template(source, getter, False)
    pieces: list[str | Getter] = []
    pos = 0
    for m in matches:
        if m.start() > pos:
            pieces.append(source[pos : m.start()])
        pieces.append(_compile_expr(m.group(1), m.group(0)))
        pos = m.end()
    if pos < len(source):
        pieces.append(source[pos:])
    if len(pieces) <= 3 and sum(1 for p in pieces if not isinstance(p, str)) == 1:
        return Template(source, _one_slot(pieces), False)

    slots = tuple((p, None) if isinstance(p, str) else ("", p) for p in pieces)

    def render(ctx: Mapping[str, Any]) -> str:
        out = []
        for text, getter in slots:
            if getter is None:
                out.append(text)
            else:
                value = getter(ctx)
                out.append(value if type(value) is str else js_string(value))
        return "".join(out)

    return Template(source, render, False)


def _one_slot(pieces: list[str | Getter]) -> Callable[[Mapping[str, Any]], str]:
    """The common ``"Bearer {{ token }}"`` shape: prefix + one value + suffix."""
    prefix = pieces[0] if isinstance(pieces[0], str) else ""
    suffix = pieces[-1] if isinstance(pieces[-1], str) else ""
    getter = next(p for p in pieces if not isinstance(p, str))

    def render(ctx: Mapping[str, Any]) -> str:
        value = getter(ctx)
        return prefix + (value if type(value) is str else js_string(value)) + suffix

    return render


def _copy_plain(value: Any) -> Any:
    """Fresh containers each render, so hooks may mutate what they get."""
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_plain(v) for v in value]
    return value


def _compile_mapping(source: Mapping[Any, Any]) -> Template:
    items = [(Template.compile(str(k)), Template.compile(v)) for k, v in source.items()]
    snapshot = {str(k): v for k, v in source.items()}
    if all(kt.is_static and vt.is_static for kt, vt in items):
        return Template(source, lambda _ctx: _copy_plain(snapshot), True)

    def render(ctx: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for kt, vt in items:
            value = vt.render(ctx)
            if value is UNDEFINED:
                continue
            out[js_string(kt.render(ctx))] = value
        return out

    return Template(source, render, False)


def _compile_list(source: list[Any]) -> Template:
    items = [Template.compile(v) for v in source]
    if all(t.is_static for t in items):
        return Template(source, lambda _ctx: _copy_plain(source), True)

    def render(ctx: Mapping[str, Any]) -> list[Any]:
        out = []
        for t in items:
            value = t.render(ctx)
            out.append(None if value is UNDEFINED else value)
        return out

    return Template(source, render, False)
