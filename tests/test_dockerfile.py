"""The Dockerfile, without a Docker engine: parsed and checked, and its
ENTRYPOINT + CMD executed directly as the container would run them."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuations joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    assert not pending, "dangling line continuation"
    return result


def only(name: str) -> list[str]:
    return [args for instr, args in instructions() if instr == name]


def exec_form(name: str) -> list[str]:
    (args,) = only(name)
    value = json.loads(args)  # exec form: no shell between docker and perfgate
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def test_slim_python_base() -> None:
    assert only("FROM") == ["python:3.11-slim"]


def test_runs_as_a_non_root_user() -> None:
    steps = instructions()
    users = [(i, args) for i, (instr, args) in enumerate(steps) if instr == "USER"]
    assert users, "no USER: the container would run as root"
    last_index, last_user = users[-1]
    assert last_user.split(":")[0] not in ("root", "0")
    install = max(
        i for i, (instr, args) in enumerate(steps) if instr == "RUN" and "pip install" in args
    )
    assert last_index > install  # installed as root, run as the unprivileged user
    assert only("ENTRYPOINT") and steps.index(("ENTRYPOINT", only("ENTRYPOINT")[0])) > last_index


def test_installs_the_package_without_test_extras() -> None:
    installs = [a for a in only("RUN") if "pip install" in a]
    assert len(installs) == 1
    assert "[test]" not in installs[0] and "-e " not in installs[0]
    assert "pip install -c requirements.lock ." in installs[0]  # the locked versions
    assert any("requirements.lock" in c.split() for c in only("COPY"))


def documented_docker_run(doc: str) -> list[str]:
    """The `docker run` command of a doc's code blocks, as argv."""
    import shlex

    lines = [
        line.strip()
        for line in (REPO / "docs" / doc).read_text().splitlines()
        if line.strip().startswith("docker run ")
    ]
    assert len(lines) == 1, lines
    return shlex.split(lines[0], posix=True)


@pytest.mark.parametrize("doc", ["github.md", "local-act.md"])
def test_documented_command_runs_as_the_user_on_the_host_network(doc: str) -> None:
    argv = documented_docker_run(doc)
    assert argv[argv.index("--user") + 1] == "$(id -u):$(id -g)"  # the files stay the user's
    assert "--network" in argv and argv[argv.index("--network") + 1] == "host"
    mount = argv[argv.index("-v") + 1]
    source, target = mount.rsplit(":", 1)
    assert source == "$PWD"
    workdirs = only("WORKDIR")
    assert target == workdirs[-1] == "/work"  # the checkout is the working directory
    image = argv[argv.index("-v") + 2]
    assert argv[argv.index(image) + 1] == "gate"  # arguments after the image go to perfgate


def test_git_trusts_the_mounted_checkout_and_home_is_writable() -> None:
    runs = " ".join(only("RUN"))
    assert "git config --system --add safe.directory /work" in runs
    env = " ".join(only("ENV"))
    assert "HOME=/tmp" in env  # any --user uid can write there


def test_the_images_safe_directory_command_makes_git_trust_the_checkout(
    tmp_path: Path,
) -> None:
    """What the image's system config does for git, on a real repository: with
    safe.directory naming the checkout, git answers although the owner differs."""
    if shutil.which("git") is None:
        pytest.skip("git not installed")
    repo = tmp_path / "work"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    system = tmp_path / "gitconfig"
    # the Dockerfile's command, aimed at this temporary checkout instead of /work
    cmd = next(c for c in only("RUN")[0].split("&&") if "safe.directory" in c).split()
    cmd = [*cmd[:-1], str(repo)]
    env = {"GIT_CONFIG_SYSTEM": str(system), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    subprocess.run(cmd, check=True, env=env)
    assert f"directory = {repo}" in system.read_text()
    proc = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout.strip() == str(repo)


def test_no_secrets_baked_in() -> None:
    secretish = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL", re.I)
    for instr, args in instructions():
        if instr in ("ENV", "ARG", "LABEL"):
            assert not secretish.search(args), args
        assert not re.search(r"gh[pousr]_[A-Za-z0-9]{10,}", args), args
    copied = [a.split()[:-1] for a in only("COPY") + only("ADD")]
    for sources in copied:
        for src in sources:
            assert (REPO / src).exists(), src
            assert not re.search(r"\.env|\.pem|\.key|\.git\b", src), src
    assert not only("ADD")  # COPY only: no remote URLs or auto-extraction


def test_dockerignore_keeps_the_context_small_and_clean() -> None:
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        return any(
            fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in patterns
        )

    for path in (".git/config", ".env", "tests/test_x.py", "baselines/perfgate.sqlite", "x.pem"):
        assert ignored(path), path
    for path in ("pyproject.toml", "README.md", "src/perfgate/__init__.py"):
        assert not ignored(path), path


def _perfgate_executable() -> str:
    beside = Path(sys.executable).with_name("perfgate")
    found = str(beside) if beside.exists() else shutil.which("perfgate")
    if not found:
        pytest.skip("the perfgate console script is not installed (pip install -e .)")
    return found


def test_entrypoint_and_cmd_run_perfgate_help(tmp_path: Path) -> None:
    entrypoint, cmd = exec_form("ENTRYPOINT"), exec_form("CMD")
    assert entrypoint == ["perfgate"] and cmd == ["--help"]
    argv = [_perfgate_executable(), *entrypoint[1:], *cmd]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "performance-regression gate" in proc.stdout
    # `docker run IMAGE --version` replaces CMD, keeps the ENTRYPOINT.
    proc = subprocess.run(
        [argv[0], "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0 and proc.stdout.startswith("perfgate ")
