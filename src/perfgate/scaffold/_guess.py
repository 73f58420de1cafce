"""How to start the API under test, guessed from what the repository holds.

In order: a ``Procfile``'s ``web:`` line, ``package.json``'s ``start`` script
(or ``main``), a ``pyproject.toml`` entry point, a compose file's service
(its ``command``, or its Dockerfile's ``CMD``; ``ports`` give the port), a
``Dockerfile``'s ``CMD`` and ``EXPOSE``. The command runs on the runner
itself, not in a container. perfgate gives each arm a free port: a literal
port in the command (and ``$PORT``) becomes ``{{ port }}``, and ``PORT`` is
set in the environment, the convention most frameworks follow.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ServiceGuess", "guess_ready_path", "guess_service", "templated_port"]

_COMPOSE_FILES = ("compose.yml", "compose.yaml", "docker-compose.yml", "docker-compose.yaml")
_SOURCE_SUFFIXES = (".py", ".js", ".mjs", ".cjs", ".ts", ".go", ".rb", ".java", ".kt", ".rs")
_READY_PATHS = ("/health", "/healthz", "/ready", "/readyz", "/status", "/ping")


@dataclass
class ServiceGuess:
    """A start command and what it was guessed from."""

    start: str | list[str]
    source: str  # "package.json scripts.start", ...
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str | None = None  # a path that answers 2xx once up (None: wait for the port)
    notes: list[str] = field(default_factory=list)  # said in perfgate.yml as comments


def templated_port(command: str, port: int | None) -> str:
    """``$PORT``/``${PORT}`` and the literal ``port`` in ``command`` -> ``{{ port }}``."""
    out = re.sub(r"\$\{?PORT\}?", "{{ port }}", command)
    if port is not None:
        out = re.sub(rf"(?<![\d.]){port}(?!\d)", "{{ port }}", out)
    return out


def _read(path: Path, limit: int = 200_000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:limit]
    except OSError:
        return ""


def guess_ready_path(root: Path, max_files: int = 300) -> str | None:
    """A health route the sources mention (``/health``, ``/healthz``, ...), if any."""
    seen = 0
    found: set[str] = set()
    for path in sorted(root.rglob("*")):
        if seen >= max_files:
            break
        parts = set(path.relative_to(root).parts)
        if parts & {"node_modules", ".git", ".venv", "venv", "dist", "build", "__pycache__"}:
            continue
        if path.suffix not in _SOURCE_SUFFIXES or not path.is_file():
            continue
        seen += 1
        text = _read(path)
        for route in _READY_PATHS:
            if re.search(rf"""["'`]{re.escape(route)}/?["'`]""", text):
                found.add(route)
    return next((r for r in _READY_PATHS if r in found), None)


def _procfile(root: Path) -> ServiceGuess | None:
    text = _read(root / "Procfile")
    for line in text.splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "web" and command.strip():
            return ServiceGuess(templated_port(command.strip(), None), "Procfile web:")
    return None


def _package_json(root: Path) -> ServiceGuess | None:
    path = root / "package.json"
    if not path.is_file():
        return None
    try:
        pkg = json.loads(_read(path))
    except ValueError:
        return None
    if not isinstance(pkg, dict):
        return None
    scripts = pkg.get("scripts") if isinstance(pkg.get("scripts"), dict) else {}
    start = scripts.get("start") if isinstance(scripts, dict) else None
    if isinstance(start, str) and start.strip():
        port = _number(re.search(r"(?:--port[= ]|PORT=)(\d{2,5})", start))
        return ServiceGuess(templated_port(start.strip(), port), "package.json scripts.start")
    main = pkg.get("main")
    if isinstance(main, str) and main.strip():
        return ServiceGuess(f"node {shlex.quote(main.strip())}", "package.json main")
    return None


def _number(match: re.Match[str] | None) -> int | None:
    return int(match.group(1)) if match else None


def _pyproject(root: Path) -> ServiceGuess | None:
    path = root / "pyproject.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(_read(path))
    except tomllib.TOMLDecodeError:
        return None
    project = data.get("project", {})
    scripts: dict[str, Any] = dict(project.get("scripts", {}) if isinstance(project, dict) else {})
    poetry = data.get("tool", {}).get("poetry", {})
    if not scripts and isinstance(poetry, dict):
        scripts = dict(poetry.get("scripts", {}))
    for name, target in scripts.items():
        if not isinstance(target, str) or ":" not in target:
            continue
        module, _, func = target.partition(":")
        module, func = module.strip(), func.strip().split(".")[0]
        src_layout = (root / "src" / module.split(".")[0]).exists()
        code = f"import sys; from {module} import {func}; sys.exit({func}())"
        start: list[str] = ["python", "-c", code]
        source_file = _module_file(root, module, src_layout)
        notes = [
            f"the entry point '{name}' ({target}), run without installing the package; "
            f"after `pip install .` the command `{name}` does the same"
        ]
        if source_file is not None and "--port" in _read(source_file):
            start += ["--port", "{{ port }}"]
        env = {"PYTHONPATH": "{{ root }}/src"} if src_layout else {}
        return ServiceGuess(start, f"pyproject.toml entry point '{name}'", env=env, notes=notes)
    return None


def _module_file(root: Path, module: str, src_layout: bool) -> Path | None:
    base = (root / "src") if src_layout else root
    rel = Path(*module.split("."))
    for candidate in (base / rel.with_suffix(".py"), base / rel / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _container_port(entry: Any) -> int | None:
    if isinstance(entry, int):
        return entry
    if isinstance(entry, dict):
        target = entry.get("target")
        return int(target) if isinstance(target, int) else None
    if isinstance(entry, str):
        last = entry.split("/")[0].split(":")[-1]
        last = last.split("-")[0]
        return int(last) if last.isdigit() else None
    return None


def _compose(root: Path) -> ServiceGuess | None:
    path = next((root / n for n in _COMPOSE_FILES if (root / n).is_file()), None)
    if path is None:
        return None
    try:
        doc = yaml.safe_load(_read(path))
    except yaml.YAMLError:
        return None
    services = doc.get("services") if isinstance(doc, dict) else None
    if not isinstance(services, dict):
        return None
    chosen = sorted(
        ((n, s) for n, s in services.items() if isinstance(s, dict)),
        key=lambda item: (not item[1].get("ports"), not item[1].get("build")),
    )
    for name, svc in chosen:
        ports = svc.get("ports") or svc.get("expose") or []
        port = next((p for p in map(_container_port, ports) if p is not None), None)
        command = svc.get("command")
        if isinstance(command, list):
            command = shlex.join(str(c) for c in command)
        source = f"{path.name} service '{name}'"
        if not isinstance(command, str) or not command.strip():
            build = svc.get("build")
            context = build.get("context", ".") if isinstance(build, dict) else build
            if isinstance(context, str):
                docker = _dockerfile(root / context, source=f"{source} (its Dockerfile CMD)")
                if docker is not None:
                    if port is not None and isinstance(docker.start, str):
                        docker.start = templated_port(docker.start, port)
                    return docker
            continue
        return ServiceGuess(
            templated_port(command.strip(), port),
            f"{source} command",
            notes=["the compose command runs on the runner itself, not in a container"],
        )
    return None


def _dockerfile(directory: Path, source: str = "Dockerfile CMD") -> ServiceGuess | None:
    text = _read(directory / "Dockerfile")
    if not text:
        return None
    command: str | None = None
    port: int | None = None
    for line in text.splitlines():
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if word.upper() in ("CMD", "ENTRYPOINT") and rest:
            try:
                parsed = json.loads(rest)
                command = shlex.join(str(a) for a in parsed) if isinstance(parsed, list) else rest
            except ValueError:
                command = rest
        elif word.upper() == "EXPOSE" and rest:
            port = _container_port(rest.split()[0])
    if command is None:
        return None
    return ServiceGuess(
        templated_port(command, port),
        source,
        notes=["the Dockerfile's command runs on the runner itself, not in a container"],
    )


def guess_service(root: Path) -> ServiceGuess | None:
    """The first guess that fits (see the module docstring), with a readiness path."""
    for guesser in (_procfile, _package_json, _pyproject, _compose, _dockerfile):
        guess = guesser(root)
        if guess is not None:
            guess.env.setdefault("PORT", "{{ port }}")
            guess.ready_path = guess_ready_path(root)
            return guess
    return None
