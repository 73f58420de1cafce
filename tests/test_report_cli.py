"""`perfgate report` as a real subprocess, and the report directory."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import report_fixtures as fx
from perfgate.report import write_report_directory


def _perfgate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfgate", "report", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def run_file(tmp_path: Path) -> Path:
    run = fx.candidate_run()
    run.verdict = fx.regression_verdict().to_dict()
    path = tmp_path / "run.json"
    run.save(path)
    return path


def test_markdown_to_stdout(run_file: Path) -> None:
    res = _perfgate(str(run_file))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1].startswith("### ❌ Regression")


def test_every_format_to_file(run_file: Path, tmp_path: Path) -> None:
    for fmt in ("markdown", "html", "json", "junit"):
        out = tmp_path / f"out.{fmt}"
        res = _perfgate(str(run_file), "--format", fmt, "-o", str(out))
        assert res.returncode == 0, res.stderr
        assert res.stdout == ""
        text = out.read_text(encoding="utf-8")
        if fmt == "json":
            assert json.loads(text)["verdict"]["state"] == "regression"
        elif fmt == "junit":
            assert ET.fromstring(text).get("failures") == "5"
        elif fmt == "html":
            assert text.startswith("<!DOCTYPE html>")


def test_artillery_shaped_input_and_baseline(tmp_path: Path) -> None:
    art = tmp_path / "artillery.json"
    art.write_text(
        json.dumps(
            {"aggregate": {}, "intermediate": [], "perfgate": {"run": fx.candidate_run().to_dict()}}
        )
    )
    base = tmp_path / "base.json"
    fx.baseline_run().save(base)
    res = _perfgate(str(art), "--baseline", str(base), "--no-charts", "--max-chars", "60000")
    assert res.returncode == 0, res.stderr
    assert "+10.5%" in res.stdout and "xychart" not in res.stdout


def test_suite_only_artillery_input(tmp_path: Path) -> None:
    art = tmp_path / "artillery.json"
    art.write_text(json.dumps({"perfgate": {"suite": fx.load_suite().to_dict()}}))
    res = _perfgate(str(art), "--format", "junit")
    assert res.returncode == 0, res.stderr
    assert 'name="p95 &lt; 200 ms"' in res.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"aggregate": {}}', "not a perfgate report"),
        ("{not json", ":1:2: not valid JSON"),
        ('{"perfgate": {"foo": 1}}', 'the "perfgate" key holds no run'),
        ('{"suites": [{"name": "x"}]}', "malformed perfgate report"),
        ("[1, 2]", "expected a JSON object"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    res = _perfgate(str(bad))
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr


def test_missing_file(tmp_path: Path) -> None:
    res = _perfgate(str(tmp_path / "nope.json"))
    assert res.returncode == 2 and "cannot read" in res.stderr and "Traceback" not in res.stderr


def test_record_directory(tmp_path: Path) -> None:
    files = write_report_directory(
        fx.candidate_run(), fx.regression_verdict(), root=tmp_path / "performance-reports"
    )
    assert files.directory.name == "2025-11-26-0123456"
    readme = files.readme.read_text(encoding="utf-8")
    for heading in ("## Date and time", "## System configuration", "## Test parameters", "## Results",
                    "## Issues discovered", "## Actions taken"):  # fmt: skip
        assert heading in readme
    assert (
        "AMD EPYC 7763" in readme
        and "regression: api-load endpoint:GET /api/bounties total.median" in readme
    )
    for g in files.graphs:
        assert g.read_text().startswith("<svg") and f"graphs/{g.name}" in readme
    assert len(files.graphs) == 5
    assert json.loads(files.json.read_text())["verdict"]["state"] == "regression"
    ET.fromstring(files.junit.read_text())
    # The same run again reuses its directory; another run that day gets a suffix.
    assert (
        write_report_directory(fx.candidate_run(), root=tmp_path / "performance-reports").directory
        == files.directory
    )
    other = fx.candidate_run()
    other.run_id = "another"
    assert (
        write_report_directory(other, root=tmp_path / "performance-reports").directory.name
        == "2025-11-26-0123456-2"
    )


def test_cli_writes_record_directory(run_file: Path, tmp_path: Path) -> None:
    res = _perfgate(
        str(run_file), "--record-dir", str(tmp_path / "pr"), "-o", str(tmp_path / "x.md")
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "pr" / "2025-11-26-0123456" / "README.md").exists()
