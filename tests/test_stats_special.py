"""Special functions against printed table values (and scipy when installed)."""

from __future__ import annotations

import math

import pytest

from perfgate.stats._special import beta_ppf, betainc, normal_cdf, normal_ppf, t_cdf, t_ppf

# Student t critical values, from any printed table (3 decimals).
T_TABLE = [
    (0.975, 1, 12.706),
    (0.975, 2, 4.303),
    (0.975, 5, 2.571),
    (0.975, 10, 2.228),
    (0.975, 30, 2.042),
    (0.95, 20, 1.725),
    (0.995, 10, 3.169),
    (0.9, 3, 1.638),
    (0.999, 4, 7.173),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_ppf_matches_table(p: float, df: int, expected: float) -> None:
    assert t_ppf(p, df) == pytest.approx(expected, abs=6e-4)
    assert t_cdf(expected, df) == pytest.approx(p, abs=1e-4)
    assert t_ppf(1 - p, df) == pytest.approx(-expected, abs=6e-4)


def test_t_tends_to_normal() -> None:
    assert t_ppf(0.975, 1e7) == pytest.approx(1.959964, abs=1e-5)
    assert t_ppf(0.5, 7) == 0.0


@pytest.mark.parametrize(
    ("p", "z"), [(0.975, 1.959963985), (0.95, 1.644853627), (0.5, 0.0), (1e-10, -6.361340902)]
)
def test_normal_ppf(p: float, z: float) -> None:
    assert normal_ppf(p) == pytest.approx(z, abs=1e-8)
    assert normal_cdf(normal_ppf(p)) == pytest.approx(p, rel=1e-9)


def test_betainc_closed_forms() -> None:
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b
    assert betainc(1, 1, 0.3) == pytest.approx(0.3)
    assert betainc(3.5, 1, 0.4) == pytest.approx(0.4**3.5)
    assert betainc(1, 7, 0.2) == pytest.approx(1 - 0.8**7)
    # I_{1/2}(a, a) = 1/2 by symmetry
    assert betainc(40, 40, 0.5) == pytest.approx(0.5)
    assert beta_ppf(betainc(2.5, 9, 0.17), 2.5, 9) == pytest.approx(0.17, abs=1e-12)


def test_against_scipy_when_installed() -> None:
    stats = pytest.importorskip("scipy.stats")
    for df in (1, 3, 9, 57, 400):
        for p in (0.6, 0.9, 0.975, 0.9995):
            assert t_ppf(p, df) == pytest.approx(float(stats.t.ppf(p, df)), rel=1e-9)
    for a, b, x in ((0.5, 0.5, 0.3), (2, 3, 0.7), (10, 200, 0.05), (1000, 1000, 0.51)):
        assert betainc(a, b, x) == pytest.approx(float(stats.beta.cdf(x, a, b)), abs=1e-12)
    assert math.isinf(t_ppf(1.0, 3))
