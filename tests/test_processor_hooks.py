"""Python processors in real runs: function steps, hooks, ifTrue/whileTrue
functions, custom metrics; plus think jitter, redirects and the report's
``period`` as Artillery writes them. Real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from tests.conftest import free_port

from perfgate.engine import run_script
from perfgate.engine.vuser import think_seconds
from perfgate.metrics import names
from perfgate.report.artillery_json import artillery_report, write_report
from perfgate.result import SuiteResult
from perfgate.script import RequestStep, ThinkStep, endpoint_name, load_script, load_script_text

pytestmark = pytest.mark.timeout(120)

HOOKS = """
import asyncio


def set_item(context, events):
    context["vars"]["item"] = "item-" + context["scenario"].replace(" ", "-")
    events.emit("counter", "app.function_calls", 1)


def add_header(request, context, events):
    request["headers"]["x-signed"] = "sig-" + context["vars"]["item"]


async def check(request, response, context, events):
    await asyncio.sleep(0)
    events.emit("counter", "app.checked", 1)
    events.emit("histogram", "app.body_len", len(response.body))
    if response.status == 200 and response.json().get("path", "").startswith("/items/"):
        events.emit("counter", "app.ok_json", 1)


def never(vars):
    return False


async def has_item(vars):
    return "item" in vars


def more(context):
    context["vars"]["polls"] = context["vars"].get("polls", 0) + 1
    return context["vars"]["polls"] < 3


def explode(context, events):
    raise ValueError("boom")
"""


class HookServer:
    """An aiohttp app in a thread; keeps (path, headers) of every request."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hits: list[tuple[str, list[tuple[str, str]]]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hits.append((request.path, list(request.headers.items())))
        if request.path == "/redirect":
            raise web.HTTPFound("/target")
        return web.json_response({"path": request.path})

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

    def paths(self) -> list[str]:
        return [p for p, _ in self.hits]

    def headers_of(self, path: str) -> list[list[tuple[str, str]]]:
        return [h for p, h in self.hits if p == path]


@pytest.fixture
def server() -> Iterator[HookServer]:
    s = HookServer()
    s._thread.start()
    assert s._ready.wait(10)
    yield s
    s._loop.call_soon_threadsafe(s._loop.stop)
    s._thread.join(10)


def _script(tmp_path: Path, url: str, flow: str, *, count: int = 2) -> Path:
    (tmp_path / "hooks.py").write_text(HOOKS)
    path = tmp_path / "s.yml"
    path.write_text(
        f"""config:
  target: "{url}"
  phases:
    - duration: 1
      arrivalCount: {count}
  processor: hooks.py
  defaults:
    headers:
      x-default: d
scenarios:
  - name: Hooked flow
    flow:
{textwrap.indent(textwrap.dedent(flow).strip(), "      ")}
"""
    )
    return path


def _run(path: Path) -> SuiteResult:
    return run_script(load_script(path), workers=1, handle_sigint=False)


FLOW = """
- function: set_item
- get:
    url: "/items/{{ item }}"
    beforeRequest: add_header
    afterResponse: check
- get:
    url: "/never"
    ifTrue: never
- get:
    url: "/ready"
    ifTrue: has_item
- loop:
    - get:
        url: "/poll"
  whileTrue: more
  count: 10
"""


def test_processor_functions_drive_the_flow_and_record_metrics(
    server: HookServer, tmp_path: Path
) -> None:
    path = _script(tmp_path, server.url, FLOW)
    result = _run(path)
    paths = server.paths()
    # the function step's var reached the URL; the before_request header arrived
    assert paths.count("/items/item-Hooked-flow") == 2
    for headers in server.headers_of("/items/item-Hooked-flow"):
        assert ("x-signed", "sig-item-Hooked-flow") in headers
        # config.defaults.headers merged once, not twice
        assert [v for k, v in headers if k.lower() == "x-default"] == ["d"]
    assert "/never" not in paths  # ifTrue named a function returning False
    assert paths.count("/ready") == 2  # an async ifTrue function returning True
    # whileTrue(context) asked after each pass: 3 passes per user, as Artillery
    assert paths.count("/poll") == 6
    agg = result.aggregate
    assert agg.counter(names.VUSERS_COMPLETED) == 2
    assert agg.counter("app.function_calls") == 2
    assert agg.counter("app.checked") == 2
    assert agg.counter("app.ok_json") == 2  # the async afterResponse saw the response
    assert agg.histograms["app.body_len"].count == 2
    report = artillery_report(result)
    assert report["aggregate"]["counters"]["app.checked"] == 2
    assert report["aggregate"]["summaries"]["app.body_len"]["count"] == 2


def test_a_raising_function_fails_that_user_only(server: HookServer, tmp_path: Path) -> None:
    flow = """
    - get:
        url: "/before"
    - function: explode
    - get:
        url: "/after"
    """
    result = _run(_script(tmp_path, server.url, flow))
    assert server.paths().count("/before") == 2
    assert "/after" not in server.paths()
    assert result.aggregate.counter(names.VUSERS_FAILED) == 2
    assert result.aggregate.counter("errors.ValueError") == 2


