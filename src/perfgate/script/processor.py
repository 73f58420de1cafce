"""Processors: user functions called from a script's flow (docs/processors.md).

A Python processor (``processor: hooks.py``) is imported from the script's
directory; its public callables are the functions the flow may name. A
JavaScript processor cannot run here: it loads with its exported names read
from the source (for did-you-mean), and ``load_script`` refuses any flow that
calls one (a script that never does runs, with one warning).

Signatures (sync or ``async def``):

- function step: ``fn(context, events)``
- ``beforeRequest``: ``fn(request, context, events)`` (request: a mutable dict)
- ``afterResponse``: ``fn(request, response, context, events)`` (ResponseView)
- ``beforeScenario`` / ``afterScenario``: ``fn(context, events)``

``context`` is a dict with ``"vars"`` (the virtual user's vars) and
``"scenario"`` (its name); ``events`` is an :class:`Events`.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfgate.errors import ConfigError

__all__ = ["Events", "Processor", "call_hook", "load_processor", "processor_context"]

_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".ts")
_JS_EXPORT = re.compile(r"^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*(?::|\()", re.M)
_JS_EXPORTS_DOT = re.compile(r"(?:module\.)?exports\.([A-Za-z_$][\w$]*)\s*=")


class Events:
    """What user code records, like Artillery's ``events.emit``.

    ``emit("counter", name, value)``, ``emit("histogram", name, ms)`` (also
    ``"summary"``), ``emit("rate", name)``; anything else is kept as a plain
    event. The engine drains ``counters``/``histograms``/``rates`` into the
    run's metrics.
    """

    def __init__(self) -> None:
        self.counters: dict[str, float] = defaultdict(float)
        self.histograms: dict[str, list[float]] = defaultdict(list)
        self.rates: dict[str, int] = defaultdict(int)
        self.other: list[tuple[str, tuple[Any, ...]]] = []

    def emit(self, kind: str, *args: Any) -> None:
        if kind == "counter" and args:
            self.counters[str(args[0])] += float(args[1]) if len(args) > 1 else 1.0
        elif kind in ("histogram", "summary") and len(args) >= 2:
            self.histograms[str(args[0])].append(float(args[1]))
        elif kind == "rate" and args:
            self.rates[str(args[0])] += 1
        elif len(self.other) < 10_000:
            self.other.append((kind, args))

    def drain(self) -> tuple[dict[str, float], dict[str, list[float]], dict[str, int]]:
        """Hand over and reset what was recorded."""
        out = (dict(self.counters), dict(self.histograms), dict(self.rates))
        self.counters.clear()
        self.histograms.clear()
        self.rates.clear()
        return out


@dataclass
class Processor:
    """A loaded processor: its functions by name (empty for JavaScript)."""

    path: Path
    language: str  # "python" | "javascript"
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    exported_names: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return self.language == "python"

    def names(self) -> list[str]:
        return list(self.functions) if self.functions else list(self.exported_names)


def processor_context(vars: dict[str, Any], scenario: str) -> dict[str, Any]:
    """The ``context`` handed to user functions: ``context["vars"]`` *is* the
    virtual user's vars dict (changes stick), as ``context.vars`` in Artillery."""
    return {"vars": vars, "scenario": scenario}


async def call_hook(fn: Callable[..., Any], *args: Any) -> Any:
    """Call a processor function, awaiting it when it is a coroutine function."""
    result = fn(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _js_names(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    names = set(_JS_EXPORTS_DOT.findall(text))
    start = text.find("module.exports")
    if start >= 0:
        names.update(_JS_EXPORT.findall(text[start:]))
        names.update(_object_keys(text, start))
    names.discard("module")
    return sorted(names)


def _object_keys(text: str, start: int) -> list[str]:
    """The keys of the object literal after ``module.exports =`` (``{ a, b: f, c() {} }``)."""
    m = re.compile(r"module\.exports\s*=\s*\{").search(text, start)
    if m is None:
        return []
    depth = 0
    item: list[str] = []
    items: list[str] = []
    for ch in text[m.end() :]:
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            if depth == 0:
                break
            depth -= 1
        if ch == "," and depth == 0:
            items.append("".join(item))
            item = []
        else:
            item.append(ch)
    items.append("".join(item))
    keys = (re.match(r"\s*(?:async\s+)?([A-Za-z_$][\w$]*)", i) for i in items)
    return [k.group(1) for k in keys if k is not None]


def load_processor(
    path: Path, *, file: str | None = None, key_path: str = "config.processor"
) -> Processor:
    """Load ``path``: a Python module (imported) or a JS file (names only).

    Raises ConfigError when the file is missing or the Python module fails to import.
    """
    where = file or str(path)
    if not path.is_file():
        raise ConfigError(f"processor file not found: {path}", file=where, key_path=key_path)
    if path.suffix.lower() in _JS_SUFFIXES:
        return Processor(path=path, language="javascript", exported_names=_js_names(path))
    if path.suffix.lower() != ".py":
        raise ConfigError(
            f"processor must be a Python (.py) or JavaScript (.js) file, got {path.name}",
            file=where,
            key_path=key_path,
        )
    module_name = f"perfgate_processor_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import processor {path}", file=where, key_path=key_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # user code: any failure is a config error, not a traceback
        sys.modules.pop(module_name, None)
        raise ConfigError(
            f"processor {path.name} failed to import: {type(exc).__name__}: {exc}",
            file=where,
            key_path=key_path,
        ) from None
    functions = {
        name: obj
        for name, obj in vars(module).items()
        if callable(obj) and not name.startswith("_") and not inspect.isclass(obj)
        and getattr(obj, "__module__", module_name) == module_name
    }  # fmt: skip
    return Processor(
        path=path, language="python", functions=functions, exported_names=sorted(functions)
    )
