"""Time to lasting self-support: time-to-event data, Kaplan-Meier, Cox, competing risks, RMST.

Definitions (chosen here and printed in the report)
---------------------------------------------------
Time origin
    Follow-up starts the week **after** the index week: ``t = 1`` is the first week after
    inclusion, so the index week itself never counts (it is the week the person met the
    inclusion rule, on benefits by construction).
Event 1, lasting self-support
    The first week ``t`` that starts a run of ``survival.lasting_weeks`` (N, default 4)
    consecutive self-supported weeks (:func:`helpers.outcomes.status.self_supported`: no public
    transfer or holiday pay from work; with ``survival.require_employment`` or
    ``data.self_support.require_employment`` the week must also fall in a month with
    employment). ``duration`` is the first week of the run, not its last.
Event 2, disability pension (competing, when ``survival.competing_disability_pension``)
    The first week with a code of category ``disability_pension``. When the option is off,
    disability-pension weeks are simply not self-supported and the person stays at risk.
Event 3, exit (when ``survival.exits == "competing"``)
    The first week with emigration (997), state pension (998) or death (999). Follow-up
    ends at the **first** such week: a person who returns after emigrating is not followed
    again (re-entry is ignored). With ``exits == "censor"`` the exit censors instead.
Censoring (event 0)
    Every person has a last observed week ``E``: the last week inside the data (or
    ``max_weeks``), or the week before an exit that censors. A run that starts in week
    ``t`` can only be seen complete when ``t + N - 1 <= E``, so follow-up for *every* event
    type is censored at ``c = E - (N - 1)``; events after ``c`` are not counted. Using one
    censoring time for all event types keeps the risk sets of the competing events equal.
    A run cut off by the end of data is therefore censored, never counted.

Event in the index week
    A disability-pension or exit code already in the index week (week 0) leaves no
    follow-up: duration 0, censored (the cohort rules should exclude such persons).

The weeks come from :func:`helpers.outcomes.status.lasting_self_support` (run detection, exits,
disability pension, last observed week); :func:`events_from_weeks` applies the rules above.

Summary file (``survival_results.json``, written by notebook 04; keys)
---------------------------------------------------------------------
``study``, ``definition`` (the choices above), ``n`` (persons per group),
``events`` (per group: self_support, disability_pension, exit, censored; counts below
min_cell as ``"<m"``), ``hr``, ``hr_ci_low``, ``hr_ci_high``, ``hr_p``, ``cox_method``
(``strata``/``cluster``), ``cox_note``, ``hr_sensitivity`` (the other method: ``method``,
``hr``, ``ci_low``, ``ci_high``, ``p``), ``logrank_chi2``, ``logrank_p``,
``median_weeks`` (per group, rounded up to the curve grid; None when not reached),
``fixed_times`` (list of ``weeks``, ``control``, ``intervention``, ``difference``,
``ci_low``, ``ci_high``, ``p``, ``masked``: cumulative share reaching lasting self-support,
1 - KM; values None and ``masked`` true where the estimate rests on small counts),
``rmst_horizon_weeks`` (the YAML
horizon, capped at the shorter group's follow-up), ``rmst_weeks`` (per group: restricted
mean weeks *before* lasting self-support), ``weeks_after_lasting_self_support`` (per group:
horizon minus RMST), **``rmst_difference_weeks``** (intervention minus control in weeks
after reaching lasting self-support = RMST_control - RMST_intervention; positive favours
the intervention), **``rmst_difference_ci_low``**, **``rmst_difference_ci_high``** (95%
CI: percentile bootstrap over matched sets when ``bootstrap_draws`` > 0, else Greenwood),
``rmst_difference_p`` (Greenwood, normal), ``rmst_difference_ci_greenwood``,
``rmst_ci_method``, ``cif_weeks_after_difference`` (the same quantity from the
Aalen-Johansen incidence, i.e. competing events not treated as censoring) with
``cif_weeks_after_difference_ci_low``/``_ci_high`` (bootstrap), ``ph_test`` (per
covariate: statistic, p; rank transform), ``ph_ok``, ``bootstrap_draws``,
``seed_offsets``. RMST values are None (and ``rmst_masked`` true) when a group has fewer
than min_cell events before the horizon.

Note for the investment calculation: weeks *after first reaching* lasting self-support
are not the same as self-supported weeks. People can fall back onto benefits, so these
weeks overstate the benefit weeks saved when relapse is common; the KM version also
treats competing events as censoring (the Aalen-Johansen version does not).

Randomness: Aalen-Johansen tie jitter uses ``seed + 4``; the matched-set bootstrap
``seed + 2`` (docs/architecture.md, "Randomness").
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    StatisticalWarning,
)
from lifelines.statistics import (
    logrank_test,
    proportional_hazard_test,
    survival_difference_at_fixed_point_in_time_test,
)
from lifelines.utils import median_survival_times, restricted_mean_survival_time
from scipy import stats

from helpers.core.codes import CodeBook
from helpers.core.store import MonthlyEmployment, WeeklyStatus
from helpers.disclosure import (
    MASK,
    Check,
    check_counts,
    check_steps,
    is_small,
    km_step_times,
)
from helpers.outcomes import status
from helpers.stats.proportions import analysis_clusters

CENSORED, SELF_SUPPORT, DISABILITY_PENSION, EXIT = 0, 1, 2, 3
EVENT_NAMES = {SELF_SUPPORT: "self_support", DISABILITY_PENSION: "disability_pension", EXIT: "exit"}
EVENT_LABELS = {
    "en": {CENSORED: "Censored", SELF_SUPPORT: "Lasting self-support", DISABILITY_PENSION: "Disability pension",
           EXIT: "Death, emigration or state pension"},
    "da": {CENSORED: "Censureret", SELF_SUPPORT: "Varig selvforsørgelse", DISABILITY_PENSION: "Førtidspension",
           EXIT: "Død, udvandring eller folkepension"},
}
GROUPS = ("control", "intervention")
GROUP_LABELS = {"en": {"control": "Control", "intervention": "Intervention"},
                "da": {"control": "Kontrol", "intervention": "Indsats"}}
SEED_OFFSET_BOOTSTRAP = 2
SEED_OFFSET_AJ = 4
TTE_COLUMNS = ["person_id", "group", "matched_set", "weight", "duration", "event"]
COHORT_COLUMNS = ("person_id", "group", "index_week", "matched_set", "weight")
_Z = stats.norm.ppf(0.975)


# =====================================================================================
# time-to-event construction
# =====================================================================================
def events_from_weeks(
    weeks: pd.DataFrame,
    *,
    lasting_weeks: int = 4,
    exits: Literal["censor", "competing"] = "competing",
    competing_disability_pension: bool = True,
    max_weeks: int | None = None,
) -> pd.DataFrame:
    """Duration and event type from the per-person weeks of :func:`helpers.outcomes.status.lasting_self_support`.

    Parameters
    ----------
    weeks : DataFrame
        ``lasting_week``, ``disability_pension_week``, ``exit_week``, ``last_week``
        (weeks after the index week; -1 = none).
    lasting_weeks : int
        N, the run length that made self-support lasting (for the censoring rule).
    exits : {"competing", "censor"}
        Whether the first emigration/state-pension/death week is event 3 or censors.
    competing_disability_pension : bool
        Whether the first disability-pension week is event 2.
    max_weeks : int, optional
        Administrative end of follow-up (weeks after the index week).

    Returns
    -------
    DataFrame
        ``duration`` (int, weeks) and ``event`` (0 censored, 1 lasting self-support,
        2 disability pension, 3 exit), same row order. The first of the events counts;
        every event type is censored at ``c = E - (N - 1)`` (module docstring), where ``E``
        is ``last_week`` or, when exits censor, the week before the first exit. An exit or
        disability pension in the index week itself (week 0) leaves no follow-up:
        duration 0, censored.

    Examples
    --------
    >>> w = pd.DataFrame({"lasting_week": [5, -1, 9], "disability_pension_week": [-1, -1, 3],
    ...                   "exit_week": [-1, 7, -1], "last_week": [100, 100, 100]})
    >>> events_from_weeks(w, lasting_weeks=4).to_dict("list")
    {'duration': [5, 7, 3], 'event': [1, 3, 2]}
    >>> events_from_weeks(w, lasting_weeks=4, exits="censor").to_dict("list")
    {'duration': [5, 3, 3], 'event': [1, 0, 2]}
    """
    n_lasting = int(lasting_weeks)
    if n_lasting < 1:
        raise ValueError("lasting_weeks must be at least 1")
    if exits not in ("censor", "competing"):
        raise ValueError(f"exits must be 'censor' or 'competing', got {exits!r}")
    never = np.iinfo(np.int64).max

    def when(col: str) -> np.ndarray:
        w = weeks[col].to_numpy(dtype=np.int64)
        return np.where(w >= 0, w, never)

    t_ss = when("lasting_week")
    t_dp = when("disability_pension_week") if competing_disability_pension else np.full(len(weeks), never)
    t_exit = when("exit_week")
    last_seen = weeks["last_week"].to_numpy(dtype=np.int64)
    if exits == "censor":
        last_seen = np.where(t_exit < never, np.minimum(last_seen, t_exit - 1), last_seen)
    censor_at = last_seen - (n_lasting - 1)
    if max_weeks is not None:
        censor_at = np.minimum(censor_at, int(max_weeks))

    t_comp = t_exit if exits == "competing" else np.full(len(weeks), never)
    candidates = np.vstack([t_ss, t_dp, t_comp])
    first = candidates.min(axis=0)
    kind = np.array([SELF_SUPPORT, DISABILITY_PENSION, EXIT])[candidates.argmin(axis=0)]
    no_follow_up = (np.minimum(t_dp, t_comp) < 1) | (censor_at < 1)
    observed = (first <= censor_at) & ~no_follow_up
    duration = np.where(observed, first, np.where(no_follow_up, 0, np.maximum(censor_at, 0)))
    event = np.where(observed, kind, CENSORED)
    return pd.DataFrame({"duration": duration.astype(np.int64), "event": event.astype(np.int8)})


def check_cohort(cohort: pd.DataFrame, source: str = "cohort.parquet") -> None:
    """Raise ValueError naming file, column and row when the cohort frame breaks the contract."""
    missing = [c for c in COHORT_COLUMNS if c not in cohort.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; notebook 02 writes them (docs/architecture.md)")
    bad_group = ~cohort["group"].isin(GROUPS)
    if bad_group.any():
        row = int(np.flatnonzero(bad_group.to_numpy())[0])
        raise ValueError(f"{source}: column 'group', row {row}: {cohort['group'].iloc[row]!r} is not "
                         f"'intervention' or 'control'; fix the cohort step")
    for col in ("index_week", "matched_set", "weight"):
        values = pd.to_numeric(cohort[col], errors="coerce")
        bad = values.isna() | (values < 0) if col != "weight" else values.isna() | (values <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"{source}: column {col!r}, row {row}: missing or invalid value; "
                             f"every cohort member needs a {col} ({'> 0' if col == 'weight' else '>= 0'})")


def time_to_event(
    cohort: pd.DataFrame,
    weekly: WeeklyStatus,
    monthly: MonthlyEmployment | None,
    study,
) -> pd.DataFrame:
    """Build the time-to-event frame of a study's cohort from the weekly store.

    Parameters
    ----------
    cohort : DataFrame
        ``cohort.parquet``: person_id, group, index_week (DREAM week), matched_set, weight.
    weekly : WeeklyStatus
        Weekly codes covering at least the index weeks and the follow-up.
    monthly : MonthlyEmployment or None
        Monthly employment; needed only when employment is required.
    study : Study
        The study (``survival``, ``data.self_support``, ``data.category_overrides``).

    Returns
    -------
    DataFrame
        ``person_id, group, matched_set, weight, duration, event`` (see the module docstring).
    """
    check_cohort(cohort)
    cfg = study.survival
    index_weeks = cohort["index_week"].to_numpy(dtype=np.int64)
    outside = (index_weeks < weekly.first_week) | (index_weeks > weekly.last_week)
    if outside.any():
        row = int(np.flatnonzero(outside)[0])
        raise ValueError(f"cohort.parquet: column 'index_week', row {row}: week {index_weeks[row]} is outside the "
                         f"weekly store ({weekly.first_week}-{weekly.last_week}); reload the store with these weeks")
    require_employment = bool(cfg.require_employment or study.data.self_support.require_employment)
    if require_employment and monthly is None:
        raise ValueError("the study requires employment in self-supported weeks "
                         "(survival.require_employment or data.self_support.require_employment) "
                         "but no monthly employment (monthly.parquet) was given")
    weeks = status.lasting_self_support(
        weekly, monthly, weekly.rows_of(cohort["person_id"]), index_weeks, n=cfg.lasting_weeks,
        require_employment=require_employment, codebook=CodeBook.default(study.data.category_overrides),
        extra_codes=study.data.self_support.extra_codes,
    )
    tte = events_from_weeks(weeks, lasting_weeks=cfg.lasting_weeks, exits=cfg.exits,
                            competing_disability_pension=cfg.competing_disability_pension, max_weeks=cfg.max_weeks)
    out = cohort[["person_id", "group", "matched_set", "weight"]].reset_index(drop=True).copy()
    out["matched_set"] = out["matched_set"].astype(np.int64)
    out["weight"] = out["weight"].astype(float)
    out["duration"] = tte["duration"].to_numpy()
    out["event"] = tte["event"].to_numpy()
    return out[TTE_COLUMNS]


def event_counts(tte: pd.DataFrame, *, group_col: str = "group", groups: Sequence = GROUPS) -> pd.DataFrame:
    """Persons, events by type and censored per group (unmasked; mask before showing)."""
    rows = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        row = {"group": g, "n": len(sub)}
        for code, name in EVENT_NAMES.items():
            row[name] = int((sub["event"] == code).sum())
        row["censored"] = int((sub["event"] == CENSORED).sum())
        rows.append(row)
    return pd.DataFrame(rows)


# =====================================================================================
# Kaplan-Meier, log-rank, fixed times, medians, RMST
# =====================================================================================
@dataclass
class LogRankResult:
    """Log-rank test of equal hazards of the event of interest between two groups."""

    chi2: float
    df: int
    p: float


def _weights(frame: pd.DataFrame, weight_col: str | None) -> np.ndarray | None:
    if weight_col is None or weight_col not in frame.columns:
        return None
    w = frame[weight_col].to_numpy(dtype=float)
    return None if np.allclose(w, 1.0) else w


def fit_km(durations, observed, weights=None, label: str | None = None) -> KaplanMeierFitter:
    """Kaplan-Meier fit (lifelines), quiet about deliberate non-integer weights."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return KaplanMeierFitter(label=label).fit(np.asarray(durations, dtype=float),
                                                  np.asarray(observed, dtype=bool), weights=weights)


