"""Weighted risk difference with a cluster-robust (matched-set) variance, for any matched design.

Used when matching is not 1:1 without replacement (k:1, variable ratio, matching with
replacement, unequal weights): weighted least squares of the 0/1 outcome on group, i.e. the
difference of weighted shares, with a CR1 sandwich variance clustered by matched set and a
t reference with (clusters - 1) degrees of freedom. A Mantel-Haenszel risk difference
stratified by set was not chosen: with 1:k sets it weights sets by k/(k+1) instead of the
matching (ATT) weights, and it needs its own variance for sparse strata.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.proportions import Estimate, quiet


@dataclass(frozen=True)
class WeightedResult:
    """Weighted risk difference with a matched-set-clustered standard error.

    Attributes
    ----------
    estimate : Estimate
        Weighted share (intervention) - weighted share (control), with CI.
    pvalue : float
        Two-sided p-value (t with ``n_clusters - 1`` degrees of freedom).
    n_clusters : int
        Number of matched sets contributing.
    share1, share0 : float
        Weighted shares in the intervention and control group.
    """

    estimate: Estimate
    pvalue: float
    n_clusters: int
    share1: float
    share0: float


def weighted_risk_difference(
    value: Sequence[float], treated: Sequence[bool], weight: Sequence[float], cluster: Sequence, alpha: float = 0.05
) -> WeightedResult:
    r"""Weighted risk difference with a cluster-robust (matched-set) sandwich variance.

    Weighted least squares of the 0/1 outcome on an intercept and the intervention
    indicator (statsmodels ``WLS(...).fit(cov_type="cluster")``): the coefficient is the
    difference of weighted shares,

    .. math:: \hat d = \frac{\sum_{T} w_i y_i}{\sum_T w_i} - \frac{\sum_C w_i y_i}{\sum_C w_i},

    with the CR1 sandwich variance clustered by matched set (small-sample factor
    :math:`\frac{G}{G-1}\frac{N-1}{N-2}`) and a t reference with :math:`G - 1` degrees of
    freedom.

    Parameters
    ----------
    value : array of {0, 1}
        Outcome (rows with NaN must be removed beforehand).
    treated : array of bool
        True for the intervention group.
    weight : array of float
        Positive analysis weights (matching weights).
    cluster : array
        Matched set of each row.
    alpha : float
        1 - confidence level.

    Returns
    -------
    WeightedResult
        Degenerate cases (a group empty, fewer than 2 sets, zero variance) give NaN limits
        and p (p is 1 when both weighted shares are equal and the variance is zero).

    Examples
    --------
    Four matched pairs (sets 0-3), participants first:

    >>> res = weighted_risk_difference([1, 0, 1, 1, 0, 0, 1, 0], [True] * 4 + [False] * 4, [1.0] * 8,
    ...                                [0, 1, 2, 3, 0, 1, 2, 3])
    >>> res.estimate.estimate, res.n_clusters, round(res.pvalue, 3)
    (0.5, 4, 0.207)
    """
    y, t, w, g = binary_inputs(value, treated, weight, cluster)
    method = "weighted, matched-set clustered SE"
    nan_est = Estimate(math.nan, math.nan, math.nan, "risk difference", method, alpha)
    if t.sum() == 0 or (~t).sum() == 0:
        return WeightedResult(nan_est, math.nan, int(len(np.unique(g))), math.nan, math.nan)
    s1 = float(np.sum(w[t] * y[t]) / np.sum(w[t]))
    s0 = float(np.sum(w[~t] * y[~t]) / np.sum(w[~t]))
    d = s1 - s0
    n_clusters = int(len(np.unique(g)))
    if n_clusters < 2:
        return WeightedResult(Estimate(d, math.nan, math.nan, "risk difference", method, alpha), math.nan,
                              n_clusters, s1, s0)
    import statsmodels.api as sm

    X = np.column_stack([np.ones_like(y), t.astype(float)])
    with quiet():  # bse is computed lazily: keep it inside (0 events give sqrt(-0) warnings)
        fit = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
        se = float(fit.bse[1])
    if not np.isfinite(se) or se == 0:
        p = 1.0 if abs(d) < 1e-15 else math.nan
        return WeightedResult(Estimate(d, math.nan, math.nan, "risk difference", method, alpha, 0.0), p,
                              n_clusters, s1, s0)
    q = stats.t.isf(alpha / 2, n_clusters - 1)
    p = float(2 * stats.t.sf(abs(d) / se, n_clusters - 1))
    est = Estimate(d, max(-1.0, d - q * se), min(1.0, d + q * se), "risk difference", method, alpha, se)
    return WeightedResult(est, p, n_clusters, s1, s0)


def binary_inputs(value, treated, weight, cluster) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked arrays of a matched binary comparison: 0/1 outcome, treated flag, weight, cluster codes.

    Raises
    ------
    ValueError
        Unequal lengths, an outcome other than 0/1, or a weight that is not positive and finite.
    """
    y = np.asarray(value, dtype=float)
    t = np.asarray(treated, dtype=bool)
    w = np.asarray(weight, dtype=float)
    g = pd.factorize(pd.Series(np.asarray(cluster)))[0]
    if not (len(y) == len(t) == len(w) == len(g)):
        raise ValueError("value, treated, weight and cluster must have the same length")
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("value must be 0 or 1 (drop excluded persons, NaN, first)")
    if (w <= 0).any() or not np.isfinite(w).all():
        raise ValueError("weight must be positive and finite")
    return y, t, w, g
