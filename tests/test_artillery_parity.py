"""Issue 24: the differences an 80-script corpus found between Artillery 2.0.21
and perfgate, one test per item.

Each docstring states what Artillery 2.0.21 itself did on the same script
against a local server (run by hand with ``artillery run``; these tests need
neither Artillery nor node). Every script shares the issue's shape: a
loopback target and ``phases: [{duration: 1, arrivalCount: 2}]``.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tests.conftest import free_port

from perfgate.engine.runner import run_script
from perfgate.engine.scheduler import scheduler_stats
from perfgate.errors import ConfigError
from perfgate.metrics.histogram import Histogram
from perfgate.report.artillery_json import artillery_report
from perfgate.result import SuiteResult
from perfgate.script import RequestStep, load_script, load_script_text, pick_variables

pytestmark = pytest.mark.timeout(120)


class Target:
    """A loopback API that records each request's path and Cookie header."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[tuple[str, str | None]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append((request.path_qs, request.headers.get("Cookie")))
        if request.path == "/badcookie":
            resp = web.json_response({"ok": True})
            resp.headers.add("Set-Cookie", "novalue")
            return resp
        if request.path == "/cdn":
            resp = web.json_response({"items": [1, 2], "ok": True})
            resp.headers["X-Cache"] = "Hit from cloudfront"
            return resp
        if request.path == "/private" and "a=1" not in (request.headers.get("Cookie") or ""):
            return web.json_response({"error": "login"}, status=403)
        return web.json_response({"a": [{"b": 7}], "path": request.path})

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def start(self) -> Target:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    t = Target().start()
    yield t
    t.stop()


def script_text(target: Target, body: str, config: str = "") -> str:
    """The issue's shared config plus ``config`` lines, then ``body`` (scenarios)."""
    return (
        f"config:\n  target: {target.url}\n  phases: [{{duration: 1, arrivalCount: 2}}]\n"
        + config
        + body
    )


def run(target: Target, body: str, config: str = "", **kw: Any) -> SuiteResult:
    script = load_script_text(script_text(target, body, config), **kw)
    return run_script(script, workers=1, handle_sigint=False, seed=7)


def counters(result: SuiteResult) -> dict[str, int]:
    return dict(artillery_report(result)["aggregate"]["counters"])


def config_error(text: str, **kw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_script_text(text, "s.yml", **kw)
    return info.value


# -- 1 ------------------------------------------------------------------------------------


def test_1_vusers_failed_is_written_when_zero(target: Target) -> None:
    """Artillery 2.0.21: a clean run's report has `vusers.failed: 0` (the runner
    emits the counter with 0 for every completed user), so
    `thresholds: [{vusers.failed: 1}]` and `vusers.failed == 0` pass: exit 0."""
    result = run(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /x}\n",
        "  ensure:\n    thresholds:\n      - vusers.failed: 1\n    conditions:\n"
        '      - expression: "vusers.failed == 0"\n  plugins:\n    ensure: {}\n',
    )
    assert counters(result)["vusers.failed"] == 0
    assert [c.status for c in result.checks] == ["pass", "pass"]


# -- 2 ------------------------------------------------------------------------------------


def test_2_ensure_threshold_fails_at_equality(target: Target) -> None:
    """Artillery 2.0.21, 2 virtual users, `thresholds: [{vusers.created: 2}]` with
    plugins.ensure: prints "fail: vusers.created < 2" and exits 1."""
    result = run(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /x}\n",
        "  ensure:\n    thresholds:\n      - vusers.created: 2\n  plugins:\n    ensure: {}\n",
    )
    (check,) = result.checks
    assert check.status == "fail" and check.detail == "vusers.created < 2 (got 2)"


# -- 3: tests/test_engine_scheduler.py::test_one_second_ramp_runs_the_mean_rate --------------


def test_3_one_second_ramp_runs_three_arrivals(target: Target) -> None:
    """Artillery 2.0.21: `phases: [{duration: 1, arrivalRate: 1, rampTo: 5}]` makes
    3 virtual users (createRamp: one period runs (1 + 5) / 2), not 5."""
    text = script_text(target, "scenarios:\n  - flow:\n      - get: {url: /x}\n").replace(
        "[{duration: 1, arrivalCount: 2}]", "[{duration: 1, arrivalRate: 1, rampTo: 5}]"
    )
    result = run_script(load_script_text(text), workers=1, handle_sigint=False)
    assert counters(result)["vusers.created"] == 3


