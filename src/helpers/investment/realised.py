"""Realised (ex post) savings from the evaluation's own register data.

The intervention's effect on public spending is the difference in benefit costs between
the intervention group and its matched controls, year by year after the index week; the
control group is the counterfactual, so its exits to work are the deadweight. Costs are
weeks on each benefit category priced with the annual cost per full-time person
(:mod:`helpers.investment.prices`), split between municipality and state by the
refusion steps (:mod:`helpers.investment.refusion`).

Per year :math:`t` and actor :math:`a`, the mean cost per observed person-year in group
:math:`g` is a weighted ratio estimator (weights from matching; ``observed`` = weeks
inside the extract / 52, so late-included persons whose year :math:`t` is cut by the end
of data count in proportion):

.. math::

    \\bar c_{g,t,a} = \\frac{\\sum_{i \\in g} w_i \\, c_{i,t,a}}{\\sum_{i \\in g} w_i \\, o_{i,t}},
    \\qquad s_{t,a} = \\bar c_{\\mathrm{control},t,a} - \\bar c_{\\mathrm{intervention},t,a},

and the saving of the programme is :math:`N s_{t,a}` for its :math:`N` participants.
Uncertainty comes from a bootstrap over matched sets (whole sets are resampled, so the
pairing is kept; unmatched persons are resampled within their group).

With the per-category prices of :func:`price_weeks`, tax revenue, equalisation (udligning)
and administration costs are not counted, as in seed 002. The per-code ledger
(:mod:`helpers.investment.ledger`, ``investment.pricing: code``) delivers person-years of the
same shape whose costs are benefits less the tax received; the estimator is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.investment.discounting import discount_factors
from helpers.investment.notes import Note
from helpers.investment.prices import WEEKS_PER_YEAR
from helpers.investment.refusion import STEPS_2016

ACTORS: tuple[str, ...] = ("municipality", "state", "public")
GROUPS: tuple[str, ...] = ("intervention", "control")
#: Category label of weeks outside the extract in :func:`helpers.outcomes.status.weeks_by_category_per_year`.
NO_DATA = "no_data"


class InvestmentInputError(ValueError):
    """Input that cannot be used; the message names the source, column and what to do."""


# ----------------------------------------------------------------------------- pricing
def _key(frame: pd.DataFrame) -> str:
    return "unit" if "unit" in frame.columns else "person_id"


def attach_cohort(weeks: pd.DataFrame, cohort: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``group``, ``matched_set`` and ``weight`` from the cohort where the weeks frame lacks them.

    The frames are joined on ``unit`` (position in the cohort) when the weeks frame has
    it, else on ``person_id``.
    """
    need = [c for c in ("group", "matched_set", "weight") if c not in weeks.columns]
    if not need:
        return weeks
    if cohort is None:
        if "group" in need:
            raise InvestmentInputError("weeks frame: column 'group' missing and no cohort given to take it from")
        return weeks
    key = _key(weeks)
    cols = [c for c in need if c in cohort.columns]
    if "group" not in weeks.columns and "group" not in cohort.columns:
        raise InvestmentInputError("cohort: column 'group' missing; expected 'intervention'/'control' per person")
    if key == "unit":
        side = cohort[cols].reset_index(drop=True).rename_axis("unit").reset_index()
    else:
        if cohort["person_id"].duplicated().any():
            raise InvestmentInputError(
                "cohort: a person appears twice; pass a weeks frame with a 'unit' column "
                "(helpers.outcomes.status.weeks_by_category_per_year) to tell the rows apart"
            )
        side = cohort[["person_id"] + cols]
    return weeks.merge(side, on=key, how="left", validate="many_to_one")


