"""Binary outcomes at follow-up points: two-group comparisons of proportions.

Two layers, in the style of zEpid:

- **Counts** (pure functions, no data frames): :func:`wilson_ci`,
  :func:`risk_difference_newcombe`, :func:`risk_ratio`, :func:`fisher`,
  :func:`mcnemar`, :func:`paired_difference_newcombe`, :func:`weighted_risk_difference`
  and :func:`adjust_pvalues`. Cells are named by group, never by letter position:
  ``events1, total1`` are the **intervention** group, ``events0, total0`` the **control**
  group; for matched pairs ``both, int_only, ctl_only, neither`` count the pairs by
  (intervention outcome, control outcome).
- **Frames**: :func:`outcome_table` turns the person-level outcome frame of
  :func:`helpers.outcomes.definitions.evaluate_outcomes` into one row per outcome x horizon, and
  :func:`publish_outcome_table` formats and masks it for the report.

Every statistic is defined when a group has zero (or only) events, which is common here
(control 0 % at end of programme): the Newcombe CI, the Koopman score CI of the risk ratio
(upper limit infinite when the control share is 0), Fisher's exact test and the exact
McNemar test all have well-defined values; numerical warnings from the libraries are
contained so that none reaches a report.

Choices (also stated by :func:`methods_note`):

- Risk difference: Newcombe's hybrid score interval (method 10 of Newcombe 1998, via
  statsmodels ``confint_proportions_2indep(method="newcomb")``). The Wald interval is
  degenerate with zero events and is not offered.
- Risk ratio: Koopman's (1984) asymptotic score interval, solved here by root finding so
  that it also works at 0 % and 100 % (statsmodels' closed form returns complex numbers at
  100 %); the log-adjusted (Pettigrew) interval is available as an option.
- Test: Fisher's exact test (two-sided, R's definition), as in seed 000's planned analysis
  of two groups of 50.
- 1:1 matched pairs: McNemar's test (exact binomial when fewer than 25 discordant pairs,
  otherwise R's chi-square with continuity correction) and Newcombe's paired interval
  (method 10), on complete pairs.
- Any other matched design (k:1, variable ratio, matching with replacement, unequal
  weights): weighted risk difference (weighted least squares of the 0/1 outcome on group,
  i.e. the difference of weighted shares) with a cluster-robust sandwich variance by
  matched set (sets sharing a reused control are merged into one cluster) and a t
  reference with (clusters - 1) degrees of freedom. This weighted analysis is then the
  main test; the unweighted counts and Fisher test (one entry per cohort row) are shown
  for reference. A Mantel-Haenszel risk difference stratified by set was not chosen: with
  1:k sets it weights sets by k/(k+1) instead of the matching (ATT) weights, and it needs
  its own variance for sparse strata.
- Multiplicity: the primary outcome (``outcomes.primary``) is reported with unadjusted p at
  each horizon; every other reported outcome x horizon is secondary and its p-value is
  adjusted over that family (``outcomes.multiplicity``: Holm by default).

References
----------
Newcombe RG (1998a). Two-sided confidence intervals for the single proportion:
comparison of seven methods. Stat Med 17:857-872.
Newcombe RG (1998b). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Stat Med 17:873-890.
Newcombe RG (1998c). Improved confidence intervals for the difference between binomial
proportions based on paired data. Stat Med 17:2635-2650.
Koopman PAR (1984). Confidence intervals for the ratio of two binomial proportions.
Biometrics 40:513-517.
Holm S (1979). A simple sequentially rejective multiple test procedure. Scand J Stat 6:65-70.

Examples
--------
>>> rd = risk_difference_newcombe(12, 50, 0, 50)
>>> round(rd.estimate, 2), round(rd.lower, 4), round(rd.upper, 4)
(0.24, 0.1196, 0.3741)
>>> round(fisher(12, 50, 0, 50).pvalue, 6)
0.000231
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from helpers import disclosure

GROUPS = ("intervention", "control")
REQUIRED_COLUMNS = ("person_id", "group", "matched_set", "weight", "outcome", "horizon", "value")

RatioMethod = Literal["koopman", "log-adjusted"]
Adjustment = Literal["holm", "bonferroni", "none"]


@dataclass(frozen=True)
class Estimate:
    """A point estimate with a confidence interval.

    Attributes
    ----------
    estimate, lower, upper : float
        Point estimate and confidence limits (NaN when not estimable; ``inf`` allowed for
        ratio limits).
    measure : str
        What is estimated (``"proportion"``, ``"risk difference"``, ``"risk ratio"``).
    method : str
        How the interval was computed.
    alpha : float
        1 - confidence level.
    se : float
        Standard error where the method has one (NaN otherwise).
    """

    estimate: float
    lower: float
    upper: float
    measure: str
    method: str
    alpha: float = 0.05
    se: float = float("nan")


@dataclass(frozen=True)
class HypothesisTest:
    """A hypothesis test.

    Attributes
    ----------
    statistic : float
        Test statistic (odds ratio for Fisher, chi-square or discordant count for McNemar).
    pvalue : float
        Two-sided p-value.
    method : str
        Name of the test as shown in the report.
    """

    statistic: float
    pvalue: float
    method: str


@contextmanager
def _quiet() -> Iterator[None]:
    """Contain numpy floating-point warnings and RuntimeWarnings of the libraries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            yield


def _check_counts(**counts: float) -> None:
    for name, value in counts.items():
        if value is None or not np.isfinite(value) or value < 0 or value != int(value):
            raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")


def _check_pair(events: float, total: float, events_name: str, total_name: str) -> None:
    _check_counts(**{events_name: events, total_name: total})
    if events > total:
        raise ValueError(f"{events_name} ({events}) exceeds {total_name} ({total})")


# --------------------------------------------------------------------------- counts


def wilson_ci(events: int, total: int, alpha: float = 0.05) -> Estimate:
    r"""Wilson score interval for one proportion (R ``prop.test(correct=FALSE)``).

    .. math:: \frac{x + z^2/2}{n + z^2} \pm \frac{z\sqrt{n}}{n + z^2}
              \sqrt{\hat p (1 - \hat p) + z^2 / (4n)}

    Parameters
    ----------
    events, total : int
        Number with the outcome and number at risk.
    alpha : float
        1 - confidence level.

    Returns
    -------
    Estimate
        NaN throughout when ``total`` is 0.

    Examples
    --------
    >>> ci = wilson_ci(81, 263)
    >>> round(ci.lower, 4), round(ci.upper, 4)
    (0.2553, 0.3662)
    """
    _check_pair(events, total, "events", "total")
    if total == 0:
        return Estimate(math.nan, math.nan, math.nan, "proportion", "Wilson", alpha)
    z = float(stats.norm.isf(alpha / 2))
    p = events / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), "proportion", "Wilson", alpha)