# -- 4 ------------------------------------------------------------------------------------


def test_4_request_probability_is_honoured(target: Target) -> None:
    """Artillery 2.0.21: `loop: [{get: {url: /p, probability: 10}}], count: 200` with
    2 users sent 37 requests (isProbableEnough: lodash random(100) < 10, so
    10/101 of 400 = 39.6 expected); `probability: 0` sends none."""
    result = run(
        target,
        "scenarios:\n  - flow:\n      - loop:\n          - get: {url: /p, probability: 10}\n"
        "          - get: {url: /never, probability: 0}\n        count: 200\n",
    )
    sent = counters(result)["http.requests"]
    assert 15 <= sent <= 70  # binomial(400, 10/101): mean 39.6, sd 6
    assert not any(path == "/never" for path, _ in target.hits)
    assert not any("probability" in w for w in result.warnings)


# -- 5 ------------------------------------------------------------------------------------


def test_5_default_cookie_is_sent_with_the_request_cookie(target: Target) -> None:
    """Artillery 2.0.21, `defaults: {cookie: {a: "1"}}` and a request `cookie: {b: "2"}`:
    the server saw `a=1` on the first request, `a=1; b=2` on that one and on every
    later request (engine_http sets both in the user's cookie jar)."""
    target.hits.clear()
    result = run(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /private}\n"
        '      - get: {url: /c, cookie: {b: "2"}}\n      - get: {url: /after}\n',
        '  defaults:\n    cookie: {a: "1"}\n',
    )
    seen = {path: cookie for path, cookie in target.hits}
    assert seen["/private"] == "a=1"
    assert seen["/c"] == "a=1; b=2" and seen["/after"] == "a=1; b=2"
    assert counters(result).get("http.codes.403") is None
    http_defaults = run(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /private}\n",
        '  http:\n    defaults:\n      cookie: {a: "1"}\n',
    )
    assert counters(http_defaults)["http.codes.200"] == 2


def test_5_malformed_set_cookie_is_counted_and_the_user_goes_on(target: Target) -> None:
    """Artillery 2.0.21, a response with `Set-Cookie: novalue`: counts
    `errors.cookie_parse_error_invalid_cookie` once per user; the user goes on
    to its next request and completes."""
    result = run(
        target, "scenarios:\n  - flow:\n      - get: {url: /badcookie}\n      - get: {url: /x}\n"
    )
    got = counters(result)
    assert got["errors.cookie_parse_error_invalid_cookie"] == 2
    assert got["http.requests"] == 4 and got["vusers.completed"] == 2


# -- 6 ------------------------------------------------------------------------------------

EXPECT_FLOW = """scenarios:
  - flow:
      - get:
          url: /cdn
          expect:
            - cdnHit: true
            - jmespath: "length(items) == `2`"
              description: two items
            - jpath: "ok"
      - get:
          url: /cdn
          expect:
            - jmespath: "length(items) == `3`"
      - get: {url: /never}
"""


def test_6_cdnhit_jmespath_jpath_and_report_failures_as_errors(target: Target) -> None:
    """Artillery 2.0.21 on EXPECT_FLOW with `plugins: {expect: {reportFailuresAsErrors:
    true}}`, 2 users: plugins.expect.ok.cdnHit 2, .ok.jmespath 2, .ok.jpath 2,
    .failed.jmespath 2, `errors.Failed expectations for request <target>/cdn` 2,
    vusers.failed 2 (the failure ends the user: /never is not requested), exit 21."""
    target.hits.clear()
    result = run(target, EXPECT_FLOW, "  plugins:\n    expect: {reportFailuresAsErrors: true}\n")
    got = counters(result)
    assert got["plugins.expect.ok.cdnHit"] == 2
    assert got["plugins.expect.ok.jmespath"] == 2 and got["plugins.expect.ok.jpath"] == 2
    assert got["plugins.expect.failed.jmespath"] == 2
    assert got[f"errors.Failed expectations for request {target.url}/cdn"] == 2
    assert got["vusers.failed"] == 2
    assert not any(path == "/never" for path, _ in target.hits)
    assert result.extra["expect_failed"] == 2  # the CLI exits 21
    assert not result.warnings


