"""One-way sensitivity (tornado) and Monte Carlo analysis of the net present value.

The NPV of one actor is

.. math::

    \\mathrm{NPV} = \\sum_{t=1}^{T} D(t)\\,\\big(p \\cdot \\tilde s_t - k \\cdot c_t\\big),

with :math:`\\tilde s_t` the estimated savings (observed years, then the last observed
year times :math:`r^{k}` in extrapolated years), :math:`p` a multiplier of all prices
(savings are linear in prices), :math:`k` a multiplier of the intervention's costs
:math:`c_t`, :math:`r` the annual retention and :math:`D` the discount factors.

- One-way: each input moves over its range with the others at base; the effect moves
  over its confidence interval (the bootstrap distribution of the NPV at base inputs).
- With the per-code ledger, :math:`\tilde s_t` is split: the benefit savings less the tax
  lost on them move with :math:`p`; the tax gained on earnings does not (``NPVModel.fixed``).
  The hourly wage is a further one-way input, recomputed from the ledger
  (:mod:`helpers.investment.wage_sensitivity`).
- Monte Carlo (seeded, ``study.seed + 3``): each draw takes one bootstrap replicate of
  the savings (the effect's sampling uncertainty), a price and a cost multiplier from
  triangular distributions over their ranges (mode 1) and, when years are extrapolated,
  a retention from a uniform distribution over its range. The discount rate stays at the
  study's schedule (a policy choice, not an uncertainty). The result is the NPV
  distribution and the probability that the investment pays off, P(NPV > 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.investment.discounting import discount_factors, flat_steps, normalise_steps
from helpers.investment.realised import extend

#: The one-way parameters, in the order :func:`one_way` tries them (their labels are catalogue entries
#: ``investment.parameter.<name>``; ``wage`` comes from :mod:`helpers.investment.wage_sensitivity`).
PARAMETERS = ("effect", "prices", "costs", "discount_rate", "retention", "wage")


@dataclass
class NPVModel:
    """Everything one actor's NPV depends on.

    Attributes
    ----------
    savings : array (H,)
        Estimated total savings in the observed years (base prices).
    replicates : array (B, H)
        Bootstrap replicates of ``savings``.
    costs : array (H + extrapolate_years,)
        Intervention costs by year (for this actor).
    extrapolate_years : int
    retention : float
    steps : discount steps
    fixed, fixed_replicates : array (H,) and (B, H), optional
        Savings that do not move with benefit prices (the tax gained on earnings), with
        their bootstrap replicates; ``savings`` then holds the price-dependent part only
        (benefit savings less the tax lost on them).
    """

    savings: np.ndarray
    replicates: np.ndarray
    costs: np.ndarray
    extrapolate_years: int = 0
    retention: float = 1.0
    steps: tuple = field(default_factory=lambda: normalise_steps(None))
    fixed: np.ndarray | None = None
    fixed_replicates: np.ndarray | None = None

    def npv(self, *, price: float | np.ndarray = 1.0, cost: float | np.ndarray = 1.0, steps=None,
            retention: float | np.ndarray | None = None, savings: np.ndarray | None = None,
            fixed: np.ndarray | None = None) -> np.ndarray:
        """NPV for the given inputs; array inputs (same length) give one NPV each."""
        s = self.savings if savings is None else np.asarray(savings, dtype=float)
        r = self.retention if retention is None else retention
        flows = extend(s, self.extrapolate_years, r)
        d = discount_factors(np.arange(1, flows.shape[-1] + 1), self.steps if steps is None else steps)
        price = np.asarray(price, dtype=float)
        cost = np.asarray(cost, dtype=float)
        out = price * (flows @ d) - cost * (self.costs @ d)
        f = self.fixed if fixed is None else fixed
        if f is not None:
            out = out + extend(np.asarray(f, dtype=float), self.extrapolate_years, r) @ d
        return out

    def replicate_npv(self) -> np.ndarray:
        """NPV of every bootstrap replicate at base inputs."""
        return self.npv(savings=self.replicates, fixed=self.fixed_replicates)


def one_way(model: NPVModel, *, prices=(0.8, 1.2), costs=(0.75, 1.25), discount_rate=(0.0, 0.07),
            retention=(0.7, 1.0), level: float = 0.95) -> pd.DataFrame:
    """One-way sensitivity of the NPV: one row per input, sorted by swing (tornado data).

    Returns
    -------
    DataFrame
        ``parameter, low, high, base, npv_low, npv_high, npv_base, swing`` (``parameter`` one of
        :data:`PARAMETERS`) where ``low``/``high`` are the input values (multipliers, rates, or for the
        effect the NPV quantiles) and ``npv_low``/``npv_high`` the NPV there.
    """
    base = float(model.npv())
    rows = []
    rep = model.replicate_npv()
    q = np.nanquantile(rep, [(1 - level) / 2, (1 + level) / 2]) if len(rep) else [np.nan, np.nan]
    rows.append(("effect", q[0], q[1], base, q[0], q[1]))
    rows.append(("prices", prices[0], prices[1], 1.0, float(model.npv(price=prices[0])),
                 float(model.npv(price=prices[1]))))
    rows.append(("costs", costs[0], costs[1], 1.0, float(model.npv(cost=costs[0])), float(model.npv(cost=costs[1]))))
    rows.append(("discount_rate", discount_rate[0], discount_rate[1], np.nan,
                 float(model.npv(steps=flat_steps(discount_rate[0]))),
                 float(model.npv(steps=flat_steps(discount_rate[1])))))
    if model.extrapolate_years > 0:
        rows.append(("retention", retention[0], retention[1], model.retention,
                     float(model.npv(retention=retention[0])), float(model.npv(retention=retention[1]))))
    out = pd.DataFrame(rows, columns=["parameter", "low", "high", "base", "npv_low", "npv_high"])
    out["npv_base"] = base
    out["swing"] = (out["npv_high"] - out["npv_low"]).abs()
    return out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


@dataclass
class MonteCarloResult:
    """Distribution of the NPV over uncertain inputs.

    Attributes
    ----------
    npv : array (M,)
    inputs : DataFrame
        The drawn inputs (``replicate, price, cost, retention``), one row per draw.
    p_positive : float
        Share of draws with NPV > 0.
    quantiles : dict
        NPV at 2.5 %, 50 % and 97.5 %.
    seed : int
    """

    npv: np.ndarray
    inputs: pd.DataFrame
    p_positive: float
    quantiles: dict
    seed: int

    def summary(self) -> dict:
        """Aggregates for the report and ``investment_results.json``."""
        return {"draws": int(len(self.npv)), "seed": self.seed, "p_npv_positive": self.p_positive,
                "npv_mean": float(np.mean(self.npv)), **{f"npv_q{k}": v for k, v in self.quantiles.items()}}


def monte_carlo(model: NPVModel, draws: int, seed: int, *, prices=(0.8, 1.2), costs=(0.75, 1.25),
                retention=(0.7, 1.0)) -> MonteCarloResult:
    """Seeded Monte Carlo of the NPV (see the module notes for the distributions).

    Parameters
    ----------
    model : NPVModel
    draws : int
    seed : int
        ``study.seed + 3`` (architecture.md, "Randomness").
    prices, costs, retention : (low, high)
        Ranges; price and cost multipliers are triangular with mode 1.
    """
    rng = np.random.default_rng(seed)
    n_rep = model.replicates.shape[0]
    rep = rng.integers(0, n_rep, size=draws)
    price = _triangular(rng, prices, draws)
    cost = _triangular(rng, costs, draws)
    ret = rng.uniform(retention[0], retention[1], size=draws) if model.extrapolate_years > 0 else np.full(
        draws, model.retention)
    fixed = None if model.fixed_replicates is None else model.fixed_replicates[rep]
    npv = model.npv(price=price, cost=cost, retention=ret, savings=model.replicates[rep], fixed=fixed)
    qs = np.quantile(npv, [0.025, 0.5, 0.975])
    return MonteCarloResult(
        npv=npv,
        inputs=pd.DataFrame({"replicate": rep, "price": price, "cost": cost, "retention": ret}),
        p_positive=float(np.mean(npv > 0)),
        quantiles={"2.5": float(qs[0]), "50": float(qs[1]), "97.5": float(qs[2])},
        seed=seed,
    )


def _triangular(rng: np.random.Generator, bounds, n: int) -> np.ndarray:
    lo, hi = float(bounds[0]), float(bounds[1])
    if hi <= lo:
        return np.full(n, lo)
    mode = min(max(1.0, lo), hi)
    return rng.triangular(lo, mode, hi, size=n)
