"""The Artillery script loader: the seed scripts, every error kind, environments,
payloads, processors and --time-scale."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

import pytest

from perfgate.errors import ConfigError
from perfgate.script import (
    FunctionStep,
    LoopStep,
    RequestStep,
    ThinkStep,
    aimed_at,
    load_script,
    load_script_text,
    pick_scenario,
    pick_variables,
)

BASE = """\
config:
  target: "http://127.0.0.1:9"
  phases:
    - duration: 10
      arrivalRate: 2
scenarios:
  - flow:
      - get:
          url: "/x"
"""


def write(tmp_path: Path, text: str, name: str = "script.yml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def error_of(text: str, **kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_script_text(textwrap.dedent(text), "s.yml", **kwargs)  # type: ignore[arg-type]
    return info.value


# --- the seed scripts load unchanged ---------------------------------------------------------


def test_seed_load_test_script(seed_dir: Path) -> None:
    script = load_script(seed_dir / "artillery-load-test.yml")
    assert script.target == "http://localhost:3001"
    assert [(p.duration_s, p.arrival_rate, p.name) for p in script.phases] == [
        (60, 10, "Warm up"),
        (300, 50, "Sustained load"),
        (120, 100, "Peak load"),
        (60, 10, "Cool down"),
    ]
    assert [s.weight for s in script.scenarios] == [40, 20, 20, 10, 10]
    assert script.http.timeout_s == 30
    assert script.expect_enabled
    assert script.metrics_by_endpoint.enabled and script.metrics_by_endpoint.strip_query_string
    assert script.metrics_by_endpoint.group_dynamic_urls  # perfgate's default
    sign_in = script.scenarios[0].flow[1]
    assert isinstance(sign_in, RequestStep) and sign_in.method == "POST"
    assert [(c.kind, c.expr, c.as_name, c.strict) for c in sign_in.capture] == [
        ("json", "$.token", "authToken", True)
    ]
    assert [(e.kind, e.value) for e in sign_in.expect] == [("statusCode", [200, 401])]
    profile = script.scenarios[0].flow[2]
    assert isinstance(profile, RequestStep) and profile.if_true == "authToken"
    assert profile.condition is not None
    assert profile.condition({"authToken": "t"}) and not profile.condition({})
    # the JS processor is named but never called: one warning, no error
    assert script.processor is not None and script.processor.language == "javascript"
    assert sum("artillery-processor.js" in w for w in script.warnings) == 1
    # the never-set adminToken renders as Artillery renders it
    admin = script.scenarios[3].flow[0]
    assert isinstance(admin, RequestStep)
    assert admin.render({}).headers["authorization"] == "Bearer undefined"
    qs_step = script.scenarios[0].flow[3]
    assert isinstance(qs_step, RequestStep)
    assert qs_step.render({}).qs == {"limit": 20, "status": "open"}


def test_seed_stress_script(seed_dir: Path) -> None:
    script = load_script(seed_dir / "artillery-stress-test.yml")
    assert [(p.arrival_rate, p.ramp_to) for p in script.phases] == [
        (50, 100),
        (100, 200),
        (200, 500),
        (500, 1000),
        (1000, None),
    ]
    assert sum(p.duration_s for p in script.phases) == 360
    assert script.warnings == []
    assert script.scenarios[0].name == "Simple health check" and script.scenarios[0].weight == 1


def test_time_scale_scales_durations_and_pauses(seed_dir: Path) -> None:
    script = load_script(seed_dir / "artillery-load-test.yml", time_scale=0.01)
    assert [round(p.duration_s, 6) for p in script.phases] == [0.6, 3.0, 1.2, 0.6]
    assert script.time_scale == 0.01
    text = BASE.replace(
        "- duration: 10\n      arrivalRate: 2",
        "- pause: 20\n    - duration: 10\n      arrivalCount: 50",
    )
    scaled = load_script_text(text, time_scale=0.5)
    assert scaled.phases[0].pause_s == 10
    assert (scaled.phases[1].duration_s, scaled.phases[1].arrival_count) == (5, 50)
    with pytest.raises(ConfigError, match="time-scale"):
        load_script_text(BASE, time_scale=0)


def test_target_override_and_missing_target() -> None:
    text = BASE.replace('  target: "http://127.0.0.1:9"\n', "")
    assert load_script_text(text, target="http://127.0.0.1:8000/").target == "http://127.0.0.1:8000"
    err = error_of(text)
    assert "'target' is required" in err.message and err.line == 1
    script = load_script_text(text, target="http://127.0.0.1:8000")
    step = script.scenarios[0].flow[0]
    # The URL stays as written; the engine joins it to the target at send time,
    # so aiming the script elsewhere (an A/B arm) needs no reload.
    assert isinstance(step, RequestStep) and step.render({}).url == "/x"
    assert aimed_at(script, "http://127.0.0.1:8001").target == "http://127.0.0.1:8001"


def test_duration_strings_and_phase_kinds() -> None:
    text = """\
    config:
      target: "http://127.0.0.1:9"
      phases:
        - {duration: "30s", arrivalRate: 5, name: a}
        - {duration: "5m", arrivalRate: 1, rampTo: 10, maxVusers: 20}
        - {pause: "1h"}
        - {duration: 2, arrivalCount: 7, mode: poisson}
        - {duration: "500ms", arrivalRate: 0}
    scenarios:
      - flow: [{think: "500ms"}, {think: 2}]
    """
    script = load_script_text(textwrap.dedent(text))
    p = script.phases
    assert (p[0].duration_s, p[0].arrival_rate, p[0].name) == (30, 5, "a")
    assert (p[1].duration_s, p[1].ramp_to, p[1].max_vusers) == (300, 10, 20)
    assert p[2].pause_s == 3600
    assert (p[3].arrival_count, p[3].poisson) == (7, True)
    assert p[4].pause_s == 0.5  # a zero rate is a pause, as in Artillery
    thinks = script.scenarios[0].flow
    assert [t.seconds for t in thinks if isinstance(t, ThinkStep)] == [0.5, 2]


# --- errors: file, line, key path, did-you-mean ----------------------------------------------

ERROR_CASES = [
    # (replace this, with this, message part, key path, line)
    ("duration: 10", "duration: -5", "greater than 0", "config.phases[0].duration", 4),
    ("duration: 10", 'duration: "ten minutes"', "expected a duration", "config.phases[0].duration", 4),
    ("arrivalRate: 2", "arrivalRate: fast", "expected a number", "config.phases[0].arrivalRate", 5),
    ("arrivalRate: 2", "rampTo: 2", "needs 'arrivalRate'", "config.phases[0]", 4),
    ("  - flow:", "  - weight: -1\n    flow:", "at least 0", "scenarios[0].weight", 7),
    ("  - flow:", "  - weight: 0\n    flow:", "add up to 0", "scenarios", 6),
    ('url: "/x"', 'url: "/x"\n          capture: [{json: "$.a"}]', "'as' is required", None, 10),
    ('url: "/x"', 'url: "/x"\n          capture: {json: "$.a", as: a}\n          ifTrue: "a >"', "invalid expression", None, 11),
    ('url: "/x"', 'url: "/x"\n          capture: {json: "$[?(@.a)]", as: a}', "unsupported JSONPath", None, 10),
    ('url: "/x"', 'headers: {}', "'url' is required", "scenarios[0].flow[0].get", 8),
    ("      - get:", "      - gett:", "unknown step 'gett'", "scenarios[0].flow[0].gett", 8),
    ("      - get:", "      - loop:\n        - get: {url: /y}\n        sleep: 1\n      - get:", "needs 'count'", "scenarios[0].flow[0]", 8),
    ("  - flow:", "  - engine: ws\n    flow:", "not supported", "scenarios[0].engine", 7),
    ("      - get:", "      - function: doThing\n      - get:", "no config.processor", "scenarios[0].flow[0].function", 8),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "message", "key_path", "line"), ERROR_CASES)
def test_errors_name_file_line_and_key_path(
    old: str, new: str, message: str, key_path: str | None, line: int
) -> None:
    assert old in BASE
    err = error_of(BASE.replace(old, new, 1))
    assert message in str(err)
    assert err.file == "s.yml"
    assert err.line == line, str(err)
    if key_path is not None:
        assert err.key_path == key_path, str(err)
    assert str(err).startswith(f"s.yml:{line}: ")


def test_capture_error_key_path_matches_the_issue_example() -> None:
    text = (
        BASE
        + '  - flow:\n      - get: {url: /a}\n      - get: {url: /b}\n      - post:\n          url: /c\n          capture:\n            - json: "$.id"\n'
    )
    err = error_of(text)
    assert str(err) == "s.yml:16: scenarios[1].flow[2].post.capture[0]: 'as' is required"


def test_step_typo_suggests_the_nearest_step() -> None:
    err = error_of(BASE.replace("      - get:", "      - gett:"))
    assert err.suggestion == "get"


def test_unknown_keys_warn_with_suggestion_and_never_crash() -> None:
    text = BASE.replace("arrivalRate: 2", "arrivalRate: 2\n      arivalCount: 3").replace(
        'url: "/x"', 'url: "/x"\n          hedaers: {a: b}'
    )
    script = load_script_text(text, "s.yml")
    joined = "\n".join(script.warnings)
    assert "s.yml:6: config.phases[0].arivalCount: unknown key 'arivalCount'" in joined
    assert "did you mean 'arrivalCount'?" in joined
    assert "did you mean 'headers'?" in joined


def test_bad_yaml_and_wrong_shapes() -> None:
    assert error_of("config: [unclosed").message.startswith("invalid YAML")
    assert "the script is empty" in error_of("").message
    assert "expected a mapping" in error_of("- a\n- b\n").message
    err = error_of(
        BASE.replace(
            'scenarios:\n  - flow:\n      - get:\n          url: "/x"\n', "scenarios: []\n"
        )
    )
    assert "at least one scenario" in err.message
    err = error_of(BASE.split("scenarios:")[0])
    assert "'scenarios' is missing" in err.message


# --- environments, variables, payloads ---------------------------------------------------------


def test_environment_merges_over_config() -> None:
    text = BASE.replace(
        "  phases:",
        '  environments:\n    ci:\n      target: "http://127.0.0.1:7"\n      http: {timeout: 3}\n      phases:\n        - {duration: 1, arrivalRate: 9}\n  http: {timeout: 20, pool: 4}\n  phases:',
    )
    plain = load_script_text(text)
    assert plain.target == "http://127.0.0.1:9" and plain.http.timeout_s == 20
    ci = load_script_text(text, environment="ci")
    assert ci.target == "http://127.0.0.1:7" and ci.environment == "ci"
    assert ci.http.timeout_s == 3 and ci.http.pool == 4  # deep merge keeps pool
    assert [(p.duration_s, p.arrival_rate) for p in ci.phases] == [(1, 9)]
    # Artillery (util.js checkConfig) warns "environment cii is set but is not defined"
    # and runs with config as it is: so does perfgate (issue 24 item 9).
    other = load_script_text(text, environment="cii")
    assert other.target == "http://127.0.0.1:9"
    assert any("environment 'cii' is not defined" in w and "did you mean 'ci'" in w
               for w in other.warnings)  # fmt: skip
    bad = text.replace("phases:\n        - {duration: 1,", "phases:\n        - {duration: -1,")
    err = error_of(bad, environment="ci")
    assert err.key_path == "config.phases[0].duration" and err.line == 8  # the environment's line


def test_variables_picked_per_virtual_user() -> None:
    text = BASE.replace(
        "  phases:", '  variables:\n    email: ["a", "b", "c"]\n    password: "pw"\n  phases:'
    )
    script = load_script_text(text)
    rng = random.Random(1)
    picks = [pick_variables(script, rng) for _ in range(300)]
    assert {p["email"] for p in picks} == {"a", "b", "c"}
    assert all(p["password"] == "pw" for p in picks)


def test_payload_csv_relative_to_script(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "users.csv").write_text("user,pin\nann,0012\nbob,77\ncat,3.5\n")
    text = BASE.replace(
        "  phases:",
        "  payload:\n    path: data/users.csv\n    fields: [name, pin]\n    skipHeader: true\n    order: sequence\n  phases:",
    )
    script = load_script(write(tmp_path, text))
    payload = script.payloads[0]
    assert payload.rows == [["ann", 12], ["bob", 77], ["cat", 3.5]]
    rng = random.Random(0)
    assert [pick_variables(script, rng, i)["name"] for i in range(4)] == [
        "ann",
        "bob",
        "cat",
        "ann",
    ]
    load_all = text.replace("order: sequence", "loadAll: true\n    name: users\n    cast: false")
    script = load_script(write(tmp_path, load_all))
    users = pick_variables(script, rng)["users"]
    assert users[0] == {"name": "ann", "pin": "0012"}
    missing = text.replace("data/users.csv", "data/nope.csv")
    with pytest.raises(ConfigError, match="payload file not found") as info:
        load_script(write(tmp_path, missing))
    assert info.value.key_path == "config.payload.path"
    semicolon = tmp_path / "semi.csv"
    semicolon.write_text("x;1\ny;2\n")
    script = load_script_text(
        text.replace("data/users.csv", "semi.csv").replace("skipHeader: true", 'delimiter: ";"'),
        base_dir=tmp_path,
    )
    assert script.payloads[0].rows == [["x", 1], ["y", 2]]


def test_weighted_scenario_pick_follows_weights(seed_dir: Path) -> None:
    script = load_script(seed_dir / "artillery-load-test.yml")
    rng = random.Random(7)
    counts: dict[str, int] = {}
    for _ in range(20_000):
        name = pick_scenario(script, rng).name
        counts[name] = counts.get(name, 0) + 1
    assert 0.37 < counts["Core API Flow"] / 20_000 < 0.43
    assert 0.08 < counts["Health Checks"] / 20_000 < 0.12


# --- ensure, plugins, http --------------------------------------------------------------------


def test_ensure_thresholds_conditions_and_legacy_keys() -> None:
    """artillery-plugin-ensure checks `config.ensure || config.plugins.ensure`: with
    both, config.ensure alone (issue 24 item 10); legacy keys are min, max,
    median, p95, p99 only, each `http.response_time.<key> < parseInt(value)`."""
    text = BASE.replace(
        "  phases:",
        "  ensure:\n    p95: 200.7\n    p90: 100\n    maxErrorRate: 1\n  plugins:\n    ensure:\n      thresholds:\n        - http.response_time.p99: 300\n    apdex: {threshold: 100}\n    somethingElse: {}\n  phases:",
    )
    script = load_script_text(text)
    assert script.ensure is not None
    assert script.ensure.thresholds == [("http.response_time.p95", 200)]
    assert script.ensure.max_error_rate == 1
    assert any("config.plugins.ensure" in w and "ignored" in w for w in script.warnings)
    assert any("'p90'" in w for w in script.warnings)
    assert script.apdex_threshold_ms == 100
    assert any("somethingElse" in w for w in script.warnings)
    plugin_only = BASE.replace(
        "  phases:",
        "  plugins:\n    ensure:\n      thresholds:\n        - http.response_time.p99: 300\n      conditions:\n        - expression: http.response_time.p99 < 100 and http.request_rate > 10\n          strict: false\n  phases:",
    )
    script = load_script_text(plugin_only)
    assert script.ensure is not None
    assert script.ensure.thresholds == [("http.response_time.p99", 300)]
    assert script.ensure.conditions == [
        ("http.response_time.p99 < 100 and http.request_rate > 10", False)
    ]
    check = script.ensure.compiled[0]
    assert check({"http.response_time.p99": 50, "http.request_rate": 20})
    assert not check({"http.response_time.p99": 150, "http.request_rate": 20})


def test_http_settings_and_default_headers() -> None:
    text = BASE.replace(
        "  phases:",
        "  http:\n    timeout: 2.5\n    pool: 8\n    extendedMetrics: true\n    defaults:\n      headers: {X-Team: perf}\n  tls: {rejectUnauthorized: false}\n  phases:",
    ).replace(
        'url: "/x"',
        'url: "/x"\n          headers: {x-team: override, Authorization: "Bearer {{ t }}"}',
    )
    script = load_script_text(text)
    assert (script.http.timeout_s, script.http.pool, script.http.extended_metrics) == (2.5, 8, True)
    assert not script.http.reject_unauthorized
    step = script.scenarios[0].flow[0]
    assert isinstance(step, RequestStep)
    assert step.render({"t": "tok"}).headers == {
        "x-team": "override",
        "authorization": "Bearer tok",
    }
    assert load_script_text(BASE).http.timeout_s == 10  # Artillery's default


# --- processors --------------------------------------------------------------------------------

HOOKS = """\
def setUser(context, events):
    context["vars"]["user"] = "u1"

