"""E-values (VanderWeele & Ding 2017): how strong unmeasured confounding would have to be to explain an estimate away.

The E-value of a risk ratio RR is the minimum strength of association, on the risk-ratio scale,
that an unmeasured confounder would need to have with both the treatment and the outcome,
conditional on the measured covariates, to move the estimate to 1:

.. math:: E = RR + \\sqrt{RR\\,(RR - 1)}\\quad (RR \\ge 1;\\ \\text{for } RR < 1 \\text{ use } 1/RR).

For the confidence interval the E-value is that of the limit closest to 1, and 1 when the
interval covers 1.

A hazard ratio is first put on the risk-ratio scale. With a *rare* outcome (under about 15 %
by the end of follow-up) HR ~ RR. Lasting self-support is not rare in these cohorts (a third or
more of the participants reach it), so the stage uses the common-outcome conversion of
VanderWeele (2020) and the R package EValue (``evalues.HR(..., rare = FALSE)``):

.. math:: RR \\approx \\frac{1 - 0.5^{\\sqrt{HR}}}{1 - 0.5^{\\sqrt{1/HR}}}.

References
----------
VanderWeele TJ, Ding P (2017). Sensitivity analysis in observational research: introducing the
E-value. Ann Intern Med 167:268-274.
VanderWeele TJ (2020). Optimal approximate conversions of odds ratios and hazard ratios to risk
ratios. Biometrics 76:746-752.
Mathur MB, Smith LH, Ding P, VanderWeele TJ. EValue: Sensitivity analyses for unmeasured
confounding (R package; tests in mayamathur/evalue_package, ``EValue/tests/testthat/testthat.R``).

Examples
--------
>>> e = evalue_rr(3.9, 1.8, 8.7)  # VanderWeele & Ding (2017), Annals example 1
>>> round(e.point, 2), round(e.ci, 2)
(7.26, 3.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EValue:
    """E-values of an estimate and of its confidence limit closest to the null.

    Attributes
    ----------
    measure : {"RR", "HR"}
    estimate, lower, upper : float
        The estimate and its CI on its own scale (NaN when not given).
    rr, rr_lower, rr_upper : float
        The same on the risk-ratio scale (after the conversion of a hazard ratio).
    point : float
        E-value of the estimate (NaN when the estimate is not a positive number).
    ci : float
        E-value of the CI limit closest to 1; 1 when the CI covers 1; NaN without a CI.
    conversion : str
        ``"none"`` (a risk ratio), ``"rare"`` (HR taken as RR) or ``"common"`` (the square-root conversion).
    """

    measure: str
    estimate: float
    lower: float
    upper: float
    rr: float
    rr_lower: float
    rr_upper: float
    point: float
    ci: float
    conversion: str


def _finite_positive(x) -> bool:
    return x is not None and isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def threshold(rr: float) -> float:
    """E-value of one risk ratio: ``RR + sqrt(RR (RR - 1))`` after taking ``1/RR`` below 1 (EValue's ``threshold``).

    Examples
    --------
    >>> round(threshold(0.80), 4) == round(threshold(1 / 0.80), 4)
    True
    """
    if not _finite_positive(rr):
        return math.nan
    r = 1.0 / rr if rr < 1 else float(rr)
    return r + math.sqrt(r * (r - 1.0))


def hr_to_rr(hr: float) -> float:
    """Common-outcome conversion of a hazard ratio to a risk ratio (VanderWeele 2020)."""
    if not _finite_positive(hr):
        return math.nan
    return (1.0 - 0.5 ** math.sqrt(hr)) / (1.0 - 0.5 ** math.sqrt(1.0 / hr))


def _ci_evalue(rr: float, lo: float, hi: float) -> float:
    if not (_finite_positive(lo) and _finite_positive(hi)):
        return math.nan
    if lo <= 1.0 <= hi:
        return 1.0
    return threshold(lo if rr > 1 else hi)


def evalue_rr(est: float, lo: float | None = None, hi: float | None = None) -> EValue:
    """E-values of a risk ratio and its CI (R ``EValue::evalues.RR``).

    Parameters
    ----------
    est : float
        The risk ratio.
    lo, hi : float, optional
        Its confidence limits.

    Raises
    ------
    ValueError
        When the estimate lies outside its confidence interval.

    Examples
    --------
    >>> e = evalue_rr(0.80, 0.71, 0.91)  # VanderWeele & Ding (2017), further example 1
    >>> round(e.point, 2), round(e.ci, 2)
    (1.81, 1.43)
    """
    lo_f = math.nan if lo is None else float(lo)
    hi_f = math.nan if hi is None else float(hi)
    if _finite_positive(est) and _finite_positive(lo_f) and _finite_positive(hi_f) and not lo_f <= est <= hi_f:
        raise ValueError(f"the point estimate {est} should be inside its confidence interval ({lo_f}, {hi_f})")
    est_f = float(est) if _finite_positive(est) else math.nan
    return EValue("RR", est_f, lo_f, hi_f, est_f, lo_f, hi_f, threshold(est_f), _ci_evalue(est_f, lo_f, hi_f), "none")


def evalue_hr(est: float, lo: float | None = None, hi: float | None = None, *, rare: bool = False) -> EValue:
    """E-values of a hazard ratio and its CI (R ``EValue::evalues.HR``).

    Parameters
    ----------
    est, lo, hi : float
        The hazard ratio and its confidence limits.
    rare : bool
        True: the outcome is rare (HR ~ RR); False (the stage's choice, lasting self-support is
        common): the common-outcome conversion :func:`hr_to_rr` is applied to the estimate and limits.

    Examples
    --------
    >>> round(evalue_hr(1.3, 1.2, 1.4).point, 3)
    1.688
    """
    conv = (lambda x: float(x)) if rare else hr_to_rr
    lo_f = math.nan if lo is None else float(lo)
    hi_f = math.nan if hi is None else float(hi)
    base = evalue_rr(conv(est) if _finite_positive(est) else math.nan,
                     conv(lo_f) if _finite_positive(lo_f) else math.nan,
                     conv(hi_f) if _finite_positive(hi_f) else math.nan)
    return EValue("HR", float(est) if _finite_positive(est) else math.nan, lo_f, hi_f, base.rr, base.rr_lower,
                  base.rr_upper, base.point, base.ci, "rare" if rare else "common")
