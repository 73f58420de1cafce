"""Pure statistics for perfgate (numpy only): one small module per concern.

- :mod:`~perfgate.stats.descriptive` — median, quantile, CV, MAD, outliers, bootstrap CI
- :mod:`~perfgate.stats.intervals` — prediction intervals from a history (log scale)
- :mod:`~perfgate.stats.paired` — Hodges–Lehmann, Wilcoxon signed-rank test and CI
- :mod:`~perfgate.stats.signflip` — sign-flip test of a mean paired difference, and its CI
- :mod:`~perfgate.stats.proportions` — Clopper–Pearson, exact two-proportion test
- :mod:`~perfgate.stats.multiple` — Holm adjustment
- :mod:`~perfgate.stats.sequential` — Pocock's level for a second look
- :mod:`~perfgate.stats.clustered` — round pairs nested in launches (variance components)
- :mod:`~perfgate.stats.robust` — Theil–Sen slope, Mann–Whitney U
- :mod:`~perfgate.stats.regression` — median (least-absolute-deviations) regression

docs/statistics.md explains each method, why it was chosen and its reference.
"""

from perfgate.stats._special import normal_cdf, normal_ppf, t_cdf, t_ppf
from perfgate.stats._types import ConfidenceInterval
from perfgate.stats.clustered import (
    LaunchMeanTest,
    LaunchVariance,
    inflate_interval,
    launch_mean_test,
    launch_variance,
)
from perfgate.stats.descriptive import (
    bootstrap_median_ci,
    coefficient_of_variation,
    mad,
    mad_outliers,
    median,
    modified_zscores,
    quantile,
)
from perfgate.stats.intervals import (
    PredictionInterval,
    prediction_interval_log,
    robust_prediction_interval_log,
)
from perfgate.stats.multiple import holm
from perfgate.stats.paired import (
    WilcoxonResult,
    hodges_lehmann,
    walsh_averages,
    wilcoxon_ci,
    wilcoxon_signed_rank,
)
from perfgate.stats.proportions import ProportionTest, clopper_pearson, exact_two_proportion_test
from perfgate.stats.regression import RegressionFit, huber_regression, median_regression
from perfgate.stats.robust import MannWhitneyResult, TheilSen, mann_whitney_u, theil_sen
from perfgate.stats.sequential import pocock_level
from perfgate.stats.signflip import signflip_ci, signflip_p_greater

__all__ = [
    "ConfidenceInterval",
    "LaunchMeanTest",
    "LaunchVariance",
    "MannWhitneyResult",
    "PredictionInterval",
    "ProportionTest",
    "RegressionFit",
    "TheilSen",
    "WilcoxonResult",
    "bootstrap_median_ci",
    "clopper_pearson",
    "coefficient_of_variation",
    "exact_two_proportion_test",
    "hodges_lehmann",
    "holm",
    "huber_regression",
    "inflate_interval",
    "launch_mean_test",
    "launch_variance",
    "mad",
    "mad_outliers",
    "mann_whitney_u",
    "median",
    "median_regression",
    "modified_zscores",
    "normal_cdf",
    "normal_ppf",
    "pocock_level",
    "prediction_interval_log",
    "quantile",
    "robust_prediction_interval_log",
    "signflip_ci",
    "signflip_p_greater",
    "t_cdf",
    "t_ppf",
    "theil_sen",
    "walsh_averages",
    "wilcoxon_ci",
    "wilcoxon_signed_rank",
]
