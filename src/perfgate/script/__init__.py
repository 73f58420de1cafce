"""The Artillery script language: model, loader, templates, conditions, JSONPath, processors.

A script is parsed once into typed records (:mod:`perfgate.script.model`);
the engine runs them and never looks at YAML. Other packages import from here
only.
"""

from perfgate.script._values import parse_duration
from perfgate.script.conditions import compile_condition, compile_expression, truthy
from perfgate.script.endpoints import endpoint_name, endpoint_of, request_steps
from perfgate.script.jsonpath import compile_jmespath, compile_jsonpath, jsonpath_query
from perfgate.script.loader import load_script, load_script_text
from perfgate.script.model import (
    EXPECT_KINDS,
    HTTP_METHODS,
    CaptureSpec,
    EndpointMetricsSettings,
    EnsureSpec,
    ExpectSpec,
    FunctionStep,
    HttpSettings,
    LogStep,
    LoopStep,
    Payload,
    Phase,
    RenderedRequest,
    RequestStep,
    Scenario,
    Script,
    Step,
    ThinkStep,
    aimed_at,
    pick_scenario,
    pick_variables,
)
from perfgate.script.processor import (
    Events,
    Processor,
    call_hook,
    load_processor,
    processor_context,
)
from perfgate.script.template import UNDEFINED, Template, js_string, lookup_path, parse_path

__all__ = [
    "EXPECT_KINDS",
    "HTTP_METHODS",
    "UNDEFINED",
    "CaptureSpec",
    "EndpointMetricsSettings",
    "EnsureSpec",
    "Events",
    "ExpectSpec",
    "FunctionStep",
    "HttpSettings",
    "LogStep",
    "LoopStep",
    "Payload",
    "Phase",
    "Processor",
    "RenderedRequest",
    "RequestStep",
    "Scenario",
    "Script",
    "Step",
    "Template",
    "ThinkStep",
    "aimed_at",
    "call_hook",
    "compile_condition",
    "compile_expression",
    "compile_jmespath",
    "compile_jsonpath",
    "endpoint_name",
    "endpoint_of",
    "js_string",
    "jsonpath_query",
    "load_processor",
    "load_script",
    "load_script_text",
    "lookup_path",
    "parse_duration",
    "parse_path",
    "pick_scenario",
    "pick_variables",
    "processor_context",
    "request_steps",
    "truthy",
]
