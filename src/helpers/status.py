"""Outcome primitives on weekly DREAM codes.

All functions work on 2-D ``int16`` arrays of codes, one row per person and one column per
week, usually aligned on each person's index week with
:meth:`helpers.store.WeeklyStatus.aligned` (column 0 = first week of the window). Code 0 is
an empty week (no public transfer); :data:`helpers.store.NO_DATA` (-1) marks weeks outside
the extract. Every function is vectorised over persons.

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

from collections.abc import Iterable

import numpy as np
import pandas as pd

from helpers.codes import DEAD, EMIGRATED, STATE_PENSION, CodeBook
from helpers.store import NO_DATA

EXIT_CODES = (EMIGRATED, STATE_PENSION, DEAD)


def code_mask(codes: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    """Boolean array: each code is marked in ``lookup`` (length-1000 boolean table).

    Weeks with :data:`NO_DATA` are False.
    """
    codes = np.asarray(codes)
    inside = codes >= 0
    return inside & lookup[np.where(inside, codes, 0)]


def self_supported(
    codes: np.ndarray,
    codebook: CodeBook,
    *,
    extra_codes: Iterable[int] = (121, 122, 123),
    employed: np.ndarray | None = None,
) -> np.ndarray:
    """Boolean array: self-supported weeks.

    A week is self-supported when it is empty (no public transfer) or holds one of
    ``extra_codes`` (default: holiday pay from employment, 121-123), or a code the study
    re-categorised as ``self_support``. With ``employed`` (same shape), the week must also
    fall in a month with employment (DREAMtoolsR's "no benefit and income" rule).
    """
    lookup = codebook.codes_where(categories=["self_support"], codes=list(extra_codes))
    mask = code_mask(codes, lookup)
    if employed is not None:
        mask &= np.asarray(employed, dtype=bool)
    return mask


def run_starts(mask: np.ndarray, n: int) -> np.ndarray:
    """Column of the first week that starts a run of at least ``n`` True weeks, per row.

    Returns -1 where no such run exists. A run must lie entirely inside the array, so a
    run cut off by the end of data does not count.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 1:
        return run_starts(mask[None, :], n)[0:1]
    n_rows, n_cols = mask.shape
    if n <= 0:
        raise ValueError("n must be at least 1")
    if n > n_cols:
        return np.full(n_rows, -1, dtype=np.int64)
    csum = np.concatenate([np.zeros((n_rows, 1), dtype=np.int32), np.cumsum(mask, axis=1, dtype=np.int32)], axis=1)
    window = csum[:, n:] - csum[:, :-n]  # window[:, j] = sum(mask[:, j:j+n])
    full = window == n
    has = full.any(axis=1)
    return np.where(has, full.argmax(axis=1), -1).astype(np.int64)


def first_true(mask: np.ndarray) -> np.ndarray:
    """Column of the first True per row; -1 where none."""
    mask = np.asarray(mask, dtype=bool)
    return np.where(mask.any(axis=1), mask.argmax(axis=1), -1).astype(np.int64)


def weeks_in(mask: np.ndarray) -> np.ndarray:
    """Number of True weeks per row."""
    return np.asarray(mask, dtype=bool).sum(axis=1)


def share_of_weeks(mask: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Share of weeks that are True per row, among ``valid`` weeks (default: all)."""
    mask = np.asarray(mask, dtype=bool)
    valid = np.ones_like(mask) if valid is None else np.asarray(valid, dtype=bool)
    denom = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
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
    inside = np.asarray(codes) != NO_DATA
    n_cols = inside.shape[1]
    rev = first_true(inside[:, ::-1])
    return np.where(rev >= 0, n_cols - 1 - rev, -1)


def status_at(codes: np.ndarray, column: int, lookup: np.ndarray) -> np.ndarray:
    """Boolean per row: the code in ``column`` is marked in ``lookup``."""
    return code_mask(np.asarray(codes)[:, column], lookup)


def spells(mask_row: np.ndarray, gap_tolerance: int = 0) -> pd.DataFrame:
    """Spells (runs) of True weeks in one person's mask, merging gaps up to ``gap_tolerance``.

    Returns a data frame with ``start``, ``end`` (inclusive columns) and ``weeks``.
    jobindsats ends a benefit spell after a calendar month without it, i.e. a gap tolerance
    of about 4 weeks; 0 gives the strict run definition.

    Examples
    --------
    >>> spells(np.array([1, 1, 0, 1, 0, 0, 0, 1], dtype=bool), gap_tolerance=1)
       start  end  weeks
    0      0    3      4
    1      7    7      1
    """
    m = np.asarray(mask_row, dtype=bool).astype(np.int8)
    edges = np.diff(np.concatenate([[0], m, [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    merged: list[list[int]] = []
    for s, e in zip(starts, ends, strict=True):
        if merged and s - merged[-1][1] - 1 <= gap_tolerance:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    frame = pd.DataFrame(merged, columns=["start", "end"], dtype=np.int64)
    frame["weeks"] = frame["end"] - frame["start"] + 1
    return frame