def test_6_without_report_failures_as_errors_users_go_on(target: Target) -> None:
    """Artillery 2.0.21, the same flow with `plugins: {expect: {}}`: the failed
    jmespath check is counted, users go on and complete; exit 21."""
    result = run(target, EXPECT_FLOW, "  plugins:\n    expect: {}\n")
    got = counters(result)
    assert got["plugins.expect.failed.jmespath"] == 2 and got["vusers.completed"] == 2
    assert result.extra["expect_failed"] == 2


def test_6_invalid_jmespath_is_a_config_error(target: Target) -> None:
    """A JMESPath syntax error would throw inside the plugin's hook at run time;
    perfgate refuses it at load, naming the key."""
    err = config_error(
        script_text(target, EXPECT_FLOW.replace("length(items) == `3`", "length(items ==")),
    )
    assert "invalid JMESPath" in err.message and err.key_path is not None
    assert err.key_path.endswith("expect[0].jmespath")


# -- 7 ------------------------------------------------------------------------------------


def test_7_if_true_with_triple_equals_is_a_config_error(target: Target) -> None:
    """Artillery 2.0.21, `ifTrue: "a === 1"`: filtrex throws "Lexical error ...
    Unrecognized text", the engine catches it and sends the request anyway.
    perfgate keeps its documented promise: a config error naming the key."""
    err = config_error(
        script_text(target, 'scenarios:\n  - flow:\n      - get: {url: /x, ifTrue: "a === 1"}\n')
    )
    assert err.key_path == "scenarios[0].flow[0].get.ifTrue" and err.line == 6
    assert "write '=='" in err.message


# -- 8 ------------------------------------------------------------------------------------


def test_8_payload_options_reach_the_csv_parser(tmp_path: Path) -> None:
    """Artillery 2.0.21, pets.txt `dog Figo` with `options: {delimiter: " "}`: the
    user's vars are {"species": "dog", "name": "Figo"}. `options` overlay the
    payload's own keys (csv-parse options, camelCase or snake_case)."""
    (tmp_path / "pets.txt").write_text("# pets\ndog Figo\n'cat, grey' Tom\n")
    text = (
        "config:\n  target: http://127.0.0.1:9\n  payload:\n    path: pets.txt\n"
        '    fields: [species, name]\n    options: {delimiter: " ", comment: "#", quote: "\'"}\n'
        "    order: sequence\nscenarios:\n  - flow:\n      - get: {url: /}\n"
    )
    script = load_script_text(text, base_dir=tmp_path)
    import random

    rng = random.Random(1)
    assert pick_variables(script, rng, 0).items() >= {"species": "dog", "name": "Figo"}.items()
    assert pick_variables(script, rng, 1).items() >= {"species": "cat, grey", "name": "Tom"}.items()
    (tmp_path / "n.csv").write_text("h1,h2\n1,2\n")
    header = text.replace("pets.txt", "n.csv").replace(
        'options: {delimiter: " ", comment: "#", quote: "\'"}',
        "options: {fromLine: 2, cast: false}",
    )
    got = pick_variables(load_script_text(header, base_dir=tmp_path), rng, 0)
    assert got.items() >= {"species": "1", "name": "2"}.items()


def test_8_ragged_csv_is_refused_as_csv_parse_does(tmp_path: Path) -> None:
    """csv-parse 4.16 (Artillery's) on `1,2` then `3`: "Invalid Record Length:
    expect 2, got 1 on line 2" and Artillery does not start; `relax_column_count`
    accepts it."""
    (tmp_path / "r.csv").write_text("1,2\n3\n")
    text = (
        "config:\n  target: http://127.0.0.1:9\n  payload:\n    path: r.csv\n    fields: [a, b]\n"
        "scenarios:\n  - flow:\n      - get: {url: /}\n"
    )
    with pytest.raises(ConfigError, match="line 2 has 1 fields"):
        load_script_text(text, base_dir=tmp_path)
    relaxed = text.replace(
        "fields: [a, b]\n", "fields: [a, b]\n    options: {relax_column_count: true}\n"
    )
    assert load_script_text(relaxed, base_dir=tmp_path).payloads[0].rows == [[1, 2], [3]]


