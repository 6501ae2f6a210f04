"""Disclosure control of stage 03: the outcome comparison and the questionnaire table.

Rules (see :mod:`helpers.disclosure`):

- A group's share n/N is masked when n or N - n is 1 .. ``min_cell`` - 1
  (:func:`helpers.disclosure.unsafe_proportion`); N is masked when it is itself small.
- Unless the study keeps them (``outcomes.estimates_with_masked_counts``), every estimate
  and p-value of a row with a masked share is masked too: with the other group's n/N, a
  risk difference would let a reader work out the masked count exactly.
- Questionnaire counts of 1 .. ``min_cell`` - 1 are masked, and so are the means, changes
  and differences computed from fewer than ``min_cell`` complete cases.

The functions take the unmasked frames of :func:`helpers.stats.outcome_comparison.outcome_table`
and :func:`helpers.stats.questionnaires.questionnaire_results` and return masked frames
(NaN where masked) and :class:`~helpers.disclosure.Check` objects; the wording of the
tables is in :mod:`helpers.report.outcomes` and :mod:`helpers.report.questionnaires`.

Examples
--------
>>> group_cell(3, 50, 5), group_cell(48, 50, 5), group_cell(2, 4, 5), group_cell(12, 50, 5)
('small_share', 'small_share', 'small_total', 'shown')
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from helpers.core.i18n import tr
from helpers.disclosure import MASK, Check, is_small, unsafe_proportion

#: Estimates and p-values of the outcome table that are masked with the row's counts. The odds
#: ratio and the weighted shares belong here too: with the other cells of the row they give the
#: masked count back (an odds ratio of 6.9 with 18/48 and N = 50 means 4 of 50).
ESTIMATE_COLUMNS = (
    "rd", "rd_lower", "rd_upper", "rr", "rr_lower", "rr_upper", "odds_ratio", "p_fisher", "paired_rd",
    "paired_lower", "paired_upper", "p_mcnemar", "w_share_int", "w_share_ctl", "w_rd", "w_lower", "w_upper",
    "p_weighted", "p_value", "p_adjusted", "headline_rd", "headline_lower", "headline_upper",
)
#: Counts of the matched analysis (complete pairs, clusters): masked when small.
DESIGN_COUNTS = ("n_pairs", "n_sets")
#: Count columns of the questionnaire results, per group (suffix ``_int`` / ``_ctl``).
QUESTIONNAIRE_COUNTS = ("n_cohort", "missing_baseline", "missing_followup", "n_complete")
#: Group columns computed from the complete cases (masked when there are fewer than min_cell).
QUESTIONNAIRE_GROUP_ESTIMATES = ("mean_baseline", "mean_followup", "mean_change", "sd_change", "change_lower",
                                 "change_upper", "p_change")
#: Between-group columns (masked when either group has fewer than min_cell complete cases).
QUESTIONNAIRE_ESTIMATES = ("diff_change", "ancova_diff", "ancova_lower", "ancova_upper", "ancova_p")

Cell = Literal["small_total", "small_share", "empty", "shown"]


def group_cell(n, total, min_cell: int) -> Cell:
    """How one group's ``n / N`` may be shown.

    Returns
    -------
    {"small_total", "small_share", "empty", "shown"}
        ``"small_total"``: N is 1 .. min_cell - 1 (n and N masked); ``"small_share"``: n or
        N - n is (n masked); ``"empty"``: N is 0; ``"shown"``: n / N can be shown.
    """
    if bool(is_small(total, min_cell)):
        return "small_total"
    if bool(unsafe_proportion(n, total, min_cell)):
        return "small_share"
    if total == 0:
        return "empty"
    return "shown"


def row_masked(row, min_cell: int) -> bool:
    """True when either group's share in an outcome-table row is masked."""
    return any(group_cell(row[f"n_{t}"], row[f"N_{t}"], min_cell) in ("small_total", "small_share")
               for t in ("int", "ctl"))


def masked_results(results: pd.DataFrame, min_cell: int, *, keep_estimates: bool = False) -> pd.DataFrame:
    """The numeric results with unsafe counts set to NaN (for ``outcome_results.parquet``).

    ``n``, ``pct`` (and ``N`` when small) of a group are blanked when n or N - n is
    1 .. ``min_cell`` - 1; ``masked_int`` / ``masked_ctl`` flag the rows. The persons left
    out (``excluded``) are blanked when small, and also when N is masked (the group size,
    published with the cohort, minus ``excluded`` is N). The pair and cluster counts
    (:data:`DESIGN_COUNTS`) are blanked when small. Unless ``keep_estimates``, the estimates,
    p-values and weighted shares of a masked row are blanked as well, as in
    :func:`helpers.report.outcomes.format_outcome_table` (so the forest plot and the
    summary never show them).
    """
    out = results.copy()
    for tag in ("int", "ctl"):
        unsafe = unsafe_proportion(out[f"n_{tag}"], out[f"N_{tag}"], min_cell)
        small_N = is_small(out[f"N_{tag}"], min_cell)
        out[f"masked_{tag}"] = unsafe | small_N
        out[f"n_{tag}"] = out[f"n_{tag}"].astype(float).where(~out[f"masked_{tag}"])
        out[f"pct_{tag}"] = out[f"pct_{tag}"].where(~out[f"masked_{tag}"])
        out[f"N_{tag}"] = out[f"N_{tag}"].astype(float).where(~small_N)
        out[f"excluded_{tag}"] = out[f"excluded_{tag}"].astype(float).where(
            ~is_small(out[f"excluded_{tag}"], min_cell) & ~small_N)
    for col in DESIGN_COUNTS:
        if col in out and is_small(out[col], min_cell).any():
            out[col] = out[col].astype(float).where(~is_small(out[col], min_cell))
    if not keep_estimates:
        hide = out["masked_int"] | out["masked_ctl"]
        for col in ESTIMATE_COLUMNS:
            if col in out:
                out[col] = out[col].astype(float).where(~hide)
    return out


