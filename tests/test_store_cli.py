"""``perfgate baseline`` end to end on a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.cli import main
from perfgate.store import Store
from test_store import make_run


def test_baseline_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "db.sqlite"
    with Store(db) as store:
        for day in (1, 2, 3):
            store.save_run(
                make_run(
                    run_id=f"run{day}".ljust(16, "0"), created_at=f"2026-03-0{day}T00:00:00+00:00"
                )
            )
    assert main(["baseline", "list", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert out.index("run3") < out.index("run1") and "pass" in out
    assert main(["baseline", "--db", str(db), "show", "run2"]) == 0
    out = capsys.readouterr().out
    assert "endpoint:/api/bounties total.p50" in out and "cpuA" in out
    jsonl = tmp_path / "runs.jsonl"
    assert main(["baseline", "export", str(jsonl), "--db", str(db)]) == 0
    assert len(jsonl.read_text().splitlines()) == 3
    other = tmp_path / "other.sqlite"
    assert main(["baseline", "import", str(jsonl), "--db", str(other)]) == 0
    assert "imported 3" in capsys.readouterr().out
    assert main(["baseline", "prune", "--keep-last", "1", "--db", str(other)]) == 0
    assert "deleted 2" in capsys.readouterr().out
    assert main(["baseline", "show", "nope", "--db", str(db)]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
