"""Restricted mean time to lasting self-support (RMST) and its bootstrap over matched sets.

Note for the investment calculation: weeks *after first reaching* lasting self-support
are not the same as self-supported weeks. People can fall back onto benefits, so these
weeks overstate the benefit weeks saved when relapse is common; the Kaplan-Meier version
also treats competing events as censoring (the Aalen-Johansen version,
:func:`restricted_means`' second value and :func:`helpers.stats.survival.competing.cif_area`,
does not).

Randomness: the matched-set bootstrap uses ``study seed + 2`` (docs/architecture.md,
"Randomness").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import restricted_mean_survival_time
from scipy import stats

from helpers.stats.survival.km import Z95
from helpers.stats.survival.tte import CENSORED, GROUPS, SELF_SUPPORT


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
                      ci_low=diff - Z95 * se, ci_high=diff + Z95 * se, p=p)


def usable_horizon(tte: pd.DataFrame, horizon: float, *, group_col: str = "group",
                   groups: Sequence = GROUPS) -> float:
    """``horizon`` capped at the shortest group's longest follow-up (RMST is undefined beyond)."""
    longest = min(float(tte.loc[tte[group_col] == g, "duration"].max()) for g in groups)
    return float(min(horizon, longest))



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

