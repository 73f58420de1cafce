"""A/B sets both arms up in parallel, then launches both together (real processes)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from apps.hello_server import hello_server
from perfgate.config.project import load_project_text
from perfgate.gate.ab.run import run_ab
from perfgate.gate.plan import plan_suites
from perfgate.target import service_for
from test_ab_e2e import PERFGATE_YML, SCRIPT

SETUP_S = 2.0


@pytest.mark.timeout(120)
def test_setups_overlap_and_the_launch_gap_excludes_them(tmp_path: Path) -> None:
    from conftest import free_port

    roots = {}
    for arm in ("base", "candidate"):
        roots[arm] = tmp_path / f"{arm}-root"
        roots[arm].mkdir()
        (roots[arm] / "server.py").write_text(hello_server(delay_s=0.002))
        (roots[arm] / "load.yml").write_text(SCRIPT.replace("duration: 10", "duration: 1"))
    setup = f'  setup: [{sys.executable}, -c, "import time; time.sleep({SETUP_S})"]\n'
    yml = PERFGATE_YML.replace("service:\n", "service:\n" + setup).replace(
        "round: 1", "round: 0.25"
    )
    yml = yml.replace("extend_pairs: 4", "extend_pairs: 0")
    cfg = load_project_text(yml, roots["candidate"])
    base = service_for(cfg, "base", free_port(), tmp_path / "base", root=roots["base"])
    cand = service_for(cfg, "candidate", free_port(), tmp_path / "cand")
    lines: list[str] = []
    out = run_ab(cfg, plan_suites(cfg, "pr"), base_spec=base, candidate_spec=cand, log=lines.append)
    assert not out.errors, out.errors
    setup_s = out.details["setup_s"]
    assert min(setup_s.values()) >= 0.9 * SETUP_S  # each arm ran its setup...
    # ...at the same time: one after the other, the second launch would
    # trail the first by a whole setup.
    assert out.details["launch_gap_s"] < SETUP_S / 2, out.details
    text = "\n".join(lines)
    assert "[base] setting up:" in text and "[candidate] setting up:" in text
    assert text.index("set up in") < text.index("starting:")  # log says what happens, in order
    assert "launched" in text and "ms apart" in text
