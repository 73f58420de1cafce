"""``perfgate init``: from a repository to a checked perfgate.yml and workflow.

:func:`plan_init` decides (scripts found or a starter, the start command, the
readiness path) without touching the disk; :func:`write_init` writes the
files and validates them — perfgate.yml through the project loader and the
suite planner (so every script loads), the workflow structurally. Asking the
user is the CLI's business: a plan lists what is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from perfgate.errors import ConfigError
from perfgate.scaffold._guess import ServiceGuess, guess_ready_path, guess_service
from perfgate.scaffold._render import (
    DEFAULT_ACTION,
    render_config,
    render_workflow,
    validate_workflow,
)
from perfgate.scaffold._scripts import (
    discover_scripts,
    find_openapi,
    openapi_routes,
    starter_script,
)

__all__ = ["InitPlan", "plan_init", "write_init"]

CONFIG_NAME = "perfgate.yml"
WORKFLOW_PATH = Path(".github") / "workflows" / "perfgate.yml"
STARTER_PATH = Path("perf") / "load.yml"


@dataclass
class InitPlan:
    root: Path
    start: str | list[str] | None
    start_source: str
    env: dict[str, str]
    ready: str | None
    scripts: list[tuple[str, str, str]]  # (suite name, kind, path relative to root)
    starter: str | None = None  # text of a starter script to write at STARTER_PATH
    starter_source: str = ""
    notes: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # what init saw, for the user

    @property
    def missing(self) -> list[str]:
        return [] if self.start else ["start"]


def _suite_name(path: Path, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-").lower() or "load"
    base = re.sub(r"^artillery-", "", base) or base
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    taken.add(name)
    return name


def _ready_path(value: str | None) -> str | None:
    if value is None or value.startswith(("http://", "https://")):
        return value
    return value if value.startswith("/") else "/" + value


def plan_init(
    root: Path,
    *,
    start: str | None = None,
    ready: str | None = None,
    scripts: list[str] | None = None,
) -> InitPlan:
    """What init would write in ``root`` (flags override every guess)."""
    root = root.resolve()
    guess: ServiceGuess | None = None if start else guess_service(root)
    found: list[str] = []
    if guess is not None:
        found.append(f"start command from {guess.source}")
    plan = InitPlan(
        root=root,
        start=start or (guess.start if guess else None),
        start_source="" if start else (guess.source if guess else ""),
        env=dict(guess.env) if guess else {"PORT": "{{ port }}"},
        ready=_ready_path(ready) if ready else (guess.ready_path if guess else None),
        scripts=[],
        notes=list(guess.notes) if guess else [],
        found=found,
    )
    if start and not ready:
        plan.ready = guess_ready_path(root)
    taken: set[str] = set()
    if scripts:
        for s in scripts:
            path = Path(s)
            try:
                rel = path.resolve().relative_to(root) if path.is_absolute() else path
            except ValueError:
                raise ConfigError(f"--script {s}: not inside the repository {root}") from None
            if not (root / rel).is_file():
                raise ConfigError(f"--script {s}: file not found (relative to {root})")
            kind = "stress" if "stress" in rel.stem.lower() else "load"
            plan.scripts.append((_suite_name(rel, taken), kind, rel.as_posix()))
        return plan
    discovered = discover_scripts(root)
    for f in discovered:
        plan.scripts.append((_suite_name(f.path, taken), f.kind, f.path.as_posix()))
        found.append(f"Artillery script {f.path.as_posix()}")
    if not discovered:
        spec = find_openapi(root)
        routes = openapi_routes(spec) if spec is not None else []
        if routes:
            plan.starter_source = f"the GET routes of {spec.relative_to(root).as_posix()}"  # type: ignore[union-attr]
        else:
            routes = [plan.ready] if plan.ready and plan.ready.startswith("/") else ["/"]
            plan.starter_source = "a minimal script (no OpenAPI file either)"
        plan.starter = starter_script(routes, plan.starter_source)
        found.append(f"no Artillery script: a starter from {plan.starter_source}")
        plan.scripts.append(("load", "load", STARTER_PATH.as_posix()))
    return plan


def write_init(plan: InitPlan, *, force: bool = False, action: str = DEFAULT_ACTION) -> list[Path]:
    """Write the files of ``plan``; validate them. Returns the paths written.

    Raises ConfigError when a file exists (without ``force``), when the plan
    lacks a start command, or when a written file does not validate.
    """
    if plan.start is None:
        raise ConfigError(
            "could not guess how to start the API (no Procfile, package.json start script, "
            "pyproject.toml entry point, compose file or Dockerfile): pass --start 'CMD'"
        )
    root = plan.root
    config = root / CONFIG_NAME
    workflow = root / WORKFLOW_PATH
    targets = [config, workflow] + ([root / STARTER_PATH] if plan.starter else [])
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = ", ".join(p.relative_to(root).as_posix() for p in existing)
        raise ConfigError(f"{names} already exist(s): keep them, or run init again with --force")
    written = []
    if plan.starter:
        (root / STARTER_PATH).parent.mkdir(parents=True, exist_ok=True)
        (root / STARTER_PATH).write_text(plan.starter, encoding="utf-8")
        written.append(root / STARTER_PATH)
    config.write_text(
        render_config(
            start=plan.start,
            start_source=plan.start_source,
            env=plan.env,
            ready=plan.ready,
            suites=plan.scripts,
            notes=plan.notes,
        ),
        encoding="utf-8",
    )
    written.append(config)
    workflow.parent.mkdir(parents=True, exist_ok=True)
    workflow.write_text(render_workflow(CONFIG_NAME, action), encoding="utf-8")
    written.append(workflow)
    validate(root)
    return written


def validate(root: Path) -> None:
    """perfgate.yml through the project loader and planner; the workflow's structure."""
    from perfgate.config import load_project
    from perfgate.gate import plan_suites

    cfg = load_project(root / CONFIG_NAME)
    for profile in cfg.profiles:
        plan_suites(cfg, profile)  # every script loads
    problems = validate_workflow((root / WORKFLOW_PATH).read_text(encoding="utf-8"), CONFIG_NAME)
    if problems:
        raise ConfigError("; ".join(problems), file=str(root / WORKFLOW_PATH))
