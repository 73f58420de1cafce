"""The store's schema, versioned with ``sqlite_utils.Migrations``.

Each migration runs once per database, in order, inside a transaction with
the record of it having been applied. Never edit a released migration: add
a new one.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

__all__ = ["MIGRATIONS"]

MIGRATIONS = Migrations("perfgate")


@MIGRATIONS()
def m001_initial(db: Database) -> None:
    db.table("runs").create(
        {
            "run_id": str,
            "created_at": str,
            "commit": str,
            "branch": str,
            "pr": int,
            "profile": str,
            "label": str,
            "cpu_model": str,
            "cores": int,
            "memory_gb": float,
            "os": str,
            "python": str,
            "perfgate_version": str,
            "runner_name": str,  # recorded, never matched: hosted runners are fresh VMs
            "config_hash": str,
            "verdict": str,  # JSON
            "result": bytes,  # zlib-compressed RunResult JSON: the source of truth
        },
        pk="run_id",
        not_null={"created_at", "result"},
    )
    db.table("figures").create(
        {"run_id": str, "suite": str, "metric": str, "value": float, "unit": str, "samples": int},
        pk=("run_id", "suite", "metric"),
        foreign_keys=[("run_id", "runs", "run_id")],
    )
    db.table("histograms").create(
        {"run_id": str, "suite": str, "metric": str, "encoded": str},
        pk=("run_id", "suite", "metric"),
        foreign_keys=[("run_id", "runs", "run_id")],
    )
    db.table("series").create(
        {"run_id": str, "suite": str, "json": str},
        pk=("run_id", "suite"),
        foreign_keys=[("run_id", "runs", "run_id")],
    )
    db.table("runs").create_index(["branch", "created_at"], index_name="idx_runs_branch_created")
    db.table("runs").create_index(
        ["cpu_model", "cores", "os", "config_hash"], index_name="idx_runs_fingerprint"
    )
    db.table("figures").create_index(["suite", "metric"], index_name="idx_figures_metric")
