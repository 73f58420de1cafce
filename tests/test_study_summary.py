"""`studies/default_family.py --summarize` counts an A/A interval that excludes 0 on
either side: issue 22's per-metric goal is about excluding 0, not about one side."""

import json
import subprocess
import sys
from pathlib import Path

STUDY = Path(__file__).resolve().parents[1] / "studies" / "default_family.py"


def _run(peak_rss: list[object]) -> dict[str, object]:
    return {
        "row": "aa",
        "commit": "abc1234",
        "exit": 0,
        "state": "pass",
        "regressed": [],
        "extras": {"peak_rss_kib": peak_rss},
        "seconds": 100.0,
    }


def test_summary_counts_intervals_below_zero_as_excluding_zero(tmp_path: Path) -> None:
    runs = [
        _run(["within-noise", 0.10, 0.02, 0.18]),  # above 0
        _run(["within-noise", -0.12, -0.20, -0.03]),  # below 0
        _run(["within-noise", 0.00, -0.05, 0.05]),  # covers 0
    ]
    path = tmp_path / "runs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in runs))
    out = subprocess.run(
        [sys.executable, str(STUDY), "--summarize", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "| interval above 0 | interval excludes 0 | regression |" in out
    row = next(line for line in out.splitlines() if "`peak_rss_kib`" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[-3:] == ["1/3", "2/3", "0/3"]
