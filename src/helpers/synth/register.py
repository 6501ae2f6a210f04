"""A small synthetic register for tests and benchmarks, in memory (the full generator: :mod:`helpers.synth.generator`).

:func:`synthetic_register` builds the processed-store inputs of the cohort stage (persons,
residence, weekly codes, monthly employment, screening form) directly, with a known selection
bias; :func:`synthetic_study` is the demo study's settings with a chosen matching method.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.cohort.eligibility import SCREENING_REASONS
from helpers.cohort.register import CohortError, monday_dates
from helpers.config import load_study
from helpers.core import calendar
from helpers.core.store import MonthlyEmployment, WeeklyStatus


def synthetic_register(n_pool: int = 20_000, n_treated: int = 50, seed: int = 5, *, n_index_weeks: int = 25,
                       first_year: int = 2008, last_year: int = 2025) -> dict:
    """A simple register for benchmarks and tests: persons, residence, weekly, monthly, screening.

    Weekly codes come in 13-week blocks: a third of the persons are long-term cash-benefit
    recipients (kontanthjælp 730/733 in most blocks from an onset between 2008 and 2016), the
    rest mostly self-supported with spells of UI (111) and sickness benefit (890). The
    ``n_treated`` intervention persons are drawn among persons who meet the demo criteria at
    an index week in ``n_index_weeks`` distinct weeks from 2016-12-05, with a selection bias
    (probability increasing with weeks on cash benefit in the last 156 weeks), so the
    unmatched groups differ; the other ``n_pool`` persons are the register pool.
    """
    rng = np.random.default_rng(seed)
    n = n_pool + n_treated
    weeks = calendar.dream_week_range(first_year, last_year)
    n_weeks = len(weeks)
    n_blocks = -(-n_weeks // 13)
    longterm = rng.random(n) < 1 / 3
    onset = np.where(longterm, rng.integers(0, 9 * 4, n), n_blocks)
    p_cash = np.where(longterm, rng.uniform(0.6, 0.97, n), rng.uniform(0.0, 0.1, n))
    after = np.arange(n_blocks)[None, :] >= onset[:, None]
    p = np.where(after, p_cash[:, None], np.minimum(p_cash[:, None], 0.1))
    u = rng.random((n, n_blocks))
    block_codes = np.where(u < p, np.where(rng.random((n, n_blocks)) < 0.7, 730, 733),
                           np.where(u < p + 0.1, np.where(rng.random((n, n_blocks)) < 0.5, 111, 890), 0))
    codes = np.repeat(block_codes.astype(np.int16), 13, axis=1)[:, :n_weeks]
    person_id = np.array([f"{(i * 11400714819323198485) % 2**64:016x}" for i in range(1, n + 1)], dtype=object)
    weekly = WeeklyStatus(person_id=person_id, first_week=int(weeks[0]), codes=codes)
    first_month = calendar.month_index(first_year, 1)
    n_months = (last_year - first_year + 1) * 12
    month_first_week = np.searchsorted(calendar.months_of_dream_weeks(weeks), first_month + np.arange(n_months))
    month_first_week = np.clip(month_first_week, 0, n_weeks - 1)
    employed = (codes[:, month_first_week] == 0) & (rng.random((n, n_months)) < 0.8)
    degree = np.where(employed, np.float32(1.0), np.float32(np.nan)).astype(np.float32)
    monthly = MonthlyEmployment(person_id=person_id, first_month=first_month, degree=degree)
    birth = np.datetime64("1952-01-01") + rng.integers(0, 365 * 45, n).astype("timedelta64[D]")
    persons = pd.DataFrame({"person_id": person_id, "sex": rng.integers(1, 3, n).astype(np.int8),
                            "birth_date": pd.to_datetime(birth)})
    years = np.arange(first_year, last_year + 1)
    residence = pd.DataFrame({"person_id": np.repeat(person_id, len(years)), "year": np.tile(years, n).astype(np.int16),
                              "municipality": np.int16(183)})
    start = calendar.dream_week_of_date("2016-12-05")
    idx_weeks = start + np.sort(rng.choice(26, size=min(n_index_weeks, 26), replace=False))
    # candidates for the intervention group: long-term recipients meeting the demo criteria at a random index week
    cand = np.flatnonzero(longterm)
    wk = idx_weeks[rng.integers(0, len(idx_weeks), cand.size)]
    cols = (wk - weekly.first_week)[:, None] + np.arange(-520, 0)[None, :]
    win = codes[cand[:, None], np.clip(cols, 0, n_weeks - 1)] * (cols >= 0)
    cash = np.isin(win, (730, 733))
    ok = cash[:, -1] & (win[:, -52:] != 0).all(axis=1) & (cash.sum(axis=1) <= 260)
    cash156 = cash[:, -156:].sum(axis=1)
    weight = np.where(ok, np.exp(0.02 * cash156), 0.0)
    if int(ok.sum()) < n_treated:
        raise CohortError(f"synthetic_register: only {int(ok.sum())} eligible persons for {n_treated} treated")
    pick = rng.choice(cand.size, size=n_treated, replace=False, p=weight / weight.sum())
    t_rows, inc_weeks = cand[pick], wk[pick]
    treated_ids = person_id[t_rows]
    pool_rows = np.setdiff1d(np.arange(n), t_rows)
    inc_dates = monday_dates(inc_weeks)
    n_excl = max(n_treated // 2, 1)
    excl_rows = rng.choice(pool_rows, n_excl, replace=False)
    screening = pd.DataFrame({
        "person_id": np.r_[treated_ids, person_id[excl_rows]],
        "screening_date": pd.to_datetime(np.r_[inc_dates, np.repeat(inc_dates[:1], n_excl)]) - pd.Timedelta(days=14),
        "included": np.r_[np.ones(n_treated, int), np.zeros(n_excl, int)],
        "exclusion_reason": np.r_[np.full(n_treated, ""), rng.choice(SCREENING_REASONS, n_excl)],
        "inclusion_date": pd.to_datetime(np.r_[inc_dates, np.full(n_excl, np.datetime64("NaT"), dtype="datetime64[D]")]),
        "group": np.r_[np.full(n_treated, "intervention"), np.full(n_excl, "")],
    })
    return {"persons": persons, "residence": residence, "weekly": weekly, "monthly": monthly, "screening": screening}


def synthetic_study(method: str = "exact", seed: int = 5):
    """The demo study's settings with ``matching.method`` set (nearest: 1:2, exact on sex, caliper 0.2)."""
    base = load_study("demo")
    m = base.matching.model_dump()
    if method == "nearest":
        m.update(method="nearest", ratio=2, exact=["sex"], strata={}, caliper=0.2, allow_unmatched=True)
    else:
        m.update(method="exact", allow_unmatched=True)
    meta = base.study.model_copy(update={"seed": seed})
    return base.model_copy(update={"matching": type(base.matching)(**m), "study": meta})
