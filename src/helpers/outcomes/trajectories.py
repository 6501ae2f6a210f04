"""Weekly analysis states around the index week, and weeks in each state over windows of years.

Every week of a person, from ``weeks_before`` before the index week to the end of the data,
gets one of the analysis states :data:`STATES` (stacking order of the state distribution
plot), or :data:`NO_STATE` when the week lies outside the extract:

``employed``
    a self-supported week (the study's rule, :func:`helpers.outcomes.status.self_supported`:
    empty week or ``data.self_support.extra_codes``, never after death or state pension)
    with employment (``grad`` > 0) in the calendar month of the week's ISO Thursday, the
    outcomes' ``employed`` rule;
``no_wage``
    a week without a public transfer and without employment in the month (self-supported
    unless ``data.self_support.require_employment``);
``cash_benefit``, ``education_benefit``, ``ressourceforloeb``, ``sickness``, ``flexjob``, ``disability_pension``, ``other_benefit``
    a benefit week, by the code's category in the code dictionary
    (:data:`STATE_OF_CATEGORY`; ``data.category_overrides`` apply) with uddannelseshjælp
    (subcategory ``uddannelseshjaelp``) as ``education_benefit``
    (:data:`STATE_OF_SUBCATEGORY`); ``trajectories.code_states`` overrides single codes;
``exit``
    emigration (997, for as long as it lasts), state pension (998) and death (999), and
    every week after the first 998/999 (absorbing, as in :mod:`helpers.outcomes.status`).

This is the alphabet of a TraMineR state sequence object (``seqdef``); the state
distribution of :func:`state_distribution` is TraMineR's ``seqstatd``: at each position the
(weighted) number of sequences in each state divided by the (weighted) number with a valid
state there, so weeks outside the extract leave the denominator.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from helpers.config.schema.trajectories import TRAJECTORY_STATES
from helpers.core.codes import CATEGORIES, DEAD, EMIGRATED, MAX_CODE, STATE_PENSION, CodeBook
from helpers.core.store import NO_DATA, MonthlyEmployment, WeeklyStatus
from helpers.outcomes.status import (
    DEFAULT_EXTRA_CODES,
    absorbed,
    aligned_codes,
    aligned_employment,
    self_supported,
)

#: Analysis states, in stacking order (index = state number in :func:`weekly_states`).
STATES: tuple[str, ...] = TRAJECTORY_STATES
STATE_INDEX = {name: i for i, name in enumerate(STATES)}
#: State number of a week outside the extract.
NO_STATE = -1
#: Measures of :func:`weeks_in_windows`: self-supported weeks (the study's rule), then each state.
SELF_SUPPORT = "self_support"
MEASURES: tuple[str, ...] = (SELF_SUPPORT, *STATES)
#: Weeks in a window year (the investment's year: :func:`helpers.outcomes.status.weeks_by_category_per_year`).
WEEKS_PER_YEAR = 52

#: Code-dictionary category -> analysis state (``self_support`` codes count as benefits only
#: when the study's self-support rule does not count them: then they are ``other_benefit``).
STATE_OF_CATEGORY: dict[str, str] = {
    "self_support": "other_benefit",
    "cash_benefit": "cash_benefit",
    "ui_benefit": "other_benefit",
    "sickness": "sickness",
    "flexjob": "flexjob",
    "rehab_clarification": "ressourceforloeb",
    "disability_pension": "disability_pension",
    "education": "other_benefit",
    "retirement": "other_benefit",
    "other": "other_benefit",
    "emigrated": "exit",
    "dead": "exit",
    "unknown": "other_benefit",
}
#: Subcategories with a state of their own (codes whose category the study did not override).
STATE_OF_SUBCATEGORY: dict[str, str] = {"uddannelseshjaelp": "education_benefit"}


def state_lookup(codebook: CodeBook, code_states: Mapping[int, str] | None = None) -> np.ndarray:
    """Analysis state number of every code 0..999 as a benefit week (length-1000 int8 table).

    Code 0 (an empty week) is ``no_wage``; :func:`weekly_states` then moves self-supported
    weeks to ``employed`` or ``no_wage``. 998 is ``exit`` (state pension), although the
    dictionary files it under ``retirement``.
    """
    missing = set(CATEGORIES) - set(STATE_OF_CATEGORY)
    if missing:
        raise ValueError(f"STATE_OF_CATEGORY lacks categories {sorted(missing)}")
    names = codebook.category_names(np.arange(MAX_CODE))
    lookup = np.array([STATE_INDEX[STATE_OF_CATEGORY[c]] for c in names], dtype=np.int8)
    table = codebook.table
    overridden = {int(c) for c in codebook.overrides}
    for sub, state in STATE_OF_SUBCATEGORY.items():
        codes = [int(c) for c in table.loc[table["subcategory"] == sub, "code"] if int(c) not in overridden]
        lookup[codes] = STATE_INDEX[state]
    lookup[[EMIGRATED, STATE_PENSION, DEAD]] = STATE_INDEX["exit"]
    lookup[0] = STATE_INDEX["no_wage"]
    for code, state in (code_states or {}).items():
        lookup[int(code)] = STATE_INDEX[state]
    return lookup


def weekly_states(
    codes: np.ndarray,
    codebook: CodeBook,
    *,
    employed: np.ndarray | None = None,
    extra_codes: Iterable[int] = DEFAULT_EXTRA_CODES,
    require_employment: bool = False,
    code_states: Mapping[int, str] | None = None,
) -> np.ndarray:
    """Analysis state of every week (see the module docstring).

    Parameters
    ----------
    codes : ndarray of int, shape (n, k)
        Aligned weekly codes (:data:`helpers.core.store.NO_DATA` outside the extract).
    codebook : CodeBook
        With the study's ``data.category_overrides``.
    employed : ndarray of bool, optional
        Employment in the week's month (:func:`helpers.outcomes.status.aligned_employment`);
        without it no week is ``employed``.
    extra_codes, require_employment
        The study's self-support rule (``data.self_support``).
    code_states : mapping of int to str, optional
        ``trajectories.code_states``.

    Returns
    -------
    ndarray of int8, shape (n, k)
        Index into :data:`STATES`; :data:`NO_STATE` outside the extract.

    Examples
    --------
    >>> codes = np.array([[730, 0, 0, 720, 810, 997, 0, 999, 0, -1]])
    >>> job = np.array([[0, 1, 0, 0, 0, 0, 0, 0, 1, 0]], dtype=bool)
    >>> [STATES[s] if s >= 0 else "-" for s in weekly_states(codes, CodeBook.default(), employed=job)[0]]
    ['cash_benefit', 'employed', 'no_wage', 'education_benefit', 'ressourceforloeb', 'exit', 'no_wage', 'exit', 'exit', '-']
    """
    codes = np.asarray(codes)
    job = np.zeros(codes.shape, dtype=bool) if employed is None else np.asarray(employed, dtype=bool)
    lookup = state_lookup(codebook, code_states)
    inside = (codes >= 0) & (codes < MAX_CODE)
    out = lookup[np.where(inside, codes, 0)].astype(np.int8)
    ss = self_supported(codes, codebook, extra_codes=extra_codes, employed=job if require_employment else None)
    out[ss & job] = STATE_INDEX["employed"]
    out[ss & ~job] = STATE_INDEX["no_wage"]
    if codes.ndim == 2:
        out[absorbed(codes)] = STATE_INDEX["exit"]
    out[codes == NO_DATA] = NO_STATE
    return out


def self_support_states(require_employment: bool) -> tuple[int, ...]:
    """State numbers that are self-supported weeks under the study's rule."""
    names = ("employed",) if require_employment else ("employed", "no_wage")
    return tuple(STATE_INDEX[n] for n in names)