async def addHeader(request, context, events):
    request["headers"]["x-hook"] = "1"

def isReady(vars):
    return True
"""


def test_python_processor_functions_and_hooks(tmp_path: Path) -> None:
    (tmp_path / "hooks.py").write_text(HOOKS)
    text = BASE.replace("  phases:", "  processor: hooks.py\n  phases:").replace(
        "  - flow:",
        "  - beforeRequest: addHeader\n    flow:\n      - function: setUser\n      - loop:\n        - think: 0.1\n        whileTrue: isReady\n        count: 2",
    )
    script = load_script(write(tmp_path, text))
    assert script.processor is not None and script.processor.language == "python"
    assert set(script.processor.functions) >= {"setUser", "addHeader", "isReady"}
    flow = script.scenarios[0].flow
    assert isinstance(flow[0], FunctionStep) and flow[0].name == "setUser"
    assert isinstance(flow[1], LoopStep) and flow[1].while_function == "isReady"
    assert isinstance(flow[2], RequestStep) and flow[2].before_request == ["addHeader"]
    typo = text.replace("function: setUser", "function: setUsr")
    err_info = pytest.raises(ConfigError)
    with err_info as info:
        load_script(write(tmp_path, typo))
    assert (
        info.value.key_path == "scenarios[0].flow[0].function"
        and info.value.suggestion == "setUser"
    )


def test_js_processor_called_from_the_flow_is_refused(tmp_path: Path, seed_dir: Path) -> None:
    (tmp_path / "p.js").write_text((seed_dir / "artillery-processor.js").read_text())
    text = BASE.replace("  phases:", "  processor: ./p.js\n  phases:").replace(
        'url: "/x"', 'url: "/x"\n          afterResponse: logResponse'
    )
    with pytest.raises(ConfigError) as info:
        load_script(write(tmp_path, text))
    err = info.value
    assert err.key_path == "scenarios[0].flow[0].get.afterResponse"
    assert "JavaScript" in err.message and "logResponse" in err.message and err.line == 11


def test_broken_python_processor_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("raise RuntimeError('boom')\n")
    text = BASE.replace("  phases:", "  processor: bad.py\n  phases:")
    with pytest.raises(ConfigError, match="failed to import: RuntimeError: boom") as info:
        load_script(write(tmp_path, text))
    assert info.value.key_path == "config.processor"
