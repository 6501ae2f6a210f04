"""Power and sample size of a two-group comparison of proportions (the design's power).

Three ways to answer "what power does n per group give for planned shares p0 (control)
and p1 (intervention)?":

- **Exact Fisher** (:func:`fisher_power`): the probability that Fisher's exact test
  (two-sided, R's definition) rejects, by full enumeration of the (n1 + 1) x (n0 + 1)
  possible outcome tables, each weighted by its binomial probability. No approximation,
  no simulation. The rejection region depends only on the group sizes and alpha, so it is
  computed once per (n1, n0, alpha) from the hypergeometric distribution of each
  margin total and cached.
- **Arcsine** (:func:`arcsine_power`): Cohen's effect size h = 2 asin sqrt(p1) -
  2 asin sqrt(p0) with the normal approximation (statsmodels ``NormalIndPower``).
- **Normal approximation** (:func:`normal_power`): the pooled/unpooled z-test power of
  statsmodels ``power_proportions_2indep`` (R ``power.prop.test``).

The approximations can be far too optimistic when a planned share is near 0 (seed 000:
control 0 % at end of programme). Exact power is also saw-toothed in n: more persons can
give less power, so :func:`fisher_sample_size` reports both the first n reaching the
target and the first n from which the target holds for the next ``look_ahead`` n.

Examples
--------
>>> round(fisher_power(0.05, 0.30, 50), 4)
0.8987
>>> round(arcsine_power(0.05, 0.30, 50), 4)
0.9431
>>> fisher_sample_size(0.0, 0.25).n_first
31
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

#: Relative tolerance when comparing table probabilities (R ``fisher.test`` and scipy use 1e-7).
FISHER_RELTOL = 1e-7


def _check_prop(p: float, name: str) -> None:
    if not (0.0 <= p <= 1.0):
        raise ValueError(f"{name} must be a proportion in [0, 1], got {p!r}")


def _check_n(n: int, name: str) -> None:
    if n is None or int(n) != n or n < 1:
        raise ValueError(f"{name} must be a positive whole number, got {n!r}")


@lru_cache(maxsize=512)
def fisher_rejection_region(n1: int, n0: int, alpha: float = 0.05) -> np.ndarray:
    """Tables rejected by two-sided Fisher's exact test at level ``alpha``.

    Parameters
    ----------
    n1, n0 : int
        Group sizes (intervention, control).
    alpha : float
        Significance level; a table is rejected when its p-value is at most ``alpha``.

    Returns
    -------
    ndarray of bool, shape (n1 + 1, n0 + 1)
        ``[x1, x0]`` is True when the table with x1/n1 and x0/n0 events is rejected.

    Notes
    -----
    Given the total number of events t, x1 is hypergeometric; the two-sided p-value of x1
    is the sum of the probabilities of all x with probability at most
    ``P(x1) * (1 + 1e-7)`` (R's ``fisher.test`` and scipy's ``fisher_exact``). For each t
    the p-values of all x1 come from one sort and a cumulative sum. The result is
    read-only and cached.
    """
    _check_n(n1, "n1")
    _check_n(n0, "n0")
    n1, n0 = int(n1), int(n0)
    reject = np.zeros((n1 + 1, n0 + 1), dtype=bool)
    for t in range(n1 + n0 + 1):
        lo, hi = max(0, t - n0), min(t, n1)
        x1 = np.arange(lo, hi + 1)
        pmf = stats.hypergeom.pmf(x1, n1 + n0, n1, t)
        order = np.sort(pmf)
        cum = np.cumsum(order)
        idx = np.searchsorted(order, pmf * (1 + FISHER_RELTOL), side="right") - 1
        pvals = np.minimum(cum[idx], 1.0)
        rej = pvals <= alpha
        reject[x1[rej], t - x1[rej]] = True
    reject.setflags(write=False)
    return reject


def fisher_power(
    p_control: float, p_intervention: float, n_intervention: int, n_control: int | None = None, alpha: float = 0.05
) -> float:
    """Exact power of two-sided Fisher's exact test by enumeration of all outcome tables.

    .. math:: \\text{power} = \\sum_{x_1, x_0} 1[p_F(x_1, x_0) \\le \\alpha]\\,
              b(x_1; n_1, p_1)\\, b(x_0; n_0, p_0)

    Parameters
    ----------
    p_control, p_intervention : float
        Planned shares with the outcome.
    n_intervention : int
        Persons in the intervention group.
    n_control : int, optional
        Persons in the control group (default: equal to ``n_intervention``).
    alpha : float
        Two-sided significance level.

    Returns
    -------
    float

    Examples
    --------
    >>> round(fisher_power(0.05, 0.30, 50), 4)  # statistics.md 2d
    0.8987
    >>> round(fisher_power(0.083, 0.20, 96, 192), 3)  # 1:2 design
    0.766
    """
    _check_prop(p_control, "p_control")
    _check_prop(p_intervention, "p_intervention")
    n1 = int(n_intervention)
    n0 = int(n_control) if n_control is not None else n1
    reject = fisher_rejection_region(n1, n0, float(alpha))
    b1 = stats.binom.pmf(np.arange(n1 + 1), n1, p_intervention)
    b0 = stats.binom.pmf(np.arange(n0 + 1), n0, p_control)
    return float(min(1.0, b1 @ reject.astype(float) @ b0))


def cohens_h(p_control: float, p_intervention: float) -> float:
    """Cohen's effect size h = 2 asin sqrt(p1) - 2 asin sqrt(p0) (statsmodels ``proportion_effectsize``)."""
    _check_prop(p_control, "p_control")
    _check_prop(p_intervention, "p_intervention")
    from statsmodels.stats.proportion import proportion_effectsize

    return float(proportion_effectsize(p_intervention, p_control))


