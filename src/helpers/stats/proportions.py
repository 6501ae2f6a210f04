"""Two-group comparisons of proportions on counts: intervals, ratios, exact tests, multiplicity.

Pure functions on counts (no data frames): :func:`wilson_ci`,
:func:`risk_difference_newcombe`, :func:`risk_ratio`, :func:`fisher` and
:func:`adjust_pvalues`; the matched-pair versions are in :mod:`helpers.stats.paired`, the
weighted (matched-set clustered) difference in :mod:`helpers.stats.weighted`, and the
outcome table built from person-level outcomes in :mod:`helpers.stats.outcome_comparison`.
Cells are named by group, never by letter position: ``events1, total1`` are the
**intervention** group, ``events0, total0`` the **control** group.

Every statistic is defined when a group has zero (or only) events, which is common here
(control 0 % at end of programme): the Newcombe CI, the Koopman score CI of the risk ratio
(upper limit infinite when the control share is 0) and Fisher's exact test all have
well-defined values; numerical warnings from the libraries are contained so that none
reaches a report.

Choices (also stated by :func:`helpers.report.outcomes.methods_note`):

- Risk difference: Newcombe's hybrid score interval (method 10 of Newcombe 1998, via
  statsmodels ``confint_proportions_2indep(method="newcomb")``). The Wald interval is
  degenerate with zero events and is not offered.
- Risk ratio: Koopman's (1984) asymptotic score interval, solved here by root finding so
  that it also works at 0 % and 100 % (statsmodels' closed form returns complex numbers at
  100 %); the log-adjusted (Pettigrew) interval is available as an option.
- Test: Fisher's exact test (two-sided, R's definition), as in seed 000's planned analysis
  of two groups of 50.
- Multiplicity: Holm's step-down method (or Bonferroni) over a family of p-values.

References
----------
Newcombe RG (1998a). Two-sided confidence intervals for the single proportion:
comparison of seven methods. Stat Med 17:857-872.
Newcombe RG (1998b). Interval estimation for the difference between independent
proportions: comparison of eleven methods. Stat Med 17:873-890.
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
from scipy import optimize, stats

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
def quiet() -> Iterator[None]:
    """Contain numpy floating-point warnings and RuntimeWarnings of the libraries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with np.errstate(all="ignore"):
            yield


def check_counts(**counts: float) -> None:
    """Refuse counts that are not non-negative whole numbers (the message names the argument)."""
    for name, value in counts.items():
        if value is None or not np.isfinite(value) or value < 0 or value != int(value):
            raise ValueError(f"{name} must be a non-negative whole number, got {value!r}")


def _check_pair(events: float, total: float, events_name: str, total_name: str) -> None:
    check_counts(**{events_name: events, total_name: total})
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

    with quiet():
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

        with quiet():
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
    with quiet():
        res = stats.fisher_exact(table, alternative=alternative)
    return HypothesisTest(float(res.statistic), min(1.0, float(res.pvalue)), "Fisher's exact test")


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