def risk_difference_newcombe(events1: int, total1: int, events0: int, total0: int, alpha: float = 0.05) -> Estimate:
    r"""Risk difference (intervention - control) with Newcombe's hybrid score interval.

    Newcombe (1998b) method 10: with Wilson limits :math:`(l_i, u_i)` of each proportion,

    .. math:: L = \hat d - \sqrt{(\hat p_1 - l_1)^2 + (u_0 - \hat p_0)^2},\quad
              U = \hat d + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_0 - l_0)^2}

    Computed with statsmodels ``confint_proportions_2indep(method="newcomb")``.

    Parameters
    ----------
    events1, total1 : int
        Intervention group: number with the outcome, number at risk.
    events0, total0 : int
        Control group: number with the outcome, number at risk.
    alpha : float
        1 - confidence level.

    Returns
    -------
    Estimate
        NaN throughout when either group is empty.

    Examples
    --------
    >>> rd = risk_difference_newcombe(56, 70, 48, 80)
    >>> round(rd.lower, 4), round(rd.upper, 4)
    (0.0524, 0.3339)
    """
    _check_pair(events1, total1, "events1", "total1")
    _check_pair(events0, total0, "events0", "total0")
    method = "Newcombe hybrid score"
    if total1 == 0 or total0 == 0:
        return Estimate(math.nan, math.nan, math.nan, "risk difference", method, alpha)
    from statsmodels.stats.proportion import confint_proportions_2indep

    with _quiet():
        low, upp = confint_proportions_2indep(
            int(events1), int(total1), int(events0), int(total0), method="newcomb", compare="diff", alpha=alpha
        )
    d = events1 / total1 - events0 / total0
    return Estimate(d, max(-1.0, float(low)), min(1.0, float(upp)), "risk difference", method, alpha)


def _koopman_statistic(phi: float, x1: int, n1: int, x0: int, n0: int) -> float:
    """Koopman's chi-square score statistic for H0: p1 / p0 = phi (MLE under H0 in closed form)."""
    a = phi * (n1 + n0)
    b = -(phi * (n1 + x0) + x1 + n0)
    c = x1 + x0
    disc = max(b * b - 4 * a * c, 0.0)
    # smaller root of a p^2 + b p + c, in the cancellation-free form 2c / (-b + sqrt(disc))
    p0 = 2 * c / (-b + math.sqrt(disc)) if c > 0 else 0.0
    p0 = min(max(p0, 0.0), 1.0)  # rounding can push the root just outside [0, 1]
    p1 = min(phi * p0, 1.0)
    var = p1 * (1 - p1) / n1 + phi * phi * p0 * (1 - p0) / n0
    num = (x1 / n1 - phi * x0 / n0) ** 2
    if var <= 0:
        return 0.0 if num == 0 else math.inf
    return num / var


def _koopman_interval(x1: int, n1: int, x0: int, n0: int, alpha: float) -> tuple[float, float]:
    crit = stats.chi2.isf(alpha, 1)
    p1, p0 = x1 / n1, x0 / n0
    if x1 == 0 and x0 == 0:
        return math.nan, math.nan

    def f(log_phi: float) -> float:
        return _koopman_statistic(math.exp(log_phi), x1, n1, x0, n0) - crit

    lo_end, hi_end = -30.0, 30.0  # ratios e^-30 .. e^30 bracket every finite limit
    if x1 == 0:
        lower = 0.0
        upper = math.exp(optimize.brentq(f, lo_end, hi_end, xtol=1e-12))
        return lower, upper
    if x0 == 0:
        upper = math.inf
        lower = math.exp(optimize.brentq(f, lo_end, hi_end, xtol=1e-12))
        return lower, upper
    centre = math.log(p1 / p0)
    lower = math.exp(optimize.brentq(f, lo_end, centre, xtol=1e-12))
    upper = math.exp(optimize.brentq(f, centre, hi_end, xtol=1e-12))
    return lower, upper


def risk_ratio(
    events1: int, total1: int, events0: int, total0: int, alpha: float = 0.05, method: RatioMethod = "koopman"
) -> Estimate:
    r"""Risk ratio (intervention / control) with a score or log-adjusted interval.

    ``method="koopman"``: the set of ratios :math:`\phi` not rejected by Koopman's score
    test, :math:`(\hat p_1 - \phi \hat p_0)^2 / (\tilde p_1 (1 - \tilde p_1)/n_1 +
    \phi^2 \tilde p_0 (1 - \tilde p_0)/n_0) \le \chi^2_{1, 1-\alpha}`, with
    :math:`\tilde p` the maximum-likelihood estimates under :math:`p_1 = \phi p_0`. With
    zero control events the estimate and upper limit are ``inf`` and the lower limit is
    finite; with zero intervention events the estimate and lower limit are 0.
    ``method="log-adjusted"``: Pettigrew et al. (0.5 added to the counts), via statsmodels.

    Parameters
    ----------
    events1, total1 : int
        Intervention group: number with the outcome, number at risk.
    events0, total0 : int
        Control group.
    alpha : float
        1 - confidence level.
    method : {"koopman", "log-adjusted"}
        Interval method.

    Returns
    -------
    Estimate
        NaN throughout when both groups have zero events or a group is empty.

    Examples
    --------
    >>> rr = risk_ratio(36, 40, 16, 80)  # Koopman (1984)
    >>> round(rr.estimate, 2), round(rr.lower, 2), round(rr.upper, 2)
    (4.5, 2.94, 7.15)
    """
    _check_pair(events1, total1, "events1", "total1")
    _check_pair(events0, total0, "events0", "total0")
    if method not in ("koopman", "log-adjusted"):
        raise ValueError(f"method must be 'koopman' or 'log-adjusted', got {method!r}")
    label = "Koopman score" if method == "koopman" else "log-adjusted"
    if total1 == 0 or total0 == 0 or (events1 == 0 and events0 == 0):
        return Estimate(math.nan, math.nan, math.nan, "risk ratio", label, alpha)
    p1, p0 = events1 / total1, events0 / total0
    est = math.inf if p0 == 0 else p1 / p0
    if method == "koopman":
        low, upp = _koopman_interval(int(events1), int(total1), int(events0), int(total0), alpha)
    else:
        from statsmodels.stats.proportion import confint_proportions_2indep

        with _quiet():
            low, upp = confint_proportions_2indep(
                int(events1), int(total1), int(events0), int(total0), method="log-adjusted", compare="ratio", alpha=alpha
            )
        low, upp = float(low), float(upp)
    return Estimate(est, low, upp, "risk ratio", label, alpha)


def fisher(
    events1: int, total1: int, events0: int, total0: int,
    alternative: Literal["two-sided", "greater", "less"] = "two-sided",
) -> HypothesisTest:
    """Fisher's exact test (R's ``fisher.test``; two-sided: tables no more probable than observed).

    Parameters
    ----------
    events1, total1, events0, total0 : int
        Intervention and control: number with the outcome and number at risk.
    alternative : {"two-sided", "greater", "less"}
        ``"greater"``: the intervention share (odds) is larger under the alternative.

    Returns
    -------
    HypothesisTest
        ``statistic`` is the sample odds ratio (``inf`` or NaN with zero cells); p is 1
        when a group is empty or nobody (or everybody) has the outcome.

    Examples
    --------
    >>> round(fisher(3, 4, 1, 4).pvalue, 4)  # R fisher.test(TeaTasting) two-sided
    0.4857
    """
    _check_pair(events1, total1, "events1", "total1")
    _check_pair(events0, total0, "events0", "total0")
    table = [[int(events1), int(total1 - events1)], [int(events0), int(total0 - events0)]]
    if total1 == 0 or total0 == 0:
        return HypothesisTest(math.nan, math.nan, "Fisher's exact test")
    with _quiet():
        res = stats.fisher_exact(table, alternative=alternative)
    return HypothesisTest(float(res.statistic), min(1.0, float(res.pvalue)), "Fisher's exact test")