def mask_label(min_cell: int) -> str:
    """What a masked count shows (``<5``)."""
    return MASK.format(min_cell=min_cell)


def safe_count(x, min_cell: int, label: str | None = None) -> str:
    """A count as shown: ``–`` when missing, the mask when 1 .. min_cell - 1, else the whole number."""
    if x is None or not np.isfinite(x):
        return "–"
    return (label or mask_label(min_cell)) if bool(is_small(x, min_cell)) else str(int(x))


def _check_texts(key: str, **fields) -> dict[str, str]:
    return {"detail": tr(key, "en", **fields), "detail_da": tr(key, "da", **fields)}


def outcome_table_check(results: pd.DataFrame, min_cell: int, *, keep_estimates: bool = False,
                        item: str = "outcome_table") -> Check:
    """Disclosure check of the outcome table built from ``results`` (unmasked).

    Counts masked cells (2 when N is small, 1 when only n is), the rows with a masked cell,
    and the smallest count shown (n and N of 0 or at least ``min_cell``).
    """
    n_masked = rows = 0
    for _, r in results.iterrows():
        cells = [group_cell(r[f"n_{t}"], r[f"N_{t}"], min_cell) for t in ("int", "ctl")]
        n_masked += sum({"small_total": 2, "small_share": 1}.get(c, 0) for c in cells)
        rows += int(any(c in ("small_total", "small_share") for c in cells))
    if n_masked:
        text = _check_texts("outcomes.check.masked", n=n_masked, min_cell=min_cell, rows=rows)
    else:
        text = _check_texts("outcomes.check.none_masked", min_cell=min_cell)
    if rows and keep_estimates:
        kept = _check_texts("outcomes.check.estimates_kept")
        text = {k: v + kept[k] for k, v in text.items()}
    shown = [r[f"{k}_{t}"] for _, r in results.iterrows() for t in ("int", "ctl") for k in ("n", "N")]
    shown = [x for x in shown if x > 0 and not is_small(x, min_cell)]
    return Check(item=item, status="PASS", masked=n_masked, min_shown=float(min(shown)) if shown else None, **text)


def differences_only_check(item: str = "outcome_forest") -> Check:
    """Disclosure check of a figure that shows only differences and their CIs (no counts)."""
    return Check(item=item, status="PASS", **_check_texts("outcomes.check.differences_only"))


# --------------------------------------------------------------------------- questionnaires


def masked_questionnaire(results: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Questionnaire results with small counts and the estimates computed from them set to NaN.

    Counts (:data:`QUESTIONNAIRE_COUNTS`) of 1 .. ``min_cell`` - 1 are blanked; a group's
    means and change when it has 1 .. ``min_cell`` - 1 complete cases; the between-group
    difference when the smaller group has; the number of matched sets when small.
    """
    out = results.copy()
    n_int, n_ctl = results["n_complete_int"], results["n_complete_ctl"]
    for tag, n in (("int", n_int), ("ctl", n_ctl)):
        for col in QUESTIONNAIRE_COUNTS:
            out[f"{col}_{tag}"] = out[f"{col}_{tag}"].astype(float).where(~is_small(out[f"{col}_{tag}"], min_cell))
        for col in QUESTIONNAIRE_GROUP_ESTIMATES:
            out[f"{col}_{tag}"] = out[f"{col}_{tag}"].astype(float).where(~is_small(n, min_cell))
    if "n_sets" in out:
        out["n_sets"] = out["n_sets"].astype(float).where(~is_small(out["n_sets"], min_cell))
    fewest = np.minimum(n_int.to_numpy(dtype=float), n_ctl.to_numpy(dtype=float))
    for col in QUESTIONNAIRE_ESTIMATES:
        out[col] = out[col].astype(float).where(~is_small(fewest, min_cell))
    return out


def questionnaire_check(results: pd.DataFrame, min_cell: int, *, item: str = "questionnaire_table") -> Check:
    """Disclosure check of the questionnaire table: how many counts of 1 .. min_cell - 1 are masked."""
    cols = [f"{c}_{t}" for t in ("int", "ctl") for c in QUESTIONNAIRE_COUNTS]
    masked = int(is_small(results[cols].to_numpy(), min_cell).sum()) if len(results) else 0
    key = "questionnaires.check.masked" if masked else "questionnaires.check.none_masked"
    return Check(item=item, status="PASS", masked=masked, **_check_texts(key, n=masked, min_cell=min_cell))
