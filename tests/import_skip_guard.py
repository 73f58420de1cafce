"""A pytest plugin: a test skipped because a Python module could not be imported fails the run.

Every module a test needs is declared in the ``test`` extra and pinned in
``requirements.lock``, so such a skip means a missing declaration, and a skipped
cross-check is one that can never fail. Skips for other reasons (no browser,
not Linux) stay skips.
"""

from __future__ import annotations

from typing import Any

import pytest

# pytest.importorskip's reason starts with this.
IMPORT_SKIP_PREFIX = "could not import"

_import_skips: list[str] = []


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _note(report: pytest.CollectReport | pytest.TestReport) -> None:
    if report.skipped:
        reason = _skip_reason(report)
        if IMPORT_SKIP_PREFIX in reason:
            _import_skips.append(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note(report)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note(report)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _import_skips:
        terminalreporter.section("skipped for a missing Python module (a failure)", red=True)
        for line in _import_skips:
            terminalreporter.line(line)
        terminalreporter.line("declare the module in pyproject.toml's test extra and re-lock")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Exit 5 (nothing ran) too: a module skipped whole leaves no test behind.
    if _import_skips and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
