"""Table 1: baseline characteristics by group, formatted for the report and masked for publication.

:func:`table_one` describes one row per person (mean (SD) of a continuous covariate,
n (%) of a 0/1 covariate and of each level of a categorical one, missing counts) and shows
the SMD of :func:`helpers.cohort.balance.balance_table` next to it. Masking decisions come
from :mod:`helpers.disclosure.balance`; the words from the catalogue (``cohort.table1.*``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import MASK, Check, is_small, n_pct
from helpers.disclosure.balance import check_table_one, mask_level_counts, missing_cells


def table_one(frame: pd.DataFrame, covariates: Sequence[str], group: str, *, min_cell: int,
              item: str = "table1", groups: Sequence[str] = ("intervention", "control"),
              group_labels: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
              level_labels: Mapping[str, Mapping] | None = None, categorical: Sequence[str] = (),
              smd: pd.DataFrame | None = None, language: str = "en",
              decimals: int = 1) -> tuple[pd.DataFrame, Check]:
    """Baseline characteristics by group: n, mean (SD) or n (%), missing counts and SMD.

    Parameters
    ----------
    frame : DataFrame
        One row per person (unweighted description).
    covariates : sequence of str
        Rows of the table, in order.
    group : str
        Column holding the group of each row.
    min_cell : int
        Disclosure threshold: counts (and complements of proportions) in 1..min_cell-1 are
        masked; within a categorical covariate a second level (or the missing count) is
        masked when exactly one would otherwise be recoverable from the group total.
    groups : sequence of str
        Group values, in column order.
    group_labels, labels, level_labels : mappings, optional
        Display names of groups, covariates and levels (``{covariate: {level: label}}``).
    categorical : sequence of str
        Numeric covariates to show as categories (e.g. ``sex``).
    smd : DataFrame, optional
        Balance rows (:func:`helpers.cohort.balance.balance_table` columns ``variable, level,
        smd``) whose SMD is shown in the last column; SMDs of masked levels are hidden.
    language : {"en", "da"}
        Column headings and the decimal separator.

    Returns
    -------
    table : DataFrame
        Display table (strings) with columns: characteristic, one per group, one "missing"
        column per group, and "SMD".
    check : Check
        Disclosure result (masked cells; FAIL if an unmasked small count remains).
    """
    sep = tr("cohort.decimal_sep", language)
    group_labels = dict(group_labels or {})
    labels = dict(labels or {})
    level_labels = {k: dict(v) for k, v in (level_labels or {}).items()}
    mask_text = MASK.format(min_cell=min_cell)
    g_values = frame[group].to_numpy()
    sel = {g: g_values == g for g in groups}
    n = {g: int(sel[g].sum()) for g in groups}
    gcols = [group_labels.get(g, g) for g in groups]
    mcols = [tr("cohort.table1.missing", language, group=group_labels.get(g, g)) for g in groups]
    char_col = tr("cohort.table1.characteristic", language)
    smd_lookup = {}
    if smd is not None:
        for _, r in smd.iterrows():
            smd_lookup[(r["variable"], "" if pd.isna(r["level"]) else str(r["level"]))] = r["smd"]

    def fmt(x: float, d: int = decimals) -> str:
        return f"{x:.{d}f}".replace(".", sep)

    def fmt_smd(key) -> str:
        v = smd_lookup.get(key, np.nan)
        return "" if pd.isna(v) else fmt(v, 3)

    rows: list[dict] = []
    n_masked = 0
    head = {char_col: tr("cohort.table1.n_persons", language)}
    for g, col in zip(groups, gcols, strict=True):
        head[col] = mask_text if is_small(n[g], min_cell) else f"{n[g]}"
    rows.append(head)
    for name in covariates:
        s = frame[name]
        label = labels.get(name, name)
        is_cat = name in categorical or not pd.api.types.is_numeric_dtype(s)
        values = pd.to_numeric(s, errors="coerce") if not is_cat else s
        miss = {g: int(s[sel[g]].isna().sum()) for g in groups}
        if not is_cat and set(np.unique(values.dropna())) <= {0, 1}:
            # 0/1 variable: one row "label, n (%)"
            row = {char_col: tr("cohort.table1.n_pct", language, label=label)}
            for g, col in zip(groups, gcols, strict=True):
                k = int(values[sel[g]].sum())
                tot = n[g] - miss[g]
                row[col] = n_pct(k, tot, min_cell, decimals=decimals, decimal_sep=sep)
                n_masked += row[col] == mask_text
            row.update(missing_cells(miss, groups, mcols, min_cell))
            row["SMD"] = fmt_smd((name, "")) if mask_text not in row.values() else ""
            rows.append(row)
            continue
        if not is_cat:
            row = {char_col: tr("cohort.table1.mean_sd", language, label=label)}
            for g, col in zip(groups, gcols, strict=True):
                x = values[sel[g]].dropna()
                if is_small(len(x), min_cell):
                    row[col] = mask_text
                    n_masked += 1
                elif len(x) == 0:
                    row[col] = ""
                else:
                    sd = x.std(ddof=1) if len(x) > 1 else np.nan
                    row[col] = f"{fmt(x.mean())} ({fmt(sd) if np.isfinite(sd) else '-'})"
            row.update(missing_cells(miss, groups, mcols, min_cell))
            row["SMD"] = fmt_smd((name, ""))
            rows.append(row)
            continue
        # categorical: header row + one row per level, with complementary suppression per group
        levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(
            s.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
        counts = pd.DataFrame({g: [int((s[sel[g]] == lv).sum()) for lv in levels] + [miss[g], n[g]]
                               for g in groups}, index=[*map(str, levels), "__missing__", "__total__"])
        masked = mask_level_counts(counts, min_cell)
        rows.append({char_col: tr("cohort.table1.n_pct", language, label=label),
                     **missing_cells(miss, groups, mcols, min_cell, masked=masked)})
        shown_levels = level_labels.get(name, {})
        for lv in levels:
            key = str(lv)
            row = {char_col: f"    {shown_levels.get(lv, shown_levels.get(key, key))}"}
            any_masked = False
            for g, col in zip(groups, gcols, strict=True):
                if masked.at[key, g]:
                    row[col] = mask_text
                    any_masked = True
                    n_masked += 1
                else:
                    tot = n[g] - miss[g]
                    k = counts.at[key, g]
                    row[col] = f"{k} ({fmt(100 * k / tot) if tot else '-'}%)"
            row["SMD"] = "" if any_masked else fmt_smd((name, key))
            rows.append(row)
    table = pd.DataFrame(rows, columns=[char_col, *gcols, *mcols, "SMD"]).fillna("")
    return table, check_table_one(table, [*gcols, *mcols], n_masked, min_cell, item=item)
