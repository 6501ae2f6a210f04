"""Synthetic matched studies with a known marginal hazard ratio and risk difference among the treated.

The data-generating process follows Austin (2013) and Austin & Stuart's simulations of
propensity-score matched survival data:

- covariates ``X`` (five continuous N(0, 1) and one binary, named like the register
  covariates of :mod:`helpers.cohort.build` so the pipeline's matcher accepts them; their
  values are standardised, not weeks);
- treatment selection ``logit P(Z = 1 | X) = a0 + X a`` (programmes recruit the long-term
  recipients, so the history covariates that lower the chance of leaving benefits raise the
  chance of treatment: confounding);
- event times from a **conditional** proportional-hazards model with a Weibull baseline,
  ``h(t | X, Z) = lam * nu * t**(nu - 1) * exp(X b + beta * Z)``;
- the conditional log hazard ratio ``beta`` is **calibrated** by bisection on a large sample
  of treated persons with both potential outcomes, so that the **marginal** hazard ratio
  among the treated (ATT) equals the target: the Cox estimate on the pooled potential
  outcomes ``T(1)`` and ``T(0)`` of the same treated persons, with the study's censoring;
- censoring: administrative (staggered entry: follow-up uniform between ``follow_up_min``
  and ``follow_up_max`` weeks) and random exits (emigration, death: exponential);
- durations are counted in whole weeks (``ceil``), as in the register, so the Cox models
  meet ties (Efron's method);
- the binary outcome is "event by week ``t_star``" (status at a fixed follow-up point):
  missing (``exit_rule: exclude``) for persons who exit before ``t_star``, which is
  independent of everything (MCAR), so the complete-case risk difference is unbiased.
  Its true marginal value among the treated is the mean of
  ``1{T(1) <= t*} - 1{T(0) <= t*}`` over the same large sample.

References
----------
Austin PC (2013). The performance of different propensity score methods for estimating
marginal hazard ratios. Stat Med 32:2837-2849.
Austin PC, Stuart EA (2017). Estimating the effect of treatment on binary outcomes using full
matching on the propensity score. Stat Methods Med Res 26:2505-2525.
Austin PC, Cafri G (2020). Variance estimation when using propensity-score matching with
replacement with survival or time-to-event outcomes. Stat Med 39:1623-1640.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

#: Covariate names (register names so the pipeline's matcher accepts them) and their type.
COVARIATES: tuple[str, ...] = (
    "age", "sex", "weeks_transfer_156", "weeks_cash_benefit_156", "weeks_employed_156", "current_spell_weeks",
)
BINARY = ("sex",)


@dataclass(frozen=True)
class Design:
    """Population parameters of the synthetic study (shared by every scenario).

    Attributes
    ----------
    treat_coef, outcome_coef : tuple of float
        Coefficients of :data:`COVARIATES` in the treatment (logit) and outcome (log hazard) models.
    treat_intercept : float
        Intercept of the treatment model (sets the share treated in the population, ~ 15 %).
    weibull_scale, weibull_shape : float
        Baseline hazard ``lam * nu * t**(nu - 1)`` in weeks.
    exit_rate : float
        Weekly hazard of a random exit (censoring; about 10 % over 5 years).
    follow_up_min, follow_up_max : int
        Administrative follow-up in weeks, uniform (staggered entry before a fixed data end).
    t_star : int
        Week of the binary outcome (event by then).
    pool_factor : int
        Candidate controls per treated person in the register pool.
    """

    treat_coef: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, -0.4, 0.3)
    outcome_coef: tuple[float, ...] = (-0.3, 0.2, -0.4, -0.5, 0.6, -0.4)
    treat_intercept: float = -2.0
    weibull_scale: float = 0.012
    weibull_shape: float = 0.8
    exit_rate: float = 0.0004
    follow_up_min: int = 104
    follow_up_max: int = 260
    t_star: int = 52
    pool_factor: int = 10

    def as_dict(self) -> dict:
        """Plain dict (for the results file)."""
        return asdict(self)


def covariates(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` x 6 covariate matrix: N(0, 1) columns and one Bernoulli(0.5) column (``sex``)."""
    x = rng.standard_normal((n, len(COVARIATES)))
    for name in BINARY:
        j = COVARIATES.index(name)
        x[:, j] = (rng.random(n) < 0.5).astype(float)
    return x


