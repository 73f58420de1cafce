"""The Artillery script model: what a script means, as typed records.

:func:`perfgate.script.loader.load_script` parses and validates a script (Artillery 2.0.x semantics,
differences listed in docs/artillery-compat.md) into a :class:`Script`.
Everything a virtual user renders per request is compiled once here:
request steps carry :class:`~perfgate.script.template.Template` objects and
compiled ``ifTrue`` predicates, so the engine's hot path only renders.

The engine (``perfgate.engine.*``) reads these records; it never looks at
the YAML again.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from perfgate.script.template import UNDEFINED, Template

if TYPE_CHECKING:
    from perfgate.script.processor import Processor

__all__ = [
    "EXPECT_KINDS",
    "HTTP_METHODS",
    "CaptureSpec",
    "EndpointMetricsSettings",
    "EnsureSpec",
    "ExpectOptions",
    "ExpectSpec",
    "FunctionStep",
    "HttpSettings",
    "LogStep",
    "LoopStep",
    "Payload",
    "Phase",
    "RenderedRequest",
    "RequestStep",
    "Scenario",
    "Script",
    "Step",
    "ThinkStep",
    "aimed_at",
    "pick_scenario",
    "pick_variables",
]

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")

Condition = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Phase:
    """One load phase. Durations are already multiplied by ``--time-scale``.

    Exactly one kind: ``pause_s`` set (a pause), ``arrival_count`` set
    (that many arrivals spread evenly over ``duration_s``), or
    ``arrival_rate`` set (per second; with ``ramp_to`` the rate steps once
    per second from ``arrival_rate`` to ``ramp_to``). ``max_vusers`` caps
    concurrently active virtual users (arrivals over it are skipped).
    """

    index: int
    name: str | None
    duration_s: float
    arrival_rate: float | None = None
    ramp_to: float | None = None
    arrival_count: int | None = None
    pause_s: float | None = None
    max_vusers: int | None = None
    poisson: bool = False


@dataclass
class CaptureSpec:
    """One ``capture`` entry. ``kind``: "json" | "header" | "regexp".

    ``expr`` is the JSONPath / header name / regular expression (may be a
    template, see ``expr_template``); ``group`` is the regexp group (index
    or name); ``strict`` (Artillery default true) makes a failed capture end
    the virtual user.
    """

    kind: str
    expr: str
    as_name: str
    group: int | str | None = None
    strict: bool = True
    flags: str | None = None
    path: str = ""
    expr_template: Template | None = None
    # A (deprecated) ``match`` entry: compare the value with this, set no var.
    match_value: Template | None = None


# The checks artillery-plugin-expect knows (engine/expect.py implements each).
EXPECT_KINDS = (
    "statusCode",
    "notStatusCode",
    "contentType",
    "hasProperty",
    "notHasProperty",
    "equals",
    "hasHeader",
    "headerEquals",
    "matchesRegexp",
    "cdnHit",
    "jmespath",
    "jpath",
)


@dataclass
class ExpectSpec:
    """One ``expect`` entry (plugins.expect).

    ``kind``: statusCode, contentType, hasProperty, notHasProperty, equals,
    hasHeader, headerEquals, matchesRegexp. ``value`` is the raw value from
    the script (templates are rendered against the vars at check time).
    """

    kind: str
    value: Any
    path: str = ""
    value_template: Template | None = None


@dataclass
class RenderedRequest:
    """A request step rendered for one virtual user (plain data, ready to send)."""

    method: str
    url: str
    qs: dict[str, Any] | None
    headers: dict[str, str]
    json: Any
    body: Any
    form: dict[str, Any] | None
    cookie: dict[str, str] | None
    auth: dict[str, str] | None


@dataclass
class RequestStep:
    """An HTTP request step (get/post/put/patch/delete/head/options).

    Raw fields keep the script's values; ``render(vars)`` uses the compiled
    templates. ``if_true`` is the raw expression and ``condition`` its
    compiled predicate (None when absent); when ``if_true_function`` is set,
    Artillery's rule applies instead: call that processor function with the
    vars and use its truthiness. ``before_request`` /
    ``after_response`` are processor function names (scenario-level hooks
    first, then the step's own). ``path`` is the key path for messages
    (``scenarios[0].flow[1].post``).
    """

    method: str
    url: str
    path: str
    qs: dict[str, Any] | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    body: Any = None
    form: dict[str, Any] | None = None
    cookie: dict[str, Any] | None = None
    auth: dict[str, Any] | None = None
    follow_redirect: bool = True
    name: str | None = None
    capture: list[CaptureSpec] = field(default_factory=list)  # ``match`` entries last
    expect: list[ExpectSpec] = field(default_factory=list)
    if_true: str | None = None
    before_request: list[str] = field(default_factory=list)
    after_response: list[str] = field(default_factory=list)
    condition: Condition | None = None
    if_true_function: str | None = None
    has_json: bool = False
    templates: dict[str, Template] = field(default_factory=dict)
    # Artillery's isProbableEnough: sent when randint(0, 100) < probability.
    probability: float | None = None

    def render(self, context: Mapping[str, Any]) -> RenderedRequest:
        """Render url (as written: the engine joins it to the target), qs, headers
        (config default headers merged in, names lower-cased) and bodies for one
        user's vars."""
        t = self.templates

        def r(key: str) -> Any:
            tpl = t.get(key)
            return None if tpl is None else tpl.render(context)

        headers = r("headers") or {}
        cookie = r("cookie")
        body_json = r("json")
        return RenderedRequest(
            method=self.method,
            url=_as_text(r("url")),
            qs=r("qs"),
            headers={str(k): _as_text(v) for k, v in headers.items()},
            json=None if body_json is UNDEFINED else body_json,
            body=r("body"),
            form=r("form"),
            cookie=None if cookie is None else {str(k): _as_text(v) for k, v in cookie.items()},
            auth=r("auth"),
        )


@dataclass
class ThinkStep:
    """Pause the virtual user ``seconds``, with Artillery's jitter: ``jitter`` is
    a fraction of the think time (``"10%"`` -> 0.10), ``jitter_ms`` an absolute
    ± in ms (a bare number in the script, as Artillery reads it).
    ``seconds_template``: a templated think (``"{{ t }}"``), rendered per user
    and read as ``seconds`` is (a bad value fails the user)."""

    seconds: float
    jitter: float | None = None
    path: str = ""
    jitter_ms: float | None = None
    seconds_template: Template | None = None


@dataclass
class LoopStep:
    """Repeat ``steps``: ``count`` times, once per element of ``over``, or while
    ``while_true`` holds (bounded by count when both are given).

    ``over`` is a literal list or a template string naming a variable
    (render ``over_template`` against the vars). Inside, vars
    ``$loopCount`` (0-based, as Artillery's code) and ``$loopElement`` are set. ``whileTrue``:
    Artillery calls the processor function ``while_function`` before each
    iteration; perfgate also accepts an expression (``while_condition``).
    """

    steps: list[Step]
    count: int | None = None  # passes; with count_from, the range's end
    over: Any = None
    while_true: str | None = None
    path: str = ""
    over_template: Template | None = None
    while_condition: Condition | None = None
    while_function: str | None = None
    # Artillery's parseLoopCount: count "2-4" runs $loopCount 2, 3 (from..to-1).
    count_from: int = 0
    count_template: Template | None = None
    # loopValue / loopElement: the names of $loopCount / $loopElement
    index_var: str = "$loopCount"
    element_var: str = "$loopElement"


@dataclass
class LogStep:
    """Print a rendered message (``message_template``) to the run's log."""

    message: str
    path: str = ""
    message_template: Template | None = None


@dataclass
class FunctionStep:
    """Call a processor function by name."""

    name: str
    path: str = ""


Step = RequestStep | ThinkStep | LoopStep | LogStep | FunctionStep


@dataclass
class Scenario:
    """One scenario: weighted choice per virtual user (weight default 1)."""

    index: int
    name: str
    weight: float
    flow: list[Step]
    before_scenario: list[str] = field(default_factory=list)
    after_scenario: list[str] = field(default_factory=list)
    path: str = ""


@dataclass
class HttpSettings:
    """``config.http`` (+ ``config.defaults``, ``config.tls``).

    ``timeout_s`` default 10 (Artillery's default, seconds). ``pool`` None:
    one keep-alive connection per virtual user; set: a shared pool of that
    many connections.
    """

    timeout_s: float = 10.0
    pool: int | None = None
    extended_metrics: bool = False
    default_headers: dict[str, Any] = field(default_factory=dict)
    reject_unauthorized: bool = True
    max_sockets: int | None = None
    # config.http.defaults.cookie || config.defaults.cookie: sent with every request
    default_cookie: dict[str, Any] | None = None


@dataclass
class EndpointMetricsSettings:
    """``plugins.metrics-by-endpoint``. perfgate always records per-endpoint
    metrics; ``enabled`` says whether the script asked for the plugin.
    ``group_dynamic_urls`` defaults to True (perfgate's default)."""

    enabled: bool = False
    strip_query_string: bool = False
    use_only_request_names: bool = False
    group_dynamic_urls: bool = True


@dataclass
class ExpectOptions:
    """``config.plugins.expect`` options perfgate honours (the plugin's meaning).

    ``report_failures_as_errors``: a failed expectation ends the virtual user
    with ``errors.Failed expectations for request <url>`` (``<name>`` with
    ``use_only_request_names``); ``expect_default_200``: a request without
    ``expect`` expects status 200.
    """

    report_failures_as_errors: bool = False
    expect_default_200: bool = False
    use_only_request_names: bool = False


@dataclass
class EnsureSpec:
    """``config.ensure`` / ``plugins.ensure``.

    ``thresholds``: (metric name, limit), checked as ``metric < limit`` —
    legacy ``p95: 200`` becomes ("http.response_time.p95", 200).
    ``conditions``: (expression, strict); ``compiled`` holds the compiled
    predicates in the same order (evaluate over a mapping from metric names
    like ``http.response_time.p99`` to numbers). ``max_error_rate`` is a
    percentage (Artillery's meaning). ``apdex``: the apdex score is a name
    conditions may use (``config.apdex`` set, as the apdex plugin does).
    """

    thresholds: list[tuple[str, float]] = field(default_factory=list)
    conditions: list[tuple[str, bool]] = field(default_factory=list)
    max_error_rate: float | None = None
    compiled: list[Condition] = field(default_factory=list)
    apdex: bool = False


@dataclass
class Payload:
    """A CSV payload. ``rows`` are parsed (cast to numbers/bools when ``cast``).

    ``order``: "random" | "sequence". With ``load_all`` the whole table is
    exposed as one variable ``name`` (a list of dicts keyed by ``fields``).
    """

    path: Path
    fields: list[str]
    order: str = "random"
    skip_header: bool = False
    delimiter: str = ","
    cast: bool = True
    load_all: bool = False
    name: str | None = None
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Script:
    """A loaded, validated Artillery script."""

    source: Path
    target: str
    phases: list[Phase]
    http: HttpSettings
    variables: dict[str, Any]
    payloads: list[Payload]
    scenarios: list[Scenario]
    before: list[Step] = field(default_factory=list)
    after: list[Step] = field(default_factory=list)
    processor: Processor | None = None
    expect_enabled: bool = False
    expect_options: ExpectOptions = field(default_factory=lambda: ExpectOptions())
    # config.plugins' names in order: plugins' afterResponse hooks run in this order
    plugin_order: tuple[str, ...] = ()
    metrics_by_endpoint: EndpointMetricsSettings = field(default_factory=EndpointMetricsSettings)
    ensure: EnsureSpec | None = None
    apdex_threshold_ms: float | None = None
    environment: str | None = None
    warnings: list[str] = field(default_factory=list)
    time_scale: float = 1.0
    # What Artillery's runner puts in every user's vars: target, $environment,
    # $testId, $dirname, $scenarioFile (plus a $uuid per user, see pick_variables).
    context_vars: dict[str, Any] = field(default_factory=dict)


def pick_scenario(script: Script, rng: random.Random) -> Scenario:
    """Weighted choice of a scenario, as Artillery does per virtual user."""
    scenarios = script.scenarios
    if len(scenarios) == 1:
        return scenarios[0]
    return rng.choices(scenarios, weights=[s.weight for s in scenarios], k=1)[0]


def pick_variables(script: Script, rng: random.Random, vuser_index: int = 0) -> dict[str, Any]:
    """The starting vars of one virtual user.

    Artillery's context vars (``target``, ``$environment``, ``$testId``,
    ``$dirname``, ``$scenarioFile``, a ``$uuid`` per user), then
    ``config.variables`` (a list value: one element picked at random), then
    payload fields (one row per user: random, or row ``vuser_index`` modulo
    the row count for ``order: sequence``), then ``loadAll`` tables.
    """
    out: dict[str, Any] = {
        **script.context_vars,
        "$uuid": str(uuid.uuid4()),
    }
    for key, value in script.variables.items():
        out[key] = rng.choice(value) if isinstance(value, list) and value else value
    for payload in script.payloads:
        if not payload.rows:
            continue
        if payload.load_all:
            if payload.name:
                out[payload.name] = [
                    dict(zip(payload.fields, row, strict=False)) for row in payload.rows
                ]
            continue
        if payload.order == "sequence":
            row = payload.rows[vuser_index % len(payload.rows)]
        else:
            row = rng.choice(payload.rows)
        out.update(zip(payload.fields, row, strict=False))
    return out


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def aimed_at(script: Script, url: str) -> Script:
    """The same script sent to ``url`` (each A/B arm has its own port).

    Request URLs are joined to the target when they are sent, so nothing is
    re-read. A Python processor is imported afresh: each arm's module state
    (a cached token, a counter) stays its own.
    """
    from perfgate.script.processor import load_processor

    proc = script.processor
    if proc is not None and proc.language == "python":
        proc = load_processor(proc.path)
    return dataclasses.replace(script, target=url, processor=proc)
