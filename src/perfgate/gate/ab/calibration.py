"""An API's own launch-level SDs: measured by ``perfgate calibrate``, read by the gate.

The built-in priors (:mod:`perfgate.gate.ab.launches`) were measured on the
demo. Another server's processes can differ far more between two launches of
one build: a thread and a SQLite cache per connection made the shop API's
peak memory spread ~9% per launch pair against the demo's 0.2%
(docs/detection.md). A calibration file holds, per suite and metric, the
launch-level SD that A/A launches of *this* API showed and its degrees of
freedom; the gate then uses it as the prior, worth those degrees of freedom.

The file (JSON, ``format`` :data:`FORMAT`)::

    {"format": "perfgate-calibration/1",
     "environment": {...},                  # the machine it was measured on
     "runs": [{"time": ..., "commit": ..., "launches": 6, "pairs": 24}],
     "suites": {"load": {"endpoint:/api/x total.p50": {"sd": 0.0061, "df": 5}}}}

Calibrating again into the same file pools the runs (variances weighted by
their degrees of freedom), so the prior firms up with every calibration.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfgate.errors import ConfigError
from perfgate.gate.ab.launches import LaunchPriors
from perfgate.store import MATCH_KEYS
from perfgate.verdict import MetricComparison

if TYPE_CHECKING:
    from perfgate.config import ProjectConfig

__all__ = [
    "FORMAT",
    "calibration_from",
    "calibration_path",
    "configured_priors",
    "environment_mismatch",
    "load_calibration",
    "merge_calibrations",
    "priors_of",
    "write_calibration",
]

FORMAT = "perfgate-calibration/1"


def calibration_from(comparisons: Iterable[MetricComparison]) -> dict[str, dict[str, Any]]:
    """suite -> metric -> {"sd", "df"}: what each comparison's own launches showed.

    Only comparisons whose launch-level SD was estimated from this run's
    launches (``launch.df_observed`` > 0); the figure is the observed one,
    never the prior it was pooled with. A comparison that says what a
    calibration should record instead (``launch.calibration``: peak memory's
    launch-ratio spread) gives that.
    """
    out: dict[str, dict[str, Any]] = {}
    for c in comparisons:
        launch = c.launch or {}
        own = launch.get("calibration")
        observed = own["sd"] if own else launch.get("sd_between_observed")
        df = (own["df"] if own else launch.get("df_observed")) or 0
        if observed is None or df <= 0 or c.state in ("new", "insufficient"):
            continue
        out.setdefault(c.suite, {})[c.metric] = {"sd": round(float(observed), 6), "df": int(df)}
    return out


def merge_calibrations(
    old: Mapping[str, Mapping[str, Mapping[str, Any]]],
    new: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, dict[str, Any]]:
    """Both files' metrics; a metric in both gets the pooled variance and the summed df."""
    out: dict[str, dict[str, Any]] = {
        s: {m: dict(v) for m, v in ms.items()} for s, ms in old.items()
    }
    for suite, metrics in new.items():
        mine = out.setdefault(suite, {})
        for metric, v in metrics.items():
            if metric not in mine:
                mine[metric] = dict(v)
                continue
            a, b = mine[metric], v
            df = a["df"] + b["df"]
            var = (a["df"] * a["sd"] ** 2 + b["df"] * b["sd"] ** 2) / df
            mine[metric] = {"sd": round(math.sqrt(var), 6), "df": df}
    return out


def load_calibration(path: Path) -> dict[str, Any]:
    """The calibration file at ``path``, checked; ConfigError naming the file when it is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"ab.calibration: {path} not found; measure one with `perfgate calibrate`"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"ab.calibration: {path} is not readable JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(
            f"ab.calibration: {path} is not a perfgate calibration "
            f"(expected format {FORMAT!r}; written by `perfgate calibrate`)"
        )
    suites = data.get("suites")
    if not isinstance(suites, dict):
        raise ConfigError(f"ab.calibration: {path}: 'suites' must be a mapping")
    for suite, metrics in suites.items():
        if not isinstance(metrics, dict):
            raise ConfigError(f"ab.calibration: {path}: suites.{suite} must be a mapping")
        for metric, v in metrics.items():
            ok = (
                isinstance(v, dict)
                and isinstance(v.get("sd"), int | float)
                and isinstance(v.get("df"), int | float)
                and math.isfinite(v["sd"])
                and v["sd"] >= 0
                and v["df"] > 0
            )
            if not ok:
                raise ConfigError(
                    f"ab.calibration: {path}: suites.{suite}.{metric!r} needs "
                    f"'sd' >= 0 and 'df' > 0, got {v!r}"
                )
    return data


def priors_of(data: Mapping[str, Any]) -> LaunchPriors:
    """The priors a loaded calibration gives."""
    return LaunchPriors(
        {
            suite: {m: (float(v["sd"]), float(v["df"])) for m, v in metrics.items()}
            for suite, metrics in data.get("suites", {}).items()
        }
    )


def environment_mismatch(data: Mapping[str, Any], here: Mapping[str, Any]) -> str | None:
    """Why the calibration's machine is not this one (CPU model, cores, OS), or None."""
    there = data.get("environment") or {}
    differ = [
        f"{k} {there.get(k)!r} here {here.get(k)!r}"
        for k in MATCH_KEYS
        if k in there and there.get(k) != here.get(k)
    ]
    return "; ".join(differ) or None


def write_calibration(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` to ``path`` (sorted keys, so a re-calibration diffs cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)


def calibration_path(cfg: ProjectConfig) -> Path | None:
    """``ab.calibration`` resolved against the config file's directory (None: not set)."""
    if not cfg.ab.calibration:
        return None
    return (cfg.root / cfg.ab.calibration).resolve()


def configured_priors(
    cfg: ProjectConfig, environment: Mapping[str, Any]
) -> tuple[LaunchPriors, list[str]]:
    """The priors ``cfg`` asks for and any warning about them (ConfigError: a bad file).

    A calibration measured on another kind of machine is still used (it is
    closer to this API than the demo's figures), with a warning.
    """
    path = calibration_path(cfg)
    if path is None:
        return LaunchPriors(), []
    data = load_calibration(path)
    warnings = []
    mismatch = environment_mismatch(data, environment)
    if mismatch:
        warnings.append(
            f"ab.calibration {path.name} was measured on another machine ({mismatch}): "
            "its launch-level SDs may not hold here; run `perfgate calibrate` on this runner"
        )
    return priors_of(data), warnings
