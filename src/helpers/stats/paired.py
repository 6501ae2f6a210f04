"""Matched pairs (1:1 matching without replacement): McNemar's test and Newcombe's paired interval.

Pairs are counted by (intervention outcome, control outcome): ``both, int_only, ctl_only,
neither``. McNemar's test is exact binomial when fewer than 25 pairs are discordant,
otherwise R's chi-square with continuity correction; the interval is Newcombe's (1998c)
method 10, on complete pairs. With no discordant pairs p is 1.

References
----------
Newcombe RG (1998c). Improved confidence intervals for the difference between binomial
proportions based on paired data. Stat Med 17:2635-2650.

Examples
--------
>>> round(mcnemar(150, 86, exact=False).statistic, 3)  # R mcnemar.test(Performance)
16.818
"""

from __future__ import annotations

import math

from scipy import stats

from helpers.stats.proportions import Estimate, HypothesisTest, check_counts, wilson_ci


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
    check_counts(int_only=int_only, ctl_only=ctl_only)
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
    check_counts(both=both, int_only=int_only, ctl_only=ctl_only, neither=neither)
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
