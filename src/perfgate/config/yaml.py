"""YAML loading that remembers where every value came from.

Config files are parsed into plain dicts and lists (so the models stay
simple), plus a side table from key path (``scenarios[1].flow[2].post``) to
the 1-based line it stands on. Errors and warnings are raised through a
:class:`Located` document so they always name file, line and key path, and
unknown keys get a did-you-mean suggestion.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from perfgate.errors import ConfigError

__all__ = ["Located", "child_path", "describe_kind", "load_yaml", "load_yaml_text", "suggest"]


def child_path(parent: str, key: str | int) -> str:
    """Join a key path: ``a.b``, ``a[0]``; keys with dots or spaces are quoted."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    text = str(key)
    if not text.replace("_", "").replace("-", "").replace("$", "").isalnum():
        text = repr(text)
    return f"{parent}.{text}" if parent else text


def suggest(key: str, known: Iterable[str]) -> str | None:
    """The nearest known key to a misspelt one, if any is close."""
    matches = difflib.get_close_matches(str(key), list(known), n=1, cutoff=0.6)
    if matches:
        return matches[0]
    lowered = {k.lower(): k for k in known}
    return lowered.get(str(key).lower())


@dataclass
class Located:
    """A parsed YAML document and the line of every key path in it."""

    data: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            if cut <= 0:
                break
            probe = probe[:cut]
        return self.lines.get(probe) if probe else None

    def error(self, path: str, message: str, suggestion: str | None = None) -> ConfigError:
        return ConfigError(
            message,
            file=self.file,
            line=self.line_of(path),
            key_path=path or None,
            suggestion=suggestion,
        )

    def warn(self, path: str, message: str) -> None:
        line = self.line_of(path)
        where = f"{self.file}:{line}" if line else self.file
        self.warnings.append(f"{where}: {path}: {message}" if path else f"{where}: {message}")

    def check_keys(
        self,
        mapping: Mapping[str, Any],
        path: str,
        known: Iterable[str],
        *,
        strict: bool,
        what: str = "key",
    ) -> None:
        """Flag keys of ``mapping`` not in ``known``: an error when strict, else a warning."""
        known_list = list(known)
        for key in mapping:
            if key in known_list:
                continue
            hint = suggest(str(key), known_list)
            kpath = child_path(path, str(key))
            if strict:
                raise self.error(kpath, f"unknown {what} '{key}'", hint)
            msg = f"unknown {what} '{key}' is ignored"
            if hint:
                msg += f" (did you mean '{hint}'?)"
            self.warn(kpath, msg)

    def expect_mapping(self, value: Any, path: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(path, f"expected a mapping, got {describe_kind(value)}")
        return value

    def expect_list(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(path, f"expected a list, got {describe_kind(value)}")
        return value


def describe_kind(value: Any) -> str:
    """What a YAML value is, for error messages ("a list", "a string ('x')")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Loader(yaml.SafeLoader):
    """SafeLoader; we walk its node graph ourselves to keep line numbers."""


def _convert(
    node: yaml.Node, path: str, lines: dict[str, int], loader: _Loader, depth: int = 0
) -> Any:
    if depth > 200:
        raise ConfigError("document nests too deeply", key_path=path or None)
    if path not in lines:
        lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<)
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise ConfigError(
                    "a mapping key must be a scalar",
                    line=key_node.start_mark.line + 1,
                    key_path=path or None,
                )
            key_text = "null" if key is None else str(key) if not isinstance(key, str) else key
            kpath = child_path(path, key_text)
            lines[kpath] = key_node.start_mark.line + 1
            out[key_text] = _convert(value_node, kpath, lines, loader, depth + 1)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, child_path(path, i), lines, loader, depth + 1)
            for i, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def load_yaml_text(text: str, file: str = "<string>") -> Located:
    """Parse YAML text; syntax errors become :class:`ConfigError` with the line."""
    try:
        loader = _Loader(text)  # the reader rejects unprintable characters here
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    try:
        node = loader.get_single_node()
        lines: dict[str, int] = {}
        data = None if node is None else _convert(node, "", lines, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem or exc}", file=file, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    except RecursionError:
        raise ConfigError("document nests too deeply", file=file) from None
    finally:
        loader.dispose()
    return Located(data=data, file=file, lines=lines)


def load_yaml(path: str | Path) -> Located:
    """Read and parse a YAML file; a missing or unreadable file is a ConfigError."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read file: {exc}", file=str(p)) from None
    return load_yaml_text(text, str(p))
