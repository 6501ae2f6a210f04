"""Scale-up scenarios: "offer it to N persons a year for K years", from the estimated effect.

The evaluation gives, per actor, the saving per participant in each year after the start
(observed years, then extrapolated with the retention): :math:`s_{a,u}`, :math:`u = 1..T`.
A scenario starts :math:`N` participants in each of the years :math:`k = 1..K`; the cohort
of year :math:`k` saves :math:`N\\,\\lambda\\,s_{a,y-k+1}` in year :math:`y` and costs
:math:`N c` in year :math:`k` (``cost_per_person_dkk``, borne by ``cost_bearer``; the
public total includes it). :math:`\\lambda` is ``effect_scale``. Over the
:math:`K + T - 1` years

.. math::

    \\mathrm{NPV}_a = \\sum_{y=1}^{K+T-1} D(y) \\Big( N\\lambda \\sum_{k=1}^{K} s_{a,y-k+1}
        - \\mathbf{1}[a \\text{ pays}]\\, \\mathbf{1}[y \\le K]\\, N c \\Big),

with :math:`s_{a,u} = 0` outside :math:`1..T`. The interval and :math:`P(\\mathrm{NPV} > 0)`
come from the bootstrap replicates of :math:`s` (the effect's sampling uncertainty only).

Assumptions (listed with the results): each year's participants start at the start of the
year; the effect per participant does not depend on how many take part (no capacity or
displacement effects); the cost per participant is constant.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.investment.discounting import discount_factors
from helpers.investment.realised import ACTORS, payback_year


def cohort_sum(per_participant: np.ndarray, persons: float, years: int) -> np.ndarray:
    """``per_participant`` (..., T) summed over ``years`` yearly cohorts of ``persons``: (..., years + T - 1)."""
    s = np.asarray(per_participant, dtype=float)
    T = s.shape[-1]
    out = np.zeros(s.shape[:-1] + (years + T - 1,))
    for k in range(years):
        out[..., k:k + T] += persons * s
    return out


def scenario_flows(per_participant: np.ndarray, *, persons: int, years: int, cost_per_person: float,
                   effect_scale: float = 1.0, bearer: str = "municipality") -> tuple[np.ndarray, np.ndarray]:
    """Savings and costs by year (Y, 3 actors) of one scenario from per-participant savings (T, 3)."""
    savings = cohort_sum(effect_scale * np.asarray(per_participant, dtype=float).T, persons, years).T
    costs = np.zeros_like(savings)
    for col in (ACTORS.index(bearer), ACTORS.index("public")):
        costs[:years, col] = persons * cost_per_person
    return savings, costs


def run_scenarios(scenarios, per_participant: np.ndarray, replicates: np.ndarray, *, default_cost_per_person: float,
                  bearer: str, steps, level: float = 0.95) -> pd.DataFrame:
    """Results of every scenario and actor.

    Parameters
    ----------
    scenarios : list of :class:`~helpers.config.schema.public_balance.ScenarioConfig`
    per_participant : array (T, 3)
        Saving per participant by year after the start and actor (observed + extrapolated).
    replicates : array (B, T, 3)
        Bootstrap replicates of ``per_participant``.

    Returns
    -------
    DataFrame
        ``scenario, actor, persons_per_year, years, persons, cost_per_person, horizon_years,
        costs, savings_pv, costs_pv, npv, npv_low, npv_high, p_npv_positive, payback_year``
        (``payback_year``: first year from which the discounted cumulative net stays >= 0;
        NaN when never, or when the actor bears no cost).
    """
    rows = []
    qlo, qhi = (1 - level) / 2, (1 + level) / 2
    for sc in scenarios:
        cost_pp = default_cost_per_person if sc.cost_per_person_dkk is None else float(sc.cost_per_person_dkk)
        savings, costs = scenario_flows(per_participant, persons=sc.persons_per_year, years=sc.years,
                                        cost_per_person=cost_pp, effect_scale=sc.effect_scale, bearer=bearer)
        Y = savings.shape[0]
        d = discount_factors(np.arange(1, Y + 1), steps)
        boot = cohort_sum(sc.effect_scale * np.moveaxis(np.asarray(replicates, dtype=float), 1, 2), sc.persons_per_year,
                          sc.years)                                              # (B, 3, Y)
        for a, actor in enumerate(ACTORS):
            net = savings[:, a] - costs[:, a]
            npv_b = (boot[:, a, :] - costs[None, :, a]) @ d
            pays = costs[:, a].sum() > 0
            rows.append({
                "scenario": sc.name, "actor": actor, "persons_per_year": sc.persons_per_year, "years": sc.years,
                "persons": sc.persons_per_year * sc.years, "cost_per_person": cost_pp, "effect_scale": sc.effect_scale,
                "horizon_years": Y, "costs": float(costs[:, a].sum()), "savings_pv": float(savings[:, a] @ d),
                "costs_pv": float(costs[:, a] @ d), "npv": float(net @ d),
                "npv_low": float(np.nanquantile(npv_b, qlo)), "npv_high": float(np.nanquantile(npv_b, qhi)),
                "p_npv_positive": float(np.mean(npv_b > 0)),
                "payback_year": payback_year(np.cumsum(net * d)).item() if pays else np.nan,
            })
    return pd.DataFrame(rows)
