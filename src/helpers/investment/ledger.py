"""The public ledger of each person and year: benefits paid (by actor), earnings, taxes.

Week by week, from the weekly DREAM code, the month's employment degree (``grad``) and
the person's refusion step:

- **benefit** = the code's weekly gross price (:mod:`helpers.investment.code_prices`);
  for fleksjob (771) the wage subsidy (fleksløntilskud), which falls with the wage
  (:func:`flexjob_subsidy`);
- **state part** = the refusion step's state share of it for codes under the 2016 steps
  (:mod:`helpers.investment.refusion`), all of it for state-paid codes without refusion,
  else nothing; the municipality bears the rest;
- **earnings** = hourly wage x hours per week x ``grad`` in weeks whose code carries
  earnings (an empty week, holiday pay from work, fleksjob, skånejob) and whose month has
  an employment degree; benefit weeks with a degree carry none (earnings on benefits are
  offset against the benefit, which is priced at its full rate);
- **taxable benefit** = the benefit of taxable codes.

Summed to person-years (52-week years after the index week), taxes follow
(:func:`helpers.investment.tax.person_year_taxes`): the municipality's net cost of a
person-year is its part of the benefits less the municipal tax it receives, the state's
its part less bundskat and AM-bidrag; the public sector's is the sum.

Weeks outside the extract count neither as cost nor as observed time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.core.codes import CATEGORY_INDEX, MAX_CODE, CodeBook
from helpers.core.store import NO_DATA, MonthlyEmployment, groups_by_index_week
from helpers.investment.code_prices import CodePriceError, CodePrices, read_table
from helpers.investment.notes import Note
from helpers.investment.refusion import STEPS_2016, state_share_by_week
from helpers.investment.tax import TaxRates, person_year_taxes

WEEKS_PER_YEAR = 52
FLEX_FILE = "flexjob_subsidy.csv"
FLEX_REQUIRED = ("parameter", "year", "value", "unit", "source", "source_url", "note")
FLEX_PARAMETERS = ("share_of_highest_dagpenge", "reduction_below_threshold", "reduction_above_threshold",
                   "threshold_dkk_per_month")
#: Component columns of the ledger frame, per actor.
COMPONENTS = ("benefit", "tax_benefits", "tax_earnings")


@dataclass(frozen=True)
class Earnings:
    """The earnings assumption: a week in work earns ``hourly_wage_dkk x hours_per_week x grad``."""

    hourly_wage_dkk: float
    hours_per_week: float = 37.0

    @property
    def full_week_dkk(self) -> float:
        """Earnings of a full-time week (grad 1)."""
        return self.hourly_wage_dkk * self.hours_per_week


@dataclass(frozen=True)
class FlexRule:
    """Fleksløntilskud per month: ``max(0, s x D - r1 x min(W, T) - r2 x max(0, W - T))``.

    ``D`` is the highest a-dagpenge rate, ``W`` the monthly wage and ``T`` the threshold.
    """

    share_of_highest: float = 0.98
    reduction_below: float = 0.30
    reduction_above: float = 0.55
    threshold_month_dkk: float = 15_401.0
    year: int = 0
    sources: pd.DataFrame | None = None


def load_flex_rule(path: str | Path = FLEX_FILE, year: int = 2024) -> FlexRule:
    """The fleksløntilskud parameters of ``year`` (latest row at or before it, per parameter)."""
    raw, name = read_table(path, FLEX_FILE, FLEX_REQUIRED)
    raw["year"] = pd.to_numeric(raw["year"], errors="coerce")
    raw["value"] = pd.to_numeric(raw["value"], errors="coerce")
    if raw[["year", "value"]].isna().any().any():
        row = int(np.flatnonzero(raw[["year", "value"]].isna().any(axis=1).to_numpy())[0]) + 2
        raise CodePriceError(f"{name}: row {row}: year and value must be numbers")
    chosen = []
    for p in FLEX_PARAMETERS:
        sub = raw[raw["parameter"] == p].sort_values("year")
        if sub.empty:
            raise CodePriceError(f"{name}: no row for {p}; add one")
        before = sub[sub["year"] <= year]
        chosen.append((before.iloc[-1] if len(before) else sub.iloc[0]).to_dict())
    sel = pd.DataFrame(chosen)
    v = dict(zip(sel["parameter"], sel["value"].astype(float), strict=True))
    return FlexRule(v["share_of_highest_dagpenge"], v["reduction_below_threshold"], v["reduction_above_threshold"],
                    v["threshold_dkk_per_month"], int(year), sel.reset_index(drop=True))


def flexjob_subsidy(highest_weekly: np.ndarray, wage_weekly: np.ndarray, rule: FlexRule) -> np.ndarray:
    """Weekly fleksløntilskud for a weekly wage (the monthly rule, with months = 52/12 weeks).

    Examples
    --------
    >>> r = FlexRule(0.98, 0.30, 0.55, 12_000.0)
    >>> # highest rate 5,200 a week; wage 2,000 a week (under the weekly threshold 12,000 x 12/52)
    >>> float(flexjob_subsidy(np.array([5200.0]), np.array([2000.0]), r)[0])   # 0.98 x 5,200 - 0.3 x 2,000
    4496.0
    """
    t = rule.threshold_month_dkk * 12.0 / 52.0
    w = np.asarray(wage_weekly, dtype=float)
    full = rule.share_of_highest * np.asarray(highest_weekly, dtype=float)
    return np.maximum(0.0, full - rule.reduction_below * np.minimum(w, t) - rule.reduction_above * np.maximum(0.0, w - t))


# ------------------------------------------------------------------------- weeks
def aligned_degree(monthly: MonthlyEmployment | None, person_ids, index_weeks: np.ndarray, start: int,
                   stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Employment degree (``grad``, 0 when none) of week ``index_week + k``, from its ISO-Thursday month.

    Returns ``degree`` (float, shape ``(n, stop - start)``) and ``covered`` (the month lies
    inside the monthly data). Without monthly data every week has degree 0 and is uncovered.
    """
    index_weeks = np.asarray(index_weeks, dtype=np.int64)
    n, width = len(index_weeks), stop - start
    degree = np.zeros((n, max(width, 0)))
    covered = np.zeros((n, max(width, 0)), dtype=bool)
    if monthly is None or n == 0 or width <= 0 or monthly.degree.shape[1] == 0:
        return degree, covered
    mrows = pd.Index(monthly.person_id).get_indexer(pd.Index(np.asarray(person_ids, dtype=object)))
    if (mrows < 0).any():
        raise KeyError(f"{int((mrows < 0).sum())} persons are missing from the monthly employment data "
                       "(monthly.parquet); re-run 01_ingest so monthly and weekly hold the same persons")
    values = np.nan_to_num(np.asarray(monthly.degree, dtype=float)[mrows], nan=0.0)
    n_months = values.shape[1]
    lo = int(index_weeks.min()) + start
    months = calendar.months_of_dream_weeks(np.arange(lo, int(index_weeks.max()) + stop)) - monthly.first_month
    inside = (months >= 0) & (months < n_months)
    cols = np.clip(months, 0, n_months - 1)
    for week, who in groups_by_index_week(index_weeks):
        a = week + start - lo
        covered[who] = inside[a:a + width]
        degree[who] = values[who][:, cols[a:a + width]] * inside[a:a + width]
    return degree, covered