def km_by_group(
    tte: pd.DataFrame,
    *,
    event_of_interest=SELF_SUPPORT,
    duration_col: str = "duration",
    event_col: str = "event",
    group_col: str = "group",
    groups: Sequence = GROUPS,
    weight_col: str | None = "weight",
) -> dict:
    """One Kaplan-Meier fit per group for the event of interest (other events censor).

    Returns a dict ``{group: KaplanMeierFitter}`` in the order of ``groups``.
    """
    fits = {}
    for g in groups:
        sub = tte[tte[group_col] == g]
        if sub.empty:
            raise ValueError(f"no persons in group {g!r} (column {group_col!r})")
        fits[g] = fit_km(sub[duration_col], sub[event_col] == event_of_interest, _weights(sub, weight_col), str(g))
    return fits


def _step_value(frame: pd.DataFrame, t: float) -> np.ndarray:
    """Row of a step-function frame (index = times) at time t (right-continuous)."""
    idx = frame.index.values
    pos = np.searchsorted(idx, t, side="right") - 1
    return frame.iloc[max(pos, 0)].to_numpy(dtype=float)


def km_at(fits: dict, times: Sequence[float]) -> pd.DataFrame:
    """Kaplan-Meier estimates at ``times`` for each group.

    Returns
    -------
    DataFrame
        ``group, time, survival, cumulative`` (= 1 - survival, the share that has had the
        event), ``lower``, ``upper`` (95% CI of ``cumulative``, lifelines' log(-log)
        Greenwood interval), ``se`` (Greenwood SE), ``at_risk`` (number with duration >= t,
        weighted when the fit is). Times beyond a group's last observation are NaN.
    """
    rows = []
    for g, kmf in fits.items():
        last = float(kmf.durations.max())
        sf = kmf.survival_function_
        ci = kmf.confidence_interval_survival_function_
        csq = kmf._cumulative_sq_  # Greenwood sum, lifelines' own (used by its fixed-time test)
        table = kmf.event_table
        for t in times:
            if t > last:
                rows.append({"group": g, "time": t, "survival": np.nan, "cumulative": np.nan, "lower": np.nan,
                             "upper": np.nan, "se": np.nan, "at_risk": 0.0})
                continue
            s = float(_step_value(sf, t)[0])
            lo_s, hi_s = _step_value(ci, t)
            var = s**2 * float(_step_value(csq.to_frame(), t)[0])
            at_risk = float(table.loc[table.index >= t, "removed"].sum()) if t > 0 else float(table["removed"].sum())
            rows.append({"group": g, "time": t, "survival": s, "cumulative": 1 - s, "lower": 1 - hi_s,
                         "upper": 1 - lo_s, "se": math.sqrt(max(var, 0.0)), "at_risk": at_risk})
    return pd.DataFrame(rows)


