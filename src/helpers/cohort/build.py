"""Study population: eligibility at index weeks, covariates at index, matched controls, attrition log.

The design (seed 000: "tilfældigt udvalgt ... matchet til målgruppen"; seed 003: the groups
should "ligne hinanden mest muligt") is a register-matched comparison with **risk-set
matching**:

1. *Intervention group.* Everyone on the screening form is counted; each exclusion reason
   on the form is an attrition step. Included persons get their **index week** = the DREAM
   week of ``inclusion_date``. Persons not found in the register are excluded (logged).
   The register criteria are then checked at the index week. By default
   (``cohort.intervention_failing_criteria: keep``) persons who fail a criterion **stay in the
   analysis** (intention to treat: the caseworkers included them) and are *counted* per
   criterion in the log (``n_flagged``); ``exclude`` removes them instead.
2. *Control candidates.* Every register person who was never screened
   (``cohort.controls_from: not_screened``; seed 000 draws controls from the register, so
   anyone the project looked at is left out) is evaluated **at each distinct intervention
   index week**: a candidate row is a (person, week) pair that meets every criterion at
   that calendar week, so a control is eligible at the time of the person it matches and
   has not already left benefits.
3. *Criteria* (study YAML ``cohort:``), at index week ``w``: age ``age_min..age_max`` on the
   Monday of ``w``; resident in ``municipality`` in the calendar year of ``w``; on a target
   benefit (``target_subcategories``, e.g. kontanthjælp, uddannelseshjælp,
   ressourceforløbsydelse) in the **baseline week** ``w - 1``; at least
   ``min_weeks_on_transfers`` weeks on public transfers among the
   ``transfers_lookback_weeks`` weeks before ``w``; at most ``max_weeks_cash_benefit``
   weeks on cash benefit (the ``cash_benefit`` code category: kontanthjælp,
   uddannelseshjælp, integrationsydelse; or ``cash_benefit_subcategories``) among the
   ``cash_benefit_lookback_weeks`` weeks before ``w``. Seed 000 says "modtaget kontanthjælp
   i højst 5 år", so ressourceforløbsydelse weeks do not count as cash benefit (they do
   count as public transfers).
   "On public transfers" = a week that is not self-supported (code other than empty and
   ``data.self_support.extra_codes``) and not an exit code (997/998/999) and inside the
   extract. Weeks before the extract starts count as not on transfers / not on cash
   benefit (a note says when a lookback reaches before the extract).
4. *Covariates at index* (all from weeks before ``w``): age, sex, weeks on transfers in the
   last 52/104/156 weeks, weeks on cash benefit in the last 156, weeks employed (month of
   the week's Thursday with employment) in the last 156, the baseline week's benefit
   category, subcategory and activity (and whether that activity is an active measure such as
   guidance, education, wage subsidy or a work placement), and the municipality.
5. *Matching* (:mod:`helpers.cohort.matching`), then balance before and after
   (:mod:`helpers.cohort.balance`), then follow-up flags (exit or end of data before the end of
   the programme, ``index + programme_weeks``), which are reported but do not remove
   anyone (the outcome stages handle them).

Every step is one row of the attrition log (``step, stage, group, n_before, n_excluded,
n_after, n_flagged, reason``); the attrition table and the flow diagram are both drawn
from it (:func:`mask_attrition`, :func:`attrition_display`, :func:`flow_boxes`).
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers import disclosure
from helpers.cohort import balance, matching
from helpers.core import atomic, calendar
from helpers.core.codes import (
    CATEGORIES,
    DEAD,
    EMIGRATED,
    MAX_CODE,
    STATE_PENSION,
    CodeBook,
)
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.outcomes import status

GROUPS = ("intervention", "control")

#: Screening-form exclusion reasons in the order they are logged (docs/architecture.md).
SCREENING_REASONS = (
    "not_eligible_age",
    "exempt_from_activation",
    "in_medical_treatment",
    "other_project",
    "expected_clarified_3m",
    "declined",
)

#: Register criteria in the order they are applied.
RULES = ("age", "municipality", "current_benefit", "transfers", "cash_benefit_max")

#: Columns of the attrition log.
ATTRITION_COLUMNS = ["step", "stage", "group", "n_before", "n_excluded", "n_after", "n_flagged", "reason"]

#: Columns written to cohort.parquet (contract: docs/architecture.md).
COHORT_COLUMNS = [
    "person_id", "group", "index_week", "matched_set", "weight",
    "age", "sex", "weeks_transfer_52", "weeks_transfer_104", "weeks_transfer_156",
    "weeks_cash_benefit_156", "weeks_cash_benefit_26", "weeks_cash_benefit_52", "current_spell_weeks",
    "weeks_employed_156", "benefit_category", "benefit_subcategory",
    "activity", "active_measure", "municipality", "distance", "meets_criteria",
]

REASON_LABELS: dict[str, tuple[str, str]] = {
    "screened": ("Screened for the programme", "Visiteret til screening"),
    "not_eligible_age": ("Not eligible: age", "Ikke målgruppe: alder"),
    "exempt_from_activation": ("Exempt from activation", "Fritaget for aktivering"),
    "in_medical_treatment": ("In medical treatment or assessment", "I lægelig behandling eller udredning"),
    "other_project": ("In another project", "Deltager i andet projekt"),
    "expected_clarified_3m": ("Expected clarified within 3 months", "Forventes afklaret inden for 3 måneder"),
    "declined": ("Declined", "Takkede nej"),
    "not_included_other": ("Not included, other/no reason given", "Ikke inkluderet, anden/ingen årsag"),
    "not_in_register": ("Not found in the register data", "Ikke fundet i registerdata"),
    "register_pool": ("Persons in the register extract", "Personer i registerudtrækket"),
    "screened_for_programme": ("Screened for the programme (not eligible as control)",
                               "Screenet til projektet (kan ikke være kontrol)"),
    "age": ("Age outside the range at the index week", "Alder uden for intervallet i indeksugen"),
    "municipality": ("Not resident in the municipality", "Ikke bosat i kommunen"),
    "current_benefit": ("Not on a target benefit in the week before index (or in the index week)",
                        "Ikke på målgruppeydelse ugen før indeks (eller i indeksugen)"),
    "transfers": ("Too few weeks on public transfers", "For få uger på offentlig forsørgelse"),
    "cash_benefit_max": ("Too many weeks on cash benefit", "For mange uger på kontanthjælp"),
    "any_criterion": ("Fails at least one register criterion (kept, ITT)",
                      "Opfylder ikke mindst ét registerkriterium (beholdt, ITT)"),
    "unmatched": ("No control found", "Ingen kontrolperson fundet"),
    "unmatched_no_candidates": ("No eligible control at the index week / stratum",
                                "Ingen egnet kontrolperson i indeksugen/stratum"),
    "unmatched_exhausted": ("Eligible controls already used", "Egnede kontrolpersoner allerede brugt"),
    "unmatched_caliper": ("No control within the caliper", "Ingen kontrolperson inden for caliper"),
    "unmatched_outside_strata": ("Outside the matching strata", "Uden for matchningsstrata"),
    "not_selected": ("Eligible but not drawn as control", "Egnet, men ikke udtrukket som kontrol"),
    "exit_before_fu": ("Died, emigrated or state pension before end of programme (handled in outcomes)",
                       "Død, udvandret eller folkepension før forløbsafslutning (håndteres i effektmål)"),
    "data_end_before_fu": ("Register data end before end of programme", "Registerdata slutter før forløbsafslutning"),
    "analysed": ("Analysed", "Analyseret"),
}

STAGE_LABELS: dict[str, tuple[str, str]] = {
    "screening": ("Included in the programme", "Inkluderet i forløbet"),
    "register": ("Not screened for the programme", "Ikke screenet til projektet"),
    "linkage": ("Linked to register data", "Koblet til registerdata"),
    "eligibility": ("Eligible at the index week", "Egnet i indeksugen"),
    "matching": ("Matched", "Matchet"),
    "follow_up": ("Followed up", "Fulgt op"),
    "analysis": ("Analysed", "Analyseret"),
}
START_LABELS = {
    "intervention": ("Screened for the programme", "Screenet til forløbet"),
    "control": ("Register population", "Registerpopulation"),
}

COVARIATE_LABELS: dict[str, tuple[str, str]] = {
    "distance": ("Propensity score (distance)", "Propensity score (afstand)"),
    "age": ("Age, years", "Alder, år"),
    "sex": ("Sex", "Køn"),
    "weeks_transfer_52": ("Weeks on public transfers, last 52", "Uger på offentlig forsørgelse, seneste 52"),
    "weeks_transfer_104": ("Weeks on public transfers, last 104", "Uger på offentlig forsørgelse, seneste 104"),
    "weeks_transfer_156": ("Weeks on public transfers, last 156", "Uger på offentlig forsørgelse, seneste 156"),
    "weeks_cash_benefit_156": ("Weeks on cash benefit, last 156", "Uger på kontanthjælp mv., seneste 156"),
    "weeks_cash_benefit_26": ("Weeks on cash benefit, last 26", "Uger på kontanthjælp mv., seneste 26"),
    "weeks_cash_benefit_52": ("Weeks on cash benefit, last 52", "Uger på kontanthjælp mv., seneste 52"),
    "current_spell_weeks": ("Weeks in the current spell on public transfers (up to 156)",
                            "Uger i det aktuelle forløb på offentlig forsørgelse (op til 156)"),
    "weeks_employed_156": ("Weeks with employment, last 156", "Uger med beskæftigelse, seneste 156"),
    "benefit_category": ("Benefit category (week before index)", "Ydelseskategori (ugen før indeks)"),
    "benefit_subcategory": ("Benefit (week before index)", "Ydelse (ugen før indeks)"),
    "activity": ("Activity (week before index)", "Aktivitet (ugen før indeks)"),
    "active_measure": ("In an active measure (week before index)", "I aktivt tilbud (ugen før indeks)"),
    "municipality": ("Municipality", "Kommune"),
}
LEVEL_LABELS: dict[str, dict] = {
    "sex": {1: ("Male", "Mand"), 2: ("Female", "Kvinde"), "1": ("Male", "Mand"), "2": ("Female", "Kvinde")},
}
#: Covariates that describe benefit history (the brief's balance target |SMD| < 0.1).
HISTORY_COVARIATES = ("weeks_transfer_52", "weeks_transfer_104", "weeks_transfer_156",
                      "weeks_cash_benefit_156", "weeks_cash_benefit_26", "weeks_cash_benefit_52",
                      "current_spell_weeks", "weeks_employed_156")
#: Longest current spell counted by ``current_spell_weeks``.
SPELL_CAP = 156
#: Activity types of DREAM codes that are not an active labour-market measure.
PASSIVE_ACTIVITIES = ("passiv", "passiv_or_na", "none")
#: Numeric covariates shown as categories in balance tables.
CATEGORICAL_NUMERIC = ("sex", "municipality")


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
                     monthly: MonthlyEmployment | None, codebook: CodeBook | None = None) -> Register:
    """Align persons, residence and monthly employment on the weekly store's rows.

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
    rows = index.get_indexer(residence["person_id"])
    years = pd.to_numeric(residence["year"], errors="coerce").to_numpy()
    ok = (rows >= 0) & ~np.isnan(years.astype(float))
    ccfg = study.cohort
    if (ccfg.municipality or ccfg.control_municipalities) and not ok.any():
        raise CohortError(
            "residence.parquet: no person has a municipality of residence, but cohort.municipality selects on it, so "
            "every person would fail the criterion; map the residence column(s) in data.dream (municipality_prefix, "
            "municipality_column or municipality_assumed) and re-run 01_ingest, or set cohort.municipality: []"
        )
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
                   *, block: int = 25_000) -> dict[str, np.ndarray]:
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
    from helpers.core.progress import bar

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
                mask = status.code_mask(codes, getattr(reg, kind))
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


