"""Cox proportional-hazards models of lasting self-support and their proportional-hazards checks.

The hazard ratio is cause-specific (competing events censor). With 1:1 matched sets the
baseline hazard is stratified by matched set; otherwise one baseline hazard is fitted with
the matching weights and robust errors clustered on matched set (:func:`cox_intervention`).
Efron ties, as R ``coxph``; the reference tests reproduce R on the Rossi data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning, StatisticalWarning
from lifelines.statistics import proportional_hazard_test

from helpers.stats.outcome_comparison import analysis_clusters
from helpers.stats.survival.km import Z95
from helpers.stats.survival.tte import GROUPS, SELF_SUPPORT


@dataclass
class CoxResult:
    """A fitted Cox model: tidy coefficients, global tests and the lifelines model."""

    summary: pd.DataFrame  # covariate, coef, se, hr, hr_low, hr_high, z, p
    log_likelihood_ratio: float
    lr_df: int
    lr_p: float
    concordance: float
    n: int
    n_events: int
    method: str
    note: str = ""
    model: CoxPHFitter | None = field(default=None, repr=False)
    data: pd.DataFrame | None = field(default=None, repr=False)

    def row(self, covariate: str) -> pd.Series:
        """The summary row of one covariate."""
        return self.summary.set_index("covariate").loc[covariate]


def fit_cox(
    frame: pd.DataFrame,
    duration_col: str,
    event_col: str,
    covariates: Sequence[str],
    *,
    event_of_interest=None,
    strata: str | Sequence[str] | None = None,
    cluster_col: str | None = None,
    weights_col: str | None = None,
    robust: bool = False,
    method: str = "unstratified",
) -> CoxResult:
    """Cox proportional-hazards model (lifelines ``CoxPHFitter``, Efron ties, as R ``coxph``).

    Parameters
    ----------
    frame : DataFrame
        One row per person.
    duration_col, event_col : str
        Duration and event columns. With ``event_of_interest`` the event is
        ``frame[event_col] == event_of_interest`` (other values censor: cause-specific hazard).
    covariates : sequence of str
        Numeric covariates.
    strata, cluster_col, weights_col, robust
        Passed to ``CoxPHFitter.fit``.
    """
    cols = [duration_col, event_col, *covariates]
    extra = [c for c in ([strata] if isinstance(strata, str) else list(strata or [])) + [cluster_col, weights_col]
             if c is not None and c not in cols]
    data = frame[cols + list(dict.fromkeys(extra))].copy().reset_index(drop=True)
    if event_of_interest is not None:
        data[event_col] = (frame[event_col].to_numpy() == event_of_interest).astype(int)
    n_events = int(data[event_col].sum())
    cph = CoxPHFitter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.simplefilter("ignore", StatisticalWarning)
        cph.fit(data, duration_col=duration_col, event_col=event_col, strata=strata, cluster_col=cluster_col,
                weights_col=weights_col, robust=robust)
    note = ""
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        note = "lifelines reported a convergence problem (few events or separation); read the estimate with care"
    s = cph.summary
    summary = pd.DataFrame({
        "covariate": s.index.astype(str), "coef": s["coef"].to_numpy(), "se": s["se(coef)"].to_numpy(),
        "hr": s["exp(coef)"].to_numpy(), "hr_low": s["exp(coef) lower 95%"].to_numpy(),
        "hr_high": s["exp(coef) upper 95%"].to_numpy(), "z": s["z"].to_numpy(), "p": s["p"].to_numpy(),
    })
    lr = cph.log_likelihood_ratio_test()
    return CoxResult(summary=summary, log_likelihood_ratio=float(lr.test_statistic), lr_df=int(lr.degrees_freedom),
                     lr_p=float(lr.p_value), concordance=float(cph.concordance_index_), n=len(data),
                     n_events=n_events, method=method, note=note, model=cph, data=data)


def _covariate_frame(
    tte: pd.DataFrame, cohort: pd.DataFrame | None, adjust_for: Sequence[str]
) -> tuple[pd.DataFrame, list[str]]:
    frame = tte.copy()
    frame["intervention"] = (frame["group"] == "intervention").astype(int)
    names = ["intervention"]
    if adjust_for:
        if cohort is None:
            raise ValueError("survival.adjust_for names covariates but no cohort frame was given")
        missing = [c for c in adjust_for if c not in cohort.columns]
        if missing:
            raise ValueError(f"cohort.parquet: survival.adjust_for names column(s) {missing} that the cohort lacks; "
                             f"use columns of cohort.parquet")
        same_rows = len(cohort) == len(frame) and (cohort["person_id"].to_numpy() == frame["person_id"].to_numpy()).all()
        if same_rows:  # row by row (a control reused in several matched sets has covariates per set)
            cov = cohort[list(adjust_for)].reset_index(drop=True)
        else:
            cov = cohort.set_index("person_id")[list(adjust_for)].reindex(frame["person_id"]).reset_index(drop=True)
        for col in adjust_for:
            values = cov[col]
            if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                frame[col] = values.astype(float).to_numpy()
                names.append(col)
            else:
                dummies = pd.get_dummies(values.astype("category"), prefix=col, drop_first=True, dtype=float)
                for d in dummies.columns:
                    frame[d] = dummies[d].to_numpy()
                    names.append(d)
        bad = frame[names].isna().any(axis=1)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"cohort.parquet: row {row}: missing value in a survival.adjust_for covariate; "
                             f"impute it or drop the covariate from survival.adjust_for")
    return frame, names


def is_one_to_one(tte: pd.DataFrame) -> bool:
    """True when every matched set holds one intervention and one control person with weight 1."""
    per_set = pd.crosstab(tte["matched_set"], tte["group"]).reindex(columns=list(GROUPS), fill_value=0)
    return bool((per_set == 1).all(axis=None) and np.allclose(tte["weight"], 1.0))


def cox_intervention(
    tte: pd.DataFrame,
    cohort: pd.DataFrame | None = None,
    *,
    adjust_for: Sequence[str] = (),
    method: Literal["auto", "strata", "cluster"] = "auto",
) -> CoxResult:
    """Cause-specific hazard ratio of lasting self-support, intervention vs control.

    ``method="strata"`` stratifies the baseline hazard by matched set (the paired
    analysis for 1:1 sets: a conditional HR); ``"cluster"`` fits one baseline hazard with
    the matching weights and robust (sandwich) errors clustered on matched set (a marginal
    HR, the study default: docs/headline-estimator.md); when a control serves in several
    sets (matching with replacement), sets sharing a control are merged into one cluster
    (:func:`helpers.stats.outcome_comparison.analysis_clusters`, as for the risk difference);
    ``"auto"`` picks ``strata`` when every set is 1:1 with unit weights, else ``cluster``.
    Competing events censor (cause-specific hazard).

    Examples
    --------
    >>> import pandas as pd
    >>> tte = pd.DataFrame({"person_id": [f"p{i}" for i in range(8)], "matched_set": [0, 1, 2, 3] * 2,
    ...                     "group": ["intervention"] * 4 + ["control"] * 4, "weight": 1.0,
    ...                     "duration": [5, 8, 12, 20, 10, 15, 25, 30], "event": [1, 1, 1, 0, 1, 0, 1, 0]})
    >>> cox = cox_intervention(tte, method="cluster")
    >>> cox.method, round(float(cox.row("intervention")["hr"]), 2)
    ('cluster', 4.31)
    """
    frame, names = _covariate_frame(tte, cohort, adjust_for)
    if method == "auto":
        method = "strata" if is_one_to_one(tte) else "cluster"
    notes = []
    if method == "strata":
        # covariates constant within every matched set (e.g. exact-matching variables) are
        # absorbed by the strata and would make the model singular
        constant = [c for c in names[1:] if (frame.groupby("matched_set")[c].nunique(dropna=False) <= 1).all()]
        if constant:
            names = [c for c in names if c not in constant]
            notes.append(f"covariates constant within matched sets left out (absorbed by the strata): "
                         f"{', '.join(constant)}")
    by_group = frame.groupby("group")["event"].apply(lambda e: int((e == SELF_SUPPORT).sum()))
    if (by_group.reindex(list(GROUPS), fill_value=0) == 0).any():
        return _empty_cox(names, len(frame), int(by_group.sum()), method,
                          "no lasting self-support events in one group: the hazard ratio cannot be estimated")
    weighted = not np.allclose(frame["weight"], 1.0)
    try:
        if method == "strata":
            result = fit_cox(frame, "duration", "event", names, event_of_interest=SELF_SUPPORT,
                             strata="matched_set", weights_col="weight" if weighted else None, robust=weighted,
                             method="strata")
        else:
            reused = "person_id" in frame and frame["person_id"].duplicated().any()  # matching with replacement
            if reused:  # sets sharing a reused control are one cluster, as in the outcome stage
                frame["_cluster"] = analysis_clusters(frame["matched_set"], frame["person_id"])
            result = fit_cox(frame, "duration", "event", names, event_of_interest=SELF_SUPPORT,
                             cluster_col="_cluster" if reused else "matched_set", weights_col="weight", robust=True,
                             method="cluster")
            if reused:
                notes.append(f"controls reused across matched sets (matching with replacement): robust variance "
                             f"clustered by matched set, sets sharing a control merged "
                             f"({frame['_cluster'].nunique()} clusters)")
    except (ConvergenceError, ValueError, np.linalg.LinAlgError) as err:
        first = str(err).split(".")[0]
        return _empty_cox(names, len(frame), int(by_group.sum()), method,
                          "; ".join(notes + [f"the Cox model did not converge ({first})"]))
    result.note = "; ".join(notes + ([result.note] if result.note else []))
    return result


def _empty_cox(names, n, n_events, method, note) -> CoxResult:
    summary = pd.DataFrame({"covariate": names, **{k: np.nan for k in ("coef", "se", "hr", "hr_low", "hr_high",
                                                                        "z", "p")}})
    return CoxResult(summary=summary, log_likelihood_ratio=np.nan, lr_df=len(names), lr_p=np.nan,
                     concordance=np.nan, n=n, n_events=n_events, method=method, note=note)


def ph_test(cox: CoxResult, time_transform: str | Sequence[str] = "rank") -> pd.DataFrame:
    """Scaled-Schoenfeld test of proportional hazards per covariate (like R ``cox.zph``).

    Returns ``covariate, transform, statistic, p`` (lifelines
    ``proportional_hazard_test``; R's default transform is ``km``, lifelines' ``rank``).
    """
    transforms = [time_transform] if isinstance(time_transform, str) else list(time_transform)
    if cox.model is None:
        return pd.DataFrame({"covariate": [], "transform": [], "statistic": [], "p": []})
    rows = []
    for tr in transforms:
        with warnings.catch_warnings():
            # the km transform fits a weighted KM internally; its variance is not used
            warnings.simplefilter("ignore", StatisticalWarning)
            res = proportional_hazard_test(cox.model, cox.data, time_transform=tr)
        stat = np.atleast_1d(res.test_statistic)
        pvals = np.atleast_1d(res.p_value)
        for cov, st, p in zip(cox.model.params_.index, stat, pvals, strict=True):
            rows.append({"covariate": str(cov), "transform": tr, "statistic": float(st), "p": float(p)})
    return pd.DataFrame(rows)


def schoenfeld_bins(cox: CoxResult, covariate: str, min_cell: int, *, n_bins: int = 6,
                    duration_col: str = "duration") -> pd.DataFrame:
    """Scaled Schoenfeld residuals of one covariate, averaged in bins of consecutive events.

    Each bin holds at least ``min_cell`` events (so no single residual, i.e. no single
    person's event time, is shown). Returns ``time`` (mean event time of the bin, whole
    weeks), ``beta_t`` (coefficient + mean scaled residual: the time-varying log hazard
    ratio), ``lower``, ``upper`` (mean +- 1.96 SE), ``events``.
    """
    if cox.model is None:
        return pd.DataFrame(columns=["time", "beta_t", "lower", "upper", "events"])
    resid = cox.model.compute_residuals(cox.data, kind="scaled_schoenfeld")[covariate]
    times = cox.data.loc[resid.index, duration_col].to_numpy(dtype=float)
    order = np.argsort(times, kind="stable")
    values = resid.to_numpy(dtype=float)[order] + float(cox.model.params_[covariate])
    times = times[order]
    n = len(values)
    k = max(1, min(n_bins, n // max(min_cell, 1)))
    edges = np.linspace(0, n, k + 1).round().astype(int)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        v = values[lo:hi]
        if len(v) == 0:
            continue
        se = v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else np.nan
        m = float(v.mean())
        rows.append({"time": float(round(times[lo:hi].mean())), "beta_t": m, "lower": m - Z95 * se,
                     "upper": m + Z95 * se, "events": len(v)})
    return pd.DataFrame(rows)

