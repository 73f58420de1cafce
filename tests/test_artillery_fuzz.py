"""Fuzzing the loader: whatever the input, the result is a Script or a ConfigError."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfgate.errors import ConfigError
from perfgate.script import Script, load_script_text

SEED = Path(__file__).resolve().parents[1] / "src" / "perfgate" / "data" / "seed"
KEYS = [
    "config", "scenarios", "target", "phases", "duration", "arrivalRate", "rampTo", "arrivalCount",
    "pause", "maxVusers", "flow", "get", "post", "url", "json", "capture", "as", "expect",
    "statusCode", "ifTrue", "think", "loop", "count", "over", "weight", "name", "http", "timeout",
    "plugins", "ensure", "thresholds", "conditions", "expression", "payload", "variables",
    "environments", "processor", "function", "log", "headers", "qs", "regexp", "group", "before",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["30s", "5m", "-1", "{{ x }}", "$.a", "/x", "http://127.0.0.1:1", "a >", "", "1h"]
    ),
    st.text(max_size=12),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=5
        ),
    ),
    max_leaves=25,
)


def load_or_config_error(text: str) -> None:
    try:
        result = load_script_text(text, "fuzz.yml", base_dir=SEED, time_scale=0.5)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(result, Script)


FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@FUZZ
@given(trees)
def test_random_structures(tree: Any) -> None:
    load_or_config_error(yaml.safe_dump(tree))


@FUZZ
@given(st.text(max_size=200))
def test_random_text(text: str) -> None:
    load_or_config_error(text)


def _mutate(node: Any, rng: random.Random, replacement: Any) -> Any:
    """Replace one randomly chosen node of the tree."""
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        out = dict(node)
        if rng.random() < 0.15:
            out.pop(key)
        elif rng.random() < 0.1:
            out[key + "x"] = out.pop(key)
        else:
            out[key] = _mutate(node[key], rng, replacement)
        return out
    if isinstance(node, list) and node and rng.random() < 0.8:
        i = rng.randrange(len(node))
        out_list = list(node)
        out_list[i] = _mutate(node[i], rng, replacement)
        return out_list
    return replacement


@FUZZ
@given(
    st.sampled_from(["artillery-load-test.yml", "artillery-stress-test.yml"]),
    st.integers(0, 2**32),
    trees,
)
def test_mutated_seed_scripts(name: str, seed: int, replacement: Any) -> None:
    original = yaml.safe_load((SEED / name).read_text())
    rng = random.Random(seed)
    mutated = original
    for _ in range(rng.randint(1, 3)):
        mutated = _mutate(mutated, rng, replacement)
    load_or_config_error(yaml.safe_dump(mutated))
