"""The results store (SQLite) and the baseline branch it travels on.

- :class:`Store` — save, read, query history, prune, export/import JSON lines
- :func:`environment_fingerprint` — what a run is matched on
- :func:`fetch_baseline` / :func:`push_run` / :func:`prune_branch` — the database on a git branch
"""

from perfgate.store._db import DEFAULT_PATH, HistoryPoint, Store
from perfgate.store._fingerprint import MATCH_KEYS, environment_fingerprint
from perfgate.store._sync import (
    DEFAULT_BRANCH,
    DEFAULT_FILE,
    PushOutcome,
    fetch_baseline,
    prune_branch,
    push_run,
)

__all__ = [
    "DEFAULT_BRANCH",
    "DEFAULT_FILE",
    "DEFAULT_PATH",
    "MATCH_KEYS",
    "HistoryPoint",
    "PushOutcome",
    "Store",
    "environment_fingerprint",
    "fetch_baseline",
    "prune_branch",
    "push_run",
]
