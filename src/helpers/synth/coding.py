"""Latent states of the synthetic benefit model and their translation into DREAM codes.

The chain in :mod:`helpers.synth.model` moves persons between a few latent *states*
(employed, cash benefit, sickness benefit, ...). Each week, :func:`week_codes` turns a
person's state, the spell's *variant* (e.g. aktivitetsparat or jobparat cash benefit),
the current *activity* digit (praktik, løntilskud, ...) and the calendar into one DREAM
code. Reform dates decide which code families exist in a week:

==========================  =====================  ==========================================
rule                        first ISO week         source (``helpers/data/dream_codes.csv``)
==========================  =====================  ==========================================
ressourceforløb 810-818     2013-W01               Førtidspension- og fleksjobreform 2013
uddannelseshjælp 72x/14x    2014-W01               Kontanthjælpsreform 2014 (persons < 30)
nytteindsats (digit 9)      2014-W01               Kontanthjælpsreform 2014
særlig uddannelsesydelse    2013 only              151, long UI spells
arbejdsmarkedsydelse 152    2014-2016              long UI spells
jobafklaring 785            2014-W27               Sygedagpengereform 1 Jul 2014
integrationsydelse 70x      2015-W36               Integrationsydelse 1 Sep 2015; 71x before
==========================  =====================  ==========================================

A code is *valid in a week* when the week (Monday..Sunday) overlaps the code's
``valid_from``..``valid_to`` in the code dictionary (a DREAM code is assigned when a
person has at least one day on the benefit in the week); :func:`validity_violations`
checks a generated code matrix against the dictionary.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.core.codes import MAX_CODE, load_code_table

# ----------------------------------------------------------------------------- states
SELF_EMP, SELF_OUT, CB, UI, SICK, REHAB, JA, LEDY, FLEX, DP, EDU, LEAVE, EARLY, EMIG, PENSION, DEAD = range(16)
N_STATES = 16
STATE_NAMES = (
    "employed",  # self-supported, with wage income (monthly branche/grad filled)
    "self_support_no_job",  # self-supported without wage income (partner, savings)
    "cash_benefit",
    "ui_benefit",
    "sickness",
    "rehabilitation",  # ressourceforløb (2013+), revalidering, forrevalidering
    "jobafklaring",
    "ledighedsydelse",
    "flexjob",
    "disability_pension",
    "education",
    "leave",  # barsel, orlov
    "early_retirement",  # efterløn
    "emigrated",
    "state_pension",
    "dead",
)
#: States in which activation episodes (the last code digit) occur.
ACTIVITY_STATES = (CB, UI, SICK, REHAB, LEDY)

# Activity digits (last digit of the code; DREAM documentation, dream.md §2.2).
VEJL, UDD, LT_PRIV, LT_OFF, PRAKTIK_PRIV, PRAKTIK_OFF, NYTTE = 3, 4, 5, 6, 7, 8, 9
PRAKTIK_DIGITS = (PRAKTIK_PRIV, PRAKTIK_OFF)
LOENTILSKUD_DIGITS = (LT_PRIV, LT_OFF)
#: In the sickness state digit 9 means "delvis raskmeldt" (code 899), not nytteindsats.
DELVIS_RASK = 9

# Cash-benefit variants (spell level).
CB_AKTIVITETSPARAT, CB_JOBPARAT, CB_INTEGRATION = 0, 1, 2
# Rehabilitation variants.
RH_RESSOURCEFORLOEB, RH_REVALIDERING, RH_FORREVALIDERING = 0, 1, 2

# ----------------------------------------------------------------------------- reform dates
RESSOURCEFORLOEB_FROM = dt.date(2013, 1, 1)
KONTANTHJAELPSREFORM_FROM = dt.date(2014, 1, 1)
JOBAFKLARING_FROM = dt.date(2014, 6, 30)  # Monday of 2014-W27
INTEGRATIONSYDELSE_FROM = dt.date(2015, 8, 31)  # Monday of 2015-W36


def first_week_on_or_after(date: dt.date) -> int:
    """DREAM week whose Monday..Sunday contains ``date`` (the first week a code may appear)."""
    return calendar.dream_week_of_date(date)


W_RESSOURCEFORLOEB = first_week_on_or_after(RESSOURCEFORLOEB_FROM)
W_KONTANTHJAELPSREFORM = first_week_on_or_after(KONTANTHJAELPSREFORM_FROM)
W_JOBAFKLARING = first_week_on_or_after(JOBAFKLARING_FROM)
W_INTEGRATIONSYDELSE = first_week_on_or_after(INTEGRATIONSYDELSE_FROM)

#: UI spells longer than this (weeks) are coded 151 (2013) or 152 (2014-2016).
UI_EXHAUSTED_WEEKS = 104


def week_codes(
    state: np.ndarray,
    var: np.ndarray,
    act: np.ndarray,
    dur: np.ndarray,
    under30: np.ndarray,
    blip: np.ndarray,
    dream_week: int,
) -> np.ndarray:
    """Return the DREAM code of each person in one week.

    Parameters
    ----------
    state, var, act, dur : ndarray
        Latent state, spell variant, activity digit (0 = passive) and weeks in the state.
    under30 : ndarray of bool
        Person is under 30 (uddannelseshjælp instead of kontanthjælp from 2014).
    blip : ndarray of float
        Uniform draws for rare one-week codes (holiday pay 121/124).
    dream_week : int
        The DREAM week (decides which reform codes exist).

    Returns
    -------
    ndarray of int16
        Codes; 0 = empty week (no public transfer).
    """
    year = calendar.iso_from_dream_week(dream_week)[0]
    after_khr = dream_week >= W_KONTANTHJAELPSREFORM
    after_int = dream_week >= W_INTEGRATIONSYDELSE
    code = np.zeros(state.shape, dtype=np.int16)
    act16 = act.astype(np.int16)

    # self-support: empty, a rare week of holiday pay from employment (121-123)
    m = state == SELF_EMP
    code[m & (blip < 0.0015)] = 121
    code[m & (blip >= 0.0015) & (blip < 0.002)] = 122

    # cash benefit families; all use the digits {0, 3..9}
    m = state == CB
    if m.any():
        akt = var == CB_AKTIVITETSPARAT
        udh = under30 & after_khr
        base = np.where(
            var == CB_INTEGRATION,
            700 if after_int else 710,
            np.where(akt, np.where(udh, 720, 730), np.where(udh, 140, 130)),
        ).astype(np.int16)
        code = np.where(m, base + act16, code)

    # unemployment insurance: 111 full / 113 partial; 213-218 activation; 151/152 when exhausted
    m = state == UI
    if m.any():
        passive = np.where(var == 1, 113, 111).astype(np.int16)
        if dur is not None:
            long_ = dur >= UI_EXHAUSTED_WEEKS
            if year == 2013:
                passive = np.where(long_, 151, passive).astype(np.int16)
            elif 2014 <= year <= 2016:
                passive = np.where(long_, 152, passive).astype(np.int16)
        passive = np.where((passive == 111) & (blip > 0.992), 124, passive).astype(np.int16)
        ui = np.where(act16 > 0, 210 + act16, passive)
        code = np.where(m, ui, code)

    m = state == SICK
    code = np.where(m, 890 + act16, code)  # 890 passive, 893-898 activation, 899 delvis rask

    m = state == REHAB
    if m.any():
        base = np.select([var == RH_RESSOURCEFORLOEB, var == RH_REVALIDERING], [810, 760], 750).astype(np.int16)
        code = np.where(m, base + act16, code)

    code[state == JA] = 785
    code = np.where(state == LEDY, 740 + act16, code)
    code = np.where(state == FLEX, np.where(act16 > 0, 774, 771), code)  # 774: sick during fleksjob
    code = np.where(state == DP, np.where(var == 1, 781, 783), code)
    code = np.where(state == EDU, np.select([var == 1, var == 2], [652, 661], 651), code)
    code = np.where(state == LEAVE, np.where(var == 1, 412, 881), code)
    code[state == EARLY] = 621
    code[state == EMIG] = 997
    code[state == PENSION] = 998
    code[state == DEAD] = 999
    return code.astype(np.int16)


_LUT_CACHE: dict[tuple[bool, bool], np.ndarray] = {}
_N_VAR, _N_ACT = 3, 10


def _lut(dream_week: int) -> np.ndarray:
    """Code table over (under30, state, var, act) for the reform period of ``dream_week``."""
    key = (dream_week >= W_KONTANTHJAELPSREFORM, dream_week >= W_INTEGRATIONSYDELSE)
    if key not in _LUT_CACHE:
        u30, st, var, act = np.meshgrid(
            np.array([False, True]), np.arange(N_STATES), np.arange(_N_VAR), np.arange(_N_ACT), indexing="ij"
        )
        shape = u30.shape
        flat = [x.ravel() for x in (st, var, act)]
        # a representative week of the period, in a year without 151/152 coding
        rep = {(False, False): W_KONTANTHJAELPSREFORM - 60, (True, False): W_INTEGRATIONSYDELSE - 1,
               (True, True): W_INTEGRATIONSYDELSE + 200, (False, True): W_INTEGRATIONSYDELSE}[key]
        codes = week_codes(flat[0].astype(np.int8), flat[1].astype(np.int8), flat[2].astype(np.int8),
                           None, u30.ravel(), np.full(u30.size, 0.5), rep)
        _LUT_CACHE[key] = codes.reshape(shape).ravel()
    return _LUT_CACHE[key]


def fast_week_codes(
    state: np.ndarray,
    var: np.ndarray,
    act: np.ndarray,
    dur: np.ndarray,
    under30: np.ndarray,
    blip: np.ndarray,
    dream_week: int,
) -> np.ndarray:
    """Return the same codes as :func:`week_codes`, by table look-up (used in the weekly loop)."""
    lut = _lut(dream_week)
    index = ((under30.astype(np.intp) * N_STATES + state) * _N_VAR + var) * _N_ACT + act
    code = lut[index]
    emp = state == SELF_EMP
    code = np.where(emp & (blip < 0.0015), 121, np.where(emp & (blip < 0.002), 122, code))
    ui_passive = (state == UI) & (act == 0)
    year = calendar.iso_from_dream_week(dream_week)[0]
    if 2013 <= year <= 2016:
        long_ = ui_passive & (dur >= UI_EXHAUSTED_WEEKS)
        code = np.where(long_, 151 if year == 2013 else 152, code)
        ui_passive &= ~long_
    code = np.where(ui_passive & (var != 1) & (blip > 0.992), 124, code)
    return code.astype(np.int16)


# ----------------------------------------------------------------------------- validity


def validity_table(first_week: int, n_weeks: int) -> np.ndarray:
    """Boolean table ``valid[code, week - first_week]`` from the code dictionary.

    Code 0 (empty) is valid in every week; codes not in the dictionary are never valid.
    A code is valid in a week when Monday..Sunday overlaps ``valid_from``..``valid_to``.
    """
    table = load_code_table()
    valid = np.zeros((MAX_CODE, n_weeks), dtype=bool)
    valid[0] = True
    mondays = np.datetime64(calendar.monday_of_dream_week(first_week), "D") + 7 * np.arange(n_weeks)
    sundays = mondays + 6
    for code, vf, vt in zip(table["code"], table["valid_from"], table["valid_to"], strict=True):
        ok = np.ones(n_weeks, dtype=bool)
        if not pd.isna(vf):
            ok &= sundays >= np.datetime64(vf.date(), "D")
        if not pd.isna(vt):
            ok &= mondays <= np.datetime64(vt.date(), "D")
        valid[int(code)] = ok
    return valid


def validity_violations(codes: np.ndarray, first_week: int) -> pd.DataFrame:
    """Return (code, first offending DREAM week, count) for codes used outside their validity.

    An empty frame means every code in ``codes`` exists in the dictionary in its week.
    """
    codes = np.asarray(codes)
    valid = validity_table(first_week, codes.shape[1])
    cols = np.broadcast_to(np.arange(codes.shape[1]), codes.shape)
    safe = np.clip(codes, 0, MAX_CODE - 1)
    bad = ~valid[safe, cols] | (codes < 0) | (codes >= MAX_CODE)
    if not bad.any():
        return pd.DataFrame(columns=["code", "first_week", "n"])
    rows = pd.DataFrame({"code": codes[bad], "week": cols[bad] + first_week})
    return rows.groupby("code").agg(first_week=("week", "min"), n=("week", "size")).reset_index()
