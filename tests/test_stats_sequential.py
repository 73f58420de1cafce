"""Pocock's level for two looks: the published constants and a simulation."""

from __future__ import annotations

import numpy as np
import pytest

from perfgate.stats import normal_ppf, pocock_level


def test_published_constants() -> None:
    # Jennison & Turnbull (2000), Table 2.1, two equally spaced looks:
    # C_P(2, 0.10) = 1.875 and C_P(2, 0.05) = 2.178 (two-sided; one-sided half).
    assert normal_ppf(1 - pocock_level(0.05, 12, 24)) == pytest.approx(1.875, abs=0.002)
    assert normal_ppf(1 - pocock_level(0.025, 10, 20)) == pytest.approx(2.178, abs=0.002)


def test_one_look_spends_all_and_later_looks_spend_more() -> None:
    assert pocock_level(0.05, 12, 12) == 0.05 and pocock_level(0.05, 12, 0) == 0.05
    # between Bonferroni (alpha/2) and alpha; the closer the looks, the more each may spend
    levels = [pocock_level(0.05, 12, n) for n in (48, 24, 16, 13)]
    assert 0.025 < levels[0] < levels[1] < levels[2] < levels[3] < 0.05
    with pytest.raises(ValueError):
        pocock_level(0.0, 12, 24)


def test_the_level_holds_alpha_over_both_looks_by_simulation() -> None:
    # Sums of independent normal increments, looked at after 12 and 24 of them.
    rng = np.random.default_rng(7)
    steps = rng.standard_normal((200_000, 24))
    z1 = steps[:, :12].sum(axis=1) / np.sqrt(12)
    z2 = steps.sum(axis=1) / np.sqrt(24)
    c = normal_ppf(1 - pocock_level(0.05, 12, 24))
    either = float(np.mean((z1 > c) | (z2 > c)))
    assert either == pytest.approx(0.05, abs=0.002)  # SE ~0.0005
    assert float(np.mean(z1 > c)) < 0.035  # each look alone spends less
