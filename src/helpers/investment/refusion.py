"""The 2016 refusion schedule (refusionstrappe): the state's share of benefit spending.

From 4 January 2016 the state reimburses (refunderer) a municipality's spending on most
income-replacement benefits by the person's **cumulative** weeks on such benefits
(Lov om kommunernes finansiering af visse offentlige ydelser, § 5; LBK 221 of 12 Feb 2021):

=================  ===========  ==============================
cumulative week    state share  municipal share (1 - state)
=================  ===========  ==============================
1-4                80 %         20 %
5-26               40 %         60 %
27-52              30 %         70 %
53 and later       20 %         80 %
=================  ===========  ==============================

For a-dagpenge, paid by the state through the unemployment funds, the municipality
co-finances (medfinansiering) 20/60/70/80 % by the same steps, so the same state share
applies. The count restarts (§ 6) when the person "på ny har haft sammenlagt 52 hele
kalenderuger med selvforsørgelse inden for de seneste 3 år".

Sources: STAR, "Nøgletal for refusionsreformen – kommunaløkonomiske konsekvenser";
elov.dk, lov om kommunernes finansiering ... § 5 and § 6 (see docs/sources.md).

Approximations made here (documented in the report's assumption table):

- The count starts at 0 at the first week held (``refusion_history_weeks`` before the
  index week, 156 by default); weeks on benefit before that are unknown. A person with
  52 or more benefit weeks in that window reaches the 20 % step anyway.
- Weeks before 4 January 2016 are counted as if the 2016 rules applied (the reform's
  transition rules are not modelled).
- A week counts towards the total when its category is covered by refusion (the
  ``refusion`` column of the price table); a self-supported week (no transfer) counts
  towards the reset; other weeks (e.g. SU, state pension, weeks outside the extract)
  do neither.
- After a reset, only self-supported weeks after the reset count towards the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.core.codes import CATEGORIES, CATEGORY_INDEX, CodeBook
from helpers.core.store import NO_DATA, WeeklyStatus

#: (last cumulative week, state share) of the 2016 refusionstrappe.
STEPS_2016: tuple[tuple[float, float], ...] = ((4, 0.80), (26, 0.40), (52, 0.30), (np.inf, 0.20))
#: Self-supported weeks within the window that restart the count (§ 6).
RESET_WEEKS = 52
#: Window of the reset rule: the last 3 years.
RESET_WINDOW_WEEKS = 156


def share_for_count(count, steps: Sequence[tuple[float, float]] = STEPS_2016) -> np.ndarray:
    """State share for the ``count``-th cumulative week on benefit (count >= 1)."""
    bounds = np.array([s[0] for s in steps], dtype=float)
    shares = np.array([s[1] for s in steps], dtype=float)
    count = np.asarray(count)
    return shares[np.searchsorted(bounds, count, side="left")]


def state_share_by_week(
    covered: np.ndarray,
    self_supported: np.ndarray,
    *,
    steps: Sequence[tuple[float, float]] = STEPS_2016,
    reset_weeks: int = RESET_WEEKS,
    reset_window_weeks: int = RESET_WINDOW_WEEKS,
    initial_count: np.ndarray | None = None,
) -> np.ndarray:
    """State share of each week's benefit, following each person's cumulative count.

    Parameters
    ----------
    covered : bool array (n_persons, n_weeks)
        Week on a benefit covered by refusion.
    self_supported : bool array (n_persons, n_weeks)
        Week of self-support (counts towards the reset).
    steps : sequence of (last cumulative week, share)
        The schedule; default :data:`STEPS_2016`.
    reset_weeks, reset_window_weeks : int
        The count restarts after ``reset_weeks`` self-supported weeks within the last
        ``reset_window_weeks`` weeks (52 within 156 in § 6).
    initial_count : int array (n_persons,), optional
        Cumulative count before column 0 (default 0).

    Returns
    -------
    ndarray of float (n_persons, n_weeks)
        The state share in covered weeks, 0 elsewhere; the municipal share of a covered
        week is ``1 - share``.

    Examples
    --------
    >>> s = state_share_by_week(np.ones((1, 60), bool), np.zeros((1, 60), bool))
    >>> round(float(s.sum()), 10)  # 4*0.8 + 22*0.4 + 26*0.3 + 8*0.2
    21.4
    """
    covered = np.asarray(covered, dtype=bool)
    self_supported = np.asarray(self_supported, dtype=bool) & ~covered
    if covered.shape != self_supported.shape or covered.ndim != 2:
        raise ValueError("covered and self_supported must be 2-D arrays of the same shape")
    n, n_weeks = covered.shape
    count = np.zeros(n, dtype=np.int64) if initial_count is None else np.asarray(initial_count, np.int64).copy()
    last_reset = np.full(n, -1, dtype=np.int64)
    cs = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(self_supported, axis=1)], axis=1)
    idx = np.arange(n)
    share = np.zeros((n, n_weeks), dtype=float)
    for t in range(n_weeks):
        cov = covered[:, t]
        if cov.any():
            count = np.where(cov, count + 1, count)
            share[cov, t] = share_for_count(count[cov], steps)
        ss = self_supported[:, t]
        if ss.any():
            start = np.maximum(t - reset_window_weeks + 1, last_reset + 1)
            n_ss = cs[idx, t + 1] - cs[idx, start]
            hit = ss & (n_ss >= reset_weeks)
            count[hit] = 0
            last_reset[hit] = t
    return share


def refusion_weeks(
    weekly: WeeklyStatus,
    rows: np.ndarray,
    index_weeks: np.ndarray,
    years: int,
    codebook: CodeBook,
    covered_categories: Iterable[str],
    *,
    history_weeks: int = 156,
    steps: Sequence[tuple[float, float]] = STEPS_2016,
) -> pd.DataFrame:
    """Weeks and refusion-weighted weeks per person, year after index and category.

    Year ``k`` (1-based) holds weeks ``index_week + 52(k-1)`` .. ``index_week + 52k - 1``.
    The cumulative count starts ``history_weeks`` before the index week (see the module
    notes for the approximation).

    Returns
    -------
    DataFrame
        ``unit`` (position in ``rows``), ``person_id, year, category, weeks,
        state_weeks`` (``state_weeks`` = sum of the weekly state shares; 0 for
        categories not covered). Weeks outside the extract are left out.
    """
    covered_idx = [CATEGORY_INDEX[c] for c in covered_categories]
    codes = weekly.aligned(np.asarray(rows), np.asarray(index_weeks), -history_weeks, 52 * years)
    inside = codes != NO_DATA
    cats = codebook.categories(codes)
    covered = inside & np.isin(cats, covered_idx)
    selfsup = inside & (cats == CATEGORY_INDEX["self_support"])
    share = state_share_by_week(covered, selfsup, steps=steps)
    follow = slice(history_weeks, None)
    cats_f, inside_f, share_f = cats[:, follow], inside[:, follow], share[:, follow]
    n, n_f = cats_f.shape
    person = np.repeat(np.arange(n), n_f)
    year = np.tile(np.arange(n_f) // 52 + 1, n)
    keep = inside_f.ravel()
    frame = pd.DataFrame({
        "p": person[keep],
        "year": year[keep],
        "category": cats_f.ravel()[keep],
        "state_weeks": share_f.ravel()[keep],
    })
    out = frame.groupby(["p", "year", "category"], sort=True).agg(
        weeks=("state_weeks", "size"), state_weeks=("state_weeks", "sum")
    ).reset_index()
    out["person_id"] = weekly.person_id[np.asarray(rows)][out["p"].to_numpy()]
    out["category"] = np.asarray(CATEGORIES, dtype=object)[out["category"].to_numpy()]
    out["weeks"] = out["weeks"].astype(np.int64)
    out = out.rename(columns={"p": "unit"})
    return out[["unit", "person_id", "year", "category", "weeks", "state_weeks"]]
