"""An API's own launch-level SDs (``perfgate calibrate``, ``ab.calibration``): the file,
the priors it gives the comparisons, and a real calibration run of a small server."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from apps.hello_server import hello_server
from perfgate.config import load_project_text
from perfgate.errors import ConfigError
from perfgate.gate.ab.calibration import (
    FORMAT,
    calibration_from,
    configured_priors,
    environment_mismatch,
    load_calibration,
    merge_calibrations,
)
from perfgate.gate.ab.launches import (
    CALIBRATED_FLOOR,
    PRIOR_LAUNCHES,
    LaunchPriors,
    launch_sd_prior,
)
from perfgate.gate.ab.stats import PEAK_RSS_METRIC, peak_rss_comparison
from perfgate.gate.compare import paired_comparison
from perfgate.store import environment_fingerprint
from perfgate.verdict import MetricComparison

HEALTH = "endpoint:/health total.p50"


def _file(tmp_path: Path, suites: dict[str, object], **extra: object) -> Path:
    path = tmp_path / "cal.json"
    path.write_text(json.dumps({"format": FORMAT, "suites": suites, **extra}))
    return path


def test_a_calibrated_sd_replaces_the_builtin_prior_with_its_own_weight() -> None:
    priors = LaunchPriors({"load": {HEALTH: (0.008, 10.0)}})
    cal = priors.prior("load", HEALTH, median_ms=0.45)
    assert (cal.sd, cal.weight, cal.calibrated) == (0.008, 10.0, True)
    # another suite, another metric: the built-in table
    other = priors.prior("other", HEALTH, median_ms=0.45)
    assert other.sd == launch_sd_prior(HEALTH, 0.45) and other.weight == PRIOR_LAUNCHES
    assert not other.calibrated
    # an absolute-scale metric has no launch offset to calibrate
    rates = LaunchPriors({"load": {"error_rate": (0.05, 10.0)}})
    assert rates.prior("load", "error_rate").sd == 0.0


def test_a_calibration_near_zero_is_floored_not_trusted() -> None:
    priors = LaunchPriors({"load": {"cpu_ms_per_request": (0.0, 5.0)}})
    got = priors.prior("load", "cpu_ms_per_request")
    assert got.sd == pytest.approx(CALIBRATED_FLOOR * launch_sd_prior("cpu_ms_per_request"))


def test_a_sub_millisecond_route_calibrated_quiet_gets_the_usual_minimum_effect() -> None:
    """The demo's prior gates /health (~0.45 ms) at ~14-16%; an API whose processes measured
    1% apart there is gated at the 5% every other median has."""
    rng = np.random.default_rng(7)
    base = (0.45 * np.exp(rng.normal(0, 0.01, 12))).tolist()
    cand = (0.45 * np.exp(rng.normal(0, 0.01, 12))).tolist()
    launches = [0] * 6 + [1] * 6
    builtin = paired_comparison(
        "load", HEALTH, "ms", base, cand, min_effect=0.05, launches=launches,
        launch_sd=LaunchPriors().prior("load", HEALTH, 0.45),
    )  # fmt: skip
    calibrated = paired_comparison(
        "load", HEALTH, "ms", base, cand, min_effect=0.05, launches=launches,
        launch_sd=LaunchPriors({"load": {HEALTH: (0.01, 12.0)}}).prior("load", HEALTH, 0.45),
    )  # fmt: skip
    assert builtin.min_effect is not None and calibrated.min_effect is not None
    assert builtin.min_effect > 0.12  # 3 SDs of ~5% (the prior, pooled with this run)
    assert calibrated.min_effect == pytest.approx(0.05, abs=0.002)
    assert calibrated.launch is not None and calibrated.launch["calibrated"] is True
    assert calibrated.launch["prior_weight"] == 12.0
    assert calibrated.launch["df_observed"] == 1  # two launches: one df of its own
    assert "calibrated prior" in calibrated.detail


def test_peak_rss_with_a_wide_calibration_does_not_cry_wolf_on_a_noisy_server() -> None:
    """The shop API's processes of one build differ ~9% in peak memory. Pooled with the
    demo's 2% prior (design e11) an A/A gap of that size was 'outside noise'; with the
    prior as a floor (e12) each arm's own ~3% spread on its two degrees of freedom
    already covers it, and the shop's calibration (pooled: it is this API's) does too."""
    aa = [(50_000, 55_000), (52_000, 56_500)]  # +10%, +8.6%: one build, two launches
    effects = {"peak_rss": 0.10}
    builtin = peak_rss_comparison("load", aa, min_effect=effects)
    shop = peak_rss_comparison(
        "load",
        aa,
        min_effect=effects,
        priors=LaunchPriors({"load": {PEAK_RSS_METRIC: (0.095, 20.0)}}),
    )
    assert builtin.ci_low is not None and builtin.ci_low < 0 < (builtin.ci_high or 0)
    assert builtin.launch and builtin.launch["prior_use"] == "floor"
    assert shop.ci_low is not None and shop.ci_low < 0 < (shop.ci_high or 0)
    assert shop.state == "within-noise" and shop.launch and shop.launch["calibrated"]
    # a real leak still clears it
    leak = peak_rss_comparison(
        "load",
        [(50_000, 80_000), (52_000, 83_000)],
        min_effect=effects,
        priors=LaunchPriors({"load": {PEAK_RSS_METRIC: (0.095, 20.0)}}),
    )
    assert leak.state == "regression"


def test_calibration_from_keeps_observed_sds_only() -> None:
    def comp(
        metric: str, launch: dict[str, object] | None, state: str = "within-noise"
    ) -> MetricComparison:
        return MetricComparison(suite="load", metric=metric, unit="ms", state=state, launch=launch)  # type: ignore[arg-type]

    got = calibration_from(
        [
            comp("total.p50", {"sd_between_observed": 0.012, "df_observed": 5}),
            comp("endpoint:/a total.p50", {"sd_between_observed": None, "df_observed": 0}),
            comp("endpoint:/b total.p50", {"sd_between_observed": 0.01, "df_observed": 5}, "insufficient"),
            comp("error_rate", None),
        ]
    )  # fmt: skip
    assert got == {"load": {"total.p50": {"sd": 0.012, "df": 5}}}


def test_peak_memory_is_calibrated_by_its_launch_ratios_not_each_arms_spread() -> None:
    """Both arms 6% lower in their second launch (an order effect they share) is no
    process-to-process spread: the ratios, which the comparison's mean uses, cancel it."""
    kept = [(100_000, 100_200), (94_000, 94_100), (100_100, 100_000)]
    c = peak_rss_comparison("load", kept, min_effect={"peak_rss": 0.10})
    assert c.launch is not None and c.launch["df_observed"] == 4  # both arms' spread
    assert c.launch["sd_between_observed"] > 0.04
    got = calibration_from([c])["load"][PEAK_RSS_METRIC]
    ratios = [math.log(b / a) for a, b in kept]
    assert got == {"sd": pytest.approx(float(np.std(ratios, ddof=1)), abs=1e-6), "df": 2}
    assert got["sd"] < 0.003


