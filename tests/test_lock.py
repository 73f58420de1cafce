"""The lock file is what every install path uses, and it pins every dependency exactly."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCK = REPO / "requirements.lock"
README = REPO / "README.md"


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[;@ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins() -> dict[str, list[str]]:
    pins: dict[str, list[str]] = {}
    for line in LOCK.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        spec = line.split(";")[0].strip()
        assert "==" in spec, f"requirements.lock: {line!r} is not an exact pin"
        name, version = spec.split("==")
        pins.setdefault(_name(name), []).append(version)
    return pins


def test_every_declared_dependency_is_pinned_exactly() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += extra
    pins = _pins()
    missing = sorted({_name(r) for r in declared} - set(pins))
    assert not missing, f"declared but not in requirements.lock (re-lock, see README): {missing}"


def _quick_start_commands() -> list[str]:
    text = README.read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quick)


def test_the_readme_quick_start_installs_through_the_lock() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2, commands
    demo, tests = commands
    assert "-c requirements.lock" in demo and demo.endswith("perfgate demo")
    assert "-c requirements.lock" in tests and tests.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_in_a_fresh_venv() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    test_command = _quick_start_commands()[1]
    assert test_command in ci.splitlines()
    assert "-m venv" in ci and "--system-site-packages" not in ci.replace(
        "never --system-site-packages", ""
    )
    assert ci.index("-m venv") < ci.index(test_command)
    assert "mktemp -d" in ci


def test_the_action_the_poster_and_the_image_install_through_the_lock() -> None:
    """A user's gate installs the versions CI tested."""
    for path, needle in (
        ("action.yml", '-c "$GITHUB_ACTION_PATH/requirements.lock"'),
        ("comment/action.yml", "requirements.lock"),
        ("Dockerfile", "pip install -c requirements.lock ."),
    ):
        assert needle in (REPO / path).read_text(), path
