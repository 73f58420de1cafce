"""One meaning of "failed request": the definition, and the same 5%-500s target through
``perfgate run``, ``perfgate stress --find-limit`` and the A/B gate.

A failed request is no response or a 5xx; 4xx are counted apart and fail only
where declared. The demo API's ``--error-rate 0.05`` answers 5% of requests
with a 500: every path must report about 5%, and the limit search must find
no sustainable rate under a 1% error SLO, saying why.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DemoAPI, free_port
from perfgate.config.project import load_project, load_project_text
from perfgate.errors import ConfigError
from perfgate.gate.decide import decide
from perfgate.gate.slo import mark_pre_existing, suite_slo_checks
from perfgate.metrics import failures, names
from perfgate.metrics.metricset import MetricSet
from perfgate.report import build_report
from perfgate.report.markdown import render_markdown
from perfgate.result import RunResult, SuiteResult
from perfgate.stress import seconds_of, window

# A 5% rate measured over a few hundred requests: wide bounds (±3 standard errors and more).
LOW, HIGH = 0.015, 0.11


def sample_metrics() -> MetricSet:
    ms = MetricSet()
    for ep, code, n in (
        ("/a", 200, 90),
        ("/a", 500, 4),
        ("/a", 404, 6),
        ("/b", 200, 45),
        ("/b", 401, 5),
    ):
        ms.incr(names.http_code(code), n)
        ms.incr(names.endpoint_codes(ep, code), n)
        ms.incr(names.HTTP_REQUESTS, n)
    ms.incr(names.error_code("ETIMEDOUT"), 2)
    ms.incr(names.endpoint_errors("/a", "ETIMEDOUT"), 2)
    ms.incr(names.HTTP_REQUESTS, 2)
    return ms


def test_default_failed_is_no_response_or_5xx_with_4xx_counted_apart() -> None:
    counted = failures.count(sample_metrics())
    assert counted.requests == 152
    assert (counted.no_response, counted.status_5xx, counted.status_4xx) == (2, 4, 11)
    assert counted.failed == 6
    assert "6 of 152 failed" in counted.detail()
    assert "11 4xx counted apart" in counted.detail()
    assert "ETIMEDOUT 2" in counted.detail()


def test_4xx_fail_where_declared_globally_or_per_endpoint() -> None:
    ms = sample_metrics()
    assert failures.count(ms, failures.FailurePolicy(fail_on_4xx=True)).failed == 17
    assert failures.count(ms, failures.FailurePolicy(frozenset({404}))).failed == 12
    # /b's own declaration replaces the global one for its answers
    per_endpoint = failures.FailurePolicy(False, {"/b": True})
    assert failures.count(ms, per_endpoint).failed == 11
    views = {v.name: v for v in ms.endpoints()}
    assert failures.count_endpoint(views["/b"], per_endpoint).failed == 5
    assert failures.count_endpoint(views["/a"], per_endpoint).failed == 6
    assert "on /b: every 4xx" in per_endpoint.describe()
    again = failures.FailurePolicy.from_dict(per_endpoint.to_dict())
    assert again == per_endpoint


def test_per_second_rows_count_5xx_as_failed() -> None:
    row: dict[str, float] = {
        "t": 0,
        "requests": 100,
        "responses": 98,
        "no_response": 2,
        "status_5xx": 5,
        "status_4xx": 3,
        "status_4xx.404": 3,
        "failed": 7,
    }
    assert failures.count_second(row).failed == 7
    assert failures.count_second(row, failures.FailurePolicy(frozenset({404}))).failed == 10
    # rows stored before: "errors" was the no-response count
    assert failures.count_second({"requests": 10, "errors": 1}).failed == 1
    suite = SuiteResult(name="s", kind="stress", series=[row])
    seconds = seconds_of(suite)
    w = window(seconds, 0, 1)
    assert (w.failed, w.no_response) == (7, 2)


def test_status_mix_shift_is_reported() -> None:
    base, cand = MetricSet(), MetricSet()
    for ms, bad in ((base, 0), (cand, 20)):
        ms.incr(names.endpoint_codes("/a", 200), 100 - bad)
        if bad:
            ms.incr(names.endpoint_codes("/a", 404), bad)
        ms.incr(names.endpoint_codes("/b", 200), 100)
    shifts = failures.status_mix_shifts(base, cand)
    assert [s.endpoint for s in shifts] == ["/a"]
    assert shifts[0].largest in ("2xx", "4xx")
    assert abs(shifts[0].change_pp) == pytest.approx(20.0)
    run = RunResult(suites=[SuiteResult(name="load", kind="load", aggregate=cand)])
    baseline = RunResult(suites=[SuiteResult(name="load", kind="load", aggregate=base)])
    text = render_markdown(run, baseline=baseline)
    assert "status mix moved" in text


def test_slo_fail_on_4xx_config(tmp_path: Path) -> None:
    cfg = load_project_text(
        "target: http://127.0.0.1:1\n"
        "suites: []\n"
        "slo:\n  fail_on_4xx: [404]\n  endpoints:\n    /b: {fail_on_4xx: true}\n",
        tmp_path,
    )
    policy = cfg.slo.failure_policy()
    assert policy.fail_on_4xx == frozenset({404})
    assert policy.endpoints == {"/b": True}
    suite = SuiteResult(name="load", kind="load", aggregate=sample_metrics())
    check = next(c for c in suite_slo_checks(suite, cfg.slo) if "error rate" in c.name)
    # 2 no response + 4 5xx + 6 404 on /a + 5 401 on /b
    assert "17 of 152 failed" in check.detail
    with pytest.raises(ConfigError, match="expected a 4xx status") as info:
        load_project_text(
            "target: http://127.0.0.1:1\nsuites: []\nslo:\n  fail_on_4xx: [500]\n", tmp_path
        )
    assert "slo.fail_on_4xx[0]" in str(info.value)


def test_nothing_answered_is_a_failing_check_and_in_the_report() -> None:
    ms = MetricSet()
    ms.incr(names.HTTP_REQUESTS, 10)
    ms.incr(names.error_code("ECONNREFUSED"), 10)
    ms.incr(names.endpoint_errors("/x", "ECONNREFUSED"), 10)
    suite = SuiteResult(name="load", kind="load", aggregate=ms)
    cfg = load_project_text("target: http://127.0.0.1:1\nsuites: []\n", Path("."))
    checks = suite_slo_checks(suite, cfg.slo)
    assert checks[0].name == "load: no request got an answer"
    assert checks[0].status == "fail"
    assert "no request got an answer" in checks[0].detail
    assert "ECONNREFUSED 10" in checks[0].detail
    # the base reaching nothing too does not make it "pre-existing"
    mark_pre_existing(checks, suite_slo_checks(suite, cfg.slo))
    assert not checks[0].pre_existing
    verdict = decide("none", [], checks)
    assert verdict.exit_code == 1 and verdict.reasons[0] == "load: no request got an answer"
    report = build_report(RunResult(suites=[suite]))
    assert report.suites[0].nothing_answered
    assert report.headline.state == "error"
    assert "Nothing answered" in render_markdown(RunResult(suites=[suite]))


def test_missing_perfgate_yml_names_perfgate_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="perfgate init"):
        load_project(tmp_path / "perfgate.yml")
    out = subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", str(tmp_path / "perfgate.yml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "perfgate init" in out.stderr


def test_run_against_nothing_says_so_and_keeps_artillerys_exit_code(tmp_path: Path) -> None:
    port = free_port()  # nothing listens here
    script = tmp_path / "s.yml"
    script.write_text(
        f"config:\n  target: http://127.0.0.1:{port}\n  phases:\n"
        "    - {duration: 1, arrivalRate: 10}\nscenarios:\n  - flow:\n      - get: {url: /x}\n"
    )
    report = tmp_path / "r.json"
    out = subprocess.run(
        [sys.executable, "-m", "perfgate", "run", str(script), "-q", "-o", str(report)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert "no request got an answer" in out.stderr
    assert "ECONNREFUSED" in out.stderr
    md = subprocess.run(
        [sys.executable, "-m", "perfgate", "report", str(report), "--format", "markdown"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "no request got an answer" in md.stdout, md.stdout + md.stderr


# -- the same 5%-500s target, three ways --------------------------------------------


def _script(path: Path, target: str, rate: int, seconds: int) -> Path:
    path.write_text(
        f"config:\n  target: {target}\n  phases:\n"
        f"    - {{duration: {seconds}, arrivalRate: {rate}, name: steady}}\n"
        "scenarios:\n  - flow:\n      - get: {url: /api/bounties}\n"
    )
    return path


def _rate(text: str, pattern: str) -> float:
    found = re.search(pattern, text)
    assert found, text
    return float(found.group(1)) / 100.0


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_run_reports_the_5xx_share(tmp_path: Path, start_demo_api: object) -> None:
    api: DemoAPI = start_demo_api("--error-rate", "0.05")  # type: ignore[operator]
    script = _script(tmp_path / "s.yml", api.url, 100, 5)
    out = subprocess.run(
        [sys.executable, "-m", "perfgate", "run", str(script), "-q", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert out.returncode == 0, out.stderr
    rate = _rate(out.stdout, r"error rate ([\d.]+)%: \d+ of \d+ failed \(\d+ 5xx\)")
    assert LOW < rate < HIGH, out.stdout


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_find_limit_finds_no_sustainable_rate_and_says_why(
    tmp_path: Path, start_demo_api: object
) -> None:
    api: DemoAPI = start_demo_api("--error-rate", "0.05")  # type: ignore[operator]
    script = _script(tmp_path / "s.yml", api.url, 10, 1)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfgate",
            "stress",
            str(script),
            "--find-limit",
            "--time-scale",
            "0.2",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "held" not in out.stdout and "limit not reached" not in out.stdout, out.stdout
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("no sustainable rate found"), out.stdout
    assert "failed = 5xx or no response" in last
    rate = _rate(last, r"error rate ([\d.]+)% ≥ 1%")
    assert LOW < rate < HIGH, out.stdout


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_ab_gate_reports_the_same_error_rate(tmp_path: Path) -> None:
    from perfgate.gate import GateOptions, run_gate

    _script(tmp_path / "load.yml", "http://127.0.0.1:1", 60, 10)
    (tmp_path / "perfgate.yml").write_text(
        f"""\
