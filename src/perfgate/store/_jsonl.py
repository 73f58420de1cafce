"""Runs as JSON lines: one RunResult dict a line, oldest first.

Import is idempotent by run_id (a run already present is skipped), so two
diverged databases merge by exporting one and importing it into the other.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from perfgate.errors import StoreError
from perfgate.result import RunResult

if TYPE_CHECKING:
    from perfgate.store._db import Store

__all__ = ["export_jsonl", "import_jsonl"]


@contextlib.contextmanager
def _open(target: str | Path | IO[str], mode: str) -> Iterator[IO[str]]:
    if isinstance(target, str | Path):
        try:
            with open(target, mode, encoding="utf-8") as fh:
                yield fh
        except OSError as exc:
            raise StoreError(f"{target}: {exc.strerror or exc}") from exc
    else:
        yield target


def export_jsonl(store: Store, target: str | Path | IO[str]) -> int:
    """Write every run of ``store``; returns the number written."""
    count = 0
    with _open(target, "w") as out:
        for run_id in store.run_ids():
            out.write(
                json.dumps(store.get_run(run_id).to_dict(), separators=(",", ":"), default=str)
            )
            out.write("\n")
            count += 1
    return count


def import_jsonl(store: Store, source: str | Path | IO[str]) -> tuple[int, int]:
    """Add the runs of a JSON-lines file; returns (imported, skipped as present)."""
    name = str(source) if isinstance(source, str | Path) else getattr(source, "name", "<stream>")
    imported = skipped = 0
    with _open(source, "r") as lines:
        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict) or "run_id" not in data:
                    raise ValueError("not a perfgate run (no run_id)")
                run = RunResult.from_dict(data)
            except (ValueError, KeyError, TypeError) as exc:
                raise StoreError(f"{name}:{lineno}: {exc}") from exc
            if store.has_run(run.run_id):
                skipped += 1
                continue
            store.save_run(run)
            imported += 1
    return imported, skipped
