"""Disclosure control of balance tables and Table 1 (stage 02).

- :func:`mask_balance` hides the statistics of binary balance terms whose counts (or
  complements) are small;
- :func:`mask_level_counts` decides which level counts of a categorical Table 1 row are
  masked (primary suppression, complements, and complementary suppression within a group);
- :func:`missing_cells` gives the masked "missing" cells of a row;
- :func:`check_table_one` checks the finished Table 1 (no small count, no extreme).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import (
    MASK,
    Check,
    check_counts,
    check_no_extremes,
    is_small,
    suppress,
    unsafe_proportion,
)

#: A shown count in a Table 1 cell: ``12`` or ``12 (40.0%)`` (``40,0%`` in Danish).
COUNT_CELL = re.compile(r"^(\d+)(?: \(\d+[.,]?\d*%\))?$")


def mask_balance(balance: pd.DataFrame, min_cell: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Hide the statistics of binary terms whose counts are disclosive.

    A binary term's means, SMD and counts are replaced by NaN when, in either group of its
    sample, the number of units with the level (or without it) is in 1..min_cell-1; a group
    mean is also hidden when the group has fewer than ``min_cell`` units.
    """
    out = balance.copy()
    binary = out["kind"] == "binary"
    unsafe = binary & (
        unsafe_proportion(out["count_treated"].fillna(0), out["n_treated"], min_cell)
        | unsafe_proportion(out["count_control"].fillna(0), out["n_control"], min_cell)
    )
    small_group = is_small(out["n_treated"], min_cell) | is_small(out["n_control"], min_cell)
    hide = unsafe | small_group
    cols = ["mean_treated", "mean_control", "smd", "var_ratio", "count_treated", "count_control"]
    out.loc[hide, cols] = np.nan
    for col in ("missing_treated", "missing_control"):
        small = is_small(out[col], min_cell)
        out[col] = out[col].astype(object).where(~small, MASK.format(min_cell=min_cell))
    n_hidden = int(out.loc[hide, ["variable", "level"]].astype(str).drop_duplicates().shape[0])
    key = "check.balance.hidden" if n_hidden else "check.balance.all_safe"
    return out, Check(item=item, status="PASS", detail=tr(key, "en", n=n_hidden, min_cell=min_cell),
                      masked=n_hidden, detail_da=tr(key, "da", n=n_hidden, min_cell=min_cell))


def mask_level_counts(counts: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Which level counts of a categorical covariate to mask, per group column.

    Parameters
    ----------
    counts : DataFrame
        One column per group; rows: the levels, then ``__missing__`` and ``__total__``.

    Returns
    -------
    DataFrame of bool
        Same shape: primary suppression of small counts (:func:`helpers.disclosure.suppress`),
        levels whose complement (N - n) is small, then complementary suppression so that no
        group column has exactly one masked cell below its shown total.
    """
    masked, _ = suppress(counts, min_cell, total_row="__total__")
    # a level whose complement (N - n) is small also reveals; mask it and re-run complements
    for g in counts.columns:
        for idx in counts.index[:-1]:
            if is_small(counts.at["__total__", g] - counts.at[idx, g], min_cell) and counts.at[idx, g] > 0:
                masked.at[idx, g] = True
    return _complete_column_suppression(counts, masked, min_cell)


def missing_cells(miss: Mapping[str, int], groups: Sequence[str], mcols: Sequence[str], min_cell: int, *,
                  masked: pd.DataFrame | None = None) -> dict:
    """The "missing" cells of a Table 1 row: the count, or the mask when small (or masked in ``masked``)."""
    out = {}
    text = MASK.format(min_cell=min_cell)
    for g, col in zip(groups, mcols, strict=True):
        hide = bool(masked.at["__missing__", g]) if masked is not None else bool(is_small(miss[g], min_cell))
        out[col] = text if hide else str(miss[g])
    return out


def check_table_one(table: pd.DataFrame, count_columns: Sequence[str], n_masked: int, min_cell: int, *,
                    item: str) -> Check:
    """Disclosure check of a finished Table 1: every shown count 0 or >= ``min_cell``, no minimum/maximum."""
    shown = [int(m.group(1)) for col in count_columns for v in table[col].astype(str) if (m := COUNT_CELL.match(v))]
    counted = check_counts(shown, min_cell, item=item)
    extremes = check_no_extremes(table, item=item)
    if not counted.passed or not extremes.passed:
        detail = "; ".join(c.detail for c in (counted, extremes) if not c.passed)
        detail_da = "; ".join(c.detail_da or c.detail for c in (counted, extremes) if not c.passed)
        return Check(item=item, status="FAIL", detail=detail, detail_da=detail_da, masked=n_masked)
    key = "check.table1.masked" if n_masked else "check.table1.all_safe"
    return Check(item=item, status="PASS", detail=tr(key, "en", n=n_masked, min_cell=min_cell), masked=n_masked,
                 detail_da=tr(key, "da", n=n_masked, min_cell=min_cell))


def _complete_column_suppression(counts: pd.DataFrame, masked: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Ensure no group column has exactly one masked cell below its (shown) total."""
    masked = masked.copy()
    inner = counts.index[:-1]
    for g in counts.columns:
        for _ in range(len(inner)):
            if int(masked.loc[inner, g].sum()) != 1:
                break
            candidates = [(counts.at[i, g], i) for i in inner if not masked.at[i, g] and counts.at[i, g] > 0]
            if not candidates:
                masked.at["__total__", g] = True
                break
            masked.at[min(candidates)[1], g] = True
    return masked


def mask_histogram(hist: pd.DataFrame, columns: list[str], min_cell: int, *, item: str) -> tuple[pd.DataFrame, Check]:
    """Hide histogram bars with 1..min_cell-1 units (NaN: not drawn); the check counts them."""
    out = hist.copy()
    n_masked = 0
    for col in columns:
        small = is_small(out[col].to_numpy(), min_cell)
        n_masked += int(small.sum())
        out[col] = out[col].astype(float).where(~small)
    key = "check.histogram.masked" if n_masked else "check.histogram.all_safe"
    fields = {"n": n_masked, "min_cell": min_cell}
    return out, Check(item=item, status="PASS", detail=tr(key, "en", **fields), masked=n_masked,
                      detail_da=tr(key, "da", **fields))