# -- 9 ------------------------------------------------------------------------------------


def test_9_accepted_by_artillery_runs_as_artillery(target: Target) -> None:
    """Artillery 2.0.21 ran this (`-v '{"t": 1}'` there; a payload-free var here),
    one user: loop `count: "2-4"` requested /loop?c=2 and /loop?c=3
    (parseLoopCount: from 2 to 4, not a random count), `$.a.0.b` captured 7,
    `think: "{{ t }}"` paused 1 s, `defaults.think: 2` was accepted (only its
    jitter is read)."""
    target.hits.clear()
    text = script_text(
        target,
        "scenarios:\n  - flow:\n"
        '      - loop:\n          - get: {url: "/loop?c={{ $loopCount }}"}\n        count: "2-4"\n'
        '      - get: {url: "/j", capture: {json: "$.a.0.b", as: v}}\n'
        '      - get: {url: "/v?v={{ v }}"}\n'
        '      - think: "{{ t }}"\n',
        "  variables: {t: 0}\n  defaults:\n    think: 2\n",
    ).replace("arrivalCount: 2", "arrivalCount: 1")
    script = load_script_text(text)
    assert any("config.defaults.think" in w for w in script.warnings)
    result = run_script(script, workers=1, handle_sigint=False)
    paths = [p for p, _ in target.hits]
    assert paths == ["/loop?c=2", "/loop?c=3", "/j", "/v?v=7"]
    assert counters(result)["vusers.completed"] == 1


def test_9_templated_think_and_count_render_per_user(target: Target) -> None:
    """engine_util templates `think` and a string `count` with the user's vars
    (a count "{{ n }}" of 3 runs 3 passes); a think that renders to no duration
    fails the user ("Invalid think time")."""
    target.hits.clear()
    result = run(
        target,
        "scenarios:\n  - flow:\n"
        '      - loop:\n          - get: {url: "/n"}\n        count: "{{ n }}"\n'
        '      - think: "{{ nothing }}"\n',
        "  variables: {n: 3}\n",
    )
    assert [p for p, _ in target.hits].count("/n") == 6
    got = counters(result)
    assert got["vusers.failed"] == 2 and got["errors.Invalid think time: undefined"] == 2


def test_9_environment_in_payload_path_and_undefined_environment(tmp_path: Path) -> None:
    """Artillery renders config templates once with `$environment` (the -e name),
    so `path: "{{ $environment }}.csv"` reads staging.csv under `-e staging`; `-e
    nosuch` prints "WARNING: environment nosuch is set but is not defined in the
    script" and runs."""
    (tmp_path / "staging.csv").write_text("alice\n")
    script_file = tmp_path / "s.yml"
    script_file.write_text(
        "config:\n  target: http://127.0.0.1:9\n  environments:\n    staging: {}\n"
        '  payload:\n    path: "{{ $environment }}.csv"\n    fields: [user]\n'
        "scenarios:\n  - flow:\n      - get: {url: /}\n"
    )
    script = load_script(script_file, environment="staging")
    assert script.payloads[0].path == tmp_path / "staging.csv"
    assert script.payloads[0].rows == [["alice"]]
    (tmp_path / "nosuch.csv").write_text("bob\n")
    other = load_script(script_file, environment="nosuch")
    assert any("environment 'nosuch' is not defined" in w for w in other.warnings)


# -- 10 -----------------------------------------------------------------------------------


def test_10_ensure_loading_follows_the_plugin(target: Target) -> None:
    """Artillery 2.0.21 loads the ensure plugin only when `config.plugins.ensure` is
    set (no "Checks:" otherwise), and then checks `config.ensure ||
    config.plugins.ensure`. perfgate checks config.ensure without the plugin too,
    saying so in a warning; with both it checks config.ensure alone and warns
    that plugins.ensure is ignored."""
    alone = load_script_text(
        script_text(
            target,
            "scenarios:\n  - flow:\n      - get: {url: /x}\n",
            "  ensure:\n    thresholds:\n      - vusers.created: 3\n",
        )
    )
    assert alone.ensure is not None
    assert any("only when config.plugins.ensure is set" in w for w in alone.warnings)
    both = load_script_text(
        script_text(
            target,
            "scenarios:\n  - flow:\n      - get: {url: /x}\n",
            "  ensure:\n    thresholds:\n      - vusers.created: 3\n  plugins:\n    ensure:\n"
            "      thresholds:\n        - vusers.created: 1\n",
        )
    )
    assert both.ensure is not None and both.ensure.thresholds == [("vusers.created", 3)]
    assert any("config.plugins.ensure" in w and "ignored" in w for w in both.warnings)