def criteria(frame: pd.DataFrame, cohort_cfg) -> pd.DataFrame:
    """Boolean column per register criterion (:data:`RULES`) for a :func:`covariates_at` frame."""
    out = pd.DataFrame(index=frame.index)
    age = frame["age"]
    out["age"] = (age >= cohort_cfg.age_min) & (age <= cohort_cfg.age_max)
    out["municipality"] = (frame["municipality"].isin(cohort_cfg.municipality) if cohort_cfg.municipality
                           else pd.Series(True, index=frame.index))
    out["current_benefit"] = frame["_target"] if "_target" in frame else True
    out["transfers"] = frame["transfer_lookback"] >= cohort_cfg.min_weeks_on_transfers
    out["cash_benefit_max"] = (frame["cash_lookback"] <= cohort_cfg.max_weeks_cash_benefit
                               if cohort_cfg.max_weeks_cash_benefit is not None else pd.Series(True, index=frame.index))
    return out.astype(bool)


def active_rules(cohort_cfg) -> list[str]:
    """Criteria that can exclude anyone under this configuration."""
    rules = ["age"]
    if cohort_cfg.municipality:
        rules.append("municipality")
    rules.append("current_benefit")
    if cohort_cfg.min_weeks_on_transfers > 0:
        rules.append("transfers")
    if cohort_cfg.max_weeks_cash_benefit is not None:
        rules.append("cash_benefit_max")
    return rules


