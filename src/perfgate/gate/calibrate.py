"""``perfgate calibrate``: measure this API's launch-level SDs with A/A launches.

An A/A of the checkout against itself, each arm launched ``launches`` times
(the pairs split between them, one look, no fault): every compared metric's
launch-level SD is estimated from its own launches
(:mod:`perfgate.stats.clustered`) and written to the calibration file, which
``ab.calibration`` then hands to every gate run as the prior
(:mod:`perfgate.gate.ab.calibration`). Run it on the kind of runner the gate
runs on; run it again to pool more launches into the same file.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from perfgate import __version__
from perfgate.errors import ConfigError, PerfgateError
from perfgate.gate.ab.calibration import (
    FORMAT,
    calibration_from,
    calibration_path,
    environment_mismatch,
    load_calibration,
    merge_calibrations,
    write_calibration,
)
from perfgate.gate.ab.launches import launch_sd_prior
from perfgate.gate.console import Log
from perfgate.gate.git import git_info
from perfgate.gate.plan import plan_suites
from perfgate.store import environment_fingerprint

__all__ = [
    "DEFAULT_FILE",
    "MIN_LAUNCHES",
    "CalibrateOptions",
    "CalibrationFailed",
    "CalibrationOutcome",
    "run_calibration",
]

#: Where the file goes when neither --out nor ab.calibration says.
DEFAULT_FILE = "perfgate-calibration.json"
#: Two launches give one degree of freedom per metric; three is the least
#: worth a run of its own.
MIN_LAUNCHES = 3


class CalibrationFailed(PerfgateError):
    """The A/A run ended with errors or was interrupted: nothing was written."""

    exit_code = 1


@dataclass
class CalibrateOptions:
    config: Path
    profile: str = "pr"
    launches: int = 6
    pairs_per_launch: int = 4
    out: Path | None = None  # default: ab.calibration, else DEFAULT_FILE beside the config
    fresh: bool = False  # replace the file instead of pooling into it


@dataclass
class CalibrationOutcome:
    path: Path
    measured: dict[str, dict[str, Any]]  # this run: suite -> metric -> {sd, df}
    pooled: dict[str, dict[str, Any]]  # the file now
    runs: int  # calibration runs pooled in the file
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def rows(self) -> list[dict[str, Any]]:
        """One row per metric: this run's SD, the file's pooled SD and the built-in prior."""
        out = []
        for suite, metrics in sorted(self.pooled.items()):
            for metric, pooled in sorted(metrics.items()):
                now = self.measured.get(suite, {}).get(metric)
                out.append(
                    {
                        "suite": suite,
                        "metric": metric,
                        "run_sd": None if now is None else now["sd"],
                        "run_df": None if now is None else now["df"],
                        "sd": pooled["sd"],
                        "df": pooled["df"],
                        # the built-in prior for this kind of metric (sub-ms medians aside)
                        "builtin": launch_sd_prior(metric),
                    }
                )
        return out


def run_calibration(opts: CalibrateOptions, log: Log = print) -> CalibrationOutcome:
    """Run the A/A launches and write (or pool into) the calibration file.

    Raises ConfigError for a config that cannot be calibrated,
    CalibrationFailed when the run did not finish cleanly and KeyboardInterrupt
    when it was interrupted (the file is then left as it was).
    """
    from perfgate.config import load_project
    from perfgate.gate.run import GateOptions, config_hash, measure

    if opts.launches < MIN_LAUNCHES:
        raise ConfigError(f"--launches must be at least {MIN_LAUNCHES}, got {opts.launches}")
    if opts.pairs_per_launch < 2:
        raise ConfigError(f"--pairs-per-launch must be at least 2, got {opts.pairs_per_launch}")
    cfg = load_project(opts.config)
    if cfg.service is None:
        raise ConfigError(
            f"{cfg.path}: perfgate calibrate starts the API twice per launch: it needs a 'service:'"
        )
    path = opts.out.resolve() if opts.out else calibration_path(cfg)
    if path is None:
        path = (cfg.root / DEFAULT_FILE).resolve()
    existing = None if opts.fresh or not path.exists() else load_calibration(path)
    if existing is not None:
        mismatch = environment_mismatch(existing, environment_fingerprint())
        if mismatch:
            # launch SDs of two kinds of machine are not one variance to pool
            raise ConfigError(
                f"{path} was measured on another machine ({mismatch}): pass --fresh to "
                "replace it, or --out for a file of this machine's own"
            )
    # Every launch gets its share of the pairs and of the capacity chunks; one
    # look (nothing to decide) and no calibration file read (the observed SDs
    # do not depend on a prior, and the file may not exist yet).
    ab = cfg.ab
    cfg.ab = dataclasses.replace(
        ab,
        launches=opts.launches,
        pairs=max(ab.pairs, opts.launches * opts.pairs_per_launch),
        extend_pairs=0,
        capacity_pairs=max(ab.capacity_pairs, 2 * opts.launches) if ab.capacity_pairs else 0,
        calibration=None,
    )
    planned = [p for p in plan_suites(cfg, opts.profile) if p.kind in ("load", "bench")]
    if not planned:
        raise ConfigError(f"profile {opts.profile!r} has no load or bench suite to calibrate")
    info = git_info(cfg.root)
    gate_opts = GateOptions(config=opts.config, profile=opts.profile, same_tree_base=True)
    started = time.monotonic()
    log(
        f"calibrate: A/A of the checkout, {opts.launches} launches per arm, "
        f"{cfg.ab.pairs} round pairs"
    )
    measured = measure(
        cfg, planned, gate_opts, info, config_hash(cfg, planned, opts.profile), "ab", log
    )
    if measured.interrupted:
        log(f"calibrate: interrupted; {path} unchanged")
        raise KeyboardInterrupt  # the CLI's exit 130, as every interrupted command
    if measured.errors or measured.mode != "ab":
        why = "; ".join(measured.errors) or "the A/B could not run"
        raise CalibrationFailed(f"calibration run did not finish cleanly ({why}); {path} unchanged")
    now = calibration_from(measured.comparisons)
    if not now:
        raise CalibrationFailed(f"no metric had a launch-level estimate; {path} unchanged")
    runs = list(existing.get("runs", [])) if existing else []
    runs.append(
        {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "commit": info.commit,
            "profile": opts.profile,
            "launches": opts.launches,
            "pairs": cfg.ab.pairs,
            "seed": measured.details.get("seed"),
        }
    )
    pooled = merge_calibrations(existing["suites"], now) if existing else now
    write_calibration(
        path,
        {
            "format": FORMAT,
            "tool_version": __version__,
            "environment": measured.run.environment,
            "runs": runs,
            "suites": pooled,
        },
    )
    return CalibrationOutcome(
        path=path,
        measured=now,
        pooled=pooled,
        runs=len(runs),
        warnings=list(measured.warnings),
        seconds=round(time.monotonic() - started, 1),
    )
