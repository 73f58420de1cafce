"""Loading an Artillery script: the ``config`` section, then the flows.

Order: parse YAML (lines kept) -> merge ``-e`` environment -> config
(target, phases, http, variables, payload, plugins, ensure, processor) ->
scenarios/before/after -> check every processor reference. Any problem is a
ConfigError naming file, line and key path; unknown keys are warnings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from perfgate.config import Located, child_path, load_yaml, load_yaml_text, suggest
from perfgate.errors import ConfigError
from perfgate.script._config_vars import config_time_vars, render_config
from perfgate.script._flow import FlowContext, parse_flow, parse_scenarios
from perfgate.script._payload import parse_payloads
from perfgate.script._values import as_bool, as_duration, as_number, as_str, raise_on_typo
from perfgate.script.conditions import compile_condition
from perfgate.script.model import (
    EndpointMetricsSettings,
    EnsureSpec,
    HttpSettings,
    LoopStep,
    Phase,
    RequestStep,
    Script,
)
from perfgate.script.processor import Processor, load_processor

__all__ = ["load_script", "load_script_text"]

TOP_KEYS = ("config", "scenarios", "before", "after")
CONFIG_KEYS = (
    "target", "phases", "environments", "variables", "payload", "defaults", "http", "tls",
    "plugins", "ensure", "processor", "engines", "includeFiles", "timeout", "statsInterval",
    "apdex", "ws", "socketio", "name",
)  # fmt: skip
PHASE_KEYS = (
    "duration",
    "arrivalRate",
    "rampTo",
    "arrivalCount",
    "pause",
    "maxVusers",
    "name",
    "mode",
)
DEFAULTS_KEYS = ("headers", "think", "cookie", "strictCapture")
HTTP_KEYS = ("timeout", "pool", "extendedMetrics", "defaults", "maxSockets", "cookieJarOptions")
# artillery-plugin-ensure reads only these legacy keys (LEGACY_CONDITIONS).
LEGACY_ENSURE = ("min", "max", "median", "p95", "p99")
ENSURE_KEYS = ("thresholds", "conditions", "maxErrorRate", *LEGACY_ENSURE)
# outputFormat/formatter/suppressOutput change only what the plugin prints.
EXPECT_OPTION_KEYS = ("reportFailuresAsErrors", "expectDefault200", "useOnlyRequestNames",
                      "outputFormat", "formatter", "suppressOutput")  # fmt: skip
KNOWN_PLUGINS = ("expect", "ensure", "metrics-by-endpoint", "apdex")
DEFAULT_USER_AGENT = "perfgate (Artillery-compatible; https://github.com/perfgate)"


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _apply_environment(doc: Located, config: dict[str, Any], environment: str) -> dict[str, Any]:
    envs = doc.expect_mapping(config.get("environments"), "config.environments")
    if environment not in envs:
        # Artillery warns and runs with config as it is (util.js checkConfig).
        known = ", ".join(sorted(envs)) or "none defined"
        hint = suggest(environment, envs)
        doc.warn("config.environments", f"environment '{environment}' is not defined ({known}); "
                 "running with config as it is, as Artillery does"
                 + (f" (did you mean '{hint}'?)" if hint else ""))  # fmt: skip
        return config
    prefix = child_path("config.environments", environment)
    env_config = doc.expect_mapping(envs[environment], prefix)
    for path, line in list(
        doc.lines.items()
    ):  # messages about merged keys point at the environment
        if path.startswith(prefix + ".") or path.startswith(prefix + "["):
            doc.lines["config" + path[len(prefix) :]] = line
    return _deep_merge(config, env_config)


def _phases(doc: Located, value: Any, time_scale: float) -> list[Phase]:
    if value is None:
        doc.warn("config", "no 'phases': one virtual user is started")
        return [Phase(index=0, name=None, duration_s=1.0 * time_scale, arrival_count=1)]
    items = doc.expect_list(value, "config.phases")
    if not items:
        raise doc.error("config.phases", "at least one phase is required")
    out: list[Phase] = []
    for i, raw in enumerate(items):
        path = child_path("config.phases", i)
        spec = doc.expect_mapping(raw, path)
        if not any(k in spec for k in ("arrivalRate", "arrivalCount", "pause")):
            # Without its kind the phase is broken: a key close to a known one is the typo.
            raise_on_typo(doc, spec, path, PHASE_KEYS)
        doc.check_keys(spec, path, PHASE_KEYS, strict=False)
        name = (
            as_str(doc, spec["name"], child_path(path, "name"))
            if spec.get("name") is not None
            else None
        )
        mode = spec.get("mode", "uniform")
        if mode not in ("uniform", "poisson"):
            raise doc.error(
                child_path(path, "mode"), f"expected 'uniform' or 'poisson', got {mode!r}"
            )
        max_vusers = None
        if spec.get("maxVusers") is not None:
            max_vusers = int(
                as_number(
                    doc, spec["maxVusers"], child_path(path, "maxVusers"), minimum=1, integer=True
                )
            )
        common: dict[str, Any] = {
            "index": i,
            "name": name,
            "max_vusers": max_vusers,
            "poisson": mode == "poisson",
        }
        if "pause" in spec:
            pause = as_duration(doc, spec["pause"], child_path(path, "pause")) * time_scale
            out.append(Phase(duration_s=pause, pause_s=pause, **common))
            continue
        if "duration" not in spec:
            raise doc.error(path, "'duration' is required (or give 'pause')")
        duration = (
            as_duration(doc, spec["duration"], child_path(path, "duration"), allow_zero=False)
            * time_scale
        )
        if "arrivalCount" in spec:
            count = as_number(
                doc, spec["arrivalCount"], child_path(path, "arrivalCount"), minimum=0, integer=True
            )
            out.append(Phase(duration_s=duration, arrival_count=int(count), **common))
            continue
        if "arrivalRate" not in spec:
            hint = " ('rampTo' needs 'arrivalRate')" if "rampTo" in spec else ""
            raise doc.error(path, f"a phase needs 'arrivalRate', 'arrivalCount' or 'pause'{hint}")
        rate = as_number(doc, spec["arrivalRate"], child_path(path, "arrivalRate"), minimum=0)
        ramp_to = None
        if spec.get("rampTo") is not None:
            ramp_to = as_number(doc, spec["rampTo"], child_path(path, "rampTo"), minimum=0)
        if rate == 0 and ramp_to is None:  # Artillery: a zero rate is a pause
            out.append(Phase(duration_s=duration, pause_s=duration, **common))
            continue
        out.append(Phase(duration_s=duration, arrival_rate=rate, ramp_to=ramp_to, **common))
    return out


def _http(doc: Located, config: dict[str, Any]) -> HttpSettings:
    http = doc.expect_mapping(config.get("http"), "config.http")
    doc.check_keys(http, "config.http", HTTP_KEYS, strict=False)
    timeout = 10.0  # Artillery's default, seconds
    for key, path in (
        (config.get("timeout"), "config.timeout"),
        (http.get("timeout"), "config.http.timeout"),
    ):
        if key is not None:
            timeout = as_number(doc, key, path, minimum=0, exclusive=True)
            break
    if http.get("cookieJarOptions"):
        doc.warn("config.http.cookieJarOptions", "ignored: perfgate's cookie jar keeps name=value "
                 "pairs per virtual user (no tough-cookie options)")  # fmt: skip
    pool = None
    if http.get("pool") is not None:
        pool = int(as_number(doc, http["pool"], "config.http.pool", minimum=1, integer=True))
    max_sockets = None
    if http.get("maxSockets") is not None:  # engine_http sizes its agents from http.pool alone
        doc.warn("config.http.maxSockets", "ignored, as by Artillery 2 (a shared pool is "
                 "http.pool; without it each virtual user has one connection)")  # fmt: skip
    http_defaults = doc.expect_mapping(http.get("defaults"), "config.http.defaults")
    defaults = doc.expect_mapping(config.get("defaults"), "config.defaults")
    headers_value = http_defaults.get("headers") or defaults.get("headers")
    headers_path = (
        "config.http.defaults.headers"
        if http_defaults.get("headers")
        else "config.defaults.headers"
    )
    headers = (
        doc.expect_mapping(headers_value, headers_path)
        if headers_value
        else {"user-agent": DEFAULT_USER_AGENT}
    )
    cookie_value, cookie_path = http_defaults.get("cookie"), "config.http.defaults.cookie"
    if not isinstance(cookie_value, dict):
        cookie_value, cookie_path = defaults.get("cookie"), "config.defaults.cookie"
    default_cookie = None
    if cookie_value is not None:
        default_cookie = dict(doc.expect_mapping(cookie_value, cookie_path))
    tls = doc.expect_mapping(config.get("tls"), "config.tls")
    doc.check_keys(tls, "config.tls", ("rejectUnauthorized",), strict=False)
    return HttpSettings(
        timeout_s=timeout,
        pool=pool,
        extended_metrics=as_bool(doc, http["extendedMetrics"], "config.http.extendedMetrics")
        if "extendedMetrics" in http
        else False,
        default_headers=dict(headers),
        reject_unauthorized=as_bool(doc, tls["rejectUnauthorized"], "config.tls.rejectUnauthorized")
        if "rejectUnauthorized" in tls
        else True,
        max_sockets=max_sockets,
        default_cookie=default_cookie,
    )


def _ensure(doc: Located, value: Any, path: str) -> EnsureSpec:
    spec = doc.expect_mapping(value, path)
    doc.check_keys(spec, path, ENSURE_KEYS, strict=False)
    out = EnsureSpec()
    for key in LEGACY_ENSURE:
        if key in spec:  # the plugin: parseInt(value), then `http.response_time.<key> < value`
            limit = as_number(doc, spec[key], child_path(path, key))
            out.thresholds.append((f"http.response_time.{key}", float(int(limit))))
    for i, item in enumerate(
        doc.expect_list(spec.get("thresholds"), child_path(path, "thresholds"))
    ):
        ipath = child_path(child_path(path, "thresholds"), i)
        item = doc.expect_mapping(item, ipath)
        if len(item) != 1:
            raise doc.error(ipath, "a threshold is one 'metric.name: limit' pair")
        metric, limit = next(iter(item.items()))
        out.thresholds.append((metric, as_number(doc, limit, child_path(ipath, metric))))
    for i, item in enumerate(
        doc.expect_list(spec.get("conditions"), child_path(path, "conditions"))
    ):
        ipath = child_path(child_path(path, "conditions"), i)
        item = doc.expect_mapping(item, ipath)
        doc.check_keys(item, ipath, ("expression", "strict"), strict=False)
        if "expression" not in item:
            raise doc.error(ipath, "'expression' is required")
        expr = as_str(doc, item["expression"], child_path(ipath, "expression"))
        try:
            out.compiled.append(compile_condition(expr))
        except ValueError as exc:
            raise doc.error(
                child_path(ipath, "expression"), f"invalid expression {expr!r}: {exc}"
            ) from None
        strict = (
            as_bool(doc, item["strict"], child_path(ipath, "strict")) if "strict" in item else True
        )
        out.conditions.append((expr, strict))
    if spec.get("maxErrorRate") is not None:
        out.max_error_rate = as_number(
            doc, spec["maxErrorRate"], child_path(path, "maxErrorRate"), minimum=0
        )
    return out


def _plugins(doc: Located, config: dict[str, Any], script: Script) -> None:
    plugins = doc.expect_mapping(config.get("plugins"), "config.plugins")
    for name in plugins:
        if name not in KNOWN_PLUGINS:
            hint = suggest(str(name), KNOWN_PLUGINS)
            doc.warn(child_path("config.plugins", name), f"plugin '{name}' is not supported and is ignored"
                     + (f" (did you mean '{hint}'?)" if hint else ""))  # fmt: skip
    script.expect_enabled = "expect" in plugins
    script.plugin_order = tuple(str(name) for name in plugins)
    if script.expect_enabled:
        epath = child_path("config.plugins", "expect")
        expect = doc.expect_mapping(plugins["expect"], epath)
        doc.check_keys(expect, epath, EXPECT_OPTION_KEYS, strict=False)
        opts = script.expect_options
        opts.report_failures_as_errors = _truthy_option(expect.get("reportFailuresAsErrors"))
        opts.expect_default_200 = expect.get("expectDefault200") in (True, "true")
        opts.use_only_request_names = expect.get("useOnlyRequestNames") in (True, "true")
    mbe_path = child_path("config.plugins", "metrics-by-endpoint")
    if "metrics-by-endpoint" in plugins:
        mbe = doc.expect_mapping(plugins["metrics-by-endpoint"], mbe_path)
        known = {"stripQueryString": "strip_query_string", "useOnlyRequestNames": "use_only_request_names",
                 "groupDynamicURLs": "group_dynamic_urls"}  # fmt: skip
        doc.check_keys(
            mbe, mbe_path, (*known, "metricsNamespace", "ignoreUnnamedRequests", "suppressOutput"),
            strict=False,
        )  # fmt: skip
        settings = EndpointMetricsSettings(enabled=True)
        for key, attr in known.items():
            if key in mbe:
                setattr(settings, attr, as_bool(doc, mbe[key], child_path(mbe_path, key)))
        for key, why in (
            ("metricsNamespace", "perfgate keeps the names under plugins.metrics-by-endpoint"),
            ("ignoreUnnamedRequests", "perfgate records every endpoint (the gate compares them)"),
        ):
            if mbe.get(key):
                doc.warn(child_path(mbe_path, key), f"not supported: {why}")
        script.metrics_by_endpoint = settings
    else:
        # Artillery adds the plugin to every run with {stripQueryString: true} (addDefaultPlugins).
        script.metrics_by_endpoint = EndpointMetricsSettings(strip_query_string=True)
    _ensure_and_apdex(doc, config, plugins, script)


def _truthy_option(value: Any) -> bool:
    """JavaScript truthiness of a plugin option (the plugin tests it with ``if``)."""
    return value not in (None, False, 0, "", 0.0)


def _ensure_and_apdex(
    doc: Located, config: dict[str, Any], plugins: dict[str, Any], script: Script
) -> None:
    """Artillery 2.0.21 loads a plugin only when ``config.plugins`` names it.
    The ensure plugin then checks ``config.ensure || config.plugins.ensure``
    (one of them, never both); the apdex plugin counts with
    ``config.apdex.threshold || config.plugins.apdex.threshold || 500``."""
    ensure_value = config.get("ensure")
    ensure_path = "config.ensure"
    if ensure_value is None:
        ensure_value, ensure_path = plugins.get("ensure"), "config.plugins.ensure"
    elif plugins.get("ensure"):
        doc.warn("config.plugins.ensure", "ignored: config.ensure is set, and Artillery's ensure "
                 "plugin checks config.ensure alone when both are given")  # fmt: skip
    if ensure_value is not None:
        script.ensure = _ensure(doc, ensure_value, ensure_path)
        if "ensure" not in plugins and script.ensure.thresholds + script.ensure.conditions:
            doc.warn("config.ensure", "checked by perfgate; Artillery 2.0.21 checks it only "
                     "when config.plugins.ensure is set too (add 'ensure: {}' under config.plugins)")  # fmt: skip
    threshold: float | None = None
    for value, path in (
        (config.get("apdex"), "config.apdex"),
        (plugins.get("apdex"), "config.plugins.apdex"),
    ):
        if value is None:
            continue
        apdex = doc.expect_mapping(value, path)
        doc.check_keys(apdex, path, ("threshold", "suppressOutput"), strict=False)
        if threshold is None and apdex.get("threshold"):
            threshold = as_number(
                doc, apdex["threshold"], child_path(path, "threshold"), minimum=0, exclusive=True
            )
    if "apdex" in plugins:
        script.apdex_threshold_ms = threshold if threshold is not None else 500.0
        if script.ensure is not None:
            script.ensure.apdex = config.get("apdex") is not None
    elif config.get("apdex") is not None:
        doc.warn("config.apdex", "ignored: Artillery counts apdex only with the apdex plugin "
                 "(add 'apdex: {}' under config.plugins)")  # fmt: skip


def _flow_defaults(doc: Located, config: dict[str, Any], ctx: FlowContext) -> None:
    """``defaults.think`` (only its ``jitter`` is read, as engine_http's createThink
    reads ``http.defaults.think || defaults.think``) and ``strictCapture``."""
    from perfgate.script._flow import _jitter

    http_defaults = doc.expect_mapping(
        doc.expect_mapping(config.get("http"), "config.http").get("defaults"),
        "config.http.defaults",
    )
    defaults = doc.expect_mapping(config.get("defaults"), "config.defaults")
    for where, mapping in (("config.http.defaults", http_defaults), ("config.defaults", defaults)):
        doc.check_keys(mapping, where, DEFAULTS_KEYS, strict=False)
    think, think_path = http_defaults.get("think"), "config.http.defaults.think"
    if think is None:
        think, think_path = defaults.get("think"), "config.defaults.think"
    if isinstance(think, dict):
        doc.check_keys(think, think_path, ("jitter",), strict=False)
        if "jitter" in think:
            ctx.think_jitter = _jitter(doc, think["jitter"], child_path(think_path, "jitter"))
    elif think is not None:
        doc.warn(think_path, "ignored: Artillery reads only 'jitter' here "
                 "(think: {jitter: ...}); a default think time is not a setting")  # fmt: skip
    for where, mapping in (("config.http.defaults", http_defaults), ("config.defaults", defaults)):
        if "strictCapture" in mapping and not as_bool(
            doc, mapping["strictCapture"], child_path(where, "strictCapture")
        ):
            ctx.strict_capture = False


def _target(doc: Located, config: dict[str, Any], override: str | None) -> str:
    if override is not None:
        value: Any = override
        path = "--target"
    else:
        value = config.get("target")
        path = "config.target"
    if value is None:
        raise doc.error("config", "'target' is required (set config.target or pass -t URL)")
    text = as_str(doc, value, path)
    if not text.startswith(("http://", "https://")):
        raise doc.error(path, f"target must be an http:// or https:// URL, got {text!r}")
    return text.rstrip("/")


def _check_functions(doc: Located, ctx: FlowContext, processor: Processor | None) -> None:
    refs = list(ctx.function_refs)
    names = set(processor.names()) if processor is not None else set()
    for name, path, owner in ctx.condition_names:
        if name in names:  # Artillery calls the processor function of that name
            refs.append((name, path))
            if isinstance(owner, RequestStep):
                owner.if_true_function = name
            else:
                owner.while_function = name
        elif isinstance(owner, LoopStep) and owner.while_condition is None:
            raise doc.error(
                path, f"'{name}' is neither a processor function nor a valid expression"
            )
    if processor is not None and processor.language == "javascript":
        if refs:
            exported = processor.exported_names
            missing = [(n, p) for n, p in refs if n not in exported]
            if missing:  # Artillery would count errors.Undefined function "name" and go on
                name, path = missing[0]
                raise doc.error(path, f"function '{name}' is not exported by the JavaScript processor "
                                f"{processor.path.name} (and JavaScript cannot run in perfgate: "
                                "port the processor to Python, docs/processors.md)",
                                suggest(name, exported))  # fmt: skip
            name, path = refs[0]
            raise doc.error(path, f"calls function '{name}' of the JavaScript processor {processor.path.name}; "
                            "JavaScript cannot run in perfgate: port it to a Python processor (docs/processors.md)")  # fmt: skip
        doc.warn("config.processor", f"JavaScript processor {processor.path.name} is not loaded "
                 "(the flow calls none of its functions)")  # fmt: skip
        return
    for name, path in refs:
        if processor is None:
            raise doc.error(
                path, f"function '{name}' is called but the script has no config.processor"
            )
        if name not in processor.functions:
            raise doc.error(
                path,
                f"function '{name}' is not defined in {processor.path.name}",
                suggest(name, processor.functions),
            )


def _build(
    doc: Located,
    *,
    base_dir: Path,
    source: Path,
    environment: str | None,
    target: str | None,
    time_scale: float,
) -> Script:
    if (
        not isinstance(time_scale, int | float)
        or isinstance(time_scale, bool)
        or not time_scale > 0
    ):
        raise ConfigError(f"--time-scale must be a number greater than 0, got {time_scale!r}")
    if time_scale == float("inf"):
        raise ConfigError("--time-scale must be finite")
    if doc.data is None:
        raise doc.error("", "the script is empty")
    top = doc.expect_mapping(doc.data, "")
    doc.check_keys(top, "", TOP_KEYS, strict=False)
    config = doc.expect_mapping(top.get("config"), "config")
    if environment is not None:
        config = _apply_environment(doc, config, environment)
    config_vars = config_time_vars(environment, source)
    config = render_config(doc, config, config_vars, skip=("environments",))
    doc.check_keys(config, "config", CONFIG_KEYS, strict=False)
    http = _http(doc, config)
    variables = doc.expect_mapping(config.get("variables"), "config.variables")
    script = Script(
        source=source,
        target=_target(doc, config, target),
        phases=_phases(doc, config.get("phases"), float(time_scale)),
        http=http,
        variables={str(k): v for k, v in variables.items()},
        payloads=parse_payloads(doc, config.get("payload"), base_dir),
        scenarios=[],
        environment=environment,
        time_scale=float(time_scale),
    )
    _plugins(doc, config, script)
    ctx = FlowContext(doc=doc, target=script.target, default_headers=http.default_headers)
    _flow_defaults(doc, config, ctx)
    script.scenarios = parse_scenarios(ctx, top.get("scenarios"))
    for section in ("before", "after"):
        if top.get(section) is not None:
            spec = doc.expect_mapping(top[section], section)
            doc.check_keys(spec, section, ("flow", "name", "engine"), strict=False)
            setattr(script, section, parse_flow(ctx, spec.get("flow"), child_path(section, "flow")))
    processor = None
    if config.get("processor") is not None:
        rel = as_str(doc, config["processor"], "config.processor")
        proc_path = (base_dir / rel) if not Path(rel).is_absolute() else Path(rel)
        try:
            processor = load_processor(proc_path, file=doc.file)
        except ConfigError as exc:
            raise doc.error("config.processor", exc.message) from None
    _check_functions(doc, ctx, processor)
    script.processor = processor
    script.context_vars = {
        "target": script.target,
        **{k: config_vars[k] for k in ("$environment", "$testId", "$dirname", "$scenarioFile")},
    }
    script.warnings = list(doc.warnings)
    return script


def load_script_text(
    text: str,
    file: str = "<string>",
    *,
    environment: str | None = None,
    target: str | None = None,
    time_scale: float = 1.0,
    base_dir: Path | None = None,
) -> Script:
    """Like :func:`load_script`, from text (payload/processor paths resolve
    against ``base_dir``, default the current directory)."""
    doc = load_yaml_text(text, file)
    base = base_dir if base_dir is not None else Path.cwd()
    return _build(
        doc,
        base_dir=base,
        source=Path(file),
        environment=environment,
        target=target,
        time_scale=time_scale,
    )


def load_script(
    path: str | Path,
    *,
    environment: str | None = None,
    target: str | None = None,
    time_scale: float = 1.0,
) -> Script:
    """Load and validate an Artillery script file; raises ConfigError.

    ``environment`` (``-e``) merges ``config.environments[env]`` over
    config; ``target`` (``-t``) overrides ``config.target``; ``time_scale``
    multiplies every phase's duration and pause.
    """
    p = Path(path)
    doc = load_yaml(p)
    return _build(
        doc,
        base_dir=p.parent,
        source=p,
        environment=environment,
        target=target,
        time_scale=time_scale,
    )