def mcnemar(
    int_only: int, ctl_only: int, *, exact: bool | None = None, correction: bool = True, exact_below: int = 25
) -> HypothesisTest:
    """McNemar's test on the discordant pairs of a 1:1 matched design.

    Parameters
    ----------
    int_only : int
        Pairs where only the intervention member has the outcome.
    ctl_only : int
        Pairs where only the control member has the outcome.
    exact : bool, optional
        True: exact binomial test (two-sided, doubled smaller tail, as statsmodels and
        R's ``binom.test``); False: chi-square (R ``mcnemar.test``); None (default): exact
        when there are fewer than ``exact_below`` discordant pairs.
    correction : bool
        Continuity correction for the chi-square version (R's default).
    exact_below : int
        Threshold for the automatic choice.

    Returns
    -------
    HypothesisTest
        With no discordant pairs p is 1 (both versions).

    Examples
    --------
    >>> r = mcnemar(150, 86, exact=False)  # R mcnemar.test(Performance)
    >>> round(r.statistic, 3), f"{r.pvalue:.3e}"
    (16.818, '4.115e-05')
    """
    _check_counts(int_only=int_only, ctl_only=ctl_only)
    discordant = int_only + ctl_only
    if exact is None:
        exact = discordant < exact_below
    if exact:
        method = "McNemar exact (binomial)"
        if discordant == 0:
            return HypothesisTest(0.0, 1.0, method)
        p = min(1.0, 2 * stats.binom.cdf(min(int_only, ctl_only), discordant, 0.5))
        return HypothesisTest(float(min(int_only, ctl_only)), float(p), method)
    method = "McNemar chi-square" + (" (continuity corrected)" if correction else "")
    if discordant == 0:
        return HypothesisTest(0.0, 1.0, method)
    diff = abs(int_only - ctl_only)
    if correction:
        diff = max(diff - 1, 0)
    stat = diff * diff / discordant
    return HypothesisTest(float(stat), float(stats.chi2.sf(stat, 1)), method)


def paired_difference_newcombe(
    both: int, int_only: int, ctl_only: int, neither: int, alpha: float = 0.05
) -> Estimate:
    r"""Difference of paired proportions with Newcombe's (1998c) method 10 interval.

    Pairs are counted by (intervention outcome, control outcome): ``both`` (1, 1),
    ``int_only`` (1, 0), ``ctl_only`` (0, 1), ``neither`` (0, 0); Newcombe's e, f, g, h.
    The difference is :math:`(f - g)/n`. With Wilson limits :math:`(l_1, u_1)` of
    :math:`(e + f)/n` and :math:`(l_0, u_0)` of :math:`(e + g)/n`,

    .. math:: L = \hat d - \sqrt{\delta_1^2 - 2\phi\delta_1\epsilon_0 + \epsilon_0^2},\quad
              U = \hat d + \sqrt{\epsilon_1^2 - 2\phi\epsilon_1\delta_0 + \delta_0^2}

    where :math:`\delta = \hat p - l`, :math:`\epsilon = u - \hat p` and :math:`\phi` is
    the phi coefficient of the pair table, its numerator reduced by :math:`n/2` (not below 0)
    when :math:`eh > fg`, and 0 when a margin is empty.

    Parameters
    ----------
    both, int_only, ctl_only, neither : int
        Pair counts (see above).
    alpha : float
        1 - confidence level.

    Returns
    -------
    Estimate
        NaN throughout when there are no pairs.

    Examples
    --------
    >>> ci = paired_difference_newcombe(36, 12, 2, 0)  # Newcombe (1998c)
    >>> round(ci.lower, 4), round(ci.upper, 4)
    (0.0569, 0.3404)
    """
    _check_counts(both=both, int_only=int_only, ctl_only=ctl_only, neither=neither)
    e, f, g, h = (int(v) for v in (both, int_only, ctl_only, neither))
    n = e + f + g + h
    method = "Newcombe paired (method 10)"
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, "risk difference", method, alpha)
    d = (f - g) / n
    margins = (e + f) * (g + h) * (e + g) * (f + h)
    if margins == 0:
        phi = 0.0
    else:
        num = max(e * h - f * g - n / 2, 0.0) if e * h > f * g else float(e * h - f * g)
        phi = num / math.sqrt(margins)
    w1, w0 = wilson_ci(e + f, n, alpha), wilson_ci(e + g, n, alpha)
    p1, p0 = (e + f) / n, (e + g) / n
    dl1, du1 = p1 - w1.lower, w1.upper - p1
    dl0, du0 = p0 - w0.lower, w0.upper - p0
    delta = math.sqrt(max(dl1 * dl1 - 2 * phi * dl1 * du0 + du0 * du0, 0.0))
    epsilon = math.sqrt(max(du1 * du1 - 2 * phi * du1 * dl0 + dl0 * dl0, 0.0))
    return Estimate(d, max(-1.0, d - delta), min(1.0, d + epsilon), "risk difference", method, alpha)


@dataclass(frozen=True)
class WeightedResult:
    """Weighted risk difference with a matched-set-clustered standard error.

    Attributes
    ----------
    estimate : Estimate
        Weighted share (intervention) - weighted share (control), with CI.
    pvalue : float
        Two-sided p-value (t with ``n_clusters - 1`` degrees of freedom).
    n_clusters : int
        Number of matched sets contributing.
    share1, share0 : float
        Weighted shares in the intervention and control group.
    """

    estimate: Estimate
    pvalue: float
    n_clusters: int
    share1: float
    share0: float


def weighted_risk_difference(
    value: Sequence[float], treated: Sequence[bool], weight: Sequence[float], cluster: Sequence, alpha: float = 0.05
) -> WeightedResult:
    r"""Weighted risk difference with a cluster-robust (matched-set) sandwich variance.

    Weighted least squares of the 0/1 outcome on an intercept and the intervention
    indicator (statsmodels ``WLS(...).fit(cov_type="cluster")``): the coefficient is the
    difference of weighted shares,

    .. math:: \hat d = \frac{\sum_{T} w_i y_i}{\sum_T w_i} - \frac{\sum_C w_i y_i}{\sum_C w_i},

    with the CR1 sandwich variance clustered by matched set (small-sample factor
    :math:`\frac{G}{G-1}\frac{N-1}{N-2}`) and a t reference with :math:`G - 1` degrees of
    freedom.

    Parameters
    ----------
    value : array of {0, 1}
        Outcome (rows with NaN must be removed beforehand).
    treated : array of bool
        True for the intervention group.
    weight : array of float
        Positive analysis weights (matching weights).
    cluster : array
        Matched set of each row.
    alpha : float
        1 - confidence level.

    Returns
    -------
    WeightedResult
        Degenerate cases (a group empty, fewer than 2 sets, zero variance) give NaN limits
        and p (p is 1 when both weighted shares are equal and the variance is zero).
    """
    y = np.asarray(value, dtype=float)
    t = np.asarray(treated, dtype=bool)
    w = np.asarray(weight, dtype=float)
    g = pd.factorize(pd.Series(np.asarray(cluster)))[0]
    if not (len(y) == len(t) == len(w) == len(g)):
        raise ValueError("value, treated, weight and cluster must have the same length")
    if np.isnan(y).any() or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("value must be 0 or 1 (drop excluded persons, NaN, first)")
    if (w <= 0).any() or not np.isfinite(w).all():
        raise ValueError("weight must be positive and finite")
    method = "weighted, matched-set clustered SE"
    nan_est = Estimate(math.nan, math.nan, math.nan, "risk difference", method, alpha)
    if t.sum() == 0 or (~t).sum() == 0:
        return WeightedResult(nan_est, math.nan, int(len(np.unique(g))), math.nan, math.nan)
    s1 = float(np.sum(w[t] * y[t]) / np.sum(w[t]))
    s0 = float(np.sum(w[~t] * y[~t]) / np.sum(w[~t]))
    d = s1 - s0
    n_clusters = int(len(np.unique(g)))
    if n_clusters < 2:
        return WeightedResult(Estimate(d, math.nan, math.nan, "risk difference", method, alpha), math.nan,
                              n_clusters, s1, s0)
    import statsmodels.api as sm

    X = np.column_stack([np.ones_like(y), t.astype(float)])
    with _quiet():  # bse is computed lazily: keep it inside (0 events give sqrt(-0) warnings)
        fit = sm.WLS(y, X, weights=w).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
        se = float(fit.bse[1])
    if not np.isfinite(se) or se == 0:
        p = 1.0 if abs(d) < 1e-15 else math.nan
        return WeightedResult(Estimate(d, math.nan, math.nan, "risk difference", method, alpha, 0.0), p,
                              n_clusters, s1, s0)
    q = stats.t.isf(alpha / 2, n_clusters - 1)
    p = float(2 * stats.t.sf(abs(d) / se, n_clusters - 1))
    est = Estimate(d, max(-1.0, d - q * se), min(1.0, d + q * se), "risk difference", method, alpha, se)
    return WeightedResult(est, p, n_clusters, s1, s0)


