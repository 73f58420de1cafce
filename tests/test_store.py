"""The SQLite store on real files: migrations, history, concurrency, crashes, JSON lines."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from perfgate.errors import StoreError
from perfgate.metrics import MetricSet, names
from perfgate.result import BenchOperation, Check, RunResult, SuiteResult
from perfgate.store import Store, environment_fingerprint

TESTS_DIR = Path(__file__).parent


def make_run(
    *,
    run_id: str | None = None,
    created_at: str = "2026-01-01T00:00:00+00:00",
    branch: str = "main",
    cpu_model: str = "cpuA",
    cores: int = 2,
    config_hash: str = "h1",
    scale: float = 1.0,
    seed: int = 0,
) -> RunResult:
    """A small but complete run: a load suite (histograms, endpoints, series) and a bench suite."""
    rng = np.random.default_rng(seed)
    agg = MetricSet(first_ms=1_000.0, last_ms=31_000.0)
    for endpoint, base in (("/api/bounties", 5.0), ("/health", 1.0)):
        for value in rng.lognormal(np.log(base * scale), 0.2, 300):
            agg.observe(names.TOTAL, float(value))
            agg.observe(names.endpoint_total(endpoint), float(value))
            agg.incr(names.http_code(200))
            agg.incr(names.endpoint_codes(endpoint, 200))
            agg.incr(names.HTTP_REQUESTS)
    agg.incr(names.http_code(503), 3)
    agg.incr(names.endpoint_codes("/api/bounties", 503), 3)
    agg.incr(names.error_code("ECONNRESET"), 2)
    agg.incr(names.HTTP_REQUESTS, 5)
    load = SuiteResult(
        name="load",
        kind="load",
        duration_s=30.0,
        aggregate=agg,
        series=[{"t": float(t), "rps": 20.0} for t in range(3)],
        checks=[Check("p95", "pass", 9.0, 200.0, "ms")],
    )
    bench = SuiteResult(
        name="bench",
        kind="bench",
        operations=[
            BenchOperation("health", samples_ms=[float(x) for x in rng.lognormal(0, 0.1, 60)])
        ],
    )
    kwargs = {"run_id": run_id} if run_id else {}
    return RunResult(
        **kwargs,
        created_at=created_at,
        commit="abc123",
        branch=branch,
        profile="pr",
        environment={"cpu_model": cpu_model, "cores": cores, "os": "Linux", "runner_name": "r1"},
        config_hash=config_hash,
        suites=[load, bench],
        verdict={"state": "pass"},
    )


def test_migration_from_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.write_bytes(b"")
    with Store(path) as store:
        assert store.run_ids() == []
        tables = set(store.db.table_names())
    assert {"runs", "figures", "histograms", "series", "_sqlite_migrations"} <= tables
    # reopening applies nothing twice, and the closed file is a single DELETE-mode file
    with Store(path) as store:
        assert [m["name"] for m in store.db["_sqlite_migrations"].rows] == ["m001_initial"]
    assert not Path(f"{path}-wal").exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite"
    bad.write_text("this is not sqlite, just text that is long enough to be a header" * 4)
    with pytest.raises(StoreError, match=r"bad\.sqlite"):
        Store(bad)


def test_save_get_list_and_figures(tmp_path: Path) -> None:
    run = make_run(run_id="r" * 16)
    with Store(tmp_path / "db.sqlite") as store:
        assert store.save_run(run) == run.run_id
        assert store.get_run(run.run_id).to_dict() == run.to_dict()
        assert store.get_run("rrrr").run_id == run.run_id  # unique prefix
        listed = store.list_runs()
        assert listed[0]["run_id"] == run.run_id and listed[0]["verdict"] == "pass"
        figures = {(f["suite"], f["metric"]): f for f in store.figures(run.run_id)}
        assert figures[("load", "error_rate")]["value"] == pytest.approx(5 / 605)
        assert figures[("load", "total.p50")]["samples"] == 600
        assert ("load", "endpoint:/api/bounties total.p95") in figures
        assert ("bench", "op:health median") in figures
        store.save_run(run)  # replacing keeps one copy
        assert store.run_ids() == [run.run_id]
        with pytest.raises(StoreError, match="no run"):
            store.get_run("zzz")


def test_history_filters(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite") as store:
        for day in range(1, 13):
            store.save_run(make_run(created_at=f"2026-01-{day:02d}T00:00:00+00:00", seed=day))
        store.save_run(make_run(created_at="2026-01-20T00:00:00+00:00", branch="feature"))
        store.save_run(
            make_run(created_at="2026-01-21T00:00:00+00:00", cpu_model="cpuB", scale=3.0)
        )
        store.save_run(make_run(created_at="2026-01-22T00:00:00+00:00", config_hash="h2"))
        fp = {
            "cpu_model": "cpuA",
            "cores": 2,
            "os": "Linux",
            "runner_name": "other",
        }  # runner ignored
        points = store.history(
            "load", "total.p50", branch="main", fingerprint=fp, config_hash="h1", limit=10
        )
        assert len(points) == 10
        assert [p.created_at[:10] for p in points] == [
            f"2026-01-{d:02d}" for d in range(3, 13)
        ]  # oldest first
        assert all(1.0 < p.value < 6.5 and p.samples == 600 for p in points)
        assert len(store.history("load", "total.p50", limit=100)) == 15
        assert len(store.history("load", "total.p50", fingerprint={"cpu_model": "cpuB"})) == 1
        assert len(store.history("load", "total.p50", config_hash="h2")) == 1
        assert len(store.history("load", "total.p50", branch="feature")) == 1
        assert store.history("load", "no-such-metric") == []


def test_prune(tmp_path: Path) -> None:
    with Store(tmp_path / "db.sqlite") as store:
        ids = [
            store.save_run(make_run(created_at=f"2026-01-{d:02d}T00:00:00+00:00"))
            for d in range(1, 8)
        ]
        assert store.prune(keep_last=5, older_than_days=365_000) == 0  # none that old
        assert store.prune(keep_last=5) == 2
        assert store.run_ids() == ids[2:]
        assert (
            store.db.execute("SELECT count(*) FROM figures WHERE run_id = ?", [ids[0]]).fetchone()[
                0
            ]
            == 0
        )


def test_export_import_round_trip_and_merge(tmp_path: Path) -> None:
    runs = [make_run(created_at=f"2026-02-{d:02d}T00:00:00+00:00", seed=d) for d in range(1, 5)]
    with Store(tmp_path / "a.sqlite") as a:
        for run in runs[:3]:
            a.save_run(run)
        buffer = io.StringIO()
        assert a.export_jsonl(buffer) == 3
        a.export_jsonl(tmp_path / "a.jsonl")
    with Store(tmp_path / "b.sqlite") as b:
        b.save_run(runs[3])  # a diverged database
        b.save_run(runs[0])
        assert b.import_jsonl(io.StringIO(buffer.getvalue())) == (2, 1)
        assert b.import_jsonl(tmp_path / "a.jsonl") == (0, 3)  # idempotent
        assert sorted(b.run_ids()) == sorted(r.run_id for r in runs)
        for run in runs:
            back = b.get_run(run.run_id)
            assert back.to_dict() == run.to_dict()
            assert back.suites[0].aggregate.histograms == run.suites[0].aggregate.histograms
    with Store(tmp_path / "c.sqlite") as c, pytest.raises(StoreError, match=r"bad\.jsonl:2"):
        (tmp_path / "bad.jsonl").write_text('{"run_id": "x"}\n{not json\n')
        c.import_jsonl(tmp_path / "bad.jsonl")


def test_environment_fingerprint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNNER_NAME", "GitHub Actions 7")
    fp = environment_fingerprint()
    assert fp["runner_name"] == "GitHub Actions 7"
    assert fp["cores"] == os.cpu_count()
    assert fp["cpu_model"] and fp["os"] and fp["python"] and fp["perfgate_version"]
    assert fp["memory_gb"] > 0


_WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_store import make_run
    from perfgate.store import Store
    store = Store({db!r})
    for i in range({count}):
        store.save_run(make_run(run_id="{prefix}%05d" % i, seed=i))
        print(i, flush=True)
    store.close()
    """
)


def _writer(db: Path, prefix: str, count: int) -> subprocess.Popen[str]:
    code = _WRITER.format(tests=str(TESTS_DIR), db=str(db), prefix=prefix, count=count)
    return subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_two_concurrent_writer_processes(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite"
    procs = [_writer(db, "a", 15), _writer(db, "b", 15)]
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    with Store(db) as store:
        ids = store.run_ids()
        assert len(ids) == 30
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_interrupted_write_leaves_a_valid_database(tmp_path: Path) -> None:
    db = tmp_path / "killed.sqlite"
    proc = _writer(db, "k", 10_000)
    committed = -1
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while committed < 4 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            committed = int(line)
        assert committed >= 4, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGKILL)  # at an arbitrary point of the write loop
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    with Store(db) as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        ids = store.run_ids()
        assert len(ids) >= committed + 1
        # every run present is whole: its figures and histograms came with it
        expected_figures = len(store.figures(ids[0]))
        for run_id in ids:
            assert len(store.figures(run_id)) == expected_figures
            assert store.get_run(run_id).suites[0].aggregate.histograms