def price_weeks(weeks: pd.DataFrame, prices: pd.DataFrame, *, refusion: bool = True,
                steps=STEPS_2016) -> tuple[pd.DataFrame, list[Note]]:
    """Price weeks on benefit and split them between municipality and state.

    Parameters
    ----------
    weeks : DataFrame
        Tidy person x year x category frame: ``person_id`` (or ``unit``), ``group``,
        ``year``, ``category``, ``weeks``; optional ``matched_set``, ``weight`` and
        ``state_weeks`` (sum of the weekly state shares, from
        :func:`~helpers.investment.refusion.refusion_weeks`) or ``state_share``.
        Category ``"no_data"`` (weeks outside the extract) is neither priced nor observed.
    prices : DataFrame
        One price per category (:func:`~helpers.investment.prices.select_prices`).
    refusion : bool
        Split refusion-covered categories by the state share; else the category's
        ``payer`` bears all of it.
    steps : sequence of (last week, share)
        Used only without ``state_weeks``: every covered week is then priced at the last
        step (20 % state share, the long-term recipient's rate) and a note says so.

    Returns
    -------
    person_years : DataFrame
        ``<key>, group, matched_set, weight, year, observed_years, cost_municipality,
        cost_state, cost_public`` (DKK).
    notes : list of Note
        ``no_refusion_history`` (covered weeks split at the last step), ``no_self_support``.
    """
    notes: list[Note] = []
    required = [_key(weeks), "group", "year", "category", "weeks"]
    missing = [c for c in required if c not in weeks.columns]
    if missing:
        raise InvestmentInputError(f"weeks frame: missing column(s) {missing}; expected {required}")
    w = weeks.copy()
    w["category"] = w["category"].astype(str)
    bad_groups = sorted(set(w["group"].astype(str)) - set(GROUPS))
    if bad_groups:
        raise InvestmentInputError(f"weeks frame: column 'group' holds {bad_groups}; expected {list(GROUPS)}")
    cats = set(w["category"]) - {NO_DATA}
    unknown = sorted(cats - set(prices.index))
    if unknown:
        raise InvestmentInputError(
            f"weeks frame: categories {unknown} have no price; add them to the price table or prices_override"
        )
    if (pd.to_numeric(w["weeks"], errors="coerce") < 0).any() or w["weeks"].isna().any():
        raise InvestmentInputError("weeks frame: column 'weeks' must hold non-negative numbers")
    if "weight" not in w.columns:
        w["weight"] = 1.0
    if "matched_set" not in w.columns:
        w["matched_set"] = np.nan
    priced = w[w["category"] != NO_DATA]
    weekly = priced["category"].map(prices["weekly_dkk"]).to_numpy(dtype=float)
    covered = priced["category"].map(prices["refusion"]).to_numpy(dtype=bool) & refusion
    payer_state = (priced["category"].map(prices["payer"]) == "state").to_numpy()
    n_weeks = priced["weeks"].to_numpy(dtype=float)
    if "state_weeks" in priced.columns:
        state_weeks = priced["state_weeks"].fillna(0.0).to_numpy(dtype=float)
    elif "state_share" in priced.columns:
        state_weeks = priced["state_share"].to_numpy(dtype=float) * n_weeks
    else:
        state_weeks = n_weeks * steps[-1][1]
        if refusion and covered.any():
            notes.append(Note("no_refusion_history", {"share": steps[-1][1]}))
    if np.any(state_weeks > n_weeks + 1e-9) or np.any(state_weeks < -1e-9):
        raise InvestmentInputError("weeks frame: 'state_weeks' must lie between 0 and 'weeks'")
    cost = n_weeks * weekly
    state = np.where(covered, state_weeks * weekly, np.where(payer_state, cost, 0.0))
    key = _key(weeks)
    frame = pd.DataFrame({
        key: priced[key].to_numpy(), "year": priced["year"].to_numpy(),
        "observed_years": n_weeks / WEEKS_PER_YEAR,
        "cost_municipality": cost - state, "cost_state": state, "cost_public": cost,
    })
    if not (priced["category"] == "self_support").any():
        notes.append(Note("no_self_support"))
    agg = frame.groupby([key, "year"], as_index=False, sort=True).sum()
    if not (priced["category"] == "self_support").any():
        agg["observed_years"] = 1.0
    attrs = w.drop_duplicates(key)[[key, "group", "matched_set", "weight"]]
    out = agg.merge(attrs, on=key, how="left")
    return out[[key, "group", "matched_set", "weight", "year", "observed_years",
                "cost_municipality", "cost_state", "cost_public"]], notes


