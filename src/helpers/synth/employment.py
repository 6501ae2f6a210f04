"""Monthly employment columns (``branche_YYYY_MM``, ``grad_YYYY_MM``) from weekly latent degrees.

A week belongs to the month of its ISO Thursday (:func:`helpers.core.calendar.months_of_dream_weeks`).
``grad`` is the mean weekly employment degree over the weeks of the month (weeks without
employment count as 0), rounded to two decimals and kept in (0, 1]; ``branche`` is the
industry of the person's employment in the month (the highest industry index seen in the
month's weeks, which is the current job in all but switching months). Both are empty when
no week of the month has employment. Columns start in January of
``max(first_year, 2008)`` (DREAM's monthly variables start in 2008).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from helpers.core import calendar
from helpers.synth.model import INDUSTRIES


@dataclass
class Monthly:
    """Monthly employment (rows = persons)."""

    months: list[tuple[int, int]]  # (year, month) of each column
    grad: np.ndarray  # float64, NaN = none
    branche: np.ndarray  # int8 industry index, 0 = none

    def branche_strings(self) -> np.ndarray:
        """Industry codes as strings (None = empty)."""
        lut = np.array([None, *INDUSTRIES], dtype=object)
        return lut[self.branche]


def monthly_employment(degree: np.ndarray, industry: np.ndarray, first_week: int) -> Monthly:
    """Aggregate weekly degrees (uint8 percent) and industries to months.

    Parameters
    ----------
    degree, industry : ndarray, persons x weeks
        Weekly employment degree in percent (0 = not employed) and industry index.
    first_week : int
        DREAM week of column 0.
    """
    n_weeks = degree.shape[1]
    weeks = np.arange(first_week, first_week + n_weeks)
    month_idx = calendar.months_of_dream_weeks(weeks)
    keep = month_idx >= 2008 * 12
    first_col = int(np.argmax(keep)) if keep.any() else n_weeks
    month_idx = month_idx[first_col:]
    starts = np.flatnonzero(np.r_[True, month_idx[1:] != month_idx[:-1]])
    counts = np.diff(np.r_[starts, len(month_idx)])
    if len(month_idx) == 0:
        return Monthly([], np.zeros((len(degree), 0)), np.zeros((len(degree), 0), dtype=np.int8))
    # reduce over weeks along the first axis of the week-major copy (contiguous rows: fast)
    deg = np.ascontiguousarray(degree[:, first_col:].T, dtype=np.int32)
    total = np.add.reduceat(deg, starts, axis=0).T
    grad = total / (100.0 * counts)
    grad = np.where(total > 0, np.clip(np.round(grad, 2), 0.01, 1.0), np.nan)
    ind = np.ascontiguousarray(industry[:, first_col:].T)
    branche = np.maximum.reduceat(ind, starts, axis=0).T
    branche = np.where(total > 0, branche, 0).astype(np.int8)
    months = [(int(m) // 12, int(m) % 12 + 1) for m in month_idx[starts]]
    return Monthly(months, grad, branche)
