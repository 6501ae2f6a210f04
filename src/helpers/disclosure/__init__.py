"""Statistical disclosure control (SDC) for every table and figure that leaves the pipeline.

Rules (docs/architecture.md, "Disclosure control"; sources: Statistics Denmark's rules on
transfer of analysis results, DST's microdata rules as summarised by CBS-SI, the SDU guideline
on DST's Datafortrolighedspolitik Bilag 2, and OpenSAFELY's Kaplan-Meier output rules):

- A count of persons is shown only if it is 0 or at least ``min_cell`` (default 5; DST's
  rule is 3). Smaller counts are masked (primary suppression).
- A proportion n/N is shown only if both n and N - n are 0 or at least ``min_cell``
  (otherwise the complement reveals a small group).
- Where a masked cell could be recovered from a row or column total, further cells are
  masked until every row and column with a total holds none or at least two masked
  entries (complementary suppression, :func:`suppress`).
- Percentages computed from masked counts are masked.
- No minimum or maximum of individual values is shown (:func:`check_no_extremes`).
- Kaplan-Meier / cumulative-incidence curves change only at steps that each reflect at
  least ``min_cell`` events (:func:`km_step_times`, :func:`check_steps`).
- No person identifier leaves: CPR-shaped strings and 16-hex pseudonyms are found by
  :func:`find_identifiers` / :func:`scan_file`.

Each check returns a :class:`Check` that the report collects into its disclosure checklist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from helpers.disclosure.identifiers import (  # noqa: F401 (re-exported: the package's one checkpoint)
    CPR_PATTERN,
    PSEUDONYM_PATTERN,
    Finding,
    find_identifiers,
    scan_file,
)

MASK = "<{min_cell}"
#: Mark of a cell hidden only to protect another one (secondary suppression: it may hold a large
#: number) or of a share, estimate or interval resting on a small count (never ``"<min_cell"``,
#: which says the cell itself is a count below ``min_cell``). One definition for every stage.
SECONDARY_MASK = "x"
#: Mark of a bound shown where the estimate itself is masked: the range over every count the
#: mask allows (:mod:`helpers.disclosure.outcomes`).
BOUND_MARK = "†"

#: Column names that mark a table as person-level.
ID_COLUMNS = {"person_id", "pnr", "cpr", "cprnr", "cpr_nr", "personnummer", "foed_dag", "birth_date"}
#: Column or row labels that announce an extreme of individual values.
EXTREME_PATTERN = re.compile(r"\b(min(imum)?|max(imum)?|maks(imum)?|range|spændvidde)\b\.?", re.IGNORECASE)
#: Column names that hold counts of persons (lower-cased, checked by :func:`count_columns`).
COUNT_PATTERN = re.compile(
    r"^(n|count|antal|events?|hændelser|at[ _]risk|i[ _]risiko|censored|censurerede?|persons|personer)\b"
    r"|^n[_ ]", re.IGNORECASE)


@dataclass
class Check:
    """Outcome of disclosure control for one table or figure.

    Attributes
    ----------
    item : str
        Key of the table or figure.
    status : {"PASS", "FAIL"}
        PASS when every shown count respects the threshold after masking.
    detail : str
        Why: what was masked, or what failed.
    masked : int
        Number of masked cells.
    notes : list of str
        Further remarks shown in the checklist.
    min_shown : float, optional
        Smallest positive count shown (None when no count is shown).
    detail_da : str
        ``detail`` in Danish (the checklist falls back to ``detail`` when empty).
    """

    item: str
    status: Literal["PASS", "FAIL"]
    detail: str
    masked: int = 0
    notes: list[str] = field(default_factory=list)
    min_shown: float | None = None
    detail_da: str = ""

    @property
    def passed(self) -> bool:
        """True when the check passed."""
        return self.status == "PASS"


def combine(item: str, *checks: Check) -> Check:
    """Merge several checks of one item: FAIL if any failed, details joined."""
    failed = [c for c in checks if not c.passed]
    shown = [c.min_shown for c in checks if c.min_shown is not None]
    chosen = failed or checks
    details = [c.detail for c in chosen if c.detail]
    details_da = [c.detail_da or c.detail for c in chosen if c.detail]
    return Check(
        item=item,
        status="FAIL" if failed else "PASS",
        detail="; ".join(dict.fromkeys(details)),
        detail_da="; ".join(dict.fromkeys(details_da)),
        masked=sum(c.masked for c in checks),
        notes=[n for c in checks for n in c.notes],
        min_shown=min(shown) if shown else None,
    )


def _numeric(values) -> np.ndarray:
    return np.asarray(pd.to_numeric(pd.Series(np.ravel(np.asarray(values, dtype=object))), errors="coerce"),
                      dtype=float).reshape(np.shape(values))


def is_small(counts, min_cell: int) -> np.ndarray:
    """Boolean array: counts that are positive but below ``min_cell``."""
    c = _numeric(counts)
    return (c > 0) & (c < min_cell)


def unsafe_proportion(events, totals, min_cell: int) -> np.ndarray:
    """Boolean array: n/N where n or N - n is positive and below ``min_cell``."""
    n = np.asarray(events, dtype=float)
    total = np.asarray(totals, dtype=float)
    return is_small(n, min_cell) | is_small(total - n, min_cell)


def _min_positive(values) -> float | None:
    v = _numeric(values)
    v = v[np.isfinite(v) & (v > 0)]
    return float(v.min()) if v.size else None


# --------------------------------------------------------------------------- suppression
def suppress(counts: pd.DataFrame, min_cell: int, *, row_total: str | None = None,
             total_row=None) -> tuple[pd.DataFrame, int]:
    """Primary and complementary suppression of a table of counts.

    Parameters
    ----------
    counts : DataFrame
        Numeric counts; non-numeric cells are treated as not shown counts.
    min_cell : int
        Smallest count that may be shown.
    row_total : str, optional
        Column that holds each row's total of the other columns.
    total_row : label, optional
        Index label of the row that holds each column's total of the other rows.

    Returns
    -------
    mask : DataFrame of bool
        True where a cell must be masked.
    complementary : int
        How many cells were masked only to protect another cell.

    Notes
    -----
    Primary suppression masks counts in 1..min_cell-1. Then, while some row (with a row
    total) or column (with a total row) holds exactly one masked entry, the smallest positive
    unmasked cell of that line is masked too; when the line has no such cell, its total is
    masked. A single masked cell in a line with a shown total can be recovered by
    subtraction; two cannot be separated (SDU guideline, "alle kombinationer af
    grupperinger").
    """
    values = counts.apply(pd.to_numeric, errors="coerce")
    mask = pd.DataFrame(is_small(values.to_numpy(), min_cell), index=values.index, columns=values.columns)
    primary = int(mask.to_numpy().sum())
    lines: list[tuple[list[tuple], tuple | None]] = []
    inner_rows = [r for r in values.index if total_row is None or r != total_row]
    inner_cols = [c for c in values.columns if row_total is None or c != row_total]
    if row_total is not None:
        for r in values.index:
            lines.append(([(r, c) for c in inner_cols], (r, row_total)))
    if total_row is not None:
        for c in values.columns:
            lines.append(([(r, c) for r in inner_rows], (total_row, c)))
    for _ in range(values.size + 1):
        changed = False
        for cells, total in lines:
            members = cells + [total]
            if sum(bool(mask.at[r, c]) for r, c in members) != 1:
                continue
            candidates = [(values.at[r, c], (r, c)) for r, c in cells
                          if not mask.at[r, c] and np.isfinite(values.at[r, c]) and values.at[r, c] > 0]
            if candidates:
                _, (r, c) = min(candidates, key=lambda x: x[0])
            elif not mask.at[total] and np.isfinite(values.at[total]) and values.at[total] > 0:
                r, c = total
            else:
                continue
            mask.at[r, c] = True
            changed = True
        if not changed:
            break
    return mask, int(mask.to_numpy().sum()) - primary


def mask_counts(
    frame: pd.DataFrame,
    count_cols: Sequence[str],
    min_cell: int,
    *,
    item: str,
    derived: dict[str, str] | None = None,
    row_total: str | None = None,
    total_row=None,
) -> tuple[pd.DataFrame, Check]:
    """Mask small counts in ``count_cols`` (and the columns derived from them).

    Parameters
    ----------
    frame : DataFrame
        Table with count columns.
    count_cols : sequence of str
        Columns holding counts of persons.
    min_cell : int
        Smallest count that may be shown (0 is always shown).
    item : str
        Key of the table, for the checklist.
    derived : dict, optional
        ``{column: count_column}``: columns (e.g. percentages) masked with their count.
    row_total : str, optional
        Column holding the row total of the other ``count_cols`` (it may or may not be listed
        in ``count_cols``); complementary cells are masked so no masked count can be
        recovered from it.
    total_row : label, optional
        Index label of a row holding the column totals; complementary suppression then also
        runs down the columns.

    Returns
    -------
    masked : DataFrame
        Copy with masked cells replaced by the string ``"<min_cell"``.
    check : Check

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame({"group": ["intervention", "control"], "employed": [12, 3]})
    >>> masked, check = mask_counts(counts, ["employed"], 5, item="example")
    >>> masked["employed"].tolist(), check.status
    ([12, '<5'], 'PASS')
    """
    out = frame.copy()
    derived = derived or {}
    cols = list(dict.fromkeys(list(count_cols) + ([row_total] if row_total is not None else [])))
    missing = [c for c in cols + list(derived) + list(derived.values()) if c not in frame.columns]
    if missing:
        raise KeyError(f"disclosure.mask_counts({item!r}): columns {missing} not in table; has {list(frame.columns)}")
    mask, complementary = suppress(out[cols], min_cell, row_total=row_total, total_row=total_row)
    n_masked = int(mask.to_numpy().sum())
    label = MASK.format(min_cell=min_cell)
    shown = out[cols].apply(pd.to_numeric, errors="coerce").where(~mask)
    for col in cols:
        out[col] = out[col].astype(object).where(~mask[col], label)
    for col, source in derived.items():
        out[col] = out[col].astype(object).where(~mask[source], label)
    if n_masked:
        detail = (f"{n_masked} count(s) masked (below {min_cell}"
                  + (f", {complementary} complementary" if complementary else "") + ")")
        detail_da = (f"{n_masked} antal skjult (under {min_cell}"
                     + (f", heraf {complementary} sekundært" if complementary else "") + ")")
    else:
        detail, detail_da = f"all counts 0 or >= {min_cell}", f"alle antal er 0 eller >= {min_cell}"
    return out, Check(item=item, status="PASS", detail=detail, masked=n_masked,
                      min_shown=_min_positive(shown.to_numpy()), detail_da=detail_da)


def check_counts(values: Iterable, min_cell: int, *, item: str, what: str = "counts",
                 what_da: str = "antal") -> Check:
    """PASS when every value is 0, masked (a string) or at least ``min_cell``.

    Examples
    --------
    >>> check_counts([0, 12, "<5"], 5, item="example").status
    'PASS'
    >>> check_counts([3, 12], 5, item="example").detail
    '1 counts below 5 shown'
    """
    numeric = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").dropna()
    bad = numeric[(numeric > 0) & (numeric < min_cell)]
    if len(bad):
        return Check(item=item, status="FAIL", detail=f"{len(bad)} {what} below {min_cell} shown",
                     detail_da=f"{len(bad)} {what_da} under {min_cell} vist")
    return Check(item=item, status="PASS", detail=f"all {what} 0 or >= {min_cell}",
                 min_shown=_min_positive(numeric.to_numpy()),
                 detail_da=f"alle {what_da} er 0 eller >= {min_cell}")


def check_settings_only(frame: pd.DataFrame, *, item: str, what: str = "settings",
                        what_da: str = "indstillinger") -> Check:
    """PASS when a table holds text only (settings, versions): no numeric cell that could be a count.

    The table is inspected, not trusted: any column of a numeric type turns the check into
    a FAIL (versions and settings are published as text).
    """
    numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if numeric:
        return Check(item=item, status="FAIL", detail=f"numeric column(s) {numeric} in a table of {what}",
                     detail_da=f"numerisk(e) kolonne(r) {numeric} i en tabel med {what_da}")
    return Check(item=item, status="PASS", detail=f"{what} only; no counts", detail_da=f"kun {what_da}; ingen antal")


def n_pct(n, total, min_cell: int, *, decimals: int = 1, decimal_sep: str = ".") -> str:
    """Format ``"n (p%)"`` or the mask when n or total - n is small.

    >>> n_pct(12, 50, 5), n_pct(3, 50, 5), n_pct(48, 50, 5)
    ('12 (24.0%)', '<5', '<5')
    """
    if pd.isna(n) or pd.isna(total):
        return ""
    if unsafe_proportion(n, total, min_cell) or is_small(total, min_cell):
        return MASK.format(min_cell=min_cell)
    pct = f"{100 * n / total:.{decimals}f}" if total else "-"
    return f"{int(round(n))} ({pct.replace('.', decimal_sep)}%)"


# ------------------------------------------------------------------- table-level checks
def count_columns(frame: pd.DataFrame) -> list[str]:
    """Columns whose name says they hold counts of persons (``n``, ``n_*``, ``antal``, ``events``...)."""
    return [c for c in frame.columns if isinstance(c, str) and COUNT_PATTERN.search(c.strip())]


def check_no_extremes(frame: pd.DataFrame, *, item: str) -> Check:
    """FAIL when a column, index or first-column label announces a minimum, maximum or range.

    DST: "Max, median and minimum cannot be identifiable"; the project shows none.
    """
    labels = [str(c) for c in frame.columns] + [str(i) for i in frame.index if not isinstance(i, (int, np.integer))]
    if len(frame.columns):
        first = frame.iloc[:, 0]
        if first.dtype == object:
            labels += [str(v) for v in first.dropna()]
    hits = sorted({lab for lab in labels if EXTREME_PATTERN.search(lab)})
    if hits:
        shown = ", ".join(hits[:5])
        return Check(item=item, status="FAIL", detail=f"minimum/maximum of individual values shown ({shown})",
                     detail_da=f"minimum/maksimum af enkeltværdier vist ({shown})")
    return Check(item=item, status="PASS", detail="no minimum/maximum shown", detail_da="intet minimum/maksimum vist")


def check_table(frame: pd.DataFrame, min_cell: int, *, item: str) -> Check:
    """Automatic checks on a table about to be published.

    FAIL when the table has a person-identifier column, a cell that looks like a CPR number
    or a pseudonymised ID, a minimum/maximum, or an unmasked count in 1..min_cell-1 in a
    column whose name marks it as a count (:func:`count_columns`).
    """
    problems: list[tuple[str, str]] = []
    ids = [str(c) for c in frame.columns if str(c).strip().lower() in ID_COLUMNS]
    if ids:
        problems.append((f"person-identifier column(s) {ids}", f"kolonne(r) med personnummer {ids}"))
    text = frame.astype(str).to_numpy().ravel().tolist() + [str(i) for i in frame.index]
    found = find_identifiers("\n".join(text))
    if found:
        problems.append((f"{len(found)} identifier-shaped value(s) ({found[0].kind})",
                         f"{len(found)} værdi(er) formet som person-id"))
    extremes = check_no_extremes(frame, item=item)
    if not extremes.passed:
        problems.append((extremes.detail, extremes.detail_da))
    counts = count_columns(frame)
    small = {c: int(is_small(frame[c].to_numpy(), min_cell).sum()) for c in counts}
    listing = ", ".join(f"{c} ({k})" for c, k in small.items() if k)
    if listing:
        problems.append((f"unmasked count(s) below {min_cell} in {listing}", f"antal under {min_cell} ikke skjult i {listing}"))
    if problems:
        return Check(item=item, status="FAIL", detail="; ".join(p[0] for p in problems),
                     detail_da="; ".join(p[1] for p in problems))
    shown = _min_positive(frame[counts].to_numpy()) if counts else None
    return Check(item=item, status="PASS", detail="no identifiers, extremes or small counts", min_shown=shown,
                 detail_da="ingen id'er, ekstremer eller små antal")


# ---------------------------------------------------------------------- curves
def km_step_times(times, events, min_cell: int) -> np.ndarray:
    """Times at which a disclosure-safe survival or cumulative-incidence curve may step.

    Consecutive event times are grouped until each group holds at least ``min_cell``
    events; the curve is drawn flat within a group and steps at the group's last time
    (OpenSAFELY's ``kaplan-meier-function`` idea: "no fewer than min_count events per step").
    A final group with fewer events is merged into the one before it.

    Parameters
    ----------
    times : array-like
        Distinct event times, increasing.
    events : array-like
        Number of events at each time (0 allowed).
    min_cell : int

    Returns
    -------
    ndarray
        The times at which the shown curve steps (possibly empty).

    Examples
    --------
    >>> km_step_times([1, 2, 3, 4, 5, 6], [2, 3, 1, 4, 1, 1], 5).tolist()
    [2, 6]
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(events, dtype=float)
    if t.shape != e.shape:
        raise ValueError("km_step_times: times and events must have the same length")
    if np.any(np.diff(t) <= 0):
        raise ValueError("km_step_times: times must be strictly increasing")
    steps: list[float] = []
    pending = 0.0
    for ti, ei in zip(t, e, strict=True):
        if ei <= 0:
            continue
        pending += ei
        if pending >= min_cell:
            steps.append(ti)
            pending = 0.0
    if pending > 0 and steps:
        steps[-1] = t[e > 0][-1]
    out = np.asarray(steps)
    return out.astype(np.asarray(times).dtype) if np.asarray(times).dtype.kind in "iu" else out


def step_curve(curve: pd.Series, step_times) -> pd.Series:
    """Hold ``curve`` (indexed by time) flat between ``step_times``; values at step times are exact.

    The result is indexed like ``curve``; at each time it equals the curve's value at the
    latest step time not after it (the first value before the first step).
    """
    curve = curve.sort_index()
    steps = np.sort(np.asarray(step_times, dtype=float))
    idx = np.asarray(curve.index, dtype=float)
    values = curve.to_numpy()
    # value of the curve at each step time: the last curve value at or before it
    at_step = values[np.clip(np.searchsorted(idx, steps, side="right") - 1, 0, None)] if steps.size else values[:0]
    pos = np.searchsorted(steps, idx, side="right") - 1
    shown = np.where(pos >= 0, at_step[np.clip(pos, 0, None)] if steps.size else values[0], values[0])
    return pd.Series(shown, index=curve.index, name=curve.name)


def check_steps(step_events: Iterable, min_cell: int, *, item: str) -> Check:
    """PASS when every step of a shown curve reflects 0 or at least ``min_cell`` events."""
    return check_counts(step_events, min_cell, item=item, what="events per curve step",
                        what_da="hændelser pr. trin i kurven")
