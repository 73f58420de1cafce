"""The ``{{ name }}`` substitution of perfgate.yml's ``service:`` strings.

Deliberately minimal — ``{{ port }}``, ``{{ workdir }}``, ``{{ arm }}``,
``{{ root }}`` and ``{{ env.NAME }}`` — so that two copies of a service (A/B
arms) get their own ports, databases and temp dirs. The loader checks the
names; :func:`perfgate.target.service_for` renders them per arm.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["placeholders", "substitute"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


def placeholders(text: str) -> list[str]:
    """The variable names used in ``text`` (``{{ port }}`` -> ``port``)."""
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def substitute(
    text: str, variables: Mapping[str, object], env: Mapping[str, str] | None = None
) -> str:
    """Replace ``{{ name }}`` by ``variables[name]`` and ``{{ env.NAME }}`` by ``env[NAME]``.

    An unknown name raises KeyError naming it (an unset env var renders as "").
    """
    environ = os.environ if env is None else env

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("env."):
            return environ.get(name[4:], "")
        if name not in variables:
            raise KeyError(name)
        return str(variables[name])

    return _PLACEHOLDER.sub(replace, text)