def refusion_shares(codes: np.ndarray, prices: CodePrices, codebook: CodeBook, *,
                    steps=STEPS_2016) -> np.ndarray:
    """State share of every week under the 2016 steps (0 where the code is not covered).

    Covered weeks (codes with ``refusion_rule = trappe_2016``) raise the cumulative count;
    self-supported weeks count towards the 52-in-3-years reset; others do neither.
    """
    inside = codes != NO_DATA
    c = np.clip(np.where(inside, codes, 0), 0, MAX_CODE - 1)
    covered = inside & prices.trappe[c]
    selfsup = inside & (codebook.categories(np.where(inside, codes, 0)) == CATEGORY_INDEX["self_support"])
    return state_share_by_week(covered, selfsup, steps=steps)


@dataclass(frozen=True)
class WeekLedger:
    """Weekly amounts (DKK), arrays of shape (persons, weeks)."""

    benefit: np.ndarray
    state: np.ndarray
    taxable: np.ndarray
    earnings: np.ndarray
    inside: np.ndarray


def week_ledger(codes: np.ndarray, degree: np.ndarray, state_share: np.ndarray, prices: CodePrices,
                earnings: Earnings, flex: FlexRule, *, refusion: bool = True) -> WeekLedger:
    """Benefit, state part, taxable benefit and earnings of every person-week.

    Parameters
    ----------
    codes : int array (n, W)
        Weekly codes (0 empty, :data:`~helpers.core.store.NO_DATA` outside the extract).
    degree : float array (n, W)
        Employment degree of the week's month (0 = none).
    state_share : float array (n, W)
        State share by the refusion steps (:func:`refusion_shares`).
    refusion : bool
        Split refusion-covered codes by ``state_share``; else the payer bears all.
    """
    codes = np.asarray(codes)
    inside = codes != NO_DATA
    c = np.clip(np.where(inside, codes, 0), 0, MAX_CODE - 1)
    wage = np.where(inside & prices.with_earnings[c], earnings.full_week_dkk * np.asarray(degree, dtype=float), 0.0)
    weekly = prices.weekly[c]
    benefit = np.where(prices.flexjob[c], flexjob_subsidy(weekly, wage, flex), weekly) * inside
    state_paid = np.where(prices.paid_by_state[c], benefit, 0.0)
    if refusion:
        state = np.where(prices.trappe[c], np.asarray(state_share, dtype=float) * benefit, state_paid)
    else:
        state = state_paid
    return WeekLedger(benefit=benefit, state=state, taxable=benefit * prices.taxable[c], earnings=wage,
                      inside=inside)