def adjust_pvalues(pvalues: Sequence[float], method: Adjustment = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiplicity (Holm's step-down or Bonferroni).

    NaN p-values are left NaN and do not count towards the family size.

    Parameters
    ----------
    pvalues : sequence of float
    method : {"holm", "bonferroni", "none"}

    Returns
    -------
    ndarray
        Adjusted p-values, capped at 1, in the input order.

    Examples
    --------
    >>> adjust_pvalues([0.01, 0.04, 0.03, 0.005]).round(3).tolist()
    [0.03, 0.06, 0.06, 0.02]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if method == "none" or not ok.any():
        out[ok] = p[ok]
        return out
    if method not in ("holm", "bonferroni"):
        raise ValueError(f"method must be 'holm', 'bonferroni' or 'none', got {method!r}")
    from statsmodels.stats.multitest import multipletests

    out[ok] = multipletests(p[ok], method=method)[1]
    return out


# --------------------------------------------------------------------------- frames


def _validate(person_outcomes: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in person_outcomes.columns]
    if missing:
        raise ValueError(
            f"person outcomes: missing column(s) {missing}; expected the frame of "
            "helpers.outcomes.definitions.evaluate_outcomes (person_id, group, matched_set, weight, outcome, horizon, value)"
        )
    df = person_outcomes
    bad_group = ~df["group"].isin(GROUPS)
    if bad_group.any():
        row = int(np.flatnonzero(bad_group.to_numpy())[0])
        raise ValueError(
            f"person outcomes: column 'group', row {row}: '{df['group'].iloc[row]}' is not "
            "'intervention' or 'control'"
        )
    v = pd.to_numeric(df["value"], errors="coerce")
    bad_value = (v.isna() & df["value"].notna()) | (v.notna() & ~v.isin((0.0, 1.0)))
    if bad_value.any():
        row = int(np.flatnonzero(bad_value.to_numpy())[0])
        raise ValueError(
            f"person outcomes: column 'value', row {row}: '{df['value'].iloc[row]}' is not 0, 1 or missing (NaN)"
        )
    w = pd.to_numeric(df["weight"], errors="coerce")
    bad_w = ~(w > 0) | ~np.isfinite(w)
    if bad_w.any():
        row = int(np.flatnonzero(bad_w.to_numpy())[0])
        raise ValueError(
            f"person outcomes: column 'weight', row {row}: '{df['weight'].iloc[row]}' is not a positive number"
        )
    dup = df.duplicated(["person_id", "matched_set", "group", "outcome", "horizon"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise ValueError(
            f"person outcomes: row {row}: a cohort row (person, matched set, group) appears twice for outcome "
            f"{df['outcome'].iloc[row]!r} at horizon {df['horizon'].iloc[row]!r}; expected one row per "
            "cohort row x outcome x horizon"
        )
    out = df.copy()
    out["value"] = v
    out["weight"] = w
    return out


def matching_design(frame: pd.DataFrame) -> Literal["pairs", "weighted", "independent"]:
    """Which matched analysis applies to a cohort-like frame (one row per cohort row).

    - ``"pairs"``: every matched set has exactly one intervention and one control row,
      every weight is 1 and no person appears in two sets (1:1 matching without
      replacement): McNemar and the paired Newcombe interval.
    - ``"weighted"``: matched sets exist but are not all such pairs (k:1, variable ratio,
      matching with replacement, unequal weights): weighted RD clustered by matched set.
    - ``"independent"``: no matched sets (``matched_set`` all missing) and unit weights.
    """
    rows = frame.drop_duplicates(["person_id", "matched_set", "group"])
    w = pd.to_numeric(rows["weight"], errors="coerce")
    unit = bool(np.allclose(w, 1.0))
    if rows["matched_set"].isna().all():
        return "independent" if unit and not rows.duplicated(["person_id", "group"]).any() else "weighted"
    if rows["matched_set"].isna().any() or rows.duplicated(["person_id", "group"]).any():
        return "weighted"
    sizes = rows.groupby(["matched_set", "group"]).size().unstack(fill_value=0)
    for g in GROUPS:
        if g not in sizes:
            sizes[g] = 0
    pairs = bool(((sizes["intervention"] == 1) & (sizes["control"] == 1)).all())
    return "pairs" if (pairs and unit) else "weighted"


def analysis_clusters(matched_set: Sequence, person_id: Sequence) -> np.ndarray:
    """Cluster labels for the sandwich variance: matched sets joined when they share a person.

    With matching with replacement a control can serve several sets; those sets are then
    not independent, so they are merged into one cluster (connected components of the
    set-person graph). Rows without a matched set form their own cluster per person.

    Returns
    -------
    ndarray of int
        One label per row.
    """
    sets = pd.Series(np.asarray(matched_set, dtype=object))
    persons = pd.Series(np.asarray(person_id, dtype=object)).astype(str)
    key = np.where(sets.isna(), "p:" + persons, "s:" + sets.astype(str))
    set_codes, set_uniques = pd.factorize(pd.Series(key))
    parent = list(range(len(set_uniques)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_set: dict[str, int] = {}
    for code, person in zip(set_codes, persons):
        if person in first_set:
            a, b = find(first_set[person]), find(code)
            if a != b:
                parent[b] = a
        else:
            first_set[person] = code
    roots = np.array([find(c) for c in set_codes])
    return pd.factorize(pd.Series(roots))[0]


_NEWCOMBE_FISHER = {"estimate": "rd", "lower": "rd_lower", "upper": "rd_upper", "p": "p_fisher",
                    "test": "Fisher exact", "ci": "Newcombe hybrid score"}
#: The headline (main) analysis of each design under each rule (``outcomes.headline``): which difference,
#: CI and test the report leads with. ``clustered`` was chosen by simulation (docs/headline-estimator.md,
#: ``make simulate``): its CI coverage was closest to 95 % for 1:1 pairs and for k:1 / replacement designs.
#: The other analyses stay in the table.
HEADLINE: dict[str, dict[str, dict[str, str]]] = {
    "clustered": {
        "pairs": {"estimate": "w_rd", "lower": "w_lower", "upper": "w_upper", "p": "p_weighted",
                  "test": "matched-set clustered (pairs)", "ci": "pair-clustered SE, t"},
        "weighted": {"estimate": "w_rd", "lower": "w_lower", "upper": "w_upper", "p": "p_weighted",
                     "test": "weighted (matched-set clustered)", "ci": "weighted, matched-set clustered SE, t"},
        "independent": _NEWCOMBE_FISHER,
    },
    "classic": {
        "pairs": _NEWCOMBE_FISHER,
        "weighted": {"estimate": "w_rd", "lower": "w_lower", "upper": "w_upper", "p": "p_weighted",
                     "test": "weighted (matched-set clustered)", "ci": "weighted, matched-set clustered SE, t"},
        "independent": _NEWCOMBE_FISHER,
    },
}
HeadlineRule = Literal["clustered", "classic"]


def headline_columns(design: str, rule: HeadlineRule = "clustered") -> dict[str, str]:
    """Columns of :func:`outcome_table` that are the headline analysis of a matched design.

    Parameters
    ----------
    design : {"pairs", "weighted", "independent"}
        As returned by :func:`matching_design`.
    rule : {"clustered", "classic"}
        ``outcomes.headline`` of the study: ``clustered`` (the default of the study file,
        chosen by simulation) leads every matched design with the difference whose standard
        error is clustered by matched set (t test); ``classic`` leads 1:1 pairs with
        Newcombe's unpaired interval and Fisher's exact test.

    Returns
    -------
    dict
        ``estimate``, ``lower``, ``upper`` (the difference and its CI), ``p`` (the test's
        p-value column), ``test`` and ``ci`` (names shown in the report).
    """
    if rule not in HEADLINE:
        raise ValueError(f"headline rule must be one of {sorted(HEADLINE)}, got {rule!r}")
    if design not in HEADLINE[rule]:
        raise ValueError(f"design must be one of {sorted(HEADLINE[rule])}, got {design!r}")
    return dict(HEADLINE[rule][design])


def _labels(study, language: str) -> tuple[dict[str, str], dict[str, str], dict[str, int]]:
    if study is None:
        return {}, {}, {}
    defs = study.outcomes.definitions
    out_labels = {k: d.label(language) for k, d in defs.items()}
    hor_labels = {h.key: h.label(language) for h in study.outcomes.horizons}
    hor_order = {h.key: i for i, h in enumerate(study.outcomes.horizons)}
    return out_labels, hor_labels, hor_order


def outcome_table(
    person_outcomes: pd.DataFrame,
    study=None,
    *,
    alpha: float = 0.05,
    primary: str | None = None,
    multiplicity: Adjustment | None = None,
    ratio_method: RatioMethod = "koopman",
    design: Literal["auto", "pairs", "weighted", "independent"] = "auto",
    headline: HeadlineRule | None = None,
) -> pd.DataFrame:
    """One row per outcome x horizon: shares by group, RD and RR with CIs, tests, adjusted p.

    Parameters
    ----------
    person_outcomes : DataFrame
        Long person-level frame of :func:`helpers.outcomes.definitions.evaluate_outcomes`: columns
        ``person_id, group, matched_set, weight, outcome, horizon, value`` (1.0 / 0.0 / NaN
        = excluded, e.g. died or emigrated before the horizon), optionally
        ``horizon_weeks`` and ``reported`` (rows with ``reported == False`` are building
        blocks and are skipped).
    study : Study, optional
        Supplies labels, the order of horizons, ``outcomes.primary`` and
        ``outcomes.multiplicity`` (each overridable by the keyword arguments).
    alpha : float
        1 - confidence level.
    primary : str, optional
        Primary outcome (default ``study.outcomes.primary``).
    multiplicity : {"holm", "bonferroni", "none"}, optional
        Adjustment over the secondary rows (default ``study.outcomes.multiplicity``, else Holm).
    ratio_method : {"koopman", "log-adjusted"}
        Risk-ratio interval.
    design : {"auto", "pairs", "weighted", "independent"}
        Matched analysis; ``"auto"`` decides with :func:`matching_design`.
    headline : {"clustered", "classic"}, optional
        Which analysis leads (:func:`headline_columns`); default ``study.outcomes.headline``,
        or ``"classic"`` without a study.

    Returns
    -------
    DataFrame
        Columns: ``outcome, outcome_label, horizon, horizon_label, horizon_weeks, role``
        (``"primary"``/``"secondary"``), ``n_int, N_int, pct_int, excluded_int``, the
        same with ``_ctl``, ``rd, rd_lower, rd_upper, rr, rr_lower, rr_upper, odds_ratio,
        p_fisher``, the matched analysis ``design, n_pairs, n_sets, paired_rd,
        paired_lower, paired_upper, p_mcnemar, mcnemar_method, w_share_int, w_share_ctl,
        w_rd, w_lower, w_upper, p_weighted``, the headline analysis of the design
        (:func:`headline_columns`): ``headline_rd, headline_lower, headline_upper,
        headline_ci``, ``p_value`` (its test) and ``test``; then ``p_adjusted``, ``adjustment``.
        Percentages are 0-100. NaN marks what is not estimable.
    """
    df = _validate(person_outcomes)
    if "reported" in df.columns:
        df = df[df["reported"].fillna(True).astype(bool)]
    language = study.study.language if study is not None else "en"
    out_labels, hor_labels, hor_order = _labels(study, language)
    primary = primary or (study.outcomes.primary if study is not None else None)
    multiplicity = multiplicity or (study.outcomes.multiplicity if study is not None else "holm")
    if design == "auto":
        design = matching_design(df)
    if headline is None:
        headline = study.outcomes.headline if study is not None else "classic"

    out_order = list(out_labels) if out_labels else list(pd.unique(df["outcome"]))
    rows = []
    for (outcome, horizon), sub in df.groupby(["outcome", "horizon"], sort=False):
        rows.append(_row(sub, outcome, horizon, alpha, ratio_method, design, headline))
    res = pd.DataFrame(rows)
    if res.empty:
        return res
    res["outcome_label"] = res["outcome"].map(lambda k: out_labels.get(k, k))
    res["horizon_label"] = res["horizon"].map(lambda k: hor_labels.get(k, k))
    res["role"] = np.where(res["outcome"] == primary, "primary", "secondary")
    res["_o"] = res["outcome"].map(lambda k: out_order.index(k) if k in out_order else len(out_order))
    res["_h"] = res["horizon"].map(lambda k: hor_order.get(k, 99))
    res["_p"] = (res["role"] != "primary").astype(int)
    res = res.sort_values(["_p", "_o", "_h", "horizon_weeks"]).drop(columns=["_o", "_h", "_p"]).reset_index(drop=True)
    res["p_adjusted"] = res["p_value"]
    res["adjustment"] = "none (primary)"
    sec = res["role"] == "secondary"
    if sec.any():
        res.loc[sec, "p_adjusted"] = adjust_pvalues(res.loc[sec, "p_value"].to_numpy(), multiplicity)
        n_family = int(np.isfinite(res.loc[sec, "p_value"]).sum())
        res.loc[sec, "adjustment"] = f"{multiplicity} over {n_family} secondary tests" if multiplicity != "none" else "none"
    lead = ["outcome", "outcome_label", "horizon", "horizon_label", "horizon_weeks", "role"]
    return res[lead + [c for c in res.columns if c not in lead]]


def _row(sub, outcome, horizon, alpha, ratio_method, design, headline="classic") -> dict:
    row: dict = {"outcome": outcome, "horizon": horizon}
    row["horizon_weeks"] = int(sub["horizon_weeks"].iloc[0]) if "horizon_weeks" in sub else np.nan
    counts = {}
    for g, tag in (("intervention", "int"), ("control", "ctl")):
        s = sub[sub["group"] == g]
        valid = s["value"].dropna()
        n, N = int(valid.sum()), int(len(valid))
        counts[tag] = (n, N)
        row[f"n_{tag}"], row[f"N_{tag}"] = n, N
        row[f"pct_{tag}"] = 100.0 * n / N if N else np.nan
        row[f"excluded_{tag}"] = int(s["value"].isna().sum())
    (x1, n1), (x0, n0) = counts["int"], counts["ctl"]
    rd = risk_difference_newcombe(x1, n1, x0, n0, alpha)
    rr = risk_ratio(x1, n1, x0, n0, alpha, ratio_method)
    fi = fisher(x1, n1, x0, n0)
    row.update(rd=rd.estimate, rd_lower=rd.lower, rd_upper=rd.upper, rd_method=rd.method,
               rr=rr.estimate, rr_lower=rr.lower, rr_upper=rr.upper, rr_method=rr.method,
               odds_ratio=fi.statistic, p_fisher=fi.pvalue)
    row.update(design=design, n_pairs=np.nan, n_sets=np.nan, paired_rd=np.nan, paired_lower=np.nan,
               paired_upper=np.nan, p_mcnemar=np.nan, mcnemar_method="", w_share_int=np.nan,
               w_share_ctl=np.nan, w_rd=np.nan, w_lower=np.nan, w_upper=np.nan, p_weighted=np.nan)
    if design == "pairs":
        wide = sub.pivot_table(index="matched_set", columns="group", values="value", aggfunc="first")
        if set(GROUPS) <= set(wide.columns):
            complete = wide.dropna(subset=list(GROUPS))
            i, c = complete["intervention"] == 1, complete["control"] == 1
            both, int_only, ctl_only = int((i & c).sum()), int((i & ~c).sum()), int((~i & c).sum())
            neither = int(len(complete)) - both - int_only - ctl_only
        else:
            both = int_only = ctl_only = neither = 0
        pr = paired_difference_newcombe(both, int_only, ctl_only, neither, alpha)
        mc = mcnemar(int_only, ctl_only) if (both + int_only + ctl_only + neither) else HypothesisTest(
            math.nan, math.nan, "McNemar")
        row.update(n_pairs=both + int_only + ctl_only + neither, paired_rd=pr.estimate, paired_lower=pr.lower,
                   paired_upper=pr.upper, p_mcnemar=mc.pvalue, mcnemar_method=mc.method)
    if design in ("pairs", "weighted"):  # the clustered difference: the headline of both (headline_columns)
        s = sub.dropna(subset=["value"])
        cluster = analysis_clusters(s["matched_set"], s["person_id"])
        wr = weighted_risk_difference(s["value"], s["group"] == "intervention", s["weight"], cluster, alpha)
        row.update(n_sets=wr.n_clusters, w_share_int=wr.share1 * 100, w_share_ctl=wr.share0 * 100,
                   w_rd=wr.estimate.estimate, w_lower=wr.estimate.lower, w_upper=wr.estimate.upper,
                   p_weighted=wr.pvalue)
    head = headline_columns(design, headline)
    row["p_value"], row["test"], row["headline_ci"] = row[head["p"]], head["test"], head["ci"]
    row["headline_rd"], row["headline_lower"], row["headline_upper"] = (
        row[head["estimate"]], row[head["lower"]], row[head["upper"]])
    return row


# --------------------------------------------------------------------------- report


def format_p(p: float) -> str:
    """p-value as printed: ``<0.001``, three decimals below 0.1, else two; ``–`` if missing."""
    if p is None or not np.isfinite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def _fmt_ci(est: float, low: float, upp: float, scale: float = 1.0, digits: int = 1, sep: str = " to ") -> str:
    """``est (low to upp)``; ``–`` when not estimable, ``∞`` for an infinite ratio."""

    def f(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if math.isinf(v):
            return "∞" if v > 0 else "-∞"
        return f"{v * scale:.{digits}f}"

    if est is None or (isinstance(est, float) and math.isnan(est)):
        return "–"
    if all(v is None or (isinstance(v, float) and math.isnan(v)) for v in (low, upp)):
        return f(est)
    return f"{f(est)} ({f(low)}{sep}{f(upp)})"


def publish_outcome_table(
    results: pd.DataFrame,
    min_cell: int,
    *,
    language: str = "en",
    item: str = "outcome_table",
    keep_estimates: bool = False,
) -> tuple[pd.DataFrame, disclosure.Check]:
    """Format the outcome table for the report and apply disclosure control.

    A group's ``n/N (%)`` is masked when n or N - n is 1 .. ``min_cell`` - 1
    (:func:`helpers.disclosure.unsafe_proportion`); N is masked when it is itself small.
    The number of persons left out at a follow-up point (exits, no data) is not a column:
    it equals the group size minus N, and the group sizes are published in the cohort
    section, so a masked column would not protect it. By default (``keep_estimates=False``,
    study key ``outcomes.estimates_with_masked_counts: false``) every estimate and p-value
    in a row with a masked cell is masked too: together with the other group's n/N, a risk
    difference would let a reader recover the masked count exactly. ``keep_estimates=True``
    keeps them (internal use; the methods note then says the masked counts are recoverable).

    Parameters
    ----------
    results : DataFrame
        Output of :func:`outcome_table`.
    min_cell : int
        Smallest count that may be shown.
    language : {"en", "da"}
        Column headings.
    item : str
        Key for the disclosure checklist.
    keep_estimates : bool
        See above.

    Returns
    -------
    table : DataFrame
        Strings, one row per outcome x horizon, primary outcome first.
    check : Check
    """
    da = language == "da"
    sep = " til " if da else " to "
    mask_label = disclosure.MASK.format(min_cell=min_cell)
    out_rows = []
    n_masked = 0
    rows_masked = 0
    paired = (results["design"] == "pairs").any() if "design" in results else False
    weighted = (results["design"] == "weighted").any() if "design" in results else False
    # 1:1 pairs whose headline is the pair-clustered difference show it as its own column
    pair_clustered = paired and "test" in results and results["test"].eq(HEADLINE["clustered"]["pairs"]["test"]).any()
    for _, r in results.iterrows():
        cells = {}
        row_masked = False
        for tag, head in (("int", "Intervention" if not da else "Indsats"), ("ctl", "Control" if not da else "Kontrol")):
            n, N = r[f"n_{tag}"], r[f"N_{tag}"]
            unsafe_p = bool(disclosure.unsafe_proportion(n, N, min_cell))
            small_N = bool(disclosure.is_small(N, min_cell))
            if small_N:
                cells[head] = f"{mask_label} / {mask_label}"
                n_masked += 2
            elif unsafe_p:
                cells[head] = f"{mask_label} / {int(N)}"
                n_masked += 1
            elif N == 0:
                cells[head] = "0 / 0"
            else:
                cells[head] = f"{int(n)} / {int(N)} ({r[f'pct_{tag}']:.0f}%)"
            row_masked |= unsafe_p or small_N
        rows_masked += int(row_masked)
        hide = row_masked and not keep_estimates
        rd_head = "Difference, %-points (95% CI)" if not da else "Forskel, %-point (95% CI)"
        rr_head = "Risk ratio (95% CI)" if not da else "Relativ risiko (95% CI)"
        row = {
            ("Outcome" if not da else "Effektmål"): r["outcome_label"],
            ("Follow-up" if not da else "Opfølgning"): r["horizon_label"],
            ("Role" if not da else "Rolle"): (r["role"] if not da else {"primary": "primært", "secondary": "sekundært"}[r["role"]]),
            **cells,
            rd_head: mask_label if hide else _fmt_ci(r["rd"], r["rd_lower"], r["rd_upper"], 100, 1, sep),
            rr_head: mask_label if hide else _fmt_rr(r, sep),
            ("p (Fisher)"): mask_label if hide else format_p(r["p_fisher"]),
        }
        if paired:
            row["Pairs" if not da else "Par"] = _safe_count(r["n_pairs"], min_cell, mask_label)
            row[("Paired difference, %-points (95% CI)" if not da else "Parret forskel, %-point (95% CI)")] = (
                mask_label if hide else _fmt_ci(r["paired_rd"], r["paired_lower"], r["paired_upper"], 100, 1, sep))
            row["p (McNemar)"] = mask_label if hide else format_p(r["p_mcnemar"])
        if pair_clustered:
            row[("Difference, pair-clustered SE, %-points (95% CI)" if not da
                 else "Forskel, SE klynget på par, %-point (95% CI)")] = (
                mask_label if hide else _fmt_ci(r["w_rd"], r["w_lower"], r["w_upper"], 100, 1, sep))
            row["p (pair-clustered t)" if not da else "p (klynget på par, t)"] = (
                mask_label if hide else format_p(r["p_weighted"]))
        if weighted:
            row[("Weighted difference, %-points (95% CI)" if not da else "Vægtet forskel, %-point (95% CI)")] = (
                mask_label if hide else _fmt_ci(r["w_rd"], r["w_lower"], r["w_upper"], 100, 1, sep))
            row["p (weighted)" if not da else "p (vægtet)"] = mask_label if hide else format_p(r["p_weighted"])
        row["p (adjusted)" if not da else "p (justeret)"] = (
            mask_label if hide else ("–" if r["role"] == "primary" else format_p(r["p_adjusted"])))
        out_rows.append(row)
    table = pd.DataFrame(out_rows)
    detail = (
        f"{n_masked} count(s) masked (n or N-n below {min_cell}) in {rows_masked} row(s)"
        if n_masked else f"all shown counts and shares have n and N-n 0 or >= {min_cell}"
    )
    detail_da = (
        f"{n_masked} antal skjult (n eller N-n under {min_cell}) i {rows_masked} række(r)"
        if n_masked else f"alle viste antal og andele har n og N-n lig 0 eller >= {min_cell}"
    )
    if rows_masked and keep_estimates:
        detail += "; effect estimates kept in masked rows (stated in the methods note)"
        detail_da += "; effektestimater bevaret i rækker med skjulte antal (står i metodeafsnittet)"
    shown = [r[f"{k}_{t}"] for _, r in results.iterrows() for t in ("int", "ctl") for k in ("n", "N")]
    shown = [x for x in shown if x > 0 and not disclosure.is_small(x, min_cell)]
    return table, disclosure.Check(item=item, status="PASS", detail=detail, masked=n_masked, detail_da=detail_da,
                                   min_shown=float(min(shown)) if shown else None)


def _safe_count(x, min_cell: int, mask_label: str) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return mask_label if bool(disclosure.is_small(x, min_cell)) else str(int(x))


def _fmt_rr(r, sep: str = " to ") -> str:
    return _fmt_ci(float(r["rr"]), float(r["rr_lower"]), float(r["rr_upper"]), 1.0, 2, sep)


ESTIMATE_COLUMNS = (
    "rd", "rd_lower", "rd_upper", "rr", "rr_lower", "rr_upper", "p_fisher", "paired_rd", "paired_lower",
    "paired_upper", "p_mcnemar", "w_rd", "w_lower", "w_upper", "p_weighted", "p_value", "p_adjusted",
    "headline_rd", "headline_lower", "headline_upper",
)


def masked_results(results: pd.DataFrame, min_cell: int, *, keep_estimates: bool = False) -> pd.DataFrame:
    """The numeric results with unsafe counts set to NaN (for ``outcome_results.parquet``).

    ``n``, ``pct`` (and ``N`` when small) of a group are blanked when n or N - n is
    1 .. ``min_cell`` - 1; ``masked_int`` / ``masked_ctl`` flag the rows. Unless
    ``keep_estimates``, the estimates and p-values of such rows are blanked as well, as in
    :func:`publish_outcome_table` (so the forest plot and the summary never show them).
    """
    out = results.copy()
    for tag in ("int", "ctl"):
        unsafe = disclosure.unsafe_proportion(out[f"n_{tag}"], out[f"N_{tag}"], min_cell)
        small_N = disclosure.is_small(out[f"N_{tag}"], min_cell)
        out[f"masked_{tag}"] = unsafe | small_N
        out[f"n_{tag}"] = out[f"n_{tag}"].astype(float).where(~out[f"masked_{tag}"])
        out[f"pct_{tag}"] = out[f"pct_{tag}"].where(~out[f"masked_{tag}"])
        out[f"N_{tag}"] = out[f"N_{tag}"].astype(float).where(~small_N)
        out[f"excluded_{tag}"] = out[f"excluded_{tag}"].astype(float).where(
            ~disclosure.is_small(out[f"excluded_{tag}"], min_cell))
    if not keep_estimates:
        hide = out["masked_int"] | out["masked_ctl"]
        for col in ESTIMATE_COLUMNS:
            if col in out:
                out[col] = out[col].astype(float).where(~hide)
    return out


def methods_note(results: pd.DataFrame, study=None, *, min_cell: int | None = None) -> tuple[str, str]:
    """The methods sentence for the outcome table, in English and Danish.

    States the primary outcome, the multiplicity adjustment, the intervals and tests, the
    matched analysis used and the disclosure rule (whether effect estimates are shown in
    rows whose counts are masked, ``outcomes.estimates_with_masked_counts``).
    """
    primary = study.outcomes.primary if study is not None else (
        results.loc[results["role"] == "primary", "outcome"].iloc[0] if (results["role"] == "primary").any() else "?")
    plabel = results.loc[results["outcome"] == primary, "outcome_label"]
    plabel_s = plabel.iloc[0] if len(plabel) else primary
    mult = study.outcomes.multiplicity if study is not None else "holm"
    n_sec = int(((results["role"] == "secondary") & np.isfinite(results["p_value"])).sum())
    design = results["design"].iloc[0] if len(results) else "independent"
    keep = bool(study is not None and study.outcomes.estimates_with_masked_counts)
    min_cell = min_cell if min_cell is not None else (study.study.min_cell if study is not None else 5)
    mult_en = {"holm": "Holm's step-down method", "bonferroni": "Bonferroni's method", "none": "no method"}[mult]
    mult_da = {"holm": "Holms metode", "bonferroni": "Bonferronis metode", "none": "ingen metode"}[mult]
    clustered_pairs = bool(design == "pairs" and "test" in results
                           and results["test"].eq(HEADLINE["clustered"]["pairs"]["test"]).any())
    design_en = {
        "pairs": ("For the 1:1 matched pairs, the main analysis is the difference with a standard error clustered "
                  "by pair and a t test (pairs - 1 df), chosen by simulation because its CI coverage was closest "
                  "to 95 % (Fisher's test and Newcombe's unpaired interval ignore the pairing and were "
                  "conservative); " if clustered_pairs else "For the 1:1 matched pairs, ")
                 + "McNemar's test (exact binomial below 25 discordant pairs) and "
                 "Newcombe's paired interval (method 10) use complete pairs.",
        "weighted": "Because matching was not 1:1 without replacement, the main test is a weighted difference "
                    "(matching weights) with standard errors clustered by matched set (sets sharing a control merged; "
                    "t with clusters - 1 df); the unweighted counts and Fisher p are shown for reference.",
        "independent": "The groups are compared as independent samples.",
    }[design]
    design_da = {
        "pairs": ("For de 1:1-matchede par er hovedanalysen forskellen med standardfejl klynget på par og en t-test "
                  "(antal par - 1 frihedsgrader), valgt ved simulation, fordi dens CI-dækning lå nærmest 95 % "
                  "(Fishers test og Newcombes uparrede interval ser bort fra parringen og var konservative); "
                  if clustered_pairs else "For de 1:1-matchede par bruges ")
                 + ("der bruges også " if clustered_pairs else "")
                 + "McNemars test (eksakt binomial ved under 25 uoverensstemmende par) "
                 "og Newcombes parrede interval (metode 10) på komplette par.",
        "weighted": "Da matchningen ikke er 1:1 uden tilbagelægning, er hovedtesten en vægtet forskel "
                    "(matchningsvægte) med standardfejl klynget på matchet sæt (sæt med fælles kontrolperson slået "
                    "sammen; t med antal klynger - 1 frihedsgrader); de uvægtede antal og Fishers p vises til "
                    "sammenligning.",
        "independent": "Grupperne sammenlignes som uafhængige stikprøver.",
    }[design]
    exit_failure = study is not None and study.outcomes.exit_rule == "failure"
    n_prim = int((results["role"] == "primary").sum())
    adj_en = f"adjusted by {mult_en}" if mult != "none" else "not adjusted (study file: multiplicity none)"
    adj_da = f"justeret med {mult_da}" if mult != "none" else "ikke justeret (studiefilen: multiplicity none)"
    if exit_failure:
        n_en = ("Shares are n/N; persons who died, emigrated or reached state pension before the follow-up point "
                "count as not having the outcome (exit rule of the study file); N leaves out persons whose "
                "follow-up point lies beyond the data.")
        n_da = ("Andele er n/N; personer, der er døde, udvandret eller gået på folkepension før tidspunktet, tæller "
                "som uden udfald (studiefilens regel for udtræden); N udelader personer, hvis "
                "opfølgningstidspunkt ligger efter datas slutning.")
    else:
        n_en = ("Shares are n/N of persons still followed: N leaves out persons who died, emigrated or reached "
                "state pension before the follow-up point (exit rule of the study file) and persons whose "
                "follow-up point lies beyond the data.")
        n_da = ("Andele er n/N blandt personer, der stadig følges: N udelader personer, der er døde, udvandret "
                "eller gået på folkepension før tidspunktet (studiefilens regel for udtræden), og personer, hvis "
                "opfølgningstidspunkt ligger efter datas slutning.")
    en = " ".join([
        f"Primary outcome: {plabel_s} (from the study file), tested at each follow-up point without adjustment; "
        f"the study file names no primary time point, so these {n_prim} tests should be read together.",
        f"The other {n_sec} outcome x follow-up tests are secondary, with p-values {adj_en}.",
        n_en,
        "Differences are intervention minus control with Newcombe's hybrid score 95% CI; risk ratios with "
        "Koopman's score CI (upper limit infinite when no control had the outcome); p-values from Fisher's exact "
        "test (two-sided).",
        design_en,
        (f"Counts where n or N-n is below {min_cell} are masked. The differences and their CIs are shown in every "
         "row, so together with the other group's n/N they would allow a masked count to be worked out "
         "(study file: outcomes.estimates_with_masked_counts: true; internal use only)."
         if keep else
         f"Counts where n or N-n is below {min_cell} are masked, and so are the estimates and p-values of that row "
         "(they would reveal the masked count); such rows are also left out of the forest plot."),
    ])
    da = " ".join([
        f"Primært effektmål: {plabel_s} (fra studiefilen), testet ved hvert opfølgningstidspunkt uden justering; "
        f"studiefilen angiver intet primært tidspunkt, så disse {n_prim} tests bør læses samlet.",
        f"De øvrige {n_sec} tests (effektmål x tidspunkt) er sekundære, med p-værdier {adj_da}.",
        n_da,
        "Forskelle er indsats minus kontrol med Newcombes hybrid-score 95% CI; relativ risiko med Koopmans "
        "score-CI (øvre grænse uendelig, når ingen i kontrolgruppen havde udfaldet); p-værdier fra Fishers "
        "eksakte test (tosidet).",
        design_da,
        (f"Antal, hvor n eller N-n er under {min_cell}, er skjult. Forskelle og CI vises i alle rækker, så sammen "
         "med den anden gruppes n/N ville et skjult antal kunne regnes ud (studiefilen: "
         "outcomes.estimates_with_masked_counts: true; kun til intern brug)."
         if keep else
         f"Antal, hvor n eller N-n er under {min_cell}, er skjult, og det samme er rækkens estimater og p-værdier "
         "(de ville afsløre det skjulte antal); sådanne rækker er også udeladt af forest plot."),
    ])
    return en, da


def figure_check(results: pd.DataFrame, item: str = "outcome_forest") -> disclosure.Check:
    """Disclosure check of a figure that shows only differences and their CIs (no counts)."""
    return disclosure.Check(
        item=item, status="PASS",
        detail="differences and 95% CIs only; no counts or group shares shown",
        detail_da="kun forskelle og 95% CI; ingen antal eller gruppeandele vist",
    )


def primary_sentence(results: pd.DataFrame) -> tuple[str, str]:
    """Plain-language result for the primary outcome at each follow-up point (no counts shown).

    Returns
    -------
    (en, da) : tuple of str
        Markdown; uses the headline analysis of the design (:func:`headline_columns`:
        ``headline_rd`` with its CI and ``p_value``).
    """
    prim = results[results["role"] == "primary"]
    if prim.empty:
        return "No primary outcome was evaluated.", "Der er ikke opgjort noget primært effektmål."
    col, lo, hi = "headline_rd", "headline_lower", "headline_upper"
    parts_en, parts_da = [], []
    for _, r in prim.iterrows():
        if bool(r.get("masked_int", False)) or bool(r.get("masked_ctl", False)):
            parts_en.append(f"{r['horizon_label'].lower()}: not shown (small counts)")
            parts_da.append(f"{r['horizon_label'].lower()}: ikke vist (små antal)")
            continue
        if not np.isfinite(r[col]):
            parts_en.append(f"{r['horizon_label']}: not estimable")
            parts_da.append(f"{r['horizon_label']}: kan ikke opgøres")
            continue
        ci = _fmt_ci(r[col], r[lo], r[hi], 100, 1)
        p = format_p(r["p_value"])
        p = f"p {p}" if p.startswith("<") else f"p = {p}"
        parts_en.append(f"{r['horizon_label'].lower()} {ci} percentage points ({p})")
        parts_da.append(f"{r['horizon_label'].lower()} {ci.replace(' to ', ' til ')} procentpoint ({p})")
    label = prim["outcome_label"].iloc[0]
    en = (f"**Primary outcome: {label}.** Difference intervention − control (95% CI): " + "; ".join(parts_en) + ".")
    da = (f"**Primært effektmål: {label}.** Forskel indsats − kontrol (95% CI): " + "; ".join(parts_da) + ".")
    return en, da
