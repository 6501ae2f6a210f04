"""Discrete-time semi-Markov model of weekly benefit trajectories.

Every person has a *segment* (core worker, marginal, vulnerable, young, immigrant), a
latent *work ability* ``a ~ N(segment mean, 1)`` and a sex and birth date. Each week
the chain in :func:`simulate` may move a person from one latent state
(:data:`helpers.synth.coding.STATE_NAMES`) to another:

1. fixed events: death (Gompertz hazard by age, higher in the vulnerable segment),
   state pension at the statutory age (absorbing), emigration and return (997 is not
   absorbing), efterløn from the efterløn age (core and marginal segments);
2. a regular exit with hazard ``RATE[segment, state] * ((d + 1) / 26) ** (SHAPE[state] - 1)``
   (``d`` = weeks in the state: a Weibull-type *duration dependence*, falling for cash
   benefit and employment, rising for leave), times the sum of destination weights
   ``DEST[segment, state, :]`` after person-level multipliers (ability, age, business
   cycle, reform dates, intervention); the destination is drawn in proportion to the
   weights. Sickness benefit ends after at most 52 weeks, UI after 130, jobafklaring
   after 104 (forced exits);
3. within benefit states, activation episodes (the last digit of the code: vejledning 3,
   education 4, løntilskud 5/6, praktik 7/8, nytteindsats 9 from 2014) start with a weekly
   probability and last a drawn number of weeks.

Intervention effects (:class:`Effects`) multiply, for treated rows after their start
week, the weights of the destinations "employed" and "self-support without job"
(``hr_self_support``: the hazard of entering self-support is multiplied by exactly this
factor, all else equal), the weights of ledighedsydelse, flexjob and disability pension
(``afklaring_rate_ratio``) and the start probability of praktik episodes
(``praktik_rate_ratio``) inside the programme window.

Randomness: each week draws a block of uniforms ``(N_UNIFORMS, n_streams)``; row ``i``
uses stream ``keys[i]``. Two rows with the same key and the same state see the same
draws (*common random numbers*), so a treated and an untreated copy of a person differ
only through the effect.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from helpers.core import calendar
from helpers.core.codes import CodeBook
from helpers.synth.coding import (
    ACTIVITY_STATES,
    CB,
    CB_AKTIVITETSPARAT,
    CB_INTEGRATION,
    CB_JOBPARAT,
    DEAD,
    DELVIS_RASK,
    DP,
    EARLY,
    EDU,
    EMIG,
    FLEX,
    JA,
    LEAVE,
    LEDY,
    LOENTILSKUD_DIGITS,
    N_STATES,
    NYTTE,
    PENSION,
    PRAKTIK_DIGITS,
    REHAB,
    RH_FORREVALIDERING,
    RH_RESSOURCEFORLOEB,
    RH_REVALIDERING,
    SELF_EMP,
    SELF_OUT,
    SICK,
    UI,
    W_JOBAFKLARING,
    W_KONTANTHJAELPSREFORM,
    W_RESSOURCEFORLOEB,
    fast_week_codes,
)

SEGMENTS = ("core", "marginal", "vulnerable", "young", "immigrant")
CORE, MARGINAL, VULNERABLE, YOUNG, IMMIGRANT = range(5)
#: Mean latent work ability by segment (ability ~ N(mean, 1)).
ABILITY_MEAN = np.array([0.6, 0.0, -0.6, 0.3, -0.2], dtype=np.float32)

# ----------------------------------------------------------------------------- exit rates
# Weekly exit hazard at 26 weeks' duration, by segment (rows) and state (columns).
# Columns: SELF_EMP SELF_OUT CB UI SICK REHAB JA LEDY FLEX DP EDU LEAVE EARLY EMIG PENSION DEAD
_R = {
    CORE: [0.0035, 0.040, 0.050, 0.060, 0.070, 0.020, 0.040, 0.050, 0.008, 0, 0.014, 0.040, 0, 0, 0, 0],
    MARGINAL: [0.012, 0.030, 0.020, 0.045, 0.050, 0.015, 0.030, 0.040, 0.010, 0, 0.015, 0.040, 0, 0, 0, 0],
    VULNERABLE: [0.030, 0.020, 0.0065, 0.030, 0.025, 0.010, 0.020, 0.035, 0.010, 0, 0.020, 0.035, 0, 0, 0, 0],
    YOUNG: [0.010, 0.040, 0.022, 0.050, 0.060, 0.015, 0.030, 0.040, 0.010, 0, 0.012, 0.040, 0, 0, 0, 0],
    IMMIGRANT: [0.015, 0.025, 0.011, 0.040, 0.040, 0.012, 0.025, 0.040, 0.010, 0, 0.015, 0.040, 0, 0, 0, 0],
}
RATE = np.array([_R[s] for s in range(5)], dtype=np.float64)
#: Weibull shape of the duration dependence by segment and state (<1 falling, >1 rising hazard).
SHAPE = np.ones((5, N_STATES))
SHAPE[:, [SELF_OUT, CB, REHAB, EDU, LEAVE]] = [0.85, 0.8, 1.1, 1.2, 2.0]
#: Jobs found by marginal, vulnerable and immigrant persons often end within weeks.
SHAPE[:, SELF_EMP] = [0.8, 0.5, 0.5, 0.7, 0.5]
SHAPE[:, CB] = [0.8, 0.65, 0.8, 0.7, 0.75]
#: A job found from a benefit is *fragile* (variant 1) with this probability by segment:
#: it ends with a constant weekly hazard FRAGILE_RATE, mostly back to cash benefit (the
#: revolving door behind seed 002's table 2: a third of those leaving kontanthjælp are back
#: on it three months later).
FRAGILE_SHARE = np.array([0.20, 0.60, 0.70, 0.35, 0.60])
FRAGILE_RATE = 0.12
FRAGILE_DEST = np.zeros(N_STATES)
FRAGILE_DEST[[CB, SELF_OUT, SICK, UI]] = [0.80, 0.10, 0.05, 0.05]
BENEFIT_STATES = (CB, UI, SICK, REHAB, JA, LEDY, EDU, LEAVE)
#: Job finding from cash benefit and rehabilitation falls with the spell's length:
#: weight x max(JOB_DECAY_FLOOR, exp(-d / JOB_DECAY_WEEKS)).
JOB_DECAY_WEEKS, JOB_DECAY_FLOOR = 80.0, 0.15
#: Forced exits (weeks): sickness benefit, UI (incl. 151/152 weeks), jobafklaring.
MAX_WEEKS = {SICK: 52, UI: 130, JA: 104}

# ----------------------------------------------------------------------------- destinations
_ALL = (CORE, MARGINAL, VULNERABLE, YOUNG, IMMIGRANT)
_D: dict[int, dict[tuple[int, ...], dict[int, float]]] = {
    SELF_EMP: {
        (CORE,): {UI: 0.50, SICK: 0.22, LEAVE: 0.12, SELF_OUT: 0.08, CB: 0.04, EDU: 0.04},
        (MARGINAL,): {CB: 0.45, UI: 0.20, SICK: 0.15, SELF_OUT: 0.10, LEAVE: 0.06, EDU: 0.04},
        (VULNERABLE,): {CB: 0.60, SICK: 0.20, SELF_OUT: 0.10, UI: 0.05, LEAVE: 0.05},
        (YOUNG,): {EDU: 0.30, CB: 0.25, UI: 0.15, SICK: 0.10, SELF_OUT: 0.10, LEAVE: 0.10},
        (IMMIGRANT,): {CB: 0.50, UI: 0.15, SICK: 0.15, SELF_OUT: 0.10, LEAVE: 0.10},
    },
    SELF_OUT: {
        (CORE,): {SELF_EMP: 0.60, UI: 0.10, CB: 0.10, EDU: 0.10, LEAVE: 0.05, SICK: 0.05},
        (MARGINAL,): {SELF_EMP: 0.45, CB: 0.35, EDU: 0.10, SICK: 0.05, LEAVE: 0.05},
        (VULNERABLE,): {CB: 0.55, SELF_EMP: 0.20, SICK: 0.15, EDU: 0.05, LEAVE: 0.05},
        (YOUNG,): {EDU: 0.55, SELF_EMP: 0.25, CB: 0.15, LEAVE: 0.05},
        (IMMIGRANT,): {CB: 0.45, SELF_EMP: 0.30, EDU: 0.15, LEAVE: 0.10},
    },
    CB: {  # no sickness benefit from cash benefit (it requires employment or UI)
        (CORE,): {SELF_EMP: 0.65, SELF_OUT: 0.08, EDU: 0.10, UI: 0.06, LEAVE: 0.05, REHAB: 0.03, LEDY: 0.01},
        (MARGINAL,): {SELF_EMP: 0.60, SELF_OUT: 0.10, EDU: 0.08, LEAVE: 0.05, REHAB: 0.08, LEDY: 0.04, UI: 0.02,
                      DP: 0.03},
        (VULNERABLE,): {SELF_EMP: 0.32, SELF_OUT: 0.10, REHAB: 0.16, LEDY: 0.11, DP: 0.11, EDU: 0.04,
                        LEAVE: 0.04},
        (YOUNG,): {SELF_EMP: 0.38, EDU: 0.37, SELF_OUT: 0.10, LEAVE: 0.07, REHAB: 0.08},
        (IMMIGRANT,): {SELF_EMP: 0.48, SELF_OUT: 0.10, EDU: 0.15, LEAVE: 0.08, REHAB: 0.10, LEDY: 0.04, DP: 0.04},
    },
    UI: {
        (CORE, VULNERABLE, YOUNG, IMMIGRANT): {SELF_EMP: 0.80, SICK: 0.07, CB: 0.04, EDU: 0.03, LEAVE: 0.04,
                                               SELF_OUT: 0.02},
        (MARGINAL,): {SELF_EMP: 0.70, CB: 0.12, SICK: 0.08, EDU: 0.03, LEAVE: 0.04, SELF_OUT: 0.03},
    },
    SICK: {
        (CORE,): {SELF_EMP: 0.85, UI: 0.05, SELF_OUT: 0.03, JA: 0.05, REHAB: 0.01, CB: 0.01},
        (MARGINAL,): {SELF_EMP: 0.55, CB: 0.20, JA: 0.10, REHAB: 0.08, UI: 0.04, LEDY: 0.03},
        (VULNERABLE,): {CB: 0.40, SELF_EMP: 0.15, JA: 0.15, REHAB: 0.15, DP: 0.08, LEDY: 0.07},
        (YOUNG,): {SELF_EMP: 0.60, CB: 0.15, EDU: 0.15, JA: 0.05, REHAB: 0.05},
        (IMMIGRANT,): {CB: 0.35, SELF_EMP: 0.35, JA: 0.12, REHAB: 0.10, DP: 0.04, LEDY: 0.04},
    },
    REHAB: {
        (CORE, MARGINAL, YOUNG): {SELF_EMP: 0.35, CB: 0.20, LEDY: 0.20, DP: 0.10, EDU: 0.10, SICK: 0.05},
        (VULNERABLE, IMMIGRANT): {CB: 0.30, LEDY: 0.20, DP: 0.20, SELF_EMP: 0.15, EDU: 0.05, SICK: 0.10},
    },
    JA: {
        (CORE, MARGINAL, YOUNG, IMMIGRANT): {SELF_EMP: 0.35, CB: 0.20, REHAB: 0.25, LEDY: 0.05, SICK: 0.15},
        (VULNERABLE,): {SELF_EMP: 0.15, CB: 0.30, REHAB: 0.35, LEDY: 0.10, DP: 0.10},
    },
    LEDY: {_ALL: {FLEX: 0.80, DP: 0.10, CB: 0.10}},
    FLEX: {_ALL: {LEDY: 0.55, DP: 0.15, SELF_EMP: 0.20, SICK: 0.10}},
    EDU: {
        (CORE, MARGINAL, YOUNG, IMMIGRANT): {SELF_EMP: 0.60, CB: 0.15, UI: 0.10, SELF_OUT: 0.10, LEAVE: 0.05},
        (VULNERABLE,): {CB: 0.40, SELF_EMP: 0.35, SELF_OUT: 0.15, SICK: 0.10},
    },
    LEAVE: {
        (CORE, YOUNG): {SELF_EMP: 0.65, CB: 0.15, UI: 0.10, SELF_OUT: 0.10},
        (MARGINAL, IMMIGRANT): {SELF_EMP: 0.40, CB: 0.40, UI: 0.10, SELF_OUT: 0.10},
        (VULNERABLE,): {CB: 0.55, SELF_EMP: 0.20, SELF_OUT: 0.15, SICK: 0.10},
    },
}


def _dest_table() -> np.ndarray:
    dest = np.zeros((5, N_STATES, N_STATES))
    for src, by_seg in _D.items():
        for segs, weights in by_seg.items():
            for seg in segs:
                for dst, wgt in weights.items():
                    dest[seg, src, dst] = wgt
    sums = dest.sum(axis=2, keepdims=True)
    return np.divide(dest, sums, out=np.zeros_like(dest), where=sums > 0)


DEST = _dest_table()
#: States with regular (hazard-driven) exits.
TRANSIENT = np.zeros(N_STATES, dtype=bool)
TRANSIENT[[SELF_EMP, SELF_OUT, CB, UI, SICK, REHAB, JA, LEDY, FLEX, EDU, LEAVE]] = True
#: Where persons returning from abroad go.
RETURN_DEST = np.array([0.45, 0.30, 0.20, 0.05])  # SELF_EMP, SELF_OUT, CB, EDU
RETURN_STATES = np.array([SELF_EMP, SELF_OUT, CB, EDU], dtype=np.int8)

# ----------------------------------------------------------------------------- fixed events
MORT_A, MORT_B = -10.2, 0.09  # annual mortality exp(A + B * age) (Danish order of magnitude)
MORT_SEGMENT = np.array([0.8, 1.2, 2.5, 1.0, 0.9])
EMIG_HAZARD = np.array([0.0001, 0.0001, 0.00005, 0.0003, 0.0008])  # weekly
RETURN_HAZARD = 0.006  # weekly; about a quarter of emigrants return within a year
EARLY_HAZARD = 0.004  # weekly, from the efterløn age (core and marginal segments)
#: Job-finding multiplier by ISO year (financial crisis 2009-2012, COVID-19 2020).
CYCLE = {2008: 1.1, 2009: 0.75, 2010: 0.75, 2011: 0.8, 2012: 0.8, 2013: 0.85, 2014: 0.9, 2015: 0.95,
         2016: 1.0, 2017: 1.05, 2018: 1.1, 2019: 1.1, 2020: 0.8, 2021: 1.05, 2022: 1.15, 2023: 1.1}

# Flat (segment x state) tables and multiplier bounds for the screening step of simulate.
_RATE_FLAT = RATE.ravel()
_SHAPE_FLAT = SHAPE.ravel()
_D_JOB = DEST[:, :, SELF_EMP].ravel()
_D_OUT = DEST[:, :, SELF_OUT].ravel()
_D_AFK = DEST[:, :, [DP, LEDY, REHAB, FLEX]].sum(axis=2).ravel()
_D_OTHER = DEST.sum(axis=2).ravel() - _D_JOB - _D_OUT - _D_AFK
_ADULT_ONLY = np.array([CB, UI, SICK, REHAB, JA, LEDY, FLEX, DP, EDU, LEAVE])
_OTHER_MAX = 1.6  # largest multiplier of the other destinations (sickness at age 70)
_CYCLE_MIN, _CYCLE_MAX = min(CYCLE.values()), max([*CYCLE.values(), 1.05])

# ----------------------------------------------------------------------------- activation
#: Weekly probability of starting an activation episode when passive, by segment x state.
ACT_START = np.zeros((5, N_STATES))
ACT_START[:, CB] = [0.030, 0.008, 0.004, 0.012, 0.008]
ACT_START[:, UI] = 0.015
ACT_START[:, SICK] = 0.010
ACT_START[:, REHAB] = 0.020
ACT_START[:, LEDY] = 0.015
#: Activity digit weights by state (columns = digit 0..9).
ACT_TYPE = np.zeros((N_STATES, 10))
ACT_TYPE[CB, [3, 4, 5, 6, 7, 8, 9]] = [0.30, 0.08, 0.06, 0.05, 0.15, 0.12, 0.24]
ACT_TYPE[UI, [3, 4, 5, 6, 7, 8]] = [0.45, 0.15, 0.15, 0.05, 0.15, 0.05]
ACT_TYPE[SICK, [3, 7, 8, 9]] = [0.10, 0.10, 0.05, 0.75]
ACT_TYPE[REHAB, [3, 4, 5, 6, 7, 8]] = [0.45, 0.08, 0.04, 0.08, 0.20, 0.15]
ACT_TYPE[LEDY, [3, 5, 6, 7, 8]] = [0.35, 0.05, 0.10, 0.30, 0.20]
#: Episode length in weeks (lowest, highest) by digit.
ACT_LEN = np.array([[0, 0], [0, 0], [0, 0], [2, 10], [8, 26], [13, 26], [13, 26], [4, 13], [4, 13], [3, 12]])
ACT_IS_STATE = np.zeros(N_STATES, dtype=bool)
ACT_IS_STATE[list(ACTIVITY_STATES)] = True
FLEX_SICK_START = 0.003  # weekly start of a sickness episode in fleksjob (code 774)
PRAKTIK_JOB_BOOST = 1.6  # job-finding multiplier during praktik/løntilskud

#: Industry codes (DB07-shaped 6-digit strings; plausible, not a verified nomenclature).
INDUSTRIES = ("471120", "561010", "812100", "494100", "412000", "881000", "869900", "521000",
              "782000", "107100", "851000", "960200")
INDUSTRY_WEIGHTS = np.array([0.14, 0.10, 0.13, 0.08, 0.08, 0.09, 0.08, 0.08, 0.08, 0.04, 0.05, 0.05])

N_UNIFORMS = 13  # uniforms per person and week (see simulate)
#: Week number meaning "never" in :class:`Effects`.
NEVER = np.iinfo(np.int32).max


# ----------------------------------------------------------------------------- containers
@dataclass
class Persons:
    """Person attributes the chain needs (one entry per simulated row)."""

    sex: np.ndarray  # int8, 1 male 2 female
    birth: np.ndarray  # datetime64[D]
    segment: np.ndarray  # int8
    ability: np.ndarray  # float32
    pension_week: np.ndarray = field(init=False)  # DREAM week of state pension age
    efterloen_week: np.ndarray = field(init=False)
    adult_week: np.ndarray = field(init=False)  # DREAM week of the 16th birthday

    def __post_init__(self) -> None:
        birth = self.birth.astype("datetime64[D]")
        byear = birth.astype("datetime64[Y]").astype(int) + 1970
        half = (birth.astype("datetime64[M]").astype(int) % 12) >= 6
        # folkepensionsalder by birth date (background knowledge [I]): 65 before 1954,
        # then +0.5 per half-year to 67 for births from 1 Jul 1955 (68 from 1963).
        pension_age = np.select(
            [byear < 1954, (byear == 1954) & ~half, byear == 1954, (byear == 1955) & ~half, byear < 1963],
            [65.0, 65.5, 66.0, 66.5, 67.0],
            68.0,
        )
        efterloen_age = np.select([byear < 1954, byear < 1959], [60.0, 62.0], 64.0)
        self.pension_week = _week_at_age(birth, pension_age)
        self.efterloen_week = _week_at_age(birth, efterloen_age)
        self.adult_week = _week_at_age(birth, np.full(len(birth), 16.0))

    def __len__(self) -> int:
        return len(self.sex)

    def take(self, rows: np.ndarray) -> Persons:
        """Return the persons at ``rows`` (a copy)."""
        return Persons(self.sex[rows], self.birth[rows], self.segment[rows], self.ability[rows])


def _week_at_age(birth: np.ndarray, age: np.ndarray) -> np.ndarray:
    days = birth.astype("datetime64[D]") + np.round(np.asarray(age) * 365.25).astype("timedelta64[D]")
    return calendar.dream_weeks_of_dates(days).astype(np.int32)


@dataclass
class Chain:
    """The chain's state for every row after some week."""

    state: np.ndarray  # int8
    dur: np.ndarray  # int16, weeks in the state (0 in the entry week)
    var: np.ndarray  # int8, spell variant (see coding)
    act: np.ndarray  # int8, activity digit (0 passive)
    act_left: np.ndarray  # int16, weeks left of the activity episode
    deg: np.ndarray  # uint8, employment degree of the spell in percent (0 = none)
    ind: np.ndarray  # int8, industry index 1..len(INDUSTRIES)

    def copy(self) -> Chain:
        """Deep copy."""
        return Chain(**{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def take(self, rows: np.ndarray) -> Chain:
        """Rows ``rows`` (a copy)."""
        return Chain(**{f.name: getattr(self, f.name)[rows] for f in fields(self)})

    @classmethod
    def stack(cls, chains: list[Chain]) -> Chain:
        """Concatenate chains row-wise."""
        return cls(**{f.name: np.concatenate([getattr(c, f.name) for c in chains]) for f in fields(cls)})


@dataclass
class Effects:
    """Intervention effects for the rows of a simulation (see module docstring).

    ``hr_from``/``hr_to`` and ``window_from``/``window_to`` are DREAM weeks (inclusive
    from, exclusive to); rows with ``hr_from = window_from = int32 max`` are untreated.
    """

    hr_self_support: float
    praktik_rate_ratio: float
    afklaring_rate_ratio: float
    hr_from: np.ndarray
    hr_to: np.ndarray
    window_from: np.ndarray
    window_to: np.ndarray

    @classmethod
    def none(cls, n: int) -> Effects:
        """No treated rows."""
        never = np.full(n, NEVER, dtype=np.int32)
        return cls(1.0, 1.0, 1.0, never, never, never, never)


@dataclass
class SimResult:
    """Recorded weeks of a simulation (rows x weeks from ``first_week``)."""

    first_week: int
    codes: np.ndarray  # int16 DREAM codes
    state: np.ndarray  # int8 latent states
    degree: np.ndarray  # uint8 employment degree in percent in the week (0 = not employed)
    industry: np.ndarray  # int8 industry index (0 = none)
    chain: Chain  # the chain after the last week
    snapshots: dict[int, Chain]


# ----------------------------------------------------------------------------- spell draws
def _draw_variant(ns, seg, u, u2, week, age, integration_until, prev=None) -> np.ndarray:
    var = np.zeros(len(ns), dtype=np.int8)
    if prev is not None:
        var[(ns == SELF_EMP) & np.isin(prev, BENEFIT_STATES) & (u < FRAGILE_SHARE[seg])] = 1
    cb = ns == CB
    p_job = np.array([0.80, 0.55, 0.08, 0.45, 0.25])[seg]
    integ = cb & (seg == IMMIGRANT) & (week < integration_until) & (u < 0.6)
    var[cb & (u2 < p_job)] = CB_JOBPARAT
    var[cb & (u2 >= p_job)] = CB_AKTIVITETSPARAT
    var[integ] = CB_INTEGRATION
    var[(ns == UI) & (u2 < 0.10)] = 1  # partial unemployment (113)
    rh = ns == REHAB
    if week >= W_RESSOURCEFORLOEB:
        var[rh] = np.where(u[rh] < 0.85, RH_RESSOURCEFORLOEB, RH_REVALIDERING)
    else:
        var[rh] = np.where(u[rh] < 0.6, RH_REVALIDERING, RH_FORREVALIDERING)
    var[(ns == DP) & (u < 0.03)] = 1  # skånejob (781)
    edu = ns == EDU
    var[edu & (u >= 0.90)] = 1  # SU uden ydelse (652)
    var[edu & (age >= 25) & (u < 0.08)] = 2  # VUS/SVU (661)
    var[(ns == LEAVE) & (u < 0.10)] = 1  # orlov (412)
    return var


def _draw_degree(ns, seg, var, u, u2) -> np.ndarray:
    deg = np.zeros(len(ns), dtype=np.float64)
    emp = ns == SELF_EMP
    full_share = np.array([0.70, 0.40, 0.05, 0.30, 0.40])[seg]
    low = np.array([50, 20, 15, 20, 20])[seg]
    part = low + (100 - low) * u
    deg[emp] = np.where(u2 < full_share, 100, part)[emp]
    deg[ns == FLEX] = (25 + 45 * u)[ns == FLEX]
    pt_cb = (ns == CB) & (u2 < np.where(var == CB_JOBPARAT, 0.15, 0.03))
    deg[pt_cb] = (10 + 30 * u)[pt_cb]
    pt_ui = (ns == UI) & (var == 1)
    deg[pt_ui] = (20 + 40 * u)[pt_ui]
    return np.clip(np.round(deg), 0, 100).astype(np.uint8)


def _draw_industry(u: np.ndarray) -> np.ndarray:
    cum = np.cumsum(INDUSTRY_WEIGHTS / INDUSTRY_WEIGHTS.sum())
    return (np.searchsorted(cum, u, side="right") + 1).clip(1, len(INDUSTRIES)).astype(np.int8)


def initial_chain(persons: Persons, week: int, rng: np.random.Generator) -> Chain:
    """Draw each person's state at the start of the burn-in (by segment; children self-supported)."""
    n = len(persons)
    init = {
        CORE: {SELF_EMP: 0.85, UI: 0.05, SICK: 0.03, LEAVE: 0.03, SELF_OUT: 0.04},
        MARGINAL: {SELF_EMP: 0.45, CB: 0.35, UI: 0.10, SELF_OUT: 0.10},
        VULNERABLE: {CB: 0.55, SICK: 0.10, REHAB: 0.08, SELF_OUT: 0.12, SELF_EMP: 0.15},
        YOUNG: {EDU: 0.50, SELF_EMP: 0.30, CB: 0.10, SELF_OUT: 0.10},
        IMMIGRANT: {CB: 0.50, SELF_EMP: 0.25, SELF_OUT: 0.15, EDU: 0.10},
    }
    table = np.zeros((5, N_STATES))
    for seg, probs in init.items():
        for st, p in probs.items():
            table[seg, st] = p
    cum = np.cumsum(table, axis=1)[persons.segment]
    u = rng.random(n)
    state = (cum < u[:, None]).sum(axis=1).astype(np.int8)
    age = _age(persons, week)
    state[age < 18.0] = SELF_OUT
    dur = np.minimum(rng.exponential(40.0, n), 300).astype(np.int16)
    u1, u2, u3 = rng.random(n), rng.random(n), rng.random(n)
    var = _draw_variant(state, persons.segment, u1, u2, week, age, NEVER)
    deg = _draw_degree(state, persons.segment, var, u1, u3)
    ind = _draw_industry(rng.random(n))
    zeros8 = np.zeros(n, dtype=np.int8)
    return Chain(state, dur, var, zeros8, np.zeros(n, dtype=np.int16), deg, ind)


def _age(persons: Persons, week: int) -> np.ndarray:
    monday = np.datetime64(calendar.monday_of_dream_week(week), "D")
    return ((monday - persons.birth.astype("datetime64[D]")).astype(np.int64) / 365.25).astype(np.float32)


def _choose(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from non-negative ``weights`` (k x m) with uniforms ``u``."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1:]
    return np.minimum((cum < u[:, None] * total).sum(axis=1), weights.shape[1] - 1)


# ----------------------------------------------------------------------------- the chain
def simulate(
    persons: Persons,
    chain: Chain,
    first_week: int,
    last_week: int,
    rng: np.random.Generator,
    *,
    start: np.ndarray | None = None,
    effects: Effects | None = None,
    keys: np.ndarray | None = None,
    n_streams: int | None = None,
    record_from: int | None = None,
    snapshot_weeks: tuple[int, ...] | frozenset[int] = (),
    integration_until: int | None = None,
) -> SimResult:
    """Run the weekly chain from ``first_week`` to ``last_week`` (DREAM weeks, inclusive).

    Parameters
    ----------
    persons : Persons
        Attributes of the rows.
    chain : Chain
        State of the rows before ``first_week`` (modified in place).
    rng : numpy.random.Generator
        Source of the weekly uniform blocks.
    start : ndarray of int, optional
        Per-row first week in which the row may move (rows are frozen before).
    effects : Effects, optional
        Intervention effects per row.
    keys, n_streams : optional
        Row ``i`` uses random stream ``keys[i]`` of ``n_streams`` (common random numbers).
    record_from : int, optional
        First week whose codes/states are kept (default ``first_week``).
    snapshot_weeks : set of int
        Weeks after which a copy of the chain is kept (for restarting treated rows).
    integration_until : int, optional
        Last week (exclusive) in which new cash-benefit spells of immigrants may be
        integration benefit (default: 2019-W01).

    Returns
    -------
    SimResult
    """
    n = len(persons)
    n_streams = n if keys is None else int(n_streams)
    record_from = first_week if record_from is None else record_from
    n_rec = last_week - record_from + 1
    codes = np.zeros((max(n_rec, 0), n), dtype=np.int16)
    states = np.zeros((max(n_rec, 0), n), dtype=np.int8)
    degree = np.zeros((max(n_rec, 0), n), dtype=np.uint8)
    industry = np.zeros((max(n_rec, 0), n), dtype=np.int8)
    snapshots: dict[int, Chain] = {}
    snap = frozenset(snapshot_weeks)
    if effects is None:
        effects = Effects.none(n)
    if integration_until is None:
        integration_until = calendar.dream_week_from_iso(2019, 1)
    treated_any = bool((effects.hr_from < NEVER).any() or (effects.window_from < NEVER).any())
    seg = persons.segment.astype(np.intp)
    ability = persons.ability.astype(np.float64)
    job_ability = np.exp(0.5 * ability)
    afk_ability = np.exp(-0.4 * ability)
    female = persons.sex == 2
    birth_days = persons.birth.astype("datetime64[D]").astype(np.int64)
    mort_seg = MORT_SEGMENT[seg]
    emig_h = EMIG_HAZARD[seg]
    early_ok = (seg == CORE) | (seg == MARGINAL)
    c = chain
    epoch_days = np.datetime64(calendar.DREAM_EPOCH, "D").astype(np.int64)
    hr_max = np.where(effects.hr_from < NEVER, max(effects.hr_self_support, 1.0), 1.0)
    rr_max = np.where(effects.window_from < NEVER, max(effects.afklaring_rate_ratio, 1.0), 1.0)
    ub_job = job_ability * _CYCLE_MAX * PRAKTIK_JOB_BOOST * hr_max
    ub_out = hr_max
    ub_afk = np.maximum(afk_ability, 1.0) * 3.0 * rr_max

    for w in range(first_week, last_week + 1):
        u = rng.random((N_UNIFORMS, n_streams), dtype=np.float32)
        if keys is not None:
            u = u[:, keys]
        year = calendar.iso_from_dream_week(w)[0]
        cyc = CYCLE.get(year, 1.05)
        monday_days = epoch_days + 7 * (w - 1)
        age = (monday_days - birth_days) / 365.25
        st = c.state
        go = (st != DEAD) & (st != PENSION) & (w >= persons.adult_week)
        if start is not None:
            go &= w >= start
        new = np.full(n, -1, dtype=np.int8)

        # 1. fixed events
        die = go & (u[0] < np.exp(MORT_A + MORT_B * age) * mort_seg / 52.0)
        new[die] = DEAD
        rest = go & ~die
        pens = rest & (w >= persons.pension_week) & (st != EMIG)
        new[pens] = PENSION
        rest &= ~pens
        emig = rest & (st != EMIG) & (st != DP) & (u[1] < emig_h)
        new[emig] = EMIG
        ret = rest & (st == EMIG) & (u[1] < RETURN_HAZARD)
        if ret.any():
            new[ret] = RETURN_STATES[_choose(np.broadcast_to(RETURN_DEST, (int(ret.sum()), 4)), u[3][ret])]
        early = (rest & ~emig & early_ok & (w >= persons.efterloen_week)
                 & ((st == SELF_EMP) | (st == UI) | (st == SELF_OUT)) & (u[1] > 1.0 - EARLY_HAZARD))
        new[early] = EARLY
        mv = rest & ~emig & ~early & TRANSIENT[st]

        # 2. regular exits: screen with an upper bound of the exit probability, then
        #    compute the exact hazard only for rows whose uniform falls below the bound
        #    (identical draws and results as computing it for every row)
        idx = np.flatnonzero(mv)
        if idx.size:
            s = st[idx]
            combo = seg[idx] * N_STATES + s
            d = c.dur[idx].astype(np.float64)
            h_ub = _RATE_FLAT[combo] * ((d + 1.0) / 26.0) ** (_SHAPE_FLAT[combo] - 1.0)
            fragile = (s == SELF_EMP) & (c.var[idx] == 1)
            h_ub = np.where(fragile, FRAGILE_RATE, h_ub)
            h_ub = np.where(s == SELF_EMP, h_ub / _CYCLE_MIN, h_ub)
            w_ub = (_D_JOB[combo] * ub_job[idx] + _D_OUT[combo] * ub_out[idx] + _D_AFK[combo] * ub_afk[idx]
                    + _D_OTHER[combo] * _OTHER_MAX)
            w_ub = np.where(fragile, _OTHER_MAX * ub_out[idx], w_ub)
            forced = np.zeros(idx.size, dtype=bool)
            for fs, limit in MAX_WEEKS.items():
                forced |= (s == fs) & (d >= limit - 1)
            idx = idx[forced | (u[2][idx] < 1.0 - np.exp(-h_ub * w_ub))]
        if idx.size:
            s = st[idx]
            d = c.dur[idx].astype(np.float64)
            ag = age[idx]
            g = seg[idx]
            h0 = RATE[g, s] * ((d + 1.0) / 26.0) ** (SHAPE[g, s] - 1.0)
            h0 = np.where(s == SELF_EMP, h0 / cyc, h0)
            wts = DEST[g, s]  # fancy indexing returns a copy
            fragile = (s == SELF_EMP) & (c.var[idx] == 1)
            if fragile.any():
                h0[fragile] = FRAGILE_RATE / cyc
                wts[fragile] = FRAGILE_DEST
            jm = job_ability[idx] * cyc * np.exp(-0.035 * np.maximum(ag - 45.0, 0.0))
            a_idx = c.act[idx]
            jm = np.where((a_idx == 5) | (a_idx == 6) | (a_idx == 7) | (a_idx == 8), jm * PRAKTIK_JOB_BOOST, jm)
            decay = np.maximum(JOB_DECAY_FLOOR, np.exp(-d / JOB_DECAY_WEEKS))
            jm = np.where((s == CB) | (s == REHAB), jm * decay, jm)
            wts[:, SELF_EMP] *= jm
            af = afk_ability[idx]
            wts[:, DP] *= af * np.minimum(np.exp(0.05 * (ag - 45.0)), 3.0) * (ag >= 25)
            wts[:, LEDY] *= af
            wts[:, REHAB] *= af
            wts[:, SICK] *= np.where(s == SELF_EMP, 1.0 + 0.02 * np.maximum(ag - 40.0, 0.0), 1.0)
            wts[:, EDU] *= np.select([ag < 30, ag < 40, ag < 50], [1.0, 0.4, 0.1], 0.0)
            fem = female[idx]
            wts[:, LEAVE] *= np.where(fem, (ag >= 20) & (ag <= 42), 0.25 * ((ag >= 22) & (ag <= 45)))
            wts[:, JA] *= float(w >= W_JOBAFKLARING) * ((s != SICK) | (d >= 21))
            minor = ag < 18.0  # benefits (and SU) from 18: minors only take jobs or stay at home
            if minor.any():
                wts[np.ix_(minor, _ADULT_ONLY)] = 0.0
            if treated_any:
                in_hr = (effects.hr_from[idx] <= w) & (w < effects.hr_to[idx])
                hr = np.where(in_hr, effects.hr_self_support, 1.0)
                wts[:, SELF_EMP] *= hr
                wts[:, SELF_OUT] *= hr
                in_win = (effects.window_from[idx] <= w) & (w < effects.window_to[idx])
                rr = np.where(in_win, effects.afklaring_rate_ratio, 1.0)
                wts[:, LEDY] *= rr
                wts[:, FLEX] *= rr
                wts[:, DP] *= rr
            total = wts.sum(axis=1)
            p_exit = 1.0 - np.exp(-h0 * total)
            forced = np.zeros(idx.size, dtype=bool)  # recomputed for the screened rows
            for fs, limit in MAX_WEEKS.items():
                forced |= (s == fs) & (d >= limit - 1)
            p_exit[forced] = 1.0
            leave = u[2][idx] < p_exit
            if leave.any():
                lw = wts[leave]
                empty = lw.sum(axis=1) <= 0
                lw[empty, CB] = 1.0
                dest = _choose(lw, u[3][idx[leave]])
                new[idx[leave]] = dest

        # 3. entries
        changed = new >= 0
        ci = np.flatnonzero(changed)
        if ci.size:
            ns = new[ci]
            c.dur[ci] = 0
            c.act[ci] = 0
            c.act_left[ci] = 0
            prev = c.state[ci].copy()
            c.state[ci] = ns
            c.var[ci] = _draw_variant(ns, seg[ci], u[4][ci], u[11][ci], w, age[ci], integration_until, prev)
            c.deg[ci] = _draw_degree(ns, seg[ci], c.var[ci], u[5][ci], u[11][ci])
            newjob = (ns == SELF_EMP) & (u[6][ci] < 0.3)
            if newjob.any():
                c.ind[ci[newjob]] = _draw_industry(u[6][ci[newjob]] / 0.3)
        stay = go & ~changed
        c.dur += stay

        # 4. activation episodes
        ongoing = stay & (c.act > 0)
        if ongoing.any():
            c.act_left[ongoing] -= 1
            done = ongoing & (c.act_left <= 0)
            c.act[done] = 0
        cand = stay & (c.act == 0) & ~ongoing
        flex_sick = cand & (c.state == FLEX) & (u[7] < FLEX_SICK_START)
        if flex_sick.any():
            c.act[flex_sick] = 4
            c.act_left[flex_sick] = (2 + (u[9][flex_sick] * 7).astype(np.int16))
        ai = np.flatnonzero(cand & ACT_IS_STATE[c.state])
        if ai.size:
            sa = c.state[ai]
            tw = ACT_TYPE[sa]  # copy
            if w < W_KONTANTHJAELPSREFORM:
                tw[sa == CB, NYTTE] = 0.0
            base = tw.sum(axis=1)
            p_start = ACT_START[seg[ai], sa]
            if treated_any:
                in_win = (effects.window_from[ai] <= w) & (w < effects.window_to[ai])
                rr = np.where(in_win, effects.praktik_rate_ratio, 1.0)
                tw[:, PRAKTIK_DIGITS[0]] *= rr
                tw[:, PRAKTIK_DIGITS[1]] *= rr
                p_start = p_start * tw.sum(axis=1) / np.where(base > 0, base, 1.0)
            begin = (u[7][ai] < p_start) & (base > 0)
            if begin.any():
                bi = ai[begin]
                digit = _choose(tw[begin], u[8][bi]).astype(np.int8)
                lo, hi = ACT_LEN[digit, 0], ACT_LEN[digit, 1]
                c.act[bi] = digit
                c.act_left[bi] = (lo + (u[9][bi] * (hi - lo + 1)).astype(np.int64)).astype(np.int16)

        # 5. record the week
        if w >= record_from:
            j = w - record_from
            st = c.state
            code = fast_week_codes(st, c.var, c.act, c.dur, age < 30.0, u[10], w)
            deg = np.where((st == SELF_EMP) | ((st == FLEX) & (c.act == 0)), c.deg, 0)
            in_act = ACT_IS_STATE[st]
            deg = np.where(in_act & ((c.act == LOENTILSKUD_DIGITS[0]) | (c.act == LOENTILSKUD_DIGITS[1])), 100, deg)
            deg = np.where(((st == CB) | (st == UI)) & (c.act == 0), c.deg, deg)
            deg = np.where((st == SICK) & (c.act == DELVIS_RASK), 40, deg)
            codes[j] = code
            states[j] = st
            degree[j] = deg
            industry[j] = np.where(deg > 0, c.ind, 0)
        if w in snap:
            snapshots[w] = c.copy()

    return SimResult(
        first_week=record_from,
        codes=np.ascontiguousarray(codes.T),
        state=np.ascontiguousarray(states.T),
        degree=np.ascontiguousarray(degree.T),
        industry=np.ascontiguousarray(industry.T),
        chain=c,
        snapshots=snapshots,
    )


def praktik_mask(codes: np.ndarray) -> np.ndarray:
    """Weeks in a virksomhedspraktik code (last digit 7/8 of an activation family)."""
    lookup = CodeBook.default().codes_where(activities=["virksomhedspraktik_privat", "virksomhedspraktik_offentlig"])
    return lookup[np.clip(codes, 0, len(lookup) - 1)]