# -- 11 -----------------------------------------------------------------------------------


def test_11_apdex_counters_and_score(target: Target) -> None:
    """Artillery 2.0.21, `apdex: {threshold: 100}` and `plugins: {apdex: {}}`, 2 users x 3
    fast requests: apdex.satisfied 6, apdex.tolerated 0, apdex.frustrated 0 (all
    three written), "Apdex score: 1 (excellent)"; ensure may name `apdex`."""
    result = run(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /x}\n      - get: {url: /y}\n"
        "      - get: {url: /z}\n",
        "  apdex: {threshold: 100}\n  ensure:\n    conditions:\n      - expression: apdex > 0.9\n"
        "  plugins:\n    apdex: {}\n    ensure: {}\n",
    )
    got = counters(result)
    assert got["apdex.satisfied"] + got["apdex.tolerated"] + got["apdex.frustrated"] == 6
    assert got["apdex.tolerated"] >= 0 and got["apdex.frustrated"] >= 0
    assert [c.status for c in result.checks] == ["pass"] or got["apdex.satisfied"] < 6


def test_11_apdex_without_the_plugin_counts_nothing(target: Target) -> None:
    """Artillery loads the apdex plugin only from config.plugins: `config.apdex`
    alone writes no apdex counters. perfgate does the same and warns."""
    result = run(
        target, "scenarios:\n  - flow:\n      - get: {url: /x}\n", "  apdex: {threshold: 100}\n"
    )
    assert not any(k.startswith("apdex.") for k in counters(result))
    assert any("config.apdex" in w and "ignored" in w for w in result.warnings)


def test_11_js_processor_message_for_a_missing_function(tmp_path: Path) -> None:
    """A flow calling a function the JavaScript processor does not export: the
    message says it is not exported (Artillery would count `errors.Undefined
    function "nope"`), instead of implying the processor has it."""
    (tmp_path / "p.js").write_text("module.exports = { setToken };\nfunction setToken() {}\n")
    text = (
        "config:\n  target: http://127.0.0.1:9\n  processor: p.js\n"
        "scenarios:\n  - flow:\n      - function: setTokn\n"
    )
    with pytest.raises(ConfigError) as info:
        load_script_text(text, base_dir=tmp_path)
    assert "is not exported by the JavaScript processor p.js" in info.value.message
    assert info.value.suggestion == "setToken"


def test_11_a_short_run_is_not_generator_limited(target: Target) -> None:
    """A 1-user run of ~0 s printed "generator-limited ... generator CPU 2134%": the
    CPU share of a run shorter than a second is start-up cost. No warning now."""
    result = run(target, "scenarios:\n  - flow:\n      - get: {url: /x}\n")
    assert result.scheduler is not None and result.scheduler.generator_cpu_pct is None
    assert not any("generator-limited" in w for w in result.warnings)
    stats = scheduler_stats(Histogram(), planned=1, launched=1, skipped=0, late=0, cpu_pct=None)
    assert not stats.generator_limited


# -- phase and step typos (issue 23's item, here by request) ------------------------------


def test_phase_key_typo_names_the_key(target: Target) -> None:
    """`arivalRate:` in a phase: "unknown key 'arivalRate' (did you mean
    'arrivalRate'?)" with file, line and key path (Artillery logs "Unknown phase
    spec ... This should not happen")."""
    text = script_text(target, "scenarios:\n  - flow:\n      - get: {url: /x}\n").replace(
        "phases: [{duration: 1, arrivalCount: 2}]",
        "phases:\n    - duration: 1\n      arivalRate: 2",
    )
    err = config_error(text)
    assert str(err) == (
        "s.yml:5: config.phases[0].arivalRate: unknown key 'arivalRate' (did you mean 'arrivalRate'?)"
    )