def _per_year(values: np.ndarray, years: int) -> np.ndarray:
    n = values.shape[0]
    return values[:, :years * WEEKS_PER_YEAR].reshape(n, years, WEEKS_PER_YEAR).sum(axis=2)


def ledger_frame(ledger: WeekLedger, years: int, person_id, tax: TaxRates | None) -> tuple[pd.DataFrame, list[Note]]:
    """Person-years (``unit`` = row of the input) with benefits, earnings, taxes and net cost by actor.

    Columns: ``unit, person_id, year, observed_years, earnings, taxable_benefit``, and per
    actor ``a`` in municipality/state/public: ``benefit_a, tax_benefits_a, tax_earnings_a,
    cost_a`` (``cost = benefit - tax_benefits - tax_earnings``; taxes are 0 without ``tax``).
    Returns the frame and notes (``top_tax``: person-years above the top-tax threshold).
    """
    notes = []
    n = ledger.benefit.shape[0]
    obs = _per_year(ledger.inside.astype(float), years) / WEEKS_PER_YEAR
    benefit = _per_year(ledger.benefit, years)
    state = _per_year(ledger.state, years)
    taxable = _per_year(ledger.taxable, years)
    earn = _per_year(ledger.earnings, years)
    if tax is not None:
        t = person_year_taxes(taxable, earn, tax, obs)
        tb = {"municipality": t.municipal_on_benefits, "state": t.state_on_benefits}
        te = {"municipality": t.municipal_on_earnings, "state": t.state_on_earnings}
        over = int((t.personal_income > obs * tax.topskat_threshold).sum())
        if over:
            notes.append(Note("top_tax", {"n": over}))
    else:
        zero = np.zeros_like(benefit)
        tb = te = {"municipality": zero, "state": zero}
    out = {"unit": np.repeat(np.arange(n), years), "person_id": np.repeat(np.asarray(person_id, dtype=object), years),
           "year": np.tile(np.arange(1, years + 1), n), "observed_years": obs.ravel(), "earnings": earn.ravel(),
           "taxable_benefit": taxable.ravel()}
    parts = {"municipality": benefit - state, "state": state}
    for actor in ("municipality", "state"):
        out[f"benefit_{actor}"] = parts[actor].ravel()
        out[f"tax_benefits_{actor}"] = tb[actor].ravel()
        out[f"tax_earnings_{actor}"] = te[actor].ravel()
    for comp in COMPONENTS:
        out[f"{comp}_public"] = out[f"{comp}_municipality"] + out[f"{comp}_state"]
    for actor in ("municipality", "state", "public"):
        out[f"cost_{actor}"] = out[f"benefit_{actor}"] - out[f"tax_benefits_{actor}"] - out[f"tax_earnings_{actor}"]
    return pd.DataFrame(out), notes


def code_weeks(codes: np.ndarray, is_intervention: np.ndarray) -> pd.DataFrame:
    """Person-weeks and persons per code and group over the given weeks (aggregates only).

    Returns ``code, group, person_weeks, persons`` for every code met (0 = empty week
    included; weeks outside the extract left out).
    """
    codes = np.asarray(codes)
    rows = []
    for group, sel in (("intervention", np.asarray(is_intervention, bool)), ("control", ~np.asarray(is_intervention,
                                                                                                      bool))):
        sub = codes[sel]
        inside = sub != NO_DATA
        vals, weeks = np.unique(sub[inside], return_counts=True)
        person = np.broadcast_to(np.arange(sub.shape[0])[:, None], sub.shape)[inside]
        pairs = np.unique(person.astype(np.int64) * MAX_CODE + sub[inside].astype(np.int64))
        per_code = np.bincount(pairs % MAX_CODE, minlength=MAX_CODE)
        rows += [{"code": int(v), "group": group, "person_weeks": int(w), "persons": int(per_code[v])}
                 for v, w in zip(vals, weeks, strict=True)]
    return pd.DataFrame(rows, columns=["code", "group", "person_weeks", "persons"])
