"""Workflow commands on stdout: annotations, masks and log groups.

The escaping follows ``@actions/core``'s ``command.ts``: a command's data
escapes ``%``, ``\\r`` and ``\\n``; its properties also ``:`` and ``,`` (the
runner splits properties on them). Outside GitHub Actions (no
``GITHUB_ACTIONS=true``) annotations become plain ``level: message`` lines on
stderr and masks are no-ops, so local runs stay readable.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Literal, TextIO

__all__ = [
    "add_mask",
    "annotate",
    "error",
    "escape_data",
    "escape_property",
    "format_command",
    "group",
    "in_actions",
    "mask_secrets",
    "notice",
    "warning",
]

Level = Literal["error", "warning", "notice"]


def in_actions(environ: Mapping[str, str] | None = None) -> bool:
    """True when running inside a GitHub Actions job."""
    env = os.environ if environ is None else environ
    return env.get("GITHUB_ACTIONS", "").lower() == "true"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_command(command: str, properties: Mapping[str, object | None], message: str) -> str:
    """``::command k=v,k=v::message`` with GitHub's escaping; None properties are dropped."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    head = f"::{command} {props}" if props else f"::{command}"
    return f"{head}::{escape_data(message)}"


def annotate(
    level: Level,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    end_line: int | None = None,
    col: int | None = None,
    title: str | None = None,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Emit one annotation (or a plain ``level: message`` line outside Actions)."""
    if in_actions(environ):
        props = {"file": file, "line": line, "endLine": end_line, "col": col, "title": title}
        print(format_command(level, props, message), file=stream or sys.stdout, flush=True)
        return
    where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
    head = f"{title}: " if title else ""
    print(f"{level}: {where}{head}{message}", file=stream or sys.stderr, flush=True)


def error(
    message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> None:
    annotate("error", message, file=file, line=line, title=title)


def warning(
    message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> None:
    annotate("warning", message, file=file, line=line, title=title)


def notice(
    message: str, *, file: str | None = None, line: int | None = None, title: str | None = None
) -> None:
    annotate("notice", message, file=file, line=line, title=title)


def add_mask(
    value: str, *, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> None:
    """Ask the runner to replace ``value`` with ``***`` in all later log output.

    Each line of a multi-line secret is masked separately, as the runner masks
    line by line.
    """
    if not value or not in_actions(environ):
        return
    out = stream or sys.stdout
    for part in {value, *value.splitlines()}:
        if part.strip():
            print(f"::add-mask::{escape_data(part)}", file=out, flush=True)


def mask_secrets(
    names: Iterable[str],
    *,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> list[str]:
    """Mask the values of the environment variables a config names; returns the names masked."""
    env = os.environ if environ is None else environ
    masked = []
    for name in names:
        value = env.get(name, "")
        if value:
            add_mask(value, stream=stream, environ=env)
            masked.append(name)
    return masked


@contextmanager
def group(
    title: str, *, stream: TextIO | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[None]:
    """A collapsible log group in Actions; a ``== title ==`` header elsewhere."""
    out = stream or sys.stdout
    if in_actions(environ):
        print(f"::group::{escape_data(title)}", file=out, flush=True)
        try:
            yield
        finally:
            print("::endgroup::", file=out, flush=True)
    else:
        print(f"== {title} ==", file=out, flush=True)
        yield
