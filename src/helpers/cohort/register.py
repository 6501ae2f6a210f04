"""Register data at index weeks: the weekly store aligned with persons, residence and employment.

:func:`prepare_register` aligns the processed store (persons, residence, weekly codes,
monthly employment) on the weekly store's rows and builds the study's code lookups; the
functions below read values *at an index week* ``w`` for (row, week) pairs:

- :func:`age_at`: age in completed years on the Monday of ``w``;
- :func:`municipality_at`: municipality of residence in the calendar year of ``w``;
- :func:`code_at`: the weekly code of a week (``w - 1`` is the **baseline week**);
- :func:`history_counts`: weeks on public transfers / cash benefit / with employment among
  the ``L`` weeks before ``w``;
- :func:`current_spell_weeks`: consecutive weeks on a public transfer up to ``w - 1``;
- :func:`covariates_at`: all covariates at index (age, sex, weeks on transfers in the last
  52/104/156 weeks, weeks on cash benefit in the last 26/52/156, weeks employed (month of the
  week's Thursday with employment) in the last 156, the baseline week's benefit category,
  subcategory and activity (and whether that activity is an active measure such as guidance,
  education, wage subsidy or a work placement), and the municipality), plus the look-back
  counts the criteria use (:mod:`helpers.cohort.eligibility`).

"On public transfers" = a week that is not self-supported (code other than empty and
``data.self_support.extra_codes``) and not an exit code (997/998/999) and inside the
extract. Weeks before the extract starts count as not on transfers / not on cash benefit.
"On cash benefit" = the ``cash_benefit`` code category (kontanthjælp, uddannelseshjælp,
integrationsydelse) or ``cohort.cash_benefit_subcategories``; seed 000 says "modtaget
kontanthjælp i højst 5 år", so ressourceforløbsydelse weeks do not count as cash benefit
(they do count as public transfers).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.core import calendar, store
from helpers.core.codes import (
    CATEGORIES,
    DEAD,
    EMIGRATED,
    MAX_CODE,
    STATE_PENSION,
    CodeBook,
)
from helpers.core.progress import bar
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.outcomes import status

#: Longest current spell counted by ``current_spell_weeks``.
SPELL_CAP = 156
#: Activity types of DREAM codes that are not an active labour-market measure.
PASSIVE_ACTIVITIES = ("passiv", "passiv_or_na", "none")


class CohortError(ValueError):
    """Inputs that cannot give a cohort (bad screening form, no intervention persons, ...)."""


# ============================================================================ register arrays
@dataclass
class Register:
    """Register data aligned on the rows of the weekly store, with the study's code lookups.

    Built by :func:`prepare_register`; every array has one entry per row of ``weekly``.
    """

    weekly: WeeklyStatus
    monthly: MonthlyEmployment | None
    monthly_row: np.ndarray
    birth: np.ndarray
    sex: np.ndarray
    residence: np.ndarray
    residence_first_year: int
    codebook: CodeBook
    transfer: np.ndarray
    cash: np.ndarray
    target: np.ndarray
    category_of: np.ndarray
    subcategory_of: np.ndarray
    activity_of: np.ndarray
    #: age in years on ``age_reference_date`` (NaN unknown), from ``data.dream.age_column``; used
    #: for persons without a birth date
    age_ref: np.ndarray | None = None
    age_reference_date: np.datetime64 | None = None

    @property
    def n(self) -> int:
        """Number of persons."""
        return len(self.weekly.person_id)


def code_lookups(codebook: CodeBook, cohort_cfg, extra_codes: Sequence[int] = (121, 122, 123)) -> dict[str, np.ndarray]:
    """Boolean code tables (length 1000) for "on public transfers", "cash benefit" and "target benefit"."""
    exits = np.zeros(MAX_CODE, dtype=bool)
    exits[[EMIGRATED, STATE_PENSION, DEAD]] = True
    transfer = ~status.self_support_lookup(codebook, extra_codes) & ~exits
    cash_subs = cohort_cfg.cash_benefit_subcategories
    cash = (codebook.codes_where(subcategories=cash_subs) if cash_subs
            else codebook.codes_where(categories=["cash_benefit"]))
    target = codebook.codes_where(subcategories=cohort_cfg.target_subcategories)
    checks = [("target_subcategories", target, cohort_cfg.target_subcategories)]
    if cash_subs:
        checks.append(("cash_benefit_subcategories", cash, cash_subs))
    for name, lookup, subs in checks:
        known = set(codebook.table["subcategory"])
        unknown = [s for s in subs if s not in known]
        if unknown:
            raise CohortError(f"cohort.{name}: unknown code subcategories {unknown}; "
                              f"known: {sorted(x for x in known if x)}")
        if not lookup.any():
            raise CohortError(f"cohort.{name}: no DREAM code has these subcategories")
    return {"transfer": transfer, "cash": cash, "target": target}


def _code_labels(codebook: CodeBook) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cats = np.asarray(CATEGORIES, dtype=object)[codebook.categories(np.arange(MAX_CODE))]
    sub = cats.copy()
    act = np.full(MAX_CODE, "none", dtype=object)
    t = codebook.table
    for code, s, a in zip(t["code"].to_numpy(), t["subcategory"], t["activity"], strict=True):
        if s:
            sub[code] = s
        act[code] = a or "none"
    sub[0] = "none"
    return cats, sub, act


def prepare_register(study, persons: pd.DataFrame, residence: pd.DataFrame, weekly: WeeklyStatus,
                     monthly: MonthlyEmployment | None, codebook: CodeBook | None = None, *,
                     check_residence: bool = True) -> Register:
    """Align persons, residence and monthly employment on the weekly store's rows.

    ``check_residence=False`` leaves out :func:`require_residence` (a block of the store may
    hold nobody with a residence; the streaming build checks the whole pool).

    Raises
    ------
    CohortError
        When a required column is missing or a person appears twice in ``persons``.
    """
    _require(persons, ["person_id", "sex", "birth_date"], "persons.parquet")
    _require(residence, ["person_id", "year", "municipality"], "residence.parquet")
    dup = persons["person_id"].duplicated()
    if dup.any():
        raise CohortError(f"persons.parquet: {int(dup.sum())} person_id values occur more than once "
                          f"(first at row {int(np.flatnonzero(dup)[0])}); re-run 01_ingest")
    codebook = codebook or CodeBook.default(study.data.category_overrides)
    index = pd.Index(weekly.person_id)
    p = persons.set_index("person_id").reindex(index)
    birth = pd.to_datetime(p["birth_date"], errors="coerce").to_numpy(dtype="datetime64[D]")
    sex = pd.to_numeric(p["sex"], errors="coerce").to_numpy(dtype=float)
    ref_date = getattr(study.data.dream, "age_reference_date", None)
    age_ref = None
    if "age" in p.columns and ref_date is not None:
        age_ref = pd.to_numeric(p["age"], errors="coerce").to_numpy(dtype=float)
    rows = store.rows_of(index, residence["person_id"])
    years = pd.to_numeric(residence["year"], errors="coerce").to_numpy()
    ok = (rows >= 0) & ~np.isnan(years.astype(float))
    ccfg = study.cohort
    if check_residence:
        require_residence(ccfg, bool(ok.any()))
    if ok.any():
        y0, y1 = int(np.nanmin(years[ok])), int(np.nanmax(years[ok]))
    else:
        y0 = y1 = 0
    res = np.full((len(index), y1 - y0 + 1), -1, dtype=np.int32)
    mun = pd.to_numeric(residence["municipality"], errors="coerce").fillna(-1).to_numpy(dtype=np.int32)
    res[rows[ok], years[ok].astype(int) - y0] = mun[ok]
    mrow = (pd.Index(monthly.person_id).get_indexer(index) if monthly is not None
            else np.full(len(index), -1, dtype=np.int64))
    lookups = code_lookups(codebook, study.cohort, study.data.self_support.extra_codes)
    cats, sub, act = _code_labels(codebook)
    return Register(weekly=weekly, monthly=monthly, monthly_row=np.asarray(mrow, dtype=np.int64), birth=birth,
                    sex=sex, residence=res, residence_first_year=y0, codebook=codebook, category_of=cats,
                    subcategory_of=sub, activity_of=act, age_ref=age_ref,
                    age_reference_date=None if age_ref is None else np.datetime64(ref_date, "D"), **lookups)


def require_residence(cohort_cfg, linked: bool) -> None:
    """Raise when the criteria select on municipality and no register person has a residence (``linked``)."""
    if (cohort_cfg.municipality or cohort_cfg.control_municipalities) and not linked:
        raise CohortError(
            "residence.parquet: no person has a municipality of residence, but cohort.municipality selects on it, so "
            "every person would fail the criterion; map the residence column(s) in data.dream (municipality_prefix, "
            "municipality_column or municipality_assumed) and re-run 01_ingest, or set cohort.municipality: []"
        )


def _require(frame: pd.DataFrame, cols: Sequence[str], name: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise CohortError(f"{name}: column(s) {missing} missing (has {list(frame.columns)}); re-run 01_ingest")


# ============================================================================ values at index
def _ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(dates, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y, m, day


def monday_dates(weeks: np.ndarray) -> np.ndarray:
    """Monday (datetime64[D]) of each DREAM week."""
    epoch = np.datetime64(calendar.DREAM_EPOCH.isoformat(), "D")
    return epoch + 7 * (np.asarray(weeks, dtype=np.int64) - 1)


def age_at(reg: Register, rows: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Age in completed years on the Monday of each index week (NaN without a birth date or age).

    From the birth date when there is one. Otherwise from the age ``A`` on the reference date
    ``R`` (``data.dream.age_column`` / ``age_reference_date``): the person was born in the year
    before ``R - A`` years, taken at its middle, so the age on date ``D`` is
    ``floor(A + 0.5 + (D - R) / 365.25)`` (at most half a year off; ``A`` itself on ``R``).
    """
    b = reg.birth[rows]
    nat = np.isnat(b)
    by, bm, bd = _ymd(np.where(nat, np.datetime64("2000-01-01"), b))
    mondays = monday_dates(weeks)
    iy, im, idd = _ymd(mondays)
    age = (iy - by - ((im < bm) | ((im == bm) & (idd < bd)))).astype(float)
    age[nat] = np.nan
    if reg.age_ref is not None and nat.any():
        given = reg.age_ref[rows]
        days = (np.asarray(mondays, dtype="datetime64[D]") - reg.age_reference_date).astype(np.int64)
        approx = np.floor(given + 0.5 + days / 365.25)
        use = nat & ~np.isnan(given)
        age[use] = approx[use]
    return age


