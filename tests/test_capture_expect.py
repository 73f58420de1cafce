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
    # engine_util's captureOrMatch: with a strict failure no variable is set at all
    assert vars == {"i": 1}
    vars = {"i": 1}
    assert apply_captures([s for s in specs if s.as_name != "hard"], view(), vars) == []
    assert (
        vars["tok"] == "t1" and vars["hid"] == "h1" and vars["rx"] == "7" and vars["named"] == "t1"
    )
    assert vars["templ"] == 2
    assert "soft" not in vars


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
    """artillery-plugin-expect as Artillery 2.0.21 ran it on this body served with
    `application/json; charset=utf-8` (outputFormat json, one check per request):
    `contentType: application/json` fails (the whole header must match),
    `headerEquals: [X-Id, h1]` fails (node lower-cases header names), and
    `matchesRegexp: '"token"'` fails (the plugin tests the *parsed* body, which
    String() makes `[object Object]`)."""
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
        True, True, False, True, True, False, False, True, False, True, True, False, True, False, False, False, False
    ]  # fmt: skip
    assert outcomes[13].kind == "header X-Id values equals"  # the plugin's counter name
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


def test_expectations_follow_the_plugin_on_headers_and_text_bodies() -> None:
    """Artillery 2.0.21 (same run): `hasHeader: X-Id` fails, `hasHeader: x-id` and
    `headerEquals: [x-id, h1]` pass; `matchesRegexp: object` passes on a JSON body;
    on a text/plain body `{"token": 1}`: `notHasProperty: nope` fails (the body is
    no object), `matchesRegexp: token` passes, `contentType: json` fails."""
    specs = [
        ExpectSpec("hasHeader", "X-Id"),
        ExpectSpec("hasHeader", "x-id"),
        ExpectSpec("headerEquals", ["x-id", "h1"]),
        ExpectSpec("matchesRegexp", "object"),
    ]
    assert [o.ok for o in check_expectations(specs, view(), {})] == [False, True, True, True]
    text = view(b'{"token": 1}', headers={"Content-Type": "text/plain"})
    specs = [
        ExpectSpec("notHasProperty", "nope"),
        ExpectSpec("matchesRegexp", "token"),
        ExpectSpec("contentType", "json"),
    ]
    assert [o.ok for o in check_expectations(specs, text, {})] == [False, True, False]
