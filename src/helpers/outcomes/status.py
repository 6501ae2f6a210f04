"""Outcome primitives on weekly DREAM codes.

All array functions work on 2-D ``int16`` arrays of codes, one row per person and one
column per week, usually aligned on each person's index week with
:meth:`helpers.core.store.WeeklyStatus.aligned` (column 0 = first week of the window). Code 0
is an empty week (no public transfer); :data:`helpers.core.store.NO_DATA` (-1) marks weeks
outside the extract. Every function is vectorised over persons (no per-person Python
loops), so 200,000 persons x 900 weeks take seconds.

Conventions
-----------
- "Not found" is ``-1`` for column/week positions and ``0`` for codes.
- :data:`NO_DATA` weeks never match anything: they are not self-supported, not employed,
  not an exit and not in any category.
- Death (999) and state pension (998) are absorbing: from the first such week on, no
  week counts as self-supported, employed or in a benefit category unless its own code
  is 998/999 (DREAM glitches after death are ignored). Emigration (997) is not
  absorbing: a person can return, and weeks after the return count as usual.
- A week's month is the calendar month of its ISO Thursday (DREAMtoolsR, LokeSonne).

Person-level wrappers that go from the store to tidy frames:

- :func:`lasting_self_support`: first week of lasting self-support (run of ``n``
  consecutive self-supported weeks after the index week) and the first exit, per
  person; the input of the survival analysis.
- :func:`weeks_by_category_per_year`: person x year-after-index x category week counts;
  the input of the investment calculation.
- :func:`aligned_codes` / :func:`aligned_employment`: weekly codes and monthly employment
  on the index-week grid (one vectorised copy per distinct index week; defined in
  :mod:`helpers.outcomes.aligned`).

Runs, positions and spells of boolean week masks (:func:`run_starts`, :func:`first_true`,
:func:`last_true`, :func:`weeks_in`, :func:`fill_gaps`, :func:`spells_table`,
:func:`spells`) are defined in :mod:`helpers.outcomes.spells`; this module re-exports
them, so ``status.<name>`` reaches every weekly primitive.

Examples
--------
>>> codes = np.array([[730, 0, 0, 0, 0, 730], [0, 0, 730, 0, 0, 0]], dtype=np.int16)
>>> ss = self_supported(codes, CodeBook.default())
>>> run_starts(ss, 3).tolist()
[1, 3]
>>> run_starts(ss, 5).tolist()
[-1, -1]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.core.codes import (
    CATEGORIES,
    DEAD,
    EMIGRATED,
    MAX_CODE,
    STATE_PENSION,
    CodeBook,
)
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.outcomes.aligned import aligned_codes, aligned_employment
from helpers.outcomes.spells import (
    fill_gaps,
    first_true,
    last_true,
    run_starts,
    spells,
    spells_table,
    weeks_in,
)

__all__ = [
    "ABSORBING_CODES", "CATEGORIES_WITH_NO_DATA", "DEFAULT_EXTRA_CODES", "EXIT_CODES", "EXIT_NAMES", "EXIT_STATUSES",
    "STATE_PRIORITY", "absorbed", "aligned_codes", "aligned_employment", "code_mask", "exit_status_at", "fill_gaps",
    "first_exit", "first_true", "last_data_column", "last_true", "lasting_self_support", "observed", "run_starts",
    "self_support_lookup", "self_supported", "share_of_weeks", "spells", "spells_table", "state_at", "status_at",
    "weeks_by_category_per_year", "weeks_in",
]

#: Codes that end or interrupt follow-up: emigration 997, state pension 998, death 999.
EXIT_CODES = (EMIGRATED, STATE_PENSION, DEAD)
#: Exit codes after which a person never returns to the labour market.
ABSORBING_CODES = (STATE_PENSION, DEAD)
#: Codes counted as self-support besides an empty week: holiday pay from employment.
DEFAULT_EXTRA_CODES = (121, 122, 123)
#: Values of ``exit_status`` in outcome frames (see :func:`exit_status_at`).
EXIT_STATUSES = ("none", "emigrated", "state_pension", "dead", "no_data")
EXIT_NAMES = {EMIGRATED: "emigrated", STATE_PENSION: "state_pension", DEAD: "dead"}
#: Default priority of the facts about one week, highest first (see :func:`state_at`).
STATE_PRIORITY = ("dead", "state_pension", "no_data", "emigrated", "benefit", "employed", "self_support")
#: Labels of :func:`weeks_by_category_per_year`: the code categories plus unobserved weeks.
CATEGORIES_WITH_NO_DATA = (*CATEGORIES, "no_data")


# --------------------------------------------------------------------------- basic masks


def code_mask(codes: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Boolean array: each code is marked in ``lookup`` (length-1000 boolean table).

    Weeks with :data:`NO_DATA` (and any code outside ``0 .. len(lookup) - 1``) are False.

    Examples
    --------
    >>> lookup = np.zeros(1000, dtype=bool); lookup[730] = True
    >>> code_mask(np.array([[730, -1, 0]]), lookup).tolist()
    [[True, False, False]]
    """
    codes = np.asarray(codes)
    lookup = np.asarray(lookup, dtype=bool)
    inside = (codes >= 0) & (codes < len(lookup))
    return inside & lookup[np.where(inside, codes, 0)]