def arcsine_power(
    p_control: float, p_intervention: float, n_intervention: int, n_control: int | None = None, alpha: float = 0.05
) -> float:
    """Approximate power by the arcsine transformation (Cohen's h, statsmodels ``NormalIndPower``)."""
    from statsmodels.stats.power import NormalIndPower

    n1 = int(n_intervention)
    ratio = (n_control / n1) if n_control is not None else 1.0
    h = abs(cohens_h(p_control, p_intervention))
    return float(NormalIndPower().power(effect_size=h, nobs1=n1, alpha=alpha, ratio=ratio, alternative="two-sided"))


def normal_power(
    p_control: float, p_intervention: float, n_intervention: int, n_control: int | None = None, alpha: float = 0.05
) -> float:
    """Approximate power of the two-sample z-test (statsmodels ``power_proportions_2indep``, R ``power.prop.test``)."""
    _check_prop(p_control, "p_control")
    _check_prop(p_intervention, "p_intervention")
    from statsmodels.stats.proportion import power_proportions_2indep

    n1 = int(n_intervention)
    ratio = (n_control / n1) if n_control is not None else 1.0
    if p_control == p_intervention:
        return float(alpha)
    with np.errstate(all="ignore"):
        res = power_proportions_2indep(p_intervention - p_control, p_control, n1, ratio=ratio, alpha=alpha)
    return float(res.power)


def arcsine_sample_size(p_control: float, p_intervention: float, power: float = 0.8, alpha: float = 0.05) -> float:
    """Persons per group for ``power`` by the arcsine approximation (unrounded; NaN if no effect)."""
    from statsmodels.stats.power import NormalIndPower

    h = abs(cohens_h(p_control, p_intervention))
    if h == 0:
        return math.nan
    return float(NormalIndPower().solve_power(effect_size=h, power=power, alpha=alpha, ratio=1.0))


def normal_sample_size(p_control: float, p_intervention: float, power: float = 0.8, alpha: float = 0.05) -> float:
    """Persons per group for ``power`` by the z-test approximation (unrounded; NaN if no effect)."""
    _check_prop(p_control, "p_control")
    _check_prop(p_intervention, "p_intervention")
    if p_control == p_intervention:
        return math.nan
    from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

    with np.errstate(all="ignore"):
        n = samplesize_proportions_2indep_onetail(
            p_intervention - p_control, p_control, power, ratio=1, alpha=alpha, alternative="two-sided"
        )
    return float(n)


