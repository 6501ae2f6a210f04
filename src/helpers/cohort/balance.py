"""Covariate balance between groups: standardized mean differences, variance ratios, Table 1.

Conventions follow R MatchIt's ``summary.matchit`` (and cobalt), so that the balance of a
match can be compared with MatchIt's published output:

- every covariate becomes one or more *terms*: a continuous variable is one term, a 0/1
  variable is one binary term, a categorical variable is one binary term per level;
- means are weighted by the matching weights (unweighted before matching);
- the standardized mean difference (SMD) is the difference of (weighted) means divided by a
  standard deviation taken from the **full, unmatched sample** and fixed across before/after:
  for the ATT the SD of the treated group, for the ATC that of the controls, for the ATE the
  pooled :math:`\\sqrt{(s_t^2 + s_c^2)/2}`; for a binary term the SD is :math:`\\sqrt{p(1-p)}`;
- the variance ratio (continuous terms only) is :math:`s_t^2 / s_c^2` with the weighted
  variance :math:`\\sum_i w_i (x_i - \\bar x_w)^2 / (1 - \\sum_i w_i^2)` (weights normalised to
  sum 1), which is the ordinary sample variance when all weights are equal.

.. math::

    \\mathrm{SMD} = \\frac{\\bar x_{t,w} - \\bar x_{c,w}}{s^{*}}

References
----------
Ho, Imai, King & Stuart (2011), MatchIt, J Stat Softw 42(8); ``R/summary.matchit.R``.
Austin (2009), Balance diagnostics for comparing the distribution of baseline covariates
between treatment groups in propensity-score matched samples, Stat Med 28:3083-3107.

Examples
--------
>>> df = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0], "x": [1.0, 2.0, 3.0, 2.0, 3.0, 4.0]})
>>> balance_table(df, ["x"], "treated")[["variable", "smd", "var_ratio"]]
  variable  smd  var_ratio
0        x -1.0        1.0
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from helpers import disclosure

Estimand = Literal["ATT", "ATC", "ATE"]

#: Columns of :func:`balance_table`.
BALANCE_COLUMNS = [
    "variable", "level", "kind", "mean_treated", "mean_control", "smd", "var_ratio",
    "n_treated", "n_control", "count_treated", "count_control", "missing_treated", "missing_control",
]


@dataclass(frozen=True)
class Term:
    """One row of a balance table: a continuous variable, a 0/1 variable or one level of a category.

    Attributes
    ----------
    variable : str
        Covariate name.
    level : str or None
        Level of a categorical covariate (None for continuous and 0/1 variables).
    kind : {"continuous", "binary"}
    values : ndarray of float
        The term's values (0/1 for binary terms); NaN where the covariate is missing.
    """

    variable: str
    level: str | None
    kind: Literal["continuous", "binary"]
    values: np.ndarray

    @property
    def key(self) -> tuple[str, str]:
        """``(variable, level)`` with ``""`` for no level."""
        return self.variable, "" if self.level is None else str(self.level)


def expand_terms(frame: pd.DataFrame, covariates: Sequence[str], *,
                 categorical: Sequence[str] = ()) -> list[Term]:
    """Split covariates into balance terms.

    A covariate is categorical when listed in ``categorical`` or when its dtype is object,
    string, category or bool-with-labels; its levels (sorted, or in category order) each
    give a binary term. A numeric covariate whose values are all 0 or 1 is binary; any
    other numeric covariate is continuous.

    Raises
    ------
    KeyError
        When a covariate is not a column of ``frame``.
    """
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise KeyError(f"balance: covariate(s) {missing} not in the data; columns are {list(frame.columns)}")
    terms: list[Term] = []
    for name in covariates:
        s = frame[name]
        is_cat = name in categorical or not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))
        if is_cat:
            na = s.isna().to_numpy()
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(s.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
            for lv in levels:
                vals = (s == lv).to_numpy(dtype=float)
                vals[na] = np.nan
                terms.append(Term(name, str(lv), "binary", vals))
            continue
        vals = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        finite = vals[~np.isnan(vals)]
        kind = "binary" if finite.size and np.isin(finite, (0.0, 1.0)).all() else "continuous"
        terms.append(Term(name, None, kind, vals))
    return terms


def weighted_mean(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted mean over non-missing values (NaN when no weight)."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = ~np.isnan(x) & (w > 0)
    sw = w[ok].sum()
    return float((w[ok] * x[ok]).sum() / sw) if sw > 0 else np.nan


def weighted_var(x: np.ndarray, w: np.ndarray | None = None, *, binary: bool = False) -> float:
    """Weighted variance as MatchIt/cobalt compute it.

    Continuous: :math:`\\sum w_i (x_i - \\bar x_w)^2 / (1 - \\sum w_i^2)` with the weights
    normalised to sum 1 (the sample variance, ``ddof=1``, for equal weights).
    Binary: :math:`p(1-p)` with the weighted proportion :math:`p`.
    """
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    ok = ~np.isnan(x) & (w > 0)
    x, w = x[ok], w[ok]
    if w.size == 0:
        return np.nan
    w = w / w.sum()
    mean = float((w * x).sum())
    if binary:
        return mean * (1.0 - mean)
    denom = 1.0 - float((w ** 2).sum())
    if denom <= 0:
        return np.nan
    return float((w * (x - mean) ** 2).sum() / denom)


def sd_denominators(frame: pd.DataFrame, covariates: Sequence[str], treat: str, *,
                    estimand: Estimand = "ATT", weights: np.ndarray | None = None,
                    categorical: Sequence[str] = ()) -> pd.Series:
    """Standard deviations that standardize mean differences, one per term.

    Computed on ``frame`` (normally the full, unmatched sample) with optional sampling
    ``weights``: ATT uses the treated group, ATC the controls, ATE the pooled
    :math:`\\sqrt{(s_t^2+s_c^2)/2}`. Where the chosen SD is 0 (a constant covariate in that
    group) the SD over both groups is used instead, so that a real difference is not
    reported as infinite.

    Returns
    -------
    Series indexed by ``(variable, level)``.
    """
    t = _treat_mask(frame, treat)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    out = {}
    for term in expand_terms(frame, covariates, categorical=categorical):
        binary = term.kind == "binary"
        var_t = weighted_var(term.values[t], w[t], binary=binary)
        var_c = weighted_var(term.values[~t], w[~t], binary=binary)
        if estimand == "ATT":
            var = var_t
        elif estimand == "ATC":
            var = var_c
        elif estimand == "ATE":
            var = (var_t + var_c) / 2.0
        else:
            raise ValueError(f"estimand must be ATT, ATC or ATE, got {estimand!r}")
        if not var > 0:
            var = weighted_var(term.values, w, binary=binary)
        out[term.key] = float(np.sqrt(var)) if var > 0 else np.nan
    return pd.Series(out, dtype=float)


def _treat_mask(frame: pd.DataFrame, treat: str) -> np.ndarray:
    if treat not in frame.columns:
        raise KeyError(f"balance: treatment column {treat!r} not in the data")
    col = frame[treat]
    if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype):
        raise TypeError(f"balance: treatment column {treat!r} must be 0/1 or boolean")
    values = col.to_numpy()
    if not np.isin(values, (0, 1, True, False)).all():
        raise ValueError(f"balance: treatment column {treat!r} must hold only 0/1")
    return values.astype(bool)


def balance_table(frame: pd.DataFrame, covariates: Sequence[str], treat: str,
                  weights: np.ndarray | pd.Series | None = None, *, estimand: Estimand = "ATT",
                  denominators: pd.Series | None = None, categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Balance of ``covariates`` between treated (``treat`` = 1) and controls.

    Parameters
    ----------
    frame : DataFrame
        One row per unit (or per matched-set membership).
    covariates : sequence of str
        Columns to compare; categorical ones give one row per level.
    treat : str
        0/1 treatment column.
    weights : array-like, optional
        Matching weights (default: all 1).
    estimand : {"ATT", "ATC", "ATE"}
        Chooses the SD that standardizes the difference (see module docstring).
    denominators : Series, optional
        SDs from :func:`sd_denominators` on the full sample. Default: computed from
        ``frame`` itself (right only for the unmatched sample).
    categorical : sequence of str
        Numeric covariates to treat as categorical (e.g. ``sex`` coded 1/2).

    Returns
    -------
    DataFrame
        Columns ``variable, level, kind, mean_treated, mean_control, smd, var_ratio,
        n_treated, n_control, count_treated, count_control, missing_treated,
        missing_control``. ``count_*`` are unweighted numbers of units with the level
        (binary terms only); ``n_*`` are numbers of units (rows).
    """
    t = _treat_mask(frame, treat)
    w = np.ones(len(frame)) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (len(frame),):
        raise ValueError("balance: weights must have one value per row")
    if denominators is None:
        denominators = sd_denominators(frame, covariates, treat, estimand=estimand, categorical=categorical)
    rows = []
    for term in expand_terms(frame, covariates, categorical=categorical):
        binary = term.kind == "binary"
        xt, xc = term.values[t], term.values[~t]
        wt, wc = w[t], w[~t]
        mt, mc = weighted_mean(xt, wt), weighted_mean(xc, wc)
        sd = denominators.get(term.key, np.nan)
        diff = mt - mc
        if abs(diff) < 1e-12:
            smd = 0.0
        else:
            smd = diff / sd if sd > 0 else np.nan
        vr = np.nan
        if not binary:
            vc = weighted_var(xc, wc)
            vr = weighted_var(xt, wt) / vc if vc > 0 else np.nan
        rows.append({
            "variable": term.variable, "level": term.level, "kind": term.kind,
            "mean_treated": mt, "mean_control": mc, "smd": smd, "var_ratio": vr,
            "n_treated": int(((wt > 0) & ~np.isnan(xt)).sum()), "n_control": int(((wc > 0) & ~np.isnan(xc)).sum()),
            "count_treated": int(np.nansum(xt[wt > 0])) if binary else np.nan,
            "count_control": int(np.nansum(xc[wc > 0])) if binary else np.nan,
            "missing_treated": int(np.isnan(xt[wt > 0]).sum()), "missing_control": int(np.isnan(xc[wc > 0]).sum()),
        })
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def compare_balance(before: pd.DataFrame, after: pd.DataFrame, covariates: Sequence[str], treat: str, *,
                    weights_before: np.ndarray | None = None, weights_after: np.ndarray | None = None,
                    estimand: Estimand = "ATT", categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Balance before and after matching, with SDs from the full sample (as MatchIt).

    Returns a long frame: the columns of :func:`balance_table` plus ``sample``
    (``"before"`` / ``"after"``).
    """
    den = sd_denominators(before, covariates, treat, estimand=estimand, weights=weights_before,
                          categorical=categorical)
    b = balance_table(before, covariates, treat, weights_before, estimand=estimand, denominators=den,
                      categorical=categorical)
    a = balance_table(after, covariates, treat, weights_after, estimand=estimand, denominators=den,
                      categorical=categorical)
    b.insert(0, "sample", "before")
    a.insert(0, "sample", "after")
    return pd.concat([b, a], ignore_index=True)


def smd_wide(balance: pd.DataFrame) -> pd.DataFrame:
    """One row per term with ``smd_before``, ``smd_after`` (for a love plot)."""
    key = ["variable", "level"]
    frame = balance.assign(level=balance["level"].fillna(""))
    wide = frame.pivot_table(index=key, columns="sample", values="smd", aggfunc="first", dropna=False, sort=False)
    wide = wide.rename(columns={"before": "smd_before", "after": "smd_after"}).reset_index()
    wide.columns.name = None
    order = frame.drop_duplicates(key)[key]
    return order.merge(wide, on=key, how="left")


def max_abs_smd(balance: pd.DataFrame, sample: str = "after", variables: Sequence[str] | None = None) -> float:
    """Largest |SMD| in ``sample`` (optionally among ``variables``), ignoring undefined ones."""
    sel = balance[balance["sample"] == sample] if "sample" in balance.columns else balance
    if variables is not None:
        sel = sel[sel["variable"].isin(list(variables))]
    vals = sel["smd"].abs().dropna()
    return float(vals.max()) if len(vals) else np.nan


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size :math:`(\\sum w)^2 / \\sum w^2` (MatchIt's "Matched (ESS)")."""
    w = np.asarray(weights, dtype=float)
    w = w[w > 0]
    return float(w.sum() ** 2 / (w ** 2).sum()) if w.size else 0.0


def mask_balance(balance: pd.DataFrame, min_cell: int, *, item: str) -> tuple[pd.DataFrame, disclosure.Check]:
    """Hide the statistics of binary terms whose counts are disclosive.

    A binary term's means, SMD and counts are replaced by NaN when, in either group of its
    sample, the number of units with the level (or without it) is in 1..min_cell-1; a group
    mean is also hidden when the group has fewer than ``min_cell`` units.
    """
    out = balance.copy()
    binary = out["kind"] == "binary"
    unsafe = binary & (
        disclosure.unsafe_proportion(out["count_treated"].fillna(0), out["n_treated"], min_cell)
        | disclosure.unsafe_proportion(out["count_control"].fillna(0), out["n_control"], min_cell)
    )
    small_group = disclosure.is_small(out["n_treated"], min_cell) | disclosure.is_small(out["n_control"], min_cell)
    hide = unsafe | small_group
    cols = ["mean_treated", "mean_control", "smd", "var_ratio", "count_treated", "count_control"]
    out.loc[hide, cols] = np.nan
    for col in ("missing_treated", "missing_control"):
        small = disclosure.is_small(out[col], min_cell)
        out[col] = out[col].astype(object).where(~small, disclosure.MASK.format(min_cell=min_cell))
    n_hidden = int(out.loc[hide, ["variable", "level"]].astype(str).drop_duplicates().shape[0])
    detail = (f"{n_hidden} term(s) with counts below {min_cell} hidden" if n_hidden
              else f"all term counts 0 or >= {min_cell}")
    detail_da = (f"{n_hidden} led med antal under {min_cell} skjult" if n_hidden
                 else f"alle antal 0 eller >= {min_cell}")
    return out, disclosure.Check(item=item, status="PASS", detail=detail, masked=n_hidden, detail_da=detail_da)


# --------------------------------------------------------------------------- Table 1
def table_one(frame: pd.DataFrame, covariates: Sequence[str], group: str, *, min_cell: int,
              item: str = "table1", groups: Sequence[str] = ("intervention", "control"),
              group_labels: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None,
              level_labels: Mapping[str, Mapping] | None = None, categorical: Sequence[str] = (),
              smd: pd.DataFrame | None = None, language: str = "en",
              decimals: int = 1) -> tuple[pd.DataFrame, disclosure.Check]:
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
        Balance rows (:func:`balance_table` columns ``variable, level, smd``) whose SMD is
        shown in the last column; SMDs of masked levels are hidden.
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
    da = language == "da"
    sep = "," if da else "."
    group_labels = dict(group_labels or {})
    labels = dict(labels or {})
    level_labels = {k: dict(v) for k, v in (level_labels or {}).items()}
    mask_text = disclosure.MASK.format(min_cell=min_cell)
    g_values = frame[group].to_numpy()
    sel = {g: g_values == g for g in groups}
    n = {g: int(sel[g].sum()) for g in groups}
    miss_word = "manglende" if da else "missing"
    gcols = [group_labels.get(g, g) for g in groups]
    mcols = [f"{miss_word} ({group_labels.get(g, g)})" for g in groups]
    char_col = "Karakteristik" if da else "Characteristic"
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
    head = {char_col: "N" if not da else "Antal personer"}
    for g, col in zip(groups, gcols, strict=True):
        head[col] = mask_text if disclosure.is_small(n[g], min_cell) else f"{n[g]}"
    rows.append(head)
    for name in covariates:
        s = frame[name]
        label = labels.get(name, name)
        is_cat = name in categorical or not pd.api.types.is_numeric_dtype(s)
        values = pd.to_numeric(s, errors="coerce") if not is_cat else s
        miss = {g: int(s[sel[g]].isna().sum()) for g in groups}
        if not is_cat and set(np.unique(values.dropna())) <= {0, 1}:
            # 0/1 variable: one row "label, n (%)"
            row = {char_col: f"{label}, n (%)"}
            for g, col in zip(groups, gcols, strict=True):
                k = int(values[sel[g]].sum())
                tot = n[g] - miss[g]
                row[col] = disclosure.n_pct(k, tot, min_cell, decimals=decimals, decimal_sep=sep)
                n_masked += row[col] == mask_text
            row.update(_missing_cells(miss, groups, mcols, min_cell))
            row["SMD"] = fmt_smd((name, "")) if mask_text not in row.values() else ""
            rows.append(row)
            continue
        if not is_cat:
            row = {char_col: f"{label}, {'gns.' if da else 'mean'} (SD)"}
            for g, col in zip(groups, gcols, strict=True):
                x = values[sel[g]].dropna()
                if disclosure.is_small(len(x), min_cell):
                    row[col] = mask_text
                    n_masked += 1
                elif len(x) == 0:
                    row[col] = ""
                else:
                    sd = x.std(ddof=1) if len(x) > 1 else np.nan
                    row[col] = f"{fmt(x.mean())} ({fmt(sd) if np.isfinite(sd) else '-'})"
            row.update(_missing_cells(miss, groups, mcols, min_cell))
            row["SMD"] = fmt_smd((name, ""))
            rows.append(row)
            continue
        # categorical: header row + one row per level, with complementary suppression per group
        levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(
            s.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
        counts = pd.DataFrame({g: [int((s[sel[g]] == lv).sum()) for lv in levels] + [miss[g], n[g]]
                               for g in groups}, index=[*map(str, levels), "__missing__", "__total__"])
        masked, _ = disclosure.suppress(counts, min_cell, total_row="__total__")
        # a level whose complement (N - n) is small also reveals; mask it and re-run complements
        for g in groups:
            for idx in counts.index[:-1]:
                if disclosure.is_small(counts.at["__total__", g] - counts.at[idx, g], min_cell) and counts.at[idx, g] > 0:
                    masked.at[idx, g] = True
        masked = _complete_column_suppression(counts, masked, min_cell)
        rows.append({char_col: f"{label}, n (%)", **_missing_cells(miss, groups, mcols, min_cell, masked=masked)})
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
    shown = [int(m.group(1)) for col in [*gcols, *mcols] for v in table[col].astype(str)
             if (m := re.match(r"^(\d+)(?: \(\d+[.,]?\d*%\))?$", v))]
    counted = disclosure.check_counts(shown, min_cell, item=item)
    extremes = disclosure.check_no_extremes(table, item=item)
    if not counted.passed or not extremes.passed:
        detail = "; ".join(c.detail for c in (counted, extremes) if not c.passed)
        detail_da = "; ".join(c.detail_da or c.detail for c in (counted, extremes) if not c.passed)
        return table, disclosure.Check(item=item, status="FAIL", detail=detail, detail_da=detail_da, masked=n_masked)
    detail = f"{n_masked} cell(s) masked (counts below {min_cell})" if n_masked else f"all counts 0 or >= {min_cell}"
    detail_da = f"{n_masked} celle(r) skjult (antal under {min_cell})" if n_masked else f"alle antal 0 eller >= {min_cell}"
    return table, disclosure.Check(item=item, status="PASS", detail=detail, masked=n_masked, detail_da=detail_da)


def _missing_cells(miss: Mapping[str, int], groups, mcols, min_cell: int, *, masked: pd.DataFrame | None = None) -> dict:
    out = {}
    text = disclosure.MASK.format(min_cell=min_cell)
    for g, col in zip(groups, mcols, strict=True):
        hide = bool(masked.at["__missing__", g]) if masked is not None else bool(disclosure.is_small(miss[g], min_cell))
        out[col] = text if hide else str(miss[g])
    return out


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
