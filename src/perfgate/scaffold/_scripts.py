"""Artillery scripts in a repository, and a starter script when there are none.

A file is an Artillery script when it is YAML or JSON with ``config.phases``
(a list). The walk is bounded (depth, files, size) and skips dependency and
build directories. Without scripts, a starter is written from the GET routes
of an OpenAPI file when one is there, else a minimal one.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["FoundScript", "discover_scripts", "find_openapi", "openapi_routes", "starter_script"]

_SKIP_DIRS = frozenset(
    {
        ".git",
        ".github",
        ".hg",
        ".venv",
        "venv",
        "env",
        "node_modules",
        "__pycache__",
        "dist",
        "build",
        "coverage",
        ".tox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        "site-packages",
        "performance-reports",
    }
)
_SUFFIXES = (".yml", ".yaml", ".json")
_MAX_DEPTH = 6
_MAX_FILES = 5000
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class FoundScript:
    path: Path  # relative to the repository root
    kind: str  # "load" or "stress" (by its name)
    rates: tuple[float, ...]  # arrivalRate of each phase that has one


def _walk(root: Path) -> list[Path]:
    """Candidate files under ``root``, breadth-first, bounded in depth and count."""
    out: list[Path] = []
    level = [root]
    for _depth in range(_MAX_DEPTH):
        nxt: list[Path] = []
        for d in level:
            try:
                entries = sorted(d.iterdir())
            except OSError:
                continue
            for p in entries:
                if p.is_dir() and not p.is_symlink():
                    if p.name not in _SKIP_DIRS and not p.name.startswith("."):
                        nxt.append(p)
                elif p.suffix.lower() in _SUFFIXES:
                    out.append(p)
                    if len(out) >= _MAX_FILES:
                        return out
        level = nxt
        if not level:
            break
    return out


def _load(path: Path) -> Any:
    try:
        if path.stat().st_size > _MAX_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError):
        return None


def _phases(doc: Any) -> list[Any] | None:
    if not isinstance(doc, dict):
        return None
    config = doc.get("config")
    phases = config.get("phases") if isinstance(config, dict) else None
    return phases if isinstance(phases, list) else None


def discover_scripts(root: Path) -> list[FoundScript]:
    """Artillery scripts (YAML/JSON with ``config.phases``) under ``root``."""
    out = []
    for path in _walk(root):
        if path.name == "perfgate.yml":
            continue
        phases = _phases(_load(path))
        if phases is None:
            continue
        rates = tuple(
            float(p["arrivalRate"])
            for p in phases
            if isinstance(p, dict) and isinstance(p.get("arrivalRate"), int | float)
        )
        rel = path.relative_to(root)
        kind = "stress" if "stress" in path.stem.lower() else "load"
        out.append(FoundScript(rel, kind, rates))
    # load scripts first; shallower paths first
    out.sort(key=lambda s: (s.kind != "load", len(s.path.parts), str(s.path)))
    return out


_OPENAPI_NAMES = ("openapi", "swagger", "api-spec", "api")


def find_openapi(root: Path) -> Path | None:
    """An OpenAPI (or Swagger) document: a file with an ``openapi``/``swagger`` key and ``paths``."""
    for path in _walk(root):
        if not path.stem.lower().startswith(_OPENAPI_NAMES):
            continue
        doc = _load(path)
        if isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc) and "paths" in doc:
            return path
    return None


def openapi_routes(path: Path, limit: int = 6) -> list[str]:
    """GET routes of an OpenAPI document, path parameters filled with ``1``."""
    doc = _load(path)
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        return []
    out = []
    for route, ops in paths.items():
        if not isinstance(route, str) or not isinstance(ops, dict) or "get" not in ops:
            continue
        out.append(re.sub(r"\{[^}/]+\}", "1", route))
        if len(out) >= limit:
            break
    return out


def starter_script(routes: list[str], source: str) -> str:
    """A commented Artillery script over ``routes`` (GET each, in turn)."""
    flow = "\n".join(f"      - get:\n          url: {json.dumps(r)}" for r in routes or ["/"])
    return f"""\
# Artillery script written by `perfgate init` ({source}).
# perfgate runs it unchanged (so does Artillery): edit the phases and the flow
# to match how your API is really used. https://www.artillery.io/docs
config:
  target: http://127.0.0.1:3000   # perfgate aims it at the service it starts
  phases:
    - duration: 10
      arrivalRate: 5
      name: Warm up
    - duration: 60
      arrivalRate: 20
      name: Sustained load
scenarios:
  - name: browse
    flow:
{flow}
"""