def test_hooks_run_in_worker_processes_and_reach_report_json(
    server: HookServer, tmp_path: Path
) -> None:
    path = _script(tmp_path, server.url, FLOW, count=4)
    out = tmp_path / "report.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfgate",
            "run",
            str(path),
            "-q",
            "--workers",
            "2",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads(out.read_text())
    agg = data["aggregate"]
    assert agg["counters"]["app.function_calls"] == 4
    assert agg["counters"]["app.ok_json"] == 4
    assert agg["summaries"]["app.body_len"]["count"] == 4
    assert server.paths().count("/poll") == 12


def test_redirects_count_every_hop_but_the_endpoint_only_once(
    server: HookServer, tmp_path: Path
) -> None:
    script = load_script_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 3}}]
scenarios:
  - flow:
      - get: {{url: "/redirect"}}
""",
        file="r.yml",
    )
    result = run_script(script, workers=1, handle_sigint=False)
    # every user followed it, the first one too (the static path hands over)
    assert server.paths().count("/target") == 3
    agg = result.aggregate
    assert agg.counter(names.HTTP_REQUESTS) == 6
    assert agg.counter("http.codes.302") == 3
    assert agg.counter("http.codes.200") == 3
    assert agg.counter(names.ENDPOINT_PREFIX + "/redirect.codes.200") == 3
    assert agg.counter(names.ENDPOINT_PREFIX + "/redirect.codes.302") == 0
    assert agg.histograms[names.endpoint_response_time("/redirect")].count == 3


def test_report_period_has_artillerys_types(server: HookServer, tmp_path: Path) -> None:
    script = load_script_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 2}}]
scenarios:
  - flow:
      - get: {{url: "/p"}}
""",
        file="p.yml",
    )
    result = run_script(script, workers=1, handle_sigint=False)
    out = tmp_path / "r.json"
    write_report(out, result)
    data = json.loads(out.read_text())
    periods = [w["period"] for w in data["intermediate"]]
    assert periods and all(isinstance(p, str) and p.isdigit() for p in periods)
    assert isinstance(data["aggregate"]["period"], int)
    assert data["aggregate"]["period"] == max(int(p) for p in periods)


def _think(text: str) -> ThinkStep:
    script = load_script_text(
        f"""
config:
  target: "http://127.0.0.1:9"
  defaults:
    think:
      jitter: "50%"
scenarios:
  - flow:
{textwrap.indent(text, "      ")}
""",
        file="t.yml",
    )
    step = script.scenarios[0].flow[0]
    assert isinstance(step, ThinkStep) and not isinstance(step, RequestStep)
    return step


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ('- think: 1\n  jitter: "10%"', 0.9, 1.1),  # a share of the think time
        ("- think: 1\n  jitter: 10", 0.99, 1.01),  # a bare number: ± ms (Artillery)
        ("- think: 1", 0.5, 1.5),  # config.defaults.think.jitter
        ("- think: 0.01\n  jitter: 50", 0.0, 0.06),  # never below zero
    ],
)
def test_think_jitter_bounds(text: str, low: float, high: float) -> None:
    step = _think(text)
    rng = random.Random(7)
    draws = [think_seconds(step, rng) for _ in range(2000)]
    assert min(draws) >= low and max(draws) <= high
    spread = high - low
    assert max(draws) - min(draws) > spread * 0.5  # it does jitter, across the range
    assert min(draws) >= 0.0


def test_a_fractional_bare_jitter_is_warned_about() -> None:
    script = load_script_text(
        """
config:
  target: "http://127.0.0.1:9"
scenarios:
  - flow:
      - think: 1
        jitter: 0.1
""",
        file="w.yml",
    )
    step = script.scenarios[0].flow[0]
    assert isinstance(step, ThinkStep) and step.jitter_ms == 0.1 and step.jitter is None
    assert any("jitter 0.1" in w and '"10%"' in w for w in script.warnings)


def test_loop_count_starts_at_zero_as_artillerys_code(server: HookServer) -> None:
    script = load_script_text(
        f"""
config:
  target: "{server.url}"
  phases: [{{duration: 1, arrivalCount: 1}}]
scenarios:
  - flow:
      - loop:
          - get: {{url: "/n/{{{{ $loopCount }}}}"}}
        count: 2
      - loop:
          - get: {{url: "/e/{{{{ $loopCount }}}}-{{{{ $loopElement }}}}"}}
        over: [a, b]
""",
        file="l.yml",
    )
    run_script(script, workers=1, handle_sigint=False)
    assert server.paths() == ["/n/0", "/n/1", "/e/0-a", "/e/1-b"]


def test_endpoint_names_keep_another_hosts_name() -> None:
    def name_of(url: str, name: str | None = None) -> str:
        return endpoint_name(
            url,
            name=name,
            strip_query_string=True,
            use_only_request_names=False,
            group_dynamic_urls=True,
            target="http://127.0.0.1:3001",
        )

    assert name_of("http://127.0.0.1:3001/p") == "/p"
    assert name_of("http://other:3001/p") == "other/p"
    assert name_of("http://other:81/p", "n") == "other:81/p (n)"