# ------------------------------------------------------------------------------- panel
@dataclass
class Panel:
    """Person-level cost arrays for fast (bootstrap) group means.

    Attributes
    ----------
    intervention : bool array (P,)
    weight : float array (P,)
    cluster : int array (P,)
        Matched set, or a unique negative number for persons without one.
    cost : float array (P, H, 3)
        Costs by year and actor (:data:`ACTORS` order).
    observed : float array (P, H)
        Observed person-years.
    """

    intervention: np.ndarray
    weight: np.ndarray
    cluster: np.ndarray
    cost: np.ndarray
    observed: np.ndarray

    @property
    def horizon(self) -> int:
        """Number of years."""
        return self.cost.shape[1]


def make_panel(person_years: pd.DataFrame, horizon: int) -> Panel:
    """Arrange priced person-years (:func:`price_weeks`) as arrays over years 1..``horizon``."""
    key = _key(person_years)
    py = person_years[(person_years["year"] >= 1) & (person_years["year"] <= horizon)]
    persons = person_years.drop_duplicates(key).reset_index(drop=True)
    pos = pd.Series(np.arange(len(persons)), index=persons[key].to_numpy())
    p = pos.loc[py[key].to_numpy()].to_numpy()
    t = py["year"].to_numpy(dtype=np.int64) - 1
    cost = np.zeros((len(persons), horizon, len(ACTORS)))
    observed = np.zeros((len(persons), horizon))
    for a, actor in enumerate(ACTORS):
        np.add.at(cost[:, :, a], (p, t), py[f"cost_{actor}"].to_numpy(dtype=float))
    np.add.at(observed, (p, t), py["observed_years"].to_numpy(dtype=float))
    ms = pd.to_numeric(persons["matched_set"], errors="coerce")
    codes = pd.factorize(ms)[0].astype(np.int64)
    lonely = ms.isna().to_numpy()
    codes[lonely] = -1 - np.arange(int(lonely.sum()))
    weight = pd.to_numeric(persons["weight"], errors="coerce").fillna(1.0).to_numpy(dtype=float)
    return Panel(persons["group"].to_numpy() == "intervention", weight, codes, cost, observed)


