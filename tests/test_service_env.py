"""The API under test (a pull request's code) never inherits the runner's credentials.

A real service process is started from a perfgate.yml and dumps the
environment it got; the values named in ``secrets:`` still reach it and are
masked in its log tail.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import free_port
from perfgate.config.project import load_project
from perfgate.target import Service, service_for

SERVICE_PY = """\
import json, os, socket, sys, time
port = int(sys.argv[1])
with open(sys.argv[2], "w") as fh:
    json.dump(dict(os.environ), fh)
print("db password is", os.environ.get("DB_PASSWORD", "<unset>"), flush=True)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.1)
"""

RUNNER_ENV = {
    "GITHUB_TOKEN": "ghs_runnerTokenValue0001",
    "MY_GH_TOKEN": "ghp_customTokenEnvValue02",
    "ACTIONS_RUNTIME_TOKEN": "runtimeTokenValue0003",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidcTokenValue0004",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/oidc",
    "DB_PASSWORD": "hunter2-db-secret",
    "HARMLESS": "kept",
}


@pytest.fixture
def runner_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in RUNNER_ENV.items():
        monkeypatch.setenv(name, value)
    yield


def project(tmp_path: Path, service_env: str = "{}") -> Path:
    (tmp_path / "service.py").write_text(SERVICE_PY)
    (tmp_path / "load.yml").write_text(
        "config: {target: 'http://127.0.0.1:1', phases: [{duration: 1, arrivalRate: 1}]}\n"
        "scenarios: [{flow: [{get: {url: /}}]}]\n"
    )
    config = tmp_path / "perfgate.yml"
    config.write_text(
        f"service:\n"
        f"  start: [{json.dumps(sys.executable)}, service.py, '{{{{ port }}}}', '{{{{ workdir }}}}/env.json']\n"
        f"  ready: {{port: '{{{{ port }}}}', timeout: 20}}\n"
        f"  env: {service_env}\n"
        "suites: [{name: load, script: load.yml}]\n"
        "secrets: [DB_PASSWORD]\n"
        "github: {token_env: MY_GH_TOKEN}\n"
    )
    return config


def run_service(config: Path, tmp_path: Path) -> tuple[dict[str, str], str]:

    cfg = load_project(config)
    spec = service_for(cfg, "candidate", free_port(), tmp_path / "arm")
    with Service(spec) as svc:
        env_file = tmp_path / "arm" / "env.json"
        tail = svc.log_tail()
    return json.loads(env_file.read_text()), tail


def test_service_gets_no_github_or_runner_tokens(tmp_path: Path, runner_env: None) -> None:
    env, tail = run_service(project(tmp_path), tmp_path)
    for name in (
        "GITHUB_TOKEN",
        "MY_GH_TOKEN",  # github.token_env
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
    ):
        assert name not in env, name
    token_values = [v for k, v in RUNNER_ENV.items() if "TOKEN" in k]
    assert not any(v in json.dumps(env) for v in token_values)
    assert env["HARMLESS"] == "kept" and env["PATH"] == os.environ["PATH"]
    # a secrets: value reaches the service (it may need it) and is masked in its log
    assert env["DB_PASSWORD"] == RUNNER_ENV["DB_PASSWORD"]
    assert "db password is ***" in tail
    assert RUNNER_ENV["DB_PASSWORD"] not in tail


def test_a_token_passed_explicitly_in_service_env_reaches_it(
    tmp_path: Path, runner_env: None
) -> None:
    env, _ = run_service(project(tmp_path, "{GITHUB_TOKEN: '{{ env.GITHUB_TOKEN }}'}"), tmp_path)
    assert env["GITHUB_TOKEN"] == RUNNER_ENV["GITHUB_TOKEN"]
    assert "ACTIONS_RUNTIME_TOKEN" not in env