@dataclass(frozen=True)
class FisherSampleSize:
    """Group size for a target exact power.

    Attributes
    ----------
    n_first : int or None
        Smallest n per group whose exact power reaches the target (None if not by ``n_max``).
    n_stable : int or None
        Smallest n from which the power stays at or above the target for the next
        ``look_ahead`` values of n (the saw-tooth can dip below after ``n_first``).
    power_at_first : float
        Exact power at ``n_first``.
    """

    n_first: int | None
    n_stable: int | None
    power_at_first: float


def fisher_sample_size(
    p_control: float,
    p_intervention: float,
    power: float = 0.8,
    alpha: float = 0.05,
    *,
    n_min: int = 2,
    n_max: int = 400,
    look_ahead: int = 10,
) -> FisherSampleSize:
    """Equal group size for a target exact Fisher power, by searching n upwards.

    Parameters
    ----------
    p_control, p_intervention : float
        Planned shares.
    power : float
        Target power.
    alpha : float
        Two-sided significance level.
    n_min, n_max : int
        Search range per group.
    look_ahead : int
        Window for ``n_stable``.

    Returns
    -------
    FisherSampleSize
    """
    if p_control == p_intervention:
        return FisherSampleSize(None, None, math.nan)
    reached: list[bool] = []
    powers: list[float] = []
    first = None
    for n in range(n_min, n_max + look_ahead + 1):
        pw = fisher_power(p_control, p_intervention, n, alpha=alpha)
        powers.append(pw)
        reached.append(pw >= power)
        if first is None and pw >= power and n <= n_max:
            first = n
        # stable: the window n - look_ahead .. n all reach the target
        if len(reached) > look_ahead and all(reached[-(look_ahead + 1):]):
            stable = n - look_ahead
            return FisherSampleSize(first, stable, powers[first - n_min] if first is not None else math.nan)
    return FisherSampleSize(first, None, powers[first - n_min] if first is not None else math.nan)


def power_curve(
    p_control: float, p_intervention: float, n_values, alpha: float = 0.05
) -> pd.DataFrame:
    """Power by n per group: exact Fisher (saw-toothed), arcsine and normal approximation.

    Returns
    -------
    DataFrame
        Columns ``n, fisher, arcsine, normal``.
    """
    rows = [
        {
            "n": int(n),
            "fisher": fisher_power(p_control, p_intervention, int(n), alpha=alpha),
            "arcsine": arcsine_power(p_control, p_intervention, int(n), alpha=alpha),
            "normal": normal_power(p_control, p_intervention, int(n), alpha=alpha),
        }
        for n in n_values
    ]
    return pd.DataFrame(rows)


def power_table(
    scenarios,
    n_per_group: int = 50,
    alpha: float = 0.05,
    target_power: float = 0.8,
    *,
    n_tests_secondary: int | None = None,
    n_max: int = 400,
    look_ahead: int = 10,
    n_control: int | None = None,
) -> pd.DataFrame:
    """Power and n per group for each planned scenario.

    Parameters
    ----------
    scenarios : iterable
        Objects or dicts with ``outcome, horizon, control, intervention``
        (:class:`helpers.config.schema.power.PowerScenario`).
    n_per_group : int
        Planned persons per group.
    alpha : float
        Two-sided significance level.
    target_power : float
        Power the design claims.
    n_tests_secondary : int, optional
        Size of a multiplicity family; when given, ``power_fisher_adjusted`` is the exact
        power at ``alpha / n_tests_secondary`` (Bonferroni, the first step of Holm's method).
    n_max, look_ahead : int
        Passed to :func:`fisher_sample_size`.
    n_control : int, optional
        Planned control persons (default ``n_per_group``); the powers use both group sizes, the
        persons needed (``n_*``) are for equal groups.

    Returns
    -------
    DataFrame
        One row per scenario: ``outcome, horizon, control, intervention, cohen_h,
        power_arcsine, power_normal, power_fisher, [power_fisher_adjusted,] n_arcsine,
        n_normal, n_fisher, n_fisher_stable, claim_holds`` (exact power at the planned n
        reaches the target). The ``n_arcsine``/``n_normal`` columns are rounded up.
    """
    rows = []
    for sc in scenarios:
        get = (lambda k: sc[k]) if isinstance(sc, dict) else (lambda k: getattr(sc, k))
        p0, p1 = float(get("control")), float(get("intervention"))
        ss = fisher_sample_size(p0, p1, target_power, alpha, n_max=n_max, look_ahead=look_ahead)
        n_arc = arcsine_sample_size(p0, p1, target_power, alpha)
        n_norm = normal_sample_size(p0, p1, target_power, alpha)
        row = {
            "outcome": get("outcome"),
            "horizon": get("horizon"),
            "control": p0,
            "intervention": p1,
            "cohen_h": cohens_h(p0, p1),
            "power_arcsine": arcsine_power(p0, p1, n_per_group, n_control, alpha=alpha),
            "power_normal": normal_power(p0, p1, n_per_group, n_control, alpha=alpha),
            "power_fisher": fisher_power(p0, p1, n_per_group, n_control, alpha=alpha),
        }
        if n_tests_secondary:
            row["power_fisher_adjusted"] = fisher_power(p0, p1, n_per_group, n_control,
                                                        alpha=alpha / n_tests_secondary)
        row.update(
            n_arcsine=math.ceil(n_arc) if np.isfinite(n_arc) else None,
            n_normal=math.ceil(n_norm) if np.isfinite(n_norm) else None,
            n_fisher=ss.n_first,
            n_fisher_stable=ss.n_stable,
        )
        row["claim_holds"] = bool(row["power_fisher"] >= target_power)
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("n_arcsine", "n_normal", "n_fisher", "n_fisher_stable"):
        if col in out:
            out[col] = out[col].astype("Int64")
    return out


