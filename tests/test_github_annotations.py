"""Workflow commands: escaping as @actions/core does it, masks, groups."""

from __future__ import annotations

import io

import pytest

from perfgate.github import (
    add_mask,
    annotate,
    escape_data,
    escape_property,
    format_command,
    group,
    mask_secrets,
)

ACTIONS = {"GITHUB_ACTIONS": "true"}


def test_escaping_matches_the_toolkit() -> None:
    assert escape_data("50%\r\nnext: a,b") == "50%25%0D%0Anext: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    # %-escaping first: a literal "%0A" survives the round trip.
    assert escape_data("%0A") == "%250A"


def test_error_annotation_format() -> None:
    out = io.StringIO()
    annotate(
        "error",
        "p95 rose 30%\nsee table",
        file="perf/gate.yml",
        line=12,
        title="Regression: GET /bounties, p95",
        stream=out,
        environ=ACTIONS,
    )
    assert out.getvalue() == (
        "::error file=perf/gate.yml,line=12,title=Regression%3A GET /bounties%2C p95"
        "::p95 rose 30%25%0Asee table\n"
    )


def test_command_without_properties() -> None:
    assert format_command("warning", {"file": None, "title": ""}, "x") == "::warning::x"
    assert format_command("notice", {"title": "t"}, "m") == "::notice title=t::m"


def test_outside_actions_annotations_are_plain_lines() -> None:
    out = io.StringIO()
    annotate("warning", "slow", file="a.yml", line=3, stream=out, environ={})
    assert out.getvalue() == "warning: a.yml:3: slow\n"


def test_add_mask_masks_each_line_and_only_in_actions() -> None:
    out = io.StringIO()
    add_mask("s3cret", stream=out, environ={})
    assert out.getvalue() == ""
    add_mask("line1\nline2", stream=out, environ=ACTIONS)
    lines = set(out.getvalue().splitlines())
    assert {"::add-mask::line1", "::add-mask::line2", "::add-mask::line1%0Aline2"} == lines


def test_mask_secrets_masks_the_named_env_values() -> None:
    out = io.StringIO()
    env = {**ACTIONS, "API_KEY": "k-123", "EMPTY": ""}
    assert mask_secrets(["API_KEY", "EMPTY", "ABSENT"], environ=env, stream=out) == ["API_KEY"]
    assert out.getvalue() == "::add-mask::k-123\n"


@pytest.mark.parametrize(
    ("env", "first", "last"),
    [(ACTIONS, "::group::A%0AB", "::endgroup::"), ({}, "== A\nB ==", "inside")],
)
def test_group(env: dict[str, str], first: str, last: str) -> None:
    out = io.StringIO()
    with group("A\nB", stream=out, environ=env):
        print("inside", file=out)
    text = out.getvalue()
    assert text.startswith(first)
    assert text.rstrip("\n").endswith(last)