def municipality_at(reg: Register, rows: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Municipality of residence in the calendar year of each index week (-1 unknown)."""
    years = calendar.months_of_dream_weeks(weeks) // 12
    col = years - reg.residence_first_year
    inside = (col >= 0) & (col < reg.residence.shape[1])
    out = np.full(len(rows), -1, dtype=np.int32)
    out[inside] = reg.residence[rows[inside], col[inside]]
    return out


def code_at(reg: Register, rows: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Weekly code in DREAM week ``weeks`` of each row (:data:`NO_DATA` outside the extract)."""
    col = np.asarray(weeks, dtype=np.int64) - reg.weekly.first_week
    inside = (col >= 0) & (col < reg.weekly.n_weeks)
    out = np.full(len(rows), NO_DATA, dtype=np.int16)
    out[inside] = reg.weekly.codes[rows[inside], col[inside]]
    return out


def history_counts(reg: Register, rows: np.ndarray, weeks: np.ndarray, specs: Sequence[tuple[str, str, int]],
                   *, block: int = 25_000, lookups: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Number of weeks with a status among the ``L`` weeks before each index week.

    Parameters
    ----------
    reg : Register
    rows, weeks : ndarray
        Pairs (weekly row, DREAM index week); a row may appear with several weeks.
    specs : sequence of (name, kind, L)
        ``kind`` is ``"transfer"``, ``"cash"`` (code lookups of :func:`code_lookups`) or
        ``"employed"`` (month of the week's Thursday has employment degree > 0); the count
        covers weeks ``index - L .. index - 1``; weeks outside the data count as 0.
    lookups : mapping of str to ndarray, optional
        Further kinds: a boolean code lookup (length 1000, e.g. ``CodeBook.codes_where``) per
        kind name, counted like ``"transfer"``.

    Notes
    -----
    Vectorised with cumulative sums: persons are processed in blocks; per block the codes of
    the needed week range are classified once (:func:`helpers.outcomes.status.code_mask`) and every
    pair's window sum is a difference of two cumulative counts.
    """
    rows = np.asarray(rows, dtype=np.int64)
    weeks = np.asarray(weeks, dtype=np.int64)
    out = {name: np.zeros(len(rows), dtype=np.int32) for name, _, _ in specs}
    if not len(rows) or not specs:
        return out
    w0, nw = reg.weekly.first_week, reg.weekly.n_weeks
    lmax = max(L for _, _, L in specs)
    kinds = sorted({k for _, k, _ in specs})
    order = np.argsort(rows, kind="stable")
    uniq, first = np.unique(rows[order], return_index=True)
    bounds = np.r_[first, len(rows)]
    for b in bar(range(0, len(uniq), block), desc="covariates at index weeks", unit="block"):
        ub = uniq[b:b + block]
        sel = order[bounds[b]:bounds[min(b + block, len(uniq))]]
        local = np.searchsorted(ub, rows[sel])
        w = weeks[sel]
        lo = int(np.clip(w.min() - lmax - w0, 0, nw))
        hi = int(np.clip(w.max() - w0, 0, nw))
        if hi <= lo:
            continue
        codes = reg.weekly.codes[ub, lo:hi]
        ncol = hi - lo
        end = np.clip(w - w0 - lo, 0, ncol)
        for kind in kinds:
            if kind == "employed":
                mask = _employed_block(reg, ub, np.arange(w0 + lo, w0 + hi))
            else:
                mask = status.code_mask(codes, lookups[kind] if lookups and kind in lookups else getattr(reg, kind))
            dtype = np.int16 if ncol < 32_000 else np.int32
            cs = np.zeros((len(ub), ncol + 1), dtype=dtype)
            np.cumsum(mask, axis=1, dtype=dtype, out=cs[:, 1:])
            for name, k, L in specs:
                if k != kind:
                    continue
                start = np.clip(w - L - w0 - lo, 0, ncol)
                out[name][sel] = cs[local, end].astype(np.int32) - cs[local, start]
    return out


def _employed_block(reg: Register, rows: np.ndarray, dream_weeks: np.ndarray) -> np.ndarray:
    if reg.monthly is None:
        return np.zeros((len(rows), len(dream_weeks)), dtype=bool)
    mrow = reg.monthly_row[rows]
    has = mrow >= 0
    emp = reg.monthly.employed_in_weeks(np.where(has, mrow, 0), dream_weeks[None, :])
    return emp & has[:, None]


def covariates_at(reg: Register, rows: np.ndarray, weeks: np.ndarray, cohort_cfg) -> pd.DataFrame:
    """Covariates of each (row, index week) pair, plus the helper counts used by the criteria.

    Returns
    -------
    DataFrame
        ``age, sex, weeks_transfer_52/104/156, weeks_cash_benefit_156, weeks_employed_156,
        benefit_category, benefit_subcategory, activity, municipality, baseline_code,
        transfer_lookback, cash_lookback``.
    """
    rows = np.asarray(rows, dtype=np.int64)
    weeks = np.asarray(weeks, dtype=np.int64)
    specs = [("weeks_transfer_52", "transfer", 52), ("weeks_transfer_104", "transfer", 104),
             ("weeks_transfer_156", "transfer", 156), ("transfer_lookback", "transfer", cohort_cfg.transfers_lookback_weeks),
             ("weeks_cash_benefit_156", "cash", 156), ("cash_lookback", "cash", cohort_cfg.cash_benefit_lookback_weeks),
             ("weeks_employed_156", "employed", 156), ("weeks_cash_benefit_26", "cash", 26),
             ("weeks_cash_benefit_52", "cash", 52)]
    counts = history_counts(reg, rows, weeks, specs)
    base = code_at(reg, rows, weeks - 1)
    safe = np.where(base >= 0, base, 0)
    frame = pd.DataFrame({
        "age": age_at(reg, rows, weeks),
        "sex": pd.array(np.where(np.isnan(reg.sex[rows]), np.nan, reg.sex[rows]), dtype="Int8"),
        **{name: counts[name] for name, _, _ in specs[:3]},
        "weeks_cash_benefit_156": counts["weeks_cash_benefit_156"],
        "weeks_cash_benefit_26": counts["weeks_cash_benefit_26"],
        "weeks_cash_benefit_52": counts["weeks_cash_benefit_52"],
        "current_spell_weeks": current_spell_weeks(reg, rows, weeks),
        "weeks_employed_156": counts["weeks_employed_156"],
        "benefit_category": np.where(base >= 0, reg.category_of[safe], "no_data"),
        "benefit_subcategory": np.where(base >= 0, reg.subcategory_of[safe], "no_data"),
        "activity": np.where(base >= 0, reg.activity_of[safe], "no_data"),
        "active_measure": ((base > 0) & ~np.isin(reg.activity_of[safe], list(PASSIVE_ACTIVITIES))).astype(np.int8),
        "municipality": municipality_at(reg, rows, weeks),
        "baseline_code": base,
        "transfer_lookback": counts["transfer_lookback"],
        "cash_lookback": counts["cash_lookback"],
    })
    return frame


def current_spell_weeks(reg: Register, rows: np.ndarray, weeks: np.ndarray, cap: int = SPELL_CAP) -> np.ndarray:
    """Consecutive weeks on any public transfer ending with the week before the index week.

    0 when the person was self-supporting in the week before; at most ``cap`` (weeks
    before the extract count as not on a transfer). The duration of the current spell is a
    strong predictor of leaving benefits soon, so risk-set matching can use it.
    """
    rows = np.asarray(rows, dtype=np.int64)
    weeks = np.asarray(weeks, dtype=np.int64)
    if not len(rows):
        return np.zeros(0, dtype=np.int32)
    out = np.empty(len(rows), dtype=np.int32)
    for b in range(0, len(rows), 100_000):
        sl = slice(b, b + 100_000)
        codes = status.aligned_codes(reg.weekly, rows[sl], weeks[sl], -cap, 0)
        on = status.code_mask(codes, reg.transfer)[:, ::-1]
        first_off = status.first_true(~on)
        out[sl] = np.where(first_off < 0, cap, first_off)
    return out
