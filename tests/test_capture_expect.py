"""Captures and expectations over real response views."""

from __future__ import annotations

import json

import pytest

from perfgate.engine import ResponseView, apply_captures
from perfgate.engine.expect import check_expectations
from perfgate.script import CaptureSpec, ExpectSpec, Template, jsonpath_query

DOC = {
    "token": "t1",
    "user": {"id": 7, "roles": ["a", "b"]},
    "items": [{"id": 1}, {"id": 2}],
    "empty": "",
}


def view(
    body: object = DOC, status: int = 200, headers: dict[str, str] | None = None
) -> ResponseView:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ResponseView(
        status=status,
        headers=headers or {"Content-Type": "application/json; charset=utf-8", "X-Id": "h1"},
        body=raw,
        url="http://127.0.0.1/x",
    )


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("$.token", ["t1"]),
        ("$.user.id", [7]),
        ("$.user.roles[0]", ["a"]),
        ("$.user.roles[-1]", ["b"]),
        ("$['user']['id']", [7]),
        ("$.items[*].id", [1, 2]),
        ("$..id", [7, 1, 2]),
        ("$.items.length", [2]),
        ("$.nope", []),
        ("$.items[0:1]", [{"id": 1}]),
        ("token", ["t1"]),
    ],
)
def test_jsonpath_subset(expr: str, expected: list[object]) -> None:
    assert jsonpath_query(DOC, expr) == expected


def test_captures_set_vars_and_report_strict_failures() -> None:
    specs = [
        CaptureSpec("json", "$.token", "tok"),
        CaptureSpec("header", "x-id", "hid"),
        CaptureSpec("regexp", r'"id": (\d+)', "rx", group=1),
        CaptureSpec("regexp", r'"token": "(?P<t>\w+)"', "named", group="t"),
        CaptureSpec("json", "$.missing", "soft", strict=False),
        CaptureSpec("json", "$.missing", "hard"),
        CaptureSpec(
            "json",
            "$.items[{{ i }}].id",
            "templ",
            expr_template=Template.compile("$.items[{{ i }}].id"),
        ),
    ]
    vars: dict[str, object] = {"i": 1}
    failed = apply_captures(specs, view(), vars)
    assert failed == ["hard"]
    assert (
        vars["tok"] == "t1" and vars["hid"] == "h1" and vars["rx"] == "7" and vars["named"] == "t1"
    )
    assert vars["templ"] == 2
    assert "soft" not in vars and "hard" not in vars


def test_json_capture_on_non_json_body_fails() -> None:
    assert apply_captures([CaptureSpec("json", "$.a", "a")], view(b"<html>"), {}) == ["a"]


def test_multiple_json_matches_pick_one_of_them() -> None:
    seen = set()
    for _ in range(100):
        vars: dict[str, object] = {}
        apply_captures([CaptureSpec("json", "$.items[*].id", "id")], view(), vars)
        seen.add(vars["id"])
    assert seen == {1, 2}


def test_expectations() -> None:
    specs = [
        ExpectSpec("statusCode", 200),
        ExpectSpec("statusCode", [200, 401]),
        ExpectSpec("statusCode", "404"),
        ExpectSpec("notStatusCode", 500),
        ExpectSpec("contentType", "json"),
        ExpectSpec("contentType", "application/json"),
        ExpectSpec("contentType", "text/html"),
        ExpectSpec("hasProperty", "user.id"),
        ExpectSpec("hasProperty", "user.nope"),
        ExpectSpec("notHasProperty", "nope"),
        ExpectSpec(
            "equals", ["{{ tok }}", "t1"], value_template=Template.compile(["{{ tok }}", "t1"])
        ),
        ExpectSpec("equals", ["1", "2"]),
        ExpectSpec("hasHeader", "x-id"),
        ExpectSpec("headerEquals", ["X-Id", "h1"]),
        ExpectSpec("headerEquals", ["X-Id", "other"]),
        ExpectSpec("matchesRegexp", r"\"token\""),
        ExpectSpec("matchesRegexp", "^nothing$"),
    ]
    outcomes = check_expectations(specs, view(), {"tok": "t1"})
    assert [o.ok for o in outcomes] == [
        True, True, False, True, True, True, False, True, False, True, True, False, True, True, False, True, False
    ]  # fmt: skip
    assert outcomes[2].got == 200 and outcomes[0].kind == "statusCode"


def test_response_view_decodes_once_and_is_case_insensitive() -> None:
    v = view()
    assert v.headers["content-type"].startswith("application/json")
    assert v.json() is v.json()
    with pytest.raises(ValueError):
        view(b"not json").json()
    latin = ResponseView(
        200, {"content-type": "text/plain; charset=latin-1"}, "é".encode("latin-1")
    )
    assert latin.text() == "é"
