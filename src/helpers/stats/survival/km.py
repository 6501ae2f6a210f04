"""Kaplan-Meier estimates of lasting self-support: fits per group, values at fixed times, log-rank, medians.

Competing events censor here (the Kaplan-Meier view); :mod:`helpers.stats.survival.competing`
gives the Aalen-Johansen view. Estimates are unweighted unless the frame's ``weight`` column
holds matching weights other than 1.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.exceptions import StatisticalWarning
from lifelines.statistics import logrank_test, survival_difference_at_fixed_point_in_time_test
from lifelines.utils import median_survival_times
from scipy import stats

from helpers.stats.survival.tte import GROUPS, SELF_SUPPORT

#: Two-sided 95% normal quantile.
Z95 = stats.norm.ppf(0.975)


@dataclass
class LogRankResult:
    """Log-rank test of equal hazards of the event of interest between two groups."""

    chi2: float
    df: int
    p: float


def weights_of(frame: pd.DataFrame, weight_col: str | None) -> np.ndarray | None:
    """The frame's weights, or None when there is no weight column or every weight is 1."""
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

    Examples
    --------
    >>> import pandas as pd
    >>> tte = pd.DataFrame({"group": ["intervention"] * 4 + ["control"] * 4, "weight": 1.0,
    ...                     "duration": [5, 8, 12, 20, 10, 15, 25, 30], "event": [1, 1, 1, 0, 1, 0, 1, 0]})
    >>> fits = km_by_group(tte)
    >>> float(fits["intervention"].survival_function_at_times(10).iloc[0])  # (3/4) x (2/3)
    0.5
    """
    fits = {}
    for g in groups:
        sub = tte[tte[group_col] == g]
        if sub.empty:
            raise ValueError(f"no persons in group {g!r} (column {group_col!r})")
        fits[g] = fit_km(sub[duration_col], sub[event_col] == event_of_interest, weights_of(sub, weight_col), str(g))
    return fits


def step_value(frame: pd.DataFrame, t: float) -> np.ndarray:
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
            s = float(step_value(sf, t)[0])
            lo_s, hi_s = step_value(ci, t)
            var = s**2 * float(step_value(csq.to_frame(), t)[0])
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
    wa, wb = weights_of(a, weight_col), weights_of(b, weight_col)
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
                     "ci_low": diff - Z95 * se, "ci_high": diff + Z95 * se, "p": p})
    return pd.DataFrame(rows)