def test_step_key_typos_name_the_key(target: Target) -> None:
    """A loop whose `count` is misspelt is an error naming the typo; a misspelt
    sibling key of a step is a warning with did-you-mean."""
    err = config_error(
        script_text(
            target,
            "scenarios:\n  - flow:\n      - loop:\n          - get: {url: /x}\n        cuont: 3\n",
        )
    )
    assert err.key_path == "scenarios[0].flow[0].cuont" and err.suggestion == "count"
    script = load_script_text(
        script_text(target, "scenarios:\n  - flow:\n      - think: 1\n        jiter: 10\n")
    )
    assert any("unknown key 'jiter'" in w and "did you mean 'jitter'" in w for w in script.warnings)


def test_cli_exit_codes_match_artillery(target: Target, tmp_path: Path) -> None:
    """Artillery 2.0.21 exit codes on these scripts: 21 for a failed expectation
    (EXPECT_FLOW), 0 for the clean item-1 script (ensure passes)."""
    expect_file = tmp_path / "e.yml"
    expect_file.write_text(script_text(target, EXPECT_FLOW, "  plugins:\n    expect: {}\n"))
    clean_file = tmp_path / "c.yml"
    clean_file.write_text(
        script_text(
            target,
            "scenarios:\n  - flow:\n      - get: {url: /x}\n",
            "  ensure:\n    thresholds:\n      - vusers.failed: 1\n  plugins:\n    ensure: {}\n",
        )
    )
    report = tmp_path / "r.json"
    codes = []
    for f in (expect_file, clean_file):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "perfgate",
                "run",
                str(f),
                "--workers",
                "1",
                "-o",
                str(report),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        codes.append(proc.returncode)
    assert codes == [21, 0]
    assert json.loads(report.read_text())["aggregate"]["counters"]["vusers.failed"] == 0


# -- beyond the list: other options read from Artillery 2's source ------------------------


def test_loop_value_and_element_names_and_a_non_list_over(target: Target) -> None:
    """engine_util's createLoopWithCount: `loopValue: i` / `loopElement: e` rename
    $loopCount / $loopElement; a count loop's element is its index; an `over`
    that is not an array runs no pass."""
    target.hits.clear()
    run(
        target,
        "scenarios:\n  - flow:\n"
        '      - loop:\n          - get: {url: "/l?i={{ i }}&e={{ e }}"}\n'
        "        over: [a, b]\n        loopValue: i\n        loopElement: e\n"
        '      - loop:\n          - get: {url: "/c?e={{ $loopElement }}"}\n        count: 1\n'
        '      - loop:\n          - get: {url: "/none"}\n        over: missing\n',
    )
    paths = [p for p, _ in target.hits]
    assert paths[:3] == ["/l?i=0&e=a", "/l?i=1&e=b", "/c?e=0"]
    assert "/none" not in paths


def test_ensure_condition_passes_only_on_one(target: Target) -> None:
    """artillery-plugin-ensure fails a check whose filtrex result is not exactly 1:
    `vusers.created` (= 2) fails, `vusers.created == 2` passes."""
    result = run(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /x}\n",
        "  ensure:\n    conditions:\n      - expression: vusers.created\n"
        "      - expression: vusers.created == 2\n  plugins:\n    ensure: {}\n",
    )
    assert [c.status for c in result.checks] == ["fail", "pass"]


def test_endpoint_metrics_strip_the_query_string_unless_configured(target: Target) -> None:
    """Artillery adds metrics-by-endpoint to every run as `{stripQueryString: true}`
    when the script does not configure it (util.js addDefaultPlugins); a
    configured plugin keeps the query string unless told otherwise. Artillery 2
    does not read `http.maxSockets` (agents are sized from `http.pool`)."""
    body = 'scenarios:\n  - flow:\n      - get: {url: "/q?page=1"}\n'
    plain = counters(run(target, body))
    assert plain["plugins.metrics-by-endpoint./q.codes.200"] == 2
    configured = counters(run(target, body, "  plugins:\n    metrics-by-endpoint: {}\n"))
    assert configured["plugins.metrics-by-endpoint./q?page=1.codes.200"] == 2
    script = load_script_text(script_text(target, body, "  http:\n    maxSockets: 4\n"))
    assert script.http.max_sockets is None
    assert any("maxSockets" in w and "ignored" in w for w in script.warnings)