def logrank(
    tte: pd.DataFrame,
    *,
    event_of_interest=SELF_SUPPORT,
    duration_col: str = "duration",
    event_col: str = "event",
    group_col: str = "group",
    groups: Sequence = GROUPS,
    weight_col: str | None = "weight",
) -> LogRankResult:
    """Log-rank test between the two ``groups`` (lifelines ``logrank_test``)."""
    a = tte[tte[group_col] == groups[0]]
    b = tte[tte[group_col] == groups[1]]
    wa, wb = _weights(a, weight_col), _weights(b, weight_col)
    if (wa is None) != (wb is None):
        wa = wa if wa is not None else np.ones(len(a))
        wb = wb if wb is not None else np.ones(len(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        res = logrank_test(a[duration_col], b[duration_col], a[event_col] == event_of_interest,
                           b[event_col] == event_of_interest, weights_A=wa, weights_B=wb)
    return LogRankResult(chi2=float(res.test_statistic), df=1, p=float(res.p_value))


def medians(fits: dict, grid: int = 1) -> pd.DataFrame:
    """Median time to the event per group with 95% CI, rounded outward to a ``grid`` of weeks.

    A median is one person's event time; rounding it up to the disclosure grid (and the
    CI outward) keeps individual times out of the report. ``None``/NaN = not reached.
    """
    rows = []
    for g, kmf in fits.items():
        med = float(kmf.median_survival_time_)
        ci = median_survival_times(kmf.confidence_interval_)
        lo, hi = (float(v) for v in np.asarray(ci, dtype=float).ravel()[:2])

        def up(x):
            return np.nan if not np.isfinite(x) else float(math.ceil(x / grid) * grid)

        def down(x):
            return np.nan if not np.isfinite(x) else float(math.floor(x / grid) * grid)

        rows.append({"group": g, "median": up(med), "lower": down(lo), "upper": up(hi)})
    return pd.DataFrame(rows)


def fixed_time_differences(fits: dict, times: Sequence[float], groups: Sequence = GROUPS) -> pd.DataFrame:
    """Difference in the cumulative share with the event at fixed times (groups[1] - groups[0]).

    The CI uses Greenwood's variance of each group on the original scale (groups treated as
    independent); the p-value is lifelines' ``survival_difference_at_fixed_point_in_time_test``
    (log(-log) transform, Klein et al. 2007).
    """
    est = km_at(fits, times).set_index(["group", "time"])
    rows = []
    for t in times:
        a, b = est.loc[(groups[0], t)], est.loc[(groups[1], t)]
        diff = b["cumulative"] - a["cumulative"]
        se = math.sqrt(a["se"] ** 2 + b["se"] ** 2) if np.isfinite(diff) else np.nan
        p = np.nan
        if np.isfinite(diff) and 0 < a["survival"] < 1 and 0 < b["survival"] < 1:
            p = float(survival_difference_at_fixed_point_in_time_test(t, fits[groups[1]], fits[groups[0]]).p_value)
        rows.append({"time": t, groups[0]: a["cumulative"], groups[1]: b["cumulative"], "difference": diff,
                     "ci_low": diff - _Z * se, "ci_high": diff + _Z * se, "p": p})
    return pd.DataFrame(rows)


def rmst(kmf: KaplanMeierFitter, horizon: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``horizon`` and its standard error.

    The mean is lifelines' ``restricted_mean_survival_time``; the variance is the
    Greenwood-type estimator (Klein & Moeschberger 2003, eq. 4.5.2, as in R survRM2):

    .. math:: \\widehat{Var} = \\sum_{t_j \\le \\tau} \\Big(\\int_{t_j}^{\\tau} \\hat S(u)\\,du\\Big)^2
              \\frac{d_j}{n_j (n_j - d_j)}

    (lifelines' ``return_variance`` gives the variance of min(T, tau), not of the estimator.)
    """
    mean = float(restricted_mean_survival_time(kmf, t=horizon))
    table = kmf.event_table
    times = table.index.values.astype(float)
    d = table["observed"].to_numpy(dtype=float)
    n = table["at_risk"].to_numpy(dtype=float)
    s = kmf.survival_function_.iloc[:, 0].reindex(table.index).to_numpy(dtype=float)
    # area under S from each event time to the horizon (S right-continuous, constant between rows)
    inside = times <= horizon
    t_in, s_in = times[inside], s[inside]
    widths = np.diff(np.append(t_in, horizon))
    area_from = np.cumsum((s_in * widths)[::-1])[::-1]  # integral from t_j to horizon
    d_in, n_in = d[inside], n[inside]
    ok = (d_in > 0) & (n_in > d_in)
    var = float(np.sum(area_from[ok] ** 2 * d_in[ok] / (n_in[ok] * (n_in[ok] - d_in[ok]))))
    return mean, math.sqrt(var)


@dataclass
class RMSTResult:
    """Restricted mean time to the event by group and the difference (weeks)."""

    horizon: float
    table: pd.DataFrame  # group, rmst, se, weeks_after, events_before_horizon
    difference: float  # RMST[groups[0]] - RMST[groups[1]] = weeks after the event gained by groups[1]
    se: float
    ci_low: float
    ci_high: float
    p: float
    method: str = "greenwood"


def rmst_difference(fits: dict, horizon: float, groups: Sequence = GROUPS) -> RMSTResult:
    """RMST per group up to ``horizon`` and the gain in weeks after the event for ``groups[1]``.

    ``difference = RMST(groups[0]) - RMST(groups[1])``: how many more of the first
    ``horizon`` weeks the second group spends after reaching the event (for lasting
    self-support: sooner self-supporting). CI and p are normal-theory with Greenwood SEs
    (groups independent).
    """
    rows = []
    for g in groups:
        kmf = fits[g]
        mean, se = rmst(kmf, horizon)
        ev = float(kmf.event_table.loc[kmf.event_table.index <= horizon, "observed"].sum())
        rows.append({"group": g, "rmst": mean, "se": se, "weeks_after": horizon - mean,
                     "events_before_horizon": ev})
    table = pd.DataFrame(rows)
    diff = float(table["rmst"].iloc[0] - table["rmst"].iloc[1])
    se = float(math.sqrt(table["se"].iloc[0] ** 2 + table["se"].iloc[1] ** 2))
    p = float(2 * stats.norm.sf(abs(diff / se))) if se > 0 else np.nan
    return RMSTResult(horizon=float(horizon), table=table, difference=diff, se=se,
                      ci_low=diff - _Z * se, ci_high=diff + _Z * se, p=p)


def usable_horizon(tte: pd.DataFrame, horizon: float, *, group_col: str = "group",
                   groups: Sequence = GROUPS) -> float:
    """``horizon`` capped at the shortest group's longest follow-up (RMST is undefined beyond)."""
    longest = min(float(tte.loc[tte[group_col] == g, "duration"].max()) for g in groups)
    return float(min(horizon, longest))


# =====================================================================================
# Cox proportional hazards
# =====================================================================================
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
    (:func:`helpers.stats.proportions.analysis_clusters`, as for the risk difference);
    ``"auto"`` picks ``strata`` when every set is 1:1 with unit weights, else ``cluster``.
    Competing events censor (cause-specific hazard).
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
        rows.append({"time": float(round(times[lo:hi].mean())), "beta_t": m, "lower": m - _Z * se,
                     "upper": m + _Z * se, "events": len(v)})
    return pd.DataFrame(rows)


def check_bins(bins: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """PASS when every bin of :func:`schoenfeld_bins` averages at least ``min_cell`` events."""
    return check_counts(bins["events"] if len(bins) else [], min_cell, item=item, what="events per residual bin",
                        what_da="hændelser pr. residualgruppe")


# =====================================================================================
# competing risks: Aalen-Johansen
# =====================================================================================
def cif_by_group(
    tte: pd.DataFrame,
    seed: int,
    *,
    event_types: Sequence[int] | None = None,
    groups: Sequence = GROUPS,
    weight_col: str | None = "weight",
    calculate_variance: bool = True,
) -> dict:
    """Aalen-Johansen cumulative incidence per (group, event type).

    ``seed`` should be ``study seed + 4``: lifelines jitters tied event times of different
    types at random. No custom ``timeline`` is passed (lifelines bug, PR #1699).
    Returns ``{(group, event): AalenJohansenFitter or None}`` (None: no such events in the group).
    """
    if event_types is None:
        event_types = sorted(int(e) for e in tte["event"].unique() if e != CENSORED)
    fits = {}
    for g in groups:
        sub = tte[tte["group"] == g]
        w = _weights(sub, weight_col)
        for k in event_types:
            if not (sub["event"] == k).any():
                fits[(g, k)] = None
                continue
            aj = AalenJohansenFitter(seed=seed, calculate_variance=calculate_variance)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the tie-jitter warning is expected and seeded
                aj.fit(sub["duration"].to_numpy(dtype=float), sub["event"].to_numpy(dtype=int),
                       event_of_interest=int(k), weights=w)
            fits[(g, k)] = aj
    return fits


def cif_at(fits: dict, times: Sequence[float]) -> pd.DataFrame:
    """Cumulative incidence at ``times`` (evaluated at t + 0.5 so jittered ties at t count).

    Returns ``group, event, time, cif, lower, upper``.
    """
    rows = []
    for (g, k), aj in fits.items():
        for t in times:
            if aj is None:
                rows.append({"group": g, "event": k, "time": t, "cif": 0.0, "lower": np.nan, "upper": np.nan})
                continue
            last = float(aj.durations.max())
            if t > last:
                rows.append({"group": g, "event": k, "time": t, "cif": np.nan, "lower": np.nan, "upper": np.nan})
                continue
            cif = float(_step_value(aj.cumulative_density_, t + 0.5)[0])
            lo = hi = np.nan
            if aj.confidence_interval_ is not None:
                # lifelines 0.30.3 labels the AJ bounds the wrong way round; take min and max
                a, b = _step_value(aj.confidence_interval_, t + 0.5)[:2]
                lo, hi = float(np.fmin(a, b)), float(np.fmax(a, b))
                if cif == 0:
                    lo, hi = 0.0, 0.0
            rows.append({"group": g, "event": k, "time": t, "cif": cif, "lower": lo, "upper": hi})
    return pd.DataFrame(rows)


def cif_area(aj: AalenJohansenFitter | None, horizon: float) -> float:
    """Integral of the cumulative incidence from 0 to ``horizon`` (weeks after the event)."""
    if aj is None:
        return 0.0
    cd = aj.cumulative_density_.iloc[:, 0]
    t = cd.index.values.astype(float)
    inside = t <= horizon
    t_in, v_in = t[inside], cd.to_numpy(dtype=float)[inside]
    widths = np.diff(np.append(t_in, horizon))
    return float(np.sum(v_in * widths))


# =====================================================================================
# bootstrap over matched sets
# =====================================================================================
def restricted_means(duration, event, weight, horizon: float) -> tuple[float, float]:
    """RMST of lasting self-support (KM, other events censored) and the area under its AJ incidence.

    A small numpy version of the two estimators for the bootstrap (lifelines would take
    about 50 ms per draw): at each distinct time t_j with weighted risk set n_j,
    S(t) = prod(1 - d1_j / n_j) for Kaplan-Meier, and the Aalen-Johansen incidence
    F1(t) = sum S_all(t_j-) d1_j / n_j with S_all the all-cause Kaplan-Meier. Ties of
    different event types are handled exactly (no jitter). Tests check it against lifelines.

    Returns
    -------
    rmst : float
        Integral of the Kaplan-Meier survival (event 1) from 0 to ``horizon``.
    cif_area : float
        Integral of the Aalen-Johansen incidence of event 1 from 0 to ``horizon``.
    """
    d = np.asarray(duration, dtype=float)
    e = np.asarray(event)
    w = np.asarray(weight, dtype=float)
    times, inv = np.unique(d, return_inverse=True)
    removed = np.bincount(inv, weights=w, minlength=len(times))
    n = np.cumsum(removed[::-1])[::-1]  # weighted number with duration >= t_j
    d1 = np.bincount(inv, weights=w * (e == SELF_SUPPORT), minlength=len(times))
    d_any = np.bincount(inv, weights=w * (e != CENSORED), minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        s1 = np.cumprod(1 - np.where(n > 0, d1 / n, 0))
        s_all = np.cumprod(1 - np.where(n > 0, d_any / n, 0))
        s_all_before = np.concatenate([[1.0], s_all[:-1]])
        cif = np.cumsum(s_all_before * np.where(n > 0, d1 / n, 0))
    inside = times <= horizon
    t_in = np.concatenate([[0.0], times[inside]])
    widths = np.diff(np.append(t_in, horizon))
    s_steps = np.concatenate([[1.0], s1[inside]])
    f_steps = np.concatenate([[0.0], cif[inside]])
    return float(np.sum(s_steps * widths)), float(np.sum(f_steps * widths))


def bootstrap_matched_sets(tte: pd.DataFrame, horizon: float, seed: int, draws: int) -> pd.DataFrame:
    """Bootstrap of the RMST difference and of the CIF-area difference, resampling matched sets.

    Matched sets are drawn with replacement (``default_rng(seed)``, seed = study seed + 2);
    a set drawn k times enters with weight ``k * weight``. Returns one row per draw:
    ``rmst_difference`` (RMST control - intervention, from Kaplan-Meier) and
    ``cif_weeks_after_difference`` (intervention - control of the integral of the
    Aalen-Johansen self-support incidence to the horizon), both by
    :func:`restricted_means`. Draws where a group is empty or ends before the horizon give NaN.
    """
    rng = np.random.default_rng(seed)
    sets = np.sort(tte["matched_set"].unique())
    set_pos = np.searchsorted(sets, tte["matched_set"].to_numpy())
    groups = {g: np.flatnonzero(tte["group"].to_numpy() == g) for g in GROUPS}
    dur = tte["duration"].to_numpy(dtype=float)
    ev = tte["event"].to_numpy()
    w0 = tte["weight"].to_numpy(dtype=float)
    rows = []
    for _ in range(int(draws)):
        counts = np.bincount(rng.integers(0, len(sets), size=len(sets)), minlength=len(sets))
        weight = w0 * counts[set_pos]
        res = {}
        for g, idx in groups.items():
            keep = idx[weight[idx] > 0]
            if len(keep) == 0 or dur[keep].max() < horizon:
                res = None
                break
            res[g] = restricted_means(dur[keep], ev[keep], weight[keep], horizon)
        if res is None:
            rows.append({"rmst_difference": np.nan, "cif_weeks_after_difference": np.nan})
            continue
        rows.append({"rmst_difference": res["control"][0] - res["intervention"][0],
                     "cif_weeks_after_difference": res["intervention"][1] - res["control"][1]})
    return pd.DataFrame(rows)


def percentile_ci(values: Sequence[float]) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of the finite values (NaN, NaN when fewer than 20)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 20:
        return np.nan, np.nan
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


# =====================================================================================
# disclosure control for curves and tables
# =====================================================================================
def risk_table(
    tte: pd.DataFrame,
    times: Sequence[float],
    *,
    event_of_interest=SELF_SUPPORT,
    duration_col: str = "duration",
    event_col: str = "event",
    group_col: str = "group",
    groups: Sequence = GROUPS,
) -> pd.DataFrame:
    """Numbers at risk, cumulative events and cumulative censored at ``times`` (persons, unweighted).

    Follows lifelines' ``add_at_risk_counts``: at time t, *at risk* = persons with
    duration > t (0 at t = 0 gives everyone), *events* = events of interest with
    duration <= t, *censored* = everybody else who left by t (competing events included),
    so at risk + events + censored = group size. Returns a wide frame with ``group``,
    ``measure`` (``at_risk``, ``events``, ``censored``) and one column per time.
    """
    rows = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        d = sub[duration_col].to_numpy(dtype=float)
        e = sub[event_col].to_numpy() == event_of_interest
        at_risk = {t: int((d > t).sum()) for t in times}
        events = {t: int(((d <= t) & e).sum()) for t in times}
        cens = {t: int(((d <= t) & ~e).sum()) for t in times}
        for name, values in (("at_risk", at_risk), ("events", events), ("censored", cens)):
            rows.append({"group": g, "measure": name, **{t: values[t] for t in times}})
    return pd.DataFrame(rows)


SECONDARY_MASK = "x"


def mask_risk_table(table: pd.DataFrame, min_cell: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Disclosure control of a :func:`risk_table`.

    1. counts 1..min_cell-1 are masked (shown as ``"<min_cell"``);
    2. along each row (time order), a count is masked when its change from the last shown
       count of that row is 1..min_cell-1 (no small count recoverable by differencing);
    3. per group and time, at risk + events + censored = group size (shown at t = 0), so
       when exactly one of the three is masked, the smallest other one is masked too;
    repeated until nothing changes. Cells masked by rules 2-3 may hold large numbers, so
    they are shown as :data:`SECONDARY_MASK` (``"x"``), not as ``"<min_cell"``.
    """
    times = [c for c in table.columns if c not in ("group", "measure")]
    values = table[times].to_numpy(dtype=float)
    primary = is_small(values, min_cell)
    mask = primary.copy()
    changed = True
    while changed:
        changed = False
        for i in range(values.shape[0]):
            last = None
            for j in range(values.shape[1]):
                if mask[i, j]:
                    continue
                if last is not None and 0 < abs(values[i, j] - last) < min_cell:
                    mask[i, j] = True
                    changed = True
                    continue
                last = values[i, j]
        for g in table["group"].unique():
            idx = np.flatnonzero(table["group"].to_numpy() == g)
            for j in range(values.shape[1]):
                if mask[idx, j].sum() == 1:
                    others = [r for r in idx if not mask[r, j]]
                    positive = [r for r in others if values[r, j] > 0] or others
                    victim = min(positive, key=lambda r: values[r, j])
                    mask[victim, j] = True
                    changed = True
    out = table.copy()
    label = MASK.format(min_cell=min_cell)
    for j, t in enumerate(times):
        out[t] = [label if primary[i, j] else SECONDARY_MASK if mask[i, j] else int(values[i, j])
                  for i in range(values.shape[0])]
    n_masked = int(mask.sum())
    check = check_risk_table(out, min_cell, item=item)
    if check.passed:
        check.masked = n_masked
        shown = values[~mask]
        check.min_shown = float(shown[shown > 0].min()) if (shown > 0).any() else None
        n_secondary = int((mask & ~primary).sum())
        check.detail = (f"risk table: {n_masked} count(s) masked ({n_secondary} because a small number could be "
                        f"derived by subtraction)" if n_masked else
                        f"risk table: all counts and differences 0 or >= {min_cell}")
        check.detail_da = (f"risikotabel: {n_masked} antal skjult ({n_secondary} fordi et lille antal ellers kunne "
                           f"udledes ved subtraktion)" if n_masked else
                           f"risikotabel: alle antal og differenser er 0 eller >= {min_cell}")
    return out, check


def check_risk_table(table: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """Verify a shown risk table: no count, and no difference of two shown counts in a row, is 1..min_cell-1."""
    times = [c for c in table.columns if c not in ("group", "measure")]
    problems = 0
    for _, row in table.iterrows():
        shown = [float(v) for v in row[times] if not isinstance(v, str)]
        problems += int(sum(0 < v < min_cell for v in shown))
        problems += int(sum(0 < abs(b - a) < min_cell for a, b in zip(shown[:-1], shown[1:], strict=True)))
    if problems:
        return Check(item=item, status="FAIL", detail=f"{problems} shown count(s) or differences below {min_cell}",
                     detail_da=f"{problems} viste antal eller differenser under {min_cell}")
    return Check(item=item, status="PASS", detail=f"all counts and differences 0 or >= {min_cell}",
                 detail_da=f"alle antal og differenser er 0 eller >= {min_cell}")


def safe_curve(
    tte: pd.DataFrame,
    estimate,
    *,
    event_of_interest: int,
    min_cell: int,
    grid: int,
    group_col: str = "group",
    groups: Sequence = GROUPS,
) -> pd.DataFrame:
    """A cumulative-incidence curve fit to publish: coarse steps of at least ``min_cell`` events.

    Events are counted in bins of ``grid`` weeks; :func:`helpers.disclosure.km_step_times`
    groups consecutive bins until each group holds at least ``min_cell`` events (a final
    smaller group joins the step before it), and the curve steps only at the end of a
    group. So step *times* are multiples of ``grid`` (never a person's event time) and each
    step reflects at least ``min_cell`` events (OpenSAFELY's idea, on a time grid). The
    value shown at a step is the estimate at that time (shown values are exact; between
    steps the curve lags by fewer than ``min_cell`` events). The curve ends at the last
    grid time with at least ``min_cell`` persons at risk (duration >= t).

    Parameters
    ----------
    tte : DataFrame
        Time-to-event data (``duration``, ``event``, ``group``).
    estimate : callable
        ``estimate(group, times) -> DataFrame`` with ``estimate``, ``lower``, ``upper``
        (cumulative incidence at ``times``), e.g. from :func:`km_at` or :func:`cif_at`.

    Returns
    -------
    DataFrame
        ``group, time, estimate, lower, upper, kind`` (``start``, ``step`` or ``end``).
    """
    frames = []
    for g in groups:
        sub = tte[tte[group_col] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        last = float(d.max()) if len(d) else 0.0
        grid_times = []
        for t in np.arange(grid, last + grid, grid, dtype=float):
            if (d >= t).sum() < min_cell:
                break
            grid_times.append(t)
        per_bin = [int(((d > t - grid) & (d <= t) & e).sum()) for t in grid_times]
        shown = [float(t) for t in km_step_times(grid_times, per_bin, min_cell)] if grid_times else []
        end = grid_times[-1] if grid_times else 0.0
        rows = [{"group": g, "time": 0.0, "estimate": 0.0, "lower": 0.0, "upper": 0.0, "kind": "start"}]
        if shown:
            est = estimate(g, shown).reset_index(drop=True)
            for i, t in enumerate(shown):
                rows.append({"group": g, "time": t, "estimate": float(est["estimate"][i]),
                             "lower": float(est["lower"][i]), "upper": float(est["upper"][i]), "kind": "step"})
        if end > rows[-1]["time"]:
            rows.append({**rows[-1], "time": end, "kind": "end"})
        frames.append(pd.DataFrame(rows))
    return pd.concat(frames, ignore_index=True)


def check_curve(curve: pd.DataFrame, tte: pd.DataFrame, *, event_of_interest: int, min_cell: int,
                item: str, group_col: str = "group") -> Check:
    """Verify a shown curve against the data.

    FAIL when a change of the shown value reflects fewer than ``min_cell`` events of
    interest since the previous change (:func:`helpers.disclosure.check_steps`), or when
    a point is shown where fewer than ``min_cell`` persons are at risk.
    """
    step_events, thin = [], []
    for g, c in curve.groupby("group", sort=False):
        sub = tte[tte[group_col] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        c = c.sort_values("time")
        times = c["time"].to_numpy(dtype=float)
        vals = c["estimate"].to_numpy(dtype=float)
        since = times[0]
        for t1, v0, v1 in zip(times[1:], vals[:-1], vals[1:], strict=True):
            if v1 != v0:
                step_events.append(int(((d > since) & (d <= t1) & e).sum()))
                since = t1
        thin += [f"{g}: week {t:g}" for t in times[1:] if (d >= t).sum() < min_cell]
    check = check_steps(step_events, min_cell, item=item)
    if thin:
        return Check(item=item, status="FAIL", detail=f"curve shown where fewer than {min_cell} are at risk "
                     f"({'; '.join(thin[:3])})", detail_da=f"kurve vist hvor færre end {min_cell} er i risiko")
    if check.passed:
        check.detail = (f"each step reflects >= {min_cell} events on a grid of weeks; curves end where fewer than "
                        f"{min_cell} are at risk")
        check.detail_da = (f"hvert trin afspejler >= {min_cell} hændelser på et gitter af uger; kurverne slutter, "
                           f"hvor færre end {min_cell} er i risiko")
    return check


def km_curve(tte: pd.DataFrame, fits: dict, min_cell: int, grid: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Disclosure-safe cumulative share reaching lasting self-support (1 - KM) per group."""

    def estimate(g, times):
        est = km_at({g: fits[g]}, times)
        return est.rename(columns={"cumulative": "estimate"})[["estimate", "lower", "upper"]]

    curve = safe_curve(tte, estimate, event_of_interest=SELF_SUPPORT, min_cell=min_cell, grid=grid)
    return curve, check_curve(curve, tte, event_of_interest=SELF_SUPPORT, min_cell=min_cell, item=item)


def cif_curves(tte: pd.DataFrame, fits: dict, min_cell: int, grid: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Disclosure-safe Aalen-Johansen curves for every event type and group (column ``event``)."""
    frames, checks = [], []
    for k in sorted({k for (_, k) in fits}):
        def estimate(g, times, k=k):
            est = cif_at({(g, k): fits[(g, k)]}, times)
            return est.rename(columns={"cif": "estimate"})[["estimate", "lower", "upper"]]

        curve = safe_curve(tte, estimate, event_of_interest=k, min_cell=min_cell, grid=grid)
        checks.append(check_curve(curve, tte, event_of_interest=k, min_cell=min_cell, item=item))
        frames.append(curve.assign(event=k))
    curve = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    failed = [c for c in checks if not c.passed]
    if failed:
        check = failed[0]
    elif checks:
        check = checks[0]
    else:
        check = Check(item=item, status="PASS", detail="no curves", detail_da="ingen kurver")
    return curve, check


def mask_rows(frame: pd.DataFrame, bad: np.ndarray, min_cell: int, *, value_cols: Sequence[str],
              item: str) -> tuple[pd.DataFrame, Check]:
    """Replace ``value_cols`` of the rows flagged in ``bad`` by ``"<min_cell"``."""
    bad = np.asarray(bad, dtype=bool)
    out = frame.copy()
    label = MASK.format(min_cell=min_cell)
    for col in value_cols:
        out[col] = out[col].astype(object).where(~bad, label)
    k = int(bad.sum())
    detail = (f"{k} row(s) masked: estimate rests on fewer than {min_cell} events, non-events or persons at risk"
              if k else f"every estimate rests on 0 or >= {min_cell} events, non-events and persons at risk")
    detail_da = (f"{k} række(r) skjult: estimatet hviler på færre end {min_cell} hændelser, ikke-hændelser eller "
                 f"personer i risiko" if k else
                 f"alle estimater hviler på 0 eller >= {min_cell} hændelser, ikke-hændelser og personer i risiko")
    return out, Check(item=item, status="PASS", detail=detail, masked=k, detail_da=detail_da)


def counts_at(tte: pd.DataFrame, times: Sequence[float], groups: Sequence = GROUPS,
              event_of_interest: int = SELF_SUPPORT) -> pd.DataFrame:
    """Per group and time: ``events`` by t, ``n`` and ``at_risk`` (duration >= t), unweighted."""
    rows = []
    for g in groups:
        sub = tte[tte["group"] == g]
        d = sub["duration"].to_numpy(dtype=float)
        e = sub["event"].to_numpy() == event_of_interest
        for t in times:
            rows.append({"group": g, "time": t, "events": int(((d <= t) & e).sum()), "n": len(sub),
                         "at_risk": int((d >= t).sum())})
    return pd.DataFrame(rows)


# =====================================================================================
# the whole analysis and its summary
# =====================================================================================
@dataclass
class SurvivalAnalysis:
    """Everything notebook 04 shows, computed in one place (unmasked; mask before showing)."""

    tte: pd.DataFrame
    km: dict
    logrank: LogRankResult
    medians: pd.DataFrame
    fixed: pd.DataFrame
    cox: CoxResult
    cox_sensitivity: CoxResult
    ph: pd.DataFrame
    cif: dict
    cif_table: pd.DataFrame
    rmst: RMSTResult
    cif_weeks_after: pd.DataFrame  # group, weeks_after (integral of the self-support CIF)
    bootstrap: pd.DataFrame
    times: list[float]
    horizon: float
    min_cell: int
    grid: int
    seed: int
    definition: dict


def analyse(tte: pd.DataFrame, study, cohort: pd.DataFrame | None = None) -> SurvivalAnalysis:
    """Run every estimate of notebook 04 on a time-to-event frame."""
    cfg = study.survival
    seed = study.study.seed
    min_cell = study.study.min_cell
    fits = km_by_group(tte)
    longest = float(tte["duration"].max())
    times = [float(t) for t in cfg.times if t <= longest]
    horizon = usable_horizon(tte, cfg.rmst_horizon)
    method = cfg.cox_method
    cox = cox_intervention(tte, cohort, adjust_for=cfg.adjust_for, method=method)
    other = "cluster" if cox.method == "strata" else "strata"
    cox_sens = cox_intervention(tte, cohort, adjust_for=cfg.adjust_for, method=other)
    try:
        ph = ph_test(cox, ["rank", "km"])
    except (ValueError, KeyError, IndexError, np.linalg.LinAlgError, ZeroDivisionError):
        ph = pd.DataFrame({"covariate": [], "transform": [], "statistic": [], "p": []})
    cif = cif_by_group(tte, seed + SEED_OFFSET_AJ)
    cif_table = cif_at(cif, times)
    rm = rmst_difference(fits, horizon)
    area = pd.DataFrame([{"group": g, "weeks_after": cif_area(cif.get((g, SELF_SUPPORT)), horizon)} for g in GROUPS])
    boot = pd.DataFrame(columns=["rmst_difference", "cif_weeks_after_difference"])
    if cfg.bootstrap_draws > 0:
        boot = bootstrap_matched_sets(tte, horizon, seed + SEED_OFFSET_BOOTSTRAP, cfg.bootstrap_draws)
    definition = {
        "time_origin": "week after the index week (t = 1)",
        "lasting_weeks": cfg.lasting_weeks,
        "require_employment": bool(cfg.require_employment or study.data.self_support.require_employment),
        "exits": cfg.exits,
        "competing_disability_pension": cfg.competing_disability_pension,
        "re_entry_after_emigration": "ignored: the first exit week ends follow-up",
        "censoring": "last observed week minus (lasting_weeks - 1), for every event type",
        "max_weeks": cfg.max_weeks,
    }
    return SurvivalAnalysis(
        tte=tte, km=fits, logrank=logrank(tte), medians=medians(fits, cfg.curve_grid_weeks),
        fixed=fixed_time_differences(fits, times), cox=cox, cox_sensitivity=cox_sens, ph=ph, cif=cif,
        cif_table=cif_table, rmst=rm, cif_weeks_after=area, bootstrap=boot, times=times, horizon=horizon,
        min_cell=min_cell, grid=cfg.curve_grid_weeks, seed=seed, definition=definition,
    )


def _num(x):
    if x is None:
        return None
    try:
        x = float(x)
    except (TypeError, ValueError):
        return x
    return None if not math.isfinite(x) else x


def survival_summary(analysis: SurvivalAnalysis, study) -> dict:
    """The aggregate results written to ``survival_results.json`` (keys: module docstring)."""
    a = analysis
    m = a.min_cell
    label = MASK.format(min_cell=m)
    counts = event_counts(a.tte)
    events = {}
    for _, row in counts.iterrows():
        events[row["group"]] = {k: (label if 0 < row[k] < m else int(row[k]))
                                for k in ("self_support", "disability_pension", "exit", "censored")}
    hr_row = a.cox.row("intervention")
    sens_row = a.cox_sensitivity.row("intervention")
    ph_rank = a.ph[a.ph["transform"] == "rank"] if len(a.ph) else a.ph
    ph_dict = {r["covariate"]: {"statistic": _num(r["statistic"]), "p": _num(r["p"])} for _, r in ph_rank.iterrows()}
    boot_ci = percentile_ci(a.bootstrap["rmst_difference"]) if len(a.bootstrap) else (np.nan, np.nan)
    cif_ci = (percentile_ci(a.bootstrap["cif_weeks_after_difference"]) if len(a.bootstrap) else (np.nan, np.nan))
    use_boot = np.isfinite(boot_ci[0])
    area = a.cif_weeks_after.set_index("group")["weeks_after"]
    rmst_tab = a.rmst.table.set_index("group")
    rmst_small = bool(is_small(rmst_tab["events_before_horizon"].to_numpy(), m).any())
    fixed_counts = counts_at(a.tte, a.times)
    fixed = []
    for _, r in a.fixed.iterrows():
        c = fixed_counts[fixed_counts["time"] == r["time"]]
        small = bool((is_small(c["events"], m) | is_small(c["n"] - c["events"], m) | is_small(c["at_risk"], m)).any())
        keys = ("control", "intervention", "difference", "ci_low", "ci_high", "p")
        fixed.append({"weeks": _num(r["time"]), "masked": small,
                      **{k: (None if small else _num(r[k])) for k in keys}})
    med = a.medians.set_index("group")["median"]
    return {
        "study": study.name,
        "definition": a.definition,
        "n": {g: int(n) for g, n in counts.set_index("group")["n"].items()},
        "events": events,
        "hr": _num(hr_row["hr"]), "hr_ci_low": _num(hr_row["hr_low"]), "hr_ci_high": _num(hr_row["hr_high"]),
        "hr_p": _num(hr_row["p"]), "cox_method": a.cox.method, "cox_note": a.cox.note,
        "hr_sensitivity": {"method": a.cox_sensitivity.method, "hr": _num(sens_row["hr"]),
                           "ci_low": _num(sens_row["hr_low"]), "ci_high": _num(sens_row["hr_high"]),
                           "p": _num(sens_row["p"])},
        "logrank_chi2": _num(a.logrank.chi2), "logrank_p": _num(a.logrank.p),
        "median_weeks": {g: _num(v) for g, v in med.items()},
        "fixed_times": fixed,
        "rmst_horizon_weeks": a.horizon,
        "rmst_masked": rmst_small,
        "rmst_weeks": {g: (None if rmst_small else _num(v)) for g, v in rmst_tab["rmst"].items()},
        "weeks_after_lasting_self_support": {g: (None if rmst_small else _num(v))
                                             for g, v in rmst_tab["weeks_after"].items()},
        "rmst_difference_weeks": None if rmst_small else _num(a.rmst.difference),
        "rmst_difference_ci_low": None if rmst_small else _num(boot_ci[0] if use_boot else a.rmst.ci_low),
        "rmst_difference_ci_high": None if rmst_small else _num(boot_ci[1] if use_boot else a.rmst.ci_high),
        "rmst_difference_p": None if rmst_small else _num(a.rmst.p),
        "rmst_difference_ci_greenwood": [_num(a.rmst.ci_low), _num(a.rmst.ci_high)] if not rmst_small else None,
        "rmst_ci_method": "bootstrap over matched sets (percentile)" if use_boot else "Greenwood (independent groups)",
        "cif_weeks_after_difference": None if rmst_small else _num(area["intervention"] - area["control"]),
        "cif_weeks_after_difference_ci_low": None if rmst_small else _num(cif_ci[0]),
        "cif_weeks_after_difference_ci_high": None if rmst_small else _num(cif_ci[1]),
        "ph_test": ph_dict,
        "ph_ok": bool(all((v["p"] is None) or v["p"] >= 0.05 for v in ph_dict.values())),
        "bootstrap_draws": int(len(a.bootstrap)),
        "seed_offsets": {"bootstrap": SEED_OFFSET_BOOTSTRAP, "aalen_johansen": SEED_OFFSET_AJ},
    }


# =====================================================================================
# report tables (masked, in the study's language)
# =====================================================================================
def _shown(x, fmt) -> str:
    """Masked strings pass through; missing or infinite numbers become blank; else ``fmt(x)``."""
    if isinstance(x, str):
        return x
    if x is None or not np.isfinite(x):
        return ""
    return fmt(x)


def _fmt(x, digits=2):
    return _shown(x, lambda v: f"{v:.{digits}f}")


def _pct(x):
    return _shown(x, lambda v: f"{100 * v:.1f}")


def _p(x):
    return _shown(x, lambda v: "<0.001" if v < 0.001 else f"{v:.3f}")


_DECIMAL = re.compile(r"(\d)\.(\d)")


def localise(obj, lang: str):
    """Danish decimal commas in a shown table (string cells) or sentence when ``lang == "da"``."""
    if lang != "da":
        return obj
    if isinstance(obj, str):
        return _DECIMAL.sub(r"\1,\2", obj)
    out = obj.copy()
    for col in out.columns:
        out[col] = [_DECIMAL.sub(r"\1,\2", v) if isinstance(v, str) else v for v in out[col]]
    return out


def _g(group, lang):
    return GROUP_LABELS[lang].get(group, str(group))


def table_events(a: SurvivalAnalysis, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Persons and first events by group (masked counts with complementary suppression)."""
    from helpers.disclosure import mask_counts

    counts = event_counts(a.tte)
    cols = ["self_support", "disability_pension", "exit", "censored"]
    masked, check = mask_counts(counts, cols, a.min_cell, item=item, row_total="n")
    lab = EVENT_LABELS[lang]
    names = {"group": "Group" if lang == "en" else "Gruppe", "n": "N", "self_support": lab[SELF_SUPPORT],
             "disability_pension": lab[DISABILITY_PENSION], "exit": lab[EXIT], "censored": lab[CENSORED]}
    masked["group"] = [_g(g, lang) for g in masked["group"]]
    return localise(masked.rename(columns=names), lang), check


def small_estimate(counts: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Rows whose estimate rests on small counts: events, n - events or at_risk in 1..min_cell-1."""
    ev = counts["events"].to_numpy(dtype=float)
    n = counts["n"].to_numpy(dtype=float)
    risk = counts["at_risk"].to_numpy(dtype=float)
    return is_small(ev, min_cell) | is_small(n - ev, min_cell) | is_small(risk, min_cell)


def table_fixed(a: SurvivalAnalysis, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Cumulative share reaching lasting self-support at fixed weeks, by group, and the difference.

    A row is masked when either group's estimate rests on small counts (:func:`small_estimate`).
    """
    f = a.fixed.copy()
    counts = counts_at(a.tte, a.times)
    bad = np.array([small_estimate(counts[counts["time"] == t], a.min_cell).any() for t in f["time"]], dtype=bool)
    to = " to " if lang == "en" else " til "
    shown = pd.DataFrame({
        "weeks": f["time"].astype(int),
        "control": [_pct(x) for x in f["control"]],
        "intervention": [_pct(x) for x in f["intervention"]],
        "difference": [_pct(x) for x in f["difference"]],
        "ci": [f"{_pct(lo)}{to}{_pct(hi)}" if np.isfinite(lo) else ""
               for lo, hi in zip(f["ci_low"], f["ci_high"], strict=True)],
        "p": [_p(x) for x in f["p"]],
    })
    masked, check = mask_rows(shown, bad, a.min_cell, value_cols=["control", "intervention", "difference", "ci", "p"],
                              item=item)
    names = {"en": {"weeks": "Weeks after index", "control": "Control, %", "intervention": "Intervention, %",
                    "difference": "Difference, %-points", "ci": "95% CI", "p": "p"},
             "da": {"weeks": "Uger efter indeks", "control": "Kontrol, %", "intervention": "Indsats, %",
                    "difference": "Forskel, %-point", "ci": "95% CI", "p": "p"}}[lang]
    return localise(masked.rename(columns=names), lang), check


def table_cox(a: SurvivalAnalysis, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Hazard ratios (primary and sensitivity model) with 95% CI and p."""
    method_label = {"en": {"strata": "Stratified by matched set", "cluster": "Matched-set clustered robust SE"},
                    "da": {"strata": "Stratificeret på matchet sæt", "cluster": "Robust SE, klynger = matchet sæt"}}
    rows = []
    for role, cox in (("primary", a.cox), ("sensitivity", a.cox_sensitivity)):
        for _, r in cox.summary.iterrows():
            rows.append({
                "model": method_label[lang][cox.method] + ("" if role == "primary" else
                                                          (" (sensitivity)" if lang == "en" else " (følsomhed)")),
                "covariate": ("Intervention vs control" if lang == "en" else "Indsats vs kontrol")
                if r["covariate"] == "intervention" else r["covariate"],
                "hr": _fmt(r["hr"]), "ci": f"{_fmt(r['hr_low'])} to {_fmt(r['hr_high'])}"
                if np.isfinite(r["hr_low"]) else "", "p": _p(r["p"]), "events": cox.n_events, "n": cox.n,
            })
    frame = pd.DataFrame(rows)
    if lang == "da":
        frame["ci"] = frame["ci"].str.replace(" to ", " til ")
    label = MASK.format(min_cell=a.min_cell)
    small = is_small(frame[["events", "n"]].to_numpy(dtype=float), a.min_cell)
    for j, col in enumerate(("events", "n")):
        frame[col] = frame[col].astype(object).where(~small[:, j], label)
    check = Check(item=item, status="PASS", masked=int(small.sum()),
                  detail=f"{int(small.sum())} count(s) below {a.min_cell} masked" if small.any()
                  else f"all counts 0 or >= {a.min_cell}",
                  detail_da=f"{int(small.sum())} antal under {a.min_cell} skjult" if small.any()
                  else f"alle antal er 0 eller >= {a.min_cell}")
    names = {"en": {"model": "Model", "covariate": "Covariate", "hr": "Hazard ratio", "ci": "95% CI", "p": "p",
                    "events": "Events", "n": "N"},
             "da": {"model": "Model", "covariate": "Kovariat", "hr": "Hazard ratio", "ci": "95% CI", "p": "p",
                    "events": "Hændelser", "n": "N"}}[lang]
    return localise(frame.rename(columns=names), lang), check


def table_ph(a: SurvivalAnalysis, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Proportional-hazards test table (scaled Schoenfeld residuals)."""
    frame = a.ph.copy()
    frame["covariate"] = [("Intervention" if lang == "en" else "Indsats") if c == "intervention" else c
                          for c in frame["covariate"]]
    frame["statistic"] = [_fmt(x) for x in frame["statistic"]]
    frame["p"] = [_p(x) for x in frame["p"]]
    names = {"en": {"covariate": "Covariate", "transform": "Time scale", "statistic": "Chi-square (1 df)", "p": "p"},
             "da": {"covariate": "Kovariat", "transform": "Tidsskala", "statistic": "Chi-i-anden (1 fg)", "p": "p"}}
    return localise(frame.rename(columns=names[lang]), lang), Check(item=item, status="PASS", detail="test statistics only; no counts",
                                                    detail_da="kun teststørrelser; ingen antal")


def table_cif(a: SurvivalAnalysis, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Cumulative incidence (Aalen-Johansen) of each event at fixed weeks, with 1 - KM beside self-support."""
    rows, flags = [], []
    km = km_at(a.km, a.times).set_index(["group", "time"])
    for _, r in a.cif_table.iterrows():
        c = counts_at(a.tte, [r["time"]], groups=[r["group"]], event_of_interest=int(r["event"])).iloc[0]
        one_minus_km = km.loc[(r["group"], r["time"]), "cumulative"] if r["event"] == SELF_SUPPORT else np.nan
        rows.append({"event": EVENT_LABELS[lang][int(r["event"])], "group": _g(r["group"], lang),
                     "weeks": int(r["time"]), "cif": _pct(r["cif"]),
                     "ci": f"{_pct(r['lower'])} to {_pct(r['upper'])}" if np.isfinite(r["lower"]) else "",
                     "km": _pct(one_minus_km)})
        flags.append({"events": c["events"], "n": c["n"], "at_risk": c["at_risk"]})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame, Check(item=item, status="PASS", detail="no rows", detail_da="ingen rækker")
    masked, check = mask_rows(frame, small_estimate(pd.DataFrame(flags), a.min_cell), a.min_cell,
                              value_cols=["cif", "ci", "km"], item=item)
    if lang == "da":
        masked["ci"] = masked["ci"].astype(str).str.replace(" to ", " til ")
    names = {"en": {"event": "Event", "group": "Group", "weeks": "Weeks", "cif": "Cumulative incidence, %",
                    "ci": "95% CI", "km": "1 - Kaplan-Meier, %"},
             "da": {"event": "Hændelse", "group": "Gruppe", "weeks": "Uger", "cif": "Kumuleret incidens, %",
                    "ci": "95% CI", "km": "1 - Kaplan-Meier, %"}}[lang]
    return localise(masked.rename(columns=names), lang), check


def table_rmst(a: SurvivalAnalysis, summary: dict, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Restricted mean weeks before and after reaching lasting self-support, and the difference."""
    label = MASK.format(min_cell=a.min_cell)
    t = a.rmst.table.set_index("group")
    small = bool(is_small(t["events_before_horizon"].to_numpy(), a.min_cell).any())
    area = a.cif_weeks_after.set_index("group")["weeks_after"]
    rows = []
    for g in GROUPS:
        rows.append({"row": _g(g, lang), "before": label if small else _fmt(t.loc[g, "rmst"], 1),
                     "after": label if small else _fmt(t.loc[g, "weeks_after"], 1),
                     "after_cif": label if small else _fmt(area[g], 1), "ci": ""})
    diff_label = "Difference (intervention - control)" if lang == "en" else "Forskel (indsats - kontrol)"
    lo, hi = summary["rmst_difference_ci_low"], summary["rmst_difference_ci_high"]
    clo, chi = summary["cif_weeks_after_difference_ci_low"], summary["cif_weeks_after_difference_ci_high"]
    to = " to " if lang == "en" else " til "
    rows.append({"row": diff_label, "before": label if small else _fmt(-a.rmst.difference, 1),
                 "after": label if small else _fmt(a.rmst.difference, 1),
                 "after_cif": label if small else _fmt(area["intervention"] - area["control"], 1),
                 "ci": label if small else (f"{_fmt(lo, 1)}{to}{_fmt(hi, 1)}" if lo is not None else "")
                 + (f"; {_fmt(clo, 1)}{to}{_fmt(chi, 1)}" if (clo is not None and not small) else "")})
    frame = pd.DataFrame(rows)
    h = int(a.horizon)
    names = {"en": {"row": "", "before": f"Weeks before lasting self-support (RMST, {h} wk)",
                    "after": "Weeks after reaching it (KM)", "after_cif": "Weeks after reaching it (Aalen-Johansen)",
                    "ci": "95% CI of the differences (KM; AJ)"},
             "da": {"row": "", "before": f"Uger før varig selvforsørgelse (RMST, {h} uger)",
                    "after": "Uger efter (KM)", "after_cif": "Uger efter (Aalen-Johansen)",
                    "ci": "95% CI for forskellene (KM; AJ)"}}[lang]
    detail = (f"masked: fewer than {a.min_cell} events before the horizon in a group" if small
              else f"restricted means rest on >= {a.min_cell} events per group")
    detail_da = (f"skjult: færre end {a.min_cell} hændelser før horisonten i en gruppe" if small
                 else f"middeltiderne hviler på >= {a.min_cell} hændelser i hver gruppe")
    return localise(frame.rename(columns=names), lang), Check(item=item, status="PASS", detail=detail,
                                                              masked=int(small),
                                              detail_da=detail_da)


def table_medians_logrank(a: SurvivalAnalysis, lang: str, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Median weeks to lasting self-support (rounded to the curve grid) and the log-rank test."""
    to = " to " if lang == "en" else " til "
    nr = "not reached" if lang == "en" else "ikke nået"
    rows = []
    for _, r in a.medians.iterrows():
        rows.append({"group": _g(r["group"], lang),
                     "median": nr if not np.isfinite(r["median"]) else f"{r['median']:.0f}",
                     "ci": (f"{_fmt(r['lower'], 0) or '-'}{to}{_fmt(r['upper'], 0) or nr}"
                            if np.isfinite(r["median"]) else "")})
    rows.append({"group": "Log-rank", "median": f"chi2 = {a.logrank.chi2:.2f}", "ci": f"p = {_p(a.logrank.p)}"})
    names = {"en": {"group": "Group", "median": f"Median weeks (rounded up to {a.grid} weeks)", "ci": "95% CI"},
             "da": {"group": "Gruppe", "median": f"Median, uger (rundet op til {a.grid} uger)", "ci": "95% CI"}}[lang]
    return localise(pd.DataFrame(rows).rename(columns=names), lang), Check(
        item=item, status="PASS", detail=f"medians rounded to a {a.grid}-week grid; no counts",
        detail_da=f"medianer rundet til et gitter på {a.grid} uger; ingen antal")


# =====================================================================================
# generated sentences
# =====================================================================================
def _localised(fn):
    """Apply :func:`localise` to a sentence function's result (its second argument is ``lang``)."""
    @functools.wraps(fn)
    def wrapper(obj, lang: str, *args, **kwargs):
        return localise(fn(obj, lang, *args, **kwargs), lang)

    return wrapper


@_localised
def definition_text(study, lang: str) -> str:
    """The time-to-event definitions of this study, as a paragraph in ``lang``."""
    cfg = study.survival
    n = cfg.lasting_weeks
    employment = bool(cfg.require_employment or study.data.self_support.require_employment)
    if lang == "da":
        parts = [
            f"Opfølgningen begynder ugen efter indeksugen (uge 1). Varig selvforsørgelse indtræder i den første uge "
            f"af {n} sammenhængende uger uden offentlig forsørgelsesydelse (tomme uger eller feriedagpenge fra "
            f"beskæftigelse" + ("; ugerne skal også ligge i en måned med beskæftigelse" if employment else "")
            + "); kortere perioder tæller ikke.",
            ("Den første uge på førtidspension er en konkurrerende hændelse." if cfg.competing_disability_pension
             else "Uger på førtidspension tæller blot ikke som selvforsørgelse."),
            ("Død, udvandring og folkepension er konkurrerende hændelser" if cfg.exits == "competing"
             else "Død, udvandring og folkepension censurerer opfølgningen")
            + "; den første sådan uge afslutter opfølgningen, også hvis personen senere vender tilbage fra udlandet.",
            f"Da en periode på {n} uger skal kunne ses til ende, censureres alle ved sidste observerede uge minus "
            f"{n - 1} uger" + (f" og senest efter {cfg.max_weeks} uger" if cfg.max_weeks else "") + ".",
        ]
    else:
        parts = [
            f"Follow-up starts the week after the index week (week 1). Lasting self-support starts in the first week "
            f"of {n} consecutive weeks without public income-replacement benefits (empty weeks or holiday pay from "
            f"work" + ("; the weeks must also fall in a month with employment" if employment else "")
            + "); shorter spells do not count.",
            ("The first week on disability pension is a competing event." if cfg.competing_disability_pension
             else "Weeks on disability pension simply do not count as self-supported."),
            ("Death, emigration and state pension are competing events" if cfg.exits == "competing"
             else "Death, emigration and state pension censor follow-up")
            + "; the first such week ends follow-up, even if the person later returns from abroad.",
            f"Because a run of {n} weeks must be seen to its end, everyone is censored at their last observed week "
            f"minus {n - 1} weeks" + (f", and at {cfg.max_weeks} weeks at the latest" if cfg.max_weeks else "") + ".",
        ]
    return " ".join(parts)


@_localised
def hr_sentence(summary: dict, lang: str) -> str:
    """The hazard-ratio result in words (returns the sentence in ``lang``)."""
    hr, lo, hi, p = summary["hr"], summary["hr_ci_low"], summary["hr_ci_high"], summary["hr_p"]
    if hr is None:
        note = summary.get("cox_note") or ""
        return (f"The hazard ratio could not be estimated: {note}." if lang == "en"
                else "Hazard ratio kunne ikke estimeres (for få hændelser).")
    method = {"strata": ("stratified by matched set", "stratificeret på matchet sæt"),
              "cluster": ("with matched-set clustered robust errors", "med robuste fejl klynget på matchet sæt")}
    m = method[summary["cox_method"]][0 if lang == "en" else 1]
    if lang == "da":
        return (f"Raten af overgang til varig selvforsørgelse var {hr:.2f} gange så høj i indsatsgruppen som i "
                f"kontrolgruppen (hazard ratio {hr:.2f}, 95% CI {lo:.2f} til {hi:.2f}, p = {_p(p)}; Cox-model {m}).")
    return (f"The rate of reaching lasting self-support was {hr:.2f} times as high in the intervention group as in "
            f"the control group (hazard ratio {hr:.2f}, 95% CI {lo:.2f} to {hi:.2f}, p = {_p(p)}; Cox model {m}).")


@_localised
def ph_note(a: SurvivalAnalysis, lang: str) -> str:
    """Plain-language reading of the proportional-hazards test of the intervention."""
    rows = a.ph[(a.ph["covariate"] == "intervention") & (a.ph["transform"] == "rank")] if len(a.ph) else a.ph
    if not len(rows):
        return ("The proportional-hazards check could not be computed." if lang == "en"
                else "Testet for proportionale hazards kunne ikke beregnes.")
    p = float(rows["p"].iloc[0])
    if p < 0.05:
        if lang == "da":
            return (f"Testet for proportionale hazards er signifikant (p = {_p(p)}): indsatsens virkning på raten ser "
                    f"ud til at ændre sig over opfølgningen. Hazard ratio er så et gennemsnit over perioden og skal "
                    f"læses sammen med kurverne og forskellene ved de faste tidspunkter.")
        return (f"The proportional-hazards test is significant (p = {_p(p)}): the intervention's effect on the rate "
                f"seems to change over follow-up. The hazard ratio is then an average over the period; read it "
                f"together with the curves and the differences at fixed times.")
    if lang == "da":
        return (f"Intet tegn på, at indsatsens virkning ændrer sig over tid (test for proportionale hazards "
                f"p = {_p(p)}); med få hændelser har testet dog lav styrke.")
    return (f"No sign that the intervention's effect changes over time (proportional-hazards test p = {_p(p)}); "
            f"with few events the test has little power.")


@_localised
def rmst_sentence(summary: dict, lang: str) -> str:
    """The restricted-mean result in words."""
    d = summary["rmst_difference_weeks"]
    h = int(summary["rmst_horizon_weeks"])
    if d is None:
        return (f"The restricted mean time is not shown: fewer than the minimum cell count of events by week {h}."
                if lang == "en" else
                f"Den begrænsede middeltid vises ikke: færre hændelser end den mindste cellestørrelse før uge {h}.")
    lo, hi = summary["rmst_difference_ci_low"], summary["rmst_difference_ci_high"]
    cif = summary.get("cif_weeks_after_difference")
    ci = f"{lo:.1f} {'til' if lang == 'da' else 'to'} {hi:.1f}" if lo is not None else ""
    if lang == "da":
        way = "tidligere" if d >= 0 else "senere"
        text = (f"Inden for de første {h} uger nåede indsatsgruppen i gennemsnit varig selvforsørgelse "
                f"{abs(d):.1f} uger {way} end kontrolgruppen (forskel {d:.1f} uger efter at have nået den, 95% CI {ci})")
        if cif is not None:
            text += f"; når konkurrerende hændelser ikke censureres (Aalen-Johansen), er forskellen {cif:.1f} uger"
        return text + (". Uger efter første varige selvforsørgelse er ikke det samme som selvforsørgede uger: "
                       "man kan falde tilbage på ydelse.")
    way = "earlier" if d >= 0 else "later"
    text = (f"Within the first {h} weeks the intervention group reached lasting self-support on average "
            f"{abs(d):.1f} weeks {way} than the control group (difference in weeks after reaching it {d:.1f}, "
            f"95% CI {ci})")
    if cif is not None:
        text += f"; when competing events are not treated as censoring (Aalen-Johansen) the difference is {cif:.1f} weeks"
    return text + (". Weeks after first reaching lasting self-support are not the same as self-supported weeks: "
                   "people can fall back onto benefits.")
