"""Covariate balance between groups: standardized mean differences, variance ratios, effective sample size.

Conventions follow R MatchIt's ``summary.matchit`` (and cobalt), so that the balance of a
match can be compared with MatchIt's published output:

- every covariate becomes one or more *terms*: a continuous variable is one term, a 0/1
  variable is one binary term, a categorical variable is one binary term per level;
- means are weighted by the matching weights (unweighted before matching);
- the standardized mean difference (SMD) is the difference of (weighted) means divided by a
  standard deviation taken from the **full, unmatched sample** and fixed across before/after:
  for the ATT the SD of the treated group, for the ATC that of the controls, for the ATE the
  pooled :math:`\\sqrt{(s_t^2 + s_c^2)/2}`; for a binary term the SD is :math:`\\sqrt{p(1-p)}`;
- the variance ratio (continuous terms only) is :math:`s_t^2 / s_c^2` with the weighted
  variance :math:`\\sum_i w_i (x_i - \\bar x_w)^2 / (1 - \\sum_i w_i^2)` (weights normalised to
  sum 1), which is the ordinary sample variance when all weights are equal.

.. math::

    \\mathrm{SMD} = \\frac{\\bar x_{t,w} - \\bar x_{c,w}}{s^{*}}

References
----------
Ho, Imai, King & Stuart (2011), MatchIt, J Stat Softw 42(8); ``R/summary.matchit.R``.
Austin (2009), Balance diagnostics for comparing the distribution of baseline covariates
between treatment groups in propensity-score matched samples, Stat Med 28:3083-3107.

Examples
--------
>>> df = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0], "x": [1.0, 2.0, 3.0, 2.0, 3.0, 4.0]})
>>> balance_table(df, ["x"], "treated")[["variable", "smd", "var_ratio"]]
  variable  smd  var_ratio
0        x -1.0        1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Estimand = Literal["ATT", "ATC", "ATE"]

#: Columns of :func:`balance_table`.
BALANCE_COLUMNS = [
    "variable", "level", "kind", "mean_treated", "mean_control", "smd", "var_ratio",
    "n_treated", "n_control", "count_treated", "count_control", "missing_treated", "missing_control",
]


@dataclass(frozen=True)
class Term:
    """One row of a balance table: a continuous variable, a 0/1 variable or one level of a category.

    Attributes
    ----------
    variable : str
        Covariate name.
    level : str or None
        Level of a categorical covariate (None for continuous and 0/1 variables).
    kind : {"continuous", "binary"}
    values : ndarray of float
        The term's values (0/1 for binary terms); NaN where the covariate is missing.
    """

    variable: str
    level: str | None
    kind: Literal["continuous", "binary"]
    values: np.ndarray

    @property
    def key(self) -> tuple[str, str]:
        """``(variable, level)`` with ``""`` for no level."""
        return self.variable, "" if self.level is None else str(self.level)


def expand_terms(frame: pd.DataFrame, covariates: Sequence[str], *,
                 categorical: Sequence[str] = ()) -> list[Term]:
    """Split covariates into balance terms.

    A covariate is categorical when listed in ``categorical`` or when its dtype is object,
    string, category or bool-with-labels; its levels (sorted, or in category order) each
    give a binary term. A numeric covariate whose values are all 0 or 1 is binary; any
    other numeric covariate is continuous.

    Raises
    ------
    KeyError
        When a covariate is not a column of ``frame``.
    """
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise KeyError(f"balance: covariate(s) {missing} not in the data; columns are {list(frame.columns)}")
    terms: list[Term] = []
    for name in covariates:
        s = frame[name]
        is_cat = name in categorical or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
        if is_cat:
            na = s.isna().to_numpy()
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(s.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
            for lv in levels:
                vals = (s == lv).to_numpy(dtype=float)
                vals[na] = np.nan
                terms.append(Term(name, str(lv), "binary", vals))
            continue
        vals = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        finite = vals[~np.isnan(vals)]
        kind = "binary" if finite.size and np.isin(finite, (0.0, 1.0)).all() else "continuous"
        terms.append(Term(name, None, kind, vals))
    return terms


def weighted_mean(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted mean over non-missing values (NaN when no weight)."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = ~np.isnan(x) & (w > 0)
    sw = w[ok].sum()
    return float((w[ok] * x[ok]).sum() / sw) if sw > 0 else np.nan


def weighted_var(x: np.ndarray, w: np.ndarray | None = None, *, binary: bool = False) -> float:
    """Weighted variance as MatchIt/cobalt compute it.

    Continuous: :math:`\\sum w_i (x_i - \\bar x_w)^2 / (1 - \\sum w_i^2)` with the weights
    normalised to sum 1 (the sample variance, ``ddof=1``, for equal weights).
    Binary: :math:`p(1-p)` with the weighted proportion :math:`p`.
    """
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = ~np.isnan(x) & (w > 0)
    x, w = x[ok], w[ok]
    if w.size == 0:
        return np.nan
    w = w / w.sum()
    mean = float((w * x).sum())
    if binary:
        return mean * (1.0 - mean)
    denom = 1.0 - float((w ** 2).sum())
    if denom <= 0:
        return np.nan
    return float((w * (x - mean) ** 2).sum() / denom)


def sd_denominators(frame: pd.DataFrame, covariates: Sequence[str], treat: str, *,
                    estimand: Estimand = "ATT", weights: np.ndarray | None = None,
                    categorical: Sequence[str] = ()) -> pd.Series:
    """Standard deviations that standardize mean differences, one per term.

    Computed on ``frame`` (normally the full, unmatched sample) with optional sampling
    ``weights``: ATT uses the treated group, ATC the controls, ATE the pooled
    :math:`\\sqrt{(s_t^2+s_c^2)/2}`. Where the chosen SD is 0 (a constant covariate in that
    group) the SD over both groups is used instead, so that a real difference is not
    reported as infinite.

    Returns
    -------
    Series indexed by ``(variable, level)``.
    """
    t = _treat_mask(frame, treat)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    out = {}
    for term in expand_terms(frame, covariates, categorical=categorical):
        binary = term.kind == "binary"
        var_t = weighted_var(term.values[t], w[t], binary=binary)
        var_c = weighted_var(term.values[~t], w[~t], binary=binary)
        if estimand == "ATT":
            var = var_t
        elif estimand == "ATC":
            var = var_c
        elif estimand == "ATE":
            var = (var_t + var_c) / 2.0
        else:
            raise ValueError(f"estimand must be ATT, ATC or ATE, got {estimand!r}")
        if not var > 0:
            var = weighted_var(term.values, w, binary=binary)
        out[term.key] = float(np.sqrt(var)) if var > 0 else np.nan
    return pd.Series(out, dtype=float)


def _treat_mask(frame: pd.DataFrame, treat: str) -> np.ndarray:
    if treat not in frame.columns:
        raise KeyError(f"balance: treatment column {treat!r} not in the data")
    col = frame[treat]
    if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype):
        raise TypeError(f"balance: treatment column {treat!r} must be 0/1 or boolean")
    values = col.to_numpy()
    if not np.isin(values, (0, 1, True, False)).all():
        raise ValueError(f"balance: treatment column {treat!r} must hold only 0/1")
    return values.astype(bool)


def balance_table(frame: pd.DataFrame, covariates: Sequence[str], treat: str,
                  weights: np.ndarray | pd.Series | None = None, *, estimand: Estimand = "ATT",
                  denominators: pd.Series | None = None, categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Balance of ``covariates`` between treated (``treat`` = 1) and controls.

    Parameters
    ----------
    frame : DataFrame
        One row per unit (or per matched-set membership).
    covariates : sequence of str
        Columns to compare; categorical ones give one row per level.
    treat : str
        0/1 treatment column.
    weights : array-like, optional
        Matching weights (default: all 1).
    estimand : {"ATT", "ATC", "ATE"}
        Chooses the SD that standardizes the difference (see module docstring).
    denominators : Series, optional
        SDs from :func:`sd_denominators` on the full sample. Default: computed from
        ``frame`` itself (right only for the unmatched sample).
    categorical : sequence of str
        Numeric covariates to treat as categorical (e.g. ``sex`` coded 1/2).

    Returns
    -------
    DataFrame
        Columns ``variable, level, kind, mean_treated, mean_control, smd, var_ratio,
        n_treated, n_control, count_treated, count_control, missing_treated,
        missing_control``. ``count_*`` are unweighted numbers of units with the level
        (binary terms only); ``n_*`` are numbers of units (rows).
    """
    t = _treat_mask(frame, treat)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(frame),):
        raise ValueError("balance: weights must have one value per row")
    if denominators is None:
        denominators = sd_denominators(frame, covariates, treat, estimand=estimand, categorical=categorical)
    rows = []
    for term in expand_terms(frame, covariates, categorical=categorical):
        binary = term.kind == "binary"
        xt, xc = term.values[t], term.values[~t]
        wt, wc = w[t], w[~t]
        mt, mc = weighted_mean(xt, wt), weighted_mean(xc, wc)
        sd = denominators.get(term.key, np.nan)
        diff = mt - mc
        if abs(diff) < 1e-12:
            smd = 0.0
        else:
            smd = diff / sd if sd > 0 else np.nan
        vr = np.nan
        if not binary:
            vc = weighted_var(xc, wc)
            vr = weighted_var(xt, wt) / vc if vc > 0 else np.nan
        rows.append({
            "variable": term.variable, "level": term.level, "kind": term.kind,
            "mean_treated": mt, "mean_control": mc, "smd": smd, "var_ratio": vr,
            "n_treated": int(((wt > 0) & ~np.isnan(xt)).sum()), "n_control": int(((wc > 0) & ~np.isnan(xc)).sum()),
            "count_treated": int(np.nansum(xt[wt > 0])) if binary else np.nan,
            "count_control": int(np.nansum(xc[wc > 0])) if binary else np.nan,
            "missing_treated": int(np.isnan(xt[wt > 0]).sum()), "missing_control": int(np.isnan(xc[wc > 0]).sum()),
        })
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def compare_balance(before: pd.DataFrame, after: pd.DataFrame, covariates: Sequence[str], treat: str, *,
                    weights_before: np.ndarray | None = None, weights_after: np.ndarray | None = None,
                    estimand: Estimand = "ATT", categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Balance before and after matching, with SDs from the full sample (as MatchIt).

    Returns a long frame: the columns of :func:`balance_table` plus ``sample``
    (``"before"`` / ``"after"``).
    """
    den = sd_denominators(before, covariates, treat, estimand=estimand, weights=weights_before,
                          categorical=categorical)
    b = balance_table(before, covariates, treat, weights_before, estimand=estimand, denominators=den,
                      categorical=categorical)
    a = balance_table(after, covariates, treat, weights_after, estimand=estimand, denominators=den,
                      categorical=categorical)
    b.insert(0, "sample", "before")
    a.insert(0, "sample", "after")
    return pd.concat([b, a], ignore_index=True)


def smd_wide(balance: pd.DataFrame) -> pd.DataFrame:
    """One row per term with ``smd_before``, ``smd_after`` (for a love plot)."""
    key = ["variable", "level"]
    frame = balance.assign(level=balance["level"].fillna(""))
    wide = frame.pivot_table(index=key, columns="sample", values="smd", aggfunc="first", dropna=False, sort=False)
    wide = wide.rename(columns={"before": "smd_before", "after": "smd_after"}).reset_index()
    wide.columns.name = None
    order = frame.drop_duplicates(key)[key]
    return order.merge(wide, on=key, how="left")


def max_abs_smd(balance: pd.DataFrame, sample: str = "after", variables: Sequence[str] | None = None) -> float:
    """Largest |SMD| in ``sample`` (optionally among ``variables``), ignoring undefined ones."""
    sel = balance[balance["sample"] == sample] if "sample" in balance.columns else balance
    if variables is not None:
        sel = sel[sel["variable"].isin(list(variables))]
    vals = sel["smd"].abs().dropna()
    return float(vals.max()) if len(vals) else np.nan


def over_threshold(balance: pd.DataFrame, threshold: float, sample: str = "after") -> pd.DataFrame:
    """Terms of ``sample`` whose |SMD| exceeds ``threshold``, largest first.

    A categorical covariate with two levels is one comparison (its levels have the same
    |SMD| with opposite signs): only its last level is kept. Terms with an undefined SMD are
    left out.

    Returns
    -------
    DataFrame
        The balance rows (:data:`BALANCE_COLUMNS`), sorted by |SMD| descending.
    """
    sel = balance[balance["sample"] == sample] if "sample" in balance.columns else balance
    n_levels = sel.groupby("variable", sort=False)["level"].transform(lambda s: s.notna().sum())
    last = ~sel.duplicated("variable", keep="last")
    sel = sel[(n_levels != 2) | last]
    big = sel[sel["smd"].abs() > threshold]
    return big.iloc[np.argsort(-big["smd"].abs().to_numpy(), kind="stable")].reset_index(drop=True)


def overlap_histogram(samples: dict[str, np.ndarray], n_bins: int = 20) -> pd.DataFrame:
    """Counts per bin of a score (e.g. the propensity-score distance) for several samples on common bins.

    The bins split the range between the 1st and 99th percentile of all values pooled into
    ``n_bins`` equal parts; values outside fall into the first or last bin, so no single
    extreme value sets an edge.

    Returns
    -------
    DataFrame
        ``bin, left, right`` and one count column per sample (in ``samples`` order).
    """
    pooled = np.concatenate([np.asarray(v, dtype=float) for v in samples.values()])
    pooled = pooled[np.isfinite(pooled)]
    lo, hi = (np.percentile(pooled, [1, 99]) if len(pooled) else (0.0, 1.0))
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, n_bins + 1)
    out = pd.DataFrame({"bin": np.arange(n_bins), "left": edges[:-1], "right": edges[1:]})
    for name, values in samples.items():
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, n_bins - 1)
        out[name] = np.bincount(idx, minlength=n_bins)
    return out


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size :math:`(\\sum w)^2 / \\sum w^2` (MatchIt's "Matched (ESS)")."""
    w = np.asarray(weights, dtype=float)
    w = w[w > 0]
    return float(w.sum() ** 2 / (w ** 2).sum()) if w.size else 0.0
