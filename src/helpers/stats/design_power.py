"""Power of the design that is analysed: the headline test, masking, the survival endpoint.

:mod:`helpers.stats.power` computes the power of Fisher's exact test for two independent
groups. The report's headline analysis is not that test (docs/headline-estimator.md): a
matched design leads with the difference whose standard error is clustered by matched set
and a t test on (sets - 1) degrees of freedom. This module gives the power of that test,

- **1:1 pairs without replacement** (:func:`pair_clustered_power`): exact, by enumerating
  every count of discordant pairs. With ``a`` pairs where only the participant has the
  outcome and ``b`` where only the control has it, out of ``n`` pairs, the difference is
  :math:`\\bar d = (a - b)/n` and the CR1 sandwich variance of
  :func:`helpers.stats.weighted.weighted_risk_difference` with pairs as clusters reduces to

  .. math:: \\widehat{V} = c\\,\\frac{a + b - (a - b)^2/n}{n^2},\\qquad
            c = \\frac{n}{n - 1}\\,\\frac{2n - 1}{2n - 2}

  (checked against that function in the tests). The pair types follow from the planned
  shares and an assumed within-pair correlation of the outcome (``power.pair_correlation``;
  0 is conservative when matching makes pairs alike).
- **Other designs** (1:k, matching with replacement: :func:`weighted_power`): by Monte Carlo
  with the pipeline's own estimator on simulated matched sets (seeded; independent outcomes
  within a set).

It also gives the probability that disclosure control will mask a follow-up point
(:func:`masking_probability`: a count or its complement in 1..min_cell-1), and the power for
the time-to-event endpoint by Freedman's formula as implemented in
:func:`lifelines.statistics.power_under_cph` (R ``powerSurvEpi::powerCT.default``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from lifelines.statistics import power_under_cph
from scipy import stats

from helpers.stats.weighted import weighted_risk_difference


def pair_cell_probabilities(p_control: float, p_intervention: float, correlation: float = 0.0
                            ) -> tuple[float, float, float, float]:
    """Probabilities of the four pair types (both, participant only, control only, neither).

    Parameters
    ----------
    p_control, p_intervention : float
        Planned shares with the outcome.
    correlation : float
        Phi coefficient of the two outcomes of a pair.

    Raises
    ------
    ValueError
        When the correlation is impossible for these shares (a probability would be negative).

    Examples
    --------
    >>> [round(x, 4) for x in pair_cell_probabilities(0.1, 0.4)]
    [0.04, 0.36, 0.06, 0.54]
    """
    p0, p1 = float(p_control), float(p_intervention)
    p11 = p1 * p0 + correlation * math.sqrt(p1 * (1 - p1) * p0 * (1 - p0))
    cells = (p11, p1 - p11, p0 - p11, 1 - p1 - p0 + p11)
    if min(cells) < -1e-12:
        raise ValueError(f"power.pair_correlation {correlation} is impossible for shares {p0} and {p1}: "
                         "choose a smaller correlation")
    return tuple(max(0.0, c) for c in cells)


def pair_clustered_power(p_control: float, p_intervention: float, n_pairs: int, *, correlation: float = 0.0,
                         alpha: float = 0.05) -> float:
    """Exact power of the pair-clustered t test of the risk difference in ``n_pairs`` 1:1 pairs.

    Parameters
    ----------
    p_control, p_intervention : float
        Planned shares.
    n_pairs : int
        Matched pairs (one participant, one control).
    correlation : float
        Within-pair correlation of the outcome (:func:`pair_cell_probabilities`).
    alpha : float
        Two-sided level.

    Returns
    -------
    float
        Sum of the probabilities of the (a, b) outcomes whose two-sided p is below ``alpha``
        (a zero variance, as when every pair is alike, is not a rejection, as in the stage).

    Examples
    --------
    >>> round(pair_clustered_power(0.05, 0.30, 50), 3)
    0.934
    """
    n = int(n_pairs)
    if n < 2:
        return math.nan
    _, p10, p01, _ = pair_cell_probabilities(p_control, p_intervention, correlation)
    pc = 1.0 - p10 - p01
    a = np.arange(n + 1)[:, None]
    b = np.arange(n + 1)[None, :]
    inside = a + b <= n
    m = np.where(inside, n - a - b, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = (math.lgamma(n + 1) - _lgamma(a) - _lgamma(b) - _lgamma(m)
                + a * _log(p10) + b * _log(p01) + m * _log(pc))
        prob = np.where(inside, np.exp(logp), 0.0)
        c = n / (n - 1) * (2 * n - 1) / (2 * n - 2)
        var = c * (a + b - (a - b) ** 2 / n) / n ** 2
        t = np.where(var > 0, np.abs(a - b) / n / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    reject = inside & (var > 0) & (t > stats.t.isf(alpha / 2, n - 1))
    return float(min(1.0, prob[reject].sum()))


def _lgamma(k: np.ndarray) -> np.ndarray:
    return np.vectorize(math.lgamma)(np.asarray(k, dtype=float) + 1)


def _log(p: float) -> float:
    return math.log(p) if p > 0 else -math.inf


def weighted_power(p_control: float, p_intervention: float, n_sets: int, ratio: int, *, alpha: float = 0.05,
                   draws: int = 2000, seed: int = 0) -> float:
    """Monte Carlo power of the weighted, matched-set-clustered test in ``n_sets`` sets of 1 + ``ratio``.

    Each draw simulates ``n_sets`` sets (one participant, ``ratio`` controls of weight
    1/``ratio``), outcomes independent with the planned shares, and applies
    :func:`helpers.stats.weighted.weighted_risk_difference` with the sets as clusters.

    Returns
    -------
    float
        Share of draws with p < ``alpha`` (Monte Carlo SE about sqrt(p(1-p)/draws)).
    """
    rng = np.random.default_rng(seed)
    k = int(ratio)
    n = int(n_sets)
    treated = np.r_[np.ones(n, bool), np.zeros(n * k, bool)]
    weight = np.r_[np.ones(n), np.full(n * k, 1.0 / k)]
    cluster = np.r_[np.arange(n), np.repeat(np.arange(n), k)]
    hits = 0
    for _ in range(int(draws)):
        y = np.r_[rng.random(n) < p_intervention, rng.random(n * k) < p_control].astype(float)
        p = weighted_risk_difference(y, treated, weight, cluster, alpha).pvalue
        hits += bool(np.isfinite(p) and p < alpha)
    return hits / int(draws)


def masking_probability(n: int, share: float, min_cell: int) -> float:
    """Probability that a group's count (or its complement) falls in 1..min_cell-1 and is masked.

    Examples
    --------
    >>> round(masking_probability(50, 0.05, 5), 3)  # expected 2.5 persons: P(1 <= X <= 4)
    0.819
    >>> masking_probability(50, 0.0, 5)  # nobody expected: 0 is shown
    0.0
    """
    x = np.arange(int(n) + 1)
    pmf = stats.binom.pmf(x, int(n), float(share))
    small = ((x >= 1) & (x < min_cell)) | ((n - x >= 1) & (n - x < min_cell))
    return float(pmf[small].sum())


@dataclass(frozen=True)
class SurvivalPower:
    """Power for the time-to-event endpoint (Freedman's formula, lifelines ``power_under_cph``).

    Attributes
    ----------
    hazard_ratio : float
        Planned HR (intervention vs control).
    control_event_share, intervention_event_share : float
        Share reaching the event during follow-up (the intervention share follows from the
        HR under proportional hazards: :math:`1 - (1 - q_0)^{HR}`).
    expected_events : float
    power : float
    events_needed : float
        Events that give the target power at this allocation.
    """

    hazard_ratio: float
    control_event_share: float
    intervention_event_share: float
    n_intervention: int
    n_control: int
    expected_events: float
    power: float
    events_needed: float


def survival_power(n_intervention: int, n_control: int, control_event_share: float, hazard_ratio: float, *,
                   alpha: float = 0.05, target_power: float = 0.8) -> SurvivalPower:
    """Power of the log-rank/Cox test for a planned HR (Freedman 1982; lifelines ``power_under_cph``).

    Examples
    --------
    >>> sp = survival_power(100, 100, 0.3, 2.0)
    >>> round(sp.intervention_event_share, 3), round(sp.expected_events, 1)
    (0.51, 81.0)
    >>> round(sp.power, 3), round(sp.events_needed, 1)  # Phi(sqrt(81) * 1/3 - 1.96) = Phi(1.04)
    (0.851, 70.6)
    """
    q0 = float(control_event_share)
    q1 = 1.0 - (1.0 - q0) ** float(hazard_ratio)
    power = float(power_under_cph(n_intervention, n_control, q1, q0, hazard_ratio, alpha))
    k = n_intervention / n_control
    z = stats.norm.isf(alpha / 2) + stats.norm.ppf(target_power)
    needed = float((z * (k * hazard_ratio + 1) / abs(hazard_ratio - 1)) ** 2 / k)
    return SurvivalPower(hazard_ratio=float(hazard_ratio), control_event_share=q0, intervention_event_share=q1,
                         n_intervention=int(n_intervention), n_control=int(n_control),
                         expected_events=n_intervention * q1 + n_control * q0, power=power, events_needed=needed)