def test_merging_pools_variances_by_degrees_of_freedom() -> None:
    old = {"load": {"total.p50": {"sd": 0.01, "df": 5}, "only-old": {"sd": 0.02, "df": 2}}}
    new = {
        "load": {"total.p50": {"sd": 0.03, "df": 15}},
        "bench": {"op:x median": {"sd": 0.05, "df": 5}},
    }
    got = merge_calibrations(old, new)
    assert got["load"]["total.p50"]["df"] == 20
    assert got["load"]["total.p50"]["sd"] == pytest.approx(
        math.sqrt((5e-4 + 15 * 9e-4) / 20), abs=1e-6
    )
    assert got["load"]["only-old"] == {"sd": 0.02, "df": 2}
    assert got["bench"]["op:x median"]["df"] == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "not found; measure one with `perfgate calibrate`"),
        ("{not json", "not readable JSON"),
        ('{"format": "something-else", "suites": {}}', "is not a perfgate calibration"),
        (json.dumps({"format": FORMAT, "suites": {"load": {"m": {"sd": -1, "df": 3}}}}), "'sd' >= 0"),
        (json.dumps({"format": FORMAT, "suites": {"load": {"m": {"sd": 0.1, "df": 0}}}}), "'df' > 0"),
        (json.dumps({"format": FORMAT, "suites": []}), "'suites' must be a mapping"),
    ],
)  # fmt: skip
def test_a_bad_calibration_file_is_a_config_error_naming_it(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "cal.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_calibration(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_the_config_key_resolves_beside_the_config_and_warns_on_another_machine(
    tmp_path: Path,
) -> None:
    here = environment_fingerprint()
    _file(
        tmp_path,
        {"load": {"total.p50": {"sd": 0.02, "df": 5}}},
        environment={**here, "cpu_model": "Some Other CPU"},
    )
    cfg = load_project_text("ab: {calibration: cal.json}\n", tmp_path)
    priors, warnings = configured_priors(cfg, here)
    assert priors.prior("load", "total.p50").calibrated
    assert (
        len(warnings) == 1 and "another machine" in warnings[0] and "Some Other CPU" in warnings[0]
    )
    assert environment_mismatch({"environment": here}, here) is None