def test_config_templates_render_once_as_artillery(target: Target) -> None:
    """Artillery 2.0.21 rendered this config once, before any user: `r:
    "{{ $randomNumber(1, 1000000) }}"` became one number for the whole run
    (as text), while `{{ $uuid }}` and `Bearer {{ token }}` went out as
    `undefined` / `Bearer undefined`. perfgate draws `r` once too, and warns
    where it differs (it renders the header per request). A loop `count: 0`
    loops forever in Artillery (`count || -1`): a warning, no pass here."""
    target.hits.clear()
    text = script_text(
        target,
        "scenarios:\n  - flow:\n      - get: {url: /t, capture: {json: $.path, as: token}}\n"
        '      - get: {url: "/v?r={{ r }}"}\n'
        "      - loop:\n          - get: {url: /zero}\n        count: 0\n",
        '  variables:\n    r: "{{ $randomNumber(1, 1000000) }}"\n'
        '  defaults:\n    headers:\n      authorization: "Bearer {{ token }}"\n',
    )
    script = load_script_text(text)
    assert isinstance(script.variables["r"], str) and script.variables["r"].isdigit()
    assert any("authorization" in w and "'undefined' for {{ token }}" in w for w in script.warnings)
    assert any("loops forever" in w for w in script.warnings)
    run_script(script, workers=1, handle_sigint=False)
    assert {p for p, _ in target.hits if p.startswith("/v")} == {f"/v?r={script.variables['r']}"}
    assert "/zero" not in [p for p, _ in target.hits]


def test_if_true_dotted_name_warns(target: Target) -> None:
    """filtrex 0.5.4 (Artillery's ifTrue), vars {x: {y: 2}}: `x.y == 2` is 0 and
    `x.y` undefined (a dotted name is one flat name). perfgate follows the path
    and says how Artillery differs."""
    script = load_script_text(
        script_text(target, 'scenarios:\n  - flow:\n      - get: {url: /x, ifTrue: "x.y == 2"}\n')
    )
    step = script.scenarios[0].flow[0]
    assert isinstance(step, RequestStep) and step.condition is not None
    assert step.condition({"x": {"y": 2}})
    assert any("filtrex reads 'x.y' as one variable name" in w for w in script.warnings)


def test_plugin_hooks_run_in_config_order(target: Target) -> None:
    """Artillery 2.0.21, `plugins: {apdex: {}, expect: {reportFailuresAsErrors: true}}`
    on /badcookie + EXPECT_FLOW's two /cdn requests, 2 users: apdex.satisfied 6 —
    the apdex hook is pushed first, so it counts the response whose expectation
    then ends the user. Here (EXPECT_FLOW alone): 2 users x 2 responses = 4."""
    result = run(
        target,
        EXPECT_FLOW,
        "  apdex: {threshold: 1000}\n  plugins:\n    apdex: {}\n    expect: {reportFailuresAsErrors: true}\n",
    )
    got = counters(result)
    assert got["apdex.satisfied"] + got["apdex.tolerated"] + got["apdex.frustrated"] == 4
    assert got["vusers.failed"] == 2


def test_captures_as_engine_util(target: Target) -> None:
    """Artillery 2.0.21, one user, `capture: [{header: x-id, as: a}, {header: X-Id,
    as: b, strict: false}, ...]` then `/v?a={{ a }}&b={{ b }}`: it requested
    `/v?a=h1&b=` (node lower-cases header names, so `X-Id` misses, and a
    non-strict miss sets ""); a strict `header: X-Id` capture then failed the
    user (`errors.Failed capture or match`; the next request was never sent).
    Here the same with `content-type` / `Content-Type`."""
    target.hits.clear()
    result = run(
        target,
        "scenarios:\n  - flow:\n"
        "      - get: {url: /x, capture: [{header: content-type, as: a}, {header: Content-Type, as: b, strict: false}]}\n"
        '      - get: {url: "/v?b={{ b }}"}\n'
        "      - get: {url: /x, capture: {header: Content-Type, as: d}}\n"
        "      - get: {url: /never}\n",
    )
    paths = [p for p, _ in target.hits]
    assert "/v?b=" in paths and "/never" not in paths
    got = counters(result)
    assert got["errors.Failed capture or match"] == 2 and got["vusers.failed"] == 2


