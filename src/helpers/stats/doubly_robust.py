"""Regression adjustment on the matched sample: the "doubly robust" estimate beside the plain matched one.

Matching balances the covariates on average; regressing the outcome on the treatment *and* the
matching covariates in the matched sample (with the matching weights) removes what imbalance is
left and is consistent when either the matching (propensity) model or the outcome model is
right (Ho, Imai, King & Stuart 2007; Greifer, MatchIt vignette "Estimating effects after
matching"). The estimators mirror the headline ones so that the two sit side by side:

- :func:`adjusted_risk_difference`: weighted least squares of the 0/1 outcome on an intercept,
  the intervention indicator and the covariates (a linear probability model, covariates
  centred at the participants' weighted means), CR1 sandwich variance clustered by matched
  set and a t reference with G - 1 degrees of freedom, as
  :func:`helpers.stats.weighted.weighted_risk_difference` (which it equals without covariates).
  The coefficient of the intervention is the adjusted risk difference.
- :func:`weighted_risk_ratio`: the ratio of weighted shares from a log-link Poisson GLM with the
  same weights and clustered variance (Zou 2004's "modified Poisson"), for the E-value.
- the adjusted hazard ratio is :func:`helpers.stats.survival.cox.cox_intervention` with
  ``adjust_for`` (the Cox model of the headline, the covariates added).

:func:`covariate_matrix` turns cohort columns into numbers: numeric columns as they are (missing
values set to the mean, with a missing-indicator column), other columns as indicators of each
level but the first; columns constant in the sample and columns collinear with the ones before
them are left out (named in ``dropped``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.proportions import Estimate, quiet
from helpers.stats.weighted import binary_inputs


@dataclass(frozen=True)
class Covariates:
    """Numeric design columns built from cohort covariates.

    Attributes
    ----------
    matrix : ndarray, shape (n, k)
    names : list of str
        Column names (``sex``, ``benefit_subcategory=uddannelseshjaelp``, ``age:missing``, ...).
    dropped : list of str
        Covariates or columns left out (constant or collinear).
    """

    matrix: np.ndarray
    names: list[str]
    dropped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AdjustedResult:
    """An adjusted (or plain) effect estimate with a matched-set-clustered standard error.

    Attributes
    ----------
    estimate : Estimate
        Risk difference (or ratio) with its CI.
    pvalue : float
        Two-sided, t with ``n_clusters - 1`` degrees of freedom.
    n : int
        Rows used.
    n_clusters : int
    covariates : list of str
        The design columns adjusted for (empty: unadjusted).
    """

    estimate: Estimate
    pvalue: float
    n: int
    n_clusters: int
    covariates: list[str]


def covariate_matrix(frame: pd.DataFrame, covariates: Sequence[str], base: np.ndarray | None = None) -> Covariates:
    """Numeric columns of ``covariates`` in ``frame`` (see the module docstring).

    Parameters
    ----------
    frame : DataFrame
        One row per analysed cohort row.
    covariates : sequence of str
        Column names of ``frame``.
    base : ndarray, optional
        Columns that are always in the model (intercept, treatment): a covariate column that is
        collinear with them and the columns kept so far is dropped.
    """
    cols: list[np.ndarray] = []
    names: list[str] = []
    dropped: list[str] = []
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise ValueError(f"covariates {missing} are not columns of the cohort; use columns of cohort.parquet")
    for name in covariates:
        values = frame[name]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            x = values.astype(float).to_numpy()
            nan = np.isnan(x)
            if nan.all():
                dropped.append(name)
                continue
            if nan.any():
                x = np.where(nan, np.nanmean(x), x)
                cols.append(nan.astype(float))
                names.append(f"{name}:missing")
            cols.append(x)
            names.append(name)
        else:
            levels = pd.Series(values.astype(str).fillna("missing"))
            for level in sorted(levels.unique())[1:]:
                cols.append((levels == level).to_numpy(dtype=float))
                names.append(f"{name}={level}")
    kept: list[np.ndarray] = []
    kept_names: list[str] = []
    current = base if base is not None else np.ones((len(frame), 1))
    rank = np.linalg.matrix_rank(current)
    for x, name in zip(cols, names, strict=True):
        if np.ptp(x) == 0:
            dropped.append(name)
            continue
        trial = np.column_stack([current, x])
        r = np.linalg.matrix_rank(trial)
        if r > rank:
            current, rank = trial, r
            kept.append(x)
            kept_names.append(name)
        else:
            dropped.append(name)
    matrix = np.column_stack(kept) if kept else np.zeros((len(frame), 0))
    return Covariates(matrix, kept_names, dropped)


def adjusted_risk_difference(value, treated, weight, cluster, covariates: np.ndarray | None = None,
                             names: Sequence[str] = (), alpha: float = 0.05) -> AdjustedResult:
    """Risk difference adjusted for covariates by weighted least squares, SE clustered by matched set.

    Parameters
    ----------
    value : array of {0, 1}
        The outcome (no NaN).
    treated : array of bool
    weight : array of float
        Matching weights.
    cluster : array
        Matched set (or merged cluster) of each row.
    covariates : ndarray, shape (n, k), optional
        Numeric covariate columns (:func:`covariate_matrix`); None or k = 0: unadjusted.
    names : sequence of str
        Their names (reported back).
    alpha : float

    Returns
    -------
    AdjustedResult
        NaN limits and p when a group is empty, there are fewer than 2 clusters or the
        variance is zero.

    Examples
    --------
    The unadjusted estimate is the difference of weighted shares (as ``weighted_risk_difference``):

    >>> r = adjusted_risk_difference([1, 0, 1, 1, 0, 0, 1, 0], [True] * 4 + [False] * 4, [1.0] * 8,
    ...                              [0, 1, 2, 3, 0, 1, 2, 3])
    >>> round(r.estimate.estimate, 12), r.n_clusters, round(r.pvalue, 3)
    (0.5, 4, 0.207)
    """
    y, t, w, g = binary_inputs(value, treated, weight, cluster)
    method = "regression-adjusted (WLS), matched-set clustered SE"
    n_clusters = int(len(np.unique(g)))
    x = np.zeros((len(y), 0)) if covariates is None else np.asarray(covariates, dtype=float).reshape(len(y), -1)
    nan = AdjustedResult(Estimate(math.nan, math.nan, math.nan, "risk difference", method, alpha), math.nan,
                         len(y), n_clusters, list(names))
    if t.sum() == 0 or (~t).sum() == 0 or n_clusters < 2:
        return nan
    import statsmodels.api as sm

    if x.shape[1]:
        centre = np.average(x[t], axis=0, weights=w[t])  # the participants' means: the coefficient is the ATT
        x = x - centre
    design = np.column_stack([np.ones_like(y), t.astype(float), x])
    with quiet():
        fit = sm.WLS(y, design, weights=w).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
        d, se = float(fit.params[1]), float(fit.bse[1])
    if not np.isfinite(se) or se == 0:
        return AdjustedResult(Estimate(d, math.nan, math.nan, "risk difference", method, alpha), math.nan, len(y),
                              n_clusters, list(names))
    q = stats.t.isf(alpha / 2, n_clusters - 1)
    p = float(2 * stats.t.sf(abs(d) / se, n_clusters - 1))
    return AdjustedResult(Estimate(d, d - q * se, d + q * se, "risk difference", method, alpha, se), p, len(y),
                          n_clusters, list(names))


def weighted_risk_ratio(value, treated, weight, cluster, alpha: float = 0.05) -> AdjustedResult:
    """Ratio of weighted shares with a matched-set-clustered CI (log-link Poisson GLM, "modified Poisson").

    The log ratio's variance is the CR1 sandwich of the log-link GLM of the outcome on the
    intervention indicator (its score summed by cluster; small-sample factor
    :math:`\\frac{G}{G-1}\\frac{N-1}{N-2}` as in ``weighted_risk_difference``); t reference with G - 1 df.

    Examples
    --------
    >>> r = weighted_risk_ratio([1, 1, 1, 0, 1, 0, 0, 0], [True] * 4 + [False] * 4, [1.0] * 8,
    ...                         [0, 1, 2, 3, 0, 1, 2, 3])
    >>> round(r.estimate.estimate, 6)
    3.0
    """
    y, t, w, g = binary_inputs(value, treated, weight, cluster)
    method = "ratio of weighted shares, log-link GLM, matched-set clustered SE"
    n_clusters = int(len(np.unique(g)))
    nan = AdjustedResult(Estimate(math.nan, math.nan, math.nan, "risk ratio", method, alpha), math.nan, len(y),
                         n_clusters, [])
    if t.sum() == 0 or (~t).sum() == 0 or n_clusters < 2:
        return nan
    s1 = float(np.sum(w[t] * y[t]) / np.sum(w[t]))
    s0 = float(np.sum(w[~t] * y[~t]) / np.sum(w[~t]))
    if s1 == 0 or s0 == 0:
        return nan
    b = math.log(s1 / s0)
    # the score of the log-link GLM per row, summed by cluster: the CR1 sandwich of log(s1 / s0)
    u = np.where(t, w * (y - s1) / (np.sum(w[t]) * s1), -w * (y - s0) / (np.sum(w[~t]) * s0))
    per_cluster = np.bincount(g, weights=u)
    n = len(y)
    se = math.sqrt(n_clusters / (n_clusters - 1) * (n - 1) / (n - 2) * float(np.sum(per_cluster ** 2)))
    if not np.isfinite(se) or se == 0:
        return AdjustedResult(Estimate(math.exp(b), math.nan, math.nan, "risk ratio", method, alpha), math.nan,
                              len(y), n_clusters, [])
    q = stats.t.isf(alpha / 2, n_clusters - 1)
    p = float(2 * stats.t.sf(abs(b) / se, n_clusters - 1))
    return AdjustedResult(Estimate(math.exp(b), math.exp(b - q * se), math.exp(b + q * se), "risk ratio", method,
                                   alpha, se), p, len(y), n_clusters, [])