def observed(codes: np.ndarray) -> np.ndarray:
    """Boolean array: the week is inside the extract (not :data:`NO_DATA`)."""
    return np.asarray(codes) != NO_DATA


def self_support_lookup(codebook: CodeBook, extra_codes: Iterable[int] = DEFAULT_EXTRA_CODES) -> np.ndarray:
    """Length-1000 boolean table of the codes that count as a self-supported week.

    Marked: 0 (empty week), every code in ``extra_codes``, and every code the study
    re-categorised as ``self_support`` through ``codebook.overrides`` (e.g. SU, 651).
    The shipped dictionary's own ``self_support`` category (121-123) counts only through
    ``extra_codes``, so ``extra_codes=()`` gives the strict "empty week" definition. A code
    listed in ``extra_codes`` counts even if an override moves it to another category.
    """
    lookup = np.zeros(MAX_CODE, dtype=bool)
    lookup[0] = True
    for code in extra_codes:
        code = int(code)
        if not 0 <= code < MAX_CODE:
            raise ValueError(f"self-support extra code {code} is not a DREAM code (0-999)")
        lookup[code] = True
    for code, category in codebook.overrides.items():
        if category == "self_support":
            lookup[int(code)] = True
    return lookup


def self_supported(
    codes: np.ndarray,
    codebook: CodeBook,
    *,
    extra_codes: Iterable[int] = DEFAULT_EXTRA_CODES,
    employed: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean array: self-supported weeks.

    A week is self-supported when it is empty (no public transfer), holds one of
    ``extra_codes`` (default: holiday pay from employment, 121-123), or holds a code the
    study re-categorised as ``self_support`` (see :func:`self_support_lookup`). With
    ``employed`` (same shape, e.g. from :func:`aligned_employment`), the week must also
    fall in a month with employment (DREAMtoolsR's "no benefit and income" rule).
    Weeks from the first death/state-pension week on are never self-supported
    (:func:`absorbed`); :data:`NO_DATA` weeks are not.
    """
    codes = np.asarray(codes)
    mask = code_mask(codes, self_support_lookup(codebook, extra_codes))
    if employed is not None:
        mask &= np.asarray(employed, dtype=bool)
    if codes.ndim == 2:
        mask &= ~absorbed(codes)
    return mask


def absorbed(codes: np.ndarray, absorbing_codes: Iterable[int] = ABSORBING_CODES) -> np.ndarray:
    """Boolean 2-D array: True from the first death/state-pension week of each row onward."""
    codes = np.asarray(codes)
    return np.logical_or.accumulate(np.isin(codes, list(absorbing_codes)), axis=1)



def share_of_weeks(mask: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Share of weeks that are True per row, among ``valid`` weeks (default: all).

    Pass ``valid=observed(codes)`` to leave weeks outside the extract out of the
    denominator; rows without a valid week give NaN.

    Examples
    --------
    >>> codes = np.array([[0, 730, 0, -1]], dtype=np.int16)
    >>> share_of_weeks(self_supported(codes, CodeBook.default()), observed(codes)).round(3).tolist()
    [0.667]
    """
    mask = np.asarray(mask, dtype=bool)
    valid = np.ones(mask.shape, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    denom = valid.sum(axis=1)
    return np.where(denom > 0, (mask & valid).sum(axis=1) / np.maximum(denom, 1), np.nan)


def first_exit(codes: np.ndarray, exit_codes: Iterable[int] = EXIT_CODES) -> tuple[np.ndarray, np.ndarray]:
    """First week with an exit code (emigration 997, state pension 998, death 999) per row.

    Returns
    -------
    column : ndarray of int
        Column of the first exit week, -1 where none.
    code : ndarray of int
        The exit code found there, 0 where none.
    """
    codes = np.asarray(codes)
    mask = np.isin(codes, list(exit_codes))
    col = first_true(mask)
    found = col >= 0
    code = np.zeros(len(col), dtype=np.int64)
    code[found] = codes[np.flatnonzero(found), col[found]]
    return col, code


def last_data_column(codes: np.ndarray) -> np.ndarray:
    """Last column per row that is inside the extract (not NO_DATA); -1 if none."""
    return last_true(observed(codes))


def status_at(codes: np.ndarray, column: int | np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Boolean per row: the code in ``column`` (one column, or one per row) is marked in ``lookup``.

    This is the raw code in the week; :func:`state_at` applies the priority rules
    (absorbing death, employment) when a week has several facts.
    """
    codes = np.asarray(codes)
    column = np.broadcast_to(np.asarray(column, dtype=np.int64), (codes.shape[0],))
    return code_mask(codes[np.arange(codes.shape[0]), column], lookup)


def exit_status_at(codes: np.ndarray, column: int | np.ndarray) -> np.ndarray:
    """Exit status of each row at ``column`` (one column, or one per row).

    ``"dead"`` when a 999 occurs in columns ``0 .. column``; else ``"state_pension"``
    when a 998 occurs there; else ``"emigrated"`` when the code *in* ``column`` is 997
    (an emigration that lasts until the column; a person who returned before it is not
    an exit); else ``"none"``. Weeks before column 0 are not looked at, so align the
    codes with column 0 = index week.

    Returns
    -------
    ndarray of str (object)
    """
    codes = np.asarray(codes)
    n = codes.shape[0]
    column = np.broadcast_to(np.asarray(column, dtype=np.int64), (n,))
    dead = first_true(codes == DEAD)
    pension = first_true(codes == STATE_PENSION)
    out = np.full(n, "none", dtype=object)
    out[codes[np.arange(n), column] == EMIGRATED] = "emigrated"
    out[(pension >= 0) & (pension <= column)] = "state_pension"
    out[(dead >= 0) & (dead <= column)] = "dead"
    return out


def state_at(
    codes: np.ndarray,
    column: int | np.ndarray,
    codebook: CodeBook,
    *,
    employed: np.ndarray | None = None,
    extra_codes: Iterable[int] = DEFAULT_EXTRA_CODES,
    priority: Sequence[str] = STATE_PRIORITY,
) -> np.ndarray:
    """Status of each row in week ``column``, resolving several facts by a stated priority.

    A week can carry several facts; the first one in ``priority`` that holds wins:

    ``"dead"``
        a 999 in columns ``0 .. column`` (death is absorbing).
    ``"state_pension"``
        a 998 in columns ``0 .. column`` (absorbing).
    ``"no_data"``
        the week is outside the extract.
    ``"emigrated"``
        the week's code is 997.
    ``"benefit"``
        the week holds a public transfer; the result is then the code's analysis
        category (``"cash_benefit"``, ``"flexjob"``, ...; see :data:`helpers.core.codes.CATEGORIES`).
    ``"employed"``
        employment in the week's month (needs ``employed``, same shape as ``codes``).
    ``"self_support"``
        a self-supported week (:func:`self_support_lookup`).

    The default (:data:`STATE_PRIORITY`) follows jobindsats' after-status hierarchy:
    exits first, then benefits, then wage employment, then self-support. So a week with
    cash benefit and a wage in the month is ``"cash_benefit"``; an empty week with a wage
    is ``"employed"``. Put ``"employed"`` before ``"benefit"`` to count any week with a
    wage as employed. Rows where no listed fact holds get ``"unresolved"``.

    Returns
    -------
    ndarray of str (object)
    """
    codes = np.asarray(codes)
    n = codes.shape[0]
    rows = np.arange(n)
    column = np.broadcast_to(np.asarray(column, dtype=np.int64), (n,))
    week = codes[rows, column]
    ss_lookup = self_support_lookup(codebook, extra_codes)
    is_ss = code_mask(week, ss_lookup)
    dead = first_true(codes == DEAD)
    pension = first_true(codes == STATE_PENSION)
    facts = {
        "dead": (dead >= 0) & (dead <= column),
        "state_pension": (pension >= 0) & (pension <= column),
        "no_data": week == NO_DATA,
        "emigrated": week == EMIGRATED,
        "benefit": (week >= 0) & ~is_ss & ~np.isin(week, EXIT_CODES),
        "employed": np.zeros(n, dtype=bool) if employed is None else np.asarray(employed, dtype=bool)[rows, column],
        "self_support": is_ss,
    }
    unknown = [p for p in priority if p not in facts]
    if unknown:
        raise ValueError(f"priority names unknown facts {unknown}; use some of {list(facts)}")
    out = np.full(n, "unresolved", dtype=object)
    done = np.zeros(n, dtype=bool)
    benefit_names = codebook.category_names(np.where(week >= 0, week, 0))
    for name in priority:
        hit = facts[name] & ~done
        out[hit] = benefit_names[hit] if name == "benefit" else name
        done |= hit
    return out



def lasting_self_support(
    weekly: WeeklyStatus,
    monthly: MonthlyEmployment | None,
    rows: np.ndarray,
    index_weeks: np.ndarray,
    n: int = 4,
    require_employment: bool = False,
    *,
    codebook: CodeBook | None = None,
    extra_codes: Iterable[int] = DEFAULT_EXTRA_CODES,
) -> pd.DataFrame:
    """First week of lasting self-support and first exit after each person's index week.

    Lasting self-support starts in the first week ``k >= 1`` after the index week that
    begins a run of at least ``n`` consecutive self-supported weeks (:func:`self_supported`
    with ``extra_codes`` and the codebook's overrides; with ``require_employment`` the
    month of each week must also have employment). The run must lie wholly inside the
    data: a run cut off by the end of the extract does not count (so runs starting after
    ``last_start_week`` cannot be seen). Exits are searched from the index week on.

    Parameters
    ----------
    weekly : WeeklyStatus
    monthly : MonthlyEmployment or None
        Needed only with ``require_employment``.
    rows : array of int
        Rows of ``weekly`` (e.g. ``weekly.rows_of(cohort.person_id)``); duplicates allowed.
    index_weeks : array of int
        DREAM week of each person's index week (week 0).
    n : int
        Consecutive self-supported weeks required (study ``survival.lasting_weeks``).
    require_employment : bool
    codebook : CodeBook, optional
        Default: the shipped dictionary without overrides.
    extra_codes : iterable of int

    Returns
    -------
    DataFrame
        One row per input row, same order (index 0..n-1), columns:

        - ``person_id``, ``index_week``
        - ``lasting_week``: weeks after the index week of the first week of the first
          lasting run (>= 1), -1 if none is seen.
        - ``exit_week``, ``exit_code``: first week (>= 0) with 997/998/999 and its code;
          -1 and 0 if none. An emigration may be followed by a return and a later
          ``lasting_week``; the survival analysis decides which event comes first.
        - ``disability_pension_week``: first week (>= 0) in the ``disability_pension``
          category (781, 783), -1 if none.
        - ``last_week``: last observed week after the index week (end of follow-up; with
          ``require_employment`` also within the monthly data).
        - ``last_start_week``: ``last_week - n + 1``, the last week in which a lasting
          run can start and still be seen; censor time-to-event analyses here.

    Examples
    --------
    >>> ws = WeeklyStatus(np.array(["a"]), 100, np.array([[730, 730, 0, 0, 0, 0, 999]]))
    >>> lasting_self_support(ws, None, np.array([0]), np.array([100]), n=3)[
    ...     ["lasting_week", "exit_week", "exit_code", "last_week", "last_start_week"]].iloc[0].tolist()
    [2, 6, 999, 6, 4]
    """
    codebook = codebook or CodeBook.default()
    rows = np.asarray(rows, dtype=np.int64)
    index_weeks = np.asarray(index_weeks, dtype=np.int64)
    if len(rows) != len(index_weeks):
        raise ValueError("rows and index_weeks must have the same length")
    if n < 1:
        raise ValueError("n must be at least 1")
    stop = max(int(weekly.last_week - index_weeks.min()) + 1, 1) if len(rows) else 1
    codes = aligned_codes(weekly, rows, index_weeks, 0, stop)
    employed = None
    valid = observed(codes)
    if require_employment:
        if monthly is None:
            raise ValueError("require_employment=True needs monthly employment data (monthly.parquet)")
        employed, covered = aligned_employment(monthly, weekly.person_id[rows], index_weeks, 0, stop)
        valid &= covered
    ss = self_supported(codes, codebook, extra_codes=extra_codes, employed=employed)
    ss[:, 0] = False  # the run starts after the index week
    lasting = run_starts(ss, n)
    exit_col, exit_code = first_exit(codes)
    dp = first_true(code_mask(codes, codebook.codes_where(categories=["disability_pension"])))
    last = last_true(valid)
    return pd.DataFrame(
        {
            "person_id": weekly.person_id[rows],
            "index_week": index_weeks,
            "lasting_week": lasting,
            "exit_week": exit_col,
            "exit_code": exit_code,
            "disability_pension_week": dp,
            "last_week": last,
            "last_start_week": np.where(last >= 0, np.maximum(last - n + 1, -1), -1),
        }
    )


def weeks_by_category_per_year(
    weekly: WeeklyStatus,
    rows: np.ndarray,
    index_weeks: np.ndarray,
    years: int,
    codebook: CodeBook,
    *,
    weeks_per_year: int = 52,
    start: int = 0,
) -> pd.DataFrame:
    """Weeks in each analysis category per year after the index week (tidy, dense).

    Year ``y`` (1 .. ``years``) covers weeks ``start + (y-1)*weeks_per_year`` ..
    ``start + y*weeks_per_year - 1`` after the index week; by default year 1 is the index
    week and the 51 weeks after it. A "year" is a fixed number of weeks, not a calendar
    year, so ISO week 53 is simply one more week. Codes are classified with
    ``codebook.categories`` (study overrides apply; 121-123 are ``self_support``, 997
    ``emigrated``, 998 ``retirement``, 999 ``dead``); weeks outside the extract are
    ``"no_data"``. Every person x year x category combination is present (zeros included),
    so group means can be taken directly.

    Returns
    -------
    DataFrame
        Columns ``unit`` (position of the input row; tells apart a person used twice),
        ``person_id``, ``index_week``, ``year`` (int), ``category`` (str, one of
        :data:`CATEGORIES_WITH_NO_DATA`, in that order), ``weeks`` (int). Rows ordered by
        unit, year, category; ``weeks`` sum to ``weeks_per_year`` for each unit and year.
    """
    rows = np.asarray(rows, dtype=np.int64)
    index_weeks = np.asarray(index_weeks, dtype=np.int64)
    if years < 1 or weeks_per_year < 1:
        raise ValueError("years and weeks_per_year must be at least 1")
    n_units = len(rows)
    k = len(CATEGORIES_WITH_NO_DATA)
    codes = aligned_codes(weekly, rows, index_weeks, start, start + years * weeks_per_year)
    cats = codebook.categories(codes).astype(np.int64)
    cats[codes == NO_DATA] = k - 1
    year_of_col = np.repeat(np.arange(years), weeks_per_year)
    flat = (np.arange(n_units)[:, None] * years + year_of_col[None, :]) * k + cats
    counts = np.bincount(flat.ravel(), minlength=n_units * years * k)
    unit = np.repeat(np.arange(n_units, dtype=np.int64), years * k)
    names = np.asarray(CATEGORIES_WITH_NO_DATA, dtype=object)
    return pd.DataFrame(
        {
            "unit": unit,
            "person_id": weekly.person_id[rows][unit],
            "index_week": index_weeks[unit],
            "year": np.tile(np.repeat(np.arange(1, years + 1, dtype=np.int64), k), n_units),
            "category": np.tile(names, n_units * years),
            "weeks": counts.astype(np.int64),
        },
        copy=False,
    )
