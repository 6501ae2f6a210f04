"""Questionnaire progression: 0-10 ratings at inclusion (baseline) and after the programme.

Seed 000 plans the person's own and the caseworker's rating of work ability, health and
social situation at inclusion and at follow-up. For each measure x rater:

- **Within each group** (:func:`change_by_group`): the paired change follow-up - baseline
  among persons with both ratings, its mean with a paired t 95% CI and p-value.
- **Between groups** (:func:`ancova`): the difference in follow-up between intervention and
  control adjusted for baseline (ANCOVA, ``followup ~ baseline + intervention``), fitted
  by (weighted) least squares with standard errors clustered by matched set (t with
  sets - 1 df), or HC3 when there are no matched sets. For complete cases ANCOVA is the
  usual estimator of the between-group difference in change; the unadjusted difference in
  mean change is shown next to it.
- **Missing data are counted, never dropped silently**: every row reports, per group, how
  many cohort members there are, how many lack the baseline rating, the follow-up
  rating, and how many have both (the analysed persons). The analysis is complete-case;
  if follow-up is missing more often in one group, the comparison may be biased, and the
  counts let the reader see it.

Examples
--------
>>> forms = pd.DataFrame({
...     "person_id": ["a", "a", "b", "b"], "timepoint": ["baseline", "followup"] * 2,
...     "rater": "self", "measure": "health", "value": [3, 5, 4, 4]})
>>> cohort = pd.DataFrame({"person_id": ["a", "b"], "group": ["intervention", "control"],
...                        "matched_set": [1, 1], "weight": [1.0, 1.0]})
>>> wide = questionnaire_wide(forms, cohort, measures=["health"], raters=["self"])
>>> wide[["baseline", "followup"]].to_numpy().tolist()
[[3.0, 5.0], [4.0, 4.0]]
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats.outcome_comparison import analysis_clusters

GROUPS = ("intervention", "control")
FORM_COLUMNS = ("person_id", "timepoint", "rater", "measure", "value")
COHORT_COLUMNS = ("person_id", "group", "matched_set", "weight")


def _first_bad(mask: pd.Series) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def questionnaire_wide(
    forms: pd.DataFrame,
    cohort: pd.DataFrame,
    *,
    measures=("work_ability", "health", "social_situation"),
    raters=("self", "caseworker"),
    baseline: str = "baseline",
    followup: str = "followup",
    scale_min: int = 0,
    scale_max: int = 10,
    source: str = "questionnaires",
) -> pd.DataFrame:
    """One row per cohort member x rater x measure with the baseline and follow-up rating.

    Every cohort member appears for every rater and measure, with NaN where a rating is
    missing (no row, or a blank value). Form rows of persons outside the cohort are
    ignored (the form also covers the register pool of potential controls).

    Parameters
    ----------
    forms : DataFrame
        Long questionnaire form: ``person_id, timepoint, rater, measure, value``.
    cohort : DataFrame
        ``person_id, group, matched_set, weight`` (``cohort.parquet``).
    measures, raters : sequence of str
        What to analyse (``study.outcomes.questionnaires``).
    baseline, followup : str
        The two ``timepoint`` values.
    scale_min, scale_max : int
        Allowed range of ``value``.
    source : str
        Name of the form in error messages.

    Returns
    -------
    DataFrame
        ``person_id, group, matched_set, weight, cluster, rater, measure, baseline,
        followup`` (one row per person and group; see :func:`_person_level`).

    Raises
    ------
    ValueError
        Naming the form, column and row: missing columns, a value that is not a number in
        the scale, or two ratings of one person, rater, measure and time point.
    """
    miss = [c for c in FORM_COLUMNS if c not in forms.columns]
    if miss:
        raise ValueError(f"{source}: missing column(s) {miss}; expected {list(FORM_COLUMNS)}")
    miss = [c for c in COHORT_COLUMNS if c not in cohort.columns]
    if miss:
        raise ValueError(f"cohort: missing column(s) {miss}; expected {list(COHORT_COLUMNS)}")
    bad = ~cohort["group"].isin(GROUPS)
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(f"cohort: column 'group', row {i}: '{cohort['group'].iloc[i]}' is not 'intervention' or 'control'")
    f = forms.reset_index(drop=True)
    rel = f["timepoint"].isin([baseline, followup]) & f["rater"].isin(raters) & f["measure"].isin(measures)
    rel &= f["person_id"].isin(cohort["person_id"])
    value = pd.to_numeric(f["value"], errors="coerce")
    bad = rel & ((value.isna() & f["value"].notna() & (f["value"].astype(str).str.strip() != ""))
                 | (value.notna() & ((value < scale_min) | (value > scale_max))))
    if bad.any():
        i = _first_bad(bad)
        raise ValueError(
            f"{source}: column 'value', row {i}: '{f['value'].iloc[i]}' is not a rating from {scale_min} to "
            f"{scale_max}; correct it or leave it blank (missing)"
        )
    f = f.assign(value=value)[rel]
    dup = f.dropna(subset=["value"]).duplicated(["person_id", "timepoint", "rater", "measure"], keep="first")
    if dup.any():
        i = int(dup[dup].index[0])
        raise ValueError(
            f"{source}: row {i}: a second {f.loc[i, 'timepoint']} rating of {f.loc[i, 'measure']!r} by "
            f"{f.loc[i, 'rater']!r} for the same person; keep one rating per person, rater, measure and time point"
        )
    f = f.dropna(subset=["value"])
    piv = f.pivot_table(index=["person_id", "rater", "measure"], columns="timepoint", values="value", aggfunc="first")
    piv = piv.reindex(columns=[baseline, followup]).rename(columns={baseline: "baseline", followup: "followup"})
    persons = _person_level(cohort)
    base = persons.merge(pd.DataFrame({"rater": list(raters)}), how="cross").merge(
        pd.DataFrame({"measure": list(measures)}), how="cross")
    wide = base.merge(piv.astype(float).reset_index(), on=["person_id", "rater", "measure"], how="left")
    wide.columns.name = None
    return wide[["person_id", "group", "matched_set", "weight", "cluster", "rater", "measure", "baseline", "followup"]]


def _person_level(cohort: pd.DataFrame) -> pd.DataFrame:
    """One row per person and group: ratings are per person, not per matched set.

    A control used in several matched sets (matching with replacement) gets the sum of its
    set weights (MatchIt's unit weight); ``cluster`` joins sets that share a person
    (:func:`helpers.stats.outcome_comparison.analysis_clusters`), NaN when there are no matched sets.
    """
    c = cohort[list(COHORT_COLUMNS)].reset_index(drop=True)
    if c["matched_set"].notna().any():
        c["cluster"] = analysis_clusters(c["matched_set"], c["person_id"]).astype(float)
    else:
        c["cluster"] = np.nan
    return (c.groupby(["person_id", "group"], sort=False, as_index=False)
             .agg(matched_set=("matched_set", "first"), weight=("weight", "sum"), cluster=("cluster", "first")))


def change_by_group(wide: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Paired change (follow-up - baseline) within each group, with missing data counted.

    Returns
    -------
    DataFrame
        One row per rater x measure x group: ``n_cohort, missing_baseline,
        missing_followup, n_complete, mean_baseline, mean_followup`` (both among complete
        cases), ``mean_change, sd_change, change_lower, change_upper, p_change`` (paired
        t-test; NaN with fewer than 2 complete cases).
    """
    rows = []
    for (rater, measure, group), s in wide.groupby(["rater", "measure", "group"], sort=False):
        comp = s.dropna(subset=["baseline", "followup"])
        d = (comp["followup"] - comp["baseline"]).to_numpy(dtype=float)
        n = len(d)
        row = {
            "rater": rater, "measure": measure, "group": group, "n_cohort": len(s),
            "missing_baseline": int(s["baseline"].isna().sum()), "missing_followup": int(s["followup"].isna().sum()),
            "n_complete": n,
            "mean_baseline": comp["baseline"].mean() if n else np.nan,
            "mean_followup": comp["followup"].mean() if n else np.nan,
            "mean_change": d.mean() if n else np.nan,
            "sd_change": d.std(ddof=1) if n > 1 else np.nan,
            "change_lower": np.nan, "change_upper": np.nan, "p_change": np.nan,
        }
        if n > 1:
            se = row["sd_change"] / math.sqrt(n)
            q = stats.t.isf(alpha / 2, n - 1)
            row["change_lower"], row["change_upper"] = row["mean_change"] - q * se, row["mean_change"] + q * se
            if se > 0:
                row["p_change"] = float(2 * stats.t.sf(abs(row["mean_change"]) / se, n - 1))
            else:
                row["p_change"] = 1.0 if row["mean_change"] == 0 else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def ancova(wide: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Between-group difference in follow-up adjusted for baseline, per rater x measure.

    Fits ``followup = b0 + b1 * baseline + d * intervention`` on complete cases by weighted
    least squares (statsmodels ``WLS``, weights = matching weights) with the cluster-robust
    (CR1) covariance by matched set and a t reference with sets - 1 df; when no matched sets
    are given (all missing), HC3 with the residual df.

    Returns
    -------
    DataFrame
        ``rater, measure, n_int, n_ctl, n_sets, diff_change`` (unadjusted difference of mean
        change, intervention - control), ``ancova_diff, ancova_lower, ancova_upper, ancova_p,
        se_type``. NaN when a group has no complete cases or the model cannot be fitted.
    """
    import statsmodels.api as sm

    rows = []
    for (rater, measure), s in wide.groupby(["rater", "measure"], sort=False):
        comp = s.dropna(subset=["baseline", "followup"])
        t = (comp["group"] == "intervention").to_numpy()
        row = {"rater": rater, "measure": measure, "n_int": int(t.sum()), "n_ctl": int((~t).sum()), "n_sets": np.nan,
               "diff_change": np.nan, "ancova_diff": np.nan, "ancova_lower": np.nan, "ancova_upper": np.nan,
               "ancova_p": np.nan, "se_type": ""}
        if t.sum() and (~t).sum():
            change = (comp["followup"] - comp["baseline"]).to_numpy(dtype=float)
            row["diff_change"] = change[t].mean() - change[~t].mean()
        if t.sum() >= 1 and (~t).sum() >= 1 and len(comp) >= 4:
            X = np.column_stack([np.ones(len(comp)), comp["baseline"].to_numpy(float), t.astype(float)])
            y = comp["followup"].to_numpy(float)
            w = comp["weight"].to_numpy(float)
            if np.linalg.matrix_rank(X) == 3:
                sets = comp["cluster"] if "cluster" in comp else comp["matched_set"]
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore", RuntimeWarning)
                    if sets.notna().all():
                        groups = pd.factorize(sets)[0]
                        n_sets = int(len(np.unique(groups)))
                        fit = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
                        df, se_type = n_sets - 1, "cluster (matched set)"
                        row["n_sets"] = n_sets
                    else:
                        fit = sm.WLS(y, X, weights=w).fit(cov_type="HC3", use_t=True)
                        df, se_type = fit.df_resid, "HC3"
                est, se = float(fit.params[2]), float(fit.bse[2])
                row["ancova_diff"], row["se_type"] = est, se_type
                if np.isfinite(se) and se > 0 and df >= 1:
                    q = stats.t.isf(alpha / 2, df)
                    row["ancova_lower"], row["ancova_upper"] = est - q * se, est + q * se
                    row["ancova_p"] = float(2 * stats.t.sf(abs(est) / se, df))
        rows.append(row)
    return pd.DataFrame(rows)


def questionnaire_results(
    forms: pd.DataFrame, cohort: pd.DataFrame, study=None, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Within-group change and between-group ANCOVA in one frame, one row per rater x measure.

    Parameters
    ----------
    forms : DataFrame
        The questionnaire form (``load_form(study, "questionnaires")``).
    cohort : DataFrame
        ``cohort.parquet``.
    study : Study, optional
        Supplies ``outcomes.questionnaires`` (measures, raters, time points, scale).

    Returns
    -------
    DataFrame
        ``rater, measure``, then per group (suffix ``_int`` / ``_ctl``) the columns of
        :func:`change_by_group`, then the columns of :func:`ancova`.
    """
    kw = {}
    if study is not None:
        q = study.outcomes.questionnaires
        kw = dict(measures=q.measures, raters=q.raters, baseline=q.baseline, followup=q.followup,
                  scale_min=q.scale_min, scale_max=q.scale_max)
    wide = questionnaire_wide(forms, cohort, **kw)
    ch = change_by_group(wide, alpha)
    parts = []
    for g, tag in (("intervention", "int"), ("control", "ctl")):
        part = ch[ch["group"] == g].drop(columns="group").set_index(["rater", "measure"])
        parts.append(part.add_suffix(f"_{tag}"))
    res = pd.concat(parts, axis=1).reset_index()
    an = ancova(wide, alpha).drop(columns=["n_int", "n_ctl"])
    res = res.merge(an, on=["rater", "measure"], how="left")
    order_r = {r: i for i, r in enumerate(kw.get("raters", wide["rater"].unique()))}
    order_m = {m: i for i, m in enumerate(kw.get("measures", wide["measure"].unique()))}
    res = res.sort_values(["rater", "measure"], key=lambda c: c.map(order_r if c.name == "rater" else order_m))
    return res.reset_index(drop=True)


def missing_followup_shares(results: pd.DataFrame) -> tuple[float, float]:
    """Share (%) of follow-up ratings missing across all measures and raters, intervention and control.

    Returns
    -------
    (float, float)
        Percentages 0-100 of the cohort members' follow-up ratings that are missing (NaN
        when a group has no cohort members).
    """
    def share(tag: str) -> float:
        n = results[f"n_cohort_{tag}"].sum()
        return 100.0 * results[f"missing_followup_{tag}"].sum() / n if n else float("nan")

    return share("int"), share("ctl")
