"""The import-skip guard turns a skip for a missing module into a failed run, and only that."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _pytest(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_probe.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "import_skip_guard",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_probe.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )


def test_a_skip_for_a_missing_module_fails_the_run(tmp_path: Path) -> None:
    run = _pytest(
        tmp_path,
        "import pytest\n\n"
        "def test_needs_it():\n"
        "    pytest.importorskip('perfgate_no_such_module_here')\n",
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "skipped for a missing Python module" in run.stdout
    assert "perfgate_no_such_module_here" in run.stdout


def test_a_module_level_import_skip_fails_the_run(tmp_path: Path) -> None:
    run = _pytest(
        tmp_path,
        "import pytest\n\n"
        "pytest.importorskip('perfgate_no_such_module_here')\n\n"
        "def test_never_runs():\n"
        "    pass\n",
    )
    assert run.returncode == 1, run.stdout + run.stderr


def test_other_skips_stay_skips(tmp_path: Path) -> None:
    run = _pytest(
        tmp_path,
        "import pytest\n\ndef test_browser():\n    pytest.skip('chromium not installed')\n",
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped" in run.stdout
