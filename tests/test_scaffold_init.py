"""``perfgate init`` on throwaway repositories, each followed by a passing gate.

Three real projects are made in tmp_path — a Python API with a pyproject.toml
entry point, a Node API with package.json's ``start``, a compose project —
then ``perfgate init`` (a real subprocess, stdin not a terminal) writes and
validates perfgate.yml and the workflow and smoke-runs them, and
``perfgate gate --mode none`` passes on what it wrote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from perfgate.config.project import load_project
from perfgate.errors import ConfigError
from perfgate.scaffold import (
    discover_scripts,
    guess_service,
    plan_init,
    validate_workflow,
    write_init,
)
from perfgate.scaffold._guess import templated_port

BIN = Path(sys.executable).parent

# A stdlib HTTP API: any python3 runs it. It listens on PORT (or --port).
PY_SERVER = """\
import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        ok = self.path in ("/health", "/healthz", "/items", "/items/1")
        body = json.dumps({"ok": ok}).encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    port = parser.parse_args().port
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    main()
"""

NODE_SERVER = """\
const http = require("http");
const port = Number(process.env.PORT || 3000);
http.createServer((req, res) => {
  if (req.url === "/health" || req.url === "/items") {
    res.writeHead(200, {"Content-Type": "application/json"});
    res.end(JSON.stringify({ok: true}));
  } else { res.writeHead(404); res.end(); }
}).listen(port, "127.0.0.1");
"""

# 60/s for 4 s: 240 answers, enough for the p50 and p95 checks to pass (not be inconclusive)
SCRIPT = {
    "config": {
        "target": "http://127.0.0.1:8000",
        "phases": [{"duration": 4, "arrivalRate": 60, "name": "steady"}],
    },
    "scenarios": [{"flow": [{"get": {"url": "/items"}}]}],
}


def _env() -> dict[str, str]:
    # `python` and `perfgate` of this interpreter first on PATH; no terminal on stdin
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def perfgate(repo: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfgate", *args],
        cwd=repo,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def python_repo(root: Path) -> Path:
    (root / "src" / "tinyapi").mkdir(parents=True)
    (root / "src" / "tinyapi" / "__init__.py").write_text("")
    (root / "src" / "tinyapi" / "server.py").write_text(PY_SERVER)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "tinyapi"\nversion = "0.1.0"\n\n'
        '[project.scripts]\ntinyapi = "tinyapi.server:main"\n'
    )
    (root / "perf").mkdir()
    (root / "perf" / "artillery-load-test.yml").write_text(yaml.safe_dump(SCRIPT))
    return root


def node_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "server.js").write_text(NODE_SERVER)
    (root / "package.json").write_text(
        json.dumps({"name": "tiny", "version": "1.0.0", "scripts": {"start": "node server.js"}})
    )
    (root / "load.json").write_text(json.dumps(SCRIPT))  # a JSON Artillery script
    nm = root / "node_modules" / "dep"
    nm.mkdir(parents=True)
    (nm / "artillery.yml").write_text(yaml.safe_dump(SCRIPT))  # never a suite
    return root


def compose_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(PY_SERVER)
    (root / "compose.yml").write_text(
        "services:\n"
        "  db:\n    image: postgres:16\n"
        "  api:\n    build: .\n    command: python app.py --port 8000\n"
        '    ports: ["8080:8000"]\n    depends_on: [db]\n'
    )
    (root / "Dockerfile").write_text(
        'FROM python:3.11-slim\nCOPY app.py .\nEXPOSE 8000\nCMD ["python", "app.py"]\n'
    )
    (root / "tests").mkdir()
    (root / "tests" / "perf.yaml").write_text(yaml.safe_dump(SCRIPT))
    return root


def _workflow(repo: Path) -> dict[str, Any]:
    text = (repo / ".github" / "workflows" / "perfgate.yml").read_text()
    assert validate_workflow(text) == []
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))
    # the rules the example workflows follow (tests/test_github_workflows.py)
    assert data["on"] and data["permissions"]["pull-requests"] == "write"
    steps = data["jobs"]["gate"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    assert all("${{" not in s.get("run", "") for s in steps)
    return dict(data)


def _init_then_gate(repo: Path, *init_args: str) -> str:
    init = perfgate(repo, "init", *init_args)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "smoke run: ok" in init.stdout, init.stdout
    load_project(repo / "perfgate.yml")  # the project loader accepts it
    workflow = _workflow(repo)
    gate_steps = [s for s in workflow["jobs"]["gate"]["steps"] if "/perfgate@" in s.get("uses", "")]
    assert gate_steps and gate_steps[0]["with"]["config"] == "perfgate.yml"
    gate = perfgate(repo, "gate", "--mode", "none", "--no-comment")
    # exit 0 passes; p99 needs 1,000 samples, so a 4-s run may leave it inconclusive
    assert gate.returncode == 0, gate.stdout + gate.stderr
    assert re.search(r"error rate < 1\.0%\s+PASS", gate.stdout), gate.stdout
    assert " FAIL " not in gate.stdout and "ERROR" not in gate.stdout, gate.stdout
    return init.stdout


# -- guesses (no process) -------------------------------------------------------


def test_guesses_from_each_kind_of_project(tmp_path: Path) -> None:
    py = guess_service(python_repo(tmp_path / "py"))
    assert py is not None and py.source == "pyproject.toml entry point 'tinyapi'"
    assert py.start[:2] == ["python", "-c"] and "--port" in py.start
    assert py.env == {"PYTHONPATH": "{{ root }}/src", "PORT": "{{ port }}"}
    assert py.ready_path == "/health"

    node = guess_service(node_repo(tmp_path / "node"))
    assert node is not None and node.start == "node server.js"
    assert node.source == "package.json scripts.start"

    compose = guess_service(compose_repo(tmp_path / "compose"))
    assert compose is not None
    assert compose.start == "python app.py --port {{ port }}"  # the container port, templated
    assert compose.source == "compose.yml service 'api' command"

    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "Procfile").write_text("web: gunicorn app:app --bind :$PORT\n")
    procfile = guess_service(tmp_path / "proc")
    assert procfile is not None and procfile.start == "gunicorn app:app --bind :{{ port }}"

    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile").write_text(
        'FROM node:20\nEXPOSE 3000\nCMD ["node", "index.js", "--port", "3000"]\n'
    )
    docker = guess_service(tmp_path / "docker")
    assert docker is not None and docker.start == "node index.js --port {{ port }}"

    (tmp_path / "empty").mkdir()
    assert guess_service(tmp_path / "empty") is None
    assert templated_port("serve -p 8000 --host 10.0.0.8000", 8000) == (
        "serve -p {{ port }} --host 10.0.0.8000"
    )


def test_discovery_finds_yaml_and_json_scripts_and_skips_dependencies(tmp_path: Path) -> None:
    repo = node_repo(tmp_path / "node")
    (repo / "other.yml").write_text("config: {target: x}\nname: not a script\n")
    (repo / "stress-test.yml").write_text(yaml.safe_dump(SCRIPT))
    found = discover_scripts(repo)
    assert [(f.path.as_posix(), f.kind) for f in found] == [
        ("load.json", "load"),
        ("stress-test.yml", "stress"),
    ]
    assert found[0].rates == (60.0,)


def test_starter_from_openapi_and_minimal(tmp_path: Path) -> None:
    repo = tmp_path / "api"
    repo.mkdir()
    (repo / "Procfile").write_text("web: python app.py\n")
    (repo / "openapi.json").write_text(
        json.dumps(
            {
                "openapi": "3.0.0",
                "paths": {
                    "/items": {"get": {}},
                    "/items/{id}": {"get": {}},
                    "/items/new": {"post": {}},
                },
            }
        )
    )
    plan = plan_init(repo)
    assert plan.starter is not None and "openapi.json" in plan.starter_source
    write_init(plan)
    script = yaml.safe_load((repo / "perf" / "load.yml").read_text())
    urls = [step["get"]["url"] for step in script["scenarios"][0]["flow"]]
    assert urls == ["/items", "/items/1"]
    cfg = load_project(repo / "perfgate.yml")
    assert [s.name for s in cfg.suites] == ["load"]
    # files exist now: init refuses to overwrite without --force
    with pytest.raises(ConfigError, match="--force"):
        write_init(plan_init(repo))
    (repo / "openapi.json").unlink()
    shutil.rmtree(repo / "perf")  # the starter written above would be found now
    minimal = plan_init(repo)
    assert minimal.starter is not None and "minimal" in minimal.starter_source
    write_init(minimal, force=True)


def test_workflow_validation_catches_mistakes() -> None:
    good = "on: {pull_request: {}}\njobs:\n  g:\n    runs-on: x\n    steps:\n      - uses: o/perfgate@v1\n"
    assert validate_workflow(good) == []
    assert validate_workflow("jobs: {}\n")  # no trigger, no jobs
    bad = good + "      - run: echo ${{ github.head_ref }}\n        uses: x/y@v1\n"
    assert any("exactly one of run/uses" in p for p in validate_workflow(bad))
    assert any("no perfgate step" in p for p in validate_workflow(good.replace("perfgate", "x")))


def test_nothing_guessable_and_no_terminal_asks_nothing_and_names_the_flag(
    tmp_path: Path,
) -> None:
    out = perfgate(tmp_path, "init", timeout=60)
    assert out.returncode == 2
    assert "--start" in out.stderr
    assert not (tmp_path / "perfgate.yml").exists()


# -- three repositories, end to end ------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_init_python_api_with_a_pyproject_entry_point(tmp_path: Path) -> None:
    out = _init_then_gate(python_repo(tmp_path / "py"))
    assert "pyproject.toml entry point 'tinyapi'" in out
    assert "Artillery script perf/artillery-load-test.yml" in out


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_init_node_api_with_package_json_start(tmp_path: Path) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed on this machine: the Node API cannot run")
    out = _init_then_gate(node_repo(tmp_path / "node"))
    assert "package.json scripts.start" in out
    suites = load_project(tmp_path / "node" / "perfgate.yml").suites
    assert [s.path.name for s in suites] == ["load.json"]  # not node_modules' script


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_init_compose_project(tmp_path: Path) -> None:
    repo = compose_repo(tmp_path / "compose")
    out = _init_then_gate(repo)
    assert "compose.yml service 'api' command" in out
    text = (repo / "perfgate.yml").read_text()
    assert '"python app.py --port {{ port }}"' in text
    assert "not in a container" in text
    assert 'url: "/health"' in text


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_flags_and_a_failing_smoke_run_name_the_next_step(tmp_path: Path) -> None:
    repo = python_repo(tmp_path / "py")
    out = perfgate(
        repo,
        "init",
        "--start",
        "python -c 'import sys; sys.exit(3)'",
        "--ready",
        "health",
        "--script",
        "perf/artillery-load-test.yml",
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "smoke run: FAILED: the service did not start" in out.stdout
    assert "next step:" in out.stderr and "--start" in out.stderr
    cfg = load_project(repo / "perfgate.yml")  # written and valid all the same
    assert cfg.service is not None and cfg.service.ready.url == "/health"
