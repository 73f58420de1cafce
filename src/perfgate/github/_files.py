"""The runner's file protocol: step outputs, job summary, exported env.

GitHub hands a step the paths of files it reads after the step ends
(``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_ENV``). Values are written
as ``name<<ghadelimiter_<uuid>`` heredocs so multi-line values survive; a value
that contains its delimiter is refused, as ``@actions/core`` does. The job
summary is capped at 1 MiB per step: longer markdown is trimmed with a note,
never an error. Outside Actions (no file path set) writes are skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path

from perfgate.errors import GitHubError

__all__ = [
    "SUMMARY_LIMIT_BYTES",
    "append_summary",
    "export_env",
    "format_key_value",
    "parse_key_value_file",
    "set_output",
    "trim_utf8",
]

SUMMARY_LIMIT_BYTES = 1024 * 1024
SUMMARY_TRIM_NOTE = "\n\n> **Note:** the summary was trimmed to fit GitHub's 1 MiB step-summary limit; the full report is in the report artifact.\n"


def format_key_value(name: str, value: str, delimiter: str | None = None) -> str:
    """One heredoc record for GITHUB_OUTPUT / GITHUB_ENV (pure)."""
    delim = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delim in name:
        raise GitHubError(f"output name {name!r} contains the delimiter")
    if delim in value:
        raise GitHubError(f"value of {name!r} contains the delimiter {delim!r}")
    if not name or "\n" in name or "\r" in name:
        raise GitHubError(f"invalid output name {name!r}")
    return f"{name}<<{delim}\n{value}\n{delim}\n"


def parse_key_value_file(text: str) -> dict[str, str]:
    """Parse GITHUB_OUTPUT/GITHUB_ENV content as the runner does (heredoc or ``k=v``); last wins."""
    result: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if heredoc > 0 and (eq < 0 or heredoc < eq):
            name, delim = line[:heredoc], line[heredoc + 2 :]
            body: list[str] = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise GitHubError(f"unterminated heredoc for {name!r} (delimiter {delim!r})")
            i += 1  # skip the closing delimiter
            result[name] = "\n".join(body)
        elif eq > 0:
            result[line[:eq]] = line[eq + 1 :]
        else:
            raise GitHubError(f"invalid line in runner file: {line[:80]!r}")
    return result


def _target(var: str, environ: Mapping[str, str] | None) -> Path | None:
    env = os.environ if environ is None else environ
    path = env.get(var, "")
    return Path(path) if path else None


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise GitHubError(f"cannot write {path}: {exc.strerror or exc}") from None


def set_output(name: str, value: object, *, environ: Mapping[str, str] | None = None) -> bool:
    """Set a step output; returns False (and does nothing) outside Actions."""
    path = _target("GITHUB_OUTPUT", environ)
    if path is None:
        return False
    _append(path, format_key_value(name, "" if value is None else str(value)))
    return True


def export_env(name: str, value: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Export an env var to later steps of the job (GITHUB_ENV)."""
    path = _target("GITHUB_ENV", environ)
    if path is None:
        return False
    _append(path, format_key_value(name, value))
    return True


def trim_utf8(text: str, max_bytes: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding fits ``max_bytes`` (pure)."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[: max(0, max_bytes)].decode("utf-8", errors="ignore")


def append_summary(markdown: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Append markdown to the job summary, trimmed to the 1 MiB step cap.

    Counts what this step already wrote to the file, so several appends stay
    under the cap together. Returns False outside Actions or when nothing fit.
    """
    path = _target("GITHUB_STEP_SUMMARY", environ)
    if path is None:
        return False
    try:
        used = path.stat().st_size
    except OSError:
        used = 0
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    room = SUMMARY_LIMIT_BYTES - used
    if len(text.encode("utf-8")) > room:
        note_size = len(SUMMARY_TRIM_NOTE.encode("utf-8"))
        if room <= note_size:
            return False
        text = trim_utf8(text, room - note_size) + SUMMARY_TRIM_NOTE
    _append(path, text)
    return True