def test_a_url_that_is_not_absolute_fails_the_user(target: Target) -> None:
    """engine_http prepends the target only to a URL starting with "/"; anything else
    that does not start with http ends the user with `errors.Invalid URL - <url>`
    (a `{{ next }}` never captured renders `undefined`)."""
    target.hits.clear()
    result = run(
        target,
        'scenarios:\n  - flow:\n      - get: {url: "{{ next }}"}\n      - get: {url: /after}\n',
    )
    got = counters(result)
    assert got["errors.Invalid URL - undefined"] == 2 and got["vusers.failed"] == 2
    assert target.hits == []
    static = counters(run(target, "scenarios:\n  - flow:\n      - get: {url: api/x}\n"))
    assert static["errors.Invalid URL - api/x"] == 2


def test_context_vars_every_user_has(target: Target) -> None:
    """Artillery's runner puts `target`, `$environment`, `$testId`, `$dirname`,
    `$scenarioFile` and a `$uuid` per user in every user's vars: `url: "{{ target
    }}/t?u={{ $uuid }}"` works, and a user's `$uuid` stays the same within it."""
    target.hits.clear()
    run(
        target,
        'scenarios:\n  - flow:\n      - get: {url: "{{ target }}/t?u={{ $uuid }}"}\n'
        '      - get: {url: "/t?u={{ $uuid }}"}\n',
    )
    ids = [p.split("u=")[1] for p, _ in target.hits]
    assert len(ids) == 4 and len(set(ids)) == 2


def test_qs_replaces_the_urls_query_string(target: Target) -> None:
    """Artillery 2.0.21: `get: {url: "/q?a=1", qs: {b: 2, c: [3, 4], d: "x y"}}`
    requested `/q?b=2&c=3&c=4&d=x+y` (got's searchParams replaces the URL's query)."""
    target.hits.clear()
    run(
        target,
        'scenarios:\n  - flow:\n      - get: {url: "/q?a=1", qs: {b: 2, c: [3, 4], d: "x y"}}\n',
    )
    assert {p for p, _ in target.hits} == {"/q?b=2&c=3&c=4&d=x+y"}


def test_if_true_quoted_name_warns(target: Target) -> None:
    """filtrex 0.5.4 (node): `'s' == "a"` throws "Lexical error" (Artillery then sends
    the request); filtrex 2.2.3 reads 'quoted' names. perfgate keeps the 2.2.3
    meaning and warns."""
    script = load_script_text(
        script_text(
            target, 'scenarios:\n  - flow:\n      - get: {url: /x, ifTrue: "\'s\' == \\"a\\""}\n'
        )
    )
    assert any("has no 'quoted' names" in w for w in script.warnings)


def test_match_is_checked_as_captureormatch(target: Target) -> None:
    """Artillery 2.0.21 (deprecated `match`), one user: `{json: $.a[0].b, value: 7}`
    passes, a failed `strict: false` match and a header match `value: ...` pass on,
    then `{json: $.a[0].b, value: "7"}` (a string: `!==` 7) ends the user with
    `errors.Failed capture or match`; the next request is never sent."""
    target.hits.clear()
    result = run(
        target,
        "scenarios:\n  - flow:\n"
        '      - get: {url: /x, match: {json: "$.a[0].b", value: 7}}\n'
        '      - get: {url: /x, match: [{json: "$.path", value: nope, strict: false},'
        ' {header: content-type, value: "application/json; charset=utf-8"}]}\n'
        "      - get: {url: /m1}\n"
        '      - get: {url: /x, match: {json: "$.a[0].b", value: "7"}}\n'
        "      - get: {url: /never}\n",
    )
    assert "/m1" in [p for p, _ in target.hits] and "/never" not in [p for p, _ in target.hits]
    got = counters(result)
    assert got["errors.Failed capture or match"] == 2 and got["vusers.failed"] == 2
    assert not any("match" in w for w in result.warnings)