def propensity(x: np.ndarray, design: Design) -> np.ndarray:
    """True propensity score ``P(Z = 1 | X)``."""
    eta = design.treat_intercept + x @ np.asarray(design.treat_coef)
    return 1.0 / (1.0 + np.exp(-eta))


def draw_groups(rng: np.random.Generator, n_treated: int, n_controls: int, design: Design) -> tuple[np.ndarray, ...]:
    """Covariates of ``n_treated`` treated and ``n_controls`` untreated persons of the population.

    Persons are drawn from the population in blocks and assigned treatment by the true
    propensity score; the first ``n_treated`` treated and ``n_controls`` untreated are kept
    (i.e. draws from ``X | Z = 1`` and ``X | Z = 0``).
    """
    xt, xc = [], []
    have_t = have_c = 0
    while have_t < n_treated or have_c < n_controls:
        block = max(4 * (n_treated + n_controls), 1000)
        x = covariates(rng, block)
        z = rng.random(block) < propensity(x, design)
        xt.append(x[z])
        xc.append(x[~z])
        have_t += int(z.sum())
        have_c += int((~z).sum())
    return np.concatenate(xt)[:n_treated], np.concatenate(xc)[:n_controls]


def event_times(rng: np.random.Generator, x: np.ndarray, treated: np.ndarray | float, beta: float,
                design: Design) -> np.ndarray:
    """Continuous event times (weeks) from the conditional Weibull PH model."""
    lp = x @ np.asarray(design.outcome_coef) + beta * np.asarray(treated, dtype=float)
    u = rng.random(len(x))
    return (-np.log(u) / (design.weibull_scale * np.exp(lp))) ** (1.0 / design.weibull_shape)


