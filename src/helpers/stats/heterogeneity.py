"""Subgroups (exploratory): the primary risk difference and the hazard ratio within pre-declared subgroups.

A matched set belongs to the subgroup of its participant (the intervention person of the set),
so every subgroup keeps whole matched sets and its comparison keeps the matching. Within each
level the estimators are the headline ones: the weighted risk difference clustered by matched
set (:func:`helpers.stats.weighted.weighted_risk_difference`) and the Cox model of
:func:`helpers.stats.survival.cox.cox_intervention`.

The interaction tests ask whether the effect differs between the levels:

- risk difference: weighted least squares of the outcome on intervention, the level indicators
  and their products, CR1 variance clustered by matched set; Wald F test that every product
  is 0 (:func:`interaction_rd`);
- hazard ratio: one Cox model with intervention, the level indicators and their products
  (matching weights, robust variance clustered by matched set; with ``strata`` the level
  indicators are absorbed by the matched-set strata); Wald chi-square test of the products
  with the robust variance (:func:`interaction_hr`).

Nothing here is masked: :mod:`helpers.disclosure.robustness` masks levels with small cells.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines.exceptions import ConvergenceError
from scipy import stats

from helpers.config.schema.robustness import AGE_SUBGROUP
from helpers.stats.outcome_comparison import analysis_clusters
from helpers.stats.proportions import quiet
from helpers.stats.survival.cox import cox_intervention, fit_cox, is_one_to_one
from helpers.stats.survival.tte import SELF_SUPPORT
from helpers.stats.weighted import weighted_risk_difference

#: Columns of :func:`subgroup_table`.
SUBGROUP_COLUMNS = (
    "subgroup", "level", "persons_int", "persons_ctl", "n_int", "N_int", "n_ctl", "N_ctl", "rd", "rd_lower",
    "rd_upper", "events_int", "events_ctl", "hr", "hr_lower", "hr_upper",
)
SEX_LEVELS = {1: "male", 2: "female"}


def subgroup_levels(cohort: pd.DataFrame, name: str) -> pd.Series:
    """The level of subgroup ``name`` for every cohort row: the value of the participant of its matched set.

    Parameters
    ----------
    cohort : DataFrame
        ``cohort.parquet`` (``group``, ``matched_set`` and ``sex``, ``age`` or ``benefit_subcategory``).
    name : str
        ``sex`` (``male``/``female``), ``benefit_type`` (benefit subcategory at the index week) or
        ``age_under_<years>`` (``under``/``over``: age below the cut, or at least the cut).

    Examples
    --------
    >>> c = pd.DataFrame({"group": ["intervention", "control"] * 2, "matched_set": [0, 0, 1, 1],
    ...                   "age": [25.0, 40.0, 50.0, 20.0]})
    >>> subgroup_levels(c, "age_under_30").tolist()
    ['under', 'under', 'over', 'over']
    """
    age = AGE_SUBGROUP.match(name)
    if name == "sex":
        values = pd.to_numeric(cohort["sex"], errors="coerce").map(SEX_LEVELS).fillna("unknown")
    elif name == "benefit_type":
        values = cohort["benefit_subcategory"].astype(object).where(cohort["benefit_subcategory"].notna(), "unknown")
        values = values.replace("", "unknown")
    elif age:
        a = pd.to_numeric(cohort["age"], errors="coerce")
        values = pd.Series(np.where(a.isna(), "unknown", np.where(a < int(age.group(1)), "under", "over")),
                           index=cohort.index)
    else:
        raise ValueError(f"unknown subgroup {name!r}")
    participant = values[cohort["group"] == "intervention"]
    by_set = pd.Series(participant.to_numpy(), index=cohort.loc[participant.index, "matched_set"].to_numpy())
    by_set = by_set[~by_set.index.duplicated()]
    return pd.Series(cohort["matched_set"].map(by_set).fillna("unknown").astype(str).to_numpy(), index=cohort.index)


def _hr(tte: pd.DataFrame, method: str) -> tuple[float, float, float]:
    cox = cox_intervention(tte, method=method)
    row = cox.row("intervention")
    return float(row["hr"]), float(row["hr_low"]), float(row["hr_high"])


def subgroup_table(outcome: pd.DataFrame, tte: pd.DataFrame | None, levels: pd.Series, subgroup: str, *,
                   cox_method: str = "cluster", alpha: float = 0.05) -> pd.DataFrame:
    """Counts, risk difference and hazard ratio in each level of one subgroup (unmasked).

    Parameters
    ----------
    outcome : DataFrame
        The primary outcome at one horizon, one row per cohort row: ``person_id, group,
        matched_set, weight, value`` (NaN = excluded), in cohort order.
    tte : DataFrame or None
        ``tte.parquet`` in cohort order (None: no hazard ratios).
    levels : Series
        :func:`subgroup_levels` of the cohort (same order).
    subgroup : str
    cox_method : {"cluster", "strata", "auto"}
    alpha : float

    Returns
    -------
    DataFrame
        :data:`SUBGROUP_COLUMNS`: persons per group, outcome counts ``n`` of ``N``, the weighted RD
        and CI, lasting self-support events per group and the HR and CI (NaN: not estimable).
    """
    rows = []
    lv = levels.to_numpy()
    for level in sorted(pd.unique(lv)):
        sel = lv == level
        sub = outcome.loc[sel]
        valid = sub.dropna(subset=["value"])
        treated = valid["group"] == "intervention"
        row: dict = {"subgroup": subgroup, "level": str(level)}
        for tag, g in (("int", "intervention"), ("ctl", "control")):
            row[f"persons_{tag}"] = int(sub.loc[sub["group"] == g, "person_id"].nunique())
            v = valid.loc[valid["group"] == g, "value"]
            row[f"n_{tag}"], row[f"N_{tag}"] = int(v.sum()), int(len(v))
        rd = weighted_risk_difference(valid["value"], treated, valid["weight"],
                                      analysis_clusters(valid["matched_set"], valid["person_id"]), alpha)
        row.update(rd=rd.estimate.estimate, rd_lower=rd.estimate.lower, rd_upper=rd.estimate.upper)
        row.update(events_int=np.nan, events_ctl=np.nan, hr=np.nan, hr_lower=np.nan, hr_upper=np.nan)
        if tte is not None:
            t = tte.loc[sel].reset_index(drop=True)
            for tag, g in (("int", "intervention"), ("ctl", "control")):
                row[f"events_{tag}"] = int(((t["group"] == g) & (t["event"] == SELF_SUPPORT)).sum())
            if t["group"].nunique() == 2:
                row["hr"], row["hr_lower"], row["hr_upper"] = _hr(t, cox_method)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUBGROUP_COLUMNS))


def _indicators(levels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    lv = np.asarray(levels, dtype=object)
    names = sorted(pd.unique(lv))[1:]
    return (np.column_stack([(lv == n).astype(float) for n in names]) if names else np.zeros((len(lv), 0))), names


def interaction_rd(value, treated, weight, cluster, levels) -> tuple[float, int, float]:
    """Wald F test that the risk difference is the same in every level (cluster-robust; see the module docstring).

    Returns
    -------
    (F, df, p) : (float, int, float)
        NaN when there is one level only or the model cannot be fitted.
    """
    y = np.asarray(value, dtype=float)
    t = np.asarray(treated, dtype=float)
    d, names = _indicators(levels)
    if not names:
        return math.nan, 0, math.nan
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ValueWarning

    g = pd.factorize(pd.Series(np.asarray(cluster)))[0]
    x = np.column_stack([np.ones_like(y), t, d, d * t[:, None]])
    k = d.shape[1]
    r = np.zeros((k, x.shape[1]))
    r[:, 2 + k:] = np.eye(k)
    try:
        with quiet(), warnings.catch_warnings():
            warnings.simplefilter("error", ValueWarning)  # constraints without full rank: no valid test
            fit = sm.WLS(y, x, weights=np.asarray(weight, dtype=float)).fit(cov_type="cluster",
                                                                            cov_kwds={"groups": g}, use_t=True)
            test = fit.wald_test(r, use_f=True, scalar=True)
        f, p = float(np.squeeze(test.statistic)), float(np.squeeze(test.pvalue))
    except (ValueError, ValueWarning, np.linalg.LinAlgError):  # a level without variation: no test
        return math.nan, k, math.nan
    return (f, k, p) if np.isfinite(f) else (math.nan, k, math.nan)


def interaction_hr(tte: pd.DataFrame, levels, method: str = "cluster") -> tuple[float, int, float]:
    """Wald chi-square test that the hazard ratio is the same in every level (robust variance).

    Returns
    -------
    (chi2, df, p) : (float, int, float)
        NaN when there is one level only or the model does not converge.
    """
    d, names = _indicators(levels)
    if not names:
        return math.nan, 0, math.nan
    if method == "auto":
        method = "strata" if is_one_to_one(tte) else "cluster"
    frame = tte.reset_index(drop=True).copy()
    frame["intervention"] = (frame["group"] == "intervention").astype(float)
    main = [f"level_{i}" for i in range(len(names))]
    inter = [f"intervention_x_level_{i}" for i in range(len(names))]
    for i in range(len(names)):
        frame[main[i]] = d[:, i]
        frame[inter[i]] = d[:, i] * frame["intervention"]
    frame["_cluster"] = analysis_clusters(frame["matched_set"], frame["person_id"])
    try:
        if method == "strata":  # set-level subgroups are constant within sets: absorbed by the strata
            cox = fit_cox(frame, "duration", "event", ["intervention", *inter], event_of_interest=SELF_SUPPORT,
                          strata="matched_set", robust=True, weights_col="weight")
        else:
            cox = fit_cox(frame, "duration", "event", ["intervention", *main, *inter], event_of_interest=SELF_SUPPORT,
                          cluster_col="_cluster", weights_col="weight", robust=True)
    except (ConvergenceError, ValueError, np.linalg.LinAlgError):
        return math.nan, len(names), math.nan
    beta = cox.model.params_[inter].to_numpy(dtype=float)
    cov = cox.model.variance_matrix_.loc[inter, inter].to_numpy(dtype=float)
    try:
        chi2 = float(beta @ np.linalg.solve(cov, beta))
    except np.linalg.LinAlgError:
        return math.nan, len(names), math.nan
    if not np.isfinite(chi2):
        return math.nan, len(names), math.nan
    return chi2, len(names), float(stats.chi2.sf(chi2, len(names)))
