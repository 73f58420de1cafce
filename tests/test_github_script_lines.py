"""Error annotations land on the Artillery script's line of the regressed endpoint."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

from perfgate.github import annotate
from perfgate.github._script_lines import endpoint_lines, finding_annotations
from perfgate.result import Check
from perfgate.script import load_script
from perfgate.verdict import MetricComparison

SCRIPT = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 2, arrivalRate: 5}
scenarios:
  - name: browse
    flow:
      - get:
          url: /health
      - loop:
          - get:
              url: /api/bounties
        count: 2
      - post:
          url: /auth/sign-in
          name: login
"""


def project(tmp_path: Path) -> Path:
    perf = tmp_path / "perf"
    perf.mkdir()
    path = perf / "load.yml"
    path.write_text(SCRIPT)
    return path


def test_endpoint_lines_follow_metrics_by_endpoint_names(tmp_path: Path) -> None:
    script = load_script(project(tmp_path))
    assert endpoint_lines(script) == {
        "/health": 8,
        "/api/bounties": 11,  # inside a loop
        "/auth/sign-in (login)": 14,
    }


def test_regressions_and_slo_failures_point_at_the_request(tmp_path: Path) -> None:
    script = load_script(project(tmp_path))
    regression = MetricComparison(
        "load",
        "endpoint:/api/bounties total.median",
        "ms",
        "primary",
        10.0,
        14.0,
        0.4,
        state="regression",
    )
    info_only = MetricComparison(
        "load", "endpoint:/health total.median", "ms", "info", 1.0, 2.0, 1.0, state="regression"
    )
    slo = Check(
        "load /auth/sign-in (login) total p95 < 200 ms", "fail", 250.0, 200.0, "ms", suite="load"
    )
    run_wide = Check("load error rate < 1%", "fail", 5.0, 1.0, "%", suite="load")
    found = finding_annotations(
        [regression, info_only], [slo, run_wide], {"load": script}, tmp_path
    )
    assert [(a.file, a.line, a.title) for a in found] == [
        ("perf/load.yml", 11, "perfgate: regression"),
        ("perf/load.yml", 14, "perfgate: SLO failed"),
        ("perf/load.yml", None, "perfgate: SLO failed"),
    ]
    assert "+40.0%" in found[0].message
    out = io.StringIO()
    with redirect_stdout(out):
        annotate(
            "error",
            found[0].message,
            file=found[0].file,
            line=found[0].line,
            title=found[0].title,
            environ={"GITHUB_ACTIONS": "true"},
        )
    assert out.getvalue().startswith(
        "::error file=perf/load.yml,line=11,title=perfgate%3A regression::"
    )


def test_scripts_outside_the_repository_get_no_file(tmp_path: Path) -> None:
    script = load_script(project(tmp_path))
    regression = MetricComparison(
        "load", "endpoint:/health total.p95", "ms", "primary", 1.0, 2.0, 1.0, state="regression"
    )
    (found,) = finding_annotations([regression], [], {"load": script}, tmp_path / "elsewhere")
    assert found.file is None and found.line is None
