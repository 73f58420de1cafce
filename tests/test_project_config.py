"""perfgate.yml: the model, strict validation with file/line/key path, per-arm templating."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from perfgate.config import load_project, load_project_text
from perfgate.errors import ConfigError
from perfgate.target import service_for

FULL = """\
service:
  setup: pip install -e .
  start: [python, -m, myapi, --port, "{{ port }}", --db, "{{ workdir }}/api.sqlite"]
  cwd: api
  env:
    DATABASE_URL: "sqlite:///{{ workdir }}/api.sqlite"
    ARM: "{{ arm }}"
    TOKEN: "{{ env.PG_TEST_TOKEN }}"
  ready: {url: /health, timeout: 45}
  stop_timeout: 5
  cpus: [1]
suites:
  - name: load
    script: perf/load.yml
    time_scale: 0.5
  - {kind: bench, suite: perf/bench.yml}
  - {name: stress, kind: stress, script: perf/load.yml}
profiles:
  pr: {budget: 90}
slo:
  p95: 250
  error_rate: "2%"
  endpoints:
    "GET /api/bounties": {p95: 150}
compare:
  min_effect: {median: 0.03}
  history: {runs: 30}
ab:
  pairs: 16
  cpus: {generator: [0], arms: [1]}
store: {path: perf/db.sqlite}
monitor: {interval: 1, timeout: 1.5}
report: {formats: [markdown, json]}
github: {comment: false}
secrets: [PG_TEST_TOKEN]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "perf").mkdir(exist_ok=True)
    (tmp_path / "perf" / "load.yml").write_text("config: {}\n")
    (tmp_path / "perf" / "bench.yml").write_text("operations: []\n")
    path = tmp_path / "perfgate.yml"
    path.write_text(textwrap.dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_project(write(tmp_path, text))
    return info.value


def test_valid_file(tmp_path: Path) -> None:
    cfg = load_project(write(tmp_path, FULL))
    assert cfg.service is not None
    assert cfg.service.ready.url == "/health" and cfg.service.ready.timeout == 45
    assert cfg.service.cpus == [1] and cfg.service.stop_timeout == 5
    assert [s.name for s in cfg.suites] == ["load", "bench", "stress"]
    assert [s.kind for s in cfg.suites] == ["load", "bench", "stress"]
    assert cfg.suites[0].path == (tmp_path / "perf" / "load.yml").resolve()
    assert [s.name for s in cfg.suites_for("pr")] == ["load", "bench"]  # stress: full only
    assert cfg.profiles["pr"].budget_s == 90 and cfg.profiles["pr"].compare == "ab"
    assert cfg.profiles["full"].compare == "history"
    assert cfg.slo.default.p95_ms == 250 and cfg.slo.default.p50_ms == 100  # default kept
    assert cfg.slo.default.error_rate == pytest.approx(0.02)
    assert cfg.slo.endpoints["GET /api/bounties"].p95_ms == 150
    assert cfg.compare.min_effect["median"] == 0.03 and cfg.compare.min_effect["p95"] == 0.15
    assert cfg.compare.history_runs == 30
    assert cfg.ab.pairs == 16 and cfg.ab.arm_cpus == [1]
    assert cfg.ab.extend_pairs == 12  # the default second look
    assert cfg.store.path == "perf/db.sqlite"
    assert cfg.monitor.interval == 1 and cfg.monitor.health_url == "/health/detailed"
    assert cfg.report.formats == ["markdown", "json"]
    assert cfg.github.comment is False
    assert cfg.root == tmp_path.resolve()


def test_directory_and_defaults(tmp_path: Path) -> None:
    write(tmp_path, "service:\n  start: ./run-api\n")
    cfg = load_project(tmp_path)  # a directory means its perfgate.yml
    assert cfg.service is not None and cfg.service.start == "./run-api"
    assert cfg.suites == [] and set(cfg.profiles) == {"pr", "full"}
    assert cfg.slo.default.p99_ms == 500 and cfg.slo.default.error_rate == 0.01


def test_service_for_renders_each_arm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PG_TEST_TOKEN", "tok-123456")
    cfg = load_project(write(tmp_path, FULL))
    base = service_for(cfg, "base", 4001, tmp_path / "arm-base", root=tmp_path / "wt")
    cand = service_for(cfg, "candidate", 4002, tmp_path / "arm-cand")
    wb, wc = (tmp_path / "arm-base").resolve(), (tmp_path / "arm-cand").resolve()
    assert base.start == ["python", "-m", "myapi", "--port", "4001", "--db", f"{wb}/api.sqlite"]
    assert cand.start[4] == "4002" and cand.start[6] == f"{wc}/api.sqlite"
    assert base.env["DATABASE_URL"] == f"sqlite:///{wb}/api.sqlite"
    assert base.env["ARM"] == "base" and cand.env["ARM"] == "candidate"
    assert base.env["TOKEN"] == "tok-123456"
    assert base.cwd == (tmp_path / "wt").resolve() / "api"  # the base runs from its worktree
    assert cand.cwd == tmp_path.resolve() / "api"
    assert base.ready_url_resolved == "http://127.0.0.1:4001/health"
    assert base.listen_port == 4001 and cand.listen_port == 4002
    assert base.log == wb / "service.log" and base.workdir == wb
    assert base.full_env()["TMPDIR"] == str(wb / "tmp")
    assert base.cpus == [1] and base.ready_timeout == 45 and base.stop_timeout == 5
    assert "tok-123456" in base.mask  # secrets are masked in log tails
    assert base.setup == "pip install -e ."


def test_ready_port_template_and_default(tmp_path: Path) -> None:
    cfg = load_project(write(tmp_path, "service:\n  start: srv\n  ready: {port: '{{ port }}'}\n"))
    assert service_for(cfg, "a", 5005, tmp_path).ready_port == 5005
    cfg2 = load_project(write(tmp_path, "service:\n  start: srv\n"))
    spec = service_for(cfg2, "a", 5006, tmp_path)
    assert spec.ready_port == 5006 and spec.ready_url is None  # TCP readiness on the arm's port


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found") as info:
        load_project(tmp_path / "nope.yml")
    assert info.value.file and info.value.file.endswith("nope.yml")


def test_wrong_type_has_line_and_key_path(tmp_path: Path) -> None:
    err = error_of(tmp_path, "service:\n  start: srv\n  ready:\n    timeout: soon\n")
    assert err.line == 4 and err.key_path == "service.ready.timeout"
    assert "expected a number" in str(err) and "perfgate.yml:4" in str(err)
    err = error_of(tmp_path, "service:\n  start: srv\n  cpus: [1, x]\n")
    assert err.key_path == "service.cpus[1]" and err.line == 3
    err = error_of(tmp_path, "service:\n  start: {python: x}\n")
    assert err.key_path == "service.start" and "a string or a list of strings" in str(err)


def test_unknown_keys_suggest(tmp_path: Path) -> None:
    err = error_of(tmp_path, "service:\n  start: srv\n  redy: {url: /health}\n")
    assert err.key_path == "service.redy" and err.suggestion == "ready" and err.line == 3
    err = error_of(tmp_path, "servce:\n  start: srv\n")
    assert err.suggestion == "service" and err.line == 1
    err = error_of(tmp_path, "monitor:\n  intervall: 2\n")
    assert err.suggestion == "interval"
    err = error_of(tmp_path, "suites:\n  - {script: perf/load.yml, profiles: [pull]}\n")
    assert err.key_path == "suites[0].profiles[0]" and err.suggestion == "full"


def test_missing_start_command(tmp_path: Path) -> None:
    err = error_of(tmp_path, "service:\n  setup: make\n  ready: {port: 3000}\n")
    assert "service.start is required" in str(err) and err.line == 1  # the service: section


def test_unknown_template_variable(tmp_path: Path) -> None:
    err = error_of(tmp_path, "service:\n  start: [srv, --port, '{{ portt }}']\n")
    assert err.key_path == "service.start[2]" and err.suggestion == "port"


def test_other_errors(tmp_path: Path) -> None:
    assert "either ready.url or ready.port" in str(
        error_of(tmp_path, "service:\n  start: srv\n  ready: {url: /h, port: 1}\n")
    )
    assert "file not found" in str(error_of(tmp_path, "suites:\n  - script: perf/missing.yml\n"))
    assert "between 0 and 1" in str(error_of(tmp_path, "slo:\n  error_rate: 5\n"))
    assert "unknown report format" in str(error_of(tmp_path, "report:\n  formats: [markdwon]\n"))
    assert "either 'service:'" in str(error_of(tmp_path, "service: {start: s}\ntarget: http://x\n"))
    err = error_of(tmp_path, "suites:\n  - {script: perf/load.yml}\n  - {script: perf/load.yml}\n")
    assert "duplicate suite name" in str(err) and err.key_path == "suites[1].name"


def test_replace_dropped_bounds_the_spare_pairs(tmp_path: Path) -> None:
    """Spares for pairs dropped for lag: 6 by default, 0 turns them off, never negative."""
    assert load_project_text("", tmp_path).ab.replace_dropped == 6
    assert load_project_text("ab:\n  replace_dropped: 0\n", tmp_path).ab.replace_dropped == 0
    assert load_project_text("ab:\n  replace_dropped: 2\n", tmp_path).ab.replace_dropped == 2
    err = error_of(tmp_path, "ab:\n  replace_dropped: -1\n")
    assert err.key_path == "ab.replace_dropped" and ">= 0" in str(err)
    err = error_of(tmp_path, "ab:\n  replace_droped: 2\n")
    assert err.suggestion == "replace_dropped"


def test_extend_pairs_zero_means_one_look(tmp_path: Path) -> None:
    from perfgate.gate.ab.design import look_level

    one = load_project_text("ab:\n  extend_pairs: 0\n", tmp_path)
    assert one.ab.extend_pairs == 0 and look_level(one.ab, one.compare.alpha) == 0.05
    two = load_project_text("ab:\n  pairs: 12\n  extend_pairs: 12\n", tmp_path)
    assert look_level(two.ab, two.compare.alpha) == pytest.approx(0.025)  # alpha/2 per look
    err = error_of(tmp_path, "ab:\n  extend_pairs: -1\n")
    assert err.key_path == "ab.extend_pairs" and ">= 0" in str(err)
    err = error_of(tmp_path, "ab:\n  extend_pair: 4\n")
    assert err.suggestion == "extend_pairs"


def test_monitor_null_disables_poll(tmp_path: Path) -> None:
    cfg = load_project_text("monitor:\n  health_url: null\n", tmp_path)
    assert cfg.monitor.health_url is None and cfg.monitor.metrics_url == "/metrics/json"