service:
  start: [{sys.executable}, -m, perfgate, demo-api, --host, 127.0.0.1, --port, "{{{{ port }}}}",
          --db, "{{{{ workdir }}}}/demo.sqlite", --error-rate, "0.05"]
  ready: {{url: /health, timeout: 30}}
suites:
  - {{name: load, script: load.yml}}
monitor: {{enabled: false}}
ab: {{pairs: 8, extend_pairs: 0, round: 1, warmup: 0.5, warmup_requests: 50, max_lag: 1000, seed: 3}}
"""
    )
    outcome = run_gate(
        GateOptions(
            config=tmp_path / "perfgate.yml",
            mode="ab",
            same_tree_base=True,
            report_dir=tmp_path / "reports",
            store_path=tmp_path / "store.sqlite",
            comment=False,
        ),
        log=lambda _line: None,
    )
    slo = next(c for c in outcome.verdict.slo_checks if c.name == "load error rate < 1.0%")
    assert slo.status == "fail"
    assert slo.measured is not None and LOW < slo.measured < HIGH, slo
    assert re.search(r"\d+ of \d+ failed \(\d+ 5xx\)", slo.detail), slo.detail
    compared = next(c for c in outcome.verdict.comparisons if c.metric == "error_rate")
    for value in (compared.base, compared.candidate):
        assert value is not None and LOW < value < HIGH, compared
    assert outcome.run.suites[0].extra["failure_policy"] == {"fail_on_4xx": False, "endpoints": {}}
