"""The default gate on an API that is not the demo (tests/apps/shop_api.py).

A stdlib threaded server over SQLite with a cheap, frequent product page
beside costly recommendations and a rare coupon check; each candidate branch changes one constant,
as a real change would. ``perfgate gate`` runs as a user runs it: a real
subprocess, A/B against ``main`` in a throwaway repository, the documented
defaults (no ``compare.primary``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.shop_repo import CHANGES, git, make_shop_repo

# A max_lag of 1000 ms: this shared test machine's scheduler lag is no part of these tests.
_AB = "ab:\n  max_lag: 1000\n"


def _repo(tmp_path: Path, change: tuple[str, str] | None, ab_extra: str = "") -> Path:
    return make_shop_repo(tmp_path, change, _AB + ab_extra)


def _gate(repo: Path, tmp_path: Path) -> tuple[int, dict[str, object], str]:
    reports = tmp_path / "reports"
    run = subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", "--base-ref", "main", "--no-comment",
         "--report-dir", str(reports), "--all-metrics"],
        cwd=repo, capture_output=True, text=True, timeout=400,
    )  # fmt: skip
    found = sorted(reports.rglob("*.json"))
    report = next((f for f in found if f.name in ("report.json", "run.json")), None)
    data = json.loads(report.read_text()) if report else {}
    return run.returncode, data, run.stdout + run.stderr


def _explain(log: str, *words: str) -> str:
    """A failed run's verdict, the lines naming ``words`` and the log's tail: the tail
    alone once hid the row that mattered (CI, the coupon check)."""
    lines = log.splitlines()
    head = [ln for ln in lines if ln.startswith(("perfgate verdict", "  - ", "[load] undecided"))]
    named = [ln for ln in lines if any(w in ln for w in words)]
    return "\n".join([*head, *named, "…", log[-2000:]])


def _verdict(data: dict[str, object]) -> dict[str, object]:
    verdict = data.get("verdict")
    assert isinstance(verdict, dict), sorted(data)
    return verdict


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_cheap_frequent_endpoint_15_percent_slower_fails_with_the_defaults(
    tmp_path: Path,
) -> None:
    # The change costs the page +18-21% CPU per request on a quiet machine, but a
    # run measured it at +11.6% [+6.7, +16.4] while CI shared the machine: short of
    # Holm after the second look, so INCONCLUSIVE naming the page (exit 0 without
    # `strict`). Its detection rate is the studies' business (docs/detection.md);
    # this test holds what must never happen: the change passing unnamed.
    repo = _repo(tmp_path, CHANGES["cheap15"])
    code, data, log = _gate(repo, tmp_path)
    verdict = _verdict(data)
    reasons = verdict["reasons"]
    assert isinstance(reasons, list)
    named = [r for r in reasons if "product page" in r]
    if verdict["state"] == "regression":
        assert code == 1, _explain(log, "product page")
    else:
        assert verdict["state"] == "inconclusive", _explain(log, "product page")
        assert code == 0, _explain(log, "product page")
        named = [r for r in named if r.startswith("possible regression")]
    assert named, _explain(log, "product page")


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_a_rare_route_failing_30_percent_fails_with_the_defaults(tmp_path: Path) -> None:
    # 4-second rounds: the gate runs the shop at ~80-95 arrivals/s here (60% of its
    # warm-up capacity), so the coupon check (2%) gets ~6-8 requests per round and arm,
    # ~3 with the default 2 s. Before design e7 one first-look round without a coupon
    # request took its rate out of the gate: this test failed in CI (docs/detection.md).
    repo = _repo(tmp_path, CHANGES["rare30"], "  round: 4\n")
    code, data, log = _gate(repo, tmp_path)
    assert code == 1, _explain(log, "coupon")
    verdict = _verdict(data)
    assert verdict["state"] == "regression"
    assert any("coupon" in r and "error_rate" in r for r in verdict["reasons"]), verdict  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_an_unchanged_shop_passes(tmp_path: Path) -> None:
    repo = _repo(tmp_path, None)
    code, data, log = _gate(repo, tmp_path)
    assert code == 0, log[-3000:]
    verdict = _verdict(data)
    assert verdict["state"] in ("pass", "inconclusive"), log[-3000:]
    # The base is named: log, JSON and markdown.
    main = git(repo, "rev-parse", "main")
    assert verdict["details"]["base"] == {"ref": "main", "commit": main}  # type: ignore[index]
    assert f"A/B: base main at {main[:12]}" in log
    markdown = "\n".join(f.read_text() for f in (tmp_path / "reports").rglob("*.md"))
    assert f"base `main at {main[:12]}`" in markdown
