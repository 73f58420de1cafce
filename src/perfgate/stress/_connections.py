"""Connections: errors and resets counted; open connections back to idle after the run.

The open-connection series and the cleanup comparison are the monitor's
(``perfgate.target.monitor``); this module puts them on the run's clock and reads
the health endpoint's database check ("database connections managed").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from perfgate.metrics import MetricSet, names
from perfgate.target import CleanupVerdict, idle_connections_returned

__all__ = [
    "CONNECTION_ERROR_CODES",
    "DatabaseHealth",
    "cleanup_verdict",
    "connection_errors",
    "database_health",
]

#: Transport error codes that are about the connection itself.
CONNECTION_ERROR_CODES = frozenset(
    {"ECONNRESET", "ECONNREFUSED", "EPIPE", "ECONNABORTED", "EADDRNOTAVAIL", "EMFILE", "ESOCKET"}
)


def connection_errors(aggregate: MetricSet) -> dict[str, int]:
    """Connection errors by code (resets, refusals...), from the run's counters."""
    out: dict[str, int] = {}
    for key, value in aggregate.counters.items():
        if key.startswith(names.ERRORS_PREFIX):
            code = key[len(names.ERRORS_PREFIX) :]
            if code in CONNECTION_ERROR_CODES and value:
                out[code] = value
    return out


def cleanup_verdict(
    monitor: Mapping[str, Any],
    *,
    load_start_s: float,
    load_end_s: float,
    shift_s: float = 0.0,
    tolerance: int = 2,
) -> CleanupVerdict | None:
    """Did established connections return to their idle level? None when not counted."""
    if not (monitor.get("available") or {}).get("connections") or not monitor.get("connections"):
        return None
    return idle_connections_returned(
        monitor["connections"],
        load_start_t=load_start_s + shift_s,
        load_end_t=load_end_s + shift_s,
        tolerance=tolerance,
    )


@dataclass(frozen=True)
class DatabaseHealth:
    answered: int  # polls of the health endpoint that got an answer
    unanswered: int  # timeouts, refused (the API was busy or gone)
    failing: int  # answered, but the database check (or the status) said not ok
    example: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def database_health(monitor: Mapping[str, Any]) -> DatabaseHealth | None:
    """Read the polled health endpoint: a database check that is not ``ok`` counts as failing.

    Without a database field the HTTP status decides (5xx: failing). None
    when the health endpoint was not polled.
    """
    rows = monitor.get("health") or []
    if not rows:
        return None
    answered = unanswered = failing = 0
    example = ""
    for row in rows:
        if row.get("status") is None:
            unanswered += 1
            continue
        answered += 1
        fields = row.get("fields") or {}
        db = next((v for k, v in fields.items() if k.lower().endswith("database.status")), None)
        bad = (db is not None and str(db).lower() not in {"ok", "up", "healthy", "pass"}) or (
            db is None and int(row["status"]) >= 500
        )
        if bad:
            failing += 1
            if not example:
                example = f"t={row.get('t')} s: HTTP {row['status']}, database {db!r}"
    return DatabaseHealth(answered, unanswered, failing, example)
