"""Templates in ``config`` that Artillery resolves once, before the run.

Artillery's ``resolveConfigTemplates`` renders the whole ``config`` section
with ``$environment`` (the ``-e`` name), ``$env`` / ``$processEnvironment``
(the process environment), ``$dirname`` (the script's directory),
``$scenarioFile`` (its path) and ``$testId``. perfgate renders the strings
whose every placeholder names one of these (``payload.path:
"{{ $environment }}.csv"``, ``target: "{{ $env.TARGET }}"``); a string that
also names a virtual user's variable is left for the engine, which renders it
per request.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

from perfgate.template import Template

__all__ = ["config_time_vars", "render_config"]

_PLACEHOLDER = re.compile(r"\{\{\{?\s*([^}]*?)\s*\}?\}\}")
_HEAD = re.compile(r"^\$?[A-Za-z_][\w]*")
CONFIG_TIME_NAMES = (
    "$environment",
    "$env",
    "$processEnvironment",
    "$dirname",
    "$scenarioFile",
    "$testId",
)


def config_time_vars(environment: str | None, source: Path) -> dict[str, Any]:
    """The names Artillery's config templates may use."""
    return {
        "$environment": environment,
        "$env": dict(os.environ),
        "$processEnvironment": dict(os.environ),
        "$dirname": str(source.parent),
        "$scenarioFile": str(source),
        "$testId": uuid.uuid4().hex[:5],
    }


def _config_time_only(text: str) -> bool:
    heads = [_HEAD.match(m.group(1)) for m in _PLACEHOLDER.finditer(text)]
    return bool(heads) and all(h is not None and h.group(0) in CONFIG_TIME_NAMES for h in heads)


def render_config(value: Any, variables: dict[str, Any], *, skip: tuple[str, ...] = ()) -> Any:
    """``value`` with every config-time-only template rendered (mappings' keys
    in ``skip`` are left as they are, at the top level)."""
    if isinstance(value, dict):
        return {k: (v if k in skip else render_config(v, variables)) for k, v in value.items()}
    if isinstance(value, list):
        return [render_config(v, variables) for v in value]
    if isinstance(value, str) and "{{" in value and _config_time_only(value):
        return Template.compile(value).render(variables)
    return value
