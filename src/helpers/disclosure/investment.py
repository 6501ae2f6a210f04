"""Disclosure control of the investment calculation (stage 05) and the council's page.

Money is summed over groups of persons, so what must not be shown is money (or counts) of
a group that holds 1..min_cell-1 persons: the whole calculation when a group is that small
(:func:`group_check`), a year in which a group has that few persons with data
(:func:`small_years`), and the person-weeks of an unpriced code met by that few persons
(:func:`mask_unpriced`). Tables built from assumptions and published figures only pass
:func:`assumptions_check`. Every function returns masks and :class:`~helpers.disclosure.Check`
objects; the report places the mask label (:data:`~helpers.disclosure.MASK`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import MASK, Check, check_counts, is_small


def _check(item: str, status: str, key: str, **fields) -> Check:
    return Check(item=item, status=status, detail=tr(f"check.investment.{key}", "en", **fields),
                 detail_da=tr(f"check.investment.{key}", "da", **fields))


def group_check(n_intervention: int, n_control: int, min_cell: int, *, item: str) -> Check:
    """PASS when both groups hold 0 or at least ``min_cell`` persons (money is aggregated over them)."""
    return check_counts([n_intervention, n_control], min_cell, item=item, what="group sizes")


def small_years(yearly: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Rows of a yearly frame (``n_intervention, n_control`` persons with data) where a group has 1..min_cell-1."""
    small = ((yearly["n_intervention"] > 0) & (yearly["n_intervention"] < min_cell)) | (
        (yearly["n_control"] > 0) & (yearly["n_control"] < min_cell))
    return small.fillna(False).to_numpy(dtype=bool)


def masked_years(yearly: pd.DataFrame, min_cell: int) -> set[int]:
    """Observed years in which a group has 1..min_cell-1 persons with data (their money is masked)."""
    y = yearly[yearly["actor"] == "public"]
    return set(y.loc[small_years(y, min_cell), "year"].astype(int))


def yearly_check(n_masked: int, n_intervention: int, n_control: int, min_cell: int, *, item: str) -> Check:
    """Check of the yearly savings table with ``n_masked`` years masked (FAIL when a whole group is small)."""
    base = group_check(n_intervention, n_control, min_cell, item=item)
    if not base.passed:
        return base
    if n_masked:
        return _check(item, "PASS", "yearly_masked", n=n_masked, min_cell=min_cell)
    return _check(item, "PASS", "yearly_safe", min_cell=min_cell)


def balance_check(hidden: set[int], n_intervention: int, n_control: int, min_cell: int,
                  *, item: str = "investment_balance") -> Check:
    """Check of the public balance with the money of the years ``hidden`` masked."""
    if min(n_intervention, n_control) < min_cell:
        return _check(item, "FAIL", "small_group", min_cell=min_cell)
    if hidden:
        return _check(item, "PASS", "balance_masked", n=len(hidden), min_cell=min_cell)
    return _check(item, "PASS", "balance_safe", min_cell=min_cell)


def mask_unpriced(unpriced: pd.DataFrame, min_cell: int, *, item: str = "investment_unpriced_codes"
                  ) -> tuple[pd.DataFrame, Check]:
    """The unpriced codes with the person-weeks and persons of a group masked where 1..min_cell-1 persons met
    the code (a masked pair counts once in the check).

    Parameters
    ----------
    unpriced : DataFrame
        ``person_weeks_<group>, persons_<group>`` for ``intervention`` and ``control`` (and any other columns).
    """
    out = unpriced.astype(object).copy()
    lab = MASK.format(min_cell=min_cell)
    n_masked = 0
    for g in ("intervention", "control"):
        small = is_small(unpriced[f"persons_{g}"].to_numpy(), min_cell)
        out.loc[small, [f"person_weeks_{g}", f"persons_{g}"]] = lab
        n_masked += int(small.sum())
    if n_masked:
        return out, _check(item, "PASS", "unpriced_masked", n=n_masked, min_cell=min_cell)
    return out, _check(item, "PASS", "unpriced_safe", min_cell=min_cell)


def assumptions_check(item: str) -> Check:
    """Check of a table or figure built from assumptions and published figures only (no person data)."""
    return _check(item, "PASS", "assumptions_only")