def test_a_misspelt_calibration_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_project_text("ab:\n  calibraton: cal.json\n", tmp_path)
    text = str(err.value)
    assert "ab.calibraton" in text and "calibration" in text.replace("calibraton", "")
    assert ":2" in text or "line 2" in text


SERVER = hello_server(work=2000)

SCRIPT = """\
config:
  target: http://127.0.0.1:1
  phases:
    - {duration: 10, arrivalRate: 60, name: steady}
scenarios:
  - flow:
      - get: {url: /hello}
"""

PERFGATE_YML = f"""\
service:
  start: [{sys.executable}, "{{{{ root }}}}/server.py", "{{{{ port }}}}"]
  ready: {{url: /health, timeout: 20}}
suites:
  - {{name: load, script: load.yml}}
monitor: {{enabled: false}}
ab:
  pairs: 8
  round: 0.5
  warmup: 0.3
  warmup_requests: 40
  capacity_pairs: 0
  max_lag: 1000   # this shared test machine's scheduler lag is no part of this test
  seed: 5
  calibration: ci/calibration.json
"""


def test_calibrate_writes_the_file_the_gate_then_reads(tmp_path: Path) -> None:
    """A real calibration of a small aiohttp server (3 launches per arm), then an A/B that
    compares with the file's SDs instead of the built-in ones."""
    from conftest import free_port
    from perfgate.gate.ab.run import run_ab
    from perfgate.gate.plan import plan_suites
    from perfgate.target import service_for

    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "load.yml").write_text(SCRIPT)
    (tmp_path / "perfgate.yml").write_text(PERFGATE_YML)
    # the gate refuses a configured file that is not there, before starting anything
    gate = subprocess.run(
        [sys.executable, "-m", "perfgate", "gate", "perfgate.yml", "--mode", "ab", "--base-ref", "x"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert gate.returncode == 2, gate.stderr
    assert "calibration.json not found" in gate.stderr and "perfgate calibrate" in gate.stderr

    done = subprocess.run(
        [sys.executable, "-m", "perfgate", "calibrate", "perfgate.yml", "--launches", "3",
         "--pairs-per-launch", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    path = tmp_path / "ci" / "calibration.json"
    assert f"wrote {path}" in done.stdout and "built-in prior" in done.stdout
    data = load_calibration(path)
    assert data["environment"]["cpu_model"] == environment_fingerprint()["cpu_model"]
    assert len(data["runs"]) == 1 and data["runs"][0]["launches"] == 3
    metrics = data["suites"]["load"]
    # 3 launches: 2 degrees of freedom per paired metric, measured, not the prior
    assert metrics["cpu_ms_per_request"]["df"] == 2
    assert metrics["endpoint:/hello total.p50"]["df"] == 2
    assert metrics[PEAK_RSS_METRIC]["df"] == 2  # one launch ratio per launch
    assert all(0 <= v["sd"] < 0.5 for v in metrics.values())

    cfg = load_project_text((tmp_path / "perfgate.yml").read_text(), tmp_path)
    planned = plan_suites(cfg, "pr")
    out = run_ab(
        cfg,
        planned,
        base_spec=service_for(cfg, "base", free_port(), tmp_path / "b"),
        candidate_spec=service_for(cfg, "candidate", free_port(), tmp_path / "c"),
        log=lambda _: None,
    )
    assert not out.errors, out.errors
    assert out.details["calibrated_metrics"] == sum(len(m) for m in data["suites"].values())
    by_name = {c.metric: c for c in out.comparisons if c.launch}
    hello = by_name["endpoint:/hello total.p50"]
    assert hello.launch is not None and hello.launch["calibrated"] is True
    expected = max(metrics["endpoint:/hello total.p50"]["sd"], CALIBRATED_FLOOR * 0.01)
    assert hello.launch["prior_sd"] == pytest.approx(expected, abs=1e-5)
    assert hello.launch["prior_weight"] == 2
