"""The public balance by actor and year: benefit savings, tax effects, programme cost, net.

For actor :math:`a` (municipality, state, public sector) and year :math:`t`, with
:math:`N` participants and group means per observed person-year (the ratio estimator of
:mod:`helpers.investment.realised`, controls = counterfactual):

.. math::

    \\text{gross benefit savings}_{a,t} &= N(\\bar b^{C}_{a,t} - \\bar b^{I}_{a,t}) \\\\
    \\text{lost tax on benefits}_{a,t} &= N(\\bar x^{I}_{a,t} - \\bar x^{C}_{a,t}) \\\\
    \\text{gained tax on earnings}_{a,t} &= N(\\bar e^{I}_{a,t} - \\bar e^{C}_{a,t}) \\\\
    \\text{net}_{a,t} &= \\text{gross} + \\text{lost} + \\text{gained} - \\text{programme cost}_{a,t}

where :math:`b` is the actor's part of the benefits paid, :math:`x` the tax it receives on
benefits and :math:`e` the tax (and AM-bidrag) it receives on earnings. Lost tax is
negative when participants receive less in benefits. The three savings components sum to
the saving of the net cost (:math:`b - x - e`) that the NPV, bootstrap and break-even use,
so the balance adds up to the reported NPV. Extrapolated years carry each component on
with the retention, like the total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.investment.discounting import discount_factors
from helpers.investment.realised import ACTORS, Panel, extend

#: Component column stems of the ledger frame and their saving sign (+1: control - intervention).
COMPONENT_SIGNS = {"benefit": 1.0, "tax_benefits": -1.0, "tax_earnings": -1.0}
BALANCE_NAMES = {"benefit": "gross_benefit_savings", "tax_benefits": "lost_tax_on_benefits",
                 "tax_earnings": "gained_tax_on_earnings"}


def has_components(person_years: pd.DataFrame) -> bool:
    """True when the person-years carry the ledger's component columns."""
    return all(f"{c}_{a}" in person_years.columns for c in COMPONENT_SIGNS for a in ACTORS)


def component_array(person_years: pd.DataFrame, panel: Panel, horizon: int) -> np.ndarray:
    """Component costs (P, H, 3 actors, 3 components) in :func:`~helpers.investment.realised.make_panel`'s order."""
    key = "unit" if "unit" in person_years.columns else "person_id"
    persons = person_years.drop_duplicates(key).reset_index(drop=True)
    pos = pd.Series(np.arange(len(persons)), index=persons[key].to_numpy())
    py = person_years[(person_years["year"] >= 1) & (person_years["year"] <= horizon)]
    p = pos.loc[py[key].to_numpy()].to_numpy()
    t = py["year"].to_numpy(dtype=np.int64) - 1
    out = np.zeros((len(persons), horizon, len(ACTORS), len(COMPONENT_SIGNS)))
    for a, actor in enumerate(ACTORS):
        for c, comp in enumerate(COMPONENT_SIGNS):
            np.add.at(out[:, :, a, c], (p, t), py[f"{comp}_{actor}"].to_numpy(dtype=float))
    if out.shape[0] != len(panel.weight):
        raise ValueError("component array and panel hold different persons")
    return out


def component_savings(components: np.ndarray, panel: Panel, multipliers: np.ndarray | None = None) -> np.ndarray:
    """Savings per participant by component: (B, H, 3 actors, 3 components), signed as in :data:`COMPONENT_SIGNS`.

    Uses the same weights and observed person-years as :func:`helpers.investment.realised.group_means`.
    """
    m = np.ones((1, len(panel.weight))) if multipliers is None else np.asarray(multipliers, dtype=float)
    means = []
    for is_int in (True, False):
        wi = m * (panel.weight * (panel.intervention == is_int))[None, :]
        num = np.einsum("bp,phac->bhac", wi, components)
        den = wi @ panel.observed
        with np.errstate(invalid="ignore", divide="ignore"):
            means.append(np.where(den[..., None, None] > 0, num / den[..., None, None], np.nan))
    signs = np.array(list(COMPONENT_SIGNS.values()))
    return (means[1] - means[0]) * signs


