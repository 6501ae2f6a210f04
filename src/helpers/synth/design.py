"""Who is eligible at an index week, who is screened and included, and the truth they carry.

The generator applies the study's ``cohort:`` rules itself (age, residence, benefit at the
index week, weeks on transfers and on cash benefit in the look-back windows) so that the
intervention group is drawn from exactly the population the cohort code will find
eligible. It is deliberately *stricter* than any reasonable reading of those rules:

- weeks on transfers must reach the minimum both in the ``L`` weeks before the index week
  and in the ``L`` weeks ending with it; weeks on cash benefit must stay under the maximum
  in the ``L + 1`` weeks ending with the index week (only weeks inside the extract count,
  as they do for the cohort code);
- the age must be inside ``[age_min, age_max]`` on the Monday and the Sunday of the week.

"On a transfer" is any code outside the categories self_support, emigrated and dead;
"cash benefit" is the ``cash_benefit`` category; the benefit in the index week and in the week
before it must be in ``cohort.target_subcategories``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.config.schema.cohort import CohortConfig
from helpers.core import calendar
from helpers.core.codes import CATEGORY_INDEX, CodeBook


@dataclass
class RegisterView:
    """The generated extract as arrays (rows = persons, columns = DREAM weeks)."""

    first_week: int
    codes: np.ndarray  # int16
    birth: np.ndarray  # datetime64[D]
    residence: np.ndarray  # int16 persons x years
    years: np.ndarray

    def municipality_in(self, year: int) -> np.ndarray:
        """Municipality code of every person on 1 January of ``year`` (0 = none)."""
        j = int(np.searchsorted(self.years, year))
        if j >= len(self.years) or self.years[j] != year:
            return np.zeros(len(self.codes), dtype=np.int16)
        return self.residence[:, j]


def _age_years(birth: np.ndarray, on: dt.date) -> np.ndarray:
    """Completed years of age on date ``on``."""
    b = birth.astype("datetime64[D]")
    by = b.astype("datetime64[Y]").astype(int) + 1970
    bm = b.astype("datetime64[M]").astype(int) % 12 + 1
    bd = (b - b.astype("datetime64[M]")).astype(int) + 1
    before = (on.month < bm) | ((on.month == bm) & (on.day < bd))
    return on.year - by - before.astype(int)


def _counts(view: RegisterView, codebook: CodeBook) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative weeks on any transfer and on cash benefit (persons x weeks+1), cached on ``view``."""
    cached = getattr(view, "_cum", None)
    if cached is not None:
        return cached
    cats = codebook.categories(view.codes)
    transfer_lut = np.ones(len(CATEGORY_INDEX), dtype=bool)
    transfer_lut[[CATEGORY_INDEX["self_support"], CATEGORY_INDEX["emigrated"], CATEGORY_INDEX["dead"]]] = False
    transfer = np.zeros((len(cats), cats.shape[1] + 1), dtype=np.int16)
    np.cumsum(transfer_lut[cats], axis=1, out=transfer[:, 1:])
    cash = np.zeros_like(transfer)
    np.cumsum(cats == CATEGORY_INDEX["cash_benefit"], axis=1, out=cash[:, 1:])
    view._cum = (transfer, cash)
    return view._cum


def eligibility(view: RegisterView, cohort: CohortConfig, weeks: np.ndarray, codebook: CodeBook) -> np.ndarray:
    """Boolean matrix persons x ``weeks``: eligible at that index week (see module docstring)."""
    transfer, cash = _counts(view, codebook)
    target = codebook.codes_where(subcategories=cohort.target_subcategories)

    def window(cum: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Count over columns lo..hi (inclusive), clipped to the extract."""
        lo_c = min(max(lo, 0), cum.shape[1] - 1)
        hi_c = min(max(hi + 1, 0), cum.shape[1] - 1)
        return (cum[:, hi_c] - cum[:, lo_c]).astype(np.int32)

    out = np.zeros((len(view.codes), len(weeks)), dtype=bool)
    lt, lc = cohort.transfers_lookback_weeks, cohort.cash_benefit_lookback_weeks
    for k, w in enumerate(np.asarray(weeks)):
        j = int(w) - view.first_week
        ok = target[np.clip(view.codes[:, j], 0, len(target) - 1)]
        if j >= 1:  # also in the week before (cohort.benefit_weeks: before_and_index)
            ok &= target[np.clip(view.codes[:, j - 1], 0, len(target) - 1)]
        ok &= window(transfer, j - lt, j - 1) >= cohort.min_weeks_on_transfers
        ok &= window(transfer, j - lt + 1, j) >= cohort.min_weeks_on_transfers
        if cohort.max_weeks_cash_benefit is not None:
            ok &= window(cash, j - lc, j) <= cohort.max_weeks_cash_benefit
        monday = calendar.monday_of_dream_week(int(w))
        for day in (monday, monday + dt.timedelta(days=6)):
            age = _age_years(view.birth, day)
            ok &= (age >= cohort.age_min) & (age <= cohort.age_max)
        if cohort.municipality:
            for year in {(monday + dt.timedelta(days=d)).year for d in (0, 3, 6)}:
                ok &= np.isin(view.municipality_in(year), cohort.municipality)
        out[:, k] = ok
    return out


@dataclass
class Selection:
    """Screened persons and their inclusion."""

    rows: np.ndarray  # extract row of each screened person
    screening_date: np.ndarray  # datetime64[D]
    included: np.ndarray  # bool
    exclusion_reason: np.ndarray  # object ('' when included)
    inclusion_date: np.ndarray  # datetime64[D] (NaT when excluded)
    index_week: np.ndarray  # DREAM week of the inclusion date (-1 when excluded)

    def frame(self, pnr: np.ndarray) -> pd.DataFrame:
        """Return the screening form."""
        return pd.DataFrame(
            {
                "PNR": pnr[self.rows],
                "screening_date": pd.to_datetime(self.screening_date).strftime("%Y-%m-%d"),
                "included": self.included.astype(int),
                "exclusion_reason": self.exclusion_reason,
                "inclusion_date": pd.Series(pd.to_datetime(self.inclusion_date)).dt.strftime("%Y-%m-%d").fillna(""),
                "group": np.where(self.included, "intervention", ""),
            }
        ).sort_values(["screening_date", "PNR"], kind="stable").reset_index(drop=True)


EXCLUSION_REASONS = ("exempt_from_activation", "in_medical_treatment", "other_project", "expected_clarified_3m",
                     "declined")
EXCLUSION_WEIGHTS = np.array([0.15, 0.30, 0.15, 0.15, 0.25])
