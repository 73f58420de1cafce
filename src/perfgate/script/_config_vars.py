"""Templates in ``config`` that Artillery resolves once, before the run.

Artillery's ``resolveConfigTemplates`` renders the whole ``config`` section
once, with ``$environment`` (the ``-e`` name), ``$env`` /
``$processEnvironment`` (the process environment), ``$dirname`` (the
script's directory), ``$scenarioFile`` (its path), ``$testId`` and the
template functions (``$randomNumber(1, 10)`` is drawn once per run and
becomes a string). perfgate does the same for those, so ``payload.path:
"{{ $environment }}.csv"`` and ``variables: {id: "{{ $randomNumber(1, 9) }}"}``
mean what they mean in Artillery.

A placeholder naming anything else (a virtual user's variable, ``$uuid``)
is undefined at that point: Artillery 2.0.21 sends ``undefined`` in its place
(``"Bearer {{ token }}"`` in ``config.defaults.headers`` goes out as ``Bearer
undefined``). perfgate leaves such a string for the engine, which renders it
per request, and says so in a warning.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

from perfgate.config import Located, child_path
from perfgate.script.template import FUNCTIONS, Template, js_string

__all__ = ["config_time_vars", "render_config"]

_PLACEHOLDER = re.compile(r"\{\{\{?\s*([^}]*?)\s*\}?\}\}")
_HEAD = re.compile(r"^\$?[A-Za-z_][\w]*")
_CALL = re.compile(r"^(\$[A-Za-z0-9_]+)\s*\(")
CONFIG_TIME_NAMES = (
    "$environment", "$env", "$processEnvironment", "$dirname", "$scenarioFile", "$testId",
)  # fmt: skip


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


def _kinds(text: str) -> tuple[bool, bool, list[str]]:
    """(has a config-time name, has a function call, the other placeholders)."""
    config_time = call = False
    others: list[str] = []
    for m in _PLACEHOLDER.finditer(text):
        inner = m.group(1)
        fn = _CALL.match(inner)
        head = _HEAD.match(inner)
        if fn is not None and fn.group(1) in FUNCTIONS:
            call = True
        elif head is not None and head.group(0) in CONFIG_TIME_NAMES:
            config_time = True
        else:
            others.append(m.group(0))
    return config_time, call, others


def render_config(
    doc: Located,
    value: Any,
    variables: dict[str, Any],
    path: str = "config",
    *,
    skip: tuple[str, ...] = (),
) -> Any:
    """``value`` with what Artillery renders at load rendered (top-level keys in
    ``skip`` untouched); a warning for each string Artillery would break."""
    if isinstance(value, dict):
        return {
            k: v if k in skip else render_config(doc, v, variables, child_path(path, k))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [render_config(doc, v, variables, child_path(path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "{{" not in value:
        return value
    config_time, call, others = _kinds(value)
    if others:
        ours = ("perfgate keeps the text as written" if path.startswith("config.variables")
                else "perfgate renders them per request")  # fmt: skip
        doc.warn(path, f"Artillery 2.0.21 renders config templates once, before any virtual user: "
                 f"it sends 'undefined' for {', '.join(others)}; {ours}")  # fmt: skip
        return value
    if not (config_time or call):
        return value
    rendered = Template.compile(value).render(variables)
    # Artillery replaces a function call inside the string: the result is text.
    return js_string(rendered) if call else rendered
