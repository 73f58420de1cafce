"""The dogfood config (perfgate.yml at the root) starts the demo API from each
arm's own checkout, as the action's gate would in .github/workflows/perfgate.yml."""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import free_port
from perfgate.config.project import load_project
from perfgate.target import Service, service_for

REPO = Path(__file__).resolve().parent.parent


def test_dogfood_config_starts_the_demo_api_from_the_arms_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERFGATE_PYTHON", sys.executable)  # set by the action's gate step
    cfg = load_project(REPO / "perfgate.yml")
    assert [s.name for s in cfg.suites_for("pr")] == ["load"]
    assert cfg.profiles["pr"].compare == "ab"
    spec = service_for(cfg, "base", free_port(), tmp_path / "base", root=REPO)
    assert spec.env["PYTHONPATH"] == f"{REPO}/src"  # this arm's own code, not the venv's
    assert spec.start[0] == os.environ["PERFGATE_PYTHON"]
    with Service(spec), urllib.request.urlopen(f"{spec.base_url}/health", timeout=10) as resp:
        assert resp.status == 200