def group_means(panel: Panel, multipliers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean cost per observed person-year by year and actor, intervention and control.

    ``multipliers`` (B, P) are bootstrap frequency weights (default: one replicate of ones).
    Returns two arrays of shape (B, H, 3); NaN where a group has no observed person-year.
    """
    m = np.ones((1, len(panel.weight))) if multipliers is None else np.asarray(multipliers, dtype=float)
    out = []
    for is_int in (True, False):
        wi = m * (panel.weight * (panel.intervention == is_int))[None, :]
        num = np.einsum("bp,pha->bha", wi, panel.cost)
        den = wi @ panel.observed
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(np.where(den[..., None] > 0, num / den[..., None], np.nan))
    return out[0], out[1]


def bootstrap_multipliers(panel: Panel, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Frequency weights (draws, P) of a bootstrap over matched sets.

    Sets holding both groups are resampled among themselves; persons without a set are
    resampled within their group, so every replicate keeps both groups.
    """
    clusters, inverse = np.unique(panel.cluster, return_inverse=True)
    has_int = np.bincount(inverse, weights=panel.intervention.astype(float), minlength=len(clusters)) > 0
    has_ctl = np.bincount(inverse, weights=(~panel.intervention).astype(float), minlength=len(clusters)) > 0
    stratum = np.where(has_int & has_ctl, 0, np.where(has_int, 1, 2))
    counts = np.zeros((draws, len(clusters)))
    for s in (0, 1, 2):
        members = np.flatnonzero(stratum == s)
        if len(members) == 0:
            continue
        picks = rng.integers(0, len(members), size=(draws, len(members)))
        for b in range(draws):
            counts[b, members] = np.bincount(picks[b], minlength=len(members))
    return counts[:, inverse]


# ------------------------------------------------------------------------------ flows
def extend(values: np.ndarray, extra_years: int, retention: float | np.ndarray) -> np.ndarray:
    """Append ``extra_years`` to the last axis: the last value times ``retention**k``.

    ``retention`` may be an array broadcasting against ``values[..., -1]`` (Monte Carlo).
    """
    values = np.asarray(values, dtype=float)
    if extra_years <= 0:
        return values
    k = np.arange(1, extra_years + 1)
    r = np.asarray(retention, dtype=float)[..., None]
    tail = values[..., -1:] * r ** k
    return np.concatenate([values, tail], axis=-1)


def costs_by_year(costs: pd.DataFrame, n_years: int) -> np.ndarray:
    """Total intervention cost per analysis year 1..``n_years`` (from :func:`intervention_costs`)."""
    out = np.zeros(n_years)
    if len(costs):
        years = costs["analysis_year"].to_numpy(dtype=np.int64)
        if years.max() > n_years:
            raise InvestmentInputError(
                f"costs fall in analysis year {int(years.max())}, after the horizon of {n_years} years; "
                "raise investment.horizon_years/extrapolate_years or move the costs"
            )
        np.add.at(out, years - 1, costs["total_dkk"].to_numpy(dtype=float))
    return out


def actor_costs(costs_year: np.ndarray, bearer: str) -> np.ndarray:
    """Costs by year (T, 3): the bearer pays, the public total includes it."""
    out = np.zeros((len(costs_year), len(ACTORS)))
    out[:, ACTORS.index(bearer)] = costs_year
    out[:, ACTORS.index("public")] = costs_year
    return out


def payback_year(cumulative: np.ndarray) -> np.ndarray:
    """First year (1-based) from which the cumulative net stays >= 0 to the horizon; NaN if none.

    Works on the last axis, so a (B, T) array gives B payback years.

    Examples
    --------
    >>> payback_year(np.array([-5.0, -1.0, 2.0, 4.0])).item()
    3.0
    >>> bool(np.isnan(payback_year(np.array([-5.0, 1.0, -1.0]))))
    True
    """
    ok = np.asarray(cumulative) >= -1e-9
    stays = np.flip(np.logical_and.accumulate(np.flip(ok, -1), axis=-1), -1)
    first = np.argmax(stays, axis=-1).astype(float)
    return np.where(stays.any(axis=-1), first + 1, np.nan)


def cash_flows(savings: np.ndarray, costs: np.ndarray, steps, observed_years: int) -> pd.DataFrame:
    """Yearly flows by actor, nominal and discounted.

    Parameters
    ----------
    savings, costs : float arrays (T, 3)
        Total savings and intervention costs by year and actor (:data:`ACTORS` order).
    steps : discount steps
    observed_years : int
        Years 1..observed_years are observed; later years are extrapolated.

    Returns
    -------
    DataFrame
        ``year, actor, observed, savings, costs, net, discount_factor, savings_pv,
        costs_pv, net_pv, cumulative_net, cumulative_net_pv``.
    """
    n_years = savings.shape[0]
    years = np.arange(1, n_years + 1)
    d = discount_factors(years, steps)
    frames = []
    for a, actor in enumerate(ACTORS):
        f = pd.DataFrame({"year": years, "actor": actor, "observed": years <= observed_years,
                          "savings": savings[:, a], "costs": costs[:, a]})
        f["net"] = f["savings"] - f["costs"]
        f["discount_factor"] = d
        f["savings_pv"] = f["savings"] * d
        f["costs_pv"] = f["costs"] * d
        f["net_pv"] = f["net"] * d
        f["cumulative_net"] = f["net"].cumsum()
        f["cumulative_net_pv"] = f["net_pv"].cumsum()
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def summarise_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """Per actor: PV of savings and costs, NPV (all years and observed years only), nominal net,
    return per krone (PV savings / PV costs) and payback years (nominal and discounted)."""
    rows = []
    for actor, f in flows.groupby("actor", sort=False):
        costs_pv = f["costs_pv"].sum()
        rows.append({
            "actor": actor,
            "savings": f["savings"].sum(), "costs": f["costs"].sum(), "net": f["net"].sum(),
            "savings_pv": f["savings_pv"].sum(), "costs_pv": costs_pv, "npv": f["net_pv"].sum(),
            "npv_observed": f.loc[f["observed"], "net_pv"].sum(),
            "return_per_krone": f["savings_pv"].sum() / costs_pv if costs_pv > 0 else np.nan,
            "payback_year": payback_year(f["cumulative_net"].to_numpy()).item() if costs_pv > 0 else np.nan,
            "payback_year_pv": payback_year(f["cumulative_net_pv"].to_numpy()).item() if costs_pv > 0 else np.nan,
        })
    return pd.DataFrame(rows)


def break_even_persons(costs_pv: float | np.ndarray, control_cost: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Extra persons in lasting self-support needed to pay for the costs.

    A person moved into lasting self-support saves what a control person costs in each
    year (the control group's counterfactual cost per person-year); over the horizon
    that is worth :math:`\\sum_t D(t)\\,\\bar c_{\\mathrm{control},t}`. The break-even
    number is the costs' present value divided by it.

    Parameters
    ----------
    costs_pv : float or array (B,)
    control_cost : array (..., T)
        Control cost per person-year by year (already extended to the full horizon).
    factors : array (T,)
        Discount factors.
    """
    pv_person = np.asarray(control_cost, dtype=float) @ np.asarray(factors, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(costs_pv, dtype=float) / pv_person


# ------------------------------------------------------------------------------ costs
COST_COLUMNS = ("item", "amount_dkk", "year", "per_person", "note")


def intervention_costs(*, total: float | None = None, form: pd.DataFrame | None = None,
                       source: str = "auto", n_participants: int = 0, first_year: int | None = None,
                       cost_year: int = 1, form_name: str = "costs form") -> pd.DataFrame:
    """The intervention's costs as rows with the analysis year they fall in.

    Parameters
    ----------
    total : float, optional
        ``investment.intervention_cost_total`` (DKK).
    form : DataFrame, optional
        The costs form: ``item, amount_dkk, year, per_person (0/1), note``.
    source : {"auto", "total", "form"}
        ``auto`` uses ``total`` when given, else the form.
    n_participants : int
        Multiplies per-person items.
    first_year : int, optional
        Calendar year of the first index week; a form item of calendar year ``y`` falls
        in analysis year ``y - first_year + 1`` (at least 1). Without it, ``cost_year``.
    cost_year : int
        Analysis year of ``total`` (and of form items without a year).

    Returns
    -------
    DataFrame
        ``item, amount_dkk, per_person, year, analysis_year, total_dkk, source, note``.
    """
    use_total = source == "total" or (source == "auto" and total is not None)
    if use_total:
        if total is None:
            raise InvestmentInputError(
                "investment.costs_source is 'total' but investment.intervention_cost_total is not set"
            )
        return pd.DataFrame([{"item": "intervention (study YAML)", "amount_dkk": float(total), "per_person": False,
                              "year": np.nan, "analysis_year": cost_year, "total_dkk": float(total),
                              "source": "investment.intervention_cost_total", "note": ""}])
    if form is None or len(form) == 0:
        raise InvestmentInputError(
            f"{form_name}: no costs; set investment.intervention_cost_total in the study YAML or give a costs form "
            f"with columns {', '.join(COST_COLUMNS)}"
        )
    missing = [c for c in ("item", "amount_dkk") if c not in form.columns]
    if missing:
        raise InvestmentInputError(f"{form_name}: missing column(s) {missing}; expected {', '.join(COST_COLUMNS)}")
    f = form.copy().reset_index(drop=True)
    amount = pd.to_numeric(f["amount_dkk"], errors="coerce")
    if amount.isna().any():
        row = int(np.flatnonzero(amount.isna().to_numpy())[0]) + 2
        raise InvestmentInputError(f"{form_name}: row {row}, column 'amount_dkk': not a number; give DKK as a number")
    per_person = pd.to_numeric(f.get("per_person", 0), errors="coerce").fillna(0).astype(int)
    if not per_person.isin([0, 1]).all():
        row = int(np.flatnonzero(~per_person.isin([0, 1]).to_numpy())[0]) + 2
        raise InvestmentInputError(f"{form_name}: row {row}, column 'per_person': expected 0 or 1")
    year = pd.to_numeric(f["year"], errors="coerce") if "year" in f.columns else pd.Series(np.nan, index=f.index)
    if first_year is not None:
        analysis_year = (year - first_year + 1).clip(lower=1).fillna(cost_year).astype(int)
    else:
        analysis_year = pd.Series(cost_year, index=f.index)
    return pd.DataFrame({
        "item": f["item"].astype(str), "amount_dkk": amount.astype(float), "per_person": per_person.astype(bool),
        "year": year, "analysis_year": analysis_year.astype(int),
        "total_dkk": amount.astype(float) * np.where(per_person == 1, n_participants, 1),
        "source": form_name, "note": f.get("note", pd.Series("", index=f.index)).fillna("").astype(str),
    })
