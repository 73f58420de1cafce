"""Crashes: the target died mid-run — when, how, its last words, what came before."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Crash", "crash_of"]


@dataclass(frozen=True)
class Crash:
    at_s: float | None  # on the run's clock (seconds after the load started)
    exit_code: int | None
    signal: int | None
    description: str
    log_tail: str
    responses_before: int  # answered before the death: the results kept

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        when = f"{self.at_s:.1f} s into the run" if self.at_s is not None else "during the run"
        return f"target died {when} ({self.description}) after {self.responses_before} responses"


def crash_of(
    monitor: Mapping[str, Any], series: Sequence[Mapping[str, Any]], *, shift_s: float = 0.0
) -> Crash | None:
    """The crash in ``monitor["death"]`` (B's ServiceDeath dict), on the run's clock.

    ``at_s`` in the death record counts from the service's start; ``shift_s``
    is the run's start on that clock (run_t = at_s - shift_s).
    """
    death = monitor.get("death")
    if not death:
        return None
    at = death.get("at_s")
    at_run = None if at is None else round(float(at) - shift_s, 3)
    before = sum(
        int(r.get("responses", 0)) for r in series if at_run is None or float(r["t"]) <= at_run
    )
    code, sig = death.get("exit_code"), death.get("signal")
    description = death.get("description") or (
        f"killed by signal {sig}" if sig else f"exit code {code}"
    )
    return Crash(
        at_s=at_run,
        exit_code=code,
        signal=sig,
        description=str(description),
        log_tail=str(death.get("log_tail") or ""),
        responses_before=before,
    )
