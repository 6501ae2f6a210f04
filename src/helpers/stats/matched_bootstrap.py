r"""Weighted group means and their difference with a cluster bootstrap over matched sets.

The estimand is the difference of weighted means (the matching, ATT, weights of
``cohort.parquet``) between the intervention group and its matched controls,

.. math:: \hat d = \frac{\sum_{i \in T} w_i y_i v_i}{\sum_{i \in T} w_i v_i}
                 - \frac{\sum_{i \in C} w_i y_i v_i}{\sum_{i \in C} w_i v_i},

where :math:`v_i` marks the rows whose value is observed (e.g. a window wholly inside the
data). With 1:1 pairs and unit weights this is the mean of the within-pair differences.

Uncertainty: whole matched sets are resampled with replacement, the matching held fixed
(Austin & Small 2014, Stat Med 33:4306-19, found this "block" bootstrap over matched pairs
accurate after matching without replacement), so the pairing, the 1:k structure and the
weights travel together; a row without a matched set is its own cluster. After matching
*with* replacement a control shared by several sets is resampled with each of them as if
independent, which can make the interval too narrow (Abadie & Imbens 2008, Econometrica
76:1537-57, on the bootstrap of matching estimators); the report says so for such designs. Each
replicate is a vector of multiplicities :math:`m_c` (multinomial, :math:`G` draws over
:math:`G` sets), and every sum over rows becomes :math:`\sum_c m_c S_c` of the per-set
sums :math:`S_c`, so many outcomes (e.g. every week) are bootstrapped with one matrix
product. The interval is the percentile interval of the replicates; replicates in which a
group has no observed row are dropped (their number is returned).

Why the bootstrap and not a clustered (CR1) variance: weeks in a state are bounded and
skewed (many persons have 0 or all weeks), shares near 0 or 1 are common, and the
investment's effect uncertainty is a bootstrap over the same matched sets; the percentile
interval needs no normal approximation and stays inside the possible range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse


@dataclass(frozen=True)
class MatchedDesign:
    """Rows of a matched analysis: group, weight and matched set (cluster) of each row.

    Attributes
    ----------
    treated : ndarray of bool
    weight : ndarray of float
    cluster : ndarray of int
        0 .. n_clusters - 1.
    n_clusters : int
    """

    treated: np.ndarray
    weight: np.ndarray
    cluster: np.ndarray
    n_clusters: int

    @classmethod
    def from_cohort(cls, cohort: pd.DataFrame, treated_group: str = "intervention") -> MatchedDesign:
        """The design of a ``cohort.parquet`` frame (``group``, ``weight``, ``matched_set``).

        Rows whose ``matched_set`` is missing are clusters of their own.
        """
        for col in ("group", "weight", "matched_set"):
            if col not in cohort.columns:
                raise ValueError(f"cohort: missing column {col!r}; run 02_cohort again")
        sets = cohort["matched_set"].astype(object).where(cohort["matched_set"].notna(), None).to_numpy()
        keys = [("set", s) if s is not None else ("row", i) for i, s in enumerate(sets)]
        cluster, uniques = pd.factorize(pd.Series(keys, dtype=object))
        weight = cohort["weight"].to_numpy(dtype=float)
        if (~np.isfinite(weight)).any() or (weight < 0).any():
            raise ValueError("cohort: column 'weight' must be finite and not negative")
        return cls(cohort["group"].to_numpy() == treated_group, weight, cluster.astype(np.int64), len(uniques))

    def indicator(self) -> sparse.csr_matrix:
        """Sparse (clusters x rows) 0/1 matrix: which rows belong to which set."""
        n = len(self.cluster)
        return sparse.csr_matrix((np.ones(n), (self.cluster, np.arange(n))), shape=(self.n_clusters, n))


def multiplicities(n_clusters: int, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap multiplicities of the matched sets: ``(draws, n_clusters)`` ints, each row summing to ``n_clusters``."""
    if draws <= 0 or n_clusters == 0:
        return np.zeros((0, n_clusters), dtype=np.int64)
    return rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=draws)


@dataclass(frozen=True)
class MeanDifference:
    """Weighted means per group, their difference and percentile intervals (arrays over outcomes).

    Attributes
    ----------
    mean_treated, mean_control, difference : ndarray of float, shape (k,)
        NaN where a group has no observed row.
    lower, upper : ndarray of float, shape (k,)
        Percentile interval of the bootstrap replicates (NaN without replicates).
    n_draws : ndarray of int, shape (k,)
        Replicates used (those in which both groups have an observed row).
    n_clusters : ndarray of int, shape (k,)
        Matched sets with at least one observed row.
    """

    mean_treated: np.ndarray
    mean_control: np.ndarray
    difference: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    n_draws: np.ndarray
    n_clusters: np.ndarray


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def mean_difference(values: np.ndarray, observed: np.ndarray, design: MatchedDesign, multipliers: np.ndarray,
                    *, level: float = 0.95) -> MeanDifference:
    """Weighted means of each column of ``values`` per group, and the difference with a matched-set bootstrap CI.

    Parameters
    ----------
    values : ndarray, shape (n, k)
        One column per outcome (e.g. per week, or per measure x window); rows = design rows.
    observed : ndarray of bool, shape (n, k)
        Which values count (False values are left out of both numerator and denominator).
    design : MatchedDesign
    multipliers : ndarray of int, shape (draws, n_clusters)
        :func:`multiplicities` (share one matrix across outcomes for a joint bootstrap).
    level : float
        Confidence level of the percentile interval.

    Returns
    -------
    MeanDifference
    """
    y = np.asarray(values, dtype=float)
    v = np.asarray(observed, dtype=bool)
    if y.ndim == 1:
        y, v = y[:, None], v[:, None]
    if y.shape != v.shape or y.shape[0] != len(design.cluster):
        raise ValueError("values and observed must have one row per design row and the same shape")
    w = design.weight[:, None] * v
    wy = w * np.where(v, y, 0.0)
    t = design.treated[:, None]
    c = design.indicator()
    num1, den1 = c @ (wy * t), c @ (w * t)
    num0, den0 = c @ (wy * ~t), c @ (w * ~t)
    m1 = _ratio(num1.sum(axis=0), den1.sum(axis=0))
    m0 = _ratio(num0.sum(axis=0), den0.sum(axis=0))
    k = y.shape[1]
    lower = np.full(k, np.nan)
    upper = np.full(k, np.nan)
    used = np.zeros(k, dtype=np.int64)
    m = np.asarray(multipliers, dtype=float)
    if len(m):
        d_b = _ratio(m @ num1, m @ den1) - _ratio(m @ num0, m @ den0)
        ok = np.isfinite(d_b)
        used = ok.sum(axis=0)
        alpha = (1 - level) / 2
        cols = np.flatnonzero(used > 0)
        if len(cols):
            sub = np.where(ok[:, cols], d_b[:, cols], np.nan)
            lower[cols] = np.nanquantile(sub, alpha, axis=0)
            upper[cols] = np.nanquantile(sub, 1 - alpha, axis=0)
    sets = (c @ v.astype(float)) > 0
    return MeanDifference(m1, m0, m1 - m0, lower, upper, used, sets.sum(axis=0).astype(np.int64))
