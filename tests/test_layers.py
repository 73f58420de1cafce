"""The layout shows the architecture: imports run one way, packages meet at their __init__.

Every module under src/perfgate is parsed with ``ast`` (imports inside functions
and ``TYPE_CHECKING`` blocks count too). docs/architecture.md draws the layers.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "perfgate"

# Higher number = higher layer; a module may import its own layer or lower ones.
LAYERS: dict[str, int] = {
    # the shared vocabulary (the top-level modules; "" is perfgate/__init__.py)
    "": 1,
    "errors": 1,
    "result": 1,
    "verdict": 1,
    "figures": 1,
    "metrics": 1,
    "stats": 1,
    # the languages of the two input files
    "script": 2,
    "config": 2,
    # measuring, the target, and what happens to a RunResult
    "engine": 3,
    "target": 3,
    "report": 3,
    "store": 3,
    "github": 3,  # the runner's file protocol and REST calls; used by gate and cli
    "demo": 3,  # the bundled API under test; only cli serves it
    # product features over the engine
    "bench": 4,
    "stress": 4,
    # the gate: measure -> judge -> store -> publish
    "gate": 5,
    "scaffold": 5,  # perfgate init: guesses, writes and smoke-runs a config through the gate's plan
    # the command line
    "cli": 6,
    "__main__": 6,
}


def _unit(module: str) -> str:
    """The top-level unit a dotted module name belongs to ("perfgate.gate.ab.run" -> "gate")."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(module: str, path: Path) -> Iterator[tuple[int, str, str]]:
    """(line, imported module, imported name or "") for every perfgate import of a module."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "perfgate":
                    yield node.lineno, alias.name, ""
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] == "perfgate":
                for alias in node.names:
                    yield node.lineno, target, alias.name


ALL = [
    (module, path, line, target, name)
    for module, path in _modules()
    for line, target, name in _imports(module, path)
]


def test_every_top_level_unit_has_a_layer() -> None:
    units = {_unit(module) for module, _ in _modules()}
    assert units - set(LAYERS) == set(), "place the new package in LAYERS and docs/architecture.md"


def test_no_import_goes_up_a_layer() -> None:
    upward = [
        f"{path.relative_to(SRC)}:{line} imports {target} "
        f"({_unit(module) or 'perfgate'} is layer {LAYERS[_unit(module)]}, "
        f"{_unit(target) or 'perfgate'} is layer {LAYERS[_unit(target)]})"
        for module, path, line, target, _ in ALL
        if LAYERS[_unit(target)] > LAYERS[_unit(module)]
    ]
    assert upward == []


def test_packages_do_not_import_each_other_in_a_cycle() -> None:
    edges: dict[str, set[str]] = {}
    for module, _, _, target, _ in ALL:
        if _unit(module) != _unit(target):
            edges.setdefault(_unit(module), set()).add(_unit(target))

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in edges.get(start, set()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(f"{a} <-> {b}" for a in edges for b in edges[a] if reaches(b, a, {b}) and a < b)
    assert cycles == []


def _private(target: str, name: str) -> bool:
    parts = [*target.split(".")[1:], name]
    return any(p.startswith("_") and not p.startswith("__") for p in parts if p)


def test_other_packages_import_only_a_package_s_public_face() -> None:
    """Across units: ``from perfgate.engine import run_script``, never ``perfgate.engine.runner``."""
    reaching_in = [
        f"{path.relative_to(SRC)}:{line} imports {target}{'.' + name if name else ''}"
        for module, path, line, target, name in ALL
        if _unit(module) != _unit(target) and (len(target.split(".")) > 2 or _private(target, name))
    ]
    assert reaching_in == []


@pytest.mark.parametrize(
    ("module", "target", "expected"),
    [
        ("perfgate.engine.vuser", "perfgate.script", True),
        ("perfgate.script.model", "perfgate.engine", False),
        ("perfgate.config.project", "perfgate.target", False),
        ("perfgate.cli._run", "perfgate.gate", True),
        ("perfgate.figures", "perfgate.metrics", True),
    ],
)
def test_the_rule_itself(module: str, target: str, expected: bool) -> None:
    assert (LAYERS[_unit(target)] <= LAYERS[_unit(module)]) is expected


def test_tests_reach_into_a_package_only_to_unit_test_it() -> None:
    """A test may import a private module or name only of the package it is named after
    (tests/test_stress_analysis.py -> perfgate.stress._leak); everything else goes through
    the package's public face like any other caller."""
    tests = Path(__file__).resolve().parent
    reaching_in = []
    for path in sorted(tests.glob("test_*.py")):
        for line, target, name in _imports(f"tests.{path.stem}", path):
            unit = _unit(target)
            if _private(target, name) and unit not in path.stem:
                reaching_in.append(f"{path.name}:{line} imports {target}.{name}")
    assert reaching_in == []
