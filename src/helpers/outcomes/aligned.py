"""Weekly codes and monthly employment on the index-week grid (column 0 = first week of the window).

:func:`aligned_codes` copies each person's weekly DREAM codes from ``index_week + start`` to
``index_week + stop - 1`` (one vectorised copy per distinct index week; weeks outside the
extract are :data:`helpers.core.store.NO_DATA`), and :func:`aligned_employment` puts the
monthly employment degree on the same grid (a week's month is the calendar month of its
ISO Thursday).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.core import calendar
from helpers.core.progress import bar
from helpers.core.store import MonthlyEmployment, WeeklyStatus, groups_by_index_week


def aligned_codes(weekly: WeeklyStatus, rows: np.ndarray, index_weeks: np.ndarray, start: int, stop: int) -> np.ndarray:
    """:meth:`WeeklyStatus.aligned`, with a progress bar for register-scale calls (> 100,000 rows)."""
    progress = None
    if len(rows) > 100_000:
        n_weeks = len(np.unique(index_weeks))
        progress = lambda groups: bar(groups, total=n_weeks, desc="weekly codes by index week",  # noqa: E731
                                      unit="week")
    return weekly.aligned(rows, index_weeks, start, stop, progress=progress)


def aligned_employment(
    monthly: MonthlyEmployment,
    person_ids: Sequence[str] | np.ndarray,
    index_weeks: np.ndarray,
    start: int,
    stop: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Monthly employment on the grid of :meth:`WeeklyStatus.aligned`.

    Week ``index_week + k`` (``k`` in ``start .. stop - 1``) is employed when the month
    of its ISO Thursday has an employment degree above 0 (``grad``; 1.0 when only
    ``branche`` was present). ``monthly`` may hold its persons in any order.

    Returns
    -------
    employed : ndarray of bool, shape (n, stop - start)
    covered : ndarray of bool, same shape
        The week's month lies inside the monthly data (False weeks are unknown, not
        "not employed").

    Raises
    ------
    KeyError
        If a person is missing from the monthly data.
    """
    index_weeks = np.asarray(index_weeks, dtype=np.int64)
    mrows = pd.Index(monthly.person_id).get_indexer(pd.Index(np.asarray(person_ids, dtype=object)))
    if (mrows < 0).any():
        raise KeyError(
            f"{int((mrows < 0).sum())} persons are missing from the monthly employment data "
            "(monthly.parquet); re-run 01_ingest so monthly and weekly hold the same persons"
        )
    degree = np.asarray(monthly.degree)
    n_months = degree.shape[1]
    n, width = len(index_weeks), stop - start
    employed = np.zeros((n, width), dtype=bool)
    covered = np.zeros((n, width), dtype=bool)
    if n == 0 or width <= 0:
        return employed, covered
    # month column of every DREAM week from the earliest to the latest week needed
    lo = int(index_weeks.min()) + start
    hi = int(index_weeks.max()) + stop - 1
    months = calendar.months_of_dream_weeks(np.arange(lo, hi + 1)) - monthly.first_month
    in_range = (months >= 0) & (months < n_months)
    cols = np.clip(months, 0, max(n_months - 1, 0))
    employed_in_month = degree[mrows] > 0 if n_months else np.zeros((n, 1), dtype=bool)
    # one vectorised gather per distinct index week (not per person)
    for week, who in groups_by_index_week(index_weeks):
        a = week + start - lo
        covered[who] = in_range[a:a + width]
        employed[who] = employed_in_month[who][:, cols[a:a + width]] & in_range[a:a + width]
    return employed, covered
