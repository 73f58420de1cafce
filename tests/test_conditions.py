"""The safe expression language of ifTrue / whileTrue / ensure conditions."""

from __future__ import annotations

import re

import pytest

from perfgate.script import UNDEFINED, compile_condition, compile_expression, truthy

VARS = {
    "authToken": "t",
    "empty": "",
    "zero": 0,
    "status": 200,
    "a": 2,
    "b": 0,
    "user": {"id": 3},
    "items": [1],
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("authToken", True),
        ("adminToken", False),
        ("empty", False),
        ("zero", False),
        ("items", True),
        ("status == 200", True),
        ("status != 200", False),
        ('status == "200"', True),  # loose equality, as in filtrex/JS
        ("a > 1 and b", False),
        ("a > 1 and not b", True),
        ("not authToken or a >= 2", True),
        ("not x", True),
        ("user.id == 3", True),
        ("user.id < 3 or user.missing", False),
        ("status in (200, 201)", True),
        ("status not in (200, 201)", False),
        ("(a + 1) * 2 == 6 and a ^ 3 == 8 and 7 % 4 == 3", True),
        ("a > 1 ? authToken : empty", True),
        ("undefinedVar > 1", False),
        ("a / 0 > 1", True),  # Infinity
        ("-a < 0", True),
        ('"abc" == "abc"', True),
        ("true and not false", True),
    ],
)
def test_condition(expr: str, expected: bool) -> None:
    assert compile_condition(expr)(VARS) is expected


def test_dotted_metric_names_are_looked_up_whole_first() -> None:
    cond = compile_condition("http.response_time.p99 < 100 and http.request_rate > 10")
    assert cond({"http.response_time.p99": 80, "http.request_rate": 11})
    assert not cond({"http.response_time.p99": 120, "http.request_rate": 11})
    quoted = compile_condition("'plugins.metrics-by-endpoint.response_time./health.p95' < 5")
    assert quoted({"plugins.metrics-by-endpoint.response_time./health.p95": 1})


@pytest.mark.parametrize(
    "bad", ["", "a >", "(a", "a @ b", "a b", "status in 200", "1 ? 2", "__import__('os')"]
)
def test_syntax_errors_raise_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        compile_condition(bad)


def test_no_python_eval_reachable() -> None:
    # attribute access and calls are not part of the language
    with pytest.raises(ValueError):
        compile_condition("a.__class__()")
    assert compile_expression("a.__class__")(VARS) is UNDEFINED


def test_deep_nesting_is_refused_not_crashing() -> None:
    with pytest.raises(ValueError):
        compile_condition("(" * 500 + "a" + ")" * 500)


def test_truthiness() -> None:
    assert [truthy(v) for v in (UNDEFINED, None, False, 0, 0.0, "", float("nan"))] == [False] * 7
    truthy_values: tuple[object, ...] = ("0", [], {}, -1, "false")
    assert all(truthy(v) for v in truthy_values)


@pytest.mark.parametrize(("expr", "hint"), [("a === 1", "=="), ("a !== 1", "!="), ("a && b", "and"),
                                            ("a || b", "or"), ("!a", "not")])  # fmt: skip
def test_javascript_operators_are_syntax_errors_as_in_filtrex(expr: str, hint: str) -> None:
    """Issue 24 item 7. filtrex 0.5.4 (Artillery's ifTrue) and 2.2.3 (ensure), run
    by node: `a === 1`, `a !== 1`, `a && b`, `a || b`, `!a` all throw "Lexical
    error on line 1. Unrecognized text." (Artillery then sends the request, or
    fails the ensure check). perfgate refuses them at compile time, naming the
    filtrex spelling."""
    with pytest.raises(ValueError, match=f"write '{re.escape(hint)}'"):
        compile_condition(expr)
