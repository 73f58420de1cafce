"""The YAML loader remembers lines and key paths and suggests keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.config import child_path, load_yaml, load_yaml_text, suggest
from perfgate.errors import ConfigError

DOC = """\
config:
  target: http://127.0.0.1:1
  phases:
    - duration: 5
      arivalRate: 2
scenarios:
  - flow:
      - post:
          url: /x
          capture:
            - json: "$.token"
"""


def test_lines_of_key_paths() -> None:
    doc = load_yaml_text(DOC, "s.yml")
    assert doc.lines["config.phases[0].arivalRate"] == 5
    assert doc.lines["scenarios[0].flow[0].post.capture[0]"] == 11
    # a path that does not exist falls back to its nearest ancestor
    assert doc.line_of("scenarios[0].flow[0].post.capture[0].as") == 11


def test_error_names_file_line_path_and_suggestion() -> None:
    doc = load_yaml_text(DOC, "s.yml")
    phase = doc.data["config"]["phases"][0]
    with pytest.raises(ConfigError) as info:
        doc.check_keys(
            phase, "config.phases[0]", ["duration", "arrivalRate", "rampTo"], strict=True
        )
    text = str(info.value)
    assert text.startswith("s.yml:5: config.phases[0].arivalRate:")
    assert "did you mean 'arrivalRate'" in text
    doc.check_keys(phase, "config.phases[0]", ["duration", "arrivalRate"], strict=False)
    assert doc.warnings and "arrivalRate" in doc.warnings[0]


def test_syntax_error_has_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.yml"
    p.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigError) as info:
        load_yaml(p)
    assert info.value.file == str(p) and info.value.line is not None


def test_missing_file_is_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml(tmp_path / "nope.yml")


def test_child_path_and_suggest() -> None:
    assert child_path("", "config") == "config"
    assert child_path("a", 2) == "a[2]"
    assert child_path("a", "x.y") == "a.'x.y'"
    assert suggest("arivalRate", ["arrivalRate", "duration"]) == "arrivalRate"
    assert suggest("zzz", ["arrivalRate"]) is None


def test_merge_keys_and_scalars() -> None:
    doc = load_yaml_text("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert doc.data["other"] == {"x": 1, "y": 2}
