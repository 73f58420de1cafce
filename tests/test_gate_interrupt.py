"""Ctrl-C during `perfgate gate`: the run stops, the partial report is written, exit 130.

SIGTERM (a cancelled CI job, ``docker stop``) is handled the same way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

LOAD = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 60, arrivalRate: 20, name: long}
scenarios:
  - flow:
      - get: {url: /health}
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_an_interrupt_writes_a_partial_report_and_exits_130(
    tmp_path: Path, shared_demo_api, sig: signal.Signals
) -> None:
    (tmp_path / "load.yml").write_text(LOAD)
    (tmp_path / "perfgate.yml").write_text(
        f"target: {shared_demo_api.url}\n"
        "suites:\n  - {name: load, script: load.yml}\n"
        "profiles:\n  pr: {budget: 100, compare: history}\n"
    )
    reports = tmp_path / "reports"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "perfgate",
            "gate",
            str(tmp_path / "perfgate.yml"),
            "--db",
            str(tmp_path / "db.sqlite"),
            "--report-dir",
            str(reports),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        seen = ""
        assert proc.stdout is not None
        while "elapsed" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        time.sleep(2.0)  # some results to keep
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, seen + out
    (record,) = [p for p in reports.iterdir() if p.is_dir()]
    report = (record / "report.md").read_text()
    assert "interrupted" in report.lower()
    assert "/health" in report  # the requests made before Ctrl-C are in it
