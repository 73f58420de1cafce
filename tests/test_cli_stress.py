"""``perfgate stress`` arguments (a unit test of the cli package)."""

from __future__ import annotations

import pytest

from perfgate.errors import ConfigError
from perfgate.metrics import failures


def test_stress_fail_on_4xx_flag() -> None:
    from perfgate.cli._stress import failure_policy_arg

    assert failure_policy_arg(None) is None
    assert failure_policy_arg("all") == failures.FailurePolicy(fail_on_4xx=True)
    assert failure_policy_arg("401,404").fail_on_4xx == frozenset({401, 404})
    with pytest.raises(ConfigError, match="--fail-on-4xx 500"):
        failure_policy_arg("500")