# ============================================================================ attrition log
class AttritionLog:
    """Accumulates attrition rows; ``n_after = n_before - n_excluded``."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def add(self, stage: str, group: str, reason: str, n_before: int, n_excluded: int = 0, n_flagged: int = 0) -> int:
        """Append a step and return its ``n_after``."""
        n_after = int(n_before) - int(n_excluded)
        if n_after < 0:
            raise AssertionError(f"attrition step {reason}: excludes more persons than there are")
        self.rows.append({"step": len(self.rows) + 1, "stage": stage, "group": group, "n_before": int(n_before),
                          "n_excluded": int(n_excluded), "n_after": n_after, "n_flagged": int(n_flagged),
                          "reason": reason})
        return n_after

    def frame(self) -> pd.DataFrame:
        """The log as a data frame."""
        return pd.DataFrame(self.rows, columns=ATTRITION_COLUMNS)


# ============================================================================ screening form
def read_screening(screening: pd.DataFrame, *, name: str = "forms_screening.parquet") -> pd.DataFrame:
    """Validate the screening form and return it with a boolean ``included`` column.

    Raises
    ------
    CohortError
        Naming the file, column and row numbers (never IDs) of a problem: missing columns,
        ``included`` not 0/1, an included person without ``inclusion_date``, a group other
        than ``intervention``, or a person screened twice.
    """
    _require(screening, ["person_id", "included", "inclusion_date"], name)
    s = screening.reset_index(drop=True).copy()

    def rows_text(mask) -> str:
        idx = np.flatnonzero(np.asarray(mask))
        return ", ".join(str(i + 2) for i in idx[:5]) + (" ..." if len(idx) > 5 else "")

    inc = pd.to_numeric(s["included"], errors="coerce")
    bad = ~inc.isin([0, 1])
    if bad.any():
        raise CohortError(f"{name}: column 'included' must be 0 or 1; {int(bad.sum())} row(s) are not "
                          f"(data rows {rows_text(bad)}, counting the header as row 1)")
    s["included"] = inc.astype(int).astype(bool)
    s["inclusion_date"] = pd.to_datetime(s["inclusion_date"], errors="coerce")
    no_date = s["included"] & s["inclusion_date"].isna()
    if no_date.any():
        raise CohortError(f"{name}: column 'inclusion_date' is empty or not a date for {int(no_date.sum())} included "
                          f"person(s) (rows {rows_text(no_date)}); the index week comes from it")
    if "group" in s.columns:
        grp = s["group"].fillna("").astype(str).str.strip()
        wrong = s["included"] & ~grp.isin(["", "intervention"])
        if wrong.any():
            raise CohortError(f"{name}: column 'group' must be 'intervention' for included persons (controls come "
                              f"from the register); {int(wrong.sum())} row(s) differ (rows {rows_text(wrong)})")
    dup = s["person_id"].duplicated(keep=False)
    if dup.any():
        raise CohortError(f"{name}: {int(s['person_id'].duplicated().sum())} person(s) appear more than once "
                          f"(rows {rows_text(dup)}); keep one screening per person")
    if "exclusion_reason" not in s.columns:
        s["exclusion_reason"] = ""
    s["exclusion_reason"] = s["exclusion_reason"].fillna("").astype(str).str.strip()
    return s


# ============================================================================ build
@dataclass
class CohortResult:
    """Everything stage 02 produces.

    Attributes
    ----------
    cohort : DataFrame
        Analysis cohort (:data:`COHORT_COLUMNS`): one row per matched-set membership.
    attrition : DataFrame
        The attrition log (:data:`ATTRITION_COLUMNS`), unmasked.
    balance : DataFrame
        Balance before/after (:func:`helpers.cohort.balance.compare_balance`), unmasked.
    match_summary : dict
        :attr:`helpers.cohort.matching.MatchResult.summary` plus pool counts.
    unmatched : DataFrame
        Aggregated unmatched intervention persons by reason and stratum (no identifiers).
    notes : list of (en, da)
        Things the report should say (data coverage, persons kept despite failing criteria, ...).
    timings : dict
        Seconds per stage.
    candidates : DataFrame
        Eligible (person, index week) candidate rows with covariates (not written).
    """

    cohort: pd.DataFrame
    attrition: pd.DataFrame
    balance: pd.DataFrame
    match_summary: dict
    unmatched: pd.DataFrame
    notes: list[tuple[str, str]] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    candidates: pd.DataFrame | None = None
    balance_covariates: list[str] = field(default_factory=list)

    @property
    def balance_before(self) -> pd.DataFrame:
        """Balance rows of the unmatched sample."""
        return self.balance[self.balance["sample"] == "before"].reset_index(drop=True)

    @property
    def balance_after(self) -> pd.DataFrame:
        """Balance rows of the matched cohort."""
        return self.balance[self.balance["sample"] == "after"].reset_index(drop=True)


def build_cohort(study, persons: pd.DataFrame, residence: pd.DataFrame, weekly: WeeklyStatus,
                 monthly: MonthlyEmployment | None, screening: pd.DataFrame, *,
                 codebook: CodeBook | None = None) -> CohortResult:
    """Eligibility, index weeks, covariates, matched controls, balance and the attrition log.

    Parameters
    ----------
    study : Study
        The loaded study (``cohort``, ``matching``, ``study.seed``, ``data.self_support``).
    persons, residence, weekly, monthly, screening
        From :mod:`helpers.core.store` (``load_persons``, ``load_residence``, ``load_weekly``,
        ``load_monthly``, ``load_form(study, "screening")``).

    Returns
    -------
    CohortResult

    Raises
    ------
    CohortError
        Bad screening form, or no intervention person left to match.
    helpers.cohort.matching.MatchingError
        Some intervention person gets no control and ``matching.allow_unmatched`` is false.
    """
    timings: dict[str, float] = {}
    t = time.perf_counter()
    ccfg, mcfg = study.cohort, study.matching
    mc = study.study.min_cell
    reg = prepare_register(study, persons, residence, weekly, monthly, codebook)
    scr = read_screening(screening)
    log = AttritionLog()
    notes: list[tuple[str, str]] = []
    timings["prepare"] = time.perf_counter() - t

    # ---------------------------------------------------------------- intervention group
    t = time.perf_counter()
    n = log.add("screening", "intervention", "screened", len(scr))
    not_inc = scr[~scr["included"]]
    reasons = not_inc["exclusion_reason"].replace("", "not_included_other")
    known = [r for r in SCREENING_REASONS if r in set(reasons)]
    other = sorted(set(reasons) - set(SCREENING_REASONS) - {"not_included_other"})
    for r in [*known, *other, "not_included_other"]:
        k = int((reasons == r).sum())
        if k or r in SCREENING_REASONS:
            n = log.add("screening", "intervention", r, n, k)
    inc = scr[scr["included"]].copy()
    if inc.empty:
        raise CohortError("forms_screening: nobody is included (included = 1); there is no intervention group")
    inc["index_week"] = calendar.dream_weeks_of_dates(inc["inclusion_date"])
    rows_all = pd.Index(reg.weekly.person_id).get_indexer(inc["person_id"])
    linked = rows_all >= 0
    n = log.add("linkage", "intervention", "not_in_register", n, int((~linked).sum()))
    inc = inc[linked].copy()
    inc["row"] = rows_all[linked]
    inc = inc.sort_values(["index_week", "person_id"], kind="stable").reset_index(drop=True)
    cov_t = covariates_at(reg, inc["row"].to_numpy(), inc["index_week"].to_numpy(), ccfg)
    cov_t["_target"] = reg.target[np.where(cov_t["baseline_code"] >= 0, cov_t["baseline_code"], 0)] & (
        cov_t["baseline_code"].to_numpy() >= 0)
    if ccfg.benefit_weeks == "before_and_index":
        cov_t["_target"] &= status.code_mask(code_at(reg, inc["row"].to_numpy(), inc["index_week"].to_numpy()),
                                             reg.target)
    crit_t = criteria(cov_t, ccfg)
    rules = active_rules(ccfg)
    meets = crit_t[rules].all(axis=1).to_numpy()
    if ccfg.intervention_failing_criteria == "exclude":
        alive = np.ones(len(inc), dtype=bool)
        for rule in rules:
            fail = alive & ~crit_t[rule].to_numpy()
            n = log.add("eligibility", "intervention", rule, n, int(fail.sum()))
            alive &= ~fail
        keep = alive
    else:
        for rule in rules:
            log.add("eligibility", "intervention", rule, n, 0, int((~crit_t[rule]).sum()))
        log.add("eligibility", "intervention", "any_criterion", n, 0, int((~meets).sum()))
        keep = np.ones(len(inc), dtype=bool)
        if (~meets).any():
            k = int((~meets).sum())
            notes.append((f"{_n(k, mc)} intervention person(s) do not meet every register criterion at inclusion; they "
                          "stay in the analysis (intention to treat) and are matched like the others.",
                          f"{_n(k, mc)} personer i indsatsgruppen opfylder ikke alle registerkriterier ved inklusion; de "
                          "indgår i analysen (intention to treat) og matches som de øvrige."))
    treated = pd.concat([inc[["person_id", "index_week", "row"]], cov_t], axis=1)[keep].reset_index(drop=True)
    treated["meets_criteria"] = meets[keep]
    if treated.empty:
        raise CohortError("no intervention person is left after the register criteria; nothing to match")
    timings["eligibility_intervention"] = time.perf_counter() - t

    # ---------------------------------------------------------------- control candidates
    t = time.perf_counter()
    index_weeks = np.unique(treated["index_week"].to_numpy())
    n_c = log.add("register", "control", "register_pool", reg.n)
    excluded_ids = scr["person_id"] if ccfg.controls_from == "not_screened" else scr.loc[scr["included"], "person_id"]
    is_screened = pd.Index(reg.weekly.person_id).isin(excluded_ids)
    n_c = log.add("register", "control", "screened_for_programme", n_c, int(is_screened.sum()))
    cand_rows = np.flatnonzero(~is_screened)
    pr = np.repeat(cand_rows, len(index_weeks))
    pw = np.tile(index_weeks, len(cand_rows))
    candidates, n_c = _eligible_pairs(reg, pr, pw, ccfg, rules, log, n_c)
    timings["eligibility_candidates"] = time.perf_counter() - t
    lookback = max(ccfg.cash_benefit_lookback_weeks, ccfg.transfers_lookback_weeks, 156)
    if index_weeks.min() - lookback < reg.weekly.first_week:
        y, w = calendar.iso_from_dream_week(reg.weekly.first_week)
        notes.append((f"The longest look-back ({lookback} weeks) reaches before the start of the register extract "
                      f"({y}-W{w:02d}); weeks before it count as not on benefit.",
                      f"Det længste tilbageblik ({lookback} uger) rækker før registerudtrækkets start "
                      f"({y}-W{w:02d}); uger før tæller som uden ydelse."))

    # ---------------------------------------------------------------- matching
    t = time.perf_counter()
    seed = study.study.seed + matching.MATCHING_SEED_OFFSET
    res = matching.match(treated, candidates, mcfg, seed, id_col="person_id", time_col="index_week",
                         categorical=[c for c in CATEGORICAL_NUMERIC if c in mcfg.covariates and c != "sex"])
    timings["matching"] = time.perf_counter() - t
    um = res.unmatched
    n_um = len(um)
    for reason in matching.UNMATCHED_REASONS:
        k = int((um["reason"] == reason).sum())
        if k:
            n = log.add("matching", "intervention", f"unmatched_{reason}", n, k)
    if n_um == 0:
        n = log.add("matching", "intervention", "unmatched", n, 0)
    if n_um:
        notes.append((f"{_n(n_um, mc)} intervention person(s) got no control and are not analysed "
                      "(matching.allow_unmatched is true): " + "; ".join(
                          f"{matching.UNMATCHED_REASONS[r][0]}" for r in sorted(set(um["reason"]))) + ".",
                      f"{_n(n_um, mc)} personer i indsatsgruppen fik ingen kontrolperson og indgår ikke i analysen: " +
                      "; ".join(f"{matching.UNMATCHED_REASONS[r][1]}" for r in sorted(set(um["reason"]))) + "."))
    cohort = res.cohort
    cohort.loc[cohort["group"] == "control", "meets_criteria"] = True
    ctrl_persons = cohort.loc[cohort["group"] == "control", "person_id"].nunique()
    n_c = log.add("matching", "control", "not_selected", n_c, n_c - ctrl_persons)

    # ---------------------------------------------------------------- follow-up flags
    t = time.perf_counter()
    rows_coh = pd.Index(reg.weekly.person_id).get_indexer(cohort["person_id"])
    window = reg.weekly.aligned(rows_coh, cohort["index_week"].to_numpy(), 0, ccfg.programme_weeks)
    exit_col, _ = status.first_exit(window)
    data_end = (window == NO_DATA).any(axis=1) & (exit_col < 0)
    for grp, n_now in (("intervention", n), ("control", n_c)):
        sel = (cohort["group"] == grp).to_numpy()
        ids = cohort["person_id"].to_numpy()
        n_exit = len(set(ids[sel & (exit_col >= 0)]))
        n_end = len(set(ids[sel & data_end]))
        log.add("follow_up", grp, "exit_before_fu", n_now, 0, n_exit)
        log.add("follow_up", grp, "data_end_before_fu", n_now, 0, n_end)
        log.add("analysis", grp, "analysed", n_now, 0)
    timings["follow_up"] = time.perf_counter() - t

    # ---------------------------------------------------------------- balance
    t = time.perf_counter()
    bal_cov = list(mcfg.balance_list)
    if ccfg.municipality and len(ccfg.municipality) <= 1 and "municipality" in bal_cov and mcfg.balance_covariates is None:
        bal_cov.remove("municipality")
    if res.distance_treated is not None:
        bal_cov = ["distance", *bal_cov]
        treated["distance"] = res.distance_treated
        candidates["distance"] = res.distance_candidates
    before = pd.concat([treated.assign(_treat=1), candidates.assign(_treat=0)], ignore_index=True)
    # the unmatched comparison: the pool as seen at the intervention persons' index weeks
    n_t_week = treated["index_week"].value_counts()
    n_c_week = candidates["index_week"].value_counts()
    w_before = np.where(before["_treat"] == 1, 1.0,
                        before["index_week"].map(n_t_week / n_c_week.reindex(n_t_week.index)).fillna(0.0))
    after = cohort.assign(_treat=(cohort["group"] == "intervention").astype(int))
    cat = [c for c in CATEGORICAL_NUMERIC if c in bal_cov]
    bal = balance.compare_balance(before, after, bal_cov, "_treat", weights_before=np.asarray(w_before, dtype=float),
                                  weights_after=after["weight"].to_numpy(), categorical=cat)
    timings["balance"] = time.perf_counter() - t

    out = cohort.copy()
    for col in COHORT_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out = out[COHORT_COLUMNS]
    out["index_week"] = out["index_week"].astype(np.int32)
    out["matched_set"] = out["matched_set"].astype(np.int32)
    out["meets_criteria"] = out["meets_criteria"].astype(bool)
    summary = dict(res.summary)
    summary.update({"n_eligible_control_persons": int(candidates["person_id"].nunique()),
                    "n_index_weeks": int(len(index_weeks)),
                    "max_abs_smd_after": balance.max_abs_smd(bal, "after"),
                    "max_abs_smd_after_history": balance.max_abs_smd(bal, "after", HISTORY_COVARIATES),
                    "max_abs_smd_before": balance.max_abs_smd(bal, "before")})
    if summary["n_sets_short"]:
        k, m = summary["n_sets_short"], summary["n_treated_matched"]
        notes.append((f"{_n(k, mc)} of {_n(m, mc)} matched intervention persons got fewer than {mcfg.ratio} controls; their "
                      "controls weigh more (weight 1/number of controls in the set).",
                      f"{_n(k, mc)} af {_n(m, mc)} matchede personer i indsatsgruppen fik færre end {mcfg.ratio} "
                      "kontrolpersoner; deres kontrolpersoner vægter mere (vægt 1/antal kontrolpersoner i sættet)."))
    unmatched = (um.groupby(["reason", "stratum"]).size().rename("n").reset_index() if n_um
                 else pd.DataFrame(columns=["reason", "stratum", "n"]))
    return CohortResult(cohort=out, attrition=log.frame(), balance=bal, match_summary=summary, unmatched=unmatched,
                        notes=notes, timings=timings, candidates=candidates, balance_covariates=bal_cov)


def _eligible_pairs(reg: Register, rows: np.ndarray, weeks: np.ndarray, ccfg, rules: Sequence[str],
                    log: AttritionLog, n_before: int) -> tuple[pd.DataFrame, int]:
    """Filter (person, week) pairs rule by rule, logging persons with no eligible week left.

    Cheap criteria (age, residence, benefit in the baseline week) run on all pairs first,
    the history counts only on the pairs that survive them.
    """
    n = n_before

    def persons(r: np.ndarray) -> int:
        return int(np.count_nonzero(np.bincount(r, minlength=reg.n))) if len(r) else 0

    prev = persons(rows)
    for rule in [r for r in rules if r in ("age", "municipality", "current_benefit")]:
        if rule == "age":
            a = age_at(reg, rows, weeks)
            ok = (a >= ccfg.age_min) & (a <= ccfg.age_max)
        elif rule == "municipality":
            ok = np.isin(municipality_at(reg, rows, weeks), ccfg.control_municipalities or ccfg.municipality)
        else:
            ok = status.code_mask(code_at(reg, rows, weeks - 1), reg.target)
            if ccfg.benefit_weeks == "before_and_index":
                ok &= status.code_mask(code_at(reg, rows, weeks), reg.target)
        rows, weeks = rows[ok], weeks[ok]
        now = persons(rows)
        n = log.add("eligibility", "control", rule, n, prev - now)
        prev = now
    cov = covariates_at(reg, rows, weeks, ccfg)
    cov["_target"] = True
    crit = criteria(cov, ccfg)
    keep = np.ones(len(rows), dtype=bool)
    for rule in [r for r in rules if r in ("transfers", "cash_benefit_max")]:
        keep &= crit[rule].to_numpy()
        now = persons(rows[keep])
        n = log.add("eligibility", "control", rule, n, prev - now)
        prev = now
    cand = pd.concat([pd.DataFrame({"person_id": reg.weekly.person_id[rows[keep]], "index_week": weeks[keep],
                                    "row": rows[keep]}), cov[keep].reset_index(drop=True).drop(columns="_target")],
                     axis=1)
    cand["meets_criteria"] = True
    cand = cand.sort_values(["index_week", "person_id"], kind="stable").reset_index(drop=True)
    return cand, n


def _n(k: int, min_cell: int | None = None) -> str:
    """A count for a sentence of the report; masked when in 1..min_cell-1."""
    if min_cell is not None and disclosure.is_small(k, min_cell):
        return disclosure.MASK.format(min_cell=min_cell)
    return f"{k:,}"


# ============================================================================ outputs
def write_outputs(study, result: CohortResult, processed_dir=None) -> dict:
    """Write ``cohort.parquet``, ``attrition.parquet``, ``balance.parquet`` and ``cohort_summary.json`` atomically."""
    folder = study.processed_dir if processed_dir is None else processed_dir
    paths = {
        "cohort": atomic.write_parquet(folder / "cohort.parquet", result.cohort),
        "attrition": atomic.write_parquet(folder / "attrition.parquet", result.attrition),
        "balance": atomic.write_parquet(folder / "balance.parquet", result.balance),
        "summary": atomic.write_json(folder / "cohort_summary.json", {
            "match_summary": result.match_summary, "timings": result.timings,
            "notes": [list(x) for x in result.notes], "balance_covariates": result.balance_covariates}),
    }
    return paths


# ============================================================================ disclosure & display
def mask_attrition(attrition: pd.DataFrame, min_cell: int, *, item: str = "attrition") -> tuple[pd.DataFrame, disclosure.Check]:
    """Make the attrition log safe to publish.

    Within each group's chain, a step excluding 1..min_cell-1 persons is merged with the
    following (or, at the end of a stage, the preceding) exclusion steps of the same stage
    until the merged count reaches ``min_cell`` (its ``reason`` lists the merged keys joined by
    ``+``), so that no small count can be recovered as a difference of the shown totals. A
    small exclusion that cannot be merged is masked and the check FAILs. Flagged counts and
    totals in 1..min_cell-1 are masked.
    """
    merged_rows = []
    for _grp, chain in attrition.groupby("group", sort=False):
        chain = chain.sort_values("step")
        for _stage, part in chain.groupby("stage", sort=False):
            recs = [dict(r) for r in part.to_dict("records")]
            stage_before = recs[0]["n_before"]
            zero = [r for r in recs if r["n_excluded"] == 0]
            bundles: list[list[dict]] = []
            current: list[dict] = []
            for r in (r for r in recs if r["n_excluded"] > 0):
                current.append(r)
                if sum(x["n_excluded"] for x in current) >= min_cell:
                    bundles.append(current)
                    current = []
            if current:
                if bundles:
                    bundles[-1].extend(current)
                else:
                    bundles.append(current)
            rows = [{**r, "_fail": False} for r in zero] + [_merge_all(b, min_cell) for b in bundles]
            rows.sort(key=lambda r: r["step"])
            merged_rows.extend(_rechain(rows, stage_before))
    frame = pd.DataFrame(merged_rows)
    frame["_fail"] = frame["_fail"].astype(bool)
    label = disclosure.MASK.format(min_cell=min_cell)
    masked = frame[ATTRITION_COLUMNS].astype(object).copy()
    n_masked = 0
    for col in ("n_before", "n_after", "n_flagged", "n_excluded"):
        small = disclosure.is_small(frame[col].to_numpy(), min_cell)
        n_masked += int(small.sum())
        masked.loc[small, col] = label
    fail = []
    if frame["_fail"].any():
        k = int(frame["_fail"].sum())
        fail.append(f"{k} small exclusion(s) could not be merged and can be recovered from the totals")
    merged = int(sum("+" in str(r) for r in frame["reason"]))
    detail = (f"{merged} step(s) merged, {n_masked} count(s) masked (below {min_cell})"
              if merged or n_masked else f"all counts 0 or >= {min_cell}")
    detail_da = (f"{merged} trin slået sammen, {n_masked} antal skjult (under {min_cell})"
                 if merged or n_masked else f"alle antal 0 eller >= {min_cell}")
    if fail:
        return masked.reset_index(drop=True), disclosure.Check(
            item=item, status="FAIL", detail="; ".join(fail), masked=n_masked,
            detail_da=f"{int(frame['_fail'].sum())} lille(t) frafald kunne ikke slås sammen og kan findes ud fra totalerne")
    return masked.reset_index(drop=True), disclosure.Check(item=item, status="PASS", detail=detail, masked=n_masked,
                                                           detail_da=detail_da)


def _merge_all(bundle: list[dict], min_cell: int) -> dict:
    out = dict(bundle[0])
    out["n_excluded"] = int(sum(int(r["n_excluded"]) for r in bundle))
    out["n_flagged"] = int(sum(int(r["n_flagged"]) for r in bundle))
    out["reason"] = "+".join(str(r["reason"]) for r in bundle)
    out["_fail"] = 0 < out["n_excluded"] < min_cell
    return out


def _rechain(rows: list[dict], n_before: int) -> list[dict]:
    """Recompute n_before/n_after along consecutive steps starting from ``n_before``."""
    n = int(n_before)
    for r in rows:
        r["n_before"] = n
        n = n - int(r["n_excluded"])
        r["n_after"] = n
    return rows


def reason_label(reason: str, language: str) -> str:
    """Readable label of an attrition reason (merged reasons joined by " / ")."""
    i = 1 if language == "da" else 0
    return " / ".join(REASON_LABELS.get(r, (r.replace("_", " "),) * 2)[i] for r in str(reason).split("+"))


def attrition_display(masked: pd.DataFrame, language: str) -> pd.DataFrame:
    """The (masked) attrition log as a report table with readable labels."""
    da = language == "da"
    i = 1 if da else 0
    group_names = {"intervention": ("Intervention", "Indsats"), "control": ("Control", "Kontrol")}
    stage_names = {"screening": ("Screening", "Screening"), "register": ("Register", "Register"),
                   "linkage": ("Linkage", "Kobling"), "eligibility": ("Eligibility", "Egnethed"),
                   "matching": ("Matching", "Matchning"), "follow_up": ("Follow-up", "Opfølgning"),
                   "analysis": ("Analysis", "Analyse")}
    cols = (["Gruppe", "Trin", "Årsag", "antal før", "antal udelukket", "antal markeret", "antal efter"] if da else
            ["Group", "Stage", "Reason", "n before", "n excluded", "n flagged", "n after"])
    return pd.DataFrame({
        cols[0]: [group_names.get(g, (g, g))[i] for g in masked["group"]],
        cols[1]: [stage_names.get(s, (s, s))[i] for s in masked["stage"]],
        cols[2]: [reason_label(r, language) for r in masked["reason"]],
        cols[3]: masked["n_before"].to_numpy(),
        cols[4]: masked["n_excluded"].to_numpy(),
        cols[5]: masked["n_flagged"].to_numpy(),
        cols[6]: masked["n_after"].to_numpy(),
    })


@dataclass
class FlowBox:
    """A box of the flow diagram: ``kind`` "main" (the chain) or "side" (exclusions/flags)."""

    group: str
    slot: int
    kind: str
    text: str


FLOW_SLOTS = (("screening", "register"), ("linkage",), ("eligibility",), ("matching",), ("follow_up",), ("analysis",))


def flow_boxes(masked: pd.DataFrame, language: str, *, wrap: int = 38) -> list[FlowBox]:
    """Boxes of a CONSORT-style flow diagram, from the (masked) attrition log only.

    Each group is a column: a start box (screened / register population), then per stage
    a side box listing that stage's exclusions and flags, and a main box with the number
    remaining. Stages without exclusions or flags get no box, except "analysed".
    """
    da = language == "da"
    i = 1 if da else 0
    boxes: list[FlowBox] = []

    def fmt(v) -> str:
        return f"{v:,}".replace(",", ".") if isinstance(v, int | np.integer) and da else (
            f"{v:,}" if isinstance(v, int | np.integer) else str(v))

    for grp in GROUPS:
        chain = masked[masked["group"] == grp]
        if chain.empty:
            continue
        first = chain.iloc[0]
        boxes.append(FlowBox(grp, 0, "main", _wrap(f"{START_LABELS[grp][i]} (n = {fmt(first['n_before'])})", wrap)))
        for slot, stages in enumerate(FLOW_SLOTS, start=1):
            part = chain[chain["stage"].isin(stages)]
            if part.empty:
                continue
            lines = []
            for _, r in part.iterrows():
                if r["reason"] == "analysed":
                    continue
                if _nonzero(r["n_excluded"]):
                    lines.append(f"{reason_label(r['reason'], language)} (n = {fmt(r['n_excluded'])})")
                if _nonzero(r["n_flagged"]):
                    flag = "markeret" if da else "flagged"
                    lines.append(f"{reason_label(r['reason'], language)} ({flag}: n = {fmt(r['n_flagged'])})")
            stage = part["stage"].iloc[-1]
            if lines:
                head = {"eligibility": ("Not eligible / not meeting criteria:", "Ikke egnet / opfylder ikke kriterier:"),
                        "follow_up": ("Follow-up (not excluded):", "Opfølgning (ikke udelukket):")}.get(
                    stage, ("Excluded:", "Udelukket:"))[i]
                text = head + "\n" + "\n".join(_wrap("• " + ln, wrap) for ln in lines)
                boxes.append(FlowBox(grp, slot, "side", text))
            if lines or stage == "analysis":
                label = STAGE_LABELS[stage][i]
                if stage == "matching" and grp == "control":
                    label = "Matchede kontrolpersoner" if da else "Matched controls"
                if stage == "eligibility" and grp == "control":
                    label = "Egnede kontrolkandidater" if da else "Eligible control candidates"
                if stage == "eligibility" and grp == "intervention" and part["n_excluded"].map(_nonzero).sum() == 0:
                    label = "Kontrolleret mod registerkriterier" if da else "Checked against register criteria"
                boxes.append(FlowBox(grp, slot, "main", _wrap(f"{label} (n = {fmt(part['n_after'].iloc[-1])})", wrap)))
    return boxes


def _nonzero(v) -> bool:
    return isinstance(v, str) or (pd.notna(v) and float(v) > 0)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.fill(line, width, subsequent_indent="  " if line.startswith("•") else "")
                     for line in text.split("\n"))


def covariate_label(variable: str, level, language: str) -> str:
    """Display label of a balance term."""
    i = 1 if language == "da" else 0
    name = COVARIATE_LABELS.get(variable, (variable, variable))[i]
    if level is None or (isinstance(level, float) and np.isnan(level)) or level == "":
        return name
    lv = LEVEL_LABELS.get(variable, {}).get(level)
    if lv is None:
        try:
            lv = LEVEL_LABELS.get(variable, {}).get(int(float(level)))
        except (TypeError, ValueError):
            lv = None
    return f"{name}: {lv[i] if lv else str(level).replace('_', ' ')}"


def love_data(result: CohortResult, language: str, min_cell: int) -> tuple[pd.DataFrame, disclosure.Check]:
    """SMD before/after per term with display labels; disclosive binary terms are dropped."""
    masked, check = balance.mask_balance(result.balance, min_cell, item="love_plot")
    wide = balance.smd_wide(masked)
    wide["label"] = [covariate_label(v, lv, language) for v, lv in zip(wide["variable"], wide["level"], strict=True)]
    dropped = int(wide["smd_after"].isna().sum() + (wide["smd_before"].isna() & wide["smd_after"].notna()).sum())
    wide = wide.dropna(subset=["smd_before", "smd_after"]).reset_index(drop=True)
    if dropped:
        check.notes.append(f"{dropped} term(s) with small counts not shown")
    return wide, check


def balance_display(result: CohortResult, language: str, min_cell: int) -> tuple[pd.DataFrame, disclosure.Check]:
    """Balance table for the report: means, SMD before/after and variance ratio after, per term.

    Means, SMDs and variance ratios of binary terms with disclosive counts are hidden
    (:func:`helpers.cohort.balance.mask_balance`); no minimum or maximum is shown.
    """
    da = language == "da"
    masked, check = balance.mask_balance(result.balance, min_cell, item="balance")
    key = ["variable", "level"]
    masked = masked.assign(level=masked["level"].fillna(""))
    b = masked[masked["sample"] == "before"].set_index(key)
    a = masked[masked["sample"] == "after"].set_index(key)
    sep = "," if da else "."

    def f(v, d: int) -> str:
        return "" if pd.isna(v) else f"{v:.{d}f}".replace(".", sep)

    rows = []
    for k in a.index:
        var, lev = k
        kind = a.loc[k, "kind"]
        d = 3 if kind == "binary" or var == "distance" else 1
        rows.append({
            ("Kovariat" if da else "Covariate"): covariate_label(var, lev or None, language),
            ("Gns. indsats" if da else "Mean intervention"): f(a.loc[k, "mean_treated"], d),
            ("Gns. pulje (før)" if da else "Mean pool (before)"): f(b.loc[k, "mean_control"], d) if k in b.index else "",
            ("Gns. kontrol (efter)" if da else "Mean controls (after)"): f(a.loc[k, "mean_control"], d),
            ("SMD før" if da else "SMD before"): f(b.loc[k, "smd"], 3) if k in b.index else "",
            ("SMD efter" if da else "SMD after"): f(a.loc[k, "smd"], 3),
            ("Varianskvotient efter" if da else "Variance ratio after"): f(a.loc[k, "var_ratio"], 2),
        })
    table = pd.DataFrame(rows)
    stats = table.columns[1:]
    hidden = (table[stats] == "").all(axis=1)
    if hidden.any():
        check.notes.append(f"{int(hidden.sum())} term(s) with small counts not shown")
    return table[~hidden].reset_index(drop=True), check


def table_one(result: CohortResult, study, language: str) -> tuple[pd.DataFrame, disclosure.Check]:
    """Table 1 of the analysis cohort (one row per person; SMD after matching, weighted)."""
    i = 1 if language == "da" else 0
    covs = [c for c in result.balance_covariates if c != "distance"]
    persons = result.cohort.drop_duplicates(["person_id", "group"])
    after = result.balance_after
    labels = {c: COVARIATE_LABELS.get(c, (c, c))[i] for c in covs}
    level_labels = {v: {k: lab[i] for k, lab in m.items()} for v, m in LEVEL_LABELS.items()}
    for c in ("benefit_category", "benefit_subcategory", "activity"):
        if c in covs:
            level_labels[c] = {lv: str(lv).replace("_", " ") for lv in persons[c].dropna().unique()}
    groups = {"intervention": ("Intervention", "Indsats")[i], "control": ("Control", "Kontrol")[i]}
    return balance.table_one(persons, covs, "group", min_cell=study.study.min_cell, item="table1",
                             group_labels=groups, labels=labels, level_labels=level_labels,
                             categorical=[c for c in CATEGORICAL_NUMERIC if c in covs], smd=after, language=language)


def summary_text(result: CohortResult, study) -> tuple[str, str]:
    """Two sentences (en, da) describing the match and the balance achieved (counts masked)."""
    s = result.match_summary
    mc = study.study.min_cell

    def cnt(k: int, da: bool = False) -> str:
        if disclosure.is_small(k, mc):
            return disclosure.MASK.format(min_cell=mc)
        return f"{k:,}".replace(",", ".") if da else f"{k:,}"

    def dec(x: float, da: bool = False) -> str:
        return f"{x:.3f}".replace(".", ",") if da else f"{x:.3f}"

    if s["method"] == "exact":
        how_en = ("exact matching on strata ("
                  + ", ".join(list(study.matching.strata) + list(study.matching.exact)) + ") with a seeded random draw")
        how_da = ("eksakt matchning i strata ("
                  + ", ".join(list(study.matching.strata) + list(study.matching.exact)) + ") med seedet lodtrækning")
    else:
        cal = f", caliper {s['caliper_sd']} SD" if s.get("caliper_sd") else ""
        if s["distance"] == "mahalanobis":
            cal_en = f" within a caliper of {s['caliper_sd']} SD of the logit propensity score" if s.get("caliper_sd") else ""
            cal_da = f" inden for en caliper på {s['caliper_sd']} SD af logit propensity score" if s.get("caliper_sd") else ""
            how_en = "greedy nearest-neighbour matching on the Mahalanobis distance of the covariates" + cal_en
            how_da = "grådig nærmeste-nabo-matchning på kovariaternes Mahalanobis-afstand" + cal_da
        else:
            how_en = (f"greedy nearest-neighbour matching on the {'logit ' if s['distance'] == 'logit' else ''}"
                      f"propensity score{cal}")
            how_da = f"grådig nærmeste-nabo-matchning på {'logit af ' if s['distance'] == 'logit' else ''}propensity score{cal}"
    repl_en = "with" if s["replace"] else "without"
    repl_da = "med" if s["replace"] else "uden"
    smd_a = s["max_abs_smd_after"]
    smd_h = s["max_abs_smd_after_history"]
    en = (f"{cnt(s['n_treated_matched'])} of {cnt(s['n_treated'])} intervention persons were matched 1:{s['ratio']} "
          f"({repl_en} replacement) to {cnt(s['n_controls_unique'])} controls, drawn from "
          f"{cnt(s['n_eligible_control_persons'])} register persons eligible at one of {s['n_index_weeks']} index weeks, "
          f"by {how_en}. Largest |SMD| after matching: {dec(smd_a)} over all covariates, {dec(smd_h)} over the "
          f"benefit-history covariates (threshold {study.matching.smd_threshold}); before matching "
          f"{dec(s['max_abs_smd_before'])}.")
    thr = str(study.matching.smd_threshold).replace(".", ",")
    da = (f"{cnt(s['n_treated_matched'], True)} af {cnt(s['n_treated'], True)} personer i indsatsgruppen blev matchet "
          f"1:{s['ratio']} ({repl_da} tilbagelægning) med {cnt(s['n_controls_unique'], True)} kontrolpersoner "
          f"udtrukket blandt {cnt(s['n_eligible_control_persons'], True)} registerpersoner, der var egnede i en af "
          f"{s['n_index_weeks']} indeksuger, ved {how_da}. Største |SMD| efter matchning: {dec(smd_a, True)} for alle "
          f"kovariater, {dec(smd_h, True)} for ydelseshistorikken (grænse {thr}); før matchning "
          f"{dec(s['max_abs_smd_before'], True)}.")
    return en, da


# ============================================================================ synthetic register (bench, tests)
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
    from helpers.config import load_study

    base = load_study("demo")
    m = base.matching.model_dump()
    if method == "nearest":
        m.update(method="nearest", ratio=2, exact=["sex"], strata={}, caliper=0.2, allow_unmatched=True)
    else:
        m.update(method="exact", allow_unmatched=True)
    meta = base.study.model_copy(update={"seed": seed})
    return base.model_copy(update={"matching": type(base.matching)(**m), "study": meta})