def state_matrix(
    weekly: WeeklyStatus,
    monthly: MonthlyEmployment | None,
    rows: np.ndarray,
    index_weeks: np.ndarray,
    start: int,
    stop: int,
    study,
) -> np.ndarray:
    """States of weeks ``index_week + start`` .. ``index_week + stop - 1`` of every row, by the study's rules.

    ``monthly`` may be None when the extract has no employment data; then no week is
    ``employed`` (and none is self-supported under ``require_employment``).
    """
    codes = aligned_codes(weekly, rows, index_weeks, start, stop)
    employed = None
    if monthly is not None and len(rows):
        employed, covered = aligned_employment(monthly, weekly.person_id[np.asarray(rows)], index_weeks, start, stop)
        employed &= covered
    book = CodeBook.default(study.data.category_overrides)
    rule = study.data.self_support
    return weekly_states(codes, book, employed=employed, extra_codes=rule.extra_codes,
                         require_employment=rule.require_employment, code_states=study.trajectories.code_states)


def indicator(states: np.ndarray, measure: str, require_employment: bool = False) -> np.ndarray:
    """Boolean weeks of one measure (:data:`MEASURES`): a state, or ``self_support`` (the study's rule)."""
    states = np.asarray(states)
    if measure == SELF_SUPPORT:
        return np.isin(states, self_support_states(require_employment))
    return states == STATE_INDEX[measure]


