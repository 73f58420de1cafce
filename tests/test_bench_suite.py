"""Bench suites without a network: loading, validation errors, summaries, checks, table."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest

from perfgate.bench import (
    budget_checks,
    bundled_suite_path,
    load_suite,
    load_suite_text,
    operation_checks,
    repeat_summary,
    summarize,
)
from perfgate.bench._table import fmt_ms, render_report
from perfgate.cli import main
from perfgate.errors import ConfigError
from perfgate.result import BenchOperation, SuiteResult

MINIMAL = """\
name: mini
target: http://127.0.0.1:9
operations:
  - name: Health
    request:
      url: /health
"""


def _err(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_suite_text(textwrap.dedent(text), "suite.yml")
    return info.value


# -- loading -------------------------------------------------------------------
def test_bundled_suite_mirrors_the_seed() -> None:
    suite = load_suite(bundled_suite_path())
    names = [op.name for op in suite.operations]
    assert names == [
        "Health Check",
        "List Bounties",
        "Create Payment Intent",
        "Get Wallet Balance",
        "Get Notifications",
    ]
    health, bounties, payment, wallet, notes = suite.operations
    assert (health.samples, payment.samples, bounties.samples) == (200, 50, 100)
    assert all(op.warmup == 10 and op.concurrency == 1 for op in suite.operations)
    # suite defaults (the seed's failure rule) under every operation's own target
    for op in suite.operations:
        assert op.budget["p95"] == 200 and op.budget["mean"] == 100
        assert op.budget["error_rate"] == 0
    assert [op.budget["median"] for op in suite.operations] == [10, 50, 500, 50, 200]
    assert not health.needs and not bounties.needs
    assert payment.needs == wallet.needs == notes.needs == {"authToken"}
    assert bounties.request.qs == {"limit": 20} and notes.request.qs == {"limit": 50}
    assert [c.as_name for c in suite.setup[0].capture] == ["authToken"]
    assert suite.setup_needs[0] == {"email", "password"}
    assert suite.variables["email"] == "test1@example.com"


def test_target_override_and_defaults() -> None:
    suite = load_suite_text(MINIMAL, target="http://127.0.0.1:4000/")
    assert suite.target == "http://127.0.0.1:4000"
    op = suite.operations[0]
    assert (op.samples, op.warmup, op.concurrency, op.request.method) == (100, 10, 1, "get")
    assert op.budget == {"error_rate": 0.0}


def test_operation_budget_overrides_default_per_key() -> None:
    suite = load_suite_text(
        MINIMAL.replace("operations:", "defaults:\n  budget: {p95: 200, mean: 100}\noperations:")
        + "    budget: {p95: 20, error_rate: 5}\n"
    )
    assert suite.operations[0].budget == {"error_rate": 5.0, "p95": 20.0, "mean": 100.0}


def test_misspelt_top_level_key_names_line_and_suggestion() -> None:
    err = _err(
        MINIMAL.replace(
            "operations:", "operations:\n  - name: x\n    request: {url: /}\noperatons:"
        )
    )
    assert err.file == "suite.yml" and err.suggestion == "operations"
    assert err.line == 6 and err.key_path == "operatons"
    assert "suite.yml:6" in str(err)


def test_misspelt_budget_statistic() -> None:
    err = _err(MINIMAL + "    budget:\n      p59: 20\n")
    assert err.key_path == "operations[0].budget.p59"
    assert err.line == 8
    assert err.suggestion in ("p95", "p99")


def test_bad_samples_value() -> None:
    err = _err(MINIMAL + "    samples: lots\n")
    assert err.key_path == "operations[0].samples" and err.line == 7
    assert "whole number" in err.message


def test_unknown_method_suggests() -> None:
    err = _err(MINIMAL.replace("url: /health", "url: /health\n      method: GTE"))
    assert err.key_path == "operations[0].request.method"
    assert err.suggestion == "GET"


def test_misspelt_request_key() -> None:
    err = _err(MINIMAL.replace("url: /health", "url: /health\n      header: {a: b}"))
    assert err.key_path == "operations[0].request.header" and err.suggestion == "headers"


def test_missing_target_and_bad_target() -> None:
    assert "target" in _err(MINIMAL.replace("target: http://127.0.0.1:9\n", "")).message
    err = _err(MINIMAL.replace("http://127.0.0.1:9", "localhost:9"))
    assert err.key_path == "target" and err.line == 2


def test_concurrency_over_samples_and_duplicates() -> None:
    err = _err(MINIMAL + "    samples: 2\n    concurrency: 3\n")
    assert err.key_path == "operations[0].concurrency"
    dup = MINIMAL + "  - name: Health\n    request: {url: /x}\n"
    err = _err(dup)
    assert err.key_path == "operations[1].name" and "duplicate" in err.message


def test_setup_step_errors() -> None:
    base = MINIMAL.replace("operations:", "setup:\n  - post:\n      url: /auth\n{extra}operations:")
    err = _err(base.format(extra="      captrue: {json: $.t, as: t}\n"))
    assert err.key_path == "setup[0].post.captrue" and err.suggestion == "capture"
    err = _err(base.format(extra="      capture: {json: $.t}\n"))
    assert err.key_path == "setup[0].post.capture.as"
    err = _err(MINIMAL.replace("operations:", "setup:\n  - psot: {url: /a}\noperations:"))
    assert err.key_path == "setup[0].psot" and err.suggestion == "post"


def test_no_operations_and_not_a_mapping() -> None:
    assert "at least one operation" in _err("target: http://127.0.0.1:9\noperations: []\n").message
    assert _err("- a\n- b\n").file == "suite.yml"


def test_cli_bad_suite_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(MINIMAL + "    samples: -1\n", encoding="utf-8")
    assert main(["bench", str(bad), "-q"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:7: operations[0].samples:" in err and "Traceback" not in err
    assert main(["bench", str(tmp_path / "missing.yml"), "-q"]) == 2
    assert "file not found" in capsys.readouterr().err


# -- summaries and checks -----------------------------------------------------------
def test_summarize_known_values() -> None:
    samples = [float(x) for x in range(1, 101)]  # 1..100 ms
    s = summarize(samples, failed=25)
    assert (s["count"], s["failed"], s["min"], s["max"]) == (100, 25, 1, 100)
    assert s["mean"] == pytest.approx(50.5) and s["median"] == pytest.approx(50.5)
    assert s["p95"] == 95 and s["p99"] == 99  # Histogram's rank convention
    assert s["error_rate"] == pytest.approx(20.0)
    assert s["outliers"] == 0
    assert summarize([], failed=3) == {"count": 0.0, "failed": 3.0, "error_rate": 100.0}


def test_outliers_flagged_not_removed() -> None:
    samples = [1.0 + 0.01 * (i % 7) for i in range(99)] + [50.0]
    s = summarize(samples)
    assert s["outliers"] == 1 and s["max"] == 50.0 and s["count"] == 100
    assert s["mean"] > 1.4  # the outlier still counts


def test_repeat_summary() -> None:
    runs = [[1.0, 1.1, 0.9] * 10, [2.0, 2.1, 1.9] * 10]
    r = repeat_summary(runs, seed=1)
    assert r["runs"] == 2
    assert r["median_cv"] == pytest.approx(math.sqrt(0.5) / 1.5, rel=1e-6)
    assert r["median_ci_low"] <= r["median_ci_high"]


def _op(**kw: object) -> BenchOperation:
    base: dict[str, object] = {
        "name": "Op",
        "samples_ms": [10.0] * 9,
        "failed": 1,
        "budget": {"median": 20.0, "p95": 5.0, "error_rate": 0.0},
    }
    base.update(kw)
    op = BenchOperation(**base)  # type: ignore[arg-type]
    op.summary = summarize(op.samples_ms, op.failed)
    return op


def test_operation_checks_pass_fail_skip() -> None:
    by_name = {c.name: c for c in operation_checks(_op())}
    assert by_name["Op: median"].status == "pass"
    assert by_name["Op: p95"].status == "fail" and by_name["Op: p95"].measured == 10.0
    fails = by_name["Op: failed samples"]
    assert fails.status == "fail" and "1 of 10" in fails.detail
    skipped = operation_checks(_op(skipped_reason="setup failed: HTTP 401"))
    assert {c.status for c in skipped} == {"skipped"}
    none_ok = operation_checks(_op(samples_ms=[], failed=5))
    assert {c.status for c in none_ok} == {"fail"}


def test_table_and_report() -> None:
    result = SuiteResult(name="s", kind="bench")
    result.operations = [_op(), _op(name="Auth", skipped_reason="setup[0] failed: HTTP 401")]
    result.operations[0].extra["codes"] = {"200": 9, "500": 1}
    result.checks = budget_checks(result)
    text = render_report(result)
    header = next(line for line in text.splitlines() if line.startswith("| Operation"))
    cells = [c.strip() for c in header.strip("|").split("|")]
    assert cells[:8] == ["Operation", "Samples", "Min", "Max", "Mean", "Median", "P95", "P99"]
    assert "10.00" in text
    assert "Budget failures:" in text and "Op: p95" in text
    assert "Auth: setup[0] failed: HTTP 401" in text
    assert "500 ×1" in text
    assert text.rstrip().endswith("operation(s) skipped")
    assert fmt_ms(0.4123) == "0.412" and fmt_ms(123.456) == "123.46"
