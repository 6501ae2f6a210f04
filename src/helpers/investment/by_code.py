"""Build the per-code public ledger of a study's cohort from the processed store.

:func:`build_code_ledger` reads the weekly codes (with ``refusion_history_weeks`` of
history for the refusion count) and the monthly employment degree, and returns a
:class:`CodeLedger`: person-years with benefits, earnings, taxes and net cost by actor
(:func:`helpers.investment.ledger.ledger_frame`), person-weeks per code and group (for
the list of unpriced codes), and what is needed to recompute the ledger at another wage
(the sensitivity analysis).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from helpers.config import Study
from helpers.core import store
from helpers.core.codes import CodeBook
from helpers.investment.code_prices import CodePrices, load_code_prices
from helpers.investment.ledger import (
    Earnings,
    FlexRule,
    aligned_degree,
    code_weeks,
    ledger_frame,
    load_flex_rule,
    refusion_shares,
    week_ledger,
)
from helpers.investment.notes import Note
from helpers.investment.realised import InvestmentInputError, attach_cohort
from helpers.investment.tax import TaxRates, load_tax_rates


@dataclass
class CodeLedger:
    """Everything the realised calculation needs from the per-code ledger (aggregates plus arrays).

    Attributes
    ----------
    person_years : DataFrame
        :func:`~helpers.investment.ledger.ledger_frame` with ``group, matched_set, weight``.
    code_weeks : DataFrame
        :func:`~helpers.investment.ledger.code_weeks` over the follow-up years.
    prices : CodePrices
    tax : TaxRates or None
    earnings : Earnings
    flex : FlexRule
    notes : list of Note
    """

    person_years: pd.DataFrame
    code_weeks: pd.DataFrame
    prices: CodePrices
    tax: TaxRates | None
    earnings: Earnings
    flex: FlexRule
    notes: list = field(default_factory=list)
    refusion: bool = True
    years: int = 1
    _codes: np.ndarray | None = field(default=None, repr=False)
    _degree: np.ndarray | None = field(default=None, repr=False)
    _share: np.ndarray | None = field(default=None, repr=False)
    _cohort: pd.DataFrame | None = field(default=None, repr=False)
    _person_id: np.ndarray | None = field(default=None, repr=False)

    def at_wage(self, hourly_wage_dkk: float) -> pd.DataFrame:
        """Person-years recomputed with another hourly wage (everything else unchanged)."""
        if self._codes is None:
            raise InvestmentInputError("this ledger holds no weekly arrays; build it with build_code_ledger")
        earn = replace(self.earnings, hourly_wage_dkk=float(hourly_wage_dkk))
        wl = week_ledger(self._codes, self._degree, self._share, self.prices, earn, self.flex, refusion=self.refusion)
        frame, _ = ledger_frame(wl, self.years, self._person_id, self.tax)
        return attach_cohort(frame, self._cohort)


def ledger_from_arrays(codes: np.ndarray, degree: np.ndarray, share: np.ndarray, *, cohort: pd.DataFrame,
                       prices: CodePrices, tax: TaxRates | None, earnings: Earnings, flex: FlexRule, years: int,
                       refusion: bool = True, notes: list | None = None) -> CodeLedger:
    """A :class:`CodeLedger` from aligned follow-up arrays (one row per cohort row).

    ``codes``, ``degree`` and ``share`` cover weeks ``index_week .. index_week + 52 years - 1``
    of each cohort row (see :func:`build_code_ledger` for how they come from the store).
    """
    person_id = cohort["person_id"].to_numpy(dtype=object)
    wl = week_ledger(codes, degree, share, prices, earnings, flex, refusion=refusion)
    frame, tax_notes = ledger_frame(wl, years, person_id, tax)
    frame = attach_cohort(frame, cohort)
    weeks = code_weeks(codes, (cohort["group"] == "intervention").to_numpy())
    return CodeLedger(person_years=frame, code_weeks=weeks, prices=prices, tax=tax, earnings=earnings, flex=flex,
                      notes=list(notes or []) + tax_notes, refusion=refusion, years=years, _codes=codes,
                      _degree=degree, _share=share, _cohort=cohort, _person_id=person_id)


def tax_municipality(study: Study) -> int:
    """``investment.tax.municipality``, else the single ``cohort.municipality``."""
    inv = study.investment
    if inv.tax.municipality is not None:
        return int(inv.tax.municipality)
    munis = list(study.cohort.municipality)
    if len(munis) == 1:
        return int(munis[0])
    raise InvestmentInputError(
        f"{study.source}: investment.tax.municipality is not set and cohort.municipality holds {munis}; set the "
        "municipality whose income-tax rate applies (e.g. 183 for Ishøj)")


def load_inputs(study: Study) -> tuple[CodePrices, TaxRates | None, Earnings, FlexRule]:
    """The study's per-code prices, tax rates (None when tax is off), earnings assumption and flexjob rule."""
    inv = study.investment
    prices = load_code_prices(inv.code_prices_file, inv.price_year, inv.code_prices_override)
    tax = None
    if inv.tax.enabled:
        tax = load_tax_rates(inv.tax.rates_file, inv.tax.year or inv.price_year, tax_municipality(study),
                             inv.tax.overrides)
    earnings = Earnings(inv.earnings.hourly_wage_dkk, inv.earnings.hours_per_week)
    flex = load_flex_rule(inv.flexjob_subsidy_file, inv.price_year)
    return prices, tax, earnings, flex


def build_code_ledger(study: Study, cohort: pd.DataFrame, *, weekly: store.WeeklyStatus | None = None,
                      monthly: store.MonthlyEmployment | None = None) -> CodeLedger:
    """The per-code ledger of ``cohort`` (see the module notes)."""
    inv = study.investment
    prices, tax, earnings, flex = load_inputs(study)
    years, history = inv.horizon_years, inv.refusion_history_weeks
    index = cohort["index_week"].to_numpy(dtype=np.int64)
    ids = pd.unique(cohort["person_id"])
    if weekly is None:
        weekly = store.load_weekly(study, int(index.min()) - history, int(index.max()) + 52 * years - 1,
                                   person_ids=ids)
    notes = []
    if monthly is None:
        try:
            monthly = store.load_monthly(study, person_ids=ids)
        except FileNotFoundError as err:
            monthly = None
            notes.append(Note("no_monthly", {"error": str(err)}))
    rows = weekly.rows_of(cohort["person_id"].to_numpy())
    codes_all = weekly.aligned(rows, index, -history, 52 * years)
    share = refusion_shares(codes_all, prices, CodeBook.default(study.data.category_overrides))[:, history:]
    codes = codes_all[:, history:]
    degree, covered = aligned_degree(monthly, cohort["person_id"].to_numpy(), index, 0, 52 * years)
    inside = codes != store.NO_DATA
    if monthly is not None and (inside & ~covered).any():
        share_uncovered = float((inside & ~covered).sum() / max(inside.sum(), 1))
        notes.append(Note("uncovered_months", {"share": share_uncovered}))
    return ledger_from_arrays(codes, degree, share, cohort=cohort, prices=prices, tax=tax, earnings=earnings,
                              flex=flex, years=years, refusion=inv.refusion, notes=notes)
