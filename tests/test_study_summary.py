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


REJUDGE = STUDY.with_name("peak_rss_rejudge.py")
RESULTS = STUDY.parent / "results"


def test_peak_rss_rejudge_reproduces_e11_and_reads_e12_on_the_recorded_shop_runs() -> None:
    """The replay recomputes e11's recorded peak-RSS intervals exactly (else its
    e12 column would be of other measurements), and on the shop's 24 recorded A/A
    runs e12's floor excludes 0 in 1 where e11's pooled prior did in 8."""
    out = subprocess.run(
        [sys.executable, str(REJUDGE), str(RESULTS / "default-family-2026-12-07-e11.jsonl")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "fidelity: largest |e11 recorded - e11 recomputed| 0.0e+00" in out, out
    aa = next(line.split() for line in out.splitlines() if line.split()[:1] == ["aa"])
    assert aa[1] == "24" and aa[2] == "8/24" and aa[4] == "1/24", aa
    assert aa[-2:] == ["0", "24"]  # e11 never found it regressed: every verdict carries
