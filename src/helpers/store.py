"""The processed store under ``data/processed/<study>/`` and its in-memory containers.

Files (written atomically by :mod:`helpers.ingest`; see docs/architecture.md):

- ``persons.parquet``: ``person_id`` (keyed hash), ``sex`` (1 male, 2 female), ``birth_date``.
- ``residence.parquet``: ``person_id``, ``year``, ``municipality`` (long).
- ``weekly.parquet``: ``person_id`` then one ``int16`` column per DREAM week named ``w<dream_week>``;
  0 = empty week (no public transfer). Rows in the order of ``persons.parquet``.
- ``monthly.parquet``: ``person_id`` then one ``float32`` column per month named ``m<YYYY>_<MM>``:
  employment degree (``grad``) in the month, 1.0 when only ``branche`` is present, NaN = none.
- ``forms_<name>.parquet``: the project forms with ``person_id`` instead of the raw ID.
- ``manifest.json``: input checksums, row counts, parameters, outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from helpers import calendar

NO_DATA = -1  # code used for weeks outside the extract in aligned windows


def week_col(dream_week: int) -> str:
    """Column name of a DREAM week in ``weekly.parquet``."""
    return f"w{int(dream_week)}"


def month_col(year: int, month: int) -> str:
    """Column name of a month in ``monthly.parquet``."""
    return f"m{year:04d}_{month:02d}"


@dataclass
class WeeklyStatus:
    """Weekly DREAM codes of many persons over a contiguous range of DREAM weeks.

    Attributes
    ----------
    person_id : ndarray of str
        Pseudonymised IDs, one per row.
    first_week : int
        DREAM week number of column 0.
    codes : ndarray of int16, shape (n_persons, n_weeks)
        Weekly codes; 0 = empty week (no public transfer).
    """

    person_id: np.ndarray
    first_week: int
    codes: np.ndarray

    def __post_init__(self) -> None:
        self.person_id = np.asarray(self.person_id, dtype=object)
        self.codes = np.asarray(self.codes, dtype=np.int16)
        if self.codes.ndim != 2 or self.codes.shape[0] != len(self.person_id):
            raise ValueError("codes must be 2-D with one row per person_id")

    @property
    def n_weeks(self) -> int:
        """Number of weeks held."""
        return self.codes.shape[1]

    @property
    def last_week(self) -> int:
        """DREAM week number of the last column."""
        return self.first_week + self.n_weeks - 1

    @property
    def weeks(self) -> np.ndarray:
        """DREAM week numbers of the columns."""
        return np.arange(self.first_week, self.first_week + self.n_weeks)

    def rows_of(self, person_ids) -> np.ndarray:
        """Row numbers of ``person_ids`` (raises KeyError naming how many are missing)."""
        index = pd.Index(self.person_id)
        rows = index.get_indexer(pd.Index(person_ids))
        if (rows < 0).any():
            raise KeyError(f"{int((rows < 0).sum())} person IDs are not in the weekly store")
        return rows

    def aligned(self, rows: np.ndarray, index_weeks: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Codes in weeks ``index_week + start`` .. ``index_week + stop - 1`` for each row.

        Weeks outside the held range are :data:`NO_DATA` (-1). Returns an int16 array of
        shape ``(len(rows), stop - start)``.
        """
        rows = np.asarray(rows, dtype=np.int64)
        offsets = np.asarray(index_weeks, dtype=np.int64) - self.first_week
        cols = offsets[:, None] + np.arange(start, stop)[None, :]
        inside = (cols >= 0) & (cols < self.n_weeks)
        out = self.codes[rows[:, None], np.clip(cols, 0, self.n_weeks - 1)]
        return np.where(inside, out, NO_DATA).astype(np.int16)


@dataclass
class MonthlyEmployment:
    """Monthly employment degree per person (NaN = no employment in the month).

    Attributes
    ----------
    person_id : ndarray of str
    first_month : int
        Month index (``year * 12 + month - 1``) of column 0.
    degree : ndarray of float32, shape (n_persons, n_months)
    """

    person_id: np.ndarray
    first_month: int
    degree: np.ndarray

    def employed_in_weeks(self, rows: np.ndarray, dream_weeks: np.ndarray) -> np.ndarray:
        """Boolean array: employed in the month of each week's Thursday.

        ``dream_weeks`` has shape ``(len(rows), k)``; weeks whose month is outside the
        held range count as not employed.
        """
        rows = np.asarray(rows, dtype=np.int64)
        months = calendar.months_of_dream_weeks(dream_weeks) - self.first_month
        inside = (months >= 0) & (months < self.degree.shape[1])
        vals = self.degree[rows[:, None] if dream_weeks.ndim == 2 else rows, np.clip(months, 0, self.degree.shape[1] - 1)]
        return inside & np.nan_to_num(vals, nan=0.0).astype(bool)


def store_path(processed_dir: Path, name: str) -> Path:
    """Path of a store file (``persons``, ``weekly``, ``monthly``, ``residence``, ``forms_<x>``)."""
    return Path(processed_dir) / f"{name}.parquet"