def planned_controls(study) -> int:
    """Planned control persons: ``power.n_control``, else ``matching.ratio`` x ``power.n_per_group``."""
    cfg = study.power
    return int(cfg.n_control) if cfg.n_control is not None else int(study.matching.ratio) * int(cfg.n_per_group)


def design_power(study, *, adjust_secondary: bool = True) -> pd.DataFrame:
    """:func:`power_table` for a study's ``power:`` section.

    With ``adjust_secondary``, scenarios of outcomes other than ``outcomes.primary`` also
    get the exact power at ``alpha / m``, m = number of secondary scenarios (the level a
    secondary test must reach first under Holm's method when every secondary
    outcome x horizon of the plan is tested).
    """
    cfg = study.power
    primary = study.outcomes.primary
    n_sec = sum(1 for s in cfg.scenarios if s.outcome != primary)
    table = power_table(
        cfg.scenarios, cfg.n_per_group, cfg.alpha, cfg.target_power,
        n_tests_secondary=(n_sec or None) if adjust_secondary and study.outcomes.multiplicity != "none" else None,
        n_control=planned_controls(study),
    )
    table.insert(2, "role", np.where(table["outcome"] == primary, "primary", "secondary"))
    if "power_fisher_adjusted" in table:
        table.loc[table["role"] == "primary", "power_fisher_adjusted"] = table.loc[
            table["role"] == "primary", "power_fisher"]
    return table


def scenario_curves(study, n_values=None, *, keys=None) -> pd.DataFrame:
    """Power curves (:func:`power_curve`) for selected scenarios of a study, stacked.

    Parameters
    ----------
    study : Study
    n_values : iterable of int, optional
        Default: ``power.n_range`` (inclusive).
    keys : list of (outcome, horizon), optional
        Default: every scenario of the primary outcome plus the scenario with the lowest
        exact power at the planned n.

    Returns
    -------
    DataFrame
        ``outcome, horizon, control, intervention, n, fisher, arcsine, normal``.
    """
    cfg = study.power
    if n_values is None:
        n_values = range(cfg.n_range[0], cfg.n_range[1] + 1)
    scen = {(s.outcome, s.horizon): s for s in cfg.scenarios}
    if keys is None:
        keys = [k for k in scen if k[0] == study.outcomes.primary]
        if scen:
            worst = min(scen, key=lambda k: fisher_power(scen[k].control, scen[k].intervention, cfg.n_per_group,
                                                         alpha=cfg.alpha))
            if worst not in keys:
                keys.append(worst)
    frames = []
    for k in keys:
        s = scen[k]
        c = power_curve(s.control, s.intervention, n_values, cfg.alpha)
        for pos, (name, value) in enumerate((("outcome", s.outcome), ("horizon", s.horizon),
                                             ("control", s.control), ("intervention", s.intervention))):
            c.insert(pos, name, value)
        frames.append(c)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
