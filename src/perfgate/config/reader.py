"""Typed field readers over a located YAML mapping.

``Fields(doc, mapping, path)`` reads one mapping of a config file; every
wrong type becomes a ConfigError with file, line and key path, so section
parsers stay declarative: ``f.number("timeout", 30.0, minimum=0)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from perfgate.config.yaml import Located, child_path, describe_kind

__all__ = ["Fields"]


class Fields:
    """Reads the keys of one mapping at ``path`` of ``doc``."""

    def __init__(self, doc: Located, data: Any, path: str) -> None:
        self.doc = doc
        self.path = path
        self.data: dict[str, Any] = doc.expect_mapping(data, path)

    def at(self, key: str) -> str:
        return child_path(self.path, key)

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        value = self.data.get(key)
        return default if value is None else value

    def check_keys(self, known: Iterable[str]) -> None:
        self.doc.check_keys(self.data, self.path, known, strict=True)

    def error(self, key: str, message: str, suggestion: str | None = None) -> Exception:
        return self.doc.error(self.at(key) if key else self.path, message, suggestion)

    def sub(self, key: str) -> Fields:
        """The mapping under ``key`` (empty when absent)."""
        return Fields(self.doc, self.data.get(key), self.at(key))

    def text(
        self, key: str, default: str | None = None, *, choices: Iterable[str] | None = None
    ) -> str | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"expected a string, got {describe_kind(value)}")
        value = str(value)
        if choices is not None:
            options = list(choices)
            if value not in options:
                from perfgate.config.yaml import suggest

                raise self.error(
                    key,
                    f"must be one of {', '.join(options)}; got {value!r}",
                    suggest(value, options),
                )
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if not value:
            raise self.error(key, f"'{key}' is required")
        return value

    def number(
        self,
        key: str,
        default: float | None,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_min: bool = False,
    ) -> float | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {describe_kind(value)}")
        num = float(value)
        if minimum is not None and (num <= minimum if exclusive_min else num < minimum):
            op = ">" if exclusive_min else ">="
            raise self.error(key, f"must be {op} {minimum:g}; got {num:g}")
        if maximum is not None and num > maximum:
            raise self.error(key, f"must be <= {maximum:g}; got {num:g}")
        return num

    def integer(self, key: str, default: int | None, *, minimum: int | None = None) -> int | None:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {describe_kind(value)}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum}; got {value}")
        return value

    def ratio(self, key: str, default: float | None) -> float | None:
        """A fraction in [0, 1], given as 0.01 or as "1%"."""
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().endswith("%"):
            try:
                num = float(value.strip()[:-1]) / 100.0
            except ValueError:
                raise self.error(
                    key, f"expected a fraction like 0.01 or '1%', got {value!r}"
                ) from None
        elif isinstance(value, int | float) and not isinstance(value, bool):
            num = float(value)
        else:
            raise self.error(
                key, f"expected a fraction like 0.01 or '1%', got {describe_kind(value)}"
            )
        if not 0.0 <= num <= 1.0:
            raise self.error(key, f"must be between 0 and 1 (or 0%-100%); got {value!r}")
        return num

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {describe_kind(value)}")
        return value

    def texts(self, key: str, default: list[str] | None = None) -> list[str]:
        value = self.data.get(key)
        if value is None:
            return list(default or [])
        if isinstance(value, str):
            return [value]
        items = self.doc.expect_list(value, self.at(key))
        out = []
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                raise self.doc.error(
                    child_path(self.at(key), i), f"expected a string, got {describe_kind(item)}"
                )
            out.append(str(item))
        return out

    def integers(self, key: str) -> list[int] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        items = self.doc.expect_list(value, self.at(key))
        for i, item in enumerate(items):
            if isinstance(item, bool) or not isinstance(item, int) or item < 0:
                raise self.doc.error(
                    child_path(self.at(key), i),
                    f"expected a CPU number >= 0, got {describe_kind(item)}",
                )
        return list(items)

    def command(self, key: str) -> str | list[str] | None:
        """A shell string or an argv list of strings."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            if not value.strip():
                raise self.error(key, "command is empty")
            return value
        if isinstance(value, list):
            if not value:
                raise self.error(key, "command is empty")
            for i, item in enumerate(value):
                if isinstance(item, bool) or not isinstance(item, str | int | float):
                    raise self.doc.error(
                        child_path(self.at(key), i),
                        f"expected a string argument, got {describe_kind(item)}",
                    )
            return [str(v) for v in value]
        raise self.error(
            key, f"expected a command (a string or a list of strings), got {describe_kind(value)}"
        )

    def string_map(self, key: str) -> dict[str, str]:
        mapping = self.doc.expect_mapping(self.data.get(key), self.at(key))
        out = {}
        for k, v in mapping.items():
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise self.doc.error(
                    child_path(self.at(key), k), f"expected a string value, got {describe_kind(v)}"
                )
            out[str(k)] = str(v)
        return out