def censoring(rng: np.random.Generator, n: int, design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Administrative end of follow-up and random exit time (weeks) of ``n`` persons."""
    admin = rng.uniform(design.follow_up_min, design.follow_up_max, n)
    exit_ = rng.exponential(1.0 / design.exit_rate, n)
    return admin, exit_


# ----------------------------------------------------------------------------- calibration
def cox_binary(time: np.ndarray, event: np.ndarray, z: np.ndarray, *, tol: float = 1e-10) -> float:
    """Cox log hazard ratio of one binary covariate (Newton-Raphson; continuous times, no ties).

    Used only to calibrate the truth on a large sample (lifelines would take minutes); the
    unit test checks it against lifelines on a moderate sample.
    """
    order = np.argsort(-time, kind="stable")
    ev, zz = event[order].astype(bool), z[order].astype(float)
    n1 = np.cumsum(zz)[ev]  # treated at risk at each event time (risk set = times >= t)
    n = np.arange(1, len(zz) + 1, dtype=float)[ev]
    n0 = n - n1
    d1 = zz[ev].sum()
    b = 0.0
    for _ in range(100):
        e = np.exp(b)
        p = n1 * e / (n1 * e + n0)
        score = d1 - p.sum()
        info = (p * (1 - p)).sum()
        step = score / info
        b += step
        if abs(step) < tol:
            break
    return float(b)


@dataclass(frozen=True)
class Truth:
    """Calibrated truth for one target marginal hazard ratio.

    Attributes
    ----------
    target_hr : float
        Marginal HR among the treated that was asked for.
    beta : float
        Calibrated conditional log HR of the data-generating model.
    marginal_log_hr : float
        Marginal log HR among the treated at ``beta`` with the study's censoring (calibration target).
    marginal_log_hr_uncensored : float
        The same without censoring (Austin's 2013 definition), for comparison.
    risk_treated_1, risk_treated_0 : float
        ``P(T(1) <= t*)`` and ``P(T(0) <= t*)`` among the treated.
    rd : float
        True marginal risk difference among the treated at ``t_star``.
    n_calibration : int
        Treated persons in the calibration sample.
    """

    target_hr: float
    beta: float
    marginal_log_hr: float
    marginal_log_hr_uncensored: float
    risk_treated_1: float
    risk_treated_0: float
    rd: float
    n_calibration: int


def _potential_outcomes(seed: int, n: int, design: Design):
    rng = np.random.default_rng(seed)
    xt, _ = draw_groups(rng, n, 0, design)
    u1, u0 = rng.random(n), rng.random(n)
    admin, exit_ = censoring(rng, n, design)
    base = design.weibull_scale * np.exp(xt @ np.asarray(design.outcome_coef))
    return u1, u0, base, np.minimum(admin, exit_)


def _times(u, base, beta, design):
    return (-np.log(u) / (base * math.exp(beta))) ** (1.0 / design.weibull_shape)


def marginal_log_hr(beta: float, po, design: Design, *, censored: bool = True) -> float:
    """Marginal log HR among the treated at conditional log HR ``beta`` on potential outcomes ``po``."""
    u1, u0, base, cens = po
    t1, t0 = _times(u1, base, beta, design), _times(u0, base, 0.0, design)
    if censored:
        e1, e0 = t1 <= cens, t0 <= cens
        t1, t0 = np.minimum(t1, cens), np.minimum(t0, cens)
    else:
        e1 = e0 = np.ones(len(t1), dtype=bool)
    time = np.r_[t1, t0]
    event = np.r_[e1, e0]
    z = np.r_[np.ones(len(t1)), np.zeros(len(t0))]
    return cox_binary(time, event, z)


def calibrate(target_hr: float, design: Design = Design(), *, n: int = 400_000, seed: int = 99,
              tol: float = 1e-4) -> Truth:
    """Conditional log HR whose marginal HR among the treated is ``target_hr`` (bisection).

    Parameters
    ----------
    target_hr : float
        Marginal hazard ratio among the treated (ATT), e.g. 2.0; 1.0 gives ``beta = 0``.
    design : Design
    n : int
        Treated persons in the calibration sample (each with both potential outcomes).
    seed : int
        Seed of the calibration sample (fixed, so the function of ``beta`` is smooth).
    tol : float
        Width of the final bisection interval on the log scale.
    """
    po = _potential_outcomes(seed, n, design)
    goal = math.log(target_hr)
    if goal == 0.0:
        beta = 0.0
    else:
        lo, hi = (0.0, 3.0 * goal) if goal > 0 else (3.0 * goal, 0.0)
        while hi - lo > tol:
            mid = 0.5 * (lo + hi)
            if marginal_log_hr(mid, po, design) < goal:
                lo = mid
            else:
                hi = mid
        beta = 0.5 * (lo + hi)
    u1, u0, base, _ = po
    r1 = float(np.mean(_times(u1, base, beta, design) <= design.t_star))
    r0 = float(np.mean(_times(u0, base, 0.0, design) <= design.t_star))
    if beta == 0.0:  # T(1) and T(0) have the same distribution: the true RD is exactly 0
        r1 = r0 = 0.5 * (r1 + r0)
    return Truth(target_hr=target_hr, beta=beta, marginal_log_hr=marginal_log_hr(beta, po, design),
                 marginal_log_hr_uncensored=marginal_log_hr(beta, po, design, censored=False),
                 risk_treated_1=r1, risk_treated_0=r0, rd=r1 - r0, n_calibration=n)


# ----------------------------------------------------------------------------- one study
def simulate_study(rng: np.random.Generator, n_treated: int, beta: float, design: Design = Design()) -> tuple[
        pd.DataFrame, pd.DataFrame]:
    """One synthetic study: treated and candidate frames with covariates and observed outcomes.

    Returns
    -------
    treated, candidates : DataFrame
        ``person_id``, the :data:`COVARIATES`, ``duration`` (whole weeks, >= 1), ``event``
        (1 event, 0 censored) and ``value`` (event by ``t_star``; NaN when the person exited
        before ``t_star``).
    """
    n_pool = design.pool_factor * n_treated
    xt, xc = draw_groups(rng, n_treated, n_pool, design)
    frames = []
    for tag, x, z in (("t", xt, 1.0), ("c", xc, 0.0)):
        t = event_times(rng, x, z, beta, design)
        admin, exit_ = censoring(rng, len(x), design)
        c = np.minimum(admin, exit_)
        frame = pd.DataFrame(x, columns=list(COVARIATES))
        frame.insert(0, "person_id", [f"{tag}{i}" for i in range(len(x))])
        frame["duration"] = np.maximum(np.ceil(np.minimum(t, c)), 1).astype(np.int64)
        frame["event"] = (t <= c).astype(np.int64)
        frame["value"] = np.where(exit_ < design.t_star, np.nan, (t <= design.t_star).astype(float))
        frames.append(frame)
    return frames[0], frames[1]