def weeks_in_windows(
    states: np.ndarray,
    start: int,
    years: Iterable[int],
    *,
    require_employment: bool = False,
    measures: Iterable[str] = MEASURES,
) -> pd.DataFrame:
    """Weeks in each measure in the first ``y`` years after, and the ``y`` years before, the index week.

    The window of ``y`` years after is weeks ``0 .. 52y - 1`` from the index week (year 1 is
    the index week and the 51 weeks after it, as in the investment,
    :func:`helpers.outcomes.status.weeks_by_category_per_year`); before, weeks ``-52y .. -1``.
    A row is ``complete`` when every week of its window is inside the extract; an
    incomplete window's ``weeks`` count only the weeks held (leave it out of means).

    Parameters
    ----------
    states : ndarray, shape (n, k)
        :func:`state_matrix` output; column 0 is week ``start`` relative to the index week.
    start : int
        Relative week of column 0 (negative: weeks before the index week).
    years : iterable of int

    Returns
    -------
    DataFrame
        ``unit`` (input row), ``period`` (``"after"``/``"before"``), ``years``,
        ``window_weeks``, ``measure``, ``weeks`` (int), ``complete`` (bool); ordered by
        period, years, measure, unit.
    """
    states = np.asarray(states)
    n, k = states.shape
    measures = list(measures)
    masks = {m: indicator(states, m, require_employment) for m in measures}
    valid = states != NO_STATE
    frames = []
    for period in ("after", "before"):
        for y in sorted(set(years)):
            width = WEEKS_PER_YEAR * int(y)
            lo = (0 if period == "after" else -width) - start
            hi = lo + width
            a, b = max(lo, 0), min(hi, k)
            held = valid[:, a:b].sum(axis=1) if a < b else np.zeros(n, dtype=np.int64)
            complete = held == width
            for m in measures:
                weeks = masks[m][:, a:b].sum(axis=1) if a < b else np.zeros(n, dtype=np.int64)
                frames.append(pd.DataFrame({"unit": np.arange(n), "period": period, "years": int(y),
                                            "window_weeks": width, "measure": m,
                                            "weeks": weeks.astype(np.int64), "complete": complete}))
    if not frames:
        return pd.DataFrame(columns=["unit", "period", "years", "window_weeks", "measure", "weeks", "complete"])
    return pd.concat(frames, ignore_index=True)


def state_counts(states: np.ndarray, groups: np.ndarray, weights: np.ndarray, persons: np.ndarray,
                 columns: np.ndarray, group_names: Iterable[str]) -> pd.DataFrame:
    """Persons and weighted shares in each state, per group and column (TraMineR's ``seqstatd``).

    Parameters
    ----------
    states : ndarray, shape (n, k)
        :func:`state_matrix` output.
    groups : ndarray of str, shape (n,)
    weights : ndarray of float, shape (n,)
        Analysis (matching) weights; the share of a state is the weighted number of rows in it
        over the weighted number of rows with a state in the column.
    persons : ndarray, shape (n,)
        Person of each row; ``persons`` counts distinct persons (a control used in two
        matched sets at the same index week counts once).
    columns : ndarray of int
        Columns of ``states`` to count (e.g. every 4th week).
    group_names : iterable of str

    Returns
    -------
    DataFrame
        ``group, column, state, persons, observed, share`` (one row per group x column x
        state of :data:`STATES`; ``observed`` = distinct persons with a state in the column;
        ``share`` NaN where nobody is observed).
    """
    states = np.asarray(states)
    weights = np.asarray(weights, dtype=float)
    codes, _ = pd.factorize(pd.Series(np.asarray(persons, dtype=object)))
    frames = []
    n_states = len(STATES)
    for g in group_names:
        sel = np.flatnonzero(np.asarray(groups) == g)
        sub = states[sel][:, columns]
        w = weights[sel]
        pid = codes[sel]
        for j, col in enumerate(columns):
            s = sub[:, j]
            ok = s != NO_STATE
            wsum = np.bincount(s[ok], weights=w[ok], minlength=n_states)
            total = w[ok].sum()
            distinct = pd.DataFrame({"p": pid[ok], "s": s[ok]}).drop_duplicates()
            n_in = np.bincount(distinct["s"].to_numpy(dtype=np.int64), minlength=n_states)
            frames.append(pd.DataFrame({
                "group": g, "column": int(col), "state": list(STATES), "persons": n_in.astype(np.int64),
                "observed": int(len(np.unique(pid[ok]))),
                "share": wsum / total if total > 0 else np.full(n_states, np.nan),
            }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["group", "column", "state", "persons", "observed", "share"])
