"""The runner file protocol: outputs, env, job summary (as the runner reads them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.errors import GitHubError
from perfgate.github import _files
from perfgate.github._files import (
    SUMMARY_LIMIT_BYTES,
    append_summary,
    export_env,
    format_key_value,
    parse_key_value_file,
    set_output,
    trim_utf8,
)


@pytest.fixture
def runner_env(tmp_path: Path) -> dict[str, str]:
    files = {}
    for var in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV"):
        path = tmp_path / var.lower()
        path.touch()
        files[var] = str(path)
    return {"GITHUB_ACTIONS": "true", **files}


def test_outputs_round_trip_multiline_values(runner_env: dict[str, str]) -> None:
    values = {
        "verdict": "pass",
        "table": "| a | b |\n|---|---|\n| 1 | 2 |",
        "tricky": "line=with=equals\nname<<EOF\nEOF\n%0A literal",
        "empty": "",
    }
    for name, value in values.items():
        assert set_output(name, value, environ=runner_env)
    text = Path(runner_env["GITHUB_OUTPUT"]).read_text()
    assert parse_key_value_file(text) == values
    # Each record is a heredoc with a random ghadelimiter_ delimiter.
    heads = [line for line in text.splitlines() if "<<ghadelimiter_" in line]
    assert len(heads) == len(values)
    assert len({h.split("<<")[1] for h in heads}) == len(values)


def test_value_containing_the_delimiter_is_refused() -> None:
    with pytest.raises(GitHubError, match="delimiter"):
        format_key_value("x", "a\nghadelimiter_abc\nb", delimiter="ghadelimiter_abc")
    with pytest.raises(GitHubError):
        format_key_value("bad\nname", "v")


def test_export_env_and_last_write_wins(runner_env: dict[str, str]) -> None:
    export_env("A", "1", environ=runner_env)
    export_env("A", "two\nlines", environ=runner_env)
    assert parse_key_value_file(Path(runner_env["GITHUB_ENV"]).read_text()) == {"A": "two\nlines"}


def test_parser_accepts_plain_form_and_rejects_unterminated() -> None:
    assert parse_key_value_file("a=1\nb=x=y\n") == {"a": "1", "b": "x=y"}
    with pytest.raises(GitHubError, match="unterminated"):
        parse_key_value_file("a<<END\nvalue\n")


def test_outside_actions_nothing_is_written(tmp_path: Path) -> None:
    assert set_output("x", "y", environ={}) is False
    assert append_summary("# hi", environ={}) is False
    assert export_env("X", "y", environ={}) is False
    assert list(tmp_path.iterdir()) == []


def test_summary_appends(runner_env: dict[str, str]) -> None:
    append_summary("# One", environ=runner_env)
    append_summary("two\n", environ=runner_env)
    assert Path(runner_env["GITHUB_STEP_SUMMARY"]).read_text() == "# One\ntwo\n"


def test_summary_is_capped_at_one_mebibyte_with_a_note(runner_env: dict[str, str]) -> None:
    path = Path(runner_env["GITHUB_STEP_SUMMARY"])
    append_summary("intro\n", environ=runner_env)
    big = "é" * SUMMARY_LIMIT_BYTES  # 2 MiB of UTF-8
    assert append_summary(big, environ=runner_env)
    data = path.read_bytes()
    assert len(data) <= SUMMARY_LIMIT_BYTES
    assert len(data) > SUMMARY_LIMIT_BYTES - 1000  # filled, not emptied
    text = data.decode("utf-8")  # never a split character
    assert text.startswith("intro\n")
    assert "trimmed" in text[-300:]
    # Full: a further append is dropped, not an error, and the cap holds.
    assert append_summary("more", environ=runner_env) is False
    assert len(path.read_bytes()) <= SUMMARY_LIMIT_BYTES


def test_unwritable_file_is_a_github_error(tmp_path: Path) -> None:
    env = {"GITHUB_OUTPUT": str(tmp_path / "missing-dir" / "out")}
    with pytest.raises(GitHubError, match="cannot write"):
        set_output("a", "b", environ=env)


def test_trim_utf8_never_splits_a_character() -> None:
    assert trim_utf8("aé€😀", 4) == "aé"
    assert trim_utf8("abc", 10) == "abc"
    assert _files.trim_utf8("😀", 3) == ""
