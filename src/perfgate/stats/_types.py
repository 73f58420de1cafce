"""Small result records shared by the statistics modules."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ConfidenceInterval"]


class ConfidenceInterval(NamedTuple):
    """An interval and the confidence it actually achieves.

    ``level`` is the achieved coverage where the method knows it (the exact
    Wilcoxon interval of a small sample cannot hit 95% exactly), otherwise
    the nominal one.
    """

    low: float
    high: float
    level: float
