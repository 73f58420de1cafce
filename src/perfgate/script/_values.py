"""Typed readers for script values: numbers, booleans, durations, name lists.

Each takes the :class:`Located` document and the key path, so a wrong value
is a ConfigError that names file, line and key.
"""

from __future__ import annotations

import math
import re
from typing import Any

from perfgate.config import Located, child_path, describe_kind, suggest

__all__ = [
    "as_bool",
    "as_duration",
    "as_name_list",
    "as_number",
    "as_str",
    "parse_duration",
    "raise_on_typo",
]

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*"
    r"(ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)?\s*$",
    re.I,
)
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any) -> float | None:
    """Seconds from ``30``, ``"30"``, ``"30s"``, ``"500ms"``, ``"5m"``, ``"1h"``; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    m = _DURATION.match(value)
    if m is None:
        return None
    unit = (m.group(2) or "s").lower()
    key = "ms" if unit.startswith("ms") or unit.startswith("milli") else unit[0]
    return float(m.group(1)) * _UNIT_SECONDS[key]


def as_duration(doc: Located, value: Any, path: str, *, allow_zero: bool = True) -> float:
    seconds = parse_duration(value)
    if seconds is None:
        raise doc.error(
            path,
            f'expected a duration (seconds, or a string like "30s", "500ms", "5m", "1h"), got {describe_kind(value)}',
        )
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise doc.error(
            path, f"must be {'at least 0' if allow_zero else 'greater than 0'}, got {value!r}"
        )
    return seconds


def as_number(
    doc: Located,
    value: Any,
    path: str,
    *,
    minimum: float | None = None,
    exclusive: bool = False,
    integer: bool = False,
) -> float:
    """A number (numeric strings accepted, as Artillery casts them)."""
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        raise doc.error(path, f"expected a number, got {describe_kind(value)}")
    if integer and not number.is_integer():
        raise doc.error(path, f"expected a whole number, got {value!r}")
    if minimum is not None and (number < minimum or (exclusive and number == minimum)):
        bound = f"greater than {minimum:g}" if exclusive else f"at least {minimum:g}"
        raise doc.error(path, f"must be {bound}, got {value!r}")
    return number


def as_bool(doc: Located, value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise doc.error(path, f"expected true or false, got {describe_kind(value)}")


def as_str(doc: Located, value: Any, path: str, *, allow_empty: bool = False) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise doc.error(path, f"expected a string, got {describe_kind(value)}")
    text = str(value)
    if not text.strip() and not allow_empty:
        raise doc.error(path, "must not be empty")
    return text


def as_name_list(doc: Located, value: Any, path: str) -> list[str]:
    """A function name or a list of them (Artillery's ensurePropertyIsAList)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [
        as_str(doc, item, f"{path}[{i}]" if isinstance(value, list) else path)
        for i, item in enumerate(items)
    ]


def raise_on_typo(doc: Located, mapping: dict[str, Any], path: str, known: tuple[str, ...]) -> None:
    """An unknown key close to a known one is an error naming it, for mappings a
    typo breaks (a phase without its kind, a loop without its count)."""
    for key in mapping:
        if key in known:
            continue
        hint = suggest(str(key), known)
        if hint is not None:
            raise doc.error(child_path(path, str(key)), f"unknown key '{key}'", hint)
