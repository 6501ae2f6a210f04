"""Disclosure control of the robustness stage: estimates resting on small cells, and the subgroup rows.

- An estimate from a 2x2 comparison (placebo, negative control, the E-value of the risk ratio)
  is hidden when a group's count with the outcome, or without it, is 1 .. min_cell - 1
  (:func:`helpers.disclosure.unsafe_proportion`): the ratio or difference would give it away.
- A hazard ratio is hidden when a group has 1 .. min_cell - 1 events.
- A subgroup level is masked when any of its persons, outcome counts (with and without the
  outcome) or events per group is 1 .. min_cell - 1. Because the levels of a subgroup add up
  to the published whole cohort, one masked level could be recovered by subtraction; the
  smallest other level is then masked as well (secondary suppression, :data:`SECONDARY_MASK`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.disclosure import MASK, SECONDARY_MASK, Check, is_small, unsafe_proportion

#: Count columns of a subgroup row checked against min_cell.
SUBGROUP_COUNTS = ("persons_int", "persons_ctl", "n_int", "N_int", "n_ctl", "N_ctl", "events_int", "events_ctl")
#: Estimate columns hidden in a masked subgroup row.
SUBGROUP_ESTIMATES = ("rd", "rd_lower", "rd_upper", "hr", "hr_lower", "hr_upper")


def comparison_unsafe(n_int, N_int, n_ctl, N_ctl, min_cell: int) -> bool:
    """True when a group's count with or without the outcome is 1 .. min_cell - 1.

    Examples
    --------
    >>> comparison_unsafe(3, 50, 20, 50, 5), comparison_unsafe(0, 50, 20, 50, 5)
    (True, False)
    """
    return bool(unsafe_proportion([n_int, n_ctl], [N_int, N_ctl], min_cell).any())


def events_unsafe(events_int, events_ctl, min_cell: int) -> bool:
    """True when a group has 1 .. min_cell - 1 events (the hazard ratio is then hidden)."""
    return bool(is_small([events_int, events_ctl], min_cell).any())


def _row_unsafe(row: pd.Series, min_cell: int) -> bool:
    counts = [row[c] for c in SUBGROUP_COUNTS if c in row and pd.notna(row[c])]
    without = [row["N_int"] - row["n_int"], row["N_ctl"] - row["n_ctl"]]
    return bool(is_small(counts + without, min_cell).any())


def mask_subgroups(table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """The subgroup table as published: small cells masked, with secondary suppression within each subgroup.

    Parameters
    ----------
    table : DataFrame
        :func:`helpers.stats.heterogeneity.subgroup_table` rows (of one or more subgroups).
    min_cell : int

    Returns
    -------
    DataFrame
        The same rows with ``masked`` (``"primary"``, ``"secondary"`` or ``""``). In a primary-masked
        row the estimates are NaN, small counts the mask string (``<5``) and the other outcome and
        event counts :data:`SECONDARY_MASK` (they would give the small ones away; the persons per
        group stay when they are not small); in a secondary-masked row every count is
        :data:`SECONDARY_MASK`.

    Examples
    --------
    >>> t = pd.DataFrame({"subgroup": ["sex"] * 2, "level": ["female", "male"], "persons_int": [3, 40],
    ...                   "persons_ctl": [3, 40], "n_int": [1, 20], "N_int": [3, 40], "n_ctl": [0, 10],
    ...                   "N_ctl": [3, 40], "rd": [0.3, 0.25]})
    >>> mask_subgroups(t, 5)["masked"].tolist()
    ['primary', 'secondary']
    """
    out = table.copy().astype({c: object for c in SUBGROUP_COUNTS if c in table})
    out["masked"] = ""
    for _, idx in out.groupby("subgroup", sort=False).groups.items():
        rows = list(idx)
        primary = [i for i in rows if _row_unsafe(table.loc[i], min_cell)]
        for i in primary:
            out.loc[i, "masked"] = "primary"
        rest = [i for i in rows if i not in primary]
        if len(primary) == 1 and rest:
            smallest = min(rest, key=lambda i: float(table.loc[i, "persons_int"]) + float(table.loc[i, "persons_ctl"]))
            out.loc[smallest, "masked"] = "secondary"
    mask = MASK.format(min_cell=min_cell)
    for i in out.index[out["masked"] != ""]:
        primary_row = out.loc[i, "masked"] == "primary"
        for c in SUBGROUP_COUNTS:
            if c not in out:
                continue
            small = bool(is_small([table.loc[i, c]], min_cell).any())
            if primary_row and c.startswith("persons_") and not small:
                continue  # the level's size is safe; its outcome counts are not
            out.loc[i, c] = mask if (primary_row and small) else SECONDARY_MASK
        for c in SUBGROUP_ESTIMATES:
            if c in out:
                out.loc[i, c] = np.nan
    return out


def check_subgroups(shown: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """PASS when no count of the published subgroup table is 1 .. min_cell - 1."""
    values = [v for c in SUBGROUP_COUNTS if c in shown for v in shown[c] if not isinstance(v, str)]
    numeric = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").dropna()
    bad = int(((numeric > 0) & (numeric < min_cell)).sum())
    masked = int((shown["masked"] != "").sum()) if "masked" in shown else 0
    if bad:
        return Check(item=item, status="FAIL", detail=f"{bad} subgroup counts below {min_cell} shown",
                     detail_da=f"{bad} antal i undergrupper under {min_cell} vist")
    return Check(item=item, status="PASS", masked=masked,
                 detail=f"subgroup levels with a cell below {min_cell} masked ({masked} level(s), secondary "
                        f"suppression within the subgroup)",
                 detail_da=f"undergrupper med en celle under {min_cell} skjult ({masked} niveau(er), sekundær "
                           f"maskering inden for undergruppen)")