def actor_balance(savings_pp: np.ndarray, n_participants: int, costs_actor: np.ndarray, extrapolate_years: int,
                  retention: float, steps, observed_years: int) -> pd.DataFrame:
    """The yearly balance per actor (see the module notes).

    Parameters
    ----------
    savings_pp : array (H, 3 actors, 3 components)
        Point estimate from :func:`component_savings` (replicate 0).
    costs_actor : array (T, 3)
        Programme costs by year and actor.

    Returns
    -------
    DataFrame
        ``year, actor, observed, gross_benefit_savings, lost_tax_on_benefits,
        gained_tax_on_earnings, savings, programme_cost, net, discount_factor, net_pv,
        cumulative_net, cumulative_net_pv``.
    """
    total = n_participants * savings_pp                                     # (H, 3, 3)
    T = costs_actor.shape[0]
    d = discount_factors(np.arange(1, T + 1), steps)
    frames = []
    for a, actor in enumerate(ACTORS):
        f = pd.DataFrame({"year": np.arange(1, T + 1), "actor": actor, "observed": np.arange(1, T + 1) <= observed_years})
        for c, comp in enumerate(COMPONENT_SIGNS):
            f[BALANCE_NAMES[comp]] = extend(total[:, a, c], extrapolate_years, retention)
        f["savings"] = f[list(BALANCE_NAMES.values())].sum(axis=1)
        f["programme_cost"] = costs_actor[:, a]
        f["net"] = f["savings"] - f["programme_cost"]
        f["discount_factor"] = d
        f["net_pv"] = f["net"] * d
        f["cumulative_net"] = f["net"].cumsum()
        f["cumulative_net_pv"] = f["net_pv"].cumsum()
        frames.append(f)
    return pd.DataFrame(pd.concat(frames, ignore_index=True))


#: Columns of :func:`unpriced_codes`.
UNPRICED_COLUMNS = ("code", "known", "benefit_en", "benefit_da", "reason", "person_weeks_intervention",
                    "person_weeks_control", "persons_intervention", "persons_control")
_UNPRICED_COUNTS = ("person_weeks_intervention", "person_weeks_control", "persons_intervention", "persons_control")


def unpriced_codes(code_weeks: pd.DataFrame, prices_table: pd.DataFrame) -> pd.DataFrame:
    """Codes met in follow-up that carry no price: ``priced = 0`` rows and codes missing from the table.

    Returns :data:`UNPRICED_COLUMNS` (aggregates; code 0, the empty week, is never listed):
    ``known`` is False for a code missing from the price table, whose ``benefit_en``,
    ``benefit_da`` and ``reason`` are then empty (the report names it, catalogue
    ``investment.unpriced.*``); otherwise they are the table's names and ``note``.
    """
    cw = code_weeks[code_weeks["code"] != 0]
    table = prices_table
    known = set(table.index.astype(int))
    unpriced = {int(c) for c in table.index[table["priced"] == 0]}
    sel = cw[cw["code"].isin(unpriced) | ~cw["code"].isin(known)]
    if sel.empty:
        return pd.DataFrame(columns=list(UNPRICED_COLUMNS))
    wide = sel.pivot_table(index="code", columns="group", values=["person_weeks", "persons"], aggfunc="sum",
                           fill_value=0)
    wide.columns = [f"{v}_{g}" for v, g in wide.columns]
    for col in _UNPRICED_COUNTS:
        if col not in wide.columns:
            wide[col] = 0
    wide = wide.reset_index()
    wide["known"] = [c in known for c in wide["code"]]
    for col, source in (("benefit_en", "benefit_en"), ("benefit_da", "benefit_da"), ("reason", "note")):
        wide[col] = [table.loc[c, source] if c in known else "" for c in wide["code"]]
    return wide[list(UNPRICED_COLUMNS)].astype({c: int for c in _UNPRICED_COUNTS})
