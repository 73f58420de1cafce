"""The results store: runs, their figures, histograms and series in SQLite.

The compressed RunResult JSON in ``runs.result`` is the source of truth;
``figures``, ``histograms`` and ``series`` are derived from it on save so
history queries are plain indexed SQL.

Durability: WAL while open (readers never block the writer), every write one
``BEGIN IMMEDIATE`` transaction (so a killed process leaves either the whole
run or none of it, and two writers queue on the busy timeout instead of
failing on a lock upgrade), and on close a checkpoint back to DELETE journal
mode, so the single ``.sqlite`` file is complete before it is uploaded or
committed.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlite_utils import Database

from perfgate.errors import StoreError
from perfgate.figures import run_figures
from perfgate.result import RunResult
from perfgate.store._fingerprint import MATCH_KEYS
from perfgate.store._schema import MIGRATIONS

__all__ = ["DEFAULT_PATH", "HistoryPoint", "Store"]

DEFAULT_PATH = Path("baselines/perfgate.sqlite")
_ENV_COLUMNS = (
    "cpu_model",
    "cores",
    "memory_gb",
    "os",
    "python",
    "perfgate_version",
    "runner_name",
)


class HistoryPoint(NamedTuple):
    run_id: str
    created_at: str
    value: float
    samples: int


def _compress(run: RunResult) -> bytes:
    return zlib.compress(run.to_json().encode("utf-8"), 6)


def _decompress(blob: bytes) -> RunResult:
    return RunResult.from_json(zlib.decompress(blob).decode("utf-8"))


class Store:
    """A perfgate results database (one SQLite file)."""

    def __init__(self, path: str | Path = DEFAULT_PATH, *, timeout: float = 60.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), timeout=timeout)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{self.path}: cannot open the results database: {exc}") from exc
        self.db = Database(self._conn, execute_plugins=False)
        try:
            with self._errors():
                self._enter_wal(timeout)
                self._conn.execute("PRAGMA foreign_keys=ON")
                with self._write():
                    MIGRATIONS.apply(self.db)
        except StoreError:
            self._conn.close()
            raise

    # -- plumbing ------------------------------------------------------------
    def _enter_wal(self, timeout: float) -> None:
        """Switch to WAL, waiting out another process that is switching too.

        Changing the journal mode needs the file to itself, and SQLite answers
        "database is locked" at once, without its busy handler, when another
        connection is opening or closing the same file.
        """
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(0.2, delay * 2)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction; IMMEDIATE takes the write lock up front."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (call before copying the file)."""
        with self._errors():
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        """Checkpoint, leave WAL for DELETE mode (one complete file) and close."""
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            # Fails harmlessly while another process holds the file open;
            # the last one to close switches the mode.
            self._conn.execute("PRAGMA journal_mode=DELETE")
        except sqlite3.Error:
            pass
        finally:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------
    def save_run(self, run: RunResult) -> str:
        """Store ``run`` (replacing a run with the same id); returns its run_id."""
        env = run.environment or {}
        row: dict[str, Any] = {
            "run_id": run.run_id,
            "created_at": run.created_at,
            "commit": run.commit,
            "branch": run.branch,
            "pr": run.pr,
            "profile": run.profile,
            "label": run.label,
            "config_hash": run.config_hash,
            "verdict": json.dumps(run.verdict) if run.verdict is not None else None,
            "result": _compress(run),
        }
        for key in _ENV_COLUMNS:
            row[key] = env.get(key)
        if run.tool_version and not row["perfgate_version"]:
            row["perfgate_version"] = run.tool_version
        figures = [
            {
                "run_id": run.run_id,
                "suite": f.suite,
                "metric": f.metric,
                "value": f.value,
                "unit": f.unit,
                "samples": f.samples,
            }
            for f in run_figures(run)
        ]
        histograms = [
            {"run_id": run.run_id, "suite": s.name, "metric": name, "encoded": hist.encode()}
            for s in run.suites
            for name, hist in s.aggregate.histograms.items()
        ]
        series = [
            {"run_id": run.run_id, "suite": s.name, "json": json.dumps(s.series)}
            for s in run.suites
            if s.series
        ]
        with self._errors(), self._write():
            self._delete_run_rows([run.run_id])
            self.db.table("runs").insert(row)
            if figures:
                self.db.table("figures").insert_all(figures, batch_size=500)
            if histograms:
                self.db.table("histograms").insert_all(histograms, batch_size=200)
            if series:
                self.db.table("series").insert_all(series)
        return run.run_id

    def _delete_run_rows(self, run_ids: list[str]) -> None:
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for table in ("figures", "histograms", "series", "runs"):
                self._conn.execute(f"DELETE FROM {table} WHERE run_id IN ({marks})", chunk)

    def prune(self, keep_last: int = 200, older_than_days: float | None = None) -> int:
        """Delete runs outside the newest ``keep_last`` (and, if given, older
        than ``older_than_days``); returns how many were deleted."""
        if keep_last < 0:
            raise StoreError("keep_last must be >= 0")
        with self._errors():
            rows = self._conn.execute(
                "SELECT run_id, created_at FROM runs ORDER BY created_at DESC, run_id DESC"
            ).fetchall()
            doomed = rows[keep_last:]
            if older_than_days is not None:
                cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(
                    timespec="seconds"
                )
                doomed = [r for r in doomed if r[1] < cutoff]
            if not doomed:
                return 0
            with self._write():
                self._delete_run_rows([r[0] for r in doomed])
            self._conn.execute("VACUUM")
        return len(doomed)

    # -- reading -------------------------------------------------------------
    def has_run(self, run_id: str) -> bool:
        with self._errors():
            return (
                self._conn.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone()
                is not None
            )

    def _resolve(self, run_id: str) -> str:
        """A full run id from an id or a unique prefix of one."""
        if self.has_run(run_id):
            return run_id
        with self._errors():
            found = [
                r[0]
                for r in self._conn.execute(
                    "SELECT run_id FROM runs WHERE run_id LIKE ? || '%' LIMIT 5", [run_id]
                )
            ]
        if len(found) == 1:
            return found[0]
        if not found:
            raise StoreError(f"{self.path}: no run '{run_id}' (see 'perfgate baseline list')")
        raise StoreError(f"{self.path}: '{run_id}' matches several runs: {', '.join(found)}")

    def get_run(self, run_id: str) -> RunResult:
        """The stored RunResult (``run_id`` may be a unique prefix)."""
        full = self._resolve(run_id)
        with self._errors():
            blob = self._conn.execute(
                "SELECT result FROM runs WHERE run_id = ?", [full]
            ).fetchone()[0]
        try:
            return _decompress(blob)
        except (zlib.error, ValueError, KeyError) as exc:
            raise StoreError(f"{self.path}: run {full} is unreadable: {exc}") from exc

    def run_ids(self) -> list[str]:
        with self._errors():
            return [
                r[0]
                for r in self._conn.execute("SELECT run_id FROM runs ORDER BY created_at, run_id")
            ]

    def list_runs(self, branch: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """Newest first: id, time, commit, branch, PR, profile, label, verdict state."""
        sql = (
            "SELECT run_id, created_at, [commit], branch, pr, profile, label, cpu_model, cores, "
            "config_hash, verdict FROM runs"
        )
        params: list[Any] = []
        if branch is not None:
            sql += " WHERE branch = ?"
            params.append(branch)
        sql += " ORDER BY created_at DESC, run_id DESC LIMIT ?"
        params.append(limit)
        with self._errors():
            cursor = self._conn.execute(sql, params)
            cols = [c[0] for c in cursor.description]
            rows = [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]
        for row in rows:
            verdict = json.loads(row.pop("verdict")) if row.get("verdict") else None
            row["verdict"] = verdict.get("state") if isinstance(verdict, dict) else None
        return rows

    def figures(self, run_id: str) -> list[dict[str, Any]]:
        full = self._resolve(run_id)
        with self._errors():
            cursor = self._conn.execute(
                "SELECT suite, metric, value, unit, samples FROM figures WHERE run_id = ? ORDER BY suite, metric",
                [full],
            )
            cols = [c[0] for c in cursor.description]
            return [dict(zip(cols, r, strict=True)) for r in cursor.fetchall()]

    def history(
        self,
        suite: str,
        metric: str,
        *,
        branch: str | None = None,
        fingerprint: dict[str, Any] | None = None,
        config_hash: str | None = None,
        limit: int = 20,
        exclude_run_id: str | None = None,
        label: str | None = None,
    ) -> list[HistoryPoint]:
        """The last ``limit`` values of one figure, oldest first.

        Filters are exact matches where given: ``branch``, ``config_hash``,
        ``label`` and the fingerprint's matching keys (CPU model, cores, OS;
        a None value matches NULL). The runner name is never matched.
        """
        where = ["f.suite = ?", "f.metric = ?"]
        params: list[Any] = [suite, metric]
        if branch is not None:
            where.append("r.branch = ?")
            params.append(branch)
        if config_hash is not None:
            where.append("r.config_hash = ?")
            params.append(config_hash)
        if label is not None:
            where.append("r.label = ?")
            params.append(label)
        if exclude_run_id is not None:
            where.append("r.run_id != ?")
            params.append(exclude_run_id)
        for key in MATCH_KEYS:
            if fingerprint is not None and key in fingerprint:
                where.append(f"r.{key} IS ?")
                params.append(fingerprint[key])
        sql = (
            "SELECT r.run_id, r.created_at, f.value, f.samples FROM figures f JOIN runs r ON r.run_id = f.run_id "
            f"WHERE {' AND '.join(where)} ORDER BY r.created_at DESC, r.run_id DESC LIMIT ?"
        )
        params.append(limit)
        with self._errors():
            rows = self._conn.execute(sql, params).fetchall()
        return [HistoryPoint(r[0], r[1], float(r[2]), int(r[3] or 0)) for r in reversed(rows)]

    # -- moving runs -----------------------------------------------------------
    def export_jsonl(self, target: str | Path | IO[str]) -> int:
        from perfgate.store._jsonl import export_jsonl

        return export_jsonl(self, target)

    def import_jsonl(self, source: str | Path | IO[str]) -> tuple[int, int]:
        from perfgate.store._jsonl import import_jsonl

        return import_jsonl(self, source)
