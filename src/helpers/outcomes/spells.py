"""Runs, positions and spells of True weeks in 2-D boolean week masks (one row per person).

Generic primitives on boolean arrays, vectorised over rows: where a run of ``n`` True
weeks starts (:func:`run_starts`), the first and last True week (:func:`first_true`,
:func:`last_true`), how many weeks are True (:func:`weeks_in`), and spells with short gaps
merged (:func:`fill_gaps`, :func:`spells_table`, :func:`spells`). "Not found" is ``-1``.
The masks come from :mod:`helpers.outcomes.status` (self-supported weeks, code masks).

Examples
--------
>>> mask = np.array([[0, 1, 1, 1, 0], [1, 1, 0, 0, 0]], dtype=bool)
>>> run_starts(mask, 3).tolist(), first_true(mask).tolist(), last_true(mask).tolist()
([1, -1], [1, 0], [3, 1])
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def run_starts(mask: np.ndarray, n: int) -> np.ndarray:
    """Column of the first week that starts a run of at least ``n`` True weeks, per row.

    Returns -1 where no such run exists. A run must lie entirely inside the array, so a
    run cut off by the end of the array (or by :data:`NO_DATA` weeks, which are False)
    does not count. A 1-D mask is treated as one row (the result has length 1).
    """
    mask = np.asarray(mask, dtype=bool)
    if n <= 0:
        raise ValueError("n must be at least 1")
    if mask.ndim == 1:
        return run_starts(mask[None, :], n)[0:1]
    n_rows, n_cols = mask.shape
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


def last_true(mask: np.ndarray) -> np.ndarray:
    """Column of the last True per row; -1 where none."""
    mask = np.asarray(mask, dtype=bool)
    rev = first_true(mask[:, ::-1])
    return np.where(rev >= 0, mask.shape[1] - 1 - rev, -1).astype(np.int64)


def weeks_in(mask: np.ndarray) -> np.ndarray:
    """Number of True weeks per row."""
    return np.asarray(mask, dtype=bool).sum(axis=1)


def fill_gaps(mask: np.ndarray, gap_tolerance: int) -> np.ndarray:
    """Fill runs of at most ``gap_tolerance`` False weeks that lie between two True weeks.

    Gaps at the start or end of a row are never filled. ``gap_tolerance=0`` returns a copy.

    Examples
    --------
    >>> fill_gaps(np.array([[1, 0, 1, 0, 0, 1, 0]], dtype=bool), 1).astype(int).tolist()
    [[1, 1, 1, 0, 0, 1, 0]]
    """
    mask = np.asarray(mask, dtype=bool)
    if gap_tolerance < 0:
        raise ValueError("gap_tolerance must be 0 or more")
    if mask.ndim == 1:
        return fill_gaps(mask[None, :], gap_tolerance)[0]
    if gap_tolerance == 0 or mask.size == 0:
        return mask.copy()
    table = _runs(mask)
    same_row = table["row"][1:] == table["row"][:-1]
    gap = table["start"][1:] - table["end"][:-1] - 1
    fill = same_row & (gap <= gap_tolerance)
    n_rows, n_cols = mask.shape
    delta = np.zeros(n_rows * (n_cols + 1), dtype=np.int32)
    base = table["row"][:-1][fill] * (n_cols + 1)
    np.add.at(delta, base + table["end"][:-1][fill] + 1, 1)
    np.add.at(delta, base + table["start"][1:][fill], -1)
    filled = np.cumsum(delta.reshape(n_rows, n_cols + 1), axis=1)[:, :n_cols] > 0
    return mask | filled


def _runs(mask: np.ndarray) -> dict[str, np.ndarray]:
    """Row, start and end (inclusive) of every run of True, row-major order."""
    n_rows, n_cols = mask.shape
    padded = np.zeros((n_rows, n_cols + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)  # shape (n_rows, n_cols + 1)
    r_start, c_start = np.nonzero(edges == 1)
    r_end, c_end = np.nonzero(edges == -1)
    return {"row": r_start.astype(np.int64), "start": c_start.astype(np.int64), "end": c_end.astype(np.int64) - 1}


def spells_table(mask: np.ndarray, gap_tolerance: int = 0) -> pd.DataFrame:
    """Spells (runs of True weeks) of every row, merging gaps of up to ``gap_tolerance`` weeks.

    Returns a data frame with ``row``, ``start``, ``end`` (inclusive columns) and ``weeks``
    (``end - start + 1``, gap weeks included), ordered by row and start.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 1:
        mask = mask[None, :]
    table = _runs(fill_gaps(mask, gap_tolerance))
    frame = pd.DataFrame(table)
    frame["weeks"] = frame["end"] - frame["start"] + 1
    return frame


def spells(mask_row: np.ndarray, gap_tolerance: int = 0) -> pd.DataFrame:
    """Spells (runs) of True weeks in one person's mask, merging gaps up to ``gap_tolerance``.

    Returns a data frame with ``start``, ``end`` (inclusive columns) and ``weeks``.
    jobindsats ends a benefit spell after a calendar month without it, i.e. a gap tolerance
    of about 4 weeks; 0 gives the strict run definition. :func:`spells_table` does the
    same for many rows at once.

    Examples
    --------
    >>> spells(np.array([1, 1, 0, 1, 0, 0, 0, 1], dtype=bool), gap_tolerance=1)
       start  end  weeks
    0      0    3      4
    1      7    7      1
    """
    mask = np.asarray(mask_row, dtype=bool)
    if mask.ndim != 1:
        raise ValueError("spells takes one row; use spells_table for many rows")
    return spells_table(mask[None, :], gap_tolerance).drop(columns="row").reset_index(drop=True)
